/* pds_pairs.c - the serial weight pass for small levels: each pair once.
 *
 * The per-point pass (pds_weights.c) lets every point sum its own
 * neighbours, so each pair's distance and contribution are computed twice,
 * once from each end. With one thread and a level that fits in cache
 * (batches of a few thousand points, the samplers' per-batch problems),
 * that double work and the per-chunk machinery are most of the cost. Here
 * point k looks only at candidates j > k in its cells (every neighbour of k
 * lies in them, and the neighbour relation is symmetric bit for bit, so
 * every pair is met exactly once, from its smaller end), the contribution
 * is computed once and added to both weights, and the neighbour lists are
 * laid out in one block (counted, then filled). The weights are the same
 * exact 128-bit sums, so everything downstream is unchanged.
 *
 * The coarse run (pdsi_weigh_pairs(L, 1), what pds_eliminate uses): the
 * lists hold each contribution's coarse term floor(c 2^(s-e)) < 2^31 in 4
 * bytes, and the weights coarse 8-byte sums A of them. The exact weight
 * (times 2^-e) lies in [A, A + n), n the live neighbours, so the sequential
 * run can rank by A and fall back to exact weights, recomputed from the
 * coordinates, only for the points whose ranges overlap (pds_buckets.c,
 * pdsi_buckets_pop_coarse); the removals are the same, with 8 bytes an
 * entry instead of 20 (in cache) or 12, and plain 64-bit sums.
 *
 * With a parallel-for, the points are split in two parts (at a cell
 * boundary) whose scans, counts and fills run at once: each part writes the
 * lists and weights of its own points; the pairs that cross into the later
 * part (only those near the boundary) are counted, summed and entered by the
 * earlier part in places of their own (the start of each list: they come
 * from smaller points), and their weights added afterwards. The lists are
 * the same, entry for entry, as with one part. */
#include "pds_state.h"

/* parts of the pair pass (with a parallel-for, on levels of at least
 * PARTS_MIN_POINTS points) */
#define PARTS 2 /* (each has its workspace slots: PDSI_WS_PAIRS, PDSI_WS_PAIRS_1) */
#define PARTS_MIN_POINTS 4096

/* The pairs met in one part's scan, each from its smaller end: the other end
 * and the key (then the scaled contribution), in two arrays so the
 * contributions can be computed in one vectorizable loop. */
typedef struct pair_list {
    int32_t *b;
    double *key;
    int64_t cap;
    int slot; /* the workspace slots: slot (b), slot + 1 (key) */
} pair_list;

PDSI_INLINE int grow_pairs(pds_workspace *ws, pair_list *p, int64_t need) {
    if (need <= p->cap) return 1;
    int64_t want = p->cap * 2 > need ? p->cap * 2 : need;
    int32_t *b = pdsi_ws_grow(ws, p->slot, p->b, sizeof(int32_t) * (size_t)want);
    if (!b) return 0;
    p->b = b;
    double *k = pdsi_ws_grow(ws, p->slot + 1, p->key, sizeof(double) * (size_t)want);
    if (!k) return 0;
    p->key = k;
    p->cap = want;
    return 1;
}

/* One part: the points [k0, k1) of the cells [c0, c1), their pairs, and for
 * the points b >= k1 of later parts the pairs' count (then fill position)
 * xcnt[b - k1] and weight sum xw[b - k1]. */
typedef struct part {
    int64_t c0, c1;
    int32_t k0, k1;
    pair_list pairs;
    int64_t np;
    int32_t *xcnt;
    pdsi_weight *xw;
} part;

typedef struct pairs_job {
    pdsi_level *L;
    int nparts;
    part part[PARTS];
    int64_t *first; /* first[k]: k's first pair in its part's list */
    int32_t *cnt;   /* per point: its own part's pairs (own and back); the
                       fill positions follow (pos) in the same buffer */
    int32_t *pos;   /* fill position of each list (own part's entries) */
    void *c;        /* the contributions block, pdsi_weight or double */
    void *ids;      /* int32_t, or uint16_t (short_ids) */
    int64_t *start; /* each list's first entry (start[m]: the end) */
    char *xblock;   /* the crossing counts and sums (NULL: one part) */
    int short_ids;  /* 2-byte ids (coarse run, at most 65536 points) */
    int wide;
    int coarse;     /* 4-byte coarse terms (2: prefetched ahead), 8-byte sums */
    int failed;     /* benign race: only ever set to 1 */
} pairs_job;

/* Appends every pair (k, j), j > k, within d_max of the part's points to its
 * list, point k's from first[k]; with one part (cnt not NULL) also counts
 * them at both ends. 0 when out of memory. */
static int scan_part(pdsi_level *L, part *P, int64_t *first, int32_t *cnt) {
    const int d = L->d;
    pds_workspace *ws = L->opt->workspace;
    int32_t r[2 * PDSI_MAX_RANGES], r1[2 * PDSI_MAX_RANGES];
    int64_t np = 0;
    for (int64_t c = P->c0; c < P->c1; ++c) {
        int32_t kb = L->grid.start[c], ke = L->grid.start[c + 1];
        if (kb == ke) continue;
        int nr = pdsi_grid_ranges(&L->grid, c, r);
        int64_t most_c = pdsi_ranges_length(r, nr);
        for (int32_t k = kb; k < ke; ++k) {
            const double *xk = L->x + (int64_t)k * d;
            int nim = pdsi_images_of(L->s, xk), nr1 = 0;
            int64_t most = most_c;
            if (nim == 2) {
                nr1 = pdsi_grid_image_ranges(&L->grid, xk, k, 1, r1);
                most += pdsi_ranges_length(r1, nr1);
            }
            if (!grow_pairs(ws, &P->pairs, np + most + PDSI_SCAN_SLACK)) return 0;
            first[k] = np;
            int32_t *pb = P->pairs.b;
            double *pk = P->pairs.key;
            int64_t t0 = np;
            np = pdsi_scan_ranges(L, xk, 0, r, nr, k + 1, -1, pb, pk, np, cnt);
            if (nim == 2) np = pdsi_scan_ranges(L, xk, 1, r1, nr1, k + 1, -1, pb, pk, np, cnt);
            if (cnt) cnt[k] += (int32_t)(np - t0);
        }
    }
    P->np = np;
    return 1;
}

/* the end of point k's pairs in a part of points [.., k1) and np pairs */
PDSI_INLINE int64_t pairs_end(const int64_t *first, int32_t k, int32_t k1, int64_t np) {
    return k + 1 < k1 ? first[k + 1] : np;
}

/* Phase 1, one part: scan, contributions, counts (own part's in J->cnt,
 * later parts' in xcnt; a part without crossing pairs, scanned by vector
 * code, counts in the scan). */
static void scan_task(void *task, int64_t b, int64_t e) {
    pairs_job *J = task;
    pdsi_level *L = J->L;
    for (int64_t p = b; p < e; ++p) {
        part *P = &J->part[p];
        /* one part, scanned by vector code: counted in the scan */
        int counted = !P->xcnt && pdsi_scan_is_wide(L);
        if (J->failed || !scan_part(L, P, J->first, counted ? J->cnt : NULL)) {
            J->failed = 1;
            return;
        }
        pdsi_scale_contributions(L->s, P->pairs.key, P->np);
        if (counted) continue;
        /* (in locals: the counts' stores could alias the part's fields) */
        int32_t *cnt = J->cnt, *xcnt = P->xcnt;
        const int32_t *pb = P->pairs.b, k0 = P->k0, k1 = P->k1;
        const int64_t *first = J->first, np = P->np;
        for (int32_t k = k0; k < k1; ++k) {
            int64_t t0 = first[k], t1 = pairs_end(first, k, k1, np);
            cnt[k] += (int32_t)(t1 - t0);
            if (xcnt) {
                for (int64_t t = t0; t < t1; ++t) {
                    int32_t j = pb[t];
                    if (j < k1) cnt[j]++;
                    else xcnt[j - k1]++;
                }
            } else {
                for (int64_t t = t0; t < t1; ++t) cnt[pb[t]]++;
            }
        }
    }
}

/* Phase 2, one part: the lists and weights of its pairs, point k's with its
 * fill position and weight in registers (its entries from smaller points
 * are already in, its own follow); each contribution goes to both ends. A
 * macro for the entry types: T and ENTRY, a list entry made from the
 * scaled double v; WT, TERM and ADD, the weights' type, a weight's term
 * (from v or the entry e) and how it is added; IDT, the ids' type.
 *
 * The second end's entries land in as many places as there are lists open
 * at once (thousands on a level of some thousand so3 points: megabytes of lists,
 * each written a few bytes at a time); on large levels (the 8-byte entries)
 * the places FILL_AHEAD pairs ahead are prefetched for writing. Small levels
 * (in cache) go without: there the prefetches cost more than they save. */
#define FILL_AHEAD 64
#define PDSI_FILL_PART(NAME, T, ENTRY, CROSS, PREFETCH, WT, TERM, ADD, IDT)                  \
    static void NAME(pairs_job *J, part *P) {                                               \
        pdsi_level *L = J->L;                                                               \
        const int64_t *first = J->first;                                                    \
        int32_t *pos = J->pos, *xcnt = P->xcnt;                                             \
        IDT *ids = (IDT *)J->ids;                                                           \
        T *c = (T *)J->c;                                                                   \
        WT *w = (WT *)L->w, *xw = (WT *)P->xw;                                              \
        const double cs = L->s->coarse_scale;                                               \
        const int32_t k1 = P->k1, *pb = P->pairs.b;                                         \
        const double *pv = P->pairs.key;                                                    \
        const int64_t np = P->np;                                                           \
        (void)cs;                                                                           \
        for (int32_t k = P->k0; k < k1; ++k) {                                              \
            int32_t at = pos[k];                                                            \
            WT sum = {0};                                                                   \
            for (int64_t t = first[k], t1 = pairs_end(first, k, k1, np); t < t1; ++t) {     \
                int32_t b = pb[t];                                                          \
                double v = pv[t];                                                           \
                if (PREFETCH) {                                                             \
                    int64_t tf = t + FILL_AHEAD < np ? t + FILL_AHEAD : np - 1;             \
                    int32_t bf = pb[tf];                                                    \
                    int32_t at_f = !(CROSS) || bf < k1 ? pos[bf] : xcnt[bf - k1];           \
                    __builtin_prefetch(&ids[at_f], 1, 3);                                   \
                    __builtin_prefetch(&c[at_f], 1, 3);                                     \
                }                                                                           \
                T e = ENTRY;                                                                \
                WT f = TERM;                                                                \
                ADD(&sum, f);                                                               \
                ids[at] = (IDT)b, c[at] = e, at++;                                          \
                int32_t to;                                                                 \
                if (!(CROSS) || b < k1) {                                                   \
                    ADD(&w[b], f);                                                          \
                    to = pos[b]++;                                                          \
                } else {                                                                    \
                    ADD(&xw[b - k1], f);                                                    \
                    to = xcnt[b - k1]++;                                                    \
                }                                                                           \
                ids[to] = (IDT)k, c[to] = e;                                                \
            }                                                                               \
            pos[k] = at;                                                                    \
            ADD(&w[k], sum);                                                                \
        }                                                                                   \
    }
PDSI_INLINE void add_coarse(uint64_t *a, uint64_t b) { *a += b; }
/* (the last part has no crossing pairs: a loop without the test) */
PDSI_FILL_PART(fill_part_wide, pdsi_weight, pdsi_fixed(v), 0, 0, pdsi_weight, e, pdsi_w_add, int32_t)
PDSI_FILL_PART(fill_part_narrow, double, v, 0, 1, pdsi_weight, pdsi_fixed(v), pdsi_w_add, int32_t)
PDSI_FILL_PART(fill_cross_wide, pdsi_weight, pdsi_fixed(v), 1, 0, pdsi_weight, e, pdsi_w_add, int32_t)
PDSI_FILL_PART(fill_cross_narrow, double, v, 1, 1, pdsi_weight, pdsi_fixed(v), pdsi_w_add, int32_t)
/* the coarse run's: 4-byte terms, 8-byte sums (prefetched on large levels),
 * 2-byte ids on levels of at most 65536 points */
#define PDSI_FILL_COARSE(SUFFIX, IDT)                                                       \
    PDSI_FILL_PART(fill_part_coarse##SUFFIX, uint32_t, (uint32_t)(v * cs), 0, 0, uint64_t, e, \
                   add_coarse, IDT)                                                         \
    PDSI_FILL_PART(fill_cross_coarse##SUFFIX, uint32_t, (uint32_t)(v * cs), 1, 0, uint64_t, e, \
                   add_coarse, IDT)                                                         \
    PDSI_FILL_PART(fill_part_coarse_ahead##SUFFIX, uint32_t, (uint32_t)(v * cs), 0, 1, uint64_t, \
                   e, add_coarse, IDT)                                                      \
    PDSI_FILL_PART(fill_cross_coarse_ahead##SUFFIX, uint32_t, (uint32_t)(v * cs), 1, 1, uint64_t, \
                   e, add_coarse, IDT)
PDSI_FILL_COARSE(, int32_t)
PDSI_FILL_COARSE(_16, uint16_t)

static void fill_task(void *task, int64_t b, int64_t e) {
    pairs_job *J = task;
    for (int64_t p = b; p < e; ++p) {
        int cross = p + 1 < J->nparts;
        part *P = &J->part[p];
        if (J->coarse && J->short_ids) {
            if (J->coarse == 2) (cross ? fill_cross_coarse_ahead_16 : fill_part_coarse_ahead_16)(J, P);
            else (cross ? fill_cross_coarse_16 : fill_part_coarse_16)(J, P);
        } else if (J->coarse == 2) (cross ? fill_cross_coarse_ahead : fill_part_coarse_ahead)(J, P);
        else if (J->coarse) (cross ? fill_cross_coarse : fill_part_coarse)(J, P);
        else if (J->wide) (cross ? fill_cross_wide : fill_part_wide)(J, P);
        else (cross ? fill_cross_narrow : fill_part_narrow)(J, P);
    }
}

/* Levels of at most this many pairs keep 16-byte fixed-point
 * contributions, more 8-byte doubles (see pdsi_weigh_pairs). */
#define PAIRS_WIDE 100000

/* Gives back the pass's scratch (not the lists). */
static void give_scratch(pds_workspace *ws, pairs_job *J) {
    for (int p = 0; p < J->nparts; ++p) {
        pdsi_ws_give(ws, J->part[p].pairs.b);
        pdsi_ws_give(ws, J->part[p].pairs.key);
    }
    pdsi_ws_give(ws, J->xblock);
    pdsi_ws_give(ws, J->first);
    pdsi_ws_give(ws, J->cnt);
}

/* The pass's work before each point, in units of half a stencil's
 * candidates: before[k] for points 0..k-1 (before[m]: all), to split so3
 * levels into parts of equal work (others split by points). Each point
 * scans the later half of its stencil (1). An so3 point near the
 * hemisphere's rim also searches around -q and meets those pairs from
 * their smaller end: itself when -q's cell comes later (a whole stencil, 2
 * more), else none; so the first half of the cell order (-q in the second)
 * did all of them: split by points, the first part would scan far longer
 * than the second. */
static void work_before(const pdsi_level *L, int64_t *before) {
    int64_t m = L->m, acc = 0;
    for (int64_t k = 0; k < m; ++k) {
        const double *xk = L->x + k * L->d;
        before[k] = acc;
        acc += pdsi_images_of(L->s, xk) == 2 &&
                       pdsi_grid_cell(&L->grid, xk, -1.0) > L->grid.cell_of[k]
                   ? 3
                   : 1;
    }
    before[m] = acc;
}

/* Splits the level into J->nparts parts at cell boundaries (so3 by work,
 * the others by points) and takes the pass's scratch: each part's pair
 * list, the crossing counts and sums, the counts and fill positions. 0 when
 * out of memory. */
static int take_parts(pdsi_level *L, pairs_job *J, pds_workspace *ws) {
    int64_t m = L->m;
    J->first = pdsi_ws_take(ws, PDSI_WS_FIRST, sizeof(int64_t) * (size_t)(m + 1));
    /* parts split at the cell that holds the point where the work reaches
     * the part's share (the scan overwrites first[] later; so3 grids are
     * dense, where cell_of holds the full cell indices pdsi_grid_cell
     * returns) */
    int weighted = J->nparts > 1 && L->s->images == 2 && !L->grid.keys && J->first;
    if (weighted) work_before(L, J->first);
    int64_t c = 0;
    for (int p = 0; p < J->nparts; ++p) {
        part *P = &J->part[p];
        P->c0 = c;
        if (p + 1 == J->nparts) {
            c = L->grid.ncell;
        } else if (weighted) {
            int64_t goal = J->first[m] * (p + 1) / J->nparts;
            while (c < L->grid.ncell && J->first[L->grid.start[c]] < goal) ++c;
        } else {
            int64_t goal = m * (p + 1) / J->nparts;
            while (c < L->grid.ncell && L->grid.start[c] < goal) ++c;
        }
        P->c1 = c;
        P->k0 = L->grid.start[P->c0];
        P->k1 = L->grid.start[P->c1];
        int64_t cap = (int64_t)(P->k1 - P->k0) * 8 + 64;
        P->pairs.slot = p == 0 ? PDSI_WS_PAIRS : PDSI_WS_PAIRS_1;
        P->pairs.b = pdsi_ws_take(ws, P->pairs.slot, sizeof(int32_t) * (size_t)cap);
        P->pairs.key = pdsi_ws_take(ws, P->pairs.slot + 1, sizeof(double) * (size_t)cap);
        P->pairs.cap = cap;
        if (!P->pairs.b || !P->pairs.key) J->failed = 1;
    }
    /* the later parts' crossing counts and sums, for each part but the last */
    int64_t cross = 0;
    for (int p = 0; p + 1 < J->nparts; ++p) cross += m - J->part[p].k1;
    J->xblock = cross ? pdsi_ws_take(ws, PDSI_WS_CROSS,
                                     (sizeof(pdsi_weight) + sizeof(int32_t)) * (size_t)cross)
                      : NULL;
    /* the counts, then the fill positions */
    J->cnt = pdsi_ws_take(ws, PDSI_WS_POS, sizeof(int32_t) * (size_t)(2 * m));
    if (J->failed || !J->first || !J->cnt || (cross && !J->xblock)) return 0;
    if (cross) {
        pdsi_weight *xw = (pdsi_weight *)J->xblock;
        int32_t *xc = (int32_t *)(xw + cross);
        for (int p = 0; p + 1 < J->nparts; ++p) {
            int64_t size = m - J->part[p].k1;
            J->part[p].xw = xw, J->part[p].xcnt = xc;
            memset(xw, 0, sizeof(pdsi_weight) * (size_t)size);
            memset(xc, 0, sizeof(int32_t) * (size_t)size);
            xw += size, xc += size;
        }
    }
    return 1;
}

/* The lists' block for np pairs (each entered at both ends): the
 * contributions, the lists' starts, their ids (in falling alignment), with
 * each list's start and fill position; NULL when out of memory. */
static char *lay_out(pdsi_level *L, pairs_job *J, int coarse, int64_t np, pds_workspace *ws) {
    int64_t m = L->m;
    /* Small levels keep 16-byte fixed-point contributions, large ones the
     * 8-byte doubles (converted when subtracted): filling those is mostly
     * cache misses, where 12 bytes an entry instead of 20 pay, while small
     * levels (in cache) are faster without the conversion. */
    J->wide = np <= PAIRS_WIDE;
    J->coarse = coarse ? (J->wide ? 1 : 2) : 0;
    J->short_ids = coarse && m <= 65536;
    size_t per = coarse ? sizeof(uint32_t) : J->wide ? sizeof(pdsi_weight) : sizeof(double);
    size_t id_bytes = J->short_ids ? sizeof(uint16_t) : sizeof(int32_t);
    size_t bytes = per * (size_t)(2 * np) + sizeof(int64_t) * (size_t)(m + 1) +
                   id_bytes * (size_t)(2 * np) + 16;
    char *block = J->failed ? NULL : pdsi_ws_take(ws, PDSI_WS_LISTS, bytes);
    if (!block) return NULL;
    int64_t *start = (int64_t *)(block + per * (size_t)(2 * np));
    J->ids = start + m + 1;
    J->start = start;
    J->c = block;
    /* list starts; the crossing entries first (from the earlier parts, in
     * part order: smaller points), then the own part's */
    int32_t *counts = J->cnt;
    J->pos = counts + m;
    int64_t at = 0;
    for (int p = 0; p < J->nparts; ++p) {
        for (int32_t k = J->part[p].k0; k < J->part[p].k1; ++k) {
            start[k] = at;
            for (int q = 0; q < p; ++q) {
                int32_t x = J->part[q].xcnt[k - J->part[q].k1];
                J->part[q].xcnt[k - J->part[q].k1] = (int32_t)at;
                at += x;
            }
            J->pos[k] = (int32_t)at;
            at += counts[k];
        }
    }
    start[m] = at;
    return block;
}

int pdsi_weigh_pairs(pdsi_level *L, int coarse) {
    int64_t m = L->m;
    pds_workspace *ws = L->opt->workspace;
    pairs_job J;
    memset(&J, 0, sizeof J);
    J.L = L;
    J.nparts = L->opt->parallel_for && (m >= PARTS_MIN_POINTS || L->testing->parts) ? PARTS : 1;
    if (!take_parts(L, &J, ws)) {
        give_scratch(ws, &J);
        return 0;
    }
    /* The vector scan reads the coordinates by columns when it can: one
     * load a coordinate for eight candidates instead of loads and permutes
     * that transpose eight rows. */
    double *xs = NULL;
    if (L->s->wide && L->d >= 2 && L->d <= 4) {
        xs = pdsi_ws_take(ws, PDSI_WS_COLUMNS, sizeof(double) * (size_t)(m * L->d));
        if (xs) {
            for (int i = 0; i < L->d; ++i)
                for (int64_t j = 0; j < m; ++j) xs[i * m + j] = L->x[j * L->d + i];
            L->xs = xs;
        }
    }
    /* phase 1: scan, contributions, counts */
    memset(J.cnt, 0, sizeof(int32_t) * (size_t)m);
    pdsi_parallel(L->opt, J.nparts, 1, scan_task, &J);
    L->xs = NULL;
    pdsi_ws_give(ws, xs);
    int64_t np = 0;
    for (int p = 0; p < J.nparts; ++p) np += J.part[p].np;
    char *block = lay_out(L, &J, coarse, np, ws);
    if (!block) {
        give_scratch(ws, &J);
        return 0;
    }
    L->lists_block = block;
    /* phase 2: the lists and weights; then the crossing weights */
    pdsi_parallel(L->opt, J.nparts, 1, fill_task, &J);
    for (int p = 0; p + 1 < J.nparts; ++p) {
        const part *P = &J.part[p];
        if (coarse) {
            uint64_t *wc = (uint64_t *)L->w;
            const uint64_t *xw = (const uint64_t *)P->xw;
            for (int64_t b = P->k1; b < m; ++b) wc[b] += xw[b - P->k1];
        } else {
            for (int64_t b = P->k1; b < m; ++b) pdsi_w_add(&L->w[b], P->xw[b - P->k1]);
        }
    }
    L->list_start = J.start;
    L->list_ids = J.short_ids ? NULL : (int32_t *)J.ids;
    L->list_ids16 = J.short_ids ? (uint16_t *)J.ids : NULL;
    L->list_c = !coarse && J.wide ? (pdsi_weight *)block : NULL;
    L->list_v = !coarse && !J.wide ? (double *)block : NULL;
    L->list_a = coarse ? (uint32_t *)block : NULL;
    L->wc = coarse ? (uint64_t *)L->w : NULL;
    give_scratch(ws, &J);
    return 1;
}

/* Subtracts point k's contributions from its neighbours not yet removed,
 * branch-free (about half of them are removed, in no predictable pattern:
 * theirs is a subtraction of 0). */
void pdsi_pairs_subtract_coarse(pdsi_level *L, int32_t k) {
    const uint32_t *a = L->list_a;
    uint64_t *wc = L->wc;
    int64_t t0 = L->list_start[k], t1 = L->list_start[k + 1];
    if (L->list_ids16) {
        const uint16_t *p = L->list_ids16;
        for (int64_t t = t0; t < t1; ++t) wc[p[t]] -= a[t];
    } else {
        const int32_t *p = L->list_ids;
        for (int64_t t = t0; t < t1; ++t) wc[p[t]] -= a[t];
    }
}

void pdsi_pairs_subtract(pdsi_level *L, int32_t k) {
    const int32_t *p = L->list_ids;
    const uint8_t *removed = L->removed;
    pdsi_weight *w = L->w;
    int64_t t0 = L->list_start[k], t1 = L->list_start[k + 1];
    if (L->list_c) {
        const pdsi_weight *c = L->list_c;
        for (int64_t t = t0; t < t1; ++t) {
            uint64_t live = (uint64_t)removed[p[t]] - 1; /* all ones if live */
            pdsi_weight v = {c[t].hi & live, c[t].lo & live};
            pdsi_w_sub(&w[p[t]], v);
        }
    } else {
        const double *c = L->list_v;
        for (int64_t t = t0; t < t1; ++t) {
            uint64_t live = (uint64_t)removed[p[t]] - 1;
            pdsi_weight f = pdsi_fixed(c[t]);
            pdsi_weight v = {f.hi & live, f.lo & live};
            pdsi_w_sub(&w[p[t]], v);
        }
    }
}
