/* bench_pools.c - times pds_eliminate the way the samplers call it: on a new
 * random pool each call (no torch).
 *
 *   bench_pools [calls] [pool] [n] [N]
 *
 * N uniform 2-D points (default 1,000,000); each call draws `pool` distinct
 * row indices (default 2048), sorts them, gathers the rows and eliminates
 * them to n (default 256) on one thread with one workspace. bench_core.c
 * repeats one problem, whose branches the CPU learns; here every call is new.
 * Prints the mean time of the elimination alone and a checksum.
 *
 *   gcc -O3 -fno-math-errno -ffp-contract=off -Icsrc csrc/pds_*.c \
 *       benchmarks/c/bench_pools.c -o bench_pools -lm -lpthread */
#define _POSIX_C_SOURCE 200809L
#include "pds.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint64_t state = 88172645463325252ull;
static uint64_t next_random(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int calls = argc > 1 ? atoi(argv[1]) : 5000;
    int64_t pool = argc > 2 ? atoll(argv[2]) : 2048;
    int64_t n = argc > 3 ? atoll(argv[3]) : 256;
    int64_t total = argc > 4 ? atoll(argv[4]) : 1000000;
    if (calls < 1 || pool < 2 || n < 1 || n > pool || total < pool) {
        fprintf(stderr, "usage: bench_pools [calls] [pool] [n] [N], 1 <= n <= pool <= N\n");
        return 2;
    }
    double *data = malloc(sizeof(double) * (size_t)(2 * total));
    int64_t *rows = malloc(sizeof(int64_t) * (size_t)pool);
    uint8_t *taken = calloc((size_t)total, 1);
    double *x = malloc(sizeof(double) * (size_t)(2 * pool));
    int64_t *out = malloc(sizeof(int64_t) * (size_t)n);
    pds_workspace *ws = pds_workspace_new();
    if (!data || !rows || !taken || !x || !out || !ws) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int64_t i = 0; i < 2 * total; ++i)
        data[i] = (double)(next_random() >> 11) * (1.0 / 9007199254740992.0);
    pds_options o;
    pds_options_init(&o);
    o.workspace = ws;
    double spent = 0.0;
    uint64_t sum = 0;
    for (int c = 0; c < calls; ++c) {
        for (int64_t i = 0; i < pool;) {
            int64_t r = (int64_t)(next_random() % (uint64_t)total);
            if (!taken[r]) taken[r] = 1, rows[i++] = r;
        }
        qsort(rows, (size_t)pool, sizeof(int64_t), by_value);
        for (int64_t i = 0; i < pool; ++i) {
            taken[rows[i]] = 0;
            x[2 * i] = data[2 * rows[i]];
            x[2 * i + 1] = data[2 * rows[i] + 1];
        }
        pds_error e;
        double t = now();
        pds_status st = pds_eliminate(x, pool, 2, n, &o, out, &e);
        spent += now() - t;
        if (st != PDS_OK) {
            fprintf(stderr, "pds_eliminate: %s\n", e.message);
            return 1;
        }
        for (int64_t i = 0; i < n; ++i) sum = sum * 1000003u + (uint64_t)out[i];
    }
    printf("%d calls of %lld -> %lld (new pools of %lld points): %.1f us a call, checksum %016llx\n",
           calls, (long long)pool, (long long)n, (long long)total, 1e6 * spent / calls,
           (unsigned long long)sum);
    pds_workspace_free(ws);
    free(data);
    free(rows);
    free(taken);
    free(x);
    free(out);
    return 0;
}
