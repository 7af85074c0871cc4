/* pds_radius.c - r_max: from the domain's dimension and volume
 * (pds_max_radius), or estimated from the points themselves (radius="auto"). */
#include "pds_problem.h"
#include "pds_state.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

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
 * quickselecting all M of them (small pools spent most of the call there) */
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
    s.wide = pdsi_wide(opt);
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

