/* pds_internal.h - private declarations shared by the core's files (prefix pdsi_). */
#ifndef PDS_INTERNAL_H
#define PDS_INTERNAL_H

#include "pds.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if !defined(__GNUC__)
#include <stdatomic.h>
#endif

#if defined(__GNUC__)
#define PDSI_INLINE static inline __attribute__((always_inline))
#else
#define PDSI_INLINE static inline
#endif

/* Weights are exact 128-bit fixed point: a contribution c is stored as
 * floor(c * 2^s), with s per level the largest that keeps every possible
 * weight (the most candidates any point has, times the largest contribution)
 * below 2^125. Integer sums are exact, so a weight does not depend on the
 * order in which contributions are added or subtracted (nor on threads).
 * Points are compared by the exact sum rounded to the nearest float64 (the
 * resolution of the fixed point, about 1e-37 of the largest weight, is far
 * finer), i.e. as a float64 computation of the exact sum would compare them;
 * equal rounded weights go by the tie rule. */
#define PDSI_WEIGHT_BITS 125

typedef struct pdsi_weight {
    uint64_t hi, lo;
} pdsi_weight;

PDSI_INLINE void pdsi_w_add(pdsi_weight *a, pdsi_weight b) {
    uint64_t lo = a->lo + b.lo;
    a->hi += b.hi + (lo < b.lo);
    a->lo = lo;
}

PDSI_INLINE void pdsi_w_sub(pdsi_weight *a, pdsi_weight b) {
    uint64_t borrow = a->lo < b.lo;
    a->lo -= b.lo;
    a->hi -= b.hi + borrow;
}

PDSI_INLINE int pdsi_w_eq(pdsi_weight a, pdsi_weight b) { return a.hi == b.hi && a.lo == b.lo; }

/* The weight rounded to the nearest double (ties to even), exactly as a
 * correctly rounded conversion of the 128-bit integer. */
PDSI_INLINE double pdsi_w_round(pdsi_weight a) {
    if (a.hi == 0) return (double)a.lo;
    int bits = 0; /* significant bits of hi */
#if defined(__GNUC__)
    bits = 64 - __builtin_clzll(a.hi); /* the loop below, in one instruction */
#else
    for (uint64_t h = a.hi; h; h >>= 1) bits++;
#endif
    /* the top 64 bits, with the bits shifted out folded into a sticky bit */
    uint64_t top = bits == 64 ? a.hi : (a.hi << (64 - bits)) | (a.lo >> bits);
    uint64_t rest = bits == 64 ? a.lo : a.lo << (64 - bits);
    top |= rest != 0;
    /* ldexp((double)top, bits) without the call: 2^bits (1 <= bits <= 64)
     * built from its bit pattern; scaling by a power of two is exact */
    uint64_t pattern = (uint64_t)(1023 + bits) << 52;
    double scale;
    memcpy(&scale, &pattern, sizeof scale);
    return (double)top * scale;
}

/* A hint to fetch memory that will soon be read (no effect elsewhere). */
#if defined(__GNUC__)
#define PDSI_PREFETCH(p) __builtin_prefetch(p)
#else
#define PDSI_PREFETCH(p) ((void)0)
#endif

/* Most grid dimensions used for neighbour search. */
#define PDSI_GRID_MAX_DIMS 3

/* ---- errors (pds_error.c) ---- */
pds_status pdsi_fail(pds_error *err, pds_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- the geometry of one elimination (pds_metric.c) ---- */
typedef struct pdsi_space {
    int d;            /* coordinates per point                                */
    pds_metric metric;
    int periodic;
    const double *period; /* d values (hi - lo) when periodic, else NULL        */
    double d_max;     /* reach of the weight function                          */
    double d_min;     /* weight limiting distance                              */
    double alpha;
    int alpha_int;    /* alpha when it is an integer in [1, 64], else 0        */
    double search2;   /* neighbour test: dist2 < search2                        */
    double scale_hi;  /* 2^(s-64): the high word of floor(c 2^s) is floor(c scale_hi) */
} pdsi_space;

/* Checks the points: finite coordinates, inside the bounds when periodic. */
pds_status pdsi_check_points(const double *x, int64_t m, int d, const pds_options *opt,
                             pds_error *err);

/* The dimension and volume r_max is derived from: the caller's, else the
 * bounds', else the bounding box's over the axes it actually spans (a flat
 * input of k spanned axes counts as k-dimensional; all-equal points give 0). */
pds_status pdsi_domain(const double *x, int64_t m, int d, const pds_options *opt, int *dim_out,
                       double *volume_out, pds_error *err);

/* Fills the d_max dependent part of the space. */
void pdsi_space_set_dmax(pdsi_space *s, double d_max);
/* The largest contribution one neighbour can make (at distance d_min). */
double pdsi_max_contribution(const pdsi_space *s);
/* Sets s->scale_hi for weights that sum at most max_terms contributions. */
void pdsi_space_set_scale(pdsi_space *s, int64_t max_terms);

/* Squared (euclidean, toroidal when periodic) distance. */
PDSI_INLINE double pdsi_dist2(const double *a, const double *b, int d, const double *period) {
    double s = 0.0;
    if (period) {
        for (int k = 0; k < d; ++k) {
            double t = fabs(a[k] - b[k]);
            double u = period[k] - t;
            t = t < u ? t : u;
            s += t * t;
        }
    } else {
        for (int k = 0; k < d; ++k) {
            double t = a[k] - b[k];
            s += t * t;
        }
    }
    return s;
}

/* Fixed-point contribution for a squared distance already known to be
 * below d_max^2. Symmetric in the two points because dist2 is. */
PDSI_INLINE pdsi_weight pdsi_contribution(const pdsi_space *s, double dist2) {
    pdsi_weight w = {0, 0};
    double dist = sqrt(dist2);
    if (dist < s->d_min) dist = s->d_min;
    double t = 1.0 - dist / s->d_max;
    if (t <= 0.0) return w;
    /* pow, not repeated squaring: the same bits as the reference C++ and a
     * numpy or Python oracle, which matters on lattice-like input where
     * many weights tie up to the last bit */
    double c = s->alpha_int == 1 ? t : pow(t, s->alpha);
    /* floor(c 2^s) exactly: both scalings are by powers of two */
    double v = c * s->scale_hi;
    w.hi = (uint64_t)v;
    w.lo = (uint64_t)((v - (double)w.hi) * 18446744073709551616.0);
    return w;
}

/* ---- neighbour search: a uniform grid with cells of side >= d_max / reach (pds_grid.c) ---- */
typedef struct pdsi_grid {
    int g;                            /* grid dimensions in use (0: one cell) */
    int axis[PDSI_GRID_MAX_DIMS];     /* which coordinate each grid dim uses  */
    int64_t cells[PDSI_GRID_MAX_DIMS];/* cells per grid dim                    */
    double origin[PDSI_GRID_MAX_DIMS];
    double inv_side[PDSI_GRID_MAX_DIMS];
    int periodic;
    int reach;                        /* cells of side >= d_max / reach: the
                                         neighbours lie within reach cells    */
    int64_t ncell;                    /* product of cells                      */
    int32_t *start;                   /* ncell + 1 offsets into sorted order   */
    int32_t *cell_of;                 /* cell of each sorted point             */
} pdsi_grid;

/* Most (begin, end) ranges pdsi_grid_ranges writes. */
#define PDSI_MAX_RANGES 64

/* Sorts the m points into cell order: writes order[k] = input index of the
 * k-th point in cell order (stable: ascending input index within a cell). */
pds_status pdsi_grid_build(pdsi_grid *grid, const double *x, int64_t m, int d,
                           const pdsi_space *s, const double *bounds, int32_t *order,
                           pds_error *err);
/* Number of candidate pairs the grid implies (for the work budget), and the
 * most candidates any one point has. */
double pdsi_grid_pair_estimate(const pdsi_grid *grid, int64_t *max_candidates);
/* Writes the ranges of sorted indices of the cells around cell c; returns
 * how many ranges. Every neighbour within d_max is inside one of them. */
int pdsi_grid_ranges(const pdsi_grid *grid, int64_t c, int32_t *ranges);
void pdsi_grid_free(pdsi_grid *grid);

/* ---- the max-heap of weights (pds_heap.c) ---- */
typedef struct pdsi_heap_entry {
    double key;   /* rounded weight when pushed or last re-sifted; >= the current one */
    int32_t id;   /* sorted index of the point                                   */
    int32_t tie;  /* input index: smaller wins among equal keys                  */
} pdsi_heap_entry;

typedef struct pdsi_heap {
    pdsi_heap_entry *e;
    int64_t size;
} pdsi_heap;

/* Orders the entries into a max-heap in O(size). */
void pdsi_heap_build(pdsi_heap *h);
/* Restores the heap after e[0].key was lowered. */
void pdsi_heap_sift_top(pdsi_heap *h);
/* Removes e[0]. */
void pdsi_heap_pop(pdsi_heap *h);

/* ---- one elimination level and its neighbour scan ---- */
typedef struct pdsi_level {
    pdsi_space space; /* this level's copy (its d_max and scale)  */
    const pdsi_space *s; /* == &space                             */
    const pds_options *opt;
    pdsi_grid grid;
    int d;
    int64_t m;
    double *x;        /* m x d, cell order                        */
    int32_t *order;   /* row of the level's input, per sorted point */
    pdsi_weight *w;   /* fixed-point weights                      */
    uint8_t *removed;
    int32_t *tie;     /* input index per sorted point (ties: smaller first) */
    /* Neighbour lists (pds_eliminate.c), NULL when not stored: nb[k] points
     * at nb_cnt[k] sorted indices, every j != k within d_max of k. */
    int32_t **nb;
    int32_t *nb_cnt;
    pdsi_weight **nbw;   /* NULL, or nbw[k][t] = the contribution of nb[k][t] */
    int32_t **nb_chunks; /* the blocks the lists live in (to free)  */
    pdsi_weight **nbw_chunks;
    int64_t nb_nchunks;
    int parallel;     /* nonzero: a parallel-for is in use, updates are atomic */
} pdsi_level;

/* Calls BODY with j for every neighbour j of k that has not been removed:
 * from the stored list, else from the grid (then dist2 is also known there,
 * but BODY must not rely on it). */
#define PDSI_FOR_LIVE(L, k, D, BODY)                                                        \
    do {                                                                                    \
        if ((L)->nb) {                                                                      \
            const int32_t *p_ = (L)->nb[k], *pe_ = p_ + (L)->nb_cnt[k];                     \
            for (; p_ < pe_; ++p_) {                                                        \
                int32_t j = *p_;                                                            \
                if ((L)->removed[j]) continue;                                              \
                BODY;                                                                       \
            }                                                                               \
        } else {                                                                            \
            PDSI_FOR_NEIGHBOURS(L, k, D, BODY);                                             \
        }                                                                                   \
    } while (0)

/* Subtracts v from *p: atomically when threads may touch p at once. The
 * low words are subtracted atomically, and each subtraction that wraps its
 * low word borrows one from the high word: the exact 128-bit difference
 * whatever the order (integer updates commute), though a reader could see a
 * half-done value until the parallel call returns (nobody reads then). */
PDSI_INLINE void pdsi_sub(pdsi_weight *p, pdsi_weight v, int atomic) {
    if (atomic) {
#if defined(__GNUC__)
        uint64_t old = __atomic_fetch_sub(&p->lo, v.lo, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&p->hi, v.hi + (old < v.lo), __ATOMIC_RELAXED);
#else
        uint64_t old = atomic_fetch_sub_explicit((_Atomic uint64_t *)&p->lo, v.lo, memory_order_relaxed);
        atomic_fetch_sub_explicit((_Atomic uint64_t *)&p->hi, v.hi + (old < v.lo), memory_order_relaxed);
#endif
    } else {
        pdsi_w_sub(p, v);
    }
}

/* Subtracts k's contribution from each live neighbour (k itself is already
 * marked removed or is about to be; its list does not contain it). */
#define PDSI_SUBTRACT_NEIGHBOURS(L, k, D, ATOMIC)                                           \
    do {                                                                                    \
        if ((L)->nbw) {                                                                     \
            const int32_t *p_ = (L)->nb[k];                                                 \
            const pdsi_weight *c_ = (L)->nbw[k];                                            \
            for (int32_t t_ = 0, n_ = (L)->nb_cnt[k]; t_ < n_; ++t_)                        \
                if (!(L)->removed[p_[t_]]) pdsi_sub(&(L)->w[p_[t_]], c_[t_], ATOMIC);       \
        } else {                                                                            \
            const double *xs_ = (L)->x + (int64_t)(k) * (D);                                \
            PDSI_FOR_LIVE(L, k, D,                                                          \
                          pdsi_sub(&(L)->w[j],                                              \
                                   pdsi_contribution((L)->s,                                \
                                                     pdsi_dist2(xs_, (L)->x + (int64_t)j * (D), \
                                                                (D), (L)->s->period)),      \
                                   ATOMIC));                                                \
        }                                                                                   \
    } while (0)

/* pds_eliminate with the last `tail` removals of every level left to the
 * sequential heap (pds_eliminate uses HEAP_TAIL = 0; INT64_MAX runs the
 * heap alone: the tests compare the two). */
pds_status pdsi_eliminate_tail(const double *points, int64_t m, int d, int64_t n,
                               const pds_options *opt, int64_t tail, int64_t *out,
                               pds_error *err);

/* ---- exact parallel elimination in rounds (pds_rounds.c) ---- */
/* Removes points from level L while more than `tail` removals of `*left`
 * remain, exactly as the sequential heap run would (same set, same removal
 * weights). Appends each removed point's sorted index to rm[*count] and its
 * rounded weight at removal to rm_w[*count] (when rm_w is not NULL). */
pds_status pdsi_rounds(pdsi_level *L, int64_t *left, int64_t tail, int32_t *rm, double *rm_w,
                       int64_t *count, pds_error *err);

/* Calls body(j, dist2) for every sorted point j != k within d_max of k that
 * has not been removed. A macro, so the compiler sees a constant d. */
#define PDSI_FOR_NEIGHBOURS(L, k, D, BODY)                                                  \
    do {                                                                                    \
        int32_t r_[2 * PDSI_MAX_RANGES];                                                    \
        int nr_ = pdsi_grid_ranges(&(L)->grid, (L)->grid.cell_of[k], r_);                  \
        const double *xk_ = (L)->x + (int64_t)(k) * (D);                                    \
        const double *per_ = (L)->s->period;                                                \
        double lim_ = (L)->s->search2;                                                      \
        for (int q_ = 0; q_ < nr_; ++q_) {                                                  \
            for (int32_t j = r_[2 * q_]; j < r_[2 * q_ + 1]; ++j) {                         \
                if (j == (k) || ((L)->removed && (L)->removed[j])) continue;                \
                double dist2 = pdsi_dist2(xk_, (L)->x + (int64_t)j * (D), (D), per_);       \
                if (dist2 < lim_) { BODY; }                                                 \
            }                                                                               \
        }                                                                                   \
    } while (0)


/* ---- parallel-for helper (pds_eliminate.c) ---- */
void pdsi_parallel(const pds_options *opt, int64_t n, int64_t grain, pds_range_fn fn, void *task);

#endif /* PDS_INTERNAL_H */
