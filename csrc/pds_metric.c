/* pds_metric.c - points, distances and domains: input checks, metric
 * preprocessing (unit rows for so3 and sphere), the domain's dimension and
 * volume, r_max (given, derived, or estimated from the points), and the
 * weight function's parameters.
 *
 * so3 and sphere search the embedded unit vectors with the chord, which is
 * monotone in the angle: a great-circle angle t has chord 2 sin(t/2); two
 * rotations q, p at angle t = 2 acos(|q.p|) have chord min(|q-p|, |q+p|) =
 * 2 sin(t/4). Angles are recovered from chords with asin (accurate near 0,
 * unlike acos of a dot product). */
#include "pds_internal.h"

#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

pds_status pdsi_check_points(const double *x, int64_t m, int d, const pds_options *opt,
                             pds_error *err) {
    if (!(opt->periodic && opt->bounds)) {
        /* first without branches (an exponent of all ones: inf or NaN),
         * which vectorizes; the loop below finds and names the value */
        uint64_t bad = 0;
        for (int64_t t = 0, size = m * (int64_t)d; t < size; ++t) {
            uint64_t bits;
            memcpy(&bits, &x[t], sizeof bits);
            bad |= (~bits & 0x7FF0000000000000ull) == 0;
        }
        if (!bad) return PDS_OK;
    }
    for (int64_t i = 0; i < m; ++i) {
        const double *p = x + i * (int64_t)d;
        for (int k = 0; k < d; ++k) {
            if (!isfinite(p[k]))
                return pdsi_fail(err, PDS_ERR_NONFINITE,
                                 "points must be finite: points[%lld, %d] is %g",
                                 (long long)i, k, p[k]);
            if (opt->periodic && opt->bounds) {
                double lo = opt->bounds[k], hi = opt->bounds[d + k];
                if (p[k] < lo || p[k] > hi)
                    return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                                     "with periodic=True every point must lie inside bounds: "
                                     "points[%lld, %d] = %.17g is outside [%.17g, %.17g]",
                                     (long long)i, k, p[k], lo, hi);
            }
        }
    }
    return PDS_OK;
}

/* Volume of the unit ball in R^dim, pi^(d/2) / Gamma(d/2 + 1): written as
 * that formula (not via logarithms) so it has the same bits as the obvious
 * Python or numpy expression; lgamma only where tgamma would overflow. */
static double unit_ball_volume(int dim) {
    if (dim <= 300) return pow(M_PI, 0.5 * dim) / tgamma(0.5 * dim + 1.0);
    return exp(0.5 * dim * log(M_PI) - lgamma(0.5 * dim + 1.0));
}

double pds_max_radius(int dim, double volume, int64_t n) {
    if (dim < 1 || !(volume > 0.0) || !isfinite(volume) || n < 1) return 0.0;
    double per_point = volume / (double)n;
    if (dim == 2) return sqrt(per_point / (2.0 * sqrt(3.0)));
    if (dim == 3) return cbrt(per_point / (4.0 * sqrt(2.0)));
    return pow(per_point / unit_ball_volume(dim), 1.0 / dim);
}

double pdsi_max_radius_log(int dim, double log_volume, int64_t n) {
    if (dim < 1 || !isfinite(log_volume) || n < 1) return 0.0;
    double c = dim == 2   ? log(2.0 * sqrt(3.0))
               : dim == 3 ? log(4.0 * sqrt(2.0))
                          : 0.5 * dim * log(M_PI) - lgamma(0.5 * dim + 1.0);
    return exp((log_volume - log((double)n) - c) / dim);
}

void pdsi_axis_range(const double *x, int64_t m, int d, int k, double *lo, double *hi) {
    /* four minima and maxima at once: one chain of dependent comparisons
     * took 3 cycles a point (the values are finite: the order is free) */
    double a[4], b[4];
    for (int u = 0; u < 4; ++u) a[u] = b[u] = x[k];
    int64_t i = 1;
    for (; i + 4 <= m; i += 4)
        for (int u = 0; u < 4; ++u) {
            double v = x[(i + u) * (int64_t)d + k];
            a[u] = v < a[u] ? v : a[u];
            b[u] = v > b[u] ? v : b[u];
        }
    for (; i < m; ++i) {
        double v = x[i * (int64_t)d + k];
        a[0] = v < a[0] ? v : a[0];
        b[0] = v > b[0] ? v : b[0];
    }
    for (int u = 1; u < 4; ++u) {
        a[0] = a[u] < a[0] ? a[u] : a[0];
        b[0] = b[u] > b[0] ? b[u] : b[0];
    }
    *lo = a[0];
    *hi = b[0];
}

pds_status pdsi_domain(const double *x, int64_t m, int d, const pds_options *opt, int *dim_out,
                       double *volume_out, double *log_volume_out, pds_error *err) {
    int dim = 0;
    double volume = 1.0, log_volume = 0.0;
    if (opt->metric == PDS_METRIC_SO3) {
        dim = 3;
        volume = 8.0 * M_PI * M_PI;
        log_volume = log(volume);
    } else if (opt->metric == PDS_METRIC_SPHERE) {
        dim = d - 1; /* area of the unit sphere S^(d-1) in R^d */
        log_volume = log(2.0) + 0.5 * d * log(M_PI) - lgamma(0.5 * d);
        volume = 2.0 * exp(0.5 * d * log(M_PI) - lgamma(0.5 * d));
    } else if (opt->bounds) {
        dim = d;
        for (int k = 0; k < d; ++k) {
            volume *= opt->bounds[d + k] - opt->bounds[k];
            log_volume += log(opt->bounds[d + k] - opt->bounds[k]);
        }
    } else {
        /* bounding box, over the axes the points actually span */
        for (int k = 0; k < d; ++k) {
            double lo, hi;
            pdsi_axis_range(x, m, d, k, &lo, &hi);
            if (hi > lo) {
                dim += 1;
                volume *= hi - lo;
                log_volume += log(hi - lo);
            }
        }
        if (dim == 0) volume = 0.0;
    }
    if (opt->dim > 0) dim = opt->dim;
    if (opt->volume > 0.0) {
        volume = opt->volume;
        log_volume = log(volume);
    }
    /* (an extent of Inf: coordinates near +-DBL_MAX; with a radius given,
     * or estimated, the volume is not used) */
    if (!isfinite(log_volume) && !(opt->radius > 0.0) && !opt->auto_radius)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "the domain volume overflows (%g): pass volume= or radius=", volume);
    *log_volume_out = log_volume;
    *dim_out = dim;
    *volume_out = volume;
    return PDS_OK;
}

pds_status pdsi_normalise_rows(const double *x, int64_t m, int d, pds_metric metric, double *out,
                               pds_error *err) {
    for (int64_t i = 0; i < m; ++i) {
        const double *p = x + i * (int64_t)d;
        double *o = out + i * (int64_t)d;
        double big = 0.0, sum = 0.0;
        for (int k = 0; k < d; ++k) big = fabs(p[k]) > big ? fabs(p[k]) : big;
        if (!(big > 0.0))
            return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                             "metric=%s needs nonzero rows (they are normalised to unit length): "
                             "points[%lld] has zero length",
                             metric == PDS_METRIC_SO3 ? "so3" : "sphere", (long long)i);
        /* scaled by the largest entry first: no overflow or underflow */
        for (int k = 0; k < d; ++k) {
            double t = p[k] / big;
            sum += t * t;
        }
        double inv = 1.0 / sqrt(sum);
        /* so3: q and -q are one rotation; keep the one whose first nonzero
         * coordinate is positive (w >= 0 in the (w, x, y, z) order). Then
         * -q's neighbours exist only for |w| below the search chord, and
         * q and -q give bit-identical results. */
        if (metric == PDS_METRIC_SO3) {
            int k0 = 0;
            while (k0 < d - 1 && p[k0] == 0.0) ++k0;
            if (p[k0] < 0.0) inv = -inv;
        }
        for (int k = 0; k < d; ++k) o[k] = (p[k] / big) * inv;
    }
    return PDS_OK;
}

void pdsi_space_set_metric(pdsi_space *s, pds_metric metric) {
    s->metric = metric;
    s->images = metric == PDS_METRIC_SO3 ? 2 : 1;
    s->angle_factor = metric == PDS_METRIC_SO3 ? 4.0 : metric == PDS_METRIC_SPHERE ? 2.0 : 0.0;
}

void pdsi_space_set_dmax(pdsi_space *s, double d_max) {
    s->d_max = d_max;
    if (s->angle_factor == 0.0) {
        s->search2 = d_max * d_max;
        s->reach = d_max;
        return;
    }
    /* the largest angle is pi in both metrics */
    if (d_max < M_PI) {
        double c = 2.0 * sin(d_max / s->angle_factor);
        s->search2 = c * c;
        s->reach = c;
    } else {
        /* every pair is a neighbour: the whole sphere, or (so3) every p with
         * q.p >= 0 for image 0, chord at most sqrt(2) */
        s->search2 = INFINITY;
        s->reach = (s->metric == PDS_METRIC_SO3 ? sqrt(2.0) : 2.0) * (1.0 + 1e-9);
    }
}

double pdsi_max_contribution(const pdsi_space *s) {
    if (!(s->d_max > 0.0)) return 0.0;
    double u = 1.0 - s->d_min / s->d_max; /* closer neighbours are capped at d_min */
    return u > 0.0 ? pow(u, s->alpha) : 0.0;
}

void pdsi_space_set_scale(pdsi_space *s, int64_t max_terms) {
    double bound = pdsi_max_contribution(s) * (double)(max_terms > 0 ? max_terms : 1);
    int e = 0;
    if (bound > 0.0) frexp(bound, &e); /* bound < 2^e */
    int shift = PDSI_WEIGHT_BITS - 1 - e; /* one bit of margin for rounding */
    if (shift > 1000) shift = 1000;
    s->scale_hi = ldexp(1.0, shift - 64);
    /* coarse terms floor(c 2^q) below 2^31 (one bit spare for a pow/ipow
     * last-bit difference in the largest contribution), q <= s */
    int ec = 0;
    double most = pdsi_max_contribution(s);
    if (most > 0.0) frexp(most, &ec); /* most < 2^ec */
    int q = 31 - ec;
    if (q > shift) q = shift;
    s->coarse_scale = ldexp(1.0, q - shift + 64);
}

/* ----------------------------------------------------- radius="auto" -- */

#define PDSI_AUTO_QUERIES 256
#define PDSI_AUTO_MIN_QUERIES 64

typedef struct auto_task {
    const double *x;
    int64_t m;
    int d;
    int64_t k, k2; /* ranks (1-based) of the two neighbour distances */
    const pdsi_space *s;
    const double *period;
    double *rk, *r2k; /* per query */
    int64_t queries;
    int failed;
} auto_task;

/* The k-th smallest (0-based) of v[0..n), reordering v (quickselect). */
static double select_kth(double *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) ++i;
            while (v[j] > pivot) --j;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                ++i;
                --j;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else break;
    }
    return v[k];
}

/* the key of query row i and row j (so3: the nearer of j's two images) */
PDSI_INLINE double auto_key(const auto_task *t, const double *xi, int64_t j) {
    const double *xj = t->x + j * (int64_t)t->d;
    double v = pdsi_pair_key(t->s, xi, xj, t->d, t->period, 0);
    if (t->s->images == 2) {
        double w = pdsi_pair_key(t->s, xi, xj, t->d, t->period, 1);
        v = w < v ? w : v;
    }
    return v;
}

/* ranks up to this keep the smallest keys in a sorted array as they come
 * (most keys are larger than the largest kept: one comparison) instead of
 * quickselecting all M of them: a pool of 2048 points, k = 8, was 6 ms a
 * call, 43% of it in the selection */
#define AUTO_SMALL_K 64

static void auto_range(void *task, int64_t b, int64_t e) {
    auto_task *t = task;
    if (t->k2 <= AUTO_SMALL_K) {
        double low[AUTO_SMALL_K];
        const int64_t k2 = t->k2;
        for (int64_t q = b; q < e; ++q) {
            int64_t i = (int64_t)(((double)q + 0.5) * (double)t->m / (double)t->queries);
            const double *xi = t->x + i * (int64_t)t->d;
            if (t->period || !pdsi_smallest_keys(t->s, t->x, t->m, t->d, i, k2, low)) {
                int64_t have = 0;
                for (int64_t j = 0; j < t->m; ++j)
                    if (j != i) pdsi_keep_smallest(low, &have, k2, auto_key(t, xi, j));
            }
            /* the k-th and 2k-th smallest, as select_kth gives them */
            t->rk[q] = pdsi_key_distance(t->s, low[t->k - 1]);
            t->r2k[q] = pdsi_key_distance(t->s, low[k2 - 1]);
        }
        return;
    }
    double *key = malloc(sizeof(double) * (size_t)t->m);
    if (!key) {
        t->failed = 1; /* only ever set to 1: a benign race */
        return;
    }
    for (int64_t q = b; q < e; ++q) {
        int64_t i = (int64_t)(((double)q + 0.5) * (double)t->m / (double)t->queries);
        const double *xi = t->x + i * (int64_t)t->d;
        int64_t c = 0;
        for (int64_t j = 0; j < t->m; ++j)
            if (j != i) key[c++] = auto_key(t, xi, j);
        double a = select_kth(key, c, t->k - 1);
        /* select_kth leaves every smaller key before index k - 1 */
        double b2 = t->k2 > t->k ? select_kth(key + t->k, c - t->k, t->k2 - t->k - 1) : a;
        t->rk[q] = pdsi_key_distance(t->s, a);
        t->r2k[q] = pdsi_key_distance(t->s, b2);
    }
    free(key);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int64_t n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

pds_status pdsi_estimate_radius(const double *x, int64_t m, int d, int64_t n,
                                const pds_options *opt, double *radius, int *dim,
                                pds_error *err) {
    int D = opt->dim > 0 ? opt->dim
            : opt->metric == PDS_METRIC_SO3 ? 3
            : opt->metric == PDS_METRIC_SPHERE ? d - 1
            : 0;
    if (m < 2) {
        /* nothing to eliminate; any radius will do */
        if (radius) *radius = 1.0;
        if (dim) *dim = D > 0 ? D : d;
        return PDS_OK;
    }
    pdsi_space s;
    memset(&s, 0, sizeof s);
    s.d = d;
    pdsi_space_set_metric(&s, opt->metric);
    s.search2 = INFINITY; /* full distances: no early exit in pdsi_pair_key */
    s.wide = pdsi_cpu_wide();
    double *period = NULL;
    if (opt->periodic && opt->bounds) {
        period = malloc(sizeof(double) * (size_t)d);
        if (!period) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        for (int k = 0; k < d; ++k) period[k] = opt->bounds[d + k] - opt->bounds[k];
    }
    auto_task t;
    memset(&t, 0, sizeof t);
    t.x = x;
    t.m = m;
    t.d = d;
    t.s = &s;
    t.period = period;
    double kk = (double)m / (double)n;
    t.k = (int64_t)floor(kk + 0.5);
    if (t.k < 1) t.k = 1;
    if (t.k > m - 1) t.k = m - 1;
    t.k2 = 2 * t.k < m - 1 ? 2 * t.k : m - 1;
    /* 256 queries, fewer (down to 64) when M d is large: about 4e8
     * coordinate differences at most beyond that */
    double budget = 4e8 / ((double)m * (double)d);
    int64_t queries = budget >= PDSI_AUTO_QUERIES ? PDSI_AUTO_QUERIES
                      : budget <= PDSI_AUTO_MIN_QUERIES ? PDSI_AUTO_MIN_QUERIES
                                                        : (int64_t)budget;
    t.queries = m < queries ? m : queries;
    t.rk = malloc(sizeof(double) * 2 * (size_t)t.queries);
    if (!t.rk) {
        free(period);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
    }
    t.r2k = t.rk + t.queries;
    pdsi_parallel(opt, t.queries, 1, auto_range, &t);
    free(period);
    if (t.failed) {
        free(t.rk);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory estimating the radius (M=%lld)",
                         (long long)m);
    }
    double rk = median(t.rk, t.queries), r2k = median(t.r2k, t.queries);
    free(t.rk);
    if (!(rk > 0.0) || !isfinite(rk))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "radius='auto' cannot estimate r_max: the median distance to the "
                         "%lld-th nearest point is %g (the points are mostly duplicates): "
                         "pass radius= (e.g. the spacing of the distinct points, whose count "
                         "torch.unique(points, dim=0) gives), or drop the duplicates",
                         (long long)t.k, rk);
    /* a ball of radius r_k holds about k - 1/3 points (the median of a
     * Gamma(k) count), and one of radius r_2k about 2k - 1/3 */
    double ck = (double)t.k - 1.0 / 3.0, c2k = (double)t.k2 - 1.0 / 3.0;
    if (D <= 0) {
        double est = (r2k > rk && c2k > ck) ? log(c2k / ck) / log(r2k / rk) : (double)d;
        D = (int)floor(est + 0.5);
        if (D < 1) D = 1;
        if (D > d) D = d;
    }
    /* r_max is the ball radius holding k = M/n points, times the packing
     * factor of dimension D (the r_max formulas' constant over the ball's) */
    double r_ball = rk * pow(kk / ck, 1.0 / D);
    /* (1 outside D = 2, 3, where r_max is the ball radius itself; computed
     * there as a product, the unit ball's volume underflows from D ~ 400 on
     * and made the estimate NaN) */
    double packing = D == 2 || D == 3 ? pds_max_radius(D, 1.0, 1) * pow(unit_ball_volume(D), 1.0 / D)
                                      : 1.0;
    if (radius) *radius = r_ball * packing;
    if (dim) *dim = D;
    return PDS_OK;
}

int pdsi_scale_values(const double *x, int64_t count, int k, double *out) {
    for (int64_t i = 0; i < count; ++i) {
        out[i] = ldexp(x[i], k);
        if (!isfinite(out[i])) return 0;
    }
    return 1;
}

int pdsi_unit_exponent(const double *x, int64_t m, int d) {
    double widest = 0.0; /* half the widest extent: no overflow */
    for (int k = 0; k < d; ++k) {
        double lo, hi;
        pdsi_axis_range(x, m, d, k, &lo, &hi);
        double e = 0.5 * hi - 0.5 * lo;
        widest = e > widest ? e : widest;
    }
    if (!(widest > 0.5e100) && !(widest > 0.0 && widest < 0.5e-100)) return 0;
    return -ilogb(widest) - 1;
}

pds_status pds_estimate_radius(const double *points, int64_t m, int d, int64_t n,
                               const pds_options *options, double *radius, int *dim,
                               pds_error *err) {
    pds_options defaults;
    if (!options) {
        pds_options_init(&defaults);
        options = &defaults;
    }
    if (err) {
        err->code = PDS_OK;
        err->message[0] = '\0';
    }
    if (!points) return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "points must not be NULL");
    if (d < 1 || m < 1 || n < 1 || n > m)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "need M >= 1, d >= 1 and n in [1, M], got M=%lld, d=%d, n=%lld",
                         (long long)m, d, (long long)n);
    if ((int)options->metric < 0 || (int)options->metric > PDS_METRIC_SPHERE)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "metric must be 0, 1 or 2, got %d",
                         (int)options->metric);
    pds_status st = pdsi_check_points(points, m, d, options, err);
    if (st != PDS_OK) return st;
    int k = options->metric == PDS_METRIC_EUCLIDEAN ? pdsi_unit_exponent(points, m, d) : 0;
    if (options->metric == PDS_METRIC_EUCLIDEAN && k == 0)
        return pdsi_estimate_radius(points, m, d, n, options, radius, dim, err);
    double *unit = malloc(sizeof(double) * (size_t)m * (size_t)d);
    if (!unit) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
    if (k) {
        /* far from unit size: the estimate on the points times 2^k (exact),
         * scaled back; no coordinate overflows (distinct values near an
         * offset c are at least an ulp of c apart, so c 2^k < 2^54) */
        (void)pdsi_scale_values(points, m * (int64_t)d, k, unit);
    } else {
        st = pdsi_normalise_rows(points, m, d, options->metric, unit, err);
    }
    if (st == PDS_OK) st = pdsi_estimate_radius(unit, m, d, n, options, radius, dim, err);
    if (st == PDS_OK && k && radius) *radius = ldexp(*radius, -k);
    free(unit);
    return st;
}
