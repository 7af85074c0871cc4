/* pds_eliminate.c - weights, elimination and progressive levels.
 *
 * One level: renumber the points in grid-cell order, give every point the
 * sum of its neighbours' fixed-point contributions and store its neighbour
 * list (in parallel: each point sums its own, so the result does not depend
 * on the threads), then remove M - n points exactly as the sequential run
 * would (remove the heaviest, subtract its contribution from its remaining
 * neighbours, repeat): in parallel rounds (pds_rounds.c), with the
 * sequential run for any last removals; small levels take a serial path
 * instead (pds_pairs.c: each pair once, then the sequential run for every
 * removal). The sequential run takes its maxima from a lazy bucket queue
 * (pds_buckets.c), or a tournament tree (pds_tourney.c) when the buckets
 * crowd. The removal order, needed for the progressive levels, is the
 * removal weights sorted descending. */
#include "pds_internal.h"

#include <float.h>
#include <stdio.h>
#include <string.h>
#ifdef PDS_ROUNDS_STATS
#include <time.h>
static double stats_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
#define STAMP(what) fprintf(stderr, "  %-12s %.3f s cpu\n", what, stats_cpu())
#else
#define STAMP(what) ((void)0)
#endif

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
    /* beta > 1 can put d_min at or past d_max: every limited contribution
     * would be (1 - d_min/d_max)^alpha <= 0, no weight at all */
    if (!(opt->beta >= 0.0 && opt->beta <= 1.0))
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                         "beta must be in [0, 1] (d_min = d_max (1 - (n/M)^gamma) beta stays "
                         "below d_max), got %g",
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
    if (m < 1 || d < 1 || n < 1) return 0;
    size_t M = (size_t)m;
    size_t per_point = (size_t)d * sizeof(double) /* points in cell order          */
                       + 3 * sizeof(int32_t)       /* order, cell of each, grid cell */
                       + sizeof(pdsi_weight)       /* weight                         */
                       + 2                         /* removed, kept flags            */
                       + sizeof(int32_t)           /* input index (ties)             */
                       + sizeof(int32_t *) + sizeof(int32_t) /* neighbour list head  */
                       + 7 * sizeof(int32_t) + 2   /* rounds: candidates, blockers,
                                                      live lists, candidate flags    */
                       + 2 * sizeof(int64_t);      /* removal records, kept ids      */
    /* so3/sphere: unit rows; d > 3: the principal frame, and for d > 8 the
     * same in cell order */
    if ((opt && opt->metric != PDS_METRIC_EUCLIDEAN) || d > 3) per_point += (size_t)d * sizeof(double);
    if (d > 8) per_point += (size_t)d * sizeof(double);
    /* The neighbour lists are not counted: they are optional, kept only when
     * they fit beside this (and under max_memory); else the grid is rescanned. */
    return M * per_point + (8 * 32768 + 8) * 16;
}

/* --------------------------------------------------------------- weights -- */

/* longest neighbour list searched for a pair's contribution (see below) */
#define REUSE_MAX 24

/* The weight pass also stores every point's neighbour list, so that the
 * elimination never rescans the grid. Cells are split into chunks of about
 * PDSI_CHUNK_POINTS points; each chunk appends its points' lists to its own
 * block (grown by doubling, shrunk to fit at the end), so no pass is needed
 * to count neighbours first and the blocks do not depend on the threads. */
#define CHUNK_POINTS 8192
/* the most bytes of stored contributions (else they are recomputed) */
#define CONTRIB_BYTES 8e8

typedef struct weigh_job {
    pdsi_level *L;
    const int64_t *chunk_cell; /* nchunks + 1 cell offsets          */
    int failed;                /* a block could not be allocated    */
} weigh_job;

PDSI_INLINE void weigh_range(pdsi_level *L, int64_t cb, int64_t ce, int d) {
    for (int64_t c = cb; c < ce; ++c) {
        for (int32_t k = L->grid.start[c]; k < L->grid.start[c + 1]; ++k) {
            if (cancelled(L->opt)) return; /* the caller stops */
            pdsi_weight sum = {0, 0};
            PDSI_FOR_NEIGHBOURS(L, k, d, pdsi_w_add(&sum, pdsi_contribution(L->s, dist2)));
            L->w[k] = sum;
        }
    }
}

/* One chunk with lists; returns 0 when out of memory. */
PDSI_INLINE int weigh_chunk_lists(pdsi_level *L, int64_t chunk, int64_t cb, int64_t ce, int d) {
    int64_t pts = L->grid.start[ce] - L->grid.start[cb];
    int64_t cap = pts * 16 + 64, len = 0;
    int32_t *buf = malloc(sizeof(int32_t) * (size_t)cap);
    pdsi_weight *cbuf = L->nbw ? malloc(sizeof(pdsi_weight) * (size_t)cap) : NULL;
    /* where each point's list starts in buf, while the chunk is built */
    int32_t first = L->grid.start[cb];
    int64_t *start = cbuf ? malloc(sizeof(int64_t) * (size_t)(pts > 0 ? pts : 1)) : NULL;
    if (!buf || (L->nbw && (!cbuf || !start))) {
        free(buf);
        free(cbuf);
        free(start);
        return 0;
    }
    /* the contribution of every neighbour within d_min (distance 0 is
     * raised to d_min like any other), computed once */
    double d_min = L->s->d_min;
    int near_min = d_min > 0.0;
    pdsi_weight at_min = pdsi_contribution(L->s, 0.0);
    double *scratch = NULL; /* distances of one point's neighbours */
    int64_t nscratch = 0;
    int32_t r[2 * PDSI_MAX_RANGES];
    for (int64_t c = cb; c < ce; ++c) {
        int32_t b = L->grid.start[c], e = L->grid.start[c + 1];
        if (b == e) continue;
        int nr = pdsi_grid_ranges(&L->grid, c, r);
        int64_t most = pdsi_ranges_length(r, nr);
        for (int32_t k = b; k < e; ++k) {
            if (cancelled(L->opt)) {
                /* the caller stops before reading the lists (a 1-D chunk
                 * of 8192 points with 10^4 neighbours each took ~0.5 s) */
                for (int32_t j = k; j < L->grid.start[ce]; ++j) L->nb_cnt[j] = 0;
                c = ce;
                break;
            }
            /* so3 near w = 0: also the cells around -q (pdsi_images_of) */
            const double *xk = L->x + (int64_t)k * d;
            int nim = pdsi_images_of(L->s, xk), nr1 = 0;
            int32_t r1[2 * PDSI_MAX_RANGES];
            /* (the vector scan stores whole vectors past its records) */
            int64_t most_k = most + PDSI_SCAN_SLACK;
            if (nim == 2) {
                nr1 = pdsi_grid_image_ranges(&L->grid, xk, k, 1, r1);
                most_k += pdsi_ranges_length(r1, nr1);
            }
            if (len + most_k > cap) {
                int64_t want = cap * 2 > len + most_k ? cap * 2 : len + most_k;
                int32_t *grown = realloc(buf, sizeof(int32_t) * (size_t)want);
                if (grown) buf = grown;
                if (grown && cbuf) {
                    pdsi_weight *cgrown = realloc(cbuf, sizeof(pdsi_weight) * (size_t)want);
                    if (cgrown) cbuf = cgrown;
                    else grown = NULL;
                }
                if (!grown) {
                    free(buf);
                    free(cbuf);
                    free(start);
                    return 0;
                }
                cap = want;
            }
            if (most_k > nscratch) {
                double *grown = realloc(scratch, sizeof(double) * (size_t)most_k);
                if (!grown) {
                    free(buf);
                    free(cbuf);
                    free(scratch);
                    free(start);
                    return 0;
                }
                scratch = grown, nscratch = most_k;
            }
            pdsi_weight sum = {0, 0};
            int64_t at = len, nd = 0;
            /* every candidate but k itself */
            nd = pdsi_scan_ranges(L, xk, 0, r, nr, 0, k, buf + at, scratch, nd, NULL);
            if (nim == 2) nd = pdsi_scan_ranges(L, xk, 1, r1, nr1, 0, k, buf + at, scratch, nd, NULL);
            len = at + nd;
            if (start) start[k - first] = at;
            if (L->s->wide) {
                /* AVX-512: every contribution, eight at a time, is cheaper
                 * than looking any up (so3 100k -> 12.5k, 2 threads: 0.27 -> 0.24 s;
                 * 2-D 1M: 1.23 -> 1.10 s) */
                pdsi_scale_contributions(L->s, scratch, nd);
                for (int64_t t = 0; t < nd; ++t) {
                    pdsi_weight cw = pdsi_fixed(scratch[t]);
                    pdsi_w_add(&sum, cw);
                    if (cbuf) cbuf[at + t] = cw;
                }
            } else {
                for (int64_t t = 0; t < nd; ++t) {
                    pdsi_weight cw = {0, 0};
                    int32_t j = buf[at + t];
                    int found = 0;
                    if (start && j < k && j >= first && L->nb_cnt[j] <= REUSE_MAX) {
                        /* j's list, built earlier in this chunk, holds k with
                         * the same contribution (the key is symmetric bit for
                         * bit). A linear search: only on short lists, where it
                         * is cheaper than the contribution (long lists, e.g.
                         * many candidates per kept point or so3, made it
                         * quadratic) */
                        const int32_t *lj = buf + start[j - first];
                        for (int32_t u = 0, nj = L->nb_cnt[j]; u < nj; ++u) {
                            if (lj[u] == k) {
                                cw = cbuf[start[j - first] + u];
                                found = 1;
                                break;
                            }
                        }
                    }
                    /* closer than d_min: the weight function is flat there
                     * (max(dist, d_min)), the contribution the one at d_min */
                    if (!found)
                        cw = (near_min && pdsi_key_distance(L->s, scratch[t]) < d_min)
                                 ? at_min
                                 : pdsi_contribution(L->s, scratch[t]);
                    pdsi_w_add(&sum, cw);
                    if (cbuf) cbuf[at + t] = cw;
                }
            }
            L->w[k] = sum;
            L->nb_cnt[k] = (int32_t)(len - at);
        }
    }
    free(scratch);
    free(start);
    if (len < cap) {
        int32_t *fit = realloc(buf, sizeof(int32_t) * (size_t)(len > 0 ? len : 1));
        if (fit) buf = fit;
        if (cbuf) {
            pdsi_weight *cfit = realloc(cbuf, sizeof(pdsi_weight) * (size_t)(len > 0 ? len : 1));
            if (cfit) cbuf = cfit;
        }
    }
    L->nb_chunks[chunk] = buf;
    if (cbuf) L->nbw_chunks[chunk] = cbuf;
    int64_t at = 0;
    for (int32_t k = L->grid.start[cb]; k < L->grid.start[ce]; ++k) {
        L->nb[k] = buf + at;
        if (cbuf) L->nbw[k] = cbuf + at;
        at += L->nb_cnt[k];
    }
    return 1;
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

static void weigh_lists_task(void *task, int64_t b, int64_t e) {
    weigh_job *J = task;
    pdsi_level *L = J->L;
    for (int64_t ch = b; ch < e; ++ch) {
        if (cancelled(L->opt) || J->failed) return;
        int64_t cb = J->chunk_cell[ch], ce = J->chunk_cell[ch + 1];
        int ok;
        switch (L->d) {
        case 1: ok = weigh_chunk_lists(L, ch, cb, ce, 1); break;
        case 2: ok = weigh_chunk_lists(L, ch, cb, ce, 2); break;
        case 3: ok = weigh_chunk_lists(L, ch, cb, ce, 3); break;
        default: ok = weigh_chunk_lists(L, ch, cb, ce, L->d); break;
        }
        if (!ok) J->failed = 1; /* benign race: only ever set to 1 */
    }
}

static void free_lists(pdsi_level *L) {
    if (L->lists_block) {
        pdsi_ws_give(L->opt->workspace, L->lists_block);
        L->lists_block = NULL;
        L->list_start = NULL;
        L->list_ids = NULL;
        L->list_c = NULL;
        L->list_v = NULL;
        L->list_a = NULL;
        L->wc = NULL;
        L->list_ids16 = NULL;
        return;
    }
    for (int64_t c = 0; c < L->nb_nchunks; ++c) {
        if (L->nb_chunks) free(L->nb_chunks[c]);
        if (L->nbw_chunks) free(L->nbw_chunks[c]);
    }
    free(L->nb_chunks);
    free(L->nbw_chunks);
    free(L->nb);
    free(L->nbw);
    free(L->nb_cnt);
    L->nb_chunks = NULL;
    L->nbw_chunks = NULL;
    L->nb = NULL;
    L->nbw = NULL;
    L->nb_cnt = NULL;
    L->nb_nchunks = 0;
}

/* Weights with neighbour lists (and their contributions when `contribs`);
 * returns 0 (and stores none) when memory for them runs out, so the caller
 * falls back to scanning the grid. */
static int weigh_with_lists(pdsi_level *L, int contribs) {
    int64_t ncell = L->grid.ncell, m = L->m;
    int64_t nch = m / CHUNK_POINTS + 1;
    if (nch > ncell) nch = ncell;
    int64_t *chunk_cell = malloc(sizeof(int64_t) * (size_t)(nch + 1));
    L->nb_chunks = calloc((size_t)nch, sizeof(int32_t *));
    L->nb = malloc(sizeof(int32_t *) * (size_t)m);
    L->nb_cnt = malloc(sizeof(int32_t) * (size_t)m);
    L->nb_nchunks = nch;
    if (contribs) {
        L->nbw_chunks = calloc((size_t)nch, sizeof(pdsi_weight *));
        L->nbw = malloc(sizeof(pdsi_weight *) * (size_t)m);
    }
    if (!chunk_cell || !L->nb_chunks || !L->nb || !L->nb_cnt ||
        (contribs && (!L->nbw_chunks || !L->nbw))) {
        free(chunk_cell);
        free_lists(L);
        return 0;
    }
    /* chunk boundaries: cells split so each chunk holds about m / nch points */
    int64_t c = 0;
    chunk_cell[0] = 0;
    for (int64_t ch = 1; ch < nch; ++ch) {
        int64_t goal = m * ch / nch;
        while (c < ncell && L->grid.start[c] < goal) ++c;
        chunk_cell[ch] = c;
    }
    chunk_cell[nch] = ncell;
    weigh_job J = {L, chunk_cell, 0};
    pdsi_parallel(L->opt, nch, 1, weigh_lists_task, &J);
    free(chunk_cell);
    if (J.failed) {
        free_lists(L);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------- the sequential run (tail) -- */

/* Removes point k (its rounded weight `now`): records it and subtracts its
 * contribution from its remaining neighbours. */
PDSI_INLINE void remove_point(pdsi_level *L, int32_t k, double now, int32_t *rm, double *rm_w,
                              int64_t *count) {
    L->removed[k] = 1;
    rm[*count] = k;
    if (rm_w) rm_w[*count] = now;
    *count += 1;
    if (L->s->search2 > 0.0) {
        switch (L->d) {
        case 1: PDSI_SUBTRACT_NEIGHBOURS(L, k, 1, 0); break;
        case 2: PDSI_SUBTRACT_NEIGHBOURS(L, k, 2, 0); break;
        case 3: PDSI_SUBTRACT_NEIGHBOURS(L, k, 3, 0); break;
        default: PDSI_SUBTRACT_NEIGHBOURS(L, k, L->d, 0); break;
        }
    }
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
static pds_status heap_tail(pdsi_level *L, int64_t left, int32_t *rm, double *rm_w,
                            int64_t *count, pds_error *err) {
    int64_t m = L->m;
    pds_workspace *ws = L->opt->workspace;
    int64_t done = 0;
    pdsi_buckets bq;
    uint64_t *keys = NULL;
    if (!L->tree_only && pdsi_buckets_init(&bq, m, 1, ws)) {
        keys = pdsi_ws_take(ws, PDSI_WS_KEYS, sizeof(uint64_t) * (size_t)m);
        if (keys) {
            for (int64_t k = 0; k < m; ++k)
                keys[k] = L->removed[k] ? 0 : pdsi_tourney_key(pdsi_w_round(L->w[k]));
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
                     * are in L3: 2-D 100k 64 -> 57 ms) */
                    int32_t h = bq.head[bq.top];
                    int64_t t = L->list_start[h];
                    PDSI_PREFETCH(L->list_ids + t);
                    PDSI_PREFETCH(L->list_c ? (const void *)(L->list_c + t) : (const void *)(L->list_v + t));
                }
                remove_point(L, k, key_weight(key), rm, rm_w, count);
                done++;
                if ((done & 255) == 0 && cancelled(L->opt)) {
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
        if ((done & 255) == 0 && cancelled(L->opt)) {
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
    pdsi_buckets_build(bq, keys, m, BUCKET_BUDGET_POINTS * live + BUCKET_BUDGET_REMOVALS * left);
}

static pds_status coarse_tail(pdsi_level *L, int64_t left, int32_t *rm, int64_t *count,
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
             * give up). SO(3) 8000 -> 200 with 70% of the poses near four
             * views, 1 thread: 280-310 ms (the level again on exact weights)
             * -> 100-120 ms; another draw of such poses needed the stretch
             * at removal 4396 of 7800, then 13 scans a removal: 250 -> 75-97
             * ms (2 threads). */
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
            /* the likely next removal's list (see heap_tail) */
            int64_t t = start[bq.head[bq.top]];
            PDSI_PREFETCH(L->list_ids16 ? (const void *)(L->list_ids16 + t) : (const void *)(L->list_ids + t));
            PDSI_PREFETCH(L->list_a + t);
        }
        L->removed[k] = 1;
        rm[(*count)++] = k;
        pdsi_pairs_subtract_coarse(L, k);
        done++;
        if ((done & 255) == 0 && cancelled(L->opt)) {
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

/* The level's weights: on the serial path (each pair once; the coarse run's
 * lists when `coarse`) when `serial` and it has the memory, else by the
 * per-point pass with neighbour lists when `lists` (with contributions
 * when `keep`) or without. Returns whether the serial path took them. */
static int weigh_level(pdsi_level *L, int serial, int coarse, int lists, int keep) {
    uint8_t *removed = L->removed;
    L->removed = NULL; /* nothing removed yet: skip the test */
    serial = serial && pdsi_weigh_pairs(L, coarse);
    /* The rounds' lists keep contributions only for d > 3 (`keep`): in 2-D
     * and 3-D recomputing them at each removal measured faster than
     * writing and reading back 16 more bytes an entry (2-D 1M -> 125k,
     * 2 threads 0.97 -> 0.88 s, 2-D 500k 0.48 -> 0.37 s, 3-D 1M and S^2 1M
     * equal; also without AVX-512), in a fifth of the memory; with more
     * coordinates a distance costs more (5-D 30k: 2.2 vs 2.65 s with them). */
    if (!serial &&
        (!lists || !(weigh_with_lists(L, keep) || (keep && weigh_with_lists(L, 0)))))
        pdsi_parallel(L->opt, L->grid.ncell, 64, weigh_task, L);
    L->removed = removed;
    return serial;
}

/* Whether the level looks like a lattice or is full of duplicates: more
 * than a quarter of the points (in cell order) share a coordinate exactly
 * with the one before (in general position none do). Their weights tie
 * in numbers, the coarse run would give up at once, and its pass is better
 * skipped (2-D lattice 45^2 -> 253: 1.13 ms with it, 0.93 ms without). */
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

/* ----------------------------------------------------------------- level -- */

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
            /* (a memcpy call a row was 3% of a 2-D 2048-point problem) */
            to[0] = from[0], to[1] = from[1];
        } else {
            memcpy(to, from, sizeof(double) * (size_t)d);
        }
        if (L->gx) memcpy(L->gx + k * d, J->gx + (int64_t)i * d, sizeof(double) * (size_t)d);
        L->tie[k] = (int32_t)(J->ids ? J->ids[i] : i);
    }
}

/* Levels of at most SERIAL_PAIRS candidate pairs run on the calling thread
 * (each pair once, pds_pairs.c; then the sequential run on the bucket
 * queue); with a parallel-for, those of at most SERIAL_POINTS points or
 * SERIAL_PAIRS_PARALLEL candidate pairs (the pair pass then in two parts).
 * Measured with 2 threads against the per-point pass and the parallel
 * rounds: 2-D 262k points (2.2e7 candidate pairs) 0.19 s against 0.25 s,
 * equal at 400k (3.4e7), 0.87 against 0.60 s at 600k; 3-D 200k (3.5e7) 0.24
 * against 0.34 s; sphere 262k (1.8e7) 0.49 against 0.56 s; so3 32k (2.3e7)
 * 44 against 70 ms. Callers with many small problems (batches, samplers)
 * run those in parallel instead. */
#define SERIAL_PAIRS 4e7
#define SERIAL_POINTS 32768
#define SERIAL_PAIRS_PARALLEL 3e7

static int serial_level(const pdsi_level *L, double pairs, int allowed) {
    return allowed && pairs <= SERIAL_PAIRS &&
           (!L->opt->parallel_for || L->m <= SERIAL_POINTS || pairs <= SERIAL_PAIRS_PARALLEL);
}

/* How many removals are left to the sequential run at the end: none, the
 * rounds run to the end (each removes at least one point) and stay fast
 * because their candidate sets shrink with the work left. */
#define HEAP_TAIL 0

/* Eliminates m rows of x (m x d) down to n. ids[i] is row i's input index
 * (ties go to the smaller), NULL for i itself. Writes the n kept ids, in row
 * order, to kept_ids and, when removed_ids is not NULL, the m - n removed ids
 * in removal order to removed_ids. */
/* x: the level's points, whose distances are measured; gx: the same points
 * in the frame the grid cuts (pds_pca.c; NULL: x itself), within spread of
 * its centre. Only cells and the scan's early exit come from gx: a rotation
 * keeps distances up to rounding, and rounding would break exact ties (a
 * lattice in 4-D gave other indices than in 2-D). */
static pds_status run_level(const double *x, const double *gx, double spread, int64_t m, int d,
                            int64_t n, const int64_t *ids, const pdsi_space *s,
                            const pds_options *opt,
                            int64_t tail, int serial_ok, int64_t *removed_ids, int64_t *kept_ids,
                            pds_error *err) {
    pds_status st = PDS_OK;
    pdsi_level L;
    memset(&L, 0, sizeof L);
    L.space = *s;
    L.s = &L.space;
    L.opt = opt;
    L.d = d;
    L.m = m;
    L.parallel = opt->parallel_for != NULL;
    L.tree_only = (serial_ok & PDSI_TREE_ONLY) != 0;
    int coarse_ok = !L.tree_only && !(serial_ok & PDSI_EXACT);
    int coarse_always = (serial_ok & PDSI_COARSE) != 0;
    L.space.wide = !(serial_ok & PDSI_NARROW) && pdsi_cpu_wide();
    L.parts_always = (serial_ok & PDSI_PARTS) != 0;
    serial_ok &= PDSI_SERIAL;
    int32_t *rm = NULL;
    double *rm_w = NULL;
    L.order = malloc(sizeof(int32_t) * (size_t)m);
    if (!L.order) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
    STAMP("start");
    if (!gx) gx = x;
    st = pdsi_grid_build(&L.grid, gx, m, d, L.s, opt->bounds, 1, L.order, err);
    if (st != PDS_OK) goto done;
    STAMP("grid");

    double pairs = 0.0;
    if (s->search2 > 0.0) {
        double limit = opt->max_pair_work > 0.0 ? opt->max_pair_work : 4e9;
        int64_t most = 0;
        pairs = pdsi_grid_pair_estimate(&L.grid, &most);
        /* so3 searches around q and -q: up to twice the candidates */
        most *= s->images;
        pairs *= s->images;
        STAMP("estimate");
        pdsi_space_set_scale(&L.space, most);
        /* a distance test reads d coordinates: pairs of more than eight
         * count d / 8 each (all pairs of 20,000 points in 200-D took 99 s
         * under the 2-D budget; now refused at once; 100k uniform 5-D
         * points, 1.7e9 pairs, still run: 13 s) */
        double per_pair = d > 8 ? d / 8.0 : 1.0;
        if (pairs * per_pair > limit) {
            /* few kept of many (r_max from the domain or the points): r_max
             * is a large share of the domain, so every point neighbours a
             * large share of the others whatever the data */
            char few[160] = "";
            if (n * 64 < m && !(opt->radius > 0.0))
                snprintf(few, sizeof few,
                         "; or, as n=%lld is small against M=%lld, eliminate a random pool of "
                         "about 8 n points (as PoissonSampler's pool_size does)",
                         (long long)n, (long long)m);
            st = pdsi_fail(err, PDS_ERR_TOO_DENSE,
                           "every point has about %.0f candidate neighbours within d_max=%g "
                           "(%.3g pairs, of %d coordinates; the limit is %.3g pairs of up to 8): "
                           "the points are too dense for this radius (duplicates, a domain far "
                           "smaller than its bounding box, or many dimensions without "
                           "structure): pass radius=\"auto\" or a smaller radius=, or set "
                           "volume=/dim=%s",
                           pairs / (double)m, s->d_max, pairs, d, limit, few);
            goto done;
        }
    }
    /* Uniform points have about pairs * (ball / stencil volume) neighbours:
     * 0.67, 0.35 of the candidates on 1, 2 grid axes, on 3 axes 0.27 with
     * half-size cells, 0.155 with full ones */
    static const double hit[4] = {1.0, 0.67, 0.35, 0.27};
    double entries = pairs * (L.grid.g == 3 && L.grid.reach == 1 ? 0.155 : hit[L.grid.g]);
    /* the lists hold at most `pairs` ids; keep them under 6 GB and within
     * the caller's memory limit; contributions too (16 bytes per entry)
     * while the lists are small */
    double list_bytes = pairs * (double)sizeof(int32_t);
    int lists = list_bytes <= 6e9 &&
                (opt->max_memory == 0 ||
                 list_bytes + (double)pds_workspace_bytes(m, d, n, opt) <= (double)opt->max_memory);
    int contribs = entries * (double)sizeof(pdsi_weight) <= CONTRIB_BYTES &&
                   (opt->max_memory == 0 ||
                    5.0 * list_bytes + (double)pds_workspace_bytes(m, d, n, opt) <=
                        (double)opt->max_memory);
    /* Half-size cells pay where each pair is met once (the serial pass);
     * the parallel pass meets every pair from both ends in runs of about
     * two points a cell, where the runs' overhead outweighs the extra
     * candidates of full-size cells: 3-D 1M -> 125k, 2 threads 1.95 -> 1.65
     * s, 1 thread 3.40 -> 3.00 s; 3-D 200k 0.34 -> 0.31 s. Not for d > 3,
     * where the grid's three axes leave the others unculled and full cells
     * multiply those candidates too (5-D 30k: 0.85 -> 2.1 s). Those levels
     * sort the points again (O(m)); the estimates above stay (the half
     * grid's candidates bound the neighbours as well). */
    if (L.grid.reach == 2 && d <= 3 && s->search2 > 0.0 && m > n &&
        !(contribs && serial_level(&L, pairs, serial_ok))) {
        pdsi_grid_free(&L.grid);
        st = pdsi_grid_build(&L.grid, gx, m, d, L.s, opt->bounds, 0, L.order, err);
        if (st != PDS_OK) goto done;
        STAMP("full grid");
    }

    L.x = malloc(sizeof(double) * (size_t)m * (size_t)d);
    if (gx != x && d > 8) {
        L.gx = malloc(sizeof(double) * (size_t)m * (size_t)d);
        if (!L.gx) {
            st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld, d=%d)", (long long)m, d);
            goto done;
        }
        L.glim = pdsi_frame_limit(L.s->search2, d, spread);
    }
    L.w = calloc((size_t)m, sizeof(pdsi_weight));
    L.removed = calloc((size_t)m, 1);
    L.tie = malloc(sizeof(int32_t) * (size_t)m);
    rm = malloc(sizeof(int32_t) * (size_t)(m - n + 1));
    if (removed_ids) rm_w = malloc(sizeof(double) * (size_t)(m - n + 1));
    if (!L.x || !L.w || !L.removed || !L.tie || !rm || (removed_ids && !rm_w)) {
        st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld, d=%d)", (long long)m, d);
        goto done;
    }
    int serial = 0; /* weights by pdsi_weigh_pairs, elimination by the sequential run alone */
    copy_job cj = {&L, x, gx, ids};
    pdsi_parallel(opt, m, 1 << 16, copy_task, &cj);

    STAMP("copy");
    if (s->search2 > 0.0 && m > n) {
        int is_serial = contribs && serial_level(&L, pairs, serial_ok);
        /* 1-D: r_max is the spacing of the densest packing, and the
         * elimination gets close to it: the last weights are tiny terms of
         * neighbours near d_max, below the coarse terms' resolution, so the
         * coarse run would give up near its end (1-D 4000 -> 500: 0.87
         * against 1.6 ms) */
        if (is_serial && coarse_ok && !coarse_always && (d == 1 || lattice_like(&L))) coarse_ok = 0;
        serial = weigh_level(&L, is_serial, coarse_ok, lists, contribs && d > 3);
        if (cancelled(opt)) {
            st = pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
            goto done;
        }
    }

    STAMP("weights");
    int64_t left = m - n, count = 0;
    if (serial && L.wc) {
        int gave_up = 0;
        st = coarse_tail(&L, left, rm, &count, &gave_up, err);
        if (st != PDS_OK) goto done;
        if (gave_up) {
            /* equal or nearly equal weights in numbers (a lattice: at the
             * first removal): the level again on exact weights. Going on
             * from where the coarse run stopped instead, with the exact
             * contributions recomputed from the coordinates, measured
             * slower: 2-D lattice 45^2 -> 253 1.1 against 1.6 ms. */
            free_lists(&L);
            memset(L.w, 0, sizeof(pdsi_weight) * (size_t)m);
            memset(L.removed, 0, (size_t)m);
            count = 0;
            serial = weigh_level(&L, 1, 0, lists, contribs && d > 3);
        } else {
            left = 0;
        }
        STAMP("coarse");
    }
    /* a serial level goes to the sequential run at once (the rounds pay off
     * in parallel) */
    st = serial ? PDS_OK : pdsi_rounds(&L, &left, tail, rm, rm_w, &count, err);
    if (st != PDS_OK) goto done;
    if (left > 0) st = heap_tail(&L, left, rm, rm_w, &count, err);
    if (st != PDS_OK) goto done;

    STAMP("rounds");
    if (removed_ids && serial) {
        /* the sequential run's order already */
        for (int64_t t = 0; t < count; ++t) removed_ids[t] = L.tie[rm[t]];
    } else if (removed_ids) {
        /* sequential order: weight at removal descending, then input index */
        removal *r = malloc(sizeof(removal) * (size_t)(count > 0 ? count : 1));
        if (!r) {
            st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        for (int64_t t = 0; t < count; ++t) r[t].w = rm_w[t], r[t].id = L.tie[rm[t]];
        qsort(r, (size_t)count, sizeof(removal), removal_cmp);
        for (int64_t t = 0; t < count; ++t) removed_ids[t] = r[t].id;
        free(r);
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
    STAMP("kept");
done:
    pdsi_grid_free(&L.grid);
    free_lists(&L);
    free(L.order);
    free(L.x);
    free(L.gx);
    free(L.w);
    free(L.removed);
    free(L.tie);
    free(rm);
    free(rm_w);
    return st;
}

/* ------------------------------------------------- far from unit size -- */

/* A rescale is for euclidean points only (so3 and sphere rows are unit
 * vectors: their d_max is an angle below 2 pi), and none after the one that
 * brings d_max near 1 (one by the points' extent may come before it). */
static int rescale_allowed(const pds_options *opt, int serial) {
    return opt->metric == PDS_METRIC_EUCLIDEAN && !(serial & PDSI_RESCALED);
}

/* The call on points, bounds and radius times 2^k (volume times 2^(k dim)),
 * the options otherwise the same, with the flags `serial` (which name the
 * rescale: PDSI_PRESCALED or PDSI_RESCALED); its status in *st. 0 (nothing
 * done) when a scaled value would overflow or the volume leave the doubles'
 * range. */
static int eliminate_rescaled(const double *points, int64_t m, int d, int64_t n,
                              const pds_options *opt, int k, int dim, int64_t tail, int serial,
                              int64_t *out, pds_error *err, pds_status *st) {
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
    int ran = pdsi_scale_values(points, m * (int64_t)d, k, y) &&
              (!opt->bounds || pdsi_scale_values(opt->bounds, 2 * (int64_t)d, k, bounds));
    if (ran) {
        if (opt->bounds) o.bounds = bounds;
        *st = pdsi_eliminate_tail(y, m, d, n, &o, tail, serial, out, err);
    }
    free(y);
    return ran;
}

/* r_max from the points' own scale (their domain, or radius="auto"), and
 * that scale far from unit size (squared distances, or the box's extents,
 * would leave the doubles' range): the call on the points scaled to unit
 * size (exact), its status in *st. 0 when there is no such call to make. */
static int prescaled(const double *points, int64_t m, int d, int64_t n, const pds_options *opt,
                     int64_t tail, int serial, int64_t *out, pds_error *err, pds_status *st) {
    if (!rescale_allowed(opt, serial) || (serial & PDSI_PRESCALED) || opt->radius > 0.0 ||
        opt->volume > 0.0 || n >= m)
        return 0;
    int k = pdsi_unit_exponent(points, m, d);
    return k && eliminate_rescaled(points, m, d, n, opt, k, d, tail, serial | PDSI_PRESCALED, out,
                                   err, st);
}

/* ------------------------------------------------------------ public API -- */

pds_status pds_eliminate(const double *points, int64_t m, int d, int64_t n,
                         const pds_options *options, int64_t *out, pds_error *err) {
    return pdsi_eliminate_tail(points, m, d, n, options, HEAP_TAIL, 1, out, err);
}

pds_status pdsi_eliminate_tail(const double *points, int64_t m, int d, int64_t n,
                               const pds_options *options, int64_t tail, int serial,
                               int64_t *out, pds_error *err) {
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
    /* radius="auto" measures the points' own distances */
    if (opt->auto_radius && prescaled(points, m, d, n, opt, tail, serial, out, err, &st)) return st;

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
    double volume, log_volume;
    double r_auto = 0.0;
    st = pdsi_domain(points, m, d, opt, &dim, &volume, &log_volume, err);
    /* a box too wide for its volume's logarithm (an extent of Inf) */
    if (st != PDS_OK && prescaled(points, m, d, n, opt, tail, serial, out, err, &st)) return st;
    /* d > 3: the grid's cells follow the principal axes (pds_pca.c);
     * distances are still measured on the points as given */
    double *frame = NULL, spread = 0.0;
    if (st == PDS_OK && !scratch && !opt->periodic && n < m)
        st = pdsi_principal_frame(points, m, d, opt, &frame, &spread, err);
    if (st == PDS_OK && opt->auto_radius && n < m)
        st = pdsi_estimate_radius(points, m, d, n, opt, &r_auto, &dim, err);
    if (st != PDS_OK) {
        free(frame);
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
            free(frame);
            free(scratch);
            return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        }
        for (int k = 0; k < d; ++k) period[k] = opt->bounds[d + k] - opt->bounds[k];
        s.period = period;
    }
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
        free(period);
        free(frame);
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
           to 0 and every point would lose its neighbours. Euclidean points
           are scaled by the power of two that brings d_max to [1, 2): exact
           (the call is the one on points * 2^k), unless a coordinate would
           overflow; else refuse, rather than return an arbitrary subset */
        free(period);
        free(frame);
        free(scratch);
        if (rescale_allowed(opt, serial)) {
            if (eliminate_rescaled(points, m, d, n, opt, -ilogb(d_max), dim, tail,
                                   serial | PDSI_RESCALED, out, err, &st))
                return st;
        }
        if (opt->metric != PDS_METRIC_EUCLIDEAN)
            return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT,
                             "%s=%g gives d_max=%g, outside [1e-140, 1e140]; with metric=%s "
                             "distances are angles in radians (at most pi)",
                             opt->radius > 0.0 ? "radius" : "r_max", r_max, d_max,
                             opt->metric == PDS_METRIC_SO3 ? "so3" : "sphere");
        if (serial & PDSI_PRESCALED)
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
    st = run_level(points, frame, spread, m, d, n, NULL, &s, opt, tail, serial, NULL, kept, err);
    if (st != PDS_OK) goto done;
    if (!opt->progressive) {
        memcpy(out, kept, sizeof(int64_t) * (size_t)n);
        goto done;
    }
    /* progressive: halve the survivors while at least 3 remain */
    kept2 = malloc(sizeof(int64_t) * (size_t)n);
    sub = malloc(sizeof(double) * (size_t)n * (size_t)d * (frame ? 2 : 1));
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
        double *subg = frame ? sub + size * d : NULL;
        for (int64_t i = 0; i < size; ++i) {
            memcpy(sub + i * d, points + kept[i] * d, sizeof(double) * (size_t)d);
            if (frame) memcpy(subg + i * d, frame + kept[i] * d, sizeof(double) * (size_t)d);
        }
        st = run_level(sub, subg, spread, size, d, half, kept, &s, opt, tail, serial, removed, kept2, err);
        if (st != PDS_OK) goto done;
        for (int64_t t = 0; t < size - half; ++t) out[size - 1 - t] = removed[t];
        int64_t *tmp = kept;
        kept = kept2;
        kept2 = tmp;
        size = half;
    }
    memcpy(out, kept, sizeof(int64_t) * (size_t)size);
done:
    free(frame);
    free(scratch);
    free(period);
    free(removed);
    free(kept);
    free(kept2);
    free(sub);
    return st;
}
