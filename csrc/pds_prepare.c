/* pds_prepare.c - the first stage of a call: the options and points
 * checked, the points brought into range, the domain, the principal frame
 * and r_max, into one pdsi_problem for the levels.
 *
 * Euclidean points far from unit size (squared distances near d_max would
 * overflow or underflow) are worked on in a copy scaled by a power of two,
 * with the bounds, radius and volume: exact, the result is the one for the
 * scaled points. A copy by the points' own extent comes first where r_max
 * is measured on them (radius="auto", or a box whose volume overflows even
 * as a logarithm); one that brings d_max near 1 last. */
#include "pds_problem.h"
#include "pds_grid.h"

#include <float.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* the rescales made so far */
#define BY_EXTENT 1 /* to unit size, by the points' extent */
#define BY_DMAX 2   /* to bring d_max near 1 (the last) */

/* Checks the points: finite coordinates, inside the bounds when periodic. */
static pds_status check_points(const double *x, int64_t m, int d, const pds_options *opt,
                               pds_error *err) {
    if (!(opt->periodic && opt->bounds)) {
        /* first without branches (an exponent of all ones: inf or NaN),
         * which vectorizes; the loop below finds and names the value */
        uint64_t bad = 0;
        for (int64_t t = 0, size = m * (int64_t)d; t < size; ++t) {
            uint64_t bits;
            memcpy(&bits, &x[t], sizeof bits);
            bad |= (~bits & 0x7FF0000000000000ull) == 0;
        }
        if (!bad) return PDS_OK;
    }
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
                                     "points[%lld, %d] = %.17g is outside [%.17g, %.17g]",
                                     (long long)i, k, p[k], lo, hi);
            }
        }
    }
    return PDS_OK;
}

/* The dimension and volume r_max is derived from: the caller's, else the
 * bounds', else the bounding box's over the axes it actually spans (a flat
 * input of k spanned axes counts as k-dimensional; all-equal points give 0).
 * Also the volume's logarithm, finite where the volume itself overflows or
 * underflows (a box of many dimensions: 64 extents of 1e-6, 1000 of 6). */
static pds_status domain(const double *x, int64_t m, int d, const pds_options *opt, int *dim_out,
                         double *volume_out, double *log_volume_out, pds_error *err) {
    int dim = 0;
    double volume = 1.0, log_volume = 0.0;
    if (opt->metric == PDS_METRIC_SO3) {
        dim = 3;
        volume = 8.0 * M_PI * M_PI;
        log_volume = log(volume);
    } else if (opt->metric == PDS_METRIC_SPHERE) {
        dim = d - 1; /* area of the unit sphere S^(d-1) in R^d */
        log_volume = log(2.0) + 0.5 * d * log(M_PI) - lgamma(0.5 * d);
        volume = 2.0 * exp(0.5 * d * log(M_PI) - lgamma(0.5 * d));
    } else if (opt->bounds) {
        dim = d;
        for (int k = 0; k < d; ++k) {
            volume *= opt->bounds[d + k] - opt->bounds[k];
            log_volume += log(opt->bounds[d + k] - opt->bounds[k]);
        }
    } else {
        /* bounding box, over the axes the points actually span */
        for (int k = 0; k < d; ++k) {
            double lo, hi;
            pdsi_axis_range(x, m, d, k, &lo, &hi);
            if (hi > lo) {
                dim += 1;
                volume *= hi - lo;
                log_volume += log(hi - lo);
            }
        }
        if (dim == 0) volume = 0.0;
    }
    if (opt->dim > 0) dim = opt->dim;
    if (opt->volume > 0.0) {
        volume = opt->volume;
        log_volume = log(volume);
    }
    /* (an extent of Inf: coordinates near +-DBL_MAX; with a radius given,
     * or estimated, the volume is not used) */
    if (!isfinite(log_volume) && !(opt->radius > 0.0) && !opt->auto_radius)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "the domain volume overflows (%g): pass volume= or radius=", volume);
    *log_volume_out = log_volume;
    *dim_out = dim;
    *volume_out = volume;
    return PDS_OK;
}

/* so3 and sphere: writes the m rows of x scaled to unit length to out; a
 * zero-length row is an error naming it. */
static pds_status normalise_rows(const double *x, int64_t m, int d, pds_metric metric, double *out,
                                 pds_error *err) {
    for (int64_t i = 0; i < m; ++i) {
        const double *p = x + i * (int64_t)d;
        double *o = out + i * (int64_t)d;
        double big = 0.0, sum = 0.0;
        for (int k = 0; k < d; ++k) big = fabs(p[k]) > big ? fabs(p[k]) : big;
        if (!(big > 0.0))
            return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                             "metric=%s needs nonzero rows (they are normalised to unit length): "
                             "points[%lld] has zero length",
                             metric == PDS_METRIC_SO3 ? "so3" : "sphere", (long long)i);
        /* scaled by the largest entry first: no overflow or underflow */
        for (int k = 0; k < d; ++k) {
            double t = p[k] / big;
            sum += t * t;
        }
        double inv = 1.0 / sqrt(sum);
        /* so3: q and -q are one rotation; keep the one whose first nonzero
         * coordinate is positive (w >= 0 in the (w, x, y, z) order). Then
         * -q's neighbours exist only for |w| below the search chord, and
         * q and -q give bit-identical results. */
        if (metric == PDS_METRIC_SO3) {
            int k0 = 0;
            while (k0 < d - 1 && p[k0] == 0.0) ++k0;
            if (p[k0] < 0.0) inv = -inv;
        }
        for (int k = 0; k < d; ++k) o[k] = (p[k] / big) * inv;
    }
    return PDS_OK;
}

/* x 2^k into out[0..count), exact (a value that becomes subnormal is what
 * x * 2^k holds); 0 when a value overflows. */
static int scale_values(const double *x, int64_t count, int k, double *out) {
    for (int64_t i = 0; i < count; ++i) {
        out[i] = ldexp(x[i], k);
        if (!isfinite(out[i])) return 0;
    }
    return 1;
}

/* The power of two 2^k that brings the points' widest extent to [1, 2)
 * when it lies outside [1e-100, 1e100], where squared distances on the
 * points' own scale overflow or underflow (radius="auto" measures them);
 * else 0 (also for all-equal points). */
static int unit_exponent(const double *x, int64_t m, int d) {
    double widest = 0.0; /* half the widest extent: no overflow */
    for (int k = 0; k < d; ++k) {
        double lo, hi;
        pdsi_axis_range(x, m, d, k, &lo, &hi);
        double e = 0.5 * hi - 0.5 * lo;
        widest = e > widest ? e : widest;
    }
    if (!(widest > 0.5e100) && !(widest > 0.0 && widest < 0.5e-100)) return 0;
    return -ilogb(widest) - 1;
}

/* Frees what the pass before a rescale made (it is made again). */
static void drop_pass(pdsi_problem *P) {
    free(P->unit);
    free(P->rotated);
    free(P->period);
    P->unit = P->rotated = P->period = NULL;
    P->frame = NULL;
    P->space.period = NULL;
}

/* P's points, bounds and radius times 2^k (volume times 2^(k dim)), the
 * options otherwise the same: P then describes that call. 0 (nothing done)
 * when a scaled value would overflow or the volume leave the doubles'
 * range; else 1 and the status in *st. */
static int rescale(pdsi_problem *P, int k, int dim, pds_error *err, pds_status *st) {
    const pds_options *opt = P->opt;
    int64_t m = P->m, n = P->n;
    int d = P->d;
    pds_options o = *opt;
    if (opt->radius > 0.0) o.radius = ldexp(opt->radius, k);
    if (opt->volume > 0.0) {
        /* 2^(k dim); past +-100000 the product is 0 or Inf anyway */
        long long e = (long long)k * (opt->dim > 0 ? opt->dim : dim);
        o.volume = ldexp(opt->volume, (int)(e > 100000 ? 100000 : e < -100000 ? -100000 : e));
    }
    if (!(o.radius >= 0.0 && isfinite(o.radius)) || !(o.volume >= DBL_MIN || opt->volume == 0.0) ||
        !isfinite(o.volume))
        return 0;
    size_t copy = sizeof(double) * ((size_t)m * (size_t)d + 2 * (size_t)d);
    if (opt->max_memory > 0 && pds_workspace_bytes(m, d, n, opt) + copy > opt->max_memory) {
        *st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY,
                        "M=%lld points in %d dimensions far from unit size need a rescaled copy "
                        "of %zu bytes beside the working memory, more than max_memory=%zu",
                        (long long)m, d, copy, opt->max_memory);
        return 1;
    }
    double *y = malloc(copy);
    if (!y) {
        *st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
        return 1;
    }
    double *bounds = y + m * (int64_t)d;
    if (!scale_values(P->x, m * (int64_t)d, k, y) ||
        (opt->bounds && !scale_values(opt->bounds, 2 * (int64_t)d, k, bounds))) {
        free(y);
        return 0;
    }
    if (opt->bounds) o.bounds = bounds;
    free(P->copy);
    P->copy = y;
    P->x = y;
    P->scaled = o;
    P->opt = &P->scaled;
    *st = PDS_OK;
    return 1;
}

/* r_max from the points' own scale (their domain, or radius="auto"), and
 * that scale far from unit size: the points scaled to unit size (see
 * rescale). 0 when there is no such rescale to make. */
static int to_unit_size(pdsi_problem *P, int *done, pds_error *err, pds_status *st) {
    const pds_options *opt = P->opt;
    if (opt->metric != PDS_METRIC_EUCLIDEAN || *done || opt->radius > 0.0 || opt->volume > 0.0 ||
        P->n >= P->m)
        return 0;
    int k = unit_exponent(P->x, P->m, P->d);
    if (!k || !rescale(P, k, P->d, err, st)) return 0;
    *done |= BY_EXTENT;
    return 1;
}

/* The options, the working memory and the points. */
static pds_status check_call(const pdsi_problem *P, pds_error *err) {
    const pds_options *opt = P->opt;
    int64_t m = P->m, n = P->n;
    int d = P->d;
    pds_status st = pds_check_options(m, d, n, opt, err);
    if (st != PDS_OK) return st;
    if (opt->max_memory > 0) {
        size_t need = pds_workspace_bytes(m, d, n, opt);
        if (need > opt->max_memory)
            return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY,
                             "M=%lld points in %d dimensions need about %zu bytes of working "
                             "memory, more than max_memory=%zu",
                             (long long)m, d, need, opt->max_memory);
    }
    return check_points(P->x, m, d, opt, err);
}

/* The space: metric, period, alpha. */
static pds_status set_space(pdsi_problem *P, pds_error *err) {
    const pds_options *opt = P->opt;
    int d = P->d;
    pdsi_space *s = &P->space;
    memset(s, 0, sizeof *s);
    s->d = d;
    pdsi_space_set_metric(s, opt->metric);
    s->periodic = opt->periodic;
    s->alpha = opt->alpha;
    s->alpha_int = (opt->alpha == floor(opt->alpha) && opt->alpha >= 1.0 && opt->alpha <= 64.0)
                       ? (int)opt->alpha
                       : 0;
    if (opt->periodic) {
        P->period = malloc(sizeof(double) * (size_t)d);
        if (!P->period) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        for (int k = 0; k < d; ++k) P->period[k] = opt->bounds[d + k] - opt->bounds[k];
        s->period = P->period;
    }
    return PDS_OK;
}

/* The error for a d_max outside [1e-140, 1e140] that no rescale brings in. */
static pds_status dmax_out_of_range(const pdsi_problem *P, int done, double r_max, double d_max,
                                    pds_error *err) {
    const pds_options *opt = P->opt;
    if (opt->metric != PDS_METRIC_EUCLIDEAN)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "%s=%g gives d_max=%g, outside [1e-140, 1e140]; with metric=%s "
                         "distances are angles in radians (at most pi)",
                         opt->radius > 0.0 ? "radius" : "r_max", r_max, d_max,
                         opt->metric == PDS_METRIC_SO3 ? "so3" : "sphere");
    if (done & BY_EXTENT)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "the points scaled by a power of two to unit size give r_max=%g, "
                         "d_max=%g, outside [1e-140, 1e140], where squared distances "
                         "overflow or underflow, and scaled to bring d_max near 1 some "
                         "coordinate would overflow: their extents differ too much; rescale "
                         "the axes or pass radius=",
                         r_max, d_max);
    return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                     "%s=%g gives d_max=%g, outside [1e-140, 1e140], where squared "
                     "distances overflow or underflow, and the points scaled by the power "
                     "of two that brings d_max near 1 would overflow: rescale the points%s",
                     opt->radius > 0.0 ? "radius" : "r_max (from the domain)", r_max, d_max,
                     opt->radius > 0.0 ? " and the radius" : "");
}

/* d_max = 2 r_max and d_min, r_max given, from the domain, or estimated
 * (r_auto). Sets *again after a rescale that brings d_max near 1. */
static pds_status set_reach(pdsi_problem *P, int *done, double volume, double log_volume,
                            double r_auto, int *again, pds_error *err) {
    const pds_options *opt = P->opt;
    int64_t m = P->m, n = P->n;
    int dim = P->dim;
    /* a volume (or in many dimensions the unit ball's) out of the doubles'
     * range: r_max from the logarithms; out-of-range radii are refused below */
    double r_max = opt->auto_radius    ? r_auto
                   : opt->radius > 0.0 ? opt->radius
                                       : pds_max_radius(dim, volume, n);
    if (!opt->auto_radius && !(opt->radius > 0.0) && dim > 0 &&
        !(volume >= DBL_MIN && r_max > 0.0 && r_max <= DBL_MAX))
        r_max = pdsi_max_radius_log(dim, log_volume, n);
    double d_max = 2.0 * r_max;
    if (!isfinite(d_max)) {
        if (opt->radius > 0.0)
            return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                             "radius=%g is too large: d_max = 2 radius overflows", opt->radius);
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "r_max for n=%lld in dim=%d with volume=%g overflows: pass radius= or "
                         "set volume=/dim=",
                         (long long)n, dim, volume);
    }
    if (d_max > 0.0 && (d_max > 1e140 || d_max < 1e-140)) {
        /* squared distances near d_max would overflow to Inf or underflow
         * to 0 and every point would lose its neighbours. Euclidean points
         * are scaled by the power of two that brings d_max to [1, 2): exact,
         * unless a coordinate would overflow; else refuse, rather than
         * return an arbitrary subset */
        drop_pass(P);
        pds_status st = PDS_OK;
        if (opt->metric == PDS_METRIC_EUCLIDEAN && !(*done & BY_DMAX) &&
            rescale(P, -ilogb(d_max), dim, err, &st)) {
            *done |= BY_DMAX;
            *again = st == PDS_OK;
            return st;
        }
        return dmax_out_of_range(P, *done, r_max, d_max, err);
    }
    pdsi_space_set_dmax(&P->space, d_max);
    P->space.d_min = opt->weight_limiting
                         ? d_max * (1.0 - pow((double)n / (double)m, opt->gamma)) * opt->beta
                         : 0.0;
    return PDS_OK;
}

/* One pass over the call as P now describes it; sets *again when it
 * rescaled the points and the pass must be made again on the copy. */
static pds_status prepare_pass(pdsi_problem *P, int *done, int *again, pds_error *err) {
    int64_t m = P->m, n = P->n;
    int d = P->d;
    *again = 0;
    pds_status st = check_call(P, err);
    if (st != PDS_OK) return st;
    /* radius="auto" measures the points' own distances */
    if (P->opt->auto_radius && to_unit_size(P, done, err, &st)) {
        *again = st == PDS_OK;
        return st;
    }
    const pds_options *opt = P->opt;
    if (opt->metric != PDS_METRIC_EUCLIDEAN) {
        P->unit = malloc(sizeof(double) * (size_t)m * (size_t)d);
        if (!P->unit) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
        st = normalise_rows(P->x, m, d, opt->metric, P->unit, err);
        if (st != PDS_OK) return st;
        P->x = P->unit;
    }
    double volume = 0.0, log_volume = 0.0, r_auto = 0.0;
    st = domain(P->x, m, d, opt, &P->dim, &volume, &log_volume, err);
    /* a box too wide for its volume's logarithm (an extent of Inf) */
    if (st != PDS_OK && to_unit_size(P, done, err, &st)) {
        *again = st == PDS_OK;
        return st;
    }
    /* d > 3: the grid's cells follow the principal axes (pds_pca.c) */
    if (st == PDS_OK && !P->unit && !opt->periodic && n < m) {
        st = pdsi_principal_frame(P->x, m, d, opt, &P->rotated, &P->spread, err);
        P->frame = P->rotated;
    }
    if (st == PDS_OK && opt->auto_radius && n < m)
        st = pdsi_estimate_radius(P->x, m, d, n, opt, &r_auto, &P->dim, err);
    if (st == PDS_OK) st = set_space(P, err);
    if (st != PDS_OK) return st;
    return set_reach(P, done, volume, log_volume, r_auto, again, err);
}

/* The kept points (opt->keep) as a mask by input index, each index checked
 * and counted once; at most n of them. */
static pds_status set_keep(pdsi_problem *P, pds_error *err) {
    const pds_options *opt = P->opt;
    int64_t m = P->m;
    if (opt->keep_count == 0) return PDS_OK;
    P->keep = calloc((size_t)m, 1);
    if (!P->keep) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
    for (int64_t t = 0; t < opt->keep_count; ++t) {
        int64_t i = opt->keep[t];
        if (i < 0 || i >= m)
            return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                             "keep must hold indices in [0, M=%lld), got keep[%lld]=%lld",
                             (long long)m, (long long)t, (long long)i);
        P->n_keep += !P->keep[i];
        P->keep[i] = 1;
    }
    if (P->n_keep > P->n)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "keep holds %lld distinct points, more than n=%lld: kept points "
                         "count toward n",
                         (long long)P->n_keep, (long long)P->n);
    return PDS_OK;
}

pds_status pdsi_prepare(pdsi_problem *P, const double *points, int64_t m, int d, int64_t n,
                        const pds_options *opt, pds_error *err) {
    memset(P, 0, sizeof *P);
    P->x = points;
    P->m = m;
    P->n = n;
    P->d = d;
    P->opt = opt;
    int done = 0, again = 1;
    pds_status st = PDS_OK;
    while (again) st = prepare_pass(P, &done, &again, err);
    if (st == PDS_OK) st = set_keep(P, err);
    return st;
}

void pdsi_problem_free(pdsi_problem *P) {
    drop_pass(P);
    free(P->copy);
    P->copy = NULL;
    free(P->keep);
    P->keep = NULL;
}

/* The public estimate: the points checked, brought to unit rows or unit
 * size as a call's are, then pds_radius.c's estimate (scaled back). */
pds_status pds_estimate_radius(const double *points, int64_t m, int d, int64_t n,
                               const pds_options *options, double *radius, int *dim,
                               pds_error *err) {
    pds_options defaults;
    if (!options) {
        pds_options_init(&defaults);
        options = &defaults;
    }
    if (err) {
        err->code = PDS_OK;
        err->message[0] = '\0';
    }
    if (!points) return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "points must not be NULL");
    pds_status st = pds_check_options(m, d, n, options, err);
    if (st != PDS_OK) return st;
    st = check_points(points, m, d, options, err);
    if (st != PDS_OK) return st;
    int k = options->metric == PDS_METRIC_EUCLIDEAN ? unit_exponent(points, m, d) : 0;
    if (options->metric == PDS_METRIC_EUCLIDEAN && k == 0)
        return pdsi_estimate_radius(points, m, d, n, options, radius, dim, err);
    double *unit = malloc(sizeof(double) * (size_t)m * (size_t)d);
    if (!unit) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
    if (k) {
        /* far from unit size: the estimate on the points times 2^k (exact),
         * scaled back; no coordinate overflows (distinct values near an
         * offset c are at least an ulp of c apart, so c 2^k < 2^54) */
        (void)scale_values(points, m * (int64_t)d, k, unit);
    } else {
        st = normalise_rows(points, m, d, options->metric, unit, err);
    }
    if (st == PDS_OK) st = pdsi_estimate_radius(unit, m, d, n, options, radius, dim, err);
    if (st == PDS_OK && k && radius) *radius = ldexp(*radius, -k);
    free(unit);
    return st;
}
