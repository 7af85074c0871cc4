/* pds_options.c - the options: defaults, checks of every value, and the
 * helpers every stage uses (the caller's parallel-for, the CPU path). */
#include "pds_base.h"

void pds_options_init(pds_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->alpha = 8.0;
    opt->beta = 0.65;
    opt->gamma = 1.5;
    opt->weight_limiting = 1;
    opt->metric = PDS_METRIC_EUCLIDEAN;
}

pds_status pds_check_options(int64_t m, int d, int64_t n, const pds_options *opt,
                              pds_error *err) {
    if (d < 1)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "points must have at least one coordinate per row, got d=%d", d);
    if (m < 1)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "points must hold at least one point, got M=%lld", (long long)m);
    if (m > INT32_MAX - 1)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "at most %d points are supported, got M=%lld", INT32_MAX - 1,
                         (long long)m);
    if (n < 1 || n > m)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "n must be in [1, M=%lld], got n=%lld", (long long)m, (long long)n);
    if (!(opt->alpha > 0.0) || !isfinite(opt->alpha))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "alpha must be finite and > 0, got alpha=%g",
                         opt->alpha);
    /* beta > 1 can put d_min at or past d_max: every limited contribution
     * would be (1 - d_min/d_max)^alpha <= 0, no weight at all */
    if (!(opt->beta >= 0.0 && opt->beta <= 1.0))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "beta must be in [0, 1] (d_min = d_max (1 - (n/M)^gamma) beta stays "
                         "below d_max), got beta=%g",
                         opt->beta);
    if (!(opt->gamma >= 0.0) || !isfinite(opt->gamma))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "gamma must be finite and >= 0, got gamma=%g",
                         opt->gamma);
    if (!(opt->radius >= 0.0) || !isfinite(opt->radius))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "radius must be finite and > 0 (or 0 for automatic), got radius=%g", opt->radius);
    if (!(opt->volume >= 0.0) || !isfinite(opt->volume))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "volume must be finite and > 0 (or 0 for automatic), got volume=%g", opt->volume);
    if (opt->dim < 0)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "dim must be >= 1 (or 0 for automatic), got dim=%d", opt->dim);
    if ((int)opt->metric < 0 || (int)opt->metric > PDS_METRIC_SPHERE)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "metric must be 0 (euclidean), 1 (so3) or 2 (sphere), got metric=%d",
                         (int)opt->metric);
    if (opt->metric == PDS_METRIC_SO3 && d != 4)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "metric=so3 needs quaternions, points of shape (M, 4), got d=%d", d);
    if (opt->metric == PDS_METRIC_SPHERE && d < 2)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "metric=sphere needs directions with d >= 2 coordinates, got d=%d", d);
    if (opt->metric != PDS_METRIC_EUCLIDEAN && (opt->bounds || opt->periodic))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "bounds and periodic do not apply to metric=%s (its domain is the %s), "
                         "got %s",
                         opt->metric == PDS_METRIC_SO3 ? "so3" : "sphere",
                         opt->metric == PDS_METRIC_SO3 ? "rotation group" : "unit sphere",
                         !opt->periodic ? "bounds"
                         : opt->bounds  ? "bounds and periodic=True"
                                        : "periodic=True");
    if (opt->auto_radius && opt->radius > 0.0)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "give either radius=%g or the automatic radius, not both", opt->radius);
    if (opt->periodic && !opt->bounds)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "periodic=True needs explicit bounds (the period of each axis), got none");
    if (opt->keep_count < 0 || (opt->keep_count > 0 && !opt->keep))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "keep must hold keep_count >= 0 indices, got keep_count=%lld%s",
                         (long long)opt->keep_count, opt->keep ? "" : " and keep=NULL");
    if (opt->bounds) {
        for (int k = 0; k < d; ++k) {
            double lo = opt->bounds[k], hi = opt->bounds[d + k];
            if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
                return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                                 "bounds must be finite with lo < hi on every axis: axis %d has "
                                 "lo=%g, hi=%g",
                                 k, lo, hi);
        }
    }
    return PDS_OK;
}

void pdsi_parallel(const pds_options *opt, int64_t n, int64_t grain, pds_range_fn fn, void *task) {
    if (n <= 0) return;
    if (opt->parallel_for && n > grain)
        opt->parallel_for(opt->parallel_user, 0, n, grain, fn, task);
    else
        fn(task, 0, n);
}

/* Nonzero when the CPU runs AVX-512 (F, VL, DQ) code. */
static int cpu_wide(void) {
#if PDSI_WIDE_BUILD
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

int pdsi_wide(const pds_options *opt) { return !(opt && opt->portable) && cpu_wide(); }

const char *pds_cpu_path(const pds_options *opt) { return pdsi_wide(opt) ? "avx512" : "portable"; }
