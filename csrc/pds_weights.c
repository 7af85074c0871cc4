/* pds_weights.c - a level's weights, and the per-point pass that also
 * stores every point's neighbour list.
 *
 * The per-point pass (levels too large for the serial path, pds_pairs.c):
 * every point sums its own neighbours' contributions, in parallel over
 * chunks of cells, so the weights do not depend on the threads; the lists
 * let the elimination subtract without rescanning the grid. */
#include "pds_state.h"

/* longest neighbour list searched for a pair's contribution (see below) */
#define REUSE_MAX 24

/* The weight pass also stores every point's neighbour list, so that the
 * elimination never rescans the grid. Cells are split into chunks of about
 * CHUNK_POINTS points; each chunk appends its points' lists to its own
 * block (grown by doubling, shrunk to fit at the end), so no pass is needed
 * to count neighbours first and the blocks do not depend on the threads. */
#define CHUNK_POINTS 8192

typedef struct weigh_job {
    pdsi_level *L;
    const int64_t *chunk_cell; /* nchunks + 1 cell offsets          */
    int failed;                /* a block could not be allocated    */
} weigh_job;

PDSI_INLINE void weigh_range(pdsi_level *L, int64_t cb, int64_t ce, int d) {
    for (int64_t c = cb; c < ce; ++c) {
        for (int32_t k = L->grid.start[c]; k < L->grid.start[c + 1]; ++k) {
            if (pdsi_cancelled(L->opt)) return; /* the caller stops */
            pdsi_weight sum = {0, 0};
            PDSI_FOR_NEIGHBOURS(L, k, d, pdsi_w_add(&sum, pdsi_contribution(L->s, dist2)));
            L->w[k] = sum;
        }
    }
}

/* A chunk's lists while they are built: point k's at buf[start[k - first]]
 * (start only with contributions: the reuse below reads it), its
 * contributions at the same places of cbuf; scratch holds one point's keys. */
typedef struct chunk {
    int32_t *buf;
    pdsi_weight *cbuf;
    int64_t *start;
    int64_t cap, len;
    int32_t first;
    double *scratch;
    int64_t nscratch;
} chunk;

PDSI_INLINE void chunk_free(chunk *C) {
    free(C->buf);
    free(C->cbuf);
    free(C->start);
    free(C->scratch);
}

/* Room for `most` more entries and `most` keys; 0 when out of memory. */
PDSI_INLINE int chunk_reserve(chunk *C, int64_t most) {
    if (C->len + most > C->cap) {
        int64_t want = C->cap * 2 > C->len + most ? C->cap * 2 : C->len + most;
        int32_t *grown = realloc(C->buf, sizeof(int32_t) * (size_t)want);
        if (!grown) return 0;
        C->buf = grown;
        if (C->cbuf) {
            pdsi_weight *cgrown = realloc(C->cbuf, sizeof(pdsi_weight) * (size_t)want);
            if (!cgrown) return 0;
            C->cbuf = cgrown;
        }
        C->cap = want;
    }
    if (most > C->nscratch) {
        double *grown = realloc(C->scratch, sizeof(double) * (size_t)most);
        if (!grown) return 0;
        C->scratch = grown, C->nscratch = most;
    }
    return 1;
}

/* The sum of the contributions of point k's nd neighbours, listed at
 * buf[at..at + nd) with their keys in scratch; stores each in cbuf when
 * contributions are kept. */
PDSI_INLINE pdsi_weight chunk_sum(const pdsi_level *L, chunk *C, int32_t k, int64_t at, int64_t nd,
                                  int near_min, pdsi_weight at_min) {
    pdsi_weight sum = {0, 0};
    double *key = C->scratch;
    pdsi_weight *cbuf = C->cbuf;
    if (L->s->wide) {
        /* AVX-512: every contribution, eight at a time, is cheaper than
         * looking any up */
        pdsi_scale_contributions(L->s, key, nd);
        for (int64_t t = 0; t < nd; ++t) {
            pdsi_weight cw = pdsi_fixed(key[t]);
            pdsi_w_add(&sum, cw);
            if (cbuf) cbuf[at + t] = cw;
        }
        return sum;
    }
    const int32_t *buf = C->buf;
    const int64_t *start = C->start;
    int32_t first = C->first;
    double d_min = L->s->d_min;
    for (int64_t t = 0; t < nd; ++t) {
        pdsi_weight cw = {0, 0};
        int32_t j = buf[at + t];
        int found = 0;
        if (start && j < k && j >= first && L->nb_cnt[j] <= REUSE_MAX) {
            /* j's list, built earlier in this chunk, holds k with the same
             * contribution (the key is symmetric bit for bit). A linear
             * search: only on short lists, where it is cheaper than the
             * contribution (on long ones it would make the pass quadratic) */
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
            cw = (near_min && pdsi_key_distance(L->s, key[t]) < d_min)
                     ? at_min
                     : pdsi_contribution(L->s, key[t]);
        pdsi_w_add(&sum, cw);
        if (cbuf) cbuf[at + t] = cw;
    }
    return sum;
}

/* The chunk's blocks, shrunk to fit, become the level's lists of the points
 * of cells [cb, ce). */
static void chunk_publish(pdsi_level *L, chunk C, int64_t ch, int64_t cb, int64_t ce) {
    free(C.scratch);
    free(C.start);
    int64_t len = C.len;
    int32_t *buf = C.buf;
    pdsi_weight *cbuf = C.cbuf;
    if (len < C.cap) {
        int32_t *fit = realloc(buf, sizeof(int32_t) * (size_t)(len > 0 ? len : 1));
        if (fit) buf = fit;
        if (cbuf) {
            pdsi_weight *cfit = realloc(cbuf, sizeof(pdsi_weight) * (size_t)(len > 0 ? len : 1));
            if (cfit) cbuf = cfit;
        }
    }
    L->nb_chunks[ch] = buf;
    if (cbuf) L->nbw_chunks[ch] = cbuf;
    int64_t at = 0;
    for (int32_t k = L->grid.start[cb]; k < L->grid.start[ce]; ++k) {
        L->nb[k] = buf + at;
        if (cbuf) L->nbw[k] = cbuf + at;
        at += L->nb_cnt[k];
    }
}

/* One chunk (cells [cb, ce)) with lists; returns 0 when out of memory. */
PDSI_INLINE int weigh_chunk_lists(pdsi_level *L, int64_t ch, int64_t cb, int64_t ce, int d) {
    int64_t pts = L->grid.start[ce] - L->grid.start[cb];
    chunk C = {NULL, NULL, NULL, pts * 16 + 64, 0, L->grid.start[cb], NULL, 0};
    C.buf = malloc(sizeof(int32_t) * (size_t)C.cap);
    C.cbuf = L->nbw ? malloc(sizeof(pdsi_weight) * (size_t)C.cap) : NULL;
    C.start = C.cbuf ? malloc(sizeof(int64_t) * (size_t)(pts > 0 ? pts : 1)) : NULL;
    if (!C.buf || (L->nbw && (!C.cbuf || !C.start))) {
        chunk_free(&C);
        return 0;
    }
    /* the contribution of every neighbour within d_min (distance 0 is
     * raised to d_min like any other), computed once */
    int near_min = L->s->d_min > 0.0;
    pdsi_weight at_min = pdsi_contribution(L->s, 0.0);
    int32_t r[2 * PDSI_MAX_RANGES], r1[2 * PDSI_MAX_RANGES];
    for (int64_t c = cb; c < ce; ++c) {
        int32_t b = L->grid.start[c], e = L->grid.start[c + 1];
        if (b == e) continue;
        int nr = pdsi_grid_ranges(&L->grid, c, r);
        int64_t most = pdsi_ranges_length(r, nr);
        for (int32_t k = b; k < e; ++k) {
            if (pdsi_cancelled(L->opt)) {
                /* the caller stops before reading the lists */
                for (int32_t j = k; j < L->grid.start[ce]; ++j) L->nb_cnt[j] = 0;
                c = ce;
                break;
            }
            /* so3 near w = 0: also the cells around -q (pdsi_images_of) */
            const double *xk = L->x + (int64_t)k * d;
            int nim = pdsi_images_of(L->s, xk), nr1 = 0;
            /* (the vector scan stores whole vectors past its records) */
            int64_t most_k = most + PDSI_SCAN_SLACK;
            if (nim == 2) {
                nr1 = pdsi_grid_image_ranges(&L->grid, xk, k, 1, r1);
                most_k += pdsi_ranges_length(r1, nr1);
            }
            if (!chunk_reserve(&C, most_k)) {
                chunk_free(&C);
                return 0;
            }
            /* every candidate but k itself */
            int64_t at = C.len;
            int64_t nd = pdsi_scan_ranges(L, xk, 0, r, nr, 0, k, C.buf + at, C.scratch, 0, NULL);
            if (nim == 2)
                nd = pdsi_scan_ranges(L, xk, 1, r1, nr1, 0, k, C.buf + at, C.scratch, nd, NULL);
            C.len = at + nd;
            if (C.start) C.start[k - C.first] = at;
            L->w[k] = chunk_sum(L, &C, k, at, nd, near_min, at_min);
            L->nb_cnt[k] = (int32_t)nd;
        }
    }
    chunk_publish(L, C, ch, cb, ce);
    return 1;
}

static void weigh_task(void *task, int64_t cb, int64_t ce) {
    pdsi_level *L = task;
    if (pdsi_cancelled(L->opt)) return;
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
        if (pdsi_cancelled(L->opt) || J->failed) return;
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

void pdsi_free_lists(pdsi_level *L) {
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
        pdsi_free_lists(L);
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
        pdsi_free_lists(L);
        return 0;
    }
    return 1;
}

int pdsi_weigh_level(pdsi_level *L, int serial, int coarse, int lists, int keep) {
    uint8_t *removed = L->removed;
    L->removed = NULL; /* nothing removed yet: skip the test */
    serial = serial && pdsi_weigh_pairs(L, coarse);
    /* without the contributions' memory (`keep` false) the lists alone */
    if (!serial &&
        (!lists || !(weigh_with_lists(L, keep) || (keep && weigh_with_lists(L, 0)))))
        pdsi_parallel(L->opt, L->grid.ncell, 64, weigh_task, L);
    L->removed = removed;
    return serial;
}

