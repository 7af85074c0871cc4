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

/* Keys and contributions must round as the oracle's float64 operations do:
 * no fused multiply-adds. The build passes -ffp-contract=off; clang also
 * honours the standard pragma, so a build that forgets the flag (the fuzzer's
 * was one: clang fused the AVX-512 scan's products, and the parallel path
 * broke a tie of duplicate directions the serial path kept) still gets it. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
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
    double search2;   /* neighbour test: key < search2 (see pdsi_pair_key)      */
    double reach;     /* search radius in the coordinates (d_max, or the chord
                         of d_max on the sphere); the grid's cell side          */
    int images;       /* 2 for so3 (q and -q are searched), else 1              */
    double angle_factor; /* 0: euclidean key; 2 sphere, 4 so3: the distance is
                            angle_factor * asin(sqrt(key) / 2)                  */
    double scale_hi;  /* 2^(s-64): the high word of floor(c 2^s) is floor(c scale_hi) */
    double coarse_scale; /* 2^(64-e): the coarse term floor(c 2^(s-e)) < 2^31 of a
                            scaled contribution v is floor(v coarse_scale), e >= 0
                            (pds_pairs.c) */
    int wide;         /* nonzero: the CPU has AVX-512 and pds_scan.c may use it  */
} pdsi_space;

/* Nonzero when the CPU runs AVX-512 (F, VL, DQ) code (pds_scan.c). */
int pdsi_cpu_wide(void);
/* Slack the scan needs past the records it may keep: it stores whole
 * vectors of 8 (pdsi_scan_ranges). */
#define PDSI_SCAN_SLACK 8

/* Checks the points: finite coordinates, inside the bounds when periodic. */
pds_status pdsi_check_points(const double *x, int64_t m, int d, const pds_options *opt,
                             pds_error *err);

/* The least and largest coordinate k of the m points (row-major, m x d). */
void pdsi_axis_range(const double *x, int64_t m, int d, int k, double *lo, double *hi);

/* The dimension and volume r_max is derived from: the caller's, else the
 * bounds', else the bounding box's over the axes it actually spans (a flat
 * input of k spanned axes counts as k-dimensional; all-equal points give 0).
 * Also the volume's logarithm, finite where the volume itself overflows or
 * underflows (a box of many dimensions: 64 extents of 1e-6, 1000 of 6). */
pds_status pdsi_domain(const double *x, int64_t m, int d, const pds_options *opt, int *dim_out,
                       double *volume_out, double *log_volume_out, pds_error *err);

/* pds_max_radius from the volume's logarithm (for volumes outside the
 * doubles' range; elsewhere pds_max_radius, whose bits the oracle repeats). */
double pdsi_max_radius_log(int dim, double log_volume, int64_t n);

/* Metric preprocessing for so3 and sphere: writes the m rows of x scaled to
 * unit length to out; a zero-length row is an error naming it. */
pds_status pdsi_normalise_rows(const double *x, int64_t m, int d, pds_metric metric, double *out,
                               pds_error *err);

/* Euclidean, d > 3, not periodic: when the points' principal axes hide less
 * of their variance from a three-axis grid than the coordinate axes do (by
 * half), writes a malloc'ed copy rotated into those axes to *rotated (the
 * distances are kept up to rounding) and to *spread the largest distance of
 * a point from the centre of the rotation, which bounds that rounding
 * (pdsi_frame_limit); else sets *rotated to NULL (pds_pca.c). */
pds_status pdsi_principal_frame(const double *x, int64_t m, int d, const pds_options *opt,
                                double **rotated, double *spread, pds_error *err);
/* A key (squared distance) on rotated rows of d coordinates, all within
 * spread of the centre, at least this: the points' own distance is at
 * least sqrt(search2). Rounding moves each rotated coordinate by at most
 * (d + 1) eps |p - centre| (the frame's rows have unit length), the
 * difference of two rows by 2 sqrt(d) (d + 1) eps spread, the frame's
 * orthogonality and the key's sum by far less than the factors 1 + 1e-9. */
double pdsi_frame_limit(double search2, int d, double spread);

/* Sets the metric dependent fields (metric, images, angle_factor) of s. */
void pdsi_space_set_metric(pdsi_space *s, pds_metric metric);

/* x 2^k into out[0..count), exact (a value that becomes subnormal is what
 * x * 2^k holds); 0 when a value overflows. */
int pdsi_scale_values(const double *x, int64_t count, int k, double *out);

/* The power of two 2^k that brings the points' widest extent to [1, 2)
 * when it lies outside [1e-100, 1e100], where squared distances on the
 * points' own scale overflow or underflow (radius="auto" measures them);
 * else 0 (also for all-equal points). */
int pdsi_unit_exponent(const double *x, int64_t m, int d);

/* pds_estimate_radius on rows already normalised for the metric. */
pds_status pdsi_estimate_radius(const double *x, int64_t m, int d, int64_t n,
                                const pds_options *opt, double *radius, int *dim,
                                pds_error *err);

/* Fills the d_max dependent part of the space (search2, reach). */
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

/* |a - b|^2 in coordinate order, or once a partial sum over blocks of 8
 * coordinates reaches lim, that partial sum (the sums only grow) */
PDSI_INLINE double pdsi_dist2_until(const double *a, const double *b, int d, double lim) {
    double sum = 0.0;
    int k = 0;
    for (; k + 8 <= d; k += 8) {
        for (int i = k; i < k + 8; ++i) {
            double t = a[i] - b[i];
            sum += t * t;
        }
        if (sum >= lim) return sum;
    }
    for (; k < d; ++k) {
        double t = a[k] - b[k];
        sum += t * t;
    }
    return sum;
}

/* The key of a pair: a number monotone in the pair's distance, symmetric in
 * the two points (bit for bit), compared with s->search2 and turned into a
 * contribution by pdsi_contribution.
 *   euclidean: the squared (toroidal when periodic) distance, or for d > 8
 *              any value >= search2 once the pair is known to be too far;
 *   sphere:    the squared chord |a - b|^2 of unit vectors;
 *   so3:       image 0 (the query q): |q - p|^2 when q.p >= 0, else +inf;
 *              image 1 (the query -q): |q + p|^2 when q.p < 0, else +inf.
 *              Each pair is counted by exactly one image (the sign of one
 *              dot product decides), and the key is the chord to the nearer
 *              of p and -p: 2 sin(angle / 4) squared, angle = 2 acos(|q.p|). */
PDSI_INLINE double pdsi_pair_key(const pdsi_space *s, const double *a, const double *b, int d,
                                 const double *period, int image) {
    if (s->images == 1) {
        if (d <= 8 || period) return pdsi_dist2(a, b, d, period);
        /* many coordinates: stop once the partial sum reaches search2 (the
         * pair is no neighbour). Below it the sum and its order are those of
         * pdsi_dist2. (The scan reads the principal-axes copy first, where
         * the first blocks hold most of the distance: pds_scan.c.) */
        return pdsi_dist2_until(a, b, d, s->search2);
    }
    double dot = 0.0, k = 0.0;
    /* d_max < pi: search2 < 2 and |q - p|^2 + |q + p|^2 = 4, so at most one
     * image is below search2 and the sign test is not needed */
    if (!(s->search2 < 2.0)) {
        for (int i = 0; i < d; ++i) dot += a[i] * b[i];
        if ((dot >= 0.0) == (image != 0)) return INFINITY;
    }
    for (int i = 0; i < d; ++i) {
        double t = image ? a[i] + b[i] : a[i] - b[i];
        k += t * t;
    }
    return k;
}

/* The key of a pair already known to be neighbours, whichever image found
 * them: exactly the value that image's pdsi_pair_key computed (so a
 * subtraction cancels the addition bit for bit). */
PDSI_INLINE double pdsi_pair_key_any(const pdsi_space *s, const double *a, const double *b, int d,
                                     const double *period) {
    if (s->images == 1) return pdsi_pair_key(s, a, b, d, period, 0);
    if (s->search2 < 2.0) {
        /* at most one image is below search2 (see pdsi_pair_key) */
        double k0 = pdsi_pair_key(s, a, b, d, period, 0);
        return k0 < s->search2 ? k0 : pdsi_pair_key(s, a, b, d, period, 1);
    }
    double dot = 0.0; /* the sign test of pdsi_pair_key decides */
    for (int i = 0; i < d; ++i) dot += a[i] * b[i];
    return pdsi_pair_key(s, a, b, d, period, dot >= 0.0 ? 0 : 1);
}

/* How many images of the point xk to search: so3 rows are stored with
 * xk[0] >= 0 (pdsi_normalise_rows), and a p with p[0] >= 0 has
 * |xk + p| >= xk[0], so -xk has neighbours only when xk[0] < reach. */
PDSI_INLINE int pdsi_images_of(const pdsi_space *s, const double *xk) {
    return s->images == 2 && xk[0] < s->reach ? 2 : 1;
}

/* t^e for integer e in [1, 64] by squaring (c = 1; b = t; for each bit of e
 * from the lowest: if set c *= b; b *= b), else pow(t, alpha). */
PDSI_INLINE double pdsi_ipow(double t, int e, double alpha) {
    if (e == 8) { /* the default: the same three squarings, unrolled */
        double b = t * t;
        b *= b;
        return b * b;
    }
    if (e <= 0) return pow(t, alpha);
    double c = 1.0, b = t;
    for (;;) {
        if (e & 1) c *= b;
        e >>= 1;
        if (!e) return c;
        b *= b;
    }
}

/* asin(x) for 0 <= x <= 1 from +, -, *, / and sqrt alone: the rational
 * approximation of fdlibm's e_asin.c (error below 1 ulp), so that the
 * vector code (pds_scan.c) repeats it bit for bit. libm's asin is a call
 * per pair (8 ns: a fifth of an SO(3) call) and its last bit differs
 * between libms anyway. */
#define PDSI_ASIN_PS0 1.66666666666666657415e-01
#define PDSI_ASIN_PS1 -3.25565818622400915405e-01
#define PDSI_ASIN_PS2 2.01212532134862925881e-01
#define PDSI_ASIN_PS3 -4.00555345006794114027e-02
#define PDSI_ASIN_PS4 7.91534994289814532176e-04
#define PDSI_ASIN_PS5 3.47933107596021167570e-05
#define PDSI_ASIN_QS1 -2.40339491173441421878e+00
#define PDSI_ASIN_QS2 2.02094576023350569471e+00
#define PDSI_ASIN_QS3 -6.88283971605453293030e-01
#define PDSI_ASIN_QS4 7.70381505559019352791e-02
#define PDSI_PIO2_HI 1.57079632679489655800e+00
#define PDSI_PIO2_LO 6.12323399573676603587e-17
#define PDSI_PIO4_HI 7.85398163397448278999e-01
/* t P(t) and Q(t) of the approximation asin(x) = x + x t P(t) / Q(t), t = x^2 */
#define PDSI_ASIN_P(t)                                                                      \
    ((t) * (PDSI_ASIN_PS0 +                                                                 \
            (t) * (PDSI_ASIN_PS1 +                                                          \
                   (t) * (PDSI_ASIN_PS2 +                                                   \
                          (t) * (PDSI_ASIN_PS3 + (t) * (PDSI_ASIN_PS4 + (t) * PDSI_ASIN_PS5))))))
#define PDSI_ASIN_Q(t)                                                                      \
    (1.0 + (t) * (PDSI_ASIN_QS1 +                                                           \
                  (t) * (PDSI_ASIN_QS2 + (t) * (PDSI_ASIN_QS3 + (t) * PDSI_ASIN_QS4))))

PDSI_INLINE double pdsi_asin(double x) {
    if (x < 0.5) {
        double t = x * x;
        return x + x * (PDSI_ASIN_P(t) / PDSI_ASIN_Q(t));
    }
    /* asin(x) = pi/2 - 2 asin(sqrt((1 - x) / 2)) */
    double t = (1.0 - x) * 0.5;
    double r = PDSI_ASIN_P(t) / PDSI_ASIN_Q(t), s = sqrt(t);
    if (x >= 0.975) return PDSI_PIO2_HI - (2.0 * (s + s * r) - PDSI_PIO2_LO);
    /* s split as f + (s - f), f with a short mantissa, for the last bits */
    uint64_t bits;
    memcpy(&bits, &s, sizeof bits);
    bits &= 0xFFFFFFFF00000000ull;
    double f;
    memcpy(&f, &bits, sizeof f);
    double c = (t - f * f) / (s + f);
    double p = 2.0 * s * r - (PDSI_PIO2_LO - 2.0 * c);
    double q = PDSI_PIO4_HI - 2.0 * f;
    return PDSI_PIO4_HI - (p - q);
}

/* The distance of a pair from its key: euclidean sqrt(key); on the sphere
 * and in so3 the angle from the chord, asin-based (accurate near 0, clamped). */
PDSI_INLINE double pdsi_key_distance(const pdsi_space *s, double key) {
    double c = sqrt(key);
    if (s->angle_factor == 0.0) return c;
    c *= 0.5;
    return s->angle_factor * pdsi_asin(c < 1.0 ? c : 1.0);
}

/* A pair's contribution c (key below s->search2) times 2^(s-64), as a double:
 * the fixed-point weight is floor of it times 2^64 (pdsi_fixed). */
PDSI_INLINE double pdsi_scaled_contribution(const pdsi_space *s, double key) {
    double dist = pdsi_key_distance(s, key);
    if (dist < s->d_min) dist = s->d_min;
    double t = 1.0 - dist / s->d_max;
    if (t <= 0.0) return 0.0;
    /* integer alpha (the default 8): exponentiation by squaring, a fixed
     * sequence of IEEE multiplications that the oracle (tests/oracle.py)
     * repeats, so the bits agree on every CPU; pow is 20x slower and numpy's
     * own power differs from libm's in the last bit on some CPUs anyway */
    double c = pdsi_ipow(t, s->alpha_int, s->alpha);
    /* c 2^(s-64) < 2^62: a power-of-two scaling, exact */
    return c * s->scale_hi;
}

/* floor(v 2^64) as a 128-bit integer, for the v >= 0 of
 * pdsi_scaled_contribution (v < 2^62). */
PDSI_INLINE pdsi_weight pdsi_fixed(double v) {
    pdsi_weight w;
#if defined(__SIZEOF_INT128__)
    /* from v's bits: v 2^64 = mant 2^e, shifted into 128 bits (dropping the
     * fraction when e < 0): no conversions, no data-dependent branch */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int ex = (int)(bits >> 52); /* v >= 0: no sign bit */
    uint64_t mant = (bits & 0xFFFFFFFFFFFFFull) | ((uint64_t)(ex != 0) << 52);
    int e = (ex ? ex : 1) - 1075 + 64;
    unsigned __int128 f = e >= 0 ? (unsigned __int128)mant << e
                                 : (e > -64 ? (unsigned __int128)(mant >> -e) : 0);
    w.hi = (uint64_t)(f >> 64);
    w.lo = (uint64_t)f;
#else
    /* the same value by conversions: hi, then the low word 32 bits at a
     * time, are truncations of exact values (the differences are exact) */
    int64_t hi = (int64_t)v;
    double r = (v - (double)hi) * 4294967296.0;
    int64_t mid = (int64_t)r;
    int64_t low = (int64_t)((r - (double)mid) * 4294967296.0);
    w.hi = (uint64_t)hi;
    w.lo = ((uint64_t)mid << 32) | (uint64_t)low;
#endif
    return w;
}

/* Fixed-point contribution floor(c 2^s) of a pair key already known to be
 * below s->search2. Symmetric in the two points because the key is. */
PDSI_INLINE pdsi_weight pdsi_contribution(const pdsi_space *s, double key) {
    return pdsi_fixed(pdsi_scaled_contribution(s, key));
}

/* ---- neighbour search: a uniform grid with cells of side >= d_max / reach (pds_grid.c) ---- */
typedef struct pdsi_grid {
    int g;                            /* grid dimensions in use (0: one cell) */
    int axis[PDSI_GRID_MAX_DIMS];     /* which coordinate each grid dim uses  */
    int64_t cells[PDSI_GRID_MAX_DIMS];/* cells per grid dim                    */
    double origin[PDSI_GRID_MAX_DIMS];
    double inv_side[PDSI_GRID_MAX_DIMS];
    int periodic;
    int reach;                        /* cells of side >= s->reach / reach: the
                                         neighbours lie within reach cells    */
    int64_t ncell;                    /* product of cells (sparse: occupied)   */
    int32_t *start;                   /* ncell + 1 offsets into sorted order   */
    int32_t *cell_of;                 /* cell of each sorted point             */
    int64_t *keys;                    /* sparse grid: the full index of each
                                         occupied cell, ascending; else NULL   */
} pdsi_grid;

/* Most (begin, end) ranges pdsi_grid_ranges writes. */
#define PDSI_MAX_RANGES 64

/* Sorts the m points into cell order: writes order[k] = input index of the
 * k-th point in cell order (stable: ascending input index within a cell).
 * half: half-size cells on three grid axes (unless they would be too many
 * for a dense grid). */
pds_status pdsi_grid_build(pdsi_grid *grid, const double *x, int64_t m, int d,
                           const pdsi_space *s, const double *bounds, int half, int32_t *order,
                           pds_error *err);
/* Number of candidate pairs the grid implies (for the work budget), and the
 * most candidates any one point has. */
double pdsi_grid_pair_estimate(const pdsi_grid *grid, int64_t *max_candidates);
/* Writes the ranges of sorted indices of the cells around cell c; returns
 * how many ranges. Every neighbour within d_max is inside one of them. */
int pdsi_grid_ranges(const pdsi_grid *grid, int64_t c, int32_t *ranges);
/* How many sorted indices n ranges (as pdsi_grid_ranges writes them) hold. */
PDSI_INLINE int64_t pdsi_ranges_length(const int32_t *ranges, int n) {
    int64_t len = 0;
    for (int q = 0; q < n; ++q) len += ranges[2 * q + 1] - ranges[2 * q];
    return len;
}
/* The cell of the point sign * p (clamped into the grid): with sign -1, the
 * cell of -q, around which so3's second image is searched. */
int64_t pdsi_grid_cell(const pdsi_grid *grid, const double *p, double sign);
/* The ranges around the full cell index c (pdsi_grid_cell's; in a dense
 * grid the same as pdsi_grid_ranges). */
int pdsi_grid_ranges_full(const pdsi_grid *grid, int64_t c, int32_t *ranges);
/* The ranges searched for image `image` of sorted point k (coordinates xk):
 * around its own cell for image 0, around the cell of -xk for image 1 (so3;
 * that cell may hold no point: a full index, also in a sparse grid). */
PDSI_INLINE int pdsi_grid_image_ranges(const pdsi_grid *grid, const double *xk, int32_t k,
                                       int image, int32_t *ranges) {
    return image ? pdsi_grid_ranges_full(grid, pdsi_grid_cell(grid, xk, -1.0), ranges)
                 : pdsi_grid_ranges(grid, grid->cell_of[k], ranges);
}
void pdsi_grid_free(pdsi_grid *grid);

/* ---- the sequential run's maximum: a tournament tree (pds_tourney.c) ---- */
typedef struct pdsi_tourney {
    int64_t size;  /* leaves: the least power of two >= the points          */
    uint64_t *key; /* per leaf: pdsi_tourney_key of the rounded weight when
                      last set (>= the current one), 0 when removed/padding */
    int32_t *win;  /* win[v], 1 <= v < size: the leaf winning v's subtree
                      (larger key, then smaller leaf); win[size + i] = i    */
} pdsi_tourney;

/* The key of a rounded weight w >= 0: its bits (which order as the values
 * of doubles >= 0) plus one, above the 0 of removed leaves. */
PDSI_INLINE uint64_t pdsi_tourney_key(double w) {
    uint64_t b;
    memcpy(&b, &w, sizeof b);
    return b + 1;
}
/* Allocates a tree of at least n leaves, every key 0 (from ws when not
 * NULL); 0 when out of memory. */
int pdsi_tourney_init(pdsi_tourney *t, int64_t n, pds_workspace *ws);
/* Computes every winner after the keys were filled in. */
void pdsi_tourney_build(pdsi_tourney *t);
/* The winning leaf (the maximum). */
PDSI_INLINE int32_t pdsi_tourney_top(const pdsi_tourney *t) { return t->win[1]; }
/* Sets a leaf's key (lowered, or 0 to remove it) and redoes its path. */
void pdsi_tourney_set(pdsi_tourney *t, int32_t leaf, uint64_t key);
void pdsi_tourney_free(pdsi_tourney *t, pds_workspace *ws);

/* ---- the same maximum on small levels: a lazy bucket queue (pds_buckets.c) ---- */
typedef struct pdsi_buckets {
    int64_t nb;      /* buckets                                              */
    int32_t *head;   /* head[t]: first point in bucket t, -1 when empty      */
    int32_t *next;   /* next[k]: the next point in k's bucket, -1 at the end */
    int64_t top;     /* no bucket above it holds a point                      */
    int shift;       /* 52 - F: 2^F buckets an octave                         */
    int64_t base;    /* bucket of key: (key >> (52 - F)) - base, at least 0  */
    int64_t scanned; /* points looked at by the pops so far                  */
    int64_t budget;  /* give up past this many                               */
} pdsi_buckets;
#define PDSI_BUCKETS_EMPTY (-1)
#define PDSI_BUCKETS_GAVE_UP (-2)
#define PDSI_BUCKETS_CROWDED (-3) /* past the scan budget (the queue is intact) */
/* Allocates a queue for m points, about 2^spread a bucket at the top (from
 * ws when not NULL); 0 when out of memory. */
int pdsi_buckets_init(pdsi_buckets *b, int64_t m, int spread, pds_workspace *ws);
/* Crowded buckets (a pop gave up past its scan budget: many nearly equal
 * keys, as in a tight cluster): frees the queue and allocates it again,
 * empty, with 64 times as many buckets an octave, for pdsi_buckets_build.
 * 0 when that would pass max(2^20, 64 m) buckets (the queue left as it
 * was) or when out of memory (nothing held: b->head NULL). */
int pdsi_buckets_refine(pdsi_buckets *b, int64_t m, pds_workspace *ws);
/* Fills it: point k with key[k] (pdsi_tourney_key of its rounded weight; 0:
 * not in the queue). Pops give up once they have scanned `budget` points. */
void pdsi_buckets_build(pdsi_buckets *b, const uint64_t *key, int64_t m, int64_t budget);
/* Takes the point of largest current key (pdsi_tourney_key of
 * pdsi_w_round(w[k])), equal keys by the smaller tie[k], out of the queue;
 * its key in *key_out. PDSI_BUCKETS_EMPTY when no point is left,
 * PDSI_BUCKETS_CROWDED past the budget (the queue is then unchanged). */
int32_t pdsi_buckets_pop(pdsi_buckets *b, const pdsi_weight *w, const int32_t *tie,
                         uint64_t *key_out);
void pdsi_buckets_free(pdsi_buckets *b, pds_workspace *ws);
/* The coarse run's pop (pds_pairs.c). Point k's exact fixed-point weight E
 * lies in [A 2^e, (A + n) 2^e) where A is its coarse sum and n <= deg =
 * start[k + 1] - start[k] its live neighbours, so the rounded E lies
 * between the rounded A and the rounded bound up[k] = A + deg (times 2^e).
 * Points sit in the bucket of their bound (built with pdsi_tourney_key of
 * the rounded up[k]). The point of largest A is taken when its rounded A
 * is above every other point's rounded bound: its exact weight is then the
 * largest. Otherwise the points whose bounds reach it are compared by
 * exact(ctx, k) (the rounded exact weight; NAN: no more of those). Returns
 * the point, PDSI_BUCKETS_EMPTY, PDSI_BUCKETS_CROWDED (past the scan
 * budget; the queue holds every point still, in a bucket at or above its
 * bound's) or PDSI_BUCKETS_GAVE_UP (too many points in doubt, or exact
 * said NAN; the queue is then no longer usable). */
int32_t pdsi_buckets_pop_coarse(pdsi_buckets *b, const uint64_t *up, const int64_t *start,
                                const int32_t *tie, double (*exact)(void *, int32_t), void *ctx);
/* the double nearest a coarse sum (below 2^63) */
PDSI_INLINE double pdsi_coarse_round(uint64_t a) { return (double)(int64_t)a; }

/* ---- one elimination level and its neighbour scan ---- */
typedef struct pdsi_level {
    pdsi_space space; /* this level's copy (its d_max and scale)  */
    const pdsi_space *s; /* == &space                             */
    const pds_options *opt;
    pdsi_grid grid;
    int d;
    int64_t m;
    double *x;        /* m x d, cell order                        */
    double *xs;       /* NULL, or the same by columns (coordinate i of
                         point j at xs[i m + j]) for the vector scan  */
    double *gx;       /* NULL, or the same in the grid's principal-axes
                         frame (d > 8): the scan's early exit reads it
                         first, the distances are measured on x */
    double glim;      /* a key on gx at least this: surely no neighbour */
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
    /* The serial path's lists (pds_pairs.c), NULL elsewhere: point k's
     * neighbours are list_ids[t], t in [list_start[k], list_start[k + 1]),
     * their contributions list_c[t] (fixed point) or, on large levels,
     * list_v[t] (the double of pdsi_scaled_contribution, 8 bytes not 16;
     * pdsi_fixed of it is exactly the weight's term). One block
     * (lists_block), freed alone. */
    int64_t *list_start;
    int32_t *list_ids;
    pdsi_weight *list_c;
    double *list_v;
    void *lists_block;
    /* The serial path's coarse run (pds_pairs.c), NULL elsewhere: the
     * contributions' coarse terms list_a[t] and the weights' coarse sums wc[k]
     * (in place of list_c / list_v and w; the run adds each point's
     * neighbour count to its sum: the bound of pdsi_buckets_pop_coarse). */
    uint32_t *list_a;
    uint64_t *wc;
    uint16_t *list_ids16; /* the coarse run's ids on levels of at most 65536
                             points (list_ids NULL then) */
    int parallel;     /* nonzero: a parallel-for is in use, updates are atomic */
    int tree_only;    /* the sequential run on the tournament tree alone (tests) */
    int parts_always; /* the serial pair pass in parts whenever it can (tests) */
} pdsi_level;

/* The key of sorted points k (xk: its row of L->x) and j, as pdsi_pair_key
 * gives it on L->x (d == L->d, a constant where the caller has one). d > 8
 * in a principal-axes frame (pds_pca.c): the first
 * eight rotated coordinates, where most of a distance lies, rule out most
 * candidates first (a key of at least L->glim there: surely no neighbour,
 * whatever the rotation's rounding); the others are measured on L->x. */
PDSI_INLINE double pdsi_level_key(const pdsi_level *L, const double *xk, int32_t j, int d,
                                  int im) {
    if (L->gx) {
        const double *gk = L->gx + (xk - L->x), *gj = L->gx + (int64_t)j * d;
        double key = 0.0;
        for (int i = 0; i < 8; ++i) {
            double t = gk[i] - gj[i];
            key += t * t;
        }
        if (key >= L->glim) return key;
    }
    return pdsi_pair_key(L->s, xk, L->x + (int64_t)j * d, d, L->s->period, im);
}

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
        if ((L)->list_start) {                                                              \
            pdsi_pairs_subtract(L, k);                                                      \
        } else if ((L)->nbw && !(ATOMIC)) {                                                 \
            /* branch-free: about half the listed neighbours are removed, in no \
             * predictable pattern; theirs is a subtraction of 0 */             \
            const int32_t *p_ = (L)->nb[k];                                                 \
            const pdsi_weight *c_ = (L)->nbw[k];                                            \
            for (int32_t t_ = 0, n_ = (L)->nb_cnt[k]; t_ < n_; ++t_) {                      \
                uint64_t live_ = (uint64_t)(L)->removed[p_[t_]] - 1; /* all ones if live */ \
                pdsi_weight v_ = {c_[t_].hi & live_, c_[t_].lo & live_};                    \
                pdsi_w_sub(&(L)->w[p_[t_]], v_);                                            \
            }                                                                               \
        } else if ((L)->nbw) {                                                              \
            const int32_t *p_ = (L)->nb[k];                                                 \
            const pdsi_weight *c_ = (L)->nbw[k];                                            \
            for (int32_t t_ = 0, n_ = (L)->nb_cnt[k]; t_ < n_; ++t_)                        \
                if (!(L)->removed[p_[t_]]) pdsi_sub(&(L)->w[p_[t_]], c_[t_], ATOMIC);       \
        } else if ((L)->nb) {                                                               \
            const double *xs_ = (L)->x + (int64_t)(k) * (D);                                \
            const int32_t *p_ = (L)->nb[k], *pe_ = p_ + (L)->nb_cnt[k];                     \
            for (; p_ < pe_; ++p_) {                                                        \
                int32_t j = *p_;                                                            \
                if ((L)->removed[j]) continue;                                              \
                double key_ = pdsi_pair_key_any((L)->s, xs_, (L)->x + (int64_t)j * (D), (D),  \
                                                (L)->s->period);                            \
                pdsi_sub(&(L)->w[j], pdsi_contribution((L)->s, key_), ATOMIC);              \
            }                                                                               \
        } else {                                                                            \
            PDSI_FOR_NEIGHBOURS(L, k, D,                                                    \
                                pdsi_sub(&(L)->w[j], pdsi_contribution((L)->s, dist2), ATOMIC)); \
        }                                                                                   \
    } while (0)

/* pds_eliminate with the last `tail` removals of every level left to the
 * sequential run (pds_eliminate uses HEAP_TAIL = 0; INT64_MAX runs it alone)
 * and, without PDSI_SERIAL in `serial`, never the serial path for small
 * levels (each pair once, then the sequential run); with PDSI_TREE_ONLY the
 * sequential run never uses the bucket queue: the tests compare them all. */
#define PDSI_SERIAL 1
#define PDSI_TREE_ONLY 2
#define PDSI_NARROW 4 /* no AVX-512: the SSE2 / scalar scan and contributions */
#define PDSI_PARTS 8  /* the serial pair pass in parts on levels of any size */
#define PDSI_EXACT 16 /* serial levels without the coarse run (pds_pairs.c) */
#define PDSI_COARSE 32 /* the coarse run also on 1-D and lattice-like levels */
#define PDSI_RESCALED 64 /* the call on points scaled to bring d_max near 1 (no further rescale) */
#define PDSI_PRESCALED 128 /* the call on points scaled to unit size (by their extent) */
pds_status pdsi_eliminate_tail(const double *points, int64_t m, int d, int64_t n,
                               const pds_options *opt, int64_t tail, int serial, int64_t *out,
                               pds_error *err);

/* ---- the serial weight pass for small levels (pds_pairs.c) ---- */
/* Weights and neighbour lists with contributions, each pair computed once,
 * on the calling thread; returns 0 (storing nothing) when out of memory. */
int pdsi_weigh_pairs(pdsi_level *L, int coarse);
/* Subtracts point k's contributions from its neighbours not yet removed. */
void pdsi_pairs_subtract(pdsi_level *L, int32_t k);
/* The coarse run's: k's coarse terms from every neighbour's coarse sum
 * (removed ones too: theirs are never read again; unsigned, they wrap). */
void pdsi_pairs_subtract_coarse(pdsi_level *L, int32_t k);

/* ---- the candidate scan and the contributions, vectorized (pds_scan.c) ---- */
/* Tests the candidates j of the nr ranges r ([r[2u], r[2u + 1])) of image im
 * of the point xk, j >= from and j != skip: appends each within d_max to
 * ids[n], keys[n] (its pdsi_pair_key), and adds one to cnt[j] when cnt is
 * not NULL; returns the new n. Stores up to PDSI_SCAN_SLACK records past
 * the last. */
int64_t pdsi_scan_ranges(const pdsi_level *L, const double *xk, int im, const int32_t *r, int nr,
                         int32_t from, int32_t skip, int32_t *ids, double *keys, int64_t n,
                         int32_t *cnt);
/* Whether pdsi_scan_ranges runs vector code on this level (its counts then
 * cost one masked add per eight candidates; elsewhere a pass afterwards
 * over the pairs measured faster than counting in the scan). */
int pdsi_scan_is_wide(const pdsi_level *L);
/* radius="auto" (pds_metric.c): the k2 smallest keys of row i against the
 * other rows of x (m x d), ascending, in low[0..k2) (k2 <= m - 1), as
 * pdsi_pair_key computes them without a period, eight rows a vector. 0
 * when there is no vector version here (AVX-512, euclidean, d = 2, 3, 4):
 * the caller loops. Not for toroidal distances (the caller's period). */
int pdsi_smallest_keys(const pdsi_space *s, const double *x, int64_t m, int d, int64_t i,
                       int64_t k2, double *low);
/* Keeps v among the k2 smallest seen so far, low[0..*have) ascending. */
PDSI_INLINE void pdsi_keep_smallest(double *low, int64_t *have, int64_t k2, double v) {
    if (*have == k2 && !(v < low[k2 - 1])) return;
    int64_t at = *have < k2 ? (*have)++ : k2 - 1;
    for (; at > 0 && low[at - 1] > v; --at) low[at] = low[at - 1];
    low[at] = v;
}
/* Replaces each of the n keys by its pdsi_scaled_contribution. */
void pdsi_scale_contributions(const pdsi_space *s, double *keys, int64_t n);

/* ---- exact parallel elimination in rounds (pds_rounds.c) ---- */
/* Removes points from level L while more than `tail` removals of `*left`
 * remain, exactly as the sequential heap run would (same set, same removal
 * weights). Appends each removed point's sorted index to rm[*count] and its
 * rounded weight at removal to rm_w[*count] (when rm_w is not NULL). */
pds_status pdsi_rounds(pdsi_level *L, int64_t *left, int64_t tail, int32_t *rm, double *rm_w,
                       int64_t *count, pds_error *err);

/* Calls body(j, dist2) for every sorted point j != k within d_max of k that
 * has not been removed; dist2 is the pair key (pdsi_pair_key). For so3 the
 * cells around q and around -q are both searched (images), and each pair is
 * counted once. A macro, so the compiler sees a constant d. */
#define PDSI_FOR_NEIGHBOURS(L, k, D, BODY)                                                  \
    do {                                                                                    \
        int32_t r_[2 * PDSI_MAX_RANGES];                                                    \
        const double *xk_ = (L)->x + (int64_t)(k) * (D);                                    \
        const double *per_ = (L)->s->period;                                                \
        double lim_ = (L)->s->search2;                                                      \
        const int nim_ = pdsi_images_of((L)->s, xk_);                                        \
        for (int im_ = 0; im_ < nim_; ++im_) {                                               \
            int nr_ = pdsi_grid_image_ranges(&(L)->grid, xk_, (k), im_, r_);                 \
            for (int q_ = 0; q_ < nr_; ++q_) {                                              \
                for (int32_t j = r_[2 * q_]; j < r_[2 * q_ + 1]; ++j) {                     \
                    if (j == (k) || ((L)->removed && (L)->removed[j])) continue;            \
                    double dist2 =                                                          \
                        pdsi_pair_key((L)->s, xk_, (L)->x + (int64_t)j * (D), (D), per_, im_); \
                    if (dist2 < lim_) { BODY; }                                             \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    } while (0)


/* ---- parallel-for helper (pds_eliminate.c) ---- */
void pdsi_parallel(const pds_options *opt, int64_t n, int64_t grain, pds_range_fn fn, void *task);

#endif /* PDS_INTERNAL_H */
