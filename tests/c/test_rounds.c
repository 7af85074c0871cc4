/* Tests of the exact parallel elimination (pds_rounds.c): the rounds give the
 * same indices, in the same order, as the sequential heap run alone, for any
 * way a parallel-for splits and orders its ranges. Uses the testing entry
 * pdsi_eliminate_testing, which sets how many removals go to the sequential
 * run and which other paths a level takes (pds_testing.h). */
#include "pds_queue.h"
#include "pds_space.h"
#include "pds_testing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SEED 0x9E3779B97F4A7C15ull
#include "check.h"

/* Parallel-fors that run the ranges serially but in unusual splits and
 * orders, as threads might: mode 0 reversed single items, 1 odd-sized
 * chunks back to front, 2 interleaved halves. */
typedef struct order_mode {
    int mode;
} order_mode;

static void odd_for(void *user, int64_t begin, int64_t end, int64_t grain, pds_range_fn fn,
                    void *task) {
    int mode = ((order_mode *)user)->mode;
    (void)grain;
    if (mode == 0) {
        for (int64_t i = end - 1; i >= begin; --i) fn(task, i, i + 1);
    } else if (mode == 1) {
        int64_t step = 3, e = end;
        while (e > begin) {
            int64_t b = e - step > begin ? e - step : begin;
            fn(task, b, e);
            e = b;
            step = step * 2 + 1;
        }
    } else {
        int64_t mid = begin + (end - begin) / 2;
        for (int64_t i = 0; begin + i < end; ++i) {
            int64_t a = (i & 1) ? mid + i / 2 : begin + i / 2;
            if (a < end && ((i & 1) ? a >= mid : a < mid)) fn(task, a, a + 1);
        }
        /* whatever the interleave missed */
        int64_t na = mid - begin, nb = end - mid;
        for (int64_t a = begin + (na < nb ? na : nb); a < mid; ++a) fn(task, a, a + 1);
        for (int64_t a = mid + (na < nb ? na : nb); a < end; ++a) fn(task, a, a + 1);
    }
}

static void compare(const char *what, const double *x, int64_t m, int d, int64_t n,
                    pds_options *o) {
    int64_t *ref = malloc(sizeof(int64_t) * (size_t)n), *got = malloc(sizeof(int64_t) * (size_t)n);
    pds_error e;
    o->parallel_for = NULL;
    /* the reference: the sequential run alone on the tournament tree, after
     * the parallel weight pass */
    const pdsi_testing tree = {.tail = INT64_MAX, .no_serial = 1, .tree_only = 1};
    CHECK(pdsi_eliminate_testing(x, m, d, n, o, &tree, ref, &e) == PDS_OK);
    /* the same on the bucket queue (falling back to the tree when its
     * buckets crowd), then the serial path of small levels (each pair once)
     * where it applies, with either */
    /* (and without AVX-512: the SSE2 and scalar scan) */
    /* (and the serial path on exact weights without the coarse run, and
     * with it where it is not used: 1-D, lattices; there it gives up, at
     * once or near the end, and the level runs again on exact weights) */
    static const struct {
        pdsi_testing t;
        int portable;
    } paths[7] = {{{.tail = INT64_MAX, .no_serial = 1}, 0},
                  {{.tail = INT64_MAX}, 0},
                  {{.tail = INT64_MAX, .tree_only = 1}, 0},
                  {{.tail = INT64_MAX}, 1},
                  {{.tail = INT64_MAX, .no_serial = 1}, 1},
                  {{.tail = INT64_MAX, .exact = 1}, 0},
                  {{.tail = INT64_MAX, .coarse = 1}, 0}};
    for (int p = 0; p < 7; ++p) {
        o->portable = paths[p].portable;
        CHECK(pdsi_eliminate_testing(x, m, d, n, o, &paths[p].t, got, &e) == PDS_OK);
        o->portable = 0;
        int same = memcmp(ref, got, sizeof(int64_t) * (size_t)n) == 0;
        if (!same) fprintf(stderr, "%s: path %d differs\n", what, p);
        CHECK(same);
    }
    for (int mode = -1; mode < 3; ++mode) {
        order_mode om = {mode};
        o->parallel_for = mode < 0 ? NULL : odd_for;
        o->parallel_user = &om;
        for (int64_t tail = 0; tail <= 5; tail += 5) {
            const pdsi_testing rounds = {.tail = tail, .no_serial = 1};
            CHECK(pdsi_eliminate_testing(x, m, d, n, o, &rounds, got, &e) == PDS_OK);
            int same = memcmp(ref, got, sizeof(int64_t) * (size_t)n) == 0;
            if (!same) fprintf(stderr, "%s: mode %d tail %lld differs\n", what, mode, (long long)tail);
            CHECK(same);
        }
        CHECK(pds_eliminate(x, m, d, n, o, got, &e) == PDS_OK);
        CHECK(memcmp(ref, got, sizeof(int64_t) * (size_t)n) == 0);
        /* the serial pair pass in parts, on levels of any size */
        const pdsi_testing parts = {.parts = 1};
        CHECK(pdsi_eliminate_testing(x, m, d, n, o, &parts, got, &e) == PDS_OK);
        int same = memcmp(ref, got, sizeof(int64_t) * (size_t)n) == 0;
        if (!same) fprintf(stderr, "%s: mode %d in parts differs\n", what, mode);
        CHECK(same);
    }
    o->parallel_for = NULL;
    free(ref);
    free(got);
}

static void test_random(int d, int periodic, int limiting, int progressive, int64_t m) {
    double *x = malloc(sizeof(double) * (size_t)(m * d));
    for (int64_t i = 0; i < m * d; ++i) x[i] = urand();
    double bounds[8];
    for (int k = 0; k < d; ++k) bounds[k] = 0.0, bounds[d + k] = 1.0;
    pds_options o;
    pds_options_init(&o);
    o.bounds = bounds;
    o.periodic = periodic;
    o.weight_limiting = limiting;
    o.progressive = progressive;
    char what[96];
    snprintf(what, sizeof what, "random d=%d periodic=%d limiting=%d progressive=%d", d, periodic,
             limiting, progressive);
    compare(what, x, m, d, m / 8, &o);
    free(x);
}

/* side x side points of the unit square's lattice (i % side, i / side) / side,
 * row-major; the caller frees them */
static double *unit_lattice(int64_t side) {
    double *x = malloc(sizeof(double) * (size_t)(2 * side * side));
    for (int64_t i = 0; i < side * side; ++i) x[2 * i] = (double)(i % side) / side, x[2 * i + 1] = (double)(i / side) / side;
    return x;
}

/* lattice points (all weights tie: the input index decides), duplicates and
 * clusters */
static void test_ties(void) {
    int64_t side = 60, m = side * side;
    double *x = unit_lattice(side);
    double bounds[4] = {0, 0, 1, 1};
    pds_options o;
    pds_options_init(&o);
    o.bounds = bounds;
    o.periodic = 1;
    compare("lattice periodic", x, m, 2, m / 7, &o);
    o.progressive = 1;
    compare("lattice periodic progressive", x, m, 2, m / 7, &o);
    o.periodic = 0;
    o.progressive = 0;
    compare("lattice", x, m, 2, m / 5, &o);
    /* every point twice, plus a dense cluster */
    for (int64_t i = 0; i < m / 2; ++i) x[2 * (m / 2 + i)] = x[2 * i], x[2 * (m / 2 + i) + 1] = x[2 * i + 1];
    for (int64_t i = 0; i < 300; ++i) x[2 * i] = 0.5 + 0.01 * urand(), x[2 * i + 1] = 0.5 + 0.01 * urand();
    o.periodic = 1;
    compare("duplicates and a cluster", x, m, 2, m / 9, &o);
    o.weight_limiting = 0;
    compare("duplicates, no weight limiting", x, m, 2, m / 9, &o);
    /* the lattice turned by an angle: no coordinate repeats, but the
     * weights tie up to rounding (the coarse run gives up at its first
     * removal and the level runs again on exact weights) */
    double c = cos(0.3), sn = sin(0.3);
    for (int64_t i = 0; i < m; ++i) {
        double u = (double)(i % side) / side, v = (double)(i / side) / side;
        x[2 * i] = c * u - sn * v, x[2 * i + 1] = sn * u + c * v;
    }
    o.periodic = 0;
    o.weight_limiting = 1;
    compare("turned lattice", x, m, 2, m / 6, &o);
    free(x);
}

/* many identical points: d_max is 0, nobody has neighbours, and the index
 * decides (this must not scan all points for each) */
static void test_identical(void) {
    int64_t m = 200000, n = 1000;
    double *x = malloc(sizeof(double) * (size_t)(2 * m));
    for (int64_t i = 0; i < 2 * m; ++i) x[i] = 0.25;
    int64_t *out = malloc(sizeof(int64_t) * (size_t)n);
    pds_options o;
    pds_options_init(&o);
    CHECK(pds_eliminate(x, m, 2, n, &o, out, NULL) == PDS_OK);
    /* every weight is 0: the smaller index goes first, the last n stay */
    for (int64_t i = 0; i < n; ++i) CHECK(out[i] == m - n + i);
    free(x);
    free(out);
}

/* without stored neighbour lists (max_memory leaves no room for them) the
 * grid is scanned instead: the same indices */
static void test_without_lists(void) {
    int64_t m = 20000, n = 2500;
    double *x = malloc(sizeof(double) * (size_t)(2 * m));
    for (int64_t i = 0; i < 2 * m; ++i) x[i] = urand();
    double bounds[4] = {0, 0, 1, 1};
    pds_options o;
    pds_options_init(&o);
    o.bounds = bounds;
    o.periodic = 1;
    o.progressive = 1;
    int64_t *a = malloc(sizeof(int64_t) * (size_t)n), *b = malloc(sizeof(int64_t) * (size_t)n);
    CHECK(pds_eliminate(x, m, 2, n, &o, a, NULL) == PDS_OK);
    compare("progressive, lists stored", x, m, 2, n, &o);
    o.max_memory = pds_workspace_bytes(m, 2, n, &o) + 1;
    CHECK(pds_eliminate(x, m, 2, n, &o, b, NULL) == PDS_OK);
    CHECK(memcmp(a, b, sizeof(int64_t) * (size_t)n) == 0);
    compare("progressive, no lists", x, m, 2, n, &o);
    free(x);
    free(a);
    free(b);
}

/* so3 and sphere inputs: Gaussian rows (uniform rotations / directions) */
static void test_metric(pds_metric metric, int d, int64_t m, int64_t n) {
    double *x = malloc(sizeof(double) * (size_t)(m * d));
    for (int64_t i = 0; i + 1 < m * d; i += 2) {
        double u = 1.0 - urand(), v = urand(), r = sqrt(-2.0 * log(u));
        x[i] = r * cos(6.283185307179586 * v), x[i + 1] = r * sin(6.283185307179586 * v);
    }
    if ((m * d) % 2) x[m * d - 1] = urand() - 0.5;
    pds_options o;
    pds_options_init(&o);
    o.metric = metric;
    compare(metric == PDS_METRIC_SO3 ? "so3" : "sphere", x, m, d, n, &o);
    o.progressive = 1;
    compare(metric == PDS_METRIC_SO3 ? "so3 progressive" : "sphere progressive", x, m, d, n, &o);
    free(x);
}

/* Rotations as a pose data set has them: 70% within ~15 degrees of four
 * views, 30% uniform. With the uniform domain's radius every point of a
 * view's cluster neighbours every other, and the points near its middle
 * weigh nearly the same: the coarse run's buckets crowd and are refined
 * (pdsi_coarse_run), which must not change the removals. */
static void test_clustered_so3(int64_t m, int64_t n) {
    double *x = malloc(sizeof(double) * (size_t)(m * 4));
    double view[4][4];
    for (int v = 0; v < 4; ++v)
        for (int i = 0; i < 4; ++i) view[v][i] = urand() - 0.5;
    for (int64_t k = 0; k < m; ++k) {
        double *q = x + k * 4;
        int v = (int)(k % 10);
        for (int i = 0; i < 4; ++i)
            q[i] = v < 7 ? view[v % 4][i] + 0.06 * (urand() - 0.5) : urand() - 0.5;
    }
    pds_options o;
    pds_options_init(&o);
    o.metric = PDS_METRIC_SO3;
    compare("clustered so3", x, m, 4, n, &o);
    free(x);
}

/* The tournament tree (pds_tourney.c) against a linear scan: after random key
 * changes (lowered keys, removals, many ties) the top is the largest key,
 * the smallest leaf among equal ones. */
static void test_tourney(void) {
    for (int64_t n = 1; n <= 300; n += 37) {
        pdsi_tourney t;
        CHECK(pdsi_tourney_init(&t, n, NULL));
        uint64_t *ref = malloc(sizeof(uint64_t) * (size_t)n);
        for (int64_t i = 0; i < n; ++i) t.key[i] = ref[i] = 1 + (uint64_t)(urand() * 8); /* ties */
        pdsi_tourney_build(&t);
        for (int step = 0; step < 2000; ++step) {
            int64_t best = 0;
            for (int64_t i = 1; i < n; ++i)
                if (ref[i] > ref[best]) best = i;
            if (ref[best] == 0) break; /* all removed */
            CHECK(pdsi_tourney_top(&t) == best);
            int32_t leaf = (int32_t)(urand() * n);
            uint64_t key = step % 5 == 0 ? 0 : (uint64_t)(urand() * (double)(ref[leaf] + 1));
            if (key > ref[leaf]) key = ref[leaf];
            ref[leaf] = key;
            pdsi_tourney_set(&t, leaf, key);
        }
        free(ref);
        pdsi_tourney_free(&t, NULL);
    }
    /* keys are the bits of doubles >= 0 plus one: ordered as the values */
    CHECK(pdsi_tourney_key(0.0) < pdsi_tourney_key(1e-300));
    CHECK(pdsi_tourney_key(1e-300) < pdsi_tourney_key(0.5));
    CHECK(pdsi_tourney_key(0.5) < pdsi_tourney_key(0.5000000000000001));
    CHECK(pdsi_tourney_key(1e300) < pdsi_tourney_key(INFINITY));
    CHECK(pdsi_tourney_key(0.0) > 0);
}

/* The bucket queue (pds_buckets.c) against a linear scan: weights that
 * fall (by one contribution, or far, to 0, or spread over many octaves),
 * many ties broken by tie[], points taken out; each pop is the largest
 * current weight, the smallest tie among equal ones. And a queue of equal
 * weights gives up once past its budget, leaving its points in it. */
static void test_buckets(void) {
    for (int64_t n = 1; n <= 3000; n = n * 3 + 7) {
        pdsi_weight *w = malloc(sizeof(pdsi_weight) * (size_t)n);
        int32_t *tie = malloc(sizeof(int32_t) * (size_t)n);
        uint64_t *key = malloc(sizeof(uint64_t) * (size_t)n);
        uint8_t *out = calloc((size_t)n, 1);
        for (int64_t i = 0; i < n; ++i) {
            /* coarse values (ties), some tiny, some of zero weight */
            double v = i % 11 == 0 ? 0.0 : ldexp(1.0 + (double)(int)(urand() * 4), (int)(urand() * 60));
            w[i] = pdsi_fixed(v);
            tie[i] = (int32_t)((i * 7919) % n); /* a permutation: ties not by row */
            key[i] = i % 13 == 5 ? 0 : pdsi_tourney_key(pdsi_w_round(w[i])); /* some left out */
            out[i] = key[i] == 0;
        }
        pdsi_buckets b;
        CHECK(pdsi_buckets_init(&b, n, 1, NULL));
        pdsi_buckets_build(&b, key, n, INT64_MAX);
        for (;;) {
            int64_t best = -1;
            uint64_t bk = 0;
            for (int64_t i = 0; i < n; ++i) {
                if (out[i]) continue;
                uint64_t k = pdsi_tourney_key(pdsi_w_round(w[i]));
                if (best < 0 || k > bk || (k == bk && tie[i] < tie[best])) best = i, bk = k;
            }
            uint64_t got_key = 0;
            int32_t got = pdsi_buckets_pop(&b, w, tie, &got_key);
            if (best < 0) {
                CHECK(got == PDSI_BUCKETS_EMPTY);
                break;
            }
            CHECK(got == best);
            CHECK(got_key == bk);
            if (got != best) break;
            out[got] = 1;
            /* lower a few others: slightly, a lot, or to nothing */
            for (int r = 0; r < 3; ++r) {
                int64_t i = (int64_t)(urand() * n);
                pdsi_weight cut = pdsi_fixed(ldexp(urand(), (int)(urand() * 62)));
                if (r == 2) cut = w[i];
                if (cut.hi > w[i].hi || (cut.hi == w[i].hi && cut.lo > w[i].lo)) cut = w[i];
                pdsi_w_sub(&w[i], cut);
            }
        }
        pdsi_buckets_free(&b, NULL);
        /* equal weights share a bucket: the pops scan it all and give up
         * past the budget, with every point still in the queue */
        for (int64_t i = 0; i < n; ++i) w[i] = pdsi_fixed(3.0), key[i] = pdsi_tourney_key(3.0);
        CHECK(pdsi_buckets_init(&b, n, 1, NULL));
        pdsi_buckets_build(&b, key, n, 2 * n);
        int64_t pops = 0;
        int32_t got;
        uint64_t got_key;
        while ((got = pdsi_buckets_pop(&b, w, tie, &got_key)) >= 0) {
            CHECK(tie[got] == pops); /* all equal: by tie */
            ++pops;
        }
        CHECK(got == (n > 2 ? PDSI_BUCKETS_CROWDED : PDSI_BUCKETS_EMPTY));
        CHECK(pops <= 3);
        pdsi_buckets_free(&b, NULL);
        free(w);
        free(tie);
        free(key);
        free(out);
    }
}

/* The coarse run's queue (pdsi_buckets_pop_coarse): each point has a
 * coarse sum A, a bound a[i] = A + deg, and an exact weight E between them; the
 * pops must come in the order of E (equal: the smaller tie), the exact
 * weights asked for only for points in doubt. */
typedef struct exact_table {
    const double *e;
    int64_t calls, allowed;
} exact_table;

static double table_exact(void *task, int32_t k) {
    exact_table *T = task;
    if (T->calls >= T->allowed) return NAN;
    T->calls++;
    return T->e[k];
}

static void test_buckets_coarse(void) {
    int64_t asked = 0;
    for (int64_t n = 1; n <= 3000; n = n * 3 + 7) {
        uint64_t *a = malloc(sizeof(uint64_t) * (size_t)n);
        int64_t *start = malloc(sizeof(int64_t) * (size_t)(n + 1));
        double *e = malloc(sizeof(double) * (size_t)n);
        int32_t *tie = malloc(sizeof(int32_t) * (size_t)n);
        uint64_t *key = malloc(sizeof(uint64_t) * (size_t)n);
        uint8_t *out = calloc((size_t)n, 1);
        start[0] = 0;
        for (int64_t i = 0; i < n; ++i) {
            int64_t deg = (int64_t)(urand() * 7);
            start[i + 1] = start[i] + deg;
            /* close coarse sums (doubts) at a few scales, some zero */
            a[i] = i % 11 == 0 ? 0 : ((uint64_t)(urand() * 40) << (int)(urand() * 3) * 20);
            e[i] = (double)a[i] + (double)(int64_t)(urand() * (double)(deg + 1));
            tie[i] = (int32_t)((i * 7919) % n);
            key[i] = pdsi_tourney_key(pdsi_coarse_round(a[i] + (uint64_t)deg));
            a[i] += (uint64_t)deg; /* the queue reads the bounds */
        }
        pdsi_buckets b;
        CHECK(pdsi_buckets_init(&b, n, 3, NULL));
        pdsi_buckets_build(&b, key, n, INT64_MAX);
        exact_table T = {e, 0, INT64_MAX};
        for (;;) {
            int64_t best = -1;
            for (int64_t i = 0; i < n; ++i)
                if (!out[i] && (best < 0 || e[i] > e[best] || (e[i] == e[best] && tie[i] < tie[best])))
                    best = i;
            int32_t got = pdsi_buckets_pop_coarse(&b, a, start, tie, table_exact, &T);
            if (got == PDSI_BUCKETS_GAVE_UP) break; /* more than it compares in doubt */
            if (best < 0) {
                CHECK(got == PDSI_BUCKETS_EMPTY);
                break;
            }
            CHECK(got == best);
            if (got != best) break;
            out[got] = 1;
            /* lower a few others' coarse sums, a new exact weight in range */
            for (int r = 0; r < 3; ++r) {
                int64_t i = (int64_t)(urand() * n), deg = start[i + 1] - start[i];
                uint64_t sum = a[i] - (uint64_t)deg;
                sum -= (uint64_t)(urand() * (double)sum);
                e[i] = (double)sum + (double)(int64_t)(urand() * (double)(deg + 1));
                a[i] = sum + (uint64_t)deg;
            }
        }
        asked += T.calls;
        pdsi_buckets_free(&b, NULL);
        /* many equal coarse sums with room above them: too many in doubt */
        if (n > 40) {
            for (int64_t i = 0; i < n; ++i) {
                a[i] = 1002, start[i + 1] = start[i] + 2, e[i] = 1001.0;
                key[i] = pdsi_tourney_key(1002.0);
            }
            CHECK(pdsi_buckets_init(&b, n, 3, NULL));
            pdsi_buckets_build(&b, key, n, INT64_MAX);
            CHECK(pdsi_buckets_pop_coarse(&b, a, start, tie, table_exact, &T) == PDSI_BUCKETS_GAVE_UP);
            pdsi_buckets_free(&b, NULL);
        }
        /* nearly equal bounds crowd a bucket: past the budget the pop says
         * so (the queue intact); refined (64 times finer: a point a bucket
         * here) and refilled with the points left, the pops go on in the
         * same order (pdsi_coarse_run does this) */
        if (n > 100) {
            for (int64_t i = 0; i < n; ++i) {
                a[i] = ((uint64_t)1 << 40) + ((uint64_t)((i * 7919) % n) << 30);
                start[i + 1] = start[i], e[i] = (double)a[i], out[i] = 0;
            }
            CHECK(pdsi_buckets_init(&b, n, 3, NULL));
            int64_t nb = b.nb;
            for (int64_t i = 0; i < n; ++i) key[i] = pdsi_tourney_key(pdsi_coarse_round(a[i]));
            pdsi_buckets_build(&b, key, n, n / 4);
            int refined = 0;
            uint64_t last = UINT64_MAX;
            int64_t pops = 0;
            for (;;) {
                int32_t got = pdsi_buckets_pop_coarse(&b, a, start, tie, table_exact, &T);
                if (got == PDSI_BUCKETS_CROWDED) {
                    refined++;
                    int ok = pdsi_buckets_refine(&b, n, NULL);
                    CHECK(ok && b.nb == nb << 6 * refined);
                    if (!ok) break;
                    for (int64_t i = 0; i < n; ++i)
                        key[i] = out[i] ? 0 : pdsi_tourney_key(pdsi_coarse_round(a[i]));
                    pdsi_buckets_build(&b, key, n, 8 * n);
                    continue;
                }
                if (got == PDSI_BUCKETS_EMPTY) break;
                CHECK(got >= 0 && !out[got] && a[got] < last);
                if (got < 0 || out[got]) break;
                out[got] = 1, last = a[got], pops++;
            }
            CHECK(refined == 1);
            CHECK(pops == n);
            /* past the finest buckets allowed: refused, the queue left as
             * it was (pdsi_coarse_run then stretches the budget once) */
            int more = 0;
            while (pdsi_buckets_refine(&b, n, NULL)) more++;
            CHECK(more <= 2 && b.head != NULL && b.nb <= ((int64_t)1 << 20));
            for (int64_t i = 0; i < n; ++i) out[i] = 0;
            for (int64_t i = 0; i < n; ++i) key[i] = pdsi_tourney_key(pdsi_coarse_round(a[i]));
            pdsi_buckets_build(&b, key, n, INT64_MAX);
            last = UINT64_MAX, pops = 0;
            for (int32_t got; (got = pdsi_buckets_pop_coarse(&b, a, start, tie, table_exact, &T)) >= 0;) {
                CHECK(!out[got] && a[got] < last);
                out[got] = 1, last = a[got], pops++;
            }
            CHECK(pops == n);
            pdsi_buckets_free(&b, NULL);
            for (int64_t i = 0; i < n; ++i) out[i] = 0;
        }
        /* two in doubt, the exact weights refused: gives up */
        if (n > 2) {
            for (int64_t i = 0; i < n; ++i) {
                a[i] = (uint64_t)i + 1, start[i + 1] = start[i] + 1, e[i] = (double)i;
                key[i] = pdsi_tourney_key(pdsi_coarse_round(a[i]));
            }
            CHECK(pdsi_buckets_init(&b, n, 3, NULL));
            pdsi_buckets_build(&b, key, n, INT64_MAX);
            exact_table none = {e, 0, 0};
            CHECK(pdsi_buckets_pop_coarse(&b, a, start, tie, table_exact, &none) == PDSI_BUCKETS_GAVE_UP);
            pdsi_buckets_free(&b, NULL);
        }
        free(a);
        free(start);
        free(e);
        free(tie);
        free(key);
        free(out);
    }
    CHECK(asked > 100); /* the doubts were met */
}

/* pdsi_asin (the so3 and sphere angle, from +, -, *, / and sqrt) is
 * within one ulp of libm's asin on [0, 1], both ends exact. */
static void test_asin(void) {
    double worst = 0.0;
    for (int i = 0; i <= 400000; ++i) {
        double x = i < 200000 ? i / 200000.0 : ldexp(1.0 + urand(), -1 - i % 40);
        double a = pdsi_asin(x), b = asin(x);
        double ulp = nextafter(b, INFINITY) - b;
        double u = fabs(a - b) / ulp;
        if (u > worst) worst = u;
    }
    CHECK(worst <= 1.0);
    CHECK(pdsi_asin(0.0) == 0.0);
    CHECK(pdsi_asin(1.0) == asin(1.0));
    CHECK(pdsi_asin(0.5) == asin(0.5) || fabs(pdsi_asin(0.5) - asin(0.5)) <= 2.3e-16);
}

/* A workspace kept across calls of different sizes, metrics and options
 * (its slots grow, and are reused holding an earlier call's data) gives the
 * same indices as no workspace, also after a call that failed. */
static void test_workspace(void) {
    pds_workspace *ws = pds_workspace_new();
    CHECK(ws != NULL);
    CHECK(pds_workspace_bytes_held(ws) == 0);
    int64_t sizes[] = {3000, 700, 5000, 1, 2, 4000, 700};
    for (int r = 0; r < 7; ++r) {
        int64_t m = sizes[r], n = m > 8 ? m / 8 : 1;
        pds_options o;
        pds_options_init(&o);
        o.metric = r == 3 || r == 5 ? PDS_METRIC_SO3 : PDS_METRIC_EUCLIDEAN;
        int d = o.metric == PDS_METRIC_SO3 ? 4 : 1 + r % 4;
        double *x = malloc(sizeof(double) * (size_t)(m * d));
        for (int64_t i = 0; i < m * d; ++i) x[i] = urand() - 0.5;
        o.progressive = r % 2;
        int64_t *a = malloc(sizeof(int64_t) * (size_t)n), *b = malloc(sizeof(int64_t) * (size_t)n);
        pds_error e;
        CHECK(pds_eliminate(x, m, d, n, &o, a, &e) == PDS_OK);
        o.workspace = ws;
        CHECK(pds_eliminate(x, m, d, n, &o, b, &e) == PDS_OK);
        if (memcmp(a, b, sizeof(int64_t) * (size_t)n) != 0)
            fprintf(stderr, "workspace: call %d (m=%lld d=%d) differs\n", r, (long long)m, d);
        CHECK(memcmp(a, b, sizeof(int64_t) * (size_t)n) == 0);
        if (m > 1000) CHECK(pds_workspace_bytes_held(ws) > 0);
        /* the same problem again: nothing more is allocated */
        size_t held = pds_workspace_bytes_held(ws);
        CHECK(pds_eliminate(x, m, d, n, &o, b, &e) == PDS_OK);
        CHECK(memcmp(a, b, sizeof(int64_t) * (size_t)n) == 0);
        CHECK(pds_workspace_bytes_held(ws) == held);
        /* a failing call (NaN) leaves the workspace usable */
        double keep = x[0];
        x[0] = NAN;
        CHECK(pds_eliminate(x, m, d, n, &o, b, &e) == PDS_ERR_NONFINITE);
        x[0] = keep;
        free(x);
        free(a);
        free(b);
    }
    pds_workspace_free(ws);
    pds_workspace_free(NULL); /* allowed, like free(NULL) */
}

/* Kept points (opt.keep) on every path: never removed, never a blocker in a
 * round; random, packed close together (a cluster of kept points), on a
 * lattice (ties), and with repeats in the list; progressive too. */
static void test_keep(void) {
    int64_t m = 6000;
    double *x = malloc(sizeof(double) * (size_t)(2 * m));
    int64_t *keep = malloc(sizeof(int64_t) * (size_t)m), *got = malloc(sizeof(int64_t) * (size_t)m);
    for (int64_t i = 0; i < 2 * m; ++i) x[i] = urand();
    double bounds[4] = {0, 0, 1, 1};
    pds_options o;
    pds_options_init(&o);
    o.bounds = bounds;
    /* every 13th point, twice each */
    int64_t k = 0;
    for (int64_t i = 0; i < m; i += 13) keep[k++] = i, keep[k++] = i;
    o.keep = keep;
    o.keep_count = k;
    compare("keep random", x, m, 2, m / 8, &o);
    pds_error e;
    CHECK(pds_eliminate(x, m, 2, m / 8, &o, got, &e) == PDS_OK);
    int64_t found = 0;
    for (int64_t t = 0; t < m / 8; ++t) found += got[t] % 13 == 0;
    CHECK(found == (m + 12) / 13);
    o.progressive = 1;
    compare("keep random progressive", x, m, 2, m / 8, &o);
    o.periodic = 1;
    compare("keep random periodic progressive", x, m, 2, m / 5, &o);
    o.progressive = 0;
    o.periodic = 0;
    /* a tight cluster of 200 kept points */
    for (int64_t i = 0; i < 200; ++i) {
        x[2 * i] = 0.3 + 0.002 * urand(), x[2 * i + 1] = 0.6 + 0.002 * urand();
        keep[i] = i;
    }
    o.keep_count = 200;
    compare("keep cluster", x, m, 2, m / 10, &o);
    o.weight_limiting = 0;
    compare("keep cluster, no weight limiting", x, m, 2, m / 10, &o);
    o.weight_limiting = 1;
    /* a lattice: every weight ties, kept points spread and in a block */
    int64_t side = 70, ml = side * side;
    double *y = unit_lattice(side);
    k = 0;
    for (int64_t i = 0; i < ml; i += 37) keep[k++] = i;
    for (int64_t i = 1000; i < 1100; ++i) keep[k++] = i;
    o.keep_count = k;
    o.periodic = 1;
    compare("keep lattice periodic", y, ml, 2, ml / 6, &o);
    o.progressive = 1;
    compare("keep lattice periodic progressive", y, ml, 2, ml / 6, &o);
    /* n == the kept count (1036 and 1073 are listed twice): exactly the
     * kept points */
    o.progressive = 0;
    compare("keep all of n", y, ml, 2, k - 2, &o);
    CHECK(pds_eliminate(y, ml, 2, k - 2, &o, got, &e) == PDS_OK);
    CHECK(got[0] == 0 && got[1] == 37 && got[k - 3] == 4884);
    /* bad keep: out of range, more distinct points than n */
    keep[0] = ml;
    CHECK(pds_eliminate(y, ml, 2, ml / 6, &o, got, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "keep[0]") != NULL);
    keep[0] = 0;
    CHECK(pds_eliminate(y, ml, 2, 100, &o, got, &e) == PDS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "n=") != NULL);
    free(x);
    free(y);
    free(keep);
    free(got);
}

int main(void) {
    test_tourney();
    test_buckets();
    test_buckets_coarse();
    test_asin();
    test_workspace();
    test_metric(PDS_METRIC_SO3, 4, 5000, 150);
    test_metric(PDS_METRIC_SPHERE, 3, 3000, 300);
    /* few points: long chords (pdsi_asin's other branches, lane by lane in
     * the vector code) */
    test_metric(PDS_METRIC_SO3, 4, 80, 3);
    test_metric(PDS_METRIC_SPHERE, 3, 80, 2);
    test_clustered_so3(4000, 100);
    test_identical();
    test_without_lists();
    for (int d = 1; d <= 3; ++d)
        for (int periodic = 0; periodic <= 1; ++periodic)
            for (int limiting = 0; limiting <= 1; ++limiting)
                test_random(d, periodic, limiting, 0, 4000);
    test_random(2, 1, 1, 1, 8000);
    test_random(3, 0, 1, 1, 8000);
    test_random(2, 1, 1, 0, 70000); /* over 65536: the coarse run's 4-byte ids */
    test_random(4, 1, 1, 0, 3000);
    test_ties();
    test_keep();
    if (failures) {
        printf("%d failed\n", failures);
        return 1;
    }
    printf("all rounds tests passed\n");
    return 0;
}
