/* Tests of the so3 and sphere metrics, radius="auto" and the principal-axes
 * frame, through the public header only: against a naive O(M^2) elimination
 * written here from the definitions (acos of dot products, float64 sums). */
#include "pds.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define TEST_SEED 0x9e3779b97f4a7c15ull
#include "check.h"
static double gauss(void) {
    double u = urand() + 1e-300, v = urand();
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* the definitions: angle between rows a and b of length d (so3 < 0: the
 * euclidean distance instead) */
static double angle(const double *a, const double *b, int d, int so3) {
    if (so3 < 0) {
        double s = 0;
        for (int k = 0; k < d; ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
        return sqrt(s);
    }
    double dot = 0, na = 0, nb = 0;
    for (int k = 0; k < d; ++k) dot += a[k] * b[k], na += a[k] * a[k], nb += b[k] * b[k];
    double c = dot / sqrt(na * nb);
    if (so3) c = fabs(c);
    c = c > 1 ? 1 : c < -1 ? -1 : c;
    return so3 ? 2.0 * acos(c) : acos(c);
}

/* naive weighted sample elimination with the default parameters */
static void naive(const double *x, int64_t m, int d, int64_t n, int so3, double r_max, int64_t *out) {
    double d_max = 2 * r_max, d_min = d_max * (1 - pow((double)n / m, 1.5)) * 0.65;
    double *w = calloc((size_t)m, sizeof(double));
    char *gone = calloc((size_t)m, 1);
    double *c = malloc(sizeof(double) * (size_t)(m * m));
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < m; ++j) {
            double a = angle(x + i * d, x + j * d, d, so3);
            c[i * m + j] = (i != j && a < d_max) ? pow(1 - fmax(a, d_min) / d_max, 8) : 0;
            w[i] += c[i * m + j];
        }
    for (int64_t r = 0; r < m - n; ++r) {
        int64_t best = -1;
        for (int64_t i = 0; i < m; ++i)
            if (!gone[i] && (best < 0 || w[i] > w[best])) best = i;
        gone[best] = 1;
        /* re-sum the neighbours' weights (no drift: equal weights tie) */
        for (int64_t j = 0; j < m; ++j) {
            if (c[best * m + j] == 0) continue;
            w[j] = 0;
            for (int64_t l = 0; l < m; ++l)
                if (!gone[l]) w[j] += c[j * m + l];
        }
    }
    int64_t k = 0;
    for (int64_t i = 0; i < m; ++i)
        if (!gone[i]) out[k++] = i;
    free(w), free(gone), free(c);
}

static double overlap(const int64_t *a, const int64_t *b, int64_t n) {
    int64_t same = 0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) same += a[i] == b[j];
    return (double)same / n;
}

static void test_against_naive(int so3, int d) {
    int64_t m = 600, n = 80;
    double *x = malloc(sizeof(double) * (size_t)(m * d));
    for (int64_t i = 0; i < m * d; ++i) x[i] = gauss();
    if (so3)
        for (int64_t i = 0; i < m / 4; ++i) x[i * d] *= 1e-3; /* a quarter near the rim */
    pds_options o;
    pds_options_init(&o);
    o.metric = so3 ? PDS_METRIC_SO3 : PDS_METRIC_SPHERE;
    int64_t *got = malloc(sizeof(int64_t) * (size_t)n), *want = malloc(sizeof(int64_t) * (size_t)n);
    pds_error e;
    CHECK(pds_eliminate(x, m, d, n, &o, got, &e) == PDS_OK);
    double volume = so3 ? 8 * M_PI * M_PI : 2 * pow(M_PI, d / 2.0) / tgamma(d / 2.0);
    naive(x, m, d, n, so3, pds_max_radius(so3 ? 3 : d - 1, volume, n), want);
    double agree = overlap(got, want, n);
    printf("%s d=%d agreement with the naive elimination %.3f\n", so3 ? "so3" : "sphere", d, agree);
    CHECK(agree >= 0.99);
    /* sign (so3: every row; sphere: none) and length do not matter */
    int64_t *again = malloc(sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < m; ++i) {
        double f = so3 && (i % 3 == 0) ? -8.0 : 0.25;
        for (int k = 0; k < d; ++k) x[i * d + k] *= f;
    }
    CHECK(pds_eliminate(x, m, d, n, &o, again, &e) == PDS_OK);
    CHECK(memcmp(again, got, sizeof(int64_t) * (size_t)n) == 0);
    free(x), free(got), free(want), free(again);
}

static void test_metric_errors(void) {
    double q[4 * 6];
    for (int i = 0; i < 24; ++i) q[i] = gauss();
    int64_t out[6];
    pds_error e;
    pds_options o;
    pds_options_init(&o);
    o.metric = PDS_METRIC_SO3;
    CHECK(pds_eliminate(q, 8, 3, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT); /* d != 4 */
    CHECK(strstr(e.message, "d=3") != NULL);
    q[4 * 2 + 0] = q[4 * 2 + 1] = q[4 * 2 + 2] = q[4 * 2 + 3] = 0.0;
    CHECK(pds_eliminate(q, 6, 4, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "points[2] has zero length") != NULL);
    q[8] = 1.0;
    double bounds[8] = {-1, -1, -1, -1, 1, 1, 1, 1};
    o.bounds = bounds;
    CHECK(pds_eliminate(q, 6, 4, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "bounds") != NULL);
    o.bounds = NULL;
    o.metric = PDS_METRIC_SPHERE;
    CHECK(pds_eliminate(q, 24, 1, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT); /* d = 1 */
    o.metric = (pds_metric)7;
    CHECK(pds_eliminate(q, 6, 4, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "got metric=7") != NULL);
    pds_options_init(&o);
    o.auto_radius = 1;
    o.radius = 0.5;
    CHECK(pds_eliminate(q, 6, 4, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
}

static void test_auto_radius(void) {
    int64_t m = 20000, n = 2500;
    double *x = malloc(sizeof(double) * (size_t)(m * 3));
    for (int64_t i = 0; i < m * 2; ++i) x[i] = urand();
    double r;
    int dim;
    pds_error e;
    CHECK(pds_estimate_radius(x, m, 2, n, NULL, &r, &dim, &e) == PDS_OK);
    printf("auto radius 2D: %.5f vs %.5f, D=%d\n", r, pds_max_radius(2, 1.0, n), dim);
    CHECK(dim == 2 && fabs(r / pds_max_radius(2, 1.0, n) - 1) < 0.1);
    /* a sphere surface in 3D: D = 2 and the radius of area 4 pi */
    for (int64_t i = 0; i < m; ++i) {
        double a = gauss(), b = gauss(), c = gauss(), s = sqrt(a * a + b * b + c * c);
        x[3 * i] = a / s, x[3 * i + 1] = b / s, x[3 * i + 2] = c / s;
    }
    CHECK(pds_estimate_radius(x, m, 3, n, NULL, &r, &dim, &e) == PDS_OK);
    printf("auto radius on a sphere surface: %.5f vs %.5f, D=%d\n", r, pds_max_radius(2, 4 * M_PI, n), dim);
    CHECK(dim == 2 && fabs(r / pds_max_radius(2, 4 * M_PI, n) - 1) < 0.1);
    pds_options o;
    pds_options_init(&o);
    o.auto_radius = 1;
    int64_t *out = malloc(sizeof(int64_t) * (size_t)n);
    CHECK(pds_eliminate(x, m, 3, n, &o, out, &e) == PDS_OK);
    for (int64_t i = 1; i < n; ++i) CHECK(out[i - 1] < out[i]);
    /* all duplicates: a clear error */
    for (int64_t i = 0; i < m * 3; ++i) x[i] = 0.5;
    CHECK(pds_estimate_radius(x, 1000, 3, 10, NULL, &r, &dim, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "duplicates") != NULL);
    free(x), free(out);
}

static void test_high_d_subspace(void) {
    /* 32-d points on a random 2-d plane: the principal frame keeps the
     * result equal to the naive one and the candidate work small */
    int64_t m = 500, n = 60;
    int d = 32;
    double *x = malloc(sizeof(double) * (size_t)(m * d)), u[32], v[32];
    for (int k = 0; k < d; ++k) u[k] = gauss(), v[k] = gauss();
    for (int64_t i = 0; i < m; ++i) {
        double a = urand(), b = urand();
        for (int k = 0; k < d; ++k) x[i * d + k] = a * u[k] + b * v[k];
    }
    pds_options o;
    pds_options_init(&o);
    o.radius = 0.08 * sqrt(d);
    /* far below quadratic (a pair of d > 8 coordinates counts d / 8) */
    o.max_pair_work = 0.5 * (double)m * (double)m * (d / 8.0);
    int64_t *got = malloc(sizeof(int64_t) * (size_t)n);
    pds_error e;
    CHECK(pds_eliminate(x, m, d, n, &o, got, &e) == PDS_OK);
    free(x), free(got);
}

static void test_sparse_grid_on_clusters(void) {
    /* 8 tight clusters in a big box: a dense grid of <= 2M cells would be
     * far coarser than d_max, so the sparse grid is used */
    int64_t m = 1600, n = 200;
    double *x = malloc(sizeof(double) * (size_t)(m * 3)), c[8][3];
    for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 3; ++k) c[j][k] = 100.0 * urand();
    for (int64_t i = 0; i < m; ++i)
        for (int k = 0; k < 3; ++k) x[i * 3 + k] = c[i % 8][k] + 0.2 * gauss();
    pds_options o;
    pds_options_init(&o);
    o.radius = 0.05;
    /* the dense grid (cells of side ~7) would see 200 candidates per point */
    o.max_pair_work = 60.0 * (double)m;
    int64_t *got = malloc(sizeof(int64_t) * (size_t)n), *want = malloc(sizeof(int64_t) * (size_t)n);
    pds_error e;
    CHECK(pds_eliminate(x, m, 3, n, &o, got, &e) == PDS_OK);
    naive(x, m, 3, n, -1, o.radius, want);
    double agree = overlap(got, want, n);
    printf("clusters (sparse grid): agreement with the naive elimination %.3f\n", agree);
    CHECK(agree >= 0.99);
    free(x), free(got), free(want);
}

static void test_progressive_keeping_most(void) {
    /* n > M/2 with progressive order (a buffer once sized M - n) */
    int64_t m = 300, n = 290;
    double *x = malloc(sizeof(double) * (size_t)(m * 2));
    for (int64_t i = 0; i < m * 2; ++i) x[i] = urand();
    pds_options o;
    pds_options_init(&o);
    o.progressive = 1;
    int64_t *out = malloc(sizeof(int64_t) * (size_t)n);
    CHECK(pds_eliminate(x, m, 2, n, &o, out, NULL) == PDS_OK);
    char *seen = calloc((size_t)m, 1);
    for (int64_t i = 0; i < n; ++i) CHECK(out[i] >= 0 && out[i] < m && !seen[out[i]]++);
    free(x), free(out), free(seen);
}

int main(void) {
    test_against_naive(1, 4);
    test_against_naive(0, 3);
    test_against_naive(0, 5);
    test_metric_errors();
    test_auto_radius();
    test_high_d_subspace();
    test_progressive_keeping_most();
    test_sparse_grid_on_clusters();
    if (failures) {
        printf("%d failed\n", failures);
        return 1;
    }
    printf("all metric tests passed\n");
    return 0;
}
