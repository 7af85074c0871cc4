/* pds.h - weighted sample elimination for Poisson disk (blue-noise) subsets.
 *
 * Plain C11, libc only. Given M candidate points, pds_eliminate() returns the
 * indices of exactly n of them that are well spread, using Cem Yuksel's
 * weighted sample elimination ("Sample Elimination for Generating Poisson
 * Disk Sample Sets", Computer Graphics Forum 34(2), 2015):
 *
 *   r_max  the largest Poisson disk radius n points can have in the domain:
 *          2D sqrt(V / (2 sqrt(3) n)), 3D cbrt(V / (4 sqrt(2) n)),
 *          other d (V / (n Vd))^(1/d), Vd the volume of the unit d-ball.
 *   d_max  2 r_max, the reach of the weight function.
 *   d_min  d_max (1 - (n/M)^gamma) beta with weight limiting, else 0.
 *   w(i)   sum over neighbours j != i with dist(i,j) < d_max of
 *          (1 - max(dist, d_min) / d_max)^alpha.
 *   Then M - n times: remove the remaining point of largest weight and
 *   subtract its contribution from each remaining neighbour.
 *
 * Exactness and tie-break: each contribution is summed exactly (in fixed
 * point), so a weight does not depend on summation order or thread count;
 * points are compared by the exact weight rounded to the nearest double (as
 * a float64 computation of the exact sum would rank them). Of two points
 * with equal rounded weight, the one with the smaller input index is removed
 * first. Integer alpha (the default 8) is applied by exponentiation by
 * squaring, other alpha with pow(). The result is the same on every CPU,
 * for every thread count and every code path the library takes.
 *
 * Progressive order (opt.progressive): after eliminating to n, the survivors
 * are eliminated to n/2, then to half of that while at least 3 remain, with
 * d_max multiplied by 2^(1/dim) at each halving and d_min kept at its first
 * value. Each level's eliminated points follow that level's survivors, the
 * last eliminated first, so every prefix of the output is itself well spread.
 *
 * Kept points (opt.keep): points that are never removed. They count toward
 * n, and their contributions stay in their neighbours' weights (they push
 * them out as any survivor does); each removal takes the heaviest point
 * that is not kept, otherwise the run is the one above. In progressive
 * order they are kept through every halving level: the levels halve until
 * they alone remain (none below their count, the last may remove 1 of 2),
 * so they lead the output, ascending, and every prefix of at least as many
 * points holds all of them.
 *
 * Metrics (opt.metric): euclidean; so3, rows are quaternions (normalised,
 * q ~ -q), distance the rotation angle 2 acos(|q1.q2|); sphere, rows are
 * directions (normalised), distance the great-circle angle. Angles are
 * computed from chords (within one ulp of libm's asin).
 *
 * Threads: the library owns none. Give a parallel-for in the options to use
 * yours; with none, all work is serial. Small problems run on the calling
 * thread whatever the options: callers with many of them (batches,
 * samplers) run those in parallel instead. The result is identical for
 * every thread count.
 *
 * Memory: O(M d) plus each point's neighbour list (uniform 2D input with
 * M = 8n: about 200 bytes per point). Lists that do not fit max_memory or an
 * allocation are not stored and neighbours are searched again instead.
 * Nothing is global; every call is independent and thread-safe. A caller
 * that solves many problems in a row can keep the largest buffers between
 * calls in a pds_workspace (opt.workspace; one per thread).
 *
 * Errors: every function returns a pds_status and, when err is not NULL,
 * fills err->message with a sentence naming the offending argument and value.
 * Nothing aborts on bad input.
 */
#ifndef PDS_H
#define PDS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDS_VERSION_MAJOR 0
#define PDS_VERSION_MINOR 1

typedef enum pds_status {
    PDS_OK = 0,
    PDS_ERR_INVALID_ARGUMENT = 1, /* a size or parameter is out of range     */
    PDS_ERR_NONFINITE = 2,        /* NaN or Inf among the coordinates        */
    PDS_ERR_OUT_OF_MEMORY = 3,    /* an allocation failed                    */
    PDS_ERR_TOO_DENSE = 4,        /* neighbour work would exceed the budget  */
    PDS_ERR_CANCELLED = 5         /* the cancel flag was raised              */
} pds_status;

typedef struct pds_error {
    pds_status code;
    char message[512];
} pds_error;

/* How distances are measured. */
typedef enum pds_metric {
    PDS_METRIC_EUCLIDEAN = 0, /* straight-line distance in R^d (toroidal with periodic) */
    PDS_METRIC_SO3 = 1,       /* rows are quaternions (d == 4): rotation angle
                                 2 acos(|q1.q2|), so q and -q coincide */
    PDS_METRIC_SPHERE = 2     /* rows are directions in R^d: great-circle angle */
} pds_metric;

/* A parallel-for supplied by the caller: it must call fn(task, b, e) on
 * disjoint ranges [b, e) covering [begin, end), from any threads, and return
 * when all calls have returned. grain is a hint (iterations per call). */
typedef void (*pds_range_fn)(void *task, int64_t begin, int64_t end);
typedef void (*pds_parallel_for_fn)(void *user, int64_t begin, int64_t end,
                                    int64_t grain, pds_range_fn fn, void *task);

typedef struct pds_options {
    double alpha;          /* weight exponent, > 0 (default 8)                  */
    double beta;           /* weight limiting strength, in [0, 1] (def. 0.65)   */
    double gamma;          /* weight limiting exponent, >= 0 (default 1.5)      */
    int weight_limiting;   /* nonzero: use d_min (default 1)                    */
    int progressive;       /* nonzero: output in progressive order (default 0)  */
    int periodic;          /* nonzero: toroidal distances over bounds (default 0)*/
    const double *bounds;  /* NULL, or 2*d values lo[0..d) then hi[0..d):
                              the domain; default the points' bounding box     */
    double radius;         /* r_max if > 0; 0 derives it from volume and n      */
    int auto_radius;       /* nonzero: estimate r_max from the points (see
                              pds_estimate_radius); radius must then be 0     */
    double volume;         /* domain volume if > 0; 0 uses the bounds' volume
                              (or the metric's: 8 pi^2 for so3, the sphere area) */
    int dim;               /* dimension used for r_max if > 0; 0 uses d (or the
                              metric's manifold dimension)                      */
    pds_metric metric;     /* default PDS_METRIC_EUCLIDEAN                      */
    pds_parallel_for_fn parallel_for; /* NULL: serial                          */
    void *parallel_user;   /* passed back to parallel_for                       */
    double max_pair_work;  /* refuse (PDS_ERR_TOO_DENSE) when the estimated
                              number of candidate pairs, each counted d / 8
                              when d > 8, exceeds this; 0: 4e9                  */
    size_t max_memory;     /* refuse (PDS_ERR_OUT_OF_MEMORY) before allocating
                              more than this many bytes; 0: no limit            */
    const volatile int *cancel; /* if not NULL, nonzero stops the call early   */
    struct pds_workspace *workspace; /* NULL, or memory kept between calls
                              (pds_workspace_new); one thread at a time       */
    int portable;          /* nonzero: never use the wide (AVX-512) kernels;
                              same results (default 0)                         */
    const int64_t *keep;   /* NULL, or keep_count indices in [0, M) of points
                              that are never removed (repeats count once, at
                              most n of them); see "Kept points" above       */
    int64_t keep_count;    /* entries of keep (default 0)                       */
} pds_options;

/* Memory kept between calls, for callers that eliminate many problems in a
 * row (batches, samplers): with opt.workspace set, pds_eliminate keeps its
 * largest buffers there, grown to the largest problem seen, instead of
 * allocating and freeing them on every call. Use one workspace per thread;
 * the results are the same with or without one. */
typedef struct pds_workspace pds_workspace;
pds_workspace *pds_workspace_new(void); /* NULL when out of memory */
void pds_workspace_free(pds_workspace *ws);
size_t pds_workspace_bytes_held(const pds_workspace *ws); /* bytes it holds now */

/* Fills opt with the defaults above. */
void pds_options_init(pds_options *opt);

/* The kernels a call with these options uses on this CPU: "avx512" or
 * "portable" (opt->portable, or a CPU without AVX-512; opt may be NULL for
 * the defaults). Both give the same results. */
const char *pds_cpu_path(const pds_options *opt);

/* Selects n of the m points (row-major, m x d doubles) and writes their
 * indices to out (n int64). Ascending order, or progressive order when
 * opt->progressive. 1 <= n <= m; n == m keeps every point. opt may be NULL
 * for the defaults. Euclidean points far from unit size (where squared
 * distances would overflow or underflow) are worked on in a copy scaled by
 * a power of two, with bounds, radius and volume: exact, the result is the
 * one for the scaled points; refused only when no such scale keeps every
 * coordinate finite and d_max in [1e-140, 1e140]. */
pds_status pds_eliminate(const double *points, int64_t m, int d, int64_t n,
                         const pds_options *opt, int64_t *out, pds_error *err);

/* The r_max above for n points of a domain of the given dimension and volume
 * (dim >= 1, volume > 0, n >= 1); 0 when the arguments are out of range. */
double pds_max_radius(int dim, double volume, int64_t n);

/* Estimates r_max for keeping n of the m points from the points themselves,
 * for data that does not fill its bounding box (surfaces, clusters,
 * embeddings near a subspace). In a domain of dimension D, r_max is the
 * radius of a ball holding about k = M/n input points; so r_max is taken as
 * the median over a few hundred evenly spaced query points of the distance
 * to their k-th nearest input point (in the metric of opt), times the
 * packing factor of D (0.95 in 2D, 0.90 in 3D, 1 above). D is opt->dim, else
 * the metric's dimension, else estimated from the growth of the same medians
 * from k to 2k neighbours: D = log 2 / log(r_2k / r_k). Cost: linear in M d,
 * with a bounded number of coordinate differences for large inputs. Writes
 * r_max and D (either may be NULL). Rows are normalised first for the so3
 * and sphere metrics. */
pds_status pds_estimate_radius(const double *points, int64_t m, int d, int64_t n,
                               const pds_options *opt, double *radius, int *dim, pds_error *err);

/* Checks the sizes (1 <= n <= m, d >= 1) and every option value, as
 * pds_eliminate and pds_estimate_radius do before any work; the message names
 * the argument and the value given (e.g. "alpha=0"). */
pds_status pds_check_options(int64_t m, int d, int64_t n, const pds_options *opt, pds_error *err);

/* The working memory pds_eliminate would allocate for these sizes (bytes). */
size_t pds_workspace_bytes(int64_t m, int d, int64_t n, const pds_options *opt);

/* A short name of a status code ("ok", "invalid argument", ...). */
const char *pds_status_name(pds_status code);

#ifdef __cplusplus
}
#endif
#endif /* PDS_H */
