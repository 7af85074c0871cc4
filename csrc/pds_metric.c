/* pds_metric.c - points, distances and domains: input checks, the domain's
 * dimension and volume, r_max, and the weight function's parameters. */
#include "pds_internal.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

pds_status pdsi_check_points(const double *x, int64_t m, int d, const pds_options *opt,
                             pds_error *err) {
    for (int64_t i = 0; i < m; ++i) {
        const double *p = x + i * (int64_t)d;
        for (int k = 0; k < d; ++k) {
            if (!isfinite(p[k]))
                return pdsi_fail(err, PDS_ERR_NONFINITE,
                                 "points must be finite: points[%lld, %d] is %g",
                                 (long long)i, k, p[k]);
            if (opt->periodic && opt->bounds) {
                double lo = opt->bounds[k], hi = opt->bounds[d + k];
                if (p[k] < lo || p[k] > hi)
                    return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                                     "with periodic=True every point must lie inside bounds: "
                                     "points[%lld, %d] = %g is outside [%g, %g]",
                                     (long long)i, k, p[k], lo, hi);
            }
        }
    }
    return PDS_OK;
}

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

pds_status pdsi_domain(const double *x, int64_t m, int d, const pds_options *opt, int *dim_out,
                       double *volume_out, pds_error *err) {
    int dim = 0;
    double volume = 1.0;
    if (opt->metric == PDS_METRIC_SO3) {
        dim = 3;
        volume = 8.0 * M_PI * M_PI;
    } else if (opt->metric == PDS_METRIC_SPHERE) {
        dim = d - 1; /* area of the unit sphere S^(d-1) in R^d */
        volume = 2.0 * exp(0.5 * d * log(M_PI) - lgamma(0.5 * d));
    } else if (opt->bounds) {
        dim = d;
        for (int k = 0; k < d; ++k) volume *= opt->bounds[d + k] - opt->bounds[k];
    } else {
        /* bounding box, over the axes the points actually span */
        for (int k = 0; k < d; ++k) {
            double lo = x[k], hi = x[k];
            for (int64_t i = 1; i < m; ++i) {
                double v = x[i * (int64_t)d + k];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            if (hi > lo) {
                dim += 1;
                volume *= hi - lo;
            }
        }
        if (dim == 0) volume = 0.0;
    }
    if (opt->dim > 0) dim = opt->dim;
    if (opt->volume > 0.0) volume = opt->volume;
    if (!isfinite(volume))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "the domain volume overflows (%g): pass volume= or radius=", volume);
    *dim_out = dim;
    *volume_out = volume;
    return PDS_OK;
}

void pdsi_space_set_dmax(pdsi_space *s, double d_max) {
    s->d_max = d_max;
    s->search2 = d_max * d_max;
}

double pdsi_max_contribution(const pdsi_space *s) {
    if (!(s->d_max > 0.0)) return 0.0;
    double u = 1.0 - s->d_min / s->d_max; /* closer neighbours are capped at d_min */
    return u > 0.0 ? pow(u, s->alpha) : 0.0;
}

void pdsi_space_set_scale(pdsi_space *s, int64_t max_terms) {
    double bound = pdsi_max_contribution(s) * (double)(max_terms > 0 ? max_terms : 1);
    int e = 0;
    if (bound > 0.0) frexp(bound, &e); /* bound < 2^e */
    int shift = PDSI_WEIGHT_BITS - 1 - e; /* one bit of margin for rounding */
    if (shift > 1000) shift = 1000;
    s->scale_hi = ldexp(1.0, shift - 64);
}
