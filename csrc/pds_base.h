/* pds_base.h - what every file of the core uses (private, prefix pdsi_):
 * inlining and prefetch hints, errors, the workspace's slots, and the
 * options' helpers (parallel-for, cancel, the CPU path). */
#ifndef PDS_BASE_H
#define PDS_BASE_H

#include "pds.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* Keys and contributions must round as the oracle's float64 operations do:
 * no fused multiply-adds. The build passes -ffp-contract=off; clang also
 * honours the standard pragma, so a build that forgets the flag (clang
 * would fuse the vector scan's products, and the paths could break exact
 * ties differently) still gets it. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__GNUC__)
#define PDSI_INLINE static inline __attribute__((always_inline))
#else
#define PDSI_INLINE static inline
#endif

/* Whether this build has the AVX-512 kernels (x86-64 with GCC or clang);
 * they run only where the CPU has AVX-512 (pdsi_wide). */
#if defined(__GNUC__) && defined(__x86_64__)
#define PDSI_WIDE_BUILD 1
#else
#define PDSI_WIDE_BUILD 0
#endif

/* A hint to fetch memory that will soon be read (no effect elsewhere). */
#if defined(__GNUC__)
#define PDSI_PREFETCH(p) __builtin_prefetch(p)
#else
#define PDSI_PREFETCH(p) ((void)0)
#endif

/* ---- memory kept between calls (pds_workspace.c) ---- */
enum {
    PDSI_WS_PAIRS,  /* the serial pair scan: other ends (pds_pairs.c) */
    PDSI_WS_PAIR_KEYS, /* and keys                                */
    PDSI_WS_FIRST,  /* its per-point offsets                    */
    PDSI_WS_LISTS,  /* the serial path's neighbour lists        */
    PDSI_WS_KEYS,   /* the tournament tree's keys (pds_tourney.c)  */
    PDSI_WS_WINS,   /* its winners                              */
    PDSI_WS_POINTS, /* the tree's leaf -> point map             */
    PDSI_WS_BUCKETS, /* the bucket queue (pds_buckets.c)        */
    PDSI_WS_PAIRS_1, /* the second part's pairs (pds_pairs.c)   */
    PDSI_WS_PAIR_KEYS_1, /* and keys                             */
    PDSI_WS_CROSS,  /* the pair pass's crossing counts and sums  */
    PDSI_WS_POS,    /* its counts and fill positions            */
    PDSI_WS_COLUMNS, /* its coordinates by columns               */
    PDSI_WS_SLOTS
};
/* A buffer of at least `bytes` from the slot (contents undefined), or from
 * malloc when ws is NULL; NULL when out of memory. */
void *pdsi_ws_take(pds_workspace *ws, int slot, size_t bytes);
/* realloc for a buffer taken from the slot (contents kept). */
void *pdsi_ws_grow(pds_workspace *ws, int slot, void *p, size_t bytes);
/* Gives a taken buffer back: free() without a workspace, else nothing. */
void pdsi_ws_give(pds_workspace *ws, void *p);

/* ---- errors (pds_error.c) ---- */
pds_status pdsi_fail(pds_error *err, pds_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- options (pds_options.c) ---- */
/* fn over [0, n) with opt's parallel-for (serial without one, or when n <= grain). */
void pdsi_parallel(const pds_options *opt, int64_t n, int64_t grain, pds_range_fn fn, void *task);
/* Nonzero once the caller raised opt->cancel. */
static inline int pdsi_cancelled(const pds_options *opt) { return opt->cancel && *opt->cancel; }
/* Nonzero when a call with these options runs the AVX-512 kernels (see pds_cpu_path). */
int pdsi_wide(const pds_options *opt);

#endif /* PDS_BASE_H */
