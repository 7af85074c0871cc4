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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)
/* The 2-D scan of candidates j in [j0, j1), two at a time: the same key as
 * pdsi_pair_key ((xj - xk)^2 is (xk - xj)^2 exactly; 0 + x^2 + y^2 in that
 * order; toroidal |dx| and period - |dx| by the same minimum), records
 * written branch-free. Returns the new count; *next is where the scalar
 * loop goes on (at most one candidate left). */
static int64_t scan2_sse2(const double *x, const double *xk, const double *per, double lim,
                          int32_t j0, int32_t j1, int32_t *pb, double *pk, int64_t np,
                          int32_t *next) {
    const __m128d q = _mm_loadu_pd(xk), vlim = _mm_set1_pd(lim);
    const __m128d sign = _mm_set1_pd(-0.0);
    const __m128d period = per ? _mm_loadu_pd(per) : _mm_setzero_pd();
    int32_t j = j0;
    for (; j + 2 <= j1; j += 2) {
        __m128d a = _mm_sub_pd(_mm_loadu_pd(x + 2 * (int64_t)j), q);
        __m128d b = _mm_sub_pd(_mm_loadu_pd(x + 2 * (int64_t)j + 2), q);
        if (per) {
            a = _mm_andnot_pd(sign, a);
            b = _mm_andnot_pd(sign, b);
            a = _mm_min_pd(a, _mm_sub_pd(period, a));
            b = _mm_min_pd(b, _mm_sub_pd(period, b));
        }
        a = _mm_mul_pd(a, a);
        b = _mm_mul_pd(b, b);
        __m128d key = _mm_add_pd(_mm_unpacklo_pd(a, b), _mm_unpackhi_pd(a, b));
        int in = _mm_movemask_pd(_mm_cmplt_pd(key, vlim));
        pb[np] = j;
        _mm_storel_pd(pk + np, key);
        np += in & 1;
        pb[np] = j + 1;
        _mm_storeh_pd(pk + np, key);
        np += in >> 1;
    }
    *next = j;
    return np;
}

/* The same for d = 3 or 4 (D), and for so3's second image (plus: the key
 * sums (xk + xj)^2), two candidates a vector, one per lane: the squares are
 * added in coordinate order, as pdsi_pair_key adds them. */
#define PDSI_SCAN_LANES(D)                                                                   \
    static int64_t scan##D##_sse2(const double *x, const double *xk, const double *per,      \
                                  double lim, int plus, int32_t j0, int32_t j1, int32_t *pb,  \
                                  double *pk, int64_t np, int32_t *next) {                  \
        __m128d q[D], period[D];                                                            \
        for (int i = 0; i < D; ++i) {                                                       \
            q[i] = _mm_set1_pd(plus ? -xk[i] : xk[i]);                                      \
            period[i] = _mm_set1_pd(per ? per[i] : 0.0);                                    \
        }                                                                                   \
        const __m128d vlim = _mm_set1_pd(lim), sign = _mm_set1_pd(-0.0);                    \
        int32_t j = j0;                                                                     \
        for (; j + 2 <= j1; j += 2) {                                                       \
            const double *a = x + (int64_t)j * D;                                           \
            __m128d key = _mm_setzero_pd();                                                 \
            for (int i = 0; i < D; ++i) {                                                   \
                /* xj - xk, or xj + xk = xj - (-xk): exact negation */                     \
                __m128d t = _mm_sub_pd(_mm_set_pd(a[D + i], a[i]), q[i]);                   \
                if (per) {                                                                  \
                    t = _mm_andnot_pd(sign, t);                                             \
                    t = _mm_min_pd(t, _mm_sub_pd(period[i], t));                            \
                }                                                                           \
                key = _mm_add_pd(key, _mm_mul_pd(t, t));                                    \
            }                                                                               \
            int in = _mm_movemask_pd(_mm_cmplt_pd(key, vlim));                              \
            pb[np] = j;                                                                     \
            _mm_storel_pd(pk + np, key);                                                    \
            np += in & 1;                                                                   \
            pb[np] = j + 1;                                                                 \
            _mm_storeh_pd(pk + np, key);                                                    \
            np += in >> 1;                                                                  \
        }                                                                                   \
        *next = j;                                                                          \
        return np;                                                                          \
    }
PDSI_SCAN_LANES(3)
PDSI_SCAN_LANES(4)
#endif

/* Appends every pair (k, j), j > k, within d_max to *pairs, point k's from
 * first[k]; 0 when out of memory. */
PDSI_INLINE int scan_pairs(pdsi_level *L, int d, pair_list *p, int64_t *npairs, int64_t *first) {
    const double lim = L->s->search2, *per = L->s->period;
    int32_t r[2 * PDSI_MAX_RANGES], r1[2 * PDSI_MAX_RANGES];
    int64_t np = *npairs;
    for (int64_t c = 0; c < L->grid.ncell; ++c) {
        int32_t kb = L->grid.start[c], ke = L->grid.start[c + 1];
        if (kb == ke) continue;
        int nr = pdsi_grid_ranges(&L->grid, c, r);
        int64_t most_c = 0;
        for (int q = 0; q < nr; ++q) most_c += r[2 * q + 1] - r[2 * q];
        for (int32_t k = kb; k < ke; ++k) {
            const double *xk = L->x + (int64_t)k * d;
            int nim = pdsi_images_of(L->s, xk), nr1 = 0;
            int64_t most = most_c;
            if (nim == 2) {
                nr1 = pdsi_grid_ranges(&L->grid, pdsi_grid_image_cell(&L->grid, xk, k, 1), r1);
                for (int q = 0; q < nr1; ++q) most += r1[2 * q + 1] - r1[2 * q];
            }
            if (!grow_pairs(L->opt->workspace, p, np + most)) return 0;
            first[k] = np;
            int32_t *pb = p->b;
            double *pk = p->key;
            for (int im = 0; im < nim; ++im) {
                const int32_t *rr = im ? r1 : r;
                for (int q = 0, nq = im ? nr1 : nr; q < nq; ++q) {
                    int32_t j = rr[2 * q] > k ? rr[2 * q] : k + 1;
#if defined(__SSE2__)
                    /* so3 with d_max >= pi tests a sign too: scalar there */
                    if (d == 2 && L->s->images == 1)
                        np = scan2_sse2(L->x, xk, per, lim, j, rr[2 * q + 1], pb, pk, np, &j);
                    else if (d == 3 && L->s->images == 1)
                        np = scan3_sse2(L->x, xk, per, lim, 0, j, rr[2 * q + 1], pb, pk, np, &j);
                    else if (d == 4 && (L->s->images == 1 || lim < 2.0))
                        np = scan4_sse2(L->x, xk, per, lim, im, j, rr[2 * q + 1], pb, pk, np, &j);
#endif
                    /* branch-free: the record is written, and kept when in */
                    for (; j < rr[2 * q + 1]; ++j) {
                        double key = pdsi_pair_key(L->s, xk, L->x + (int64_t)j * d, d, per, im);
                        pb[np] = j;
                        pk[np] = key;
                        np += key < lim;
                    }
                }
            }
        }
    }
    first[L->m] = np;
    *npairs = np;
    return 1;
}

/* Replaces each key by its scaled contribution (pdsi_scaled_contribution).
 * Euclidean with alpha 8 two at a time with SSE2 (part of every x86-64):
 * square root, maximum, division and products are exactly rounded in each
 * lane, so the bits are those of the scalar code; otherwise one by one. */
static void scale_contributions(const pdsi_space *s, double *key, int64_t np) {
    int64_t t = 0;
#if defined(__SSE2__)
    if (s->angle_factor == 0.0 && s->alpha_int == 8) {
        const __m128d d_min = _mm_set1_pd(s->d_min), d_max = _mm_set1_pd(s->d_max);
        const __m128d one = _mm_set1_pd(1.0), zero = _mm_setzero_pd();
        const __m128d scale = _mm_set1_pd(s->scale_hi);
        for (; t + 2 <= np; t += 2) {
            __m128d dist = _mm_max_pd(_mm_sqrt_pd(_mm_loadu_pd(key + t)), d_min);
            __m128d u = _mm_sub_pd(one, _mm_div_pd(dist, d_max));
            __m128d b = _mm_mul_pd(u, u);
            b = _mm_mul_pd(b, b);
            b = _mm_mul_pd(b, b);
            /* u <= 0: 0 (the scalar code returns 0 there) */
            __m128d v = _mm_and_pd(_mm_mul_pd(b, scale), _mm_cmpgt_pd(u, zero));
            _mm_storeu_pd(key + t, v);
        }
    }
#endif
    for (; t < np; ++t) key[t] = pdsi_scaled_contribution(s, key[t]);
}

int pdsi_weigh_pairs(pdsi_level *L) {
    int64_t m = L->m, np = 0, cap = m * 8 + 64;
    pds_workspace *ws = L->opt->workspace;
    pair_list pairs = {pdsi_ws_take(ws, PDSI_WS_PAIRS, sizeof(int32_t) * (size_t)cap),
                       pdsi_ws_take(ws, PDSI_WS_PAIR_KEYS, sizeof(double) * (size_t)cap), cap};
    int64_t *first = pdsi_ws_take(ws, PDSI_WS_FIRST, sizeof(int64_t) * (size_t)(m + 1));
    int ok = pairs.b && pairs.key && first;
    if (ok) {
        switch (L->d) {
        case 1: ok = scan_pairs(L, 1, &pairs, &np, first); break;
        case 2: ok = scan_pairs(L, 2, &pairs, &np, first); break;
        case 3: ok = scan_pairs(L, 3, &pairs, &np, first); break;
        case 4: ok = scan_pairs(L, 4, &pairs, &np, first); break;
        default: ok = scan_pairs(L, L->d, &pairs, &np, first); break;
        }
    }
    if (ok) scale_contributions(L->s, pairs.key, np);
    /* the lists in one allocation (contributions, the two pointer arrays,
     * ids, counts: in falling alignment), so that freeing it returns one
     * block to malloc: many large blocks freed at once made glibc trim its
     * heap after every call and fault the pages in again on the next */
    size_t bytes = sizeof(pdsi_weight) * (size_t)(2 * np) + 2 * sizeof(void *) * (size_t)m +
                   sizeof(int32_t) * (size_t)(2 * np + m) + 16;
    char *block = ok ? pdsi_ws_take(ws, PDSI_WS_LISTS, bytes) : NULL;
    if (!block) {
        pdsi_ws_give(ws, pairs.b);
        pdsi_ws_give(ws, pairs.key);
        pdsi_ws_give(ws, first);
        return 0;
    }
    pdsi_weight *cw = (pdsi_weight *)block;
    L->nb = (int32_t **)(cw + 2 * np);
    L->nbw = (pdsi_weight **)(L->nb + m);
    int32_t *ids = (int32_t *)(L->nbw + m);
    L->nb_cnt = ids + 2 * np;
    memset(L->nb_cnt, 0, sizeof(int32_t) * (size_t)m);
    L->lists_block = block;
    int32_t *cnt = L->nb_cnt;
    for (int64_t k = 0; k < m; ++k) {
        int64_t t0 = first[k], t1 = first[k + 1];
        cnt[k] += (int32_t)(t1 - t0);
        for (int64_t t = t0; t < t1; ++t) cnt[pairs.b[t]]++;
    }
    int64_t at = 0;
    for (int64_t k = 0; k < m; ++k) {
        L->nb[k] = ids + at;
        L->nbw[k] = cw + at;
        at += cnt[k];
        cnt[k] = 0; /* refilled below */
    }
    /* point k's pairs: k's list and weight stay in registers (its entries
     * from smaller points are already in, its own follow); each contribution
     * is computed once and goes to both ends */
    int32_t **nb = L->nb;
    pdsi_weight **nbw = L->nbw, *w = L->w;
    for (int64_t k = 0; k < m; ++k) {
        int32_t *lk = nb[k];
        pdsi_weight *ck = nbw[k];
        int32_t tk = cnt[k];
        pdsi_weight sum = {0, 0};
        int64_t t0 = first[k], t1 = first[k + 1]; /* loaded once: the stores below may alias */
        for (int64_t t = t0; t < t1; ++t) {
            int32_t b = pairs.b[t];
            pdsi_weight c = pdsi_fixed(pairs.key[t]);
            pdsi_w_add(&sum, c);
            pdsi_w_add(&w[b], c);
            lk[tk] = b, ck[tk] = c, tk++;
            int32_t tb = cnt[b]++;
            nb[b][tb] = (int32_t)k, nbw[b][tb] = c;
        }
        cnt[k] = tk;
        pdsi_w_add(&w[k], sum);
    }
    pdsi_ws_give(ws, pairs.b);
    pdsi_ws_give(ws, pairs.key);
    pdsi_ws_give(ws, first);
    return 1;
}
