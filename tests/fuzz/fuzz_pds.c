/* fuzz_pds.c - libFuzzer target for the C core's public entry points.
 *
 * The input bytes are decoded into a whole call of pds_eliminate: sizes
 * (M <= 2000, d in 1..8, now and then out of range), n (in range and not),
 * every field of pds_options (alpha, beta, gamma, radius and volume from a
 * table of special values -- 0, -0, tiny, denormal, huge, NaN, Inf -- or raw
 * bits; dim; bounds, including degenerate and inverted ones; periodic,
 * progressive, weight limiting; metric values supported or not, with
 * radius="auto" (auto_radius) now and then; a parallel-for
 * that runs the chunks in reverse; max_pair_work and max_memory small enough
 * to trip; the cancel flag) and coordinates in one of several shapes (raw
 * bits, uniform with special values and duplicates mixed in, an integer
 * lattice full of ties, a line, all equal).
 *
 * The contract checked on every input:
 *   PDS_OK  -> exactly n distinct indices in [0, M), ascending unless
 *              progressive, and then a permutation of the ascending result of
 *              the same call without progressive; the same result with a
 *              parallel-for as without one, and from the parallel path (rounds,
 *              per-point weight pass) as from the serial one that small
 *              levels take (each pair once, tournament tree), with a
 *              workspace kept across the calls as without (determinism);
 *   else    -> a known error code, err.code equal to it, a non-empty message.
 * Any violation aborts (a crash for libFuzzer); ASan and UBSan catch the rest.
 *
 * Build and run: tests/fuzz/run.sh [seconds]. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "pds.h"
#include "pds_testing.h" /* pdsi_eliminate_testing: the parallel path on small inputs */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ the reader -- */

/* Reads bytes of the input; when they run out, continues with a PRNG seeded
 * from the whole input so large M still gets varied (and reproducible) data. */
typedef struct reader {
    const uint8_t *p;
    size_t n, i;
    uint64_t s;
} reader;

static uint64_t next_prng(reader *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static uint8_t u8(reader *r) {
    if (r->i < r->n) return r->p[r->i++];
    return (uint8_t)(next_prng(r) >> 56);
}

static uint32_t u16(reader *r) {
    uint32_t a = u8(r);
    return (a << 8) | u8(r);
}

static uint64_t u64(reader *r) {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | u8(r);
    return v;
}

static double raw_double(reader *r) {
    uint64_t b = u64(r);
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static double unit(reader *r) { return (double)(next_prng(r) >> 11) * (1.0 / 9007199254740992.0); }

static const double specials[] = {
    0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 8.0, 0.65, 1.5, 3.0, 64.0, 65.0, 0.3, 100.0,
    1e-30, 1e30, 1e-300, 1e300, 1e-8, 1e-15, 1e6, 1e-6, 1e15, 9007199254740992.0,
    DBL_MAX, -DBL_MAX, DBL_MIN, 4.9406564584124654e-324 /* smallest denormal */,
    1e-310 /* denormal */, NAN, INFINITY, -INFINITY, 0.01, 0.1, 10.0, 1e-3,
};
#define NSPECIAL ((int)(sizeof specials / sizeof specials[0]))

/* A special value, or (high bit set) raw bits. */
static double pick(reader *r) {
    uint8_t b = u8(r);
    if (b & 0x80) return raw_double(r);
    return specials[b % NSPECIAL];
}

/* ------------------------------------------------------- a parallel-for -- */

/* Runs the chunks in reverse order, in slices of at most grain: a different
 * split from the serial call, which must not change any result. */
static void reverse_parallel_for(void *user, int64_t begin, int64_t end, int64_t grain,
                                 pds_range_fn fn, void *task) {
    int *calls = user;
    if (grain < 1) grain = 1;
    int64_t chunks = (end - begin + grain - 1) / grain;
    for (int64_t c = chunks - 1; c >= 0; --c) {
        int64_t b = begin + c * grain, e = b + grain < end ? b + grain : end;
        fn(task, b, e);
        *calls += 1;
    }
}

/* ----------------------------------------------------------- the checks -- */

#define REQUIRE(cond, ...)                                                   \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "contract violated: %s: ", #cond);               \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            abort();                                                         \
        }                                                                    \
    } while (0)

static void check_error(pds_status st, const pds_error *e) {
    REQUIRE(st >= PDS_ERR_INVALID_ARGUMENT && st <= PDS_ERR_CANCELLED, "status %d", (int)st);
    REQUIRE(e->code == st, "err.code %d, returned %d", (int)e->code, (int)st);
    size_t len = strnlen(e->message, sizeof e->message);
    REQUIRE(len > 0 && len < sizeof e->message, "message length %zu for status %d", len, (int)st);
    REQUIRE(strcmp(pds_status_name(st), "unknown status") != 0, "status %d", (int)st);
}

/* n distinct indices in [0, m); ascending when asked. */
static void check_indices(const int64_t *out, int64_t m, int64_t n, int ascending,
                          uint8_t *seen) {
    memset(seen, 0, (size_t)m);
    for (int64_t i = 0; i < n; ++i) {
        REQUIRE(out[i] >= 0 && out[i] < m, "out[%lld]=%lld, M=%lld", (long long)i,
                (long long)out[i], (long long)m);
        REQUIRE(!seen[out[i]], "out[%lld]=%lld repeated", (long long)i, (long long)out[i]);
        seen[out[i]] = 1;
        if (ascending && i > 0)
            REQUIRE(out[i - 1] < out[i], "not ascending at %lld", (long long)i);
    }
}

/* ------------------------------------------------------------ the input -- */

static void make_points(reader *r, double *x, int64_t m, int d) {
    int mode = u8(r) % 6;
    double scale = pick(r), offset = pick(r);
    if (mode == 1 || mode == 2) {
        /* keep most inputs finite so the algorithm itself gets exercised */
        if (!isfinite(scale) || u8(r) < 128) scale = 1.0;
        if (!isfinite(offset) || u8(r) < 160) offset = 0.0;
    }
    int specials_per_256 = u8(r) % 8, dup_per_256 = u8(r) % 128;
    int lattice = 1 + u8(r) % 16;
    double dir[8], base[8];
    for (int k = 0; k < d; ++k) dir[k] = (double)((int)(u8(r) % 5) - 2), base[k] = unit(r);
    for (int64_t i = 0; i < m; ++i) {
        double *p = x + i * (int64_t)d;
        switch (mode) {
        case 0: /* raw bits */
            for (int k = 0; k < d; ++k) p[k] = raw_double(r);
            break;
        case 1: /* uniform, with specials and duplicates mixed in */
            for (int k = 0; k < d; ++k) p[k] = offset + scale * unit(r);
            if (i > 0 && (int)u8(r) < dup_per_256)
                memcpy(p, x + (int64_t)(next_prng(r) % (uint64_t)i) * d, sizeof(double) * (size_t)d);
            if ((int)u8(r) < specials_per_256) p[u8(r) % d] = pick(r);
            break;
        case 2: /* integer lattice: duplicates and exact weight ties */
            for (int k = 0; k < d; ++k) p[k] = offset + scale * (double)(next_prng(r) % (uint64_t)lattice);
            break;
        case 3: { /* a line */
            double t = unit(r);
            for (int k = 0; k < d; ++k) p[k] = base[k] + t * dir[k];
            break;
        }
        case 4: /* all equal */
            for (int k = 0; k < d; ++k) p[k] = base[k];
            break;
        default: /* each coordinate a special value or raw bits */
            for (int k = 0; k < d; ++k) p[k] = pick(r);
            break;
        }
    }
}

static void make_bounds(reader *r, const double *x, int64_t m, int d, double *bounds) {
    int mode = u8(r) % 6;
    for (int k = 0; k < d; ++k) {
        double lo = x[k], hi = x[k];
        for (int64_t i = 1; i < m; ++i) {
            double v = x[i * (int64_t)d + k];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        switch (mode) {
        case 0: /* the exact bounding box: points on the boundary, maybe lo == hi */
            break;
        case 1: { /* padded bounding box */
            double pad = fabs(pick(r));
            lo -= pad;
            hi += pad;
            break;
        }
        case 2: /* anything */
            lo = pick(r);
            hi = pick(r);
            break;
        case 3: /* the unit box */
            lo = 0.0;
            hi = 1.0;
            break;
        case 4: /* degenerate on some axes */
            if (u8(r) & 1) hi = lo;
            break;
        default: /* inverted on some axes */
            if (u8(r) & 1) {
                double t = lo;
                lo = hi + 1.0;
                hi = t;
            }
            break;
        }
        bounds[k] = lo;
        bounds[d + k] = hi;
    }
}

/* ------------------------------------------------------------- the call -- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size, 0, 0x9E3779B97F4A7C15ull};
    for (size_t i = 0; i < size; ++i) r.s = (r.s ^ data[i]) * 0x100000001B3ull;
    if (!r.s) r.s = 1;

    uint8_t shape = u8(&r);
    int d = 1 + u8(&r) % 8;
    if (shape == 0xFF) d = (int)(u8(&r) % 3) - 1; /* 0 or negative: must be refused */
    int64_t m = (shape & 1) ? 1 + (int64_t)(u8(&r) % 64) : 1 + (int64_t)(u16(&r) % 2000);
    if (shape == 0xFE) m = (int64_t)(u8(&r) % 3) - 1; /* 0 or negative */

    int64_t n;
    switch (u8(&r) % 8) {
    case 0: n = 1; break;
    case 1: n = m; break;
    case 2: n = m - 1; break;
    case 3: n = m / 2; break;
    case 4: n = (int64_t)(u8(&r) % 4) - 2 + (m > 0 ? m : 0) * (u8(&r) & 1); break; /* edges, +-1 */
    case 5: n = (int64_t)u64(&r); break;
    default: n = m > 0 ? 1 + (int64_t)(u16(&r) % (uint32_t)m) : 1; break;
    }

    int64_t alloc_m = m > 0 ? m : 1;
    int alloc_d = d > 0 ? d : 1;
    double *x = malloc(sizeof(double) * (size_t)(alloc_m * alloc_d));
    make_points(&r, x, alloc_m, alloc_d);

    pds_options o;
    pds_options_init(&o);
    uint8_t flags = u8(&r);
    if (flags & 1) o.alpha = pick(&r);
    if (flags & 2) o.beta = pick(&r);
    if (flags & 4) o.gamma = pick(&r);
    if (flags & 8) o.radius = pick(&r);
    if (flags & 16) o.volume = pick(&r);
    if (flags & 32) o.dim = (int)(u8(&r) % 12) - 2;
    o.weight_limiting = !(flags & 64);
    o.progressive = (flags & 128) != 0;

    uint8_t more = u8(&r);
    double *bounds = malloc(sizeof(double) * 2 * (size_t)alloc_d);
    if (more & 1) {
        make_bounds(&r, x, alloc_m, alloc_d, bounds);
        o.bounds = bounds;
    }
    o.periodic = (more & 2) != 0;
    if (more & 4) {
        static const int metrics[] = {0, 1, 2, 3, -1, 255};
        uint8_t mb = u8(&r);
        o.metric = (pds_metric)metrics[mb % 6];
        o.auto_radius = mb >> 7; /* radius="auto" (refused with a radius) */
    }
    if (more & 8) {
        static const double works[] = {1.0, 100.0, 1e4, 1e6, -1.0, NAN};
        o.max_pair_work = works[u8(&r) % 6];
    }
    if (more & 16) o.max_memory = (size_t)u16(&r) * (size_t)(1 + u8(&r) % 64);
    volatile int cancel_flag = (more & 32) ? 1 : 0;
    if (more & 64) o.cancel = &cancel_flag;
    int calls = 0;
    if (more & 128) {
        o.parallel_for = reverse_parallel_for;
        o.parallel_user = &calls;
    }

    const double *px = x;
    if (shape == 0xFD) px = NULL; /* NULL points must be refused */

    int64_t n_alloc = n >= 1 && n <= m ? n : 1;
    int64_t *out = malloc(sizeof(int64_t) * (size_t)n_alloc);
    pds_error e;
    pds_status st;
    if (n >= 1 && n <= m && m > 0) {
        st = pds_eliminate(px, m, d, n, &o, out, &e);
    } else {
        /* an n out of range: the core must refuse it before writing to out */
        st = pds_eliminate(px, m, d, n, &o, out, &e);
        REQUIRE(st != PDS_OK, "n=%lld accepted for M=%lld", (long long)n, (long long)m);
    }
    /* these never crash, whatever the arguments */
    (void)pds_workspace_bytes(m, d, n, &o);
    (void)pds_max_radius(o.dim, o.volume, n);

    if (st != PDS_OK) {
        check_error(st, &e);
        if (px == NULL || d < 1 || m < 1)
            REQUIRE(st == PDS_ERR_INVALID_ARGUMENT, "status %d", (int)st);
    } else {
        REQUIRE(px != NULL && d >= 1 && m >= 1, "accepted d=%d M=%lld", d, (long long)m);
        REQUIRE(o.metric == PDS_METRIC_EUCLIDEAN || o.metric == PDS_METRIC_SO3 ||
                    o.metric == PDS_METRIC_SPHERE,
                "metric %d accepted", (int)o.metric);
        uint8_t *seen = malloc((size_t)m);
        check_indices(out, m, n, !o.progressive, seen);

        if (!o.cancel || !cancel_flag) {
            int64_t *again = malloc(sizeof(int64_t) * (size_t)n);
            pds_options o2 = o;
            /* the same call with the other parallel-for gives the same indices */
            if (o2.parallel_for) {
                o2.parallel_for = NULL;
            } else {
                o2.parallel_for = reverse_parallel_for;
                o2.parallel_user = &calls;
            }
            pds_error e2;
            pds_status st2 = pds_eliminate(px, m, d, n, &o2, again, &e2);
            REQUIRE(st2 == PDS_OK, "status %d with another parallel-for: %s", (int)st2, e2.message);
            REQUIRE(memcmp(again, out, sizeof(int64_t) * (size_t)n) == 0,
                    "the result depends on the parallel-for");
            /* the parallel path (never the serial one) gives the same indices */
            const pdsi_testing rounds = {.no_serial = 1};
            st2 = pdsi_eliminate_testing(px, m, d, n, &o2, &rounds, again, &e2);
            REQUIRE(st2 == PDS_OK, "status %d on the parallel path: %s", (int)st2, e2.message);
            REQUIRE(memcmp(again, out, sizeof(int64_t) * (size_t)n) == 0,
                    "the parallel path differs from the serial one");
            /* and the serial pair pass in two parts (any size; parts need
             * a parallel-for) */
            pds_options o3 = o2;
            o3.parallel_for = reverse_parallel_for;
            o3.parallel_user = &calls;
            const pdsi_testing parts = {.parts = 1};
            st2 = pdsi_eliminate_testing(px, m, d, n, &o3, &parts, again, &e2);
            REQUIRE(st2 == PDS_OK, "status %d in parts: %s", (int)st2, e2.message);
            REQUIRE(memcmp(again, out, sizeof(int64_t) * (size_t)n) == 0,
                    "the pair pass in parts differs");
            /* and the serial path with the tree alone (no bucket queue), on
             * exact weights (no coarse run), and with the coarse run also
             * where it is not used (1-D, lattices) */
            static const struct {
                pdsi_testing t;
                const char *what;
            } serial_runs[] = {{{.tree_only = 1}, "the tree alone"},
                               {{.exact = 1}, "exact weights"},
                               {{.coarse = 1}, "the coarse run forced"}};
            for (size_t v = 0; v < sizeof serial_runs / sizeof serial_runs[0]; ++v) {
                st2 = pdsi_eliminate_testing(px, m, d, n, &o2, &serial_runs[v].t, again, &e2);
                REQUIRE(st2 == PDS_OK, "status %d with %s: %s", (int)st2, serial_runs[v].what,
                        e2.message);
                REQUIRE(memcmp(again, out, sizeof(int64_t) * (size_t)n) == 0,
                        "%s differs from the default run", serial_runs[v].what);
            }
            /* and so does a workspace, twice (the second time it holds the
             * first call's buffers) */
            o2.workspace = pds_workspace_new();
            for (int rep = 0; rep < 2 && o2.workspace; ++rep) {
                st2 = pds_eliminate(px, m, d, n, &o2, again, &e2);
                REQUIRE(st2 == PDS_OK, "status %d with a workspace: %s", (int)st2, e2.message);
                REQUIRE(memcmp(again, out, sizeof(int64_t) * (size_t)n) == 0,
                        "the result depends on the workspace");
            }
            pds_workspace_free(o2.workspace);
            o2.workspace = NULL;
            if (o.progressive) {
                /* progressive: a permutation of the plain call's ascending set */
                o2 = o;
                o2.progressive = 0;
                st2 = pds_eliminate(px, m, d, n, &o2, again, &e2);
                REQUIRE(st2 == PDS_OK, "status %d without progressive: %s", (int)st2, e2.message);
                check_indices(again, m, n, 1, seen);
                for (int64_t i = 0; i < n; ++i)
                    REQUIRE(seen[out[i]], "progressive index %lld not in the plain set",
                            (long long)out[i]);
            }
            free(again);
        }
        free(seen);
    }
    /* a size over max_memory is refused before the points are read (a huge M
       with a tiny buffer: ASan reports any read) */
    if ((more & 16) && m > 0 && d > 0) {
        pds_options o3 = o;
        o3.max_memory = 1024;
        int64_t big = 100000000;
        pds_error e3;
        pds_status st3 = pds_eliminate(x, big, d, 1, &o3, out, &e3);
        REQUIRE(st3 != PDS_OK, "M=%lld accepted with max_memory=1024", (long long)big);
        check_error(st3, &e3);
    }
    free(out);
    free(bounds);
    free(x);
    return 0;
}
