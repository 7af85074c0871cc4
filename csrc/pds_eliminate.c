/* pds_eliminate.c - weights, elimination and progressive levels.
 *
 * One level: renumber the points in grid-cell order, give every point the
 * sum of its neighbours' fixed-point contributions (in parallel: each point
 * sums its own, so the result does not depend on the threads), then remove
 * the heaviest point M - n times, subtracting its contribution from its
 * remaining neighbours. The heap is lazy (see pds_heap.c). */
#include "pds_internal.h"

#include <float.h>
#include <string.h>

void pds_options_init(pds_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->alpha = 8.0;
    opt->beta = 0.65;
    opt->gamma = 1.5;
    opt->weight_limiting = 1;
    opt->metric = PDS_METRIC_EUCLIDEAN;
}

void pdsi_parallel(const pds_options *opt, int64_t n, int64_t grain, pds_range_fn fn, void *task) {
    if (n <= 0) return;
    if (opt->parallel_for && n > grain)
        opt->parallel_for(opt->parallel_user, 0, n, grain, fn, task);
    else
        fn(task, 0, n);
}

static int cancelled(const pds_options *opt) { return opt->cancel && *opt->cancel; }

/* ---------------------------------------------------------------- checks -- */

static pds_status check_options(int64_t m, int d, int64_t n, const pds_options *opt,
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
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "alpha must be finite and > 0, got %g",
                         opt->alpha);
    if (!(opt->beta >= 0.0) || !isfinite(opt->beta))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "beta must be finite and >= 0, got %g",
                         opt->beta);
    if (!(opt->gamma >= 0.0) || !isfinite(opt->gamma))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "gamma must be finite and >= 0, got %g",
                         opt->gamma);
    if (!(opt->radius >= 0.0) || !isfinite(opt->radius))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "radius must be finite and > 0 (or 0 for automatic), got %g", opt->radius);
    if (!(opt->volume >= 0.0) || !isfinite(opt->volume))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "volume must be finite and > 0 (or 0 for automatic), got %g", opt->volume);
    if (opt->dim < 0)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "dim must be >= 1 (or 0 for automatic), got %d", opt->dim);
    if ((int)opt->metric < 0 || (int)opt->metric > PDS_METRIC_SPHERE)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "metric must be 0 (euclidean), 1 (so3) or 2 (sphere), got %d",
                         (int)opt->metric);
    if (opt->metric == PDS_METRIC_SO3 && d != 4)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "metric=so3 needs quaternions, points of shape (M, 4), got d=%d", d);
    if (opt->metric == PDS_METRIC_SPHERE && d < 2)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "metric=sphere needs directions with d >= 2 coordinates, got d=%d", d);
    if (opt->metric != PDS_METRIC_EUCLIDEAN && (opt->bounds || opt->periodic))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "bounds and periodic do not apply to metric=%s (its domain is the %s)",
                         opt->metric == PDS_METRIC_SO3 ? "so3" : "sphere",
                         opt->metric == PDS_METRIC_SO3 ? "rotation group" : "unit sphere");
    if (opt->auto_radius && opt->radius > 0.0)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "give either radius=%g or the automatic radius, not both", opt->radius);
    if (opt->periodic && !opt->bounds)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "periodic=True needs explicit bounds (the period of each axis)");
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

size_t pds_workspace_bytes(int64_t m, int d, int64_t n, const pds_options *opt) {
    (void)n;
    if (m < 1 || d < 1) return 0;
    size_t M = (size_t)m;
    return M * (size_t)d * sizeof(double)      /* points in cell order       */
           + M * sizeof(int32_t) * 2           /* order, cell of each point  */
           + M * sizeof(int32_t) * 2 + 64 * 4  /* grid cells (<= 2M)         */
           + M * sizeof(pdsi_weight)           /* weights                    */
           + M * sizeof(pdsi_heap_entry)       /* heap                       */
           + M * sizeof(uint8_t)               /* removed flags              */
           + M * sizeof(int64_t) * 2           /* kept / removed id lists    */
           + ((opt && opt->metric != PDS_METRIC_EUCLIDEAN) || d > 3 ? M * (size_t)d * sizeof(double)
                                                                   : 0); /* unit rows / principal frame */
}

/* --------------------------------------------------------------- weights -- */

PDSI_INLINE void weigh_range(pdsi_level *L, int64_t cb, int64_t ce, int d) {
    for (int64_t c = cb; c < ce; ++c) {
        for (int32_t k = L->grid.start[c]; k < L->grid.start[c + 1]; ++k) {
            pdsi_weight sum = {0, 0};
            PDSI_FOR_NEIGHBOURS(L, k, d, pdsi_w_add(&sum, pdsi_contribution(L->s, dist2)));
            L->w[k] = sum;
        }
    }
}

static void weigh_task(void *task, int64_t cb, int64_t ce) {
    pdsi_level *L = task;
    if (cancelled(L->opt)) return;
    switch (L->d) {
    case 1: weigh_range(L, cb, ce, 1); break;
    case 2: weigh_range(L, cb, ce, 2); break;
    case 3: weigh_range(L, cb, ce, 3); break;
    default: weigh_range(L, cb, ce, L->d); break;
    }
}

PDSI_INLINE void subtract_neighbours(pdsi_level *L, int32_t k, int d) {
    PDSI_FOR_NEIGHBOURS(L, k, d, pdsi_w_sub(&L->w[j], pdsi_contribution(L->s, dist2)));
}

/* ----------------------------------------------------------------- level -- */

/* Eliminates m rows of x (m x d) down to n. ids[i] is row i's input index
 * (ties go to the smaller), NULL for i itself. Writes the m - n removed ids
 * in removal order to removed_ids and the n kept ids, in row order, to
 * kept_ids. */
static pds_status run_level(const double *x, int64_t m, int d, int64_t n, const int64_t *ids,
                            const pdsi_space *s, const pds_options *opt, int64_t *removed_ids,
                            int64_t *kept_ids, pds_error *err) {
    pds_status st = PDS_OK;
    pdsi_level L;
    memset(&L, 0, sizeof L);
    L.space = *s;
    L.s = &L.space;
    L.opt = opt;
    L.d = d;
    L.m = m;
    pdsi_heap heap = {NULL, 0};
    L.order = malloc(sizeof(int32_t) * (size_t)m);
    if (!L.order) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
    st = pdsi_grid_build(&L.grid, x, m, d, L.s, opt->bounds, L.order, err);
    if (st != PDS_OK) goto done;

    if (s->search2 > 0.0) {
        double limit = opt->max_pair_work > 0.0 ? opt->max_pair_work : 4e9;
        int64_t most = 0;
        double pairs = pdsi_grid_pair_estimate(&L.grid, &most);
        /* so3 searches around q and -q: up to twice the candidates */
        most *= s->images;
        pairs *= s->images;
        pdsi_space_set_scale(&L.space, most);
        if (pairs > limit) {
            st = pdsi_fail(err, PDS_ERR_TOO_DENSE,
                           "every point has about %.0f candidate neighbours within d_max=%g "
                           "(%.3g pairs in all, the limit is %.3g): the points are too dense for "
                           "this radius (many duplicates, or a domain far smaller than its "
                           "bounding box); pass a smaller radius=, or set volume=/dim=",
                           pairs / (double)m, s->d_max, pairs, limit);
            goto done;
        }
    }

    L.x = malloc(sizeof(double) * (size_t)m * (size_t)d);
    L.w = calloc((size_t)m, sizeof(pdsi_weight));
    L.removed = calloc((size_t)m, 1);
    heap.e = malloc(sizeof(pdsi_heap_entry) * (size_t)m);
    if (!L.x || !L.w || !L.removed || !heap.e) {
        st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld, d=%d)", (long long)m, d);
        goto done;
    }
    for (int64_t k = 0; k < m; ++k)
        memcpy(L.x + k * d, x + (int64_t)L.order[k] * d, sizeof(double) * (size_t)d);

    if (s->search2 > 0.0 && m > n) {
        uint8_t *removed = L.removed;
        L.removed = NULL; /* nothing removed yet: skip the test */
        pdsi_parallel(opt, L.grid.ncell, 64, weigh_task, &L);
        L.removed = removed;
        if (cancelled(opt)) {
            st = pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
            goto done;
        }
    }

    for (int64_t k = 0; k < m; ++k) {
        int64_t id = ids ? ids[L.order[k]] : L.order[k];
        heap.e[k].key = pdsi_w_round(L.w[k]);
        heap.e[k].id = (int32_t)k;
        heap.e[k].tie = (int32_t)id;
    }
    heap.size = m;
    pdsi_heap_build(&heap);

    int64_t removed_count = 0;
    while (removed_count < m - n) {
        pdsi_heap_entry top = heap.e[0];
        double now = pdsi_w_round(L.w[top.id]);
        if (top.key != now) {
            heap.e[0].key = now;
            pdsi_heap_sift_top(&heap);
            continue;
        }
        pdsi_heap_pop(&heap);
        L.removed[top.id] = 1;
        removed_ids[removed_count++] = top.tie;
        if (s->search2 > 0.0) {
            switch (d) {
            case 1: subtract_neighbours(&L, top.id, 1); break;
            case 2: subtract_neighbours(&L, top.id, 2); break;
            case 3: subtract_neighbours(&L, top.id, 3); break;
            default: subtract_neighbours(&L, top.id, d); break;
            }
        }
        if ((removed_count & 4095) == 0 && cancelled(opt)) {
            st = pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
            goto done;
        }
    }
    /* kept, in row order: mark rows still present */
    {
        uint8_t *kept_row = calloc((size_t)m, 1);
        if (!kept_row) {
            st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        for (int64_t k = 0; k < m; ++k)
            if (!L.removed[k]) kept_row[L.order[k]] = 1;
        int64_t c = 0;
        for (int64_t i = 0; i < m; ++i)
            if (kept_row[i]) kept_ids[c++] = ids ? ids[i] : i;
        free(kept_row);
    }
done:
    pdsi_grid_free(&L.grid);
    free(L.order);
    free(L.x);
    free(L.w);
    free(L.removed);
    free(heap.e);
    return st;
}

/* ------------------------------------------------------------ public API -- */

pds_status pds_eliminate(const double *points, int64_t m, int d, int64_t n,
                         const pds_options *options, int64_t *out, pds_error *err) {
    pds_options defaults;
    if (!options) {
        pds_options_init(&defaults);
        options = &defaults;
    }
    const pds_options *opt = options;
    if (err) {
        err->code = PDS_OK;
        err->message[0] = '\0';
    }
    if (!points || !out)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "points and out must not be NULL");
    pds_status st = check_options(m, d, n, opt, err);
    if (st != PDS_OK) return st;
    if (opt->max_memory > 0) {
        size_t need = pds_workspace_bytes(m, d, n, opt);
        if (need > opt->max_memory)
            return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY,
                             "M=%lld points in %d dimensions need about %zu bytes of working "
                             "memory, more than max_memory=%zu",
                             (long long)m, d, need, opt->max_memory);
    }
    st = pdsi_check_points(points, m, d, opt, err);
    if (st != PDS_OK) return st;

    /* so3 and sphere: unit rows in a scratch copy */
    double *scratch = NULL;
    if (opt->metric != PDS_METRIC_EUCLIDEAN) {
        scratch = malloc(sizeof(double) * (size_t)m * (size_t)d);
        if (!scratch) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
        st = pdsi_normalise_rows(points, m, d, opt->metric, scratch, err);
        if (st != PDS_OK) {
            free(scratch);
            return st;
        }
        points = scratch;
    }

    int dim;
    double volume;
    double r_auto = 0.0;
    st = pdsi_domain(points, m, d, opt, &dim, &volume, err);
    /* d > 3: the grid's cells follow the principal axes (pds_pca.c) */
    if (st == PDS_OK && !scratch && !opt->periodic && n < m) {
        st = pdsi_principal_frame(points, m, d, opt, &scratch, err);
        if (scratch) points = scratch;
    }
    if (st == PDS_OK && opt->auto_radius && n < m)
        st = pdsi_estimate_radius(points, m, d, n, opt, &r_auto, &dim, err);
    if (st != PDS_OK) {
        free(scratch);
        return st;
    }

    double *period = NULL;
    pdsi_space s;
    memset(&s, 0, sizeof s);
    s.d = d;
    pdsi_space_set_metric(&s, opt->metric);
    s.periodic = opt->periodic;
    s.alpha = opt->alpha;
    s.alpha_int = (opt->alpha == floor(opt->alpha) && opt->alpha >= 1.0 && opt->alpha <= 64.0)
                      ? (int)opt->alpha
                      : 0;
    if (opt->periodic) {
        period = malloc(sizeof(double) * (size_t)d);
        if (!period) {
            free(scratch);
            return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        }
        for (int k = 0; k < d; ++k) period[k] = opt->bounds[d + k] - opt->bounds[k];
        s.period = period;
    }
    if (dim > 0 && volume < DBL_MIN && !(opt->radius > 0.0) && !opt->auto_radius) {
        /* a product of tiny extents: r_max would come out imprecise or 0 */
        free(period);
        free(scratch);
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "the domain volume underflows (%g in dim=%d): rescale the points "
                         "towards unit size, or pass radius= or volume=",
                         volume, dim);
    }
    double r_max = opt->auto_radius  ? r_auto
                   : opt->radius > 0.0 ? opt->radius
                                       : pds_max_radius(dim, volume, n);
    double d_max = 2.0 * r_max;
    if (!isfinite(d_max)) {
        free(period);
        free(scratch);
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
           to 0 and every point would lose its neighbours: refuse, rather
           than return an arbitrary subset */
        free(period);
        free(scratch);
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "%s=%g gives d_max=%g, outside [1e-140, 1e140], where squared "
                         "distances overflow or underflow: rescale the points towards unit "
                         "size%s",
                         opt->radius > 0.0 ? "radius" : "r_max (from the domain)", r_max, d_max,
                         opt->radius > 0.0 ? " and the radius" : "");
    }
    pdsi_space_set_dmax(&s, d_max);
    s.d_min = opt->weight_limiting
                  ? d_max * (1.0 - pow((double)n / (double)m, opt->gamma)) * opt->beta
                  : 0.0;

    /* removal log: m - n entries for the first level, at most n - n/2 for a
     * progressive level */
    int64_t *removed = malloc(sizeof(int64_t) * (size_t)((m - n > n ? m - n : n) + 1));
    int64_t *kept = malloc(sizeof(int64_t) * (size_t)n);
    int64_t *kept2 = NULL;
    double *sub = NULL;
    if (!removed || !kept) {
        st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    st = run_level(points, m, d, n, NULL, &s, opt, removed, kept, err);
    if (st != PDS_OK) goto done;
    if (!opt->progressive) {
        memcpy(out, kept, sizeof(int64_t) * (size_t)n);
        goto done;
    }
    /* progressive: halve the survivors while at least 3 remain */
    kept2 = malloc(sizeof(int64_t) * (size_t)n);
    sub = malloc(sizeof(double) * (size_t)n * (size_t)d);
    if (!kept2 || !sub) {
        st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    int64_t size = n;
    double grow = dim >= 1 ? pow(2.0, 1.0 / dim) : 1.0;
    while (size >= 3) {
        int64_t half = size / 2;
        d_max *= grow;
        if (!isfinite(d_max)) d_max = DBL_MAX; /* already reaches every finite distance */
        pdsi_space_set_dmax(&s, d_max);
        for (int64_t i = 0; i < size; ++i)
            memcpy(sub + i * d, points + kept[i] * d, sizeof(double) * (size_t)d);
        st = run_level(sub, size, d, half, kept, &s, opt, removed, kept2, err);
        if (st != PDS_OK) goto done;
        for (int64_t t = 0; t < size - half; ++t) out[size - 1 - t] = removed[t];
        int64_t *tmp = kept;
        kept = kept2;
        kept2 = tmp;
        size = half;
    }
    memcpy(out, kept, sizeof(int64_t) * (size_t)size);
done:
    free(scratch);
    free(period);
    free(removed);
    free(kept);
    free(kept2);
    free(sub);
    return st;
}
