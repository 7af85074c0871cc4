/* pds_level.c - one level: eliminate m points down to n.
 *
 * The points are renumbered in grid-cell order (pds_grid.c). Every point
 * gets the sum of its neighbours' exact fixed-point contributions: on the
 * serial path each pair once (pds_pairs.c), else each point its own, in
 * parallel, with its neighbour list stored (pds_weights.c). Then M - n
 * points are removed exactly as the sequential run removes them (the
 * heaviest, its contribution subtracted from its live neighbours, and
 * again): by the sequential run itself on the serial path
 * (pds_sequential.c), else in parallel rounds (pds_rounds.c). The removal
 * order, which the progressive levels need, is the removal weights sorted
 * descending. */
#include "pds_state.h"
#include "pds_problem.h"

#include <stdio.h>

/* Levels of at most SERIAL_PAIRS candidate pairs take the serial path (each
 * pair once, then the sequential run on the bucket queue); with a
 * parallel-for, only those of at most SERIAL_POINTS points or
 * SERIAL_PAIRS_PARALLEL candidate pairs: larger ones run faster on the
 * per-point pass and the parallel rounds. Callers with many small problems
 * (batches, samplers) run those in parallel instead. */
#define SERIAL_PAIRS 4e7
#define SERIAL_POINTS 32768
#define SERIAL_PAIRS_PARALLEL 3e7
/* the most bytes of stored contributions in the per-point lists (else they
 * are recomputed at each removal) */
#define CONTRIB_BYTES 8e8

static int serial_level(const pdsi_level *L, double pairs, int allowed) {
    return allowed && pairs <= SERIAL_PAIRS &&
           (!L->opt->parallel_for || L->m <= SERIAL_POINTS || pairs <= SERIAL_PAIRS_PARALLEL);
}

/* Whether the level looks like a lattice or is full of duplicates: more
 * than a quarter of the points (in cell order) share a coordinate exactly
 * with the one before (in general position none do). Their weights tie in
 * numbers, so the coarse run would give up at once: better skipped. */
static int lattice_like(const pdsi_level *L) {
    int64_t m = L->m, same = 0;
    int d = L->d;
    for (int64_t k = 1; k < m; ++k) {
        const double *a = L->x + (k - 1) * d, *b = a + d;
        int any = 0;
        for (int i = 0; i < d; ++i) any |= a[i] == b[i];
        same += any;
    }
    return same * 4 > m;
}

/* removal records, sorted into the sequential order: weight at removal
 * descending, then input index ascending (the sequential run's removal keys
 * strictly decrease, see pds_rounds.c) */
typedef struct removal {
    double w;
    int64_t id;
} removal;

static int removal_cmp(const void *pa, const void *pb) {
    const removal *a = pa, *b = pb;
    if (a->w != b->w) return a->w > b->w ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* the level's points in cell order, and their input indices */
typedef struct copy_job {
    pdsi_level *L;
    const double *x, *gx;
    const int64_t *ids;
} copy_job;

static void copy_task(void *task, int64_t b, int64_t e) {
    copy_job *J = task;
    pdsi_level *L = J->L;
    int d = L->d;
    for (int64_t k = b; k < e; ++k) {
        int32_t i = L->order[k];
        double *to = L->x + k * d;
        const double *from = J->x + (int64_t)i * d;
        if (d == 2) {
            /* (a memcpy call a row costs more than the row) */
            to[0] = from[0], to[1] = from[1];
        } else {
            memcpy(to, from, sizeof(double) * (size_t)d);
        }
        if (L->gx) memcpy(L->gx + k * d, J->gx + (int64_t)i * d, sizeof(double) * (size_t)d);
        L->tie[k] = (int32_t)(J->ids ? J->ids[i] : i);
    }
}

/* The level's grid on gx, the candidate pairs it implies (*pairs) and the
 * fixed point's scale; refuses a level whose pairs pass the work budget. */
static pds_status level_grid(pdsi_level *L, const double *gx, int64_t n, double *pairs,
                             pds_error *err) {
    const pds_options *opt = L->opt;
    const pdsi_space *s = L->s;
    int64_t m = L->m;
    int d = L->d;
    pds_status st = pdsi_grid_build(&L->grid, gx, m, d, s, opt->bounds, 1, L->order, err);
    *pairs = 0.0;
    if (st != PDS_OK || !(s->search2 > 0.0)) return st;
    double limit = opt->max_pair_work > 0.0 ? opt->max_pair_work : 4e9;
    int64_t most = 0;
    *pairs = pdsi_grid_pair_estimate(&L->grid, &most);
    /* so3 searches around q and -q: up to twice the candidates */
    most *= s->images;
    *pairs *= s->images;
    pdsi_space_set_scale(&L->space, most);
    /* a distance test reads d coordinates: pairs of more than eight count
     * d / 8 each */
    double per_pair = d > 8 ? d / 8.0 : 1.0;
    if (*pairs * per_pair <= limit) return PDS_OK;
    /* few kept of many (r_max from the domain or the points): r_max is a
     * large share of the domain, so every point neighbours a large share
     * of the others whatever the data */
    char few[160] = "";
    if (n * 64 < m && !(opt->radius > 0.0))
        snprintf(few, sizeof few,
                 "; or, as n=%lld is small against M=%lld, eliminate a random pool of "
                 "about 8 n points (as PoissonSampler's pool_size does)",
                 (long long)n, (long long)m);
    return pdsi_fail(err, PDS_ERR_TOO_DENSE,
                     "every point has about %.0f candidate neighbours within d_max=%g "
                     "(%.3g pairs, of %d coordinates; the limit is %.3g pairs of up to 8): "
                     "the points are too dense for this radius (duplicates, a domain far "
                     "smaller than its bounding box, or many dimensions without "
                     "structure): pass radius=\"auto\" or a smaller radius=, or set "
                     "volume=/dim=%s",
                     *pairs / (double)m, s->d_max, *pairs, d, limit, few);
}

/* Whether the per-point lists fit (*lists), and their contributions too
 * (*contribs): the lists hold at most `pairs` ids; they stay under 6 GB and
 * within the caller's memory limit, the contributions (16 bytes an entry)
 * only while the lists are small. */
static void level_memory(const pdsi_level *L, double pairs, int64_t n, int *lists, int *contribs) {
    const pds_options *opt = L->opt;
    /* Uniform points have about pairs * (ball / stencil volume) neighbours:
     * 0.67, 0.35 of the candidates on 1, 2 grid axes, on 3 axes 0.27 with
     * half-size cells, 0.155 with full ones */
    static const double hit[4] = {1.0, 0.67, 0.35, 0.27};
    double entries = pairs * (L->grid.g == 3 && L->grid.reach == 1 ? 0.155 : hit[L->grid.g]);
    double list_bytes = pairs * (double)sizeof(int32_t);
    double base = (double)pds_workspace_bytes(L->m, L->d, n, opt);
    *lists = list_bytes <= 6e9 &&
             (opt->max_memory == 0 || list_bytes + base <= (double)opt->max_memory);
    *contribs = entries * (double)sizeof(pdsi_weight) <= CONTRIB_BYTES &&
                (opt->max_memory == 0 || 5.0 * list_bytes + base <= (double)opt->max_memory);
}

/* Weighs the level and removes m - n of its points (their sorted indices
 * to rm, their rounded weights at removal to rm_w when not NULL, *count
 * of them); *serial says whether the sequential run made every removal (in
 * its order). */
static pds_status level_eliminate(pdsi_level *L, int64_t n, double pairs, int lists, int contribs,
                                  const pdsi_testing *t, int32_t *rm, double *rm_w,
                                  int64_t *count, int *serial, pds_error *err) {
    int64_t m = L->m;
    int d = L->d;
    pds_status st;
    *serial = 0;
    *count = 0;
    int64_t left = m - n;
    if (L->s->search2 > 0.0 && m > n) {
        int is_serial = contribs && serial_level(L, pairs, !t->no_serial);
        /* 1-D: r_max is the spacing of the densest packing, and the
         * elimination gets close to it: the last weights are tiny terms of
         * neighbours near d_max, below the coarse terms' resolution, so the
         * coarse run would give up near its end. So with kept points over a
         * quarter of n (opt.keep): the last points standing weigh little but
         * tiny terms of kept neighbours near d_max */
        int coarse = !t->tree_only && !t->exact &&
                     (t->coarse ||
                      !(is_serial && (d == 1 || L->n_keep * 4 > n || lattice_like(L))));
        *serial = pdsi_weigh_level(L, is_serial, coarse, lists, contribs && d > 3);
        if (pdsi_cancelled(L->opt)) return pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
    }
    if (*serial && L->wc) {
        int gave_up = 0;
        st = pdsi_coarse_run(L, left, rm, count, &gave_up, err);
        if (st != PDS_OK) return st;
        if (gave_up) {
            /* equal or nearly equal weights in numbers (a lattice: at the
             * first removal): the level again on exact weights */
            pdsi_free_lists(L);
            memset(L->w, 0, sizeof(pdsi_weight) * (size_t)m);
            memset(L->removed, 0, (size_t)m);
            *count = 0;
            *serial = pdsi_weigh_level(L, 1, 0, lists, contribs && d > 3);
        } else {
            left = 0;
        }
    }
    /* a serial level goes to the sequential run at once (the rounds pay off
     * in parallel) */
    st = *serial ? PDS_OK : pdsi_rounds(L, &left, t->tail, rm, rm_w, count, err);
    if (st == PDS_OK && left > 0) st = pdsi_sequential_run(L, left, rm, rm_w, count, err);
    return st;
}

/* The removed points' ids in the sequential run's order, and the kept ids
 * in row order. */
static pds_status level_output(const pdsi_level *L, const int64_t *ids, const int32_t *rm,
                               const double *rm_w, int64_t count, int serial,
                               int64_t *removed_ids, int64_t *kept_ids, pds_error *err) {
    int64_t m = L->m;
    if (removed_ids && serial) {
        for (int64_t t = 0; t < count; ++t) removed_ids[t] = L->tie[rm[t]];
    } else if (removed_ids) {
        removal *r = malloc(sizeof(removal) * (size_t)(count > 0 ? count : 1));
        if (!r) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        for (int64_t t = 0; t < count; ++t) r[t].w = rm_w[t], r[t].id = L->tie[rm[t]];
        qsort(r, (size_t)count, sizeof(removal), removal_cmp);
        for (int64_t t = 0; t < count; ++t) removed_ids[t] = r[t].id;
        free(r);
    }
    uint8_t *kept_row = calloc((size_t)m, 1);
    if (!kept_row) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
    for (int64_t k = 0; k < m; ++k)
        if (!L->removed[k]) kept_row[L->order[k]] = 1;
    int64_t c = 0;
    for (int64_t i = 0; i < m; ++i)
        if (kept_row[i]) kept_ids[c++] = ids ? ids[i] : i;
    free(kept_row);
    return PDS_OK;
}

pds_status pdsi_level_run(const pdsi_problem *P, const double *x, const double *gx, int64_t m,
                          int64_t n, const int64_t *ids, const pdsi_space *s,
                          const pdsi_testing *t, int64_t *removed_ids, int64_t *kept_ids,
                          pds_error *err) {
    const pds_options *opt = P->opt;
    int d = P->d;
    pds_status st = PDS_OK;
    pdsi_level L;
    memset(&L, 0, sizeof L);
    L.space = *s;
    L.s = &L.space;
    L.opt = opt;
    L.d = d;
    L.m = m;
    L.testing = t;
    L.space.wide = pdsi_wide(opt);
    int32_t *rm = NULL;
    double *rm_w = NULL;
    int64_t count = 0;
    int serial = 0, lists = 0, contribs = 0;
    double pairs = 0.0;
    L.order = malloc(sizeof(int32_t) * (size_t)m);
    if (!L.order) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
    if (!gx) gx = x;
    st = level_grid(&L, gx, n, &pairs, err);
    if (st != PDS_OK) goto done;
    level_memory(&L, pairs, n, &lists, &contribs);
    /* Half-size cells pay where each pair is met once (the serial pass);
     * the per-point pass meets every pair from both ends in runs of about
     * two points a cell, where the runs' overhead outweighs the extra
     * candidates of full-size cells. Not for d > 3, where the grid's three
     * axes leave the others unculled and full cells multiply those
     * candidates too. Those levels sort the points again (O(m)); the
     * estimates above stay (the half grid's candidates bound the
     * neighbours as well). */
    if (L.grid.reach == 2 && d <= 3 && s->search2 > 0.0 && m > n &&
        !(contribs && serial_level(&L, pairs, !t->no_serial))) {
        pdsi_grid_free(&L.grid);
        st = pdsi_grid_build(&L.grid, gx, m, d, L.s, opt->bounds, 0, L.order, err);
        if (st != PDS_OK) goto done;
    }
    L.x = malloc(sizeof(double) * (size_t)m * (size_t)d);
    if (gx != x && d > 8) {
        L.gx = malloc(sizeof(double) * (size_t)m * (size_t)d);
        if (!L.gx) {
            st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld, d=%d)", (long long)m, d);
            goto done;
        }
        L.glim = pdsi_frame_limit(L.s->search2, d, P->spread);
    }
    L.w = calloc((size_t)m, sizeof(pdsi_weight));
    L.removed = calloc((size_t)m, 1);
    L.tie = malloc(sizeof(int32_t) * (size_t)m);
    if (P->keep) {
        L.keep = malloc((size_t)m);
        L.n_keep = P->n_keep;
    }
    rm = malloc(sizeof(int32_t) * (size_t)(m - n + 1));
    if (removed_ids) rm_w = malloc(sizeof(double) * (size_t)(m - n + 1));
    if (!L.x || !L.w || !L.removed || !L.tie || !rm || (removed_ids && !rm_w) ||
        (P->keep && !L.keep)) {
        st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld, d=%d)", (long long)m, d);
        goto done;
    }
    copy_job cj = {&L, x, gx, ids};
    pdsi_parallel(opt, m, 1 << 16, copy_task, &cj);
    /* (a loop of its own: in copy_task's it costs every call) */
    if (P->keep)
        for (int64_t k = 0; k < m; ++k) L.keep[k] = P->keep[L.tie[k]];
    st = level_eliminate(&L, n, pairs, lists, contribs, t, rm, rm_w, &count, &serial, err);
    if (st == PDS_OK)
        st = level_output(&L, ids, rm, rm_w, count, serial, removed_ids, kept_ids, err);
done:
    pdsi_grid_free(&L.grid);
    pdsi_free_lists(&L);
    free(L.order);
    free(L.x);
    free(L.gx);
    free(L.w);
    free(L.removed);
    free(L.tie);
    free(L.keep);
    free(rm);
    free(rm_w);
    return st;
}
