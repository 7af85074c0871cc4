/* pds_state.h - one elimination level (private): its state, the neighbour
 * loops over it, and the passes that weigh and eliminate it. */
#ifndef PDS_STATE_H
#define PDS_STATE_H

#include "pds_grid.h"
#include "pds_queue.h"
#include "pds_testing.h"

struct pdsi_problem;

typedef struct pdsi_level {
    pdsi_space space; /* this level's copy (its d_max and scale)  */
    const pdsi_space *s; /* == &space                             */
    const pds_options *opt;
    pdsi_grid grid;
    int d;
    int64_t m;
    double *x;        /* m x d, cell order                        */
    double *xs;       /* NULL, or the same by columns (coordinate i of
                         point j at xs[i m + j]) for the vector scan  */
    double *gx;       /* NULL, or the same in the grid's principal-axes
                         frame (d > 8): the scan's early exit reads it
                         first, the distances are measured on x */
    double glim;      /* a key on gx at least this: surely no neighbour */
    int32_t *order;   /* row of the level's input, per sorted point */
    pdsi_weight *w;   /* fixed-point weights                      */
    uint8_t *removed;
    int32_t *tie;     /* input index per sorted point (ties: smaller first) */
    uint8_t *keep;    /* NULL, or per sorted point 1 if it is kept (opt.keep):
                         never a removal candidate, its weight never read */
    int64_t n_keep;   /* the kept points (all of them are in every level) */
    /* Neighbour lists (pds_weights.c), NULL when not stored: nb[k] points
     * at nb_cnt[k] sorted indices, every j != k within d_max of k. */
    int32_t **nb;
    int32_t *nb_cnt;
    pdsi_weight **nbw;   /* NULL, or nbw[k][t] = the contribution of nb[k][t] */
    int32_t **nb_chunks; /* the blocks the lists live in (to free)  */
    pdsi_weight **nbw_chunks;
    int64_t nb_nchunks;
    /* The serial path's lists (pds_pairs.c), NULL elsewhere: point k's
     * neighbours are list_ids[t], t in [list_start[k], list_start[k + 1]),
     * their contributions list_c[t] (fixed point) or, on large levels,
     * list_v[t] (the double of pdsi_scaled_contribution, 8 bytes not 16;
     * pdsi_fixed of it is exactly the weight's term). One block
     * (lists_block), freed alone. */
    int64_t *list_start;
    int32_t *list_ids;
    pdsi_weight *list_c;
    double *list_v;
    void *lists_block;
    /* The serial path's coarse run (pds_pairs.c), NULL elsewhere: the
     * contributions' coarse terms list_a[t] and the weights' coarse sums wc[k]
     * (in place of list_c / list_v and w; the run adds each point's
     * neighbour count to its sum: the bound of pdsi_buckets_pop_coarse). */
    uint32_t *list_a;
    uint64_t *wc;
    uint16_t *list_ids16; /* the coarse run's ids on levels of at most 65536
                             points (list_ids NULL then) */
    const pdsi_testing *testing; /* the tests' other paths (all 0 in pds_eliminate) */
} pdsi_level;

/* Whether sorted point k is kept (opt.keep): the runs never queue it, as if
 * its key were below every other, while its contributions stay in its
 * neighbours' weights. */
PDSI_INLINE int pdsi_kept(const pdsi_level *L, int64_t k) { return L->keep && L->keep[k]; }

/* The key of sorted points k (xk: its row of L->x) and j, as pdsi_pair_key
 * gives it on L->x (d == L->d, a constant where the caller has one). d > 8
 * in a principal-axes frame (pds_pca.c): the first
 * eight rotated coordinates, where most of a distance lies, rule out most
 * candidates first (a key of at least L->glim there: surely no neighbour,
 * whatever the rotation's rounding); the others are measured on L->x. */
PDSI_INLINE double pdsi_level_key(const pdsi_level *L, const double *xk, int32_t j, int d,
                                  int im) {
    if (L->gx) {
        const double *gk = L->gx + (xk - L->x), *gj = L->gx + (int64_t)j * d;
        double key = 0.0;
        for (int i = 0; i < 8; ++i) {
            double t = gk[i] - gj[i];
            key += t * t;
        }
        if (key >= L->glim) return key;
    }
    return pdsi_pair_key(L->s, xk, L->x + (int64_t)j * d, d, L->s->period, im);
}

/* The ranges searched for image `image` of sorted point k (coordinates xk):
 * around its own cell for image 0, around the cell of -xk for image 1 (so3;
 * that cell may hold no point: a full index, also in a sparse grid). */
PDSI_INLINE int pdsi_grid_image_ranges(const pdsi_grid *grid, const double *xk, int32_t k,
                                       int image, int32_t *ranges) {
    return image ? pdsi_grid_ranges_full(grid, pdsi_grid_cell(grid, xk, -1.0), ranges)
                 : pdsi_grid_ranges(grid, grid->cell_of[k], ranges);
}

/* Calls body(j, dist2) for every sorted point j != k within d_max of k that
 * has not been removed; dist2 is the pair key (pdsi_pair_key). For so3 the
 * cells around q and around -q are both searched (images), and each pair is
 * counted once. A macro, so the compiler sees a constant d. */
#define PDSI_FOR_NEIGHBOURS(L, k, D, BODY)                                                  \
    do {                                                                                    \
        int32_t r_[2 * PDSI_MAX_RANGES];                                                    \
        const double *xk_ = (L)->x + (int64_t)(k) * (D);                                    \
        const double *per_ = (L)->s->period;                                                \
        double lim_ = (L)->s->search2;                                                      \
        const int nim_ = pdsi_images_of((L)->s, xk_);                                        \
        for (int im_ = 0; im_ < nim_; ++im_) {                                               \
            int nr_ = pdsi_grid_image_ranges(&(L)->grid, xk_, (k), im_, r_);                 \
            for (int q_ = 0; q_ < nr_; ++q_) {                                              \
                for (int32_t j = r_[2 * q_]; j < r_[2 * q_ + 1]; ++j) {                     \
                    if (j == (k) || ((L)->removed && (L)->removed[j])) continue;            \
                    double dist2 =                                                          \
                        pdsi_pair_key((L)->s, xk_, (L)->x + (int64_t)j * (D), (D), per_, im_); \
                    if (dist2 < lim_) { BODY; }                                             \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    } while (0)



/* Subtracts k's contribution from each live neighbour (k itself is already
 * marked removed or is about to be; its list does not contain it), from the
 * per-point lists or the grid (the serial path's lists: pdsi_pairs_subtract). */
#define PDSI_SUBTRACT_NEIGHBOURS(L, k, D, ATOMIC)                                           \
    do {                                                                                    \
        if ((L)->nbw && !(ATOMIC)) {                                                 \
            /* branch-free: about half the listed neighbours are removed, in no \
             * predictable pattern; theirs is a subtraction of 0 */             \
            const int32_t *p_ = (L)->nb[k];                                                 \
            const pdsi_weight *c_ = (L)->nbw[k];                                            \
            for (int32_t t_ = 0, n_ = (L)->nb_cnt[k]; t_ < n_; ++t_) {                      \
                uint64_t live_ = (uint64_t)(L)->removed[p_[t_]] - 1; /* all ones if live */ \
                pdsi_weight v_ = {c_[t_].hi & live_, c_[t_].lo & live_};                    \
                pdsi_w_sub(&(L)->w[p_[t_]], v_);                                            \
            }                                                                               \
        } else if ((L)->nbw) {                                                              \
            const int32_t *p_ = (L)->nb[k];                                                 \
            const pdsi_weight *c_ = (L)->nbw[k];                                            \
            for (int32_t t_ = 0, n_ = (L)->nb_cnt[k]; t_ < n_; ++t_)                        \
                if (!(L)->removed[p_[t_]]) pdsi_sub(&(L)->w[p_[t_]], c_[t_], ATOMIC);       \
        } else if ((L)->nb) {                                                               \
            const double *xs_ = (L)->x + (int64_t)(k) * (D);                                \
            const int32_t *p_ = (L)->nb[k], *pe_ = p_ + (L)->nb_cnt[k];                     \
            for (; p_ < pe_; ++p_) {                                                        \
                int32_t j = *p_;                                                            \
                if ((L)->removed[j]) continue;                                              \
                double key_ = pdsi_pair_key_any((L)->s, xs_, (L)->x + (int64_t)j * (D), (D),  \
                                                (L)->s->period);                            \
                pdsi_sub(&(L)->w[j], pdsi_contribution((L)->s, key_), ATOMIC);              \
            }                                                                               \
        } else {                                                                            \
            PDSI_FOR_NEIGHBOURS(L, k, D,                                                    \
                                pdsi_sub(&(L)->w[j], pdsi_contribution((L)->s, dist2), ATOMIC)); \
        }                                                                                   \
    } while (0)

/* ---- the candidate scan and the contributions, vectorized (pds_scan.c) ---- */
/* Tests the candidates j of the nr ranges r ([r[2u], r[2u + 1])) of image im
 * of the point xk, j >= from and j != skip: appends each within d_max to
 * ids[n], keys[n] (its pdsi_pair_key), and adds one to cnt[j] when cnt is
 * not NULL; returns the new n. Stores up to PDSI_SCAN_SLACK records past
 * the last. */
int64_t pdsi_scan_ranges(const pdsi_level *L, const double *xk, int im, const int32_t *r, int nr,
                         int32_t from, int32_t skip, int32_t *ids, double *keys, int64_t n,
                         int32_t *cnt);
/* Whether pdsi_scan_ranges runs vector code on this level (its counts then
 * cost one masked add per eight candidates; elsewhere a pass afterwards
 * over the pairs is faster than counting in the scan). */
int pdsi_scan_is_wide(const pdsi_level *L);
/* radius="auto" (pds_metric.c): the k2 smallest keys of row i against the
 * other rows of x (m x d), ascending, in low[0..k2) (k2 <= m - 1), as
 * pdsi_pair_key computes them without a period, eight rows a vector. 0
 * when there is no vector version here (AVX-512, euclidean, d = 2, 3, 4):
 * the caller loops. Not for toroidal distances (the caller's period). */
int pdsi_smallest_keys(const pdsi_space *s, const double *x, int64_t m, int d, int64_t i,
                       int64_t k2, double *low);
/* Keeps v among the k2 smallest seen so far, low[0..*have) ascending. */
PDSI_INLINE void pdsi_keep_smallest(double *low, int64_t *have, int64_t k2, double v) {
    if (*have == k2 && !(v < low[k2 - 1])) return;
    int64_t at = *have < k2 ? (*have)++ : k2 - 1;
    for (; at > 0 && low[at - 1] > v; --at) low[at] = low[at - 1];
    low[at] = v;
}
/* Replaces each of the n keys by its pdsi_scaled_contribution. */
void pdsi_scale_contributions(const pdsi_space *s, double *keys, int64_t n);
/* Slack the scan needs past the records it may keep: it stores whole
 * vectors of 8 (pdsi_scan_ranges). */
#define PDSI_SCAN_SLACK 8

/* ---- the serial weight pass for small levels (pds_pairs.c) ---- */
/* Weights and neighbour lists with contributions, each pair computed once,
 * on the calling thread; returns 0 (storing nothing) when out of memory. */
int pdsi_weigh_pairs(pdsi_level *L, int coarse);
/* Subtracts point k's contributions from its neighbours not yet removed. */
void pdsi_pairs_subtract(pdsi_level *L, int32_t k);
/* The coarse run's: k's coarse terms from every neighbour's coarse sum
 * (removed ones too: theirs are never read again; unsigned, they wrap). */
void pdsi_pairs_subtract_coarse(pdsi_level *L, int32_t k);

/* ---- exact parallel elimination in rounds (pds_rounds.c) ---- */
/* Removes points from level L while more than `tail` removals of `*left`
 * remain, exactly as the sequential heap run would (same set, same removal
 * weights). Appends each removed point's sorted index to rm[*count] and its
 * rounded weight at removal to rm_w[*count] (when rm_w is not NULL). */
pds_status pdsi_rounds(pdsi_level *L, int64_t *left, int64_t tail, int32_t *rm, double *rm_w,
                       int64_t *count, pds_error *err);
/* ---- one level (pds_level.c) ---- */
/* Eliminates the m rows of x (m x d, d = P->d) down to n, in the space s
 * (its d_max and d_min) on the paths t. gx: the same points in the frame
 * the grid cuts (P->frame's rows; NULL: x itself); only the cells and the
 * scan's early exit read it, distances are measured on x, so exact ties
 * stay ties. ids[i] is row i's input index (ties go to the smaller; NULL:
 * i itself). Writes the n kept ids, in row order, to kept_ids and, when
 * removed_ids is not NULL, the m - n removed ids in removal order. */
pds_status pdsi_level_run(const struct pdsi_problem *P, const double *x, const double *gx,
                          int64_t m, int64_t n, const int64_t *ids, const pdsi_space *s,
                          const pdsi_testing *t, int64_t *removed_ids, int64_t *kept_ids,
                          pds_error *err);

/* ---- the per-point weight pass and the level's weights (pds_weights.c) ---- */
/* The level's weights: on the serial path (each pair once, pds_pairs.c; the
 * coarse run's lists when `coarse`) when `serial` and it has the memory,
 * else by the per-point pass with neighbour lists when `lists` (with
 * contributions when `keep`) or without. Returns whether the serial path
 * took them. */
int pdsi_weigh_level(pdsi_level *L, int serial, int coarse, int lists, int keep);
/* Frees the level's neighbour lists (either pass's). */
void pdsi_free_lists(pdsi_level *L);

/* ---- the sequential run (pds_sequential.c) ---- */
/* The last `left` removals, one by one, each of the heaviest live point;
 * appends them as pdsi_rounds does. */
pds_status pdsi_sequential_run(pdsi_level *L, int64_t left, int32_t *rm, double *rm_w,
                               int64_t *count, pds_error *err);
/* The same on the serial path's coarse sums (L->wc): sets *gave_up when
 * too many weights are in doubt, and the caller weighs the level again
 * exactly. */
pds_status pdsi_coarse_run(pdsi_level *L, int64_t left, int32_t *rm, int64_t *count, int *gave_up,
                           pds_error *err);

#endif /* PDS_STATE_H */
