/* Unit tests of the C core through its public header only (no torch). */
#include "pds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SEED 88172645463325252ull
#include "check.h"

static double *random_points(int64_t m, int d) {
    double *x = malloc(sizeof(double) * (size_t)(m * d));
    for (int64_t i = 0; i < m * d; ++i) x[i] = urand();
    return x;
}

/* smallest toroidal distance on [0,1)^d among the chosen points */
static double min_dist(const double *x, int d, const int64_t *idx, int64_t n) {
    double best = INFINITY;
    for (int64_t a = 0; a < n; ++a)
        for (int64_t b = a + 1; b < n; ++b) {
            double s = 0;
            for (int k = 0; k < d; ++k) {
                double t = fabs(x[idx[a] * d + k] - x[idx[b] * d + k]);
                if (t > 0.5) t = 1.0 - t;
                s += t * t;
            }
            if (s < best) best = s;
        }
    return sqrt(best);
}

static void test_quality_and_count(int d, double floor_rho) {
    int64_t n = 1000, m = 8 * n;
    double *x = random_points(m, d);
    double bounds[16];
    for (int k = 0; k < d; ++k) bounds[k] = 0.0, bounds[d + k] = 1.0;
    pds_options o;
    pds_options_init(&o);
    o.bounds = bounds;
    o.periodic = 1;
    int64_t *out = malloc(sizeof(int64_t) * (size_t)n);
    pds_error e;
    CHECK(pds_eliminate(x, m, d, n, &o, out, &e) == PDS_OK);
    for (int64_t i = 1; i < n; ++i) CHECK(out[i - 1] < out[i]); /* ascending, distinct */
    CHECK(out[0] >= 0 && out[n - 1] < m);
    double rho = min_dist(x, d, out, n) / (2.0 * pds_max_radius(d, 1.0, n));
    printf("d=%d rho=%.4f\n", d, rho);
    CHECK(rho >= floor_rho);
    free(x);
    free(out);
}

static void test_deterministic_and_progressive(void) {
    int64_t m = 4000, n = 500;
    double *x = random_points(m, 2);
    int64_t *a = malloc(sizeof(int64_t) * n), *b = malloc(sizeof(int64_t) * n), *p = malloc(sizeof(int64_t) * n);
    CHECK(pds_eliminate(x, m, 2, n, NULL, a, NULL) == PDS_OK);
    CHECK(pds_eliminate(x, m, 2, n, NULL, b, NULL) == PDS_OK);
    CHECK(memcmp(a, b, sizeof(int64_t) * n) == 0);
    double unit[4] = {0, 0, 1, 1};
    pds_options o;
    pds_options_init(&o);
    o.bounds = unit;
    o.periodic = 1;
    CHECK(pds_eliminate(x, m, 2, n, &o, a, NULL) == PDS_OK);
    o.progressive = 1;
    CHECK(pds_eliminate(x, m, 2, n, &o, p, NULL) == PDS_OK);
    /* the same set, in another order */
    char *seen = calloc(m, 1);
    for (int64_t i = 0; i < n; ++i) seen[a[i]] = 1;
    for (int64_t i = 0; i < n; ++i) {
        CHECK(seen[p[i]] == 1);
        seen[p[i]] = 2;
    }
    /* the first quarter is spread about as well as a fresh 125-point set */
    double rq = min_dist(x, 2, p, n / 4) / (2.0 * pds_max_radius(2, 1.0, n / 4));
    printf("progressive prefix rho=%.4f\n", rq);
    CHECK(rq > 0.4);
    free(seen), free(x), free(a), free(b), free(p);
}

static void test_errors(void) {
    double x[6] = {0, 0, 1, 1, NAN, 0.5};
    int64_t out[3];
    pds_error e;
    CHECK(pds_eliminate(x, 3, 2, 2, NULL, out, &e) == PDS_ERR_NONFINITE);
    CHECK(strstr(e.message, "points[2, 0]") != NULL);
    x[4] = 0.5;
    CHECK(pds_eliminate(x, 3, 2, 0, NULL, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "n=0") != NULL);
    CHECK(pds_eliminate(x, 3, 2, 4, NULL, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(pds_eliminate(x, 0, 2, 1, NULL, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    pds_options o;
    pds_options_init(&o);
    o.alpha = -1;
    CHECK(pds_eliminate(x, 3, 2, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "alpha") != NULL);
    pds_options_init(&o);
    o.periodic = 1;
    CHECK(pds_eliminate(x, 3, 2, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    double bad_bounds[4] = {0, 0.5, 1, 0.2};
    o.bounds = bad_bounds;
    CHECK(pds_eliminate(x, 3, 2, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "axis 1") != NULL);
    double in_bounds[4] = {0, 0, 0.9, 1};
    o.bounds = in_bounds; /* point (1, 1) lies outside */
    CHECK(pds_eliminate(x, 3, 2, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(pds_status_name(PDS_ERR_TOO_DENSE), "too dense") == 0);
}

static void test_degenerate(void) {
    /* all equal, and all on a line: exactly n distinct indices */
    enum { M = 500, N = 50 };
    double x[2 * M];
    int64_t out[N];
    for (int i = 0; i < M; ++i) x[2 * i] = 0.25, x[2 * i + 1] = 0.75;
    CHECK(pds_eliminate(x, M, 2, N, NULL, out, NULL) == PDS_OK);
    for (int i = 1; i < N; ++i) CHECK(out[i - 1] < out[i]);
    for (int i = 0; i < M; ++i) x[2 * i] = urand(), x[2 * i + 1] = 3.0;
    CHECK(pds_eliminate(x, M, 2, N, NULL, out, NULL) == PDS_OK);
    for (int i = 1; i < N; ++i) CHECK(out[i - 1] < out[i]);
    /* n == M keeps everything */
    int64_t all[M];
    CHECK(pds_eliminate(x, M, 2, M, NULL, all, NULL) == PDS_OK);
    for (int i = 0; i < M; ++i) CHECK(all[i] == i);
}

static void test_progressive_n_close_to_m(void) {
    /* the progressive levels remove up to n/2 points: more than m - n */
    for (int64_t n = 1; n <= 64; ++n) {
        int64_t m = n + (n % 3);
        double *x = random_points(m, 2);
        int64_t *out = malloc(sizeof(int64_t) * (size_t)n);
        char *seen = calloc((size_t)m, 1);
        pds_options o;
        pds_options_init(&o);
        o.progressive = 1;
        CHECK(pds_eliminate(x, m, 2, n, &o, out, NULL) == PDS_OK);
        for (int64_t i = 0; i < n; ++i) {
            CHECK(out[i] >= 0 && out[i] < m && !seen[out[i]]);
            if (out[i] >= 0 && out[i] < m) seen[out[i]] = 1;
        }
        free(x), free(out), free(seen);
    }
}

static void test_too_dense(void) {
    /* every point neighbours every other: refused before the quadratic work */
    int64_t m = 20000;
    double *x = random_points(m, 2);
    pds_options o;
    pds_options_init(&o);
    o.radius = 10.0;
    o.max_pair_work = 1e7;
    int64_t *out = malloc(sizeof(int64_t) * 10);
    pds_error e;
    CHECK(pds_eliminate(x, m, 2, 10, &o, out, &e) == PDS_ERR_TOO_DENSE);
    CHECK(strstr(e.message, "radius") != NULL);
    /* r_max from the domain, few kept of many: the advice is a pool, in full */
    o.radius = 0.0;
    CHECK(pds_eliminate(x, m, 2, 10, &o, out, &e) == PDS_ERR_TOO_DENSE);
    CHECK(strstr(e.message, "random pool of about 8 n points") != NULL);
    CHECK(strstr(e.message, "too dense") != NULL);
    CHECK(strstr(e.message, "pool_size does)") != NULL);
    free(x);
    /* all 4e6 candidate pairs of 2000 points: within that budget in 2-D,
     * over it in 40-D (each pair of 40 coordinates counts 5) */
    m = 2000;
    o.radius = 1e3;
    x = random_points(m, 2);
    CHECK(pds_eliminate(x, m, 2, 10, &o, out, &e) == PDS_OK);
    free(x);
    x = random_points(m, 40);
    CHECK(pds_eliminate(x, m, 40, 10, &o, out, &e) == PDS_ERR_TOO_DENSE);
    CHECK(strstr(e.message, "of 40 coordinates") != NULL);
    o.max_pair_work = 2e8;
    CHECK(pds_eliminate(x, m, 40, 10, &o, out, &e) == PDS_OK);
    free(x);
    free(out);
}

/* A 2-D lattice padded with zero coordinates has the same distances, and
 * with its coordinates repeated 4 (16) times distances exactly 2 (4) times
 * as long: the same indices as in 2-D (with the radius scaled alike), ties
 * included. The principal-axes frame of d > 3 (and its early exit, d > 8)
 * must not turn exact ties into ulps. */
static void test_lattice_ties_in_more_dimensions(void) {
    enum { M = 40 };
    static double flat[M * 2], wide[M * 32];
    int64_t want[20], got[20];
    pds_options o;
    pds_options_init(&o);
    pds_error e;
    for (int seed = 0; seed < 12; ++seed) {
        for (int i = 0; i < M * 2; ++i) flat[i] = (double)(int)(urand() * 6.0);
        for (int n = 8; n <= 20; n += 6) {
            o.radius = 0.0;
            CHECK(pds_eliminate(flat, M, 2, n, &o, want, &e) == PDS_OK);
            for (int d = 4; d <= 12; d += 4) {
                for (int i = 0; i < M; ++i)
                    for (int k = 0; k < d; ++k) wide[i * d + k] = k < 2 ? flat[i * 2 + k] : 0.0;
                CHECK(pds_eliminate(wide, M, d, n, &o, got, &e) == PDS_OK);
                CHECK(memcmp(want, got, sizeof(int64_t) * (size_t)n) == 0);
            }
            o.radius = 1.5;
            CHECK(pds_eliminate(flat, M, 2, n, &o, want, &e) == PDS_OK);
            for (int copies = 4; copies <= 16; copies *= 4) {
                int d = 2 * copies;
                for (int i = 0; i < M; ++i)
                    for (int k = 0; k < d; ++k) wide[i * d + k] = flat[i * 2 + (k < copies ? 0 : 1)];
                o.radius = 1.5 * sqrt((double)copies);
                CHECK(pds_eliminate(wide, M, d, n, &o, got, &e) == PDS_OK);
                CHECK(memcmp(want, got, sizeof(int64_t) * (size_t)n) == 0);
            }
        }
    }
}

/* The portable option: the kernels pds_cpu_path names, and the same indices
 * either way (euclidean, so3 and sphere, serial and progressive). */
static void test_portable(void) {
    const char *path = pds_cpu_path(NULL);
    CHECK(strcmp(path, "avx512") == 0 || strcmp(path, "portable") == 0);
    pds_options o;
    pds_options_init(&o);
    CHECK(strcmp(pds_cpu_path(&o), path) == 0);
    o.portable = 1;
    CHECK(strcmp(pds_cpu_path(&o), "portable") == 0);
    enum { M = 3000, N = 300 };
    static const struct {
        pds_metric metric;
        int d, progressive;
    } cases[] = {{PDS_METRIC_EUCLIDEAN, 2, 0}, {PDS_METRIC_EUCLIDEAN, 3, 1},
                 {PDS_METRIC_EUCLIDEAN, 4, 0}, {PDS_METRIC_SO3, 4, 0},
                 {PDS_METRIC_SPHERE, 3, 1}};
    double *x = malloc(sizeof(double) * M * 4);
    int64_t wide[N], portable[N];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        int d = cases[c].d;
        for (int64_t i = 0; i < (int64_t)M * d; ++i) x[i] = urand() - 0.5;
        pds_options_init(&o);
        o.metric = cases[c].metric;
        o.progressive = cases[c].progressive;
        pds_error e;
        CHECK(pds_eliminate(x, M, d, N, &o, wide, &e) == PDS_OK);
        o.portable = 1;
        CHECK(pds_eliminate(x, M, d, N, &o, portable, &e) == PDS_OK);
        CHECK(memcmp(wide, portable, sizeof wide) == 0);
    }
    free(x);
}

int main(void) {
    test_quality_and_count(2, 0.70);
    test_quality_and_count(3, 0.65);
    test_quality_and_count(1, 0.60);
    test_deterministic_and_progressive();
    test_errors();
    test_degenerate();
    test_progressive_n_close_to_m();
    test_too_dense();
    test_lattice_ties_in_more_dimensions();
    test_portable();
    if (failures) {
        printf("%d failed\n", failures);
        return 1;
    }
    printf("all C core tests passed\n");
    return 0;
}
