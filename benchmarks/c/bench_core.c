/* bench_core.c - times pds_eliminate directly (no torch), for profiling.
 *
 *   bench_core M n d [threads] [progressive] [reps] [periodic] [metric]
 *
 * Uniform points in [0,1)^d, periodic (unless periodic is 0); with metric
 * so3 or sphere, Gaussian rows instead (uniform rotations / directions; not
 * periodic). With threads > 1 a small parallel-for over a persistent pool
 * of spinning threads (the driver's, not the core's; like torch's OpenMP
 * threads, not a thread created per call) is passed in the options.
 * Prints the best wall time over the repetitions (and in ns a point, with
 * the median beside it: this machine drifts), CPU seconds and a checksum of
 * the indices. */
#define _POSIX_C_SOURCE 200809L
#include "pds.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    pds_range_fn fn;
    void *task;
    int64_t b, e;
} job;

static void *run_job(void *p) {
    job *j = p;
    if (j->e > j->b) j->fn(j->task, j->b, j->e);
    return NULL;
}

/* A persistent pool, as torch's OpenMP threads are: between calls the
 * workers spin on a call counter (libgomp spins too before it sleeps), so
 * a parallel call costs about what it costs in the operator instead of a
 * thread creation. pthread_for splits [begin, end) into `threads`
 * contiguous pieces; the calling thread runs the first. */
typedef struct worker_arg {
    int index;
} worker_arg;
static int pool_threads;
static pthread_t pool_th[64];
static worker_arg pool_arg[64];
static job pool_jobs[64];
static _Atomic long pool_call;
static _Atomic int pool_left, pool_quit;

#if defined(__x86_64__) || defined(__i386__)
#define SPIN() __builtin_ia32_pause()
#else
#define SPIN() ((void)0)
#endif

static void *pool_worker(void *p) {
    int me = ((worker_arg *)p)->index;
    long seen = 0;
    for (;;) {
        long c;
        while ((c = atomic_load_explicit(&pool_call, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&pool_quit, memory_order_relaxed)) return NULL;
            SPIN();
        }
        seen = c;
        run_job(&pool_jobs[me]);
        atomic_fetch_sub_explicit(&pool_left, 1, memory_order_acq_rel);
    }
}

static void pool_start(int t) {
    pool_threads = t;
    for (int k = 1; k < t; ++k) {
        pool_arg[k].index = k;
        pthread_create(&pool_th[k], NULL, pool_worker, &pool_arg[k]);
    }
}

static void pool_stop(void) {
    atomic_store(&pool_quit, 1);
    for (int k = 1; k < pool_threads; ++k) pthread_join(pool_th[k], NULL);
}

static void pthread_for(void *user, int64_t begin, int64_t end, int64_t grain, pds_range_fn fn,
                        void *task) {
    int t = *(int *)user;
    (void)grain;
    int64_t n = end - begin;
    for (int k = 0; k < t; ++k) {
        pool_jobs[k].fn = fn, pool_jobs[k].task = task;
        pool_jobs[k].b = begin + n * k / t, pool_jobs[k].e = begin + n * (k + 1) / t;
    }
    atomic_store_explicit(&pool_left, t - 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool_call, 1, memory_order_release);
    run_job(&pool_jobs[0]);
    while (atomic_load_explicit(&pool_left, memory_order_acquire) > 0) SPIN();
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* CPU seconds of the whole process (all threads): steadier than wall time on
 * a shared machine */
static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* CPU seconds of the calling thread. The main thread runs every serial part
 * and the first share of each parallel call, so on an idle machine the wall
 * time is about its CPU time: this estimates the speed-up where other load
 * hides it. */
static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_core M n d [threads] [progressive] [reps] [periodic] [metric]\n");
        return 2;
    }
    int64_t m = atoll(argv[1]), n = atoll(argv[2]);
    int d = atoi(argv[3]);
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    int progressive = argc > 5 ? atoi(argv[5]) : 0;
    int reps = argc > 6 ? atoi(argv[6]) : 1;
    int periodic = argc > 7 ? atoi(argv[7]) : 1;
    const char *metric = argc > 8 ? argv[8] : "euclidean";
    int so3 = strcmp(metric, "so3") == 0, sphere = strcmp(metric, "sphere") == 0;
    if (so3 || sphere) periodic = 0;
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    double *x = malloc(sizeof(double) * (size_t)(m * d));
    uint64_t s = 88172645463325252ull;
    for (int64_t i = 0; i < m * d; ++i) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (float)((double)(s >> 11) * (1.0 / 9007199254740992.0)); /* float32 input */
        if (x[i] >= 1.0) x[i] = 0.0;
    }
    if (so3 || sphere) /* Box-Muller: Gaussian coordinates */
        for (int64_t i = 0; i + 1 < m * d; i += 2) {
            double u = 1.0 - x[i], v = x[i + 1], r = sqrt(-2.0 * log(u));
            x[i] = r * cos(6.283185307179586 * v), x[i + 1] = r * sin(6.283185307179586 * v);
        }
    double bounds[16];
    for (int k = 0; k < d; ++k) bounds[k] = 0.0, bounds[d + k] = 1.0;
    pds_options o;
    pds_options_init(&o);
    o.bounds = so3 || sphere ? NULL : bounds;
    o.periodic = periodic;
    o.metric = so3 ? PDS_METRIC_SO3 : sphere ? PDS_METRIC_SPHERE : PDS_METRIC_EUCLIDEAN;
    o.progressive = progressive;
    if (threads > 1) o.parallel_for = pthread_for, o.parallel_user = &threads, pool_start(threads);
    /* PDS_WORKSPACE=1 in the environment: one workspace for all repetitions */
    pds_workspace *ws = getenv("PDS_WORKSPACE") ? pds_workspace_new() : NULL;
    o.workspace = ws;
    int64_t *out = malloc(sizeof(int64_t) * (size_t)n);
    double best = 1e30, best_cpu = 1e30, best_main = 1e30;
    double *walls = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1));
    uint64_t sum = 0;
    for (int r = 0; r < reps; ++r) {
        pds_error e;
        double t0 = now(), c0 = cpu(), h0 = thread_cpu();
        pds_status st = pds_eliminate(x, m, d, n, &o, out, &e);
        double t = now() - t0, c = cpu() - c0, h = thread_cpu() - h0;
        best_cpu = c < best_cpu ? c : best_cpu;
        best_main = h < best_main ? h : best_main;
        if (st != PDS_OK) {
            fprintf(stderr, "error: %s\n", e.message);
            return 1;
        }
        best = t < best ? t : best;
        walls[r] = t;
    }
    qsort(walls, (size_t)reps, sizeof(double), cmp_double);
    double median = reps > 0 ? walls[reps / 2] : 0.0;
    free(walls);
    for (int64_t i = 0; i < n; ++i) sum = sum * 1000003u + (uint64_t)out[i];
    printf("M=%lld n=%lld d=%d threads=%d progressive=%d: %.4f s wall (%.1f ns/point; median %.1f), "
           "%.4f s cpu, %.4f s main thread cpu, checksum %016llx\n",
           (long long)m, (long long)n, d, threads, progressive, best, best * 1e9 / m, median * 1e9 / m,
           best_cpu, best_main,
           (unsigned long long)sum);
    pds_workspace_free(ws);
    if (threads > 1) pool_stop();
    free(x);
    free(out);
    return 0;
}
