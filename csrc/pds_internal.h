/* pds_internal.h - private declarations shared by the core's files (prefix pdsi_). */
#ifndef PDS_INTERNAL_H
#define PDS_INTERNAL_H

#include "pds.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#if !defined(__GNUC__)
#include <stdatomic.h>
#endif

#if defined(__GNUC__)
#define PDSI_INLINE static inline __attribute__((always_inline))
#else
#define PDSI_INLINE static inline
#endif

/* Weights are fixed point: a contribution c is stored as floor(c * 2^s),
 * with s per level the largest that keeps every possible weight (the most
 * candidates any point has, times the largest contribution) below 2^62.
 * Integer sums are exact, so weights do not depend on the order in which
 * contributions are added or subtracted, and the resolution is far finer than
 * float64 rounding of the same sums. */
#define PDSI_WEIGHT_LIMIT 62

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
    double scale;     /* fixed-point scale 2^s of this level's weights           */
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
/* Sets s->scale for weights that sum at most max_terms contributions. */
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
PDSI_INLINE int64_t pdsi_contribution(const pdsi_space *s, double dist2) {
    double dist = sqrt(dist2);
    if (dist < s->d_min) dist = s->d_min;
    double t = 1.0 - dist / s->d_max;
    if (t <= 0.0) return 0;
    double c;
    if (s->alpha_int == 8) {
        double t2 = t * t, t4 = t2 * t2;
        c = t4 * t4;
    } else if (s->alpha_int > 0) {
        c = 1.0;
        double b = t;
        for (int e = s->alpha_int; e; e >>= 1) {
            if (e & 1) c *= b;
            b *= b;
        }
    } else {
        c = pow(t, s->alpha);
    }
    return (int64_t)(c * s->scale);
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
    int64_t key;  /* weight when pushed or last re-sifted; >= the current weight */
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
    int64_t *w;       /* fixed-point weights                      */
    uint8_t *removed; /* and w = PDSI_GONE once removed in the rounds */
    int32_t *tie;     /* input index per sorted point (ties: smaller first) */
    /* Neighbour lists (pds_eliminate.c), NULL when not stored: nb[k] points
     * at nb_cnt[k] sorted indices, every j != k within d_max of k. */
    int32_t **nb;
    int32_t *nb_cnt;
    int64_t **nbw;       /* NULL, or nbw[k][t] = the contribution of nb[k][t] */
    int32_t **nb_chunks; /* the blocks the lists live in (to free)  */
    int64_t **nbw_chunks;
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

/* The weight of a point the rounds have removed: below every live weight
 * (live weights are exact sums of contributions >= 0). */
#define PDSI_GONE INT64_MIN

/* a ranks above b in removal order: larger weight, or equal weight and
 * smaller input index */
PDSI_INLINE int pdsi_above(const pdsi_level *L, int32_t a, int32_t b) {
    int64_t wa = L->w[a], wb = L->w[b];
    return wa > wb || (wa == wb && L->tie[a] < L->tie[b]);
}

/* Subtracts v from *p: atomically when threads may touch p at once. Integer
 * updates commute, so the result never depends on their order. */
PDSI_INLINE void pdsi_sub(int64_t *p, int64_t v, int atomic) {
    if (atomic) {
#if defined(__GNUC__)
        __atomic_fetch_sub(p, v, __ATOMIC_RELAXED);
#else
        atomic_fetch_sub_explicit((_Atomic int64_t *)p, v, memory_order_relaxed);
#endif
    } else {
        *p -= v;
    }
}

/* Subtracts k's contribution from each live neighbour (k itself is already
 * marked removed or is about to be; its list does not contain it). */
#define PDSI_SUBTRACT_NEIGHBOURS(L, k, D, ATOMIC)                                           \
    do {                                                                                    \
        if ((L)->nbw) {                                                                     \
            const int32_t *p_ = (L)->nb[k];                                                 \
            const int64_t *c_ = (L)->nbw[k];                                                \
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
 * sequential heap (pds_eliminate uses a small fixed tail; INT64_MAX runs the
 * heap alone: the tests compare the two). */
pds_status pdsi_eliminate_tail(const double *points, int64_t m, int d, int64_t n,
                               const pds_options *opt, int64_t tail, int64_t *out,
                               pds_error *err);

/* ---- exact parallel elimination in rounds (pds_rounds.c) ---- */
/* Removes points from level L while more than `tail` removals of `*left`
 * remain, exactly as the sequential heap run would (same set, same removal
 * weights). Appends each removed point's sorted index to rm[*count] and its
 * weight at removal to rm_w[*count] (when rm_w is not NULL). */
pds_status pdsi_rounds(pdsi_level *L, int64_t *left, int64_t tail, int32_t *rm, int64_t *rm_w,
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
