/* Regression tests of the C core for the crashes the fuzzer found
 * (tests/fuzz/) and for hostile numeric ranges, through pds.h only. */
#include "pds.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SEED 0x2545F4914F6CDD1Dull
#include "check.h"

/* n distinct indices in [0, m) */
static int valid(const int64_t *out, int64_t m, int64_t n) {
    char *seen = calloc((size_t)m, 1);
    int ok = 1;
    for (int64_t i = 0; i < n; ++i) {
        if (out[i] < 0 || out[i] >= m || seen[out[i]]) ok = 0;
        else seen[out[i]] = 1;
    }
    free(seen);
    return ok;
}

/* A denormal radius makes ext / d_max infinite, and the grid's cell count
 * must not become NaN (a float-to-int conversion out of range): a tiny d_max
 * is refused; a d_max far below a huge extent must still build a sane grid. */
static void test_grid_extreme_ratio(void) {
    double x[8] = {0.0, 0.0, 1e300, 0.0, 5e299, 0.0, 1.0, 0.0}; /* on a line */
    int64_t out[2];
    pds_options o;
    pds_error e;
    pds_options_init(&o);
    o.radius = 4.9406564584124654e-324;
    CHECK(pds_eliminate(x, 4, 2, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "d_max") != NULL);
    o.radius = 1e-100; /* ext / d_max = 1e400 overflows to Inf */
    CHECK(pds_eliminate(x, 4, 2, 2, &o, out, &e) == PDS_OK);
    CHECK(valid(out, 4, 2));
}

/* Progressive order with n > M / 2: a level removes up to n / 2 + 1 points,
 * more than M - n; the buffer of removed ids must hold them. */
static void test_progressive_n_near_m(void) {
    for (int64_t m = 1; m <= 40; ++m) {
        double *x = malloc(sizeof(double) * 2 * (size_t)m);
        for (int64_t i = 0; i < 2 * m; ++i) x[i] = urand();
        int64_t *p = malloc(sizeof(int64_t) * (size_t)m), *a = malloc(sizeof(int64_t) * (size_t)m);
        for (int64_t n = m / 2; n <= m; ++n) {
            if (n < 1) continue;
            pds_options o;
            pds_options_init(&o);
            CHECK(pds_eliminate(x, m, 2, n, &o, a, NULL) == PDS_OK);
            o.progressive = 1;
            CHECK(pds_eliminate(x, m, 2, n, &o, p, NULL) == PDS_OK);
            CHECK(valid(p, m, n));
            /* the same set as without progressive */
            char *seen = calloc((size_t)m, 1);
            for (int64_t i = 0; i < n; ++i) seen[a[i]] = 1;
            for (int64_t i = 0; i < n; ++i) CHECK(seen[p[i]]);
            free(seen);
        }
        free(x), free(p), free(a);
    }
}

/* radius = DBL_MAX would make d_max = Inf, d_min NaN and the fixed-point
 * weights overflow: refused, naming the radius. */
static void test_huge_radius(void) {
    double x[6] = {0, 0, 1, 1, 0.5, 0.2};
    int64_t out[2];
    pds_options o;
    pds_error e;
    pds_options_init(&o);
    o.radius = DBL_MAX;
    CHECK(pds_eliminate(x, 3, 2, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "radius") != NULL);
    o.radius = 1e200; /* finite d_max, squares would overflow: rescaled by 2^-665 */
    CHECK(pds_eliminate(x, 3, 2, 2, &o, out, &e) == PDS_OK);
    CHECK(out[0] != out[1] && out[0] >= 0 && out[0] < 3 && out[1] >= 0 && out[1] < 3);
    /* the power of two that brings d_max near 1 would overflow a coordinate */
    double line[3] = {0.0, 1e300, 5e299};
    o.radius = 1e-200;
    CHECK(pds_eliminate(line, 3, 1, 2, &o, out, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "would overflow") != NULL && strstr(e.message, "radius") != NULL);
    pds_options_init(&o);
    o.dim = 1000; /* r_max from a unit ball volume that underflows */
    pds_status st = pds_eliminate(x, 3, 2, 2, &o, out, &e);
    CHECK(st == PDS_OK || (st == PDS_ERR_INVALID_ARGUMENT && e.message[0]));
}

/* Coordinates whose squared distances would leave the double range are
 * scaled by a power of two to unit size (exact): the selection is the one at
 * a scale in range; 1e+-30 works as it is and matches unit scale exactly for
 * a power-of-two factor. */
static void test_numeric_range(void) {
    enum { M = 400, N = 50 };
    double x[2 * M], y[2 * M], z[2 * M];
    int64_t a[N], b[N];
    pds_error e;
    for (int i = 0; i < 2 * M; ++i) x[i] = urand();
    CHECK(pds_eliminate(x, M, 2, N, NULL, a, NULL) == PDS_OK);
    const double scales[4] = {0x1p-100, 0x1p100, 0x1p-900, 0x1p900};
    for (int s = 0; s < 4; ++s) {
        for (int i = 0; i < 2 * M; ++i) y[i] = x[i] * scales[s];
        CHECK(pds_eliminate(y, M, 2, N, NULL, b, &e) == PDS_OK);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    /* 1e200 and 1e-170 (no power of two): as the same points at 1e200 2^-600
     * and 1e-170 2^600, in range */
    const double far[2] = {1e200, 1e-170}, back[2] = {0x1p-600, 0x1p600};
    for (int s = 0; s < 2; ++s) {
        for (int i = 0; i < 2 * M; ++i) y[i] = x[i] * far[s], z[i] = y[i] * back[s];
        CHECK(pds_eliminate(y, M, 2, N, NULL, a, &e) == PDS_OK);
        CHECK(pds_eliminate(z, M, 2, N, NULL, b, &e) == PDS_OK);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    /* a volume in the same far units */
    pds_options o;
    pds_options_init(&o);
    for (int i = 0; i < 2 * M; ++i) y[i] = x[i] * 1e150, z[i] = y[i] * 0x1p-400;
    o.volume = 1e300;
    CHECK(pds_eliminate(y, M, 2, N, &o, a, &e) == PDS_OK);
    o.volume = 1e300 * 0x1p-800;
    CHECK(pds_eliminate(z, M, 2, N, &o, b, &e) == PDS_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
}

int main(void) {
    test_grid_extreme_ratio();
    test_progressive_n_near_m();
    test_huge_radius();
    test_numeric_range();
    if (failures) {
        printf("%d failed\n", failures);
        return 1;
    }
    printf("all robustness tests passed\n");
    return 0;
}
