/* pds_pairs.c - the serial weight pass for small levels: each pair once.
 *
 * The parallel pass (pds_eliminate.c) lets every point sum its own
 * neighbours, so each pair's distance and contribution are computed twice,
 * once from each end. With one thread and a level that fits in cache
 * (batches of a few thousand points, the samplers' per-batch problems),
 * that double work and the per-chunk machinery are most of the cost. Here
 * point k looks only at candidates j > k in its cells (every neighbour of k
 * lies in them, and the neighbour relation is symmetric bit for bit, so
 * every pair is met exactly once, from its smaller end), the contribution
 * is computed once and added to both weights, and the neighbour lists are
 * laid out in one block (counted, then filled). The weights are the same
 * exact 128-bit sums, so everything downstream is unchanged. */
#include "pds_internal.h"

/* The pairs met in the scan, each from its smaller end: the other end and
 * the key (then the scaled contribution), in two arrays so the
 * contributions can be computed in one vectorizable loop. */
typedef struct pair_list {
    int32_t *b;
    double *key;
    int64_t cap;
} pair_list;

PDSI_INLINE int grow_pairs(pds_workspace *ws, pair_list *p, int64_t need) {
    if (need <= p->cap) return 1;
    int64_t want = p->cap * 2 > need ? p->cap * 2 : need;
    int32_t *b = pdsi_ws_grow(ws, PDSI_WS_PAIRS, p->b, sizeof(int32_t) * (size_t)want);
    if (!b) return 0;
    p->b = b;
    double *k = pdsi_ws_grow(ws, PDSI_WS_PAIR_KEYS, p->key, sizeof(double) * (size_t)want);
    if (!k) return 0;
    p->key = k;
    p->cap = want;
    return 1;
}

/* Appends every pair (k, j), j > k, within d_max to *pairs, point k's from
 * first[k]; 0 when out of memory. */
static int scan_pairs(pdsi_level *L, pair_list *p, int64_t *npairs, int64_t *first) {
    const int d = L->d;
    int32_t r[2 * PDSI_MAX_RANGES], r1[2 * PDSI_MAX_RANGES];
    int64_t np = *npairs;
    for (int64_t c = 0; c < L->grid.ncell; ++c) {
        int32_t kb = L->grid.start[c], ke = L->grid.start[c + 1];
        if (kb == ke) continue;
        int nr = pdsi_grid_ranges(&L->grid, c, r);
        int64_t most_c = pdsi_ranges_length(r, nr);
        for (int32_t k = kb; k < ke; ++k) {
            const double *xk = L->x + (int64_t)k * d;
            int nim = pdsi_images_of(L->s, xk), nr1 = 0;
            int64_t most = most_c;
            if (nim == 2) {
                nr1 = pdsi_grid_ranges(&L->grid, pdsi_grid_image_cell(&L->grid, xk, k, 1), r1);
                most += pdsi_ranges_length(r1, nr1);
            }
            if (!grow_pairs(L->opt->workspace, p, np + most + PDSI_SCAN_SLACK)) return 0;
            first[k] = np;
            int32_t *pb = p->b;
            double *pk = p->key;
            np = pdsi_scan_ranges(L, xk, 0, r, nr, k + 1, -1, pb, pk, np);
            if (nim == 2) np = pdsi_scan_ranges(L, xk, 1, r1, nr1, k + 1, -1, pb, pk, np);
        }
    }
    first[L->m] = np;
    *npairs = np;
    return 1;
}

/* Lists of at most this many entries keep 16-byte fixed-point
 * contributions, longer ones 8-byte doubles (see pdsi_weigh_pairs). */
#define LIST_ENTRIES_WIDE 200000

/* Fills the lists (heads from ids and contribution block c of the counted
 * sizes) and the weights: point k's pairs with k's list and weight in
 * registers (its entries from smaller points are already in, its own
 * follow); each contribution goes to both ends. A macro for the two entry
 * types (T, and how an entry is made from the scaled double v). */
#define PDSI_FILL_LISTS(NAME, T, HEADS, ENTRY)                                               \
    static void NAME(pdsi_level *L, const pair_list *pairs, const int64_t *first, T *c,      \
                     int32_t *ids) {                                                        \
        int64_t m = L->m, at = 0;                                                           \
        int32_t **nb = L->nb, *cnt = L->nb_cnt;                                             \
        T **heads = L->HEADS;                                                               \
        pdsi_weight *w = L->w;                                                              \
        for (int64_t k = 0; k < m; ++k) {                                                   \
            nb[k] = ids + at;                                                               \
            heads[k] = c + at;                                                              \
            at += cnt[k];                                                                   \
            cnt[k] = 0; /* refilled below */                                                \
        }                                                                                   \
        for (int64_t k = 0; k < m; ++k) {                                                   \
            int32_t *lk = nb[k];                                                            \
            T *ck = heads[k];                                                               \
            int32_t tk = cnt[k];                                                            \
            pdsi_weight sum = {0, 0};                                                       \
            /* loaded once: the stores below may alias */                                   \
            int64_t t0 = first[k], t1 = first[k + 1];                                       \
            for (int64_t t = t0; t < t1; ++t) {                                             \
                int32_t b = pairs->b[t];                                                    \
                double v = pairs->key[t];                                                   \
                pdsi_weight f = pdsi_fixed(v);                                              \
                T e = ENTRY;                                                                \
                pdsi_w_add(&sum, f);                                                        \
                pdsi_w_add(&w[b], f);                                                       \
                lk[tk] = b, ck[tk] = e, tk++;                                               \
                int32_t tb = cnt[b]++;                                                      \
                nb[b][tb] = (int32_t)k, heads[b][tb] = e;                                   \
            }                                                                               \
            cnt[k] = tk;                                                                    \
            pdsi_w_add(&w[k], sum);                                                         \
        }                                                                                   \
    }
PDSI_FILL_LISTS(fill_lists_wide, pdsi_weight, nbw, f)
PDSI_FILL_LISTS(fill_lists_narrow, double, nbv, v)

int pdsi_weigh_pairs(pdsi_level *L) {
    int64_t m = L->m, np = 0, cap = m * 8 + 64;
    pds_workspace *ws = L->opt->workspace;
    pair_list pairs = {pdsi_ws_take(ws, PDSI_WS_PAIRS, sizeof(int32_t) * (size_t)cap),
                       pdsi_ws_take(ws, PDSI_WS_PAIR_KEYS, sizeof(double) * (size_t)cap), cap};
    int64_t *first = pdsi_ws_take(ws, PDSI_WS_FIRST, sizeof(int64_t) * (size_t)(m + 1));
    int ok = pairs.b && pairs.key && first && scan_pairs(L, &pairs, &np, first);
    if (ok) pdsi_scale_contributions(L->s, pairs.key, np);
    /* the lists in one allocation (contributions, the two pointer arrays,
     * ids, counts: in falling alignment), so that freeing it returns one
     * block to malloc: many large blocks freed at once made glibc trim its
     * heap after every call and fault the pages in again on the next. Large
     * lists keep each contribution as its 8-byte double (converted when
     * subtracted): filling them is mostly cache misses, and 12 bytes an
     * entry instead of 20 made SO(3) 8000 -> 200 8% and 3-D 16k 13% faster,
     * while small ones (2048 points, in cache) were 6% slower that way */
    int wide = 2 * np <= LIST_ENTRIES_WIDE;
    size_t per = wide ? sizeof(pdsi_weight) : sizeof(double);
    size_t bytes = per * (size_t)(2 * np) + 2 * sizeof(void *) * (size_t)m +
                   sizeof(int32_t) * (size_t)(2 * np + m) + 16;
    char *block = ok ? pdsi_ws_take(ws, PDSI_WS_LISTS, bytes) : NULL;
    if (!block) {
        pdsi_ws_give(ws, pairs.b);
        pdsi_ws_give(ws, pairs.key);
        pdsi_ws_give(ws, first);
        return 0;
    }
    void **heads = (void **)(block + per * (size_t)(2 * np));
    L->nb = (int32_t **)heads;
    int32_t *ids = (int32_t *)(heads + 2 * m);
    L->nb_cnt = ids + 2 * np;
    memset(L->nb_cnt, 0, sizeof(int32_t) * (size_t)m);
    L->lists_block = block;
    int32_t *cnt = L->nb_cnt;
    for (int64_t k = 0; k < m; ++k) {
        int64_t t0 = first[k], t1 = first[k + 1];
        cnt[k] += (int32_t)(t1 - t0);
        for (int64_t t = t0; t < t1; ++t) cnt[pairs.b[t]]++;
    }
    if (wide) {
        L->nbw = (pdsi_weight **)(heads + m);
        fill_lists_wide(L, &pairs, first, (pdsi_weight *)block, ids);
    } else {
        L->nbv = (double **)(heads + m);
        fill_lists_narrow(L, &pairs, first, (double *)block, ids);
    }
    pdsi_ws_give(ws, pairs.b);
    pdsi_ws_give(ws, pairs.key);
    pdsi_ws_give(ws, first);
    return 1;
}
