/* pds_sequential.c - the sequential run: remove the heaviest live point,
 * subtract its contribution from its live neighbours, repeat.
 *
 * Its maxima come from a lazy bucket queue (pds_buckets.c) while the
 * buckets stay short, else from a tournament tree (pds_tourney.c). On the
 * serial path the coarse run ranks by coarse sums instead (pds_pairs.c),
 * with the same removals. */
#include "pds_state.h"

/* Removes point k (its rounded weight `now`): records it and subtracts its
 * contribution from its remaining neighbours. */
PDSI_INLINE void remove_point(pdsi_level *L, int32_t k, double now, int32_t *rm, double *rm_w,
                              int64_t *count) {
    L->removed[k] = 1;
    rm[*count] = k;
    if (rm_w) rm_w[*count] = now;
    *count += 1;
    if (L->list_start) {
        pdsi_pairs_subtract(L, k);
    } else if (L->s->search2 > 0.0) {
        switch (L->d) {
        case 1: PDSI_SUBTRACT_NEIGHBOURS(L, k, 1, 0); break;
        case 2: PDSI_SUBTRACT_NEIGHBOURS(L, k, 2, 0); break;
        case 3: PDSI_SUBTRACT_NEIGHBOURS(L, k, 3, 0); break;
        default: PDSI_SUBTRACT_NEIGHBOURS(L, k, L->d, 0); break;
        }
    }
}

/* Key 0 (never queued) for the kept points (opt.keep) among keys[0..m);
 * returns how many of them had a key. */
static int64_t unqueue_kept(const pdsi_level *L, uint64_t *keys) {
    int64_t c = 0;
    if (L->keep)
        for (int64_t k = 0; k < L->m; ++k)
            if (L->keep[k] && keys[k]) keys[k] = 0, ++c;
    return c;
}

/* the rounded weight of a key (pdsi_tourney_key) */
PDSI_INLINE double key_weight(uint64_t key) {
    uint64_t bits = key - 1;
    double w;
    memcpy(&w, &bits, sizeof w);
    return w;
}

/* points the bucket queue may scan per point and per removal before the
 * tree takes over (random points: about 6 per removal) */
#define BUCKET_BUDGET_POINTS 8
#define BUCKET_BUDGET_REMOVALS 24

/* The sequential run for the last `left` removals: on the bucket queue
 * (pds_buckets.c) while its buckets stay short, then (crowded buckets: equal
 * weights) lazily on the tournament tree (pds_tourney.c), whose leaves are
 * the level's rows: in input order, so a smaller leaf is the smaller input
 * index the tie rule wants. Both take the same points in the same order. */
PDSI_INLINE pds_status sequential_run(pdsi_level *L, int64_t left, int32_t *rm, double *rm_w,
                                      int64_t *count, pds_error *err) {
    int64_t m = L->m;
    pds_workspace *ws = L->opt->workspace;
    int64_t done = 0;
    pdsi_buckets bq;
    uint64_t *keys = NULL;
    if (!L->testing->tree_only && pdsi_buckets_init(&bq, m, 1, ws)) {
        keys = pdsi_ws_take(ws, PDSI_WS_KEYS, sizeof(uint64_t) * (size_t)m);
        if (keys) {
            for (int64_t k = 0; k < m; ++k)
                keys[k] = L->removed[k] ? 0 : pdsi_tourney_key(pdsi_w_round(L->w[k]));
            unqueue_kept(L, keys);
            pdsi_buckets_build(&bq, keys, m,
                               BUCKET_BUDGET_POINTS * m + BUCKET_BUDGET_REMOVALS * left);
            pdsi_ws_give(ws, keys);
            while (done < left) {
                uint64_t key;
                int32_t k = pdsi_buckets_pop(&bq, L->w, L->tie, &key);
                if (k < 0) break;
                if (L->list_start && bq.top >= 0 && bq.head[bq.top] >= 0) {
                    /* the likely next removal: its list's first lines, while
                     * this one's subtraction runs (large levels, whose lists
                     * are out of the nearer caches) */
                    int32_t h = bq.head[bq.top];
                    int64_t t = L->list_start[h];
                    PDSI_PREFETCH(L->list_ids + t);
                    PDSI_PREFETCH(L->list_c ? (const void *)(L->list_c + t) : (const void *)(L->list_v + t));
                }
                remove_point(L, k, key_weight(key), rm, rm_w, count);
                done++;
                if ((done & 255) == 0 && pdsi_cancelled(L->opt)) {
                    pdsi_buckets_free(&bq, ws);
                    return pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
                }
            }
        }
        pdsi_buckets_free(&bq, ws);
    }
    if (done == left) return PDS_OK;
    pdsi_tourney tree = {0, NULL, NULL};
    int32_t *point = pdsi_ws_take(ws, PDSI_WS_POINTS, sizeof(int32_t) * (size_t)m); /* row -> sorted index */
    if (!point || !pdsi_tourney_init(&tree, m, ws)) {
        pdsi_ws_give(ws, point);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
    }
    for (int64_t k = 0; k < m; ++k) {
        int32_t row = L->order[k];
        point[row] = (int32_t)k;
        if (!L->removed[k]) tree.key[row] = pdsi_tourney_key(pdsi_w_round(L->w[k]));
    }
    if (L->keep)
        for (int64_t k = 0; k < m; ++k)
            if (L->keep[k]) tree.key[L->order[k]] = 0;
    pdsi_tourney_build(&tree);
    while (done < left) {
        int32_t row = pdsi_tourney_top(&tree), k = point[row];
        double now = pdsi_w_round(L->w[k]);
        uint64_t key = pdsi_tourney_key(now);
        if (tree.key[row] != key) {
            pdsi_tourney_set(&tree, row, key);
            continue;
        }
        pdsi_tourney_set(&tree, row, 0);
        remove_point(L, k, now, rm, rm_w, count);
        done++;
        if ((done & 255) == 0 && pdsi_cancelled(L->opt)) {
            pdsi_tourney_free(&tree, ws);
            pdsi_ws_give(ws, point);
            return pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
        }
    }
    pdsi_tourney_free(&tree, ws);
    pdsi_ws_give(ws, point);
    return PDS_OK;
}

/* The coarse run (serial levels): the sequential run on the coarse sums
 * (pds_pairs.c, pdsi_buckets_pop_coarse), 4-byte terms and 8-byte sums in
 * place of 16-byte fixed point, with the same removals; points in doubt
 * are compared by their exact weights, recomputed from the coordinates as
 * the rounds do. Sets *gave_up (and stops) where the queue gives up: the
 * caller then runs the level again on exact weights. */
typedef struct exact_job {
    pdsi_level *L;
    int64_t budget; /* list entries the exact weights may still read */
} exact_job;

/* point k's exact weight: its live neighbours' contributions from the
 * coordinates */
static pdsi_weight exact_sum(const pdsi_level *L, int32_t k) {
    int64_t t0 = L->list_start[k], t1 = L->list_start[k + 1];
    int d = L->d;
    const double *xk = L->x + (int64_t)k * d;
    pdsi_weight sum = {0, 0};
    for (int64_t t = t0; t < t1; ++t) {
        int32_t j = L->list_ids16 ? L->list_ids16[t] : L->list_ids[t];
        if (L->removed[j]) continue;
        double key = pdsi_pair_key_any(L->s, xk, L->x + (int64_t)j * d, d, L->s->period);
        pdsi_w_add(&sum, pdsi_contribution(L->s, key));
    }
    return sum;
}

static double exact_weight(void *task, int32_t k) {
    exact_job *J = task;
    const pdsi_level *L = J->L;
    int64_t len = L->list_start[k + 1] - L->list_start[k];
    if (J->budget < len) return NAN;
    J->budget -= len;
    return pdsi_w_round(exact_sum(L, k));
}

/* scans a point and a removal left the coarse run's queue may make once no
 * finer buckets are allowed */
#define STRETCH 64

/* Files the live points of the coarse run by their bounds (wc), keys[] as
 * scratch; pops may scan 8 points a live point and 24 a removal left. */
static void fill_coarse_queue(const pdsi_level *L, pdsi_buckets *bq, uint64_t *keys,
                              int64_t left) {
    int64_t m = L->m, live = 0;
    for (int64_t k = 0; k < m; ++k) {
        keys[k] = L->removed[k] ? 0 : pdsi_tourney_key(pdsi_coarse_round(L->wc[k]));
        live += !L->removed[k];
    }
    live -= unqueue_kept(L, keys);
    pdsi_buckets_build(bq, keys, m, BUCKET_BUDGET_POINTS * live + BUCKET_BUDGET_REMOVALS * left);
}

PDSI_INLINE pds_status coarse_run(pdsi_level *L, int64_t left, int32_t *rm, int64_t *count,
                                  int *gave_up, pds_error *err) {
    int64_t m = L->m;
    pds_workspace *ws = L->opt->workspace;
    const int64_t *start = L->list_start;
    pdsi_buckets bq;
    *gave_up = 1;
    if (!pdsi_buckets_init(&bq, m, 3, ws)) return PDS_OK;
    uint64_t *keys = pdsi_ws_take(ws, PDSI_WS_KEYS, sizeof(uint64_t) * (size_t)m);
    if (!keys) {
        pdsi_buckets_free(&bq, ws);
        return PDS_OK;
    }
    for (int64_t k = 0; k < m; ++k) L->wc[k] += (uint64_t)(start[k + 1] - start[k]); /* the bound */
    fill_coarse_queue(L, &bq, keys, left);
    exact_job J = {L, start[m] / 8 + 4096};
    int64_t done = 0;
    int stretched = 0;
    while (done < left) {
        int32_t k = pdsi_buckets_pop_coarse(&bq, L->wc, start, L->tie, exact_weight, &J);
        if (k == PDSI_BUCKETS_CROWDED) {
            /* Crowded buckets, not a tie: nearly equal bounds (in a tight
             * cluster, where every point neighbours every other, the points
             * near its middle weigh within 1/1000 of each other). Finer
             * buckets, filled from the live points' bounds, and on; past
             * the finest, once, a budget of STRETCH scans a point and a
             * removal left (a tie crowds for good, and too many in doubt
             * give up). Poses clustered near a few views crowd this way; the
             * level again on exact weights would cost two to three times as
             * much. */
            if (pdsi_buckets_refine(&bq, m, ws)) {
                fill_coarse_queue(L, &bq, keys, left - done);
                continue;
            }
            if (!bq.head || stretched) break;
            stretched = 1;
            int64_t live = m - done; /* (this run made every removal of the level) */
            bq.budget = bq.scanned + STRETCH * (live + left - done);
            continue;
        }
        if (k < 0) break;
        if (bq.top >= 0 && bq.head[bq.top] >= 0) {
            /* the likely next removal's list (see pdsi_sequential_run) */
            int64_t t = start[bq.head[bq.top]];
            PDSI_PREFETCH(L->list_ids16 ? (const void *)(L->list_ids16 + t) : (const void *)(L->list_ids + t));
            PDSI_PREFETCH(L->list_a + t);
        }
        L->removed[k] = 1;
        rm[(*count)++] = k;
        pdsi_pairs_subtract_coarse(L, k);
        done++;
        if ((done & 255) == 0 && pdsi_cancelled(L->opt)) {
            pdsi_buckets_free(&bq, ws);
            pdsi_ws_give(ws, keys);
            return pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
        }
    }
    pdsi_buckets_free(&bq, ws);
    pdsi_ws_give(ws, keys);
    *gave_up = done < left;
    return PDS_OK;
}

/* (the runs count their removals in a local, not through the caller's
 * pointer, which the stores into rm could alias) */
pds_status pdsi_sequential_run(pdsi_level *L, int64_t left, int32_t *rm, double *rm_w,
                               int64_t *count, pds_error *err) {
    int64_t c = *count;
    pds_status st = sequential_run(L, left, rm, rm_w, &c, err);
    *count = c;
    return st;
}

pds_status pdsi_coarse_run(pdsi_level *L, int64_t left, int32_t *rm, int64_t *count, int *gave_up,
                           pds_error *err) {
    int64_t c = *count;
    pds_status st = coarse_run(L, left, rm, &c, gave_up, err);
    *count = c;
    return st;
}
