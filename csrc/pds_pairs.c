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

/* one pair met in the scan: its ends (a < b) and its key */
typedef struct pair_rec {
    int32_t a, b;
    double key;
} pair_rec;

PDSI_INLINE int grow_pairs(pair_rec **p, int64_t *cap, int64_t need) {
    if (need <= *cap) return 1;
    int64_t want = *cap * 2 > need ? *cap * 2 : need;
    pair_rec *g = realloc(*p, sizeof(pair_rec) * (size_t)want);
    if (!g) return 0;
    *p = g;
    *cap = want;
    return 1;
}

/* Appends every pair (k, j), j > k, within d_max to *pairs; 0 when out of memory. */
PDSI_INLINE int scan_pairs(pdsi_level *L, int d, pair_rec **pairs, int64_t *npairs, int64_t *cap) {
    const double lim = L->s->search2, *per = L->s->period;
    int32_t r[2 * PDSI_MAX_RANGES], r1[2 * PDSI_MAX_RANGES];
    int64_t np = *npairs;
    pair_rec *p = *pairs;
    for (int64_t c = 0; c < L->grid.ncell; ++c) {
        int32_t b = L->grid.start[c], e = L->grid.start[c + 1];
        if (b == e) continue;
        int nr = pdsi_grid_ranges(&L->grid, c, r);
        int64_t most = 0;
        for (int q = 0; q < nr; ++q) most += r[2 * q + 1] - r[2 * q];
        for (int32_t k = b; k < e; ++k) {
            const double *xk = L->x + (int64_t)k * d;
            int nim = pdsi_images_of(L->s, xk), nr1 = 0;
            int64_t most_k = most;
            if (nim == 2) {
                nr1 = pdsi_grid_ranges(&L->grid, pdsi_grid_image_cell(&L->grid, xk, k, 1), r1);
                for (int q = 0; q < nr1; ++q) most_k += r1[2 * q + 1] - r1[2 * q];
            }
            if (!grow_pairs(&p, cap, np + most_k)) {
                *pairs = p;
                return 0;
            }
            for (int im = 0; im < nim; ++im) {
                const int32_t *rr = im ? r1 : r;
                for (int q = 0, nq = im ? nr1 : nr; q < nq; ++q) {
                    int32_t j = rr[2 * q] > k ? rr[2 * q] : k + 1;
                    /* branch-free: the record is written, and kept when in */
                    for (; j < rr[2 * q + 1]; ++j) {
                        double key = pdsi_pair_key(L->s, xk, L->x + (int64_t)j * d, d, per, im);
                        p[np].a = k;
                        p[np].b = j;
                        p[np].key = key;
                        np += key < lim;
                    }
                }
            }
        }
    }
    *pairs = p;
    *npairs = np;
    return 1;
}

int pdsi_weigh_pairs(pdsi_level *L) {
    int64_t m = L->m, np = 0, cap = m * 8 + 64;
    pair_rec *pairs = malloc(sizeof(pair_rec) * (size_t)cap);
    if (!pairs) return 0;
    int ok;
    switch (L->d) {
    case 1: ok = scan_pairs(L, 1, &pairs, &np, &cap); break;
    case 2: ok = scan_pairs(L, 2, &pairs, &np, &cap); break;
    case 3: ok = scan_pairs(L, 3, &pairs, &np, &cap); break;
    case 4: ok = scan_pairs(L, 4, &pairs, &np, &cap); break;
    default: ok = scan_pairs(L, L->d, &pairs, &np, &cap); break;
    }
    /* lists: one block of 2 np ids and contributions, point k's at off[k] */
    int32_t *ids = ok ? malloc(sizeof(int32_t) * (size_t)(2 * np + 1)) : NULL;
    pdsi_weight *cw = ok ? malloc(sizeof(pdsi_weight) * (size_t)(2 * np + 1)) : NULL;
    L->nb_chunks = calloc(1, sizeof(int32_t *));
    L->nbw_chunks = calloc(1, sizeof(pdsi_weight *));
    L->nb = malloc(sizeof(int32_t *) * (size_t)m);
    L->nbw = malloc(sizeof(pdsi_weight *) * (size_t)m);
    L->nb_cnt = calloc((size_t)m, sizeof(int32_t));
    if (!ok || !ids || !cw || !L->nb_chunks || !L->nbw_chunks || !L->nb || !L->nbw ||
        !L->nb_cnt) {
        free(pairs);
        free(ids);
        free(cw);
        free(L->nb_chunks), L->nb_chunks = NULL;
        free(L->nbw_chunks), L->nbw_chunks = NULL;
        free(L->nb), L->nb = NULL;
        free(L->nbw), L->nbw = NULL;
        free(L->nb_cnt), L->nb_cnt = NULL;
        return 0;
    }
    L->nb_nchunks = 1;
    L->nb_chunks[0] = ids;
    L->nbw_chunks[0] = cw;
    for (int64_t t = 0; t < np; ++t) L->nb_cnt[pairs[t].a]++, L->nb_cnt[pairs[t].b]++;
    int64_t at = 0;
    for (int64_t k = 0; k < m; ++k) {
        L->nb[k] = ids + at;
        L->nbw[k] = cw + at;
        at += L->nb_cnt[k];
        L->nb_cnt[k] = 0; /* refilled below */
    }
    const pdsi_space *s = L->s;
    for (int64_t t = 0; t < np; ++t) {
        int32_t a = pairs[t].a, b = pairs[t].b;
        pdsi_weight c = pdsi_contribution(s, pairs[t].key);
        pdsi_w_add(&L->w[a], c);
        pdsi_w_add(&L->w[b], c);
        int32_t ta = L->nb_cnt[a]++, tb = L->nb_cnt[b]++;
        L->nb[a][ta] = b, L->nbw[a][ta] = c;
        L->nb[b][tb] = a, L->nbw[b][tb] = c;
    }
    free(pairs);
    return 1;
}
