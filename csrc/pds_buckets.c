/* pds_buckets.c - the sequential run's maximum on small levels: a lazy
 * bucket queue.
 *
 * The tournament tree (pds_tourney.c) pays a path of log2(M) dependent
 * steps for every stale key it meets at the top (several per removal), one
 * long dependency chain. Here a point sits in the
 * bucket of its key when it was last looked at; a bucket covers 1/2^F of
 * an octave of keys (the key's exponent and its F top mantissa bits), so
 * the bucket of a key never rises as the key falls. Weights only decrease,
 * so every point's current key lies in its bucket or below. The maximum is
 * found by scanning the highest non-empty bucket: each point's current key
 * is computed; a point whose key now belongs lower moves there (one link,
 * no path), the largest of the others (equal keys: the smaller input index,
 * the tie rule) is the maximum, since every point in a lower bucket has a
 * smaller key. Keys below the lowest bucket's range share that bucket
 * (scanned in full like any other).
 *
 * Many equal or nearly equal weights (a lattice, duplicates) would crowd a
 * few buckets and make each scan long; past a budget of scanned points the
 * queue gives up (the pops return PDSI_BUCKETS_CROWDED) and the caller goes
 * on with the tree, which finds the same maxima (the exact run), or with
 * finer buckets (pdsi_buckets_refine: the coarse run, whose crowding is
 * nearly equal bounds in a tight cluster more often than ties). */
#include "pds_queue.h"

/* octaves below the largest key with buckets of their own (12 gave the same
 * scans as 16 and 24 on 2-D, 3-D, SO(3), sphere, 2k-100k points, at half
 * the heads to clear per call) */
#define OCTAVES 12

PDSI_INLINE int64_t bucket_of(const pdsi_buckets *b, uint64_t key) {
    int64_t to = (int64_t)(key >> b->shift) - b->base;
    return to > 0 ? to : 0;
}

/* 2^f buckets an octave for m points */
static int init_bits(pdsi_buckets *b, int64_t m, int f, pds_workspace *ws) {
    b->shift = 52 - f;
    b->nb = (int64_t)OCTAVES << f;
    b->head = pdsi_ws_take(ws, PDSI_WS_BUCKETS, sizeof(int32_t) * (size_t)(b->nb + m));
    b->next = b->head ? b->head + b->nb : NULL;
    return b->head != NULL;
}

int pdsi_buckets_init(pdsi_buckets *b, int64_t m, int spread, pds_workspace *ws) {
    /* about 2^spread points a bucket in the octave of the largest weights:
     * 2 for pdsi_buckets_pop (more make longer scans); 8 for
     * pdsi_buckets_pop_coarse (fewer make no fewer scans, and more heads
     * that do not stay in cache) */
    int f = 7 - spread;
    while (f < 15 - spread && ((int64_t)1 << (f + spread)) < m) ++f;
    return init_bits(b, m, f, ws);
}

/* 64 times as many buckets an octave, up to max(2^20, 64 m) buckets */
#define REFINE_BITS 6

int pdsi_buckets_refine(pdsi_buckets *b, int64_t m, pds_workspace *ws) {
    int f = 52 - b->shift + REFINE_BITS;
    int64_t most = m * 64 > ((int64_t)1 << 20) ? m * 64 : ((int64_t)1 << 20);
    if (((int64_t)OCTAVES << f) > most) return 0;
    pdsi_buckets_free(b, ws);
    return init_bits(b, m, f, ws);
}

void pdsi_buckets_build(pdsi_buckets *b, const uint64_t *key, int64_t m, int64_t budget) {
    uint64_t most = 0;
    for (int64_t k = 0; k < m; ++k) most = key[k] > most ? key[k] : most;
    b->base = (int64_t)(most >> b->shift) - (b->nb - 1);
    for (int64_t t = 0; t < b->nb; ++t) b->head[t] = -1;
    /* pushed from the last point down, so each bucket lists its points in
     * order (scans then touch the weights in order) */
    for (int64_t k = m - 1; k >= 0; --k) {
        if (!key[k]) continue;
        int64_t to = bucket_of(b, key[k]);
        b->next[k] = b->head[to];
        b->head[to] = (int32_t)k;
    }
    b->top = b->nb - 1;
    b->scanned = 0;
    b->budget = budget;
}

/* the highest non-empty bucket (b->top moved down to it), or
 * PDSI_BUCKETS_EMPTY, or PDSI_BUCKETS_CROWDED past the scan budget */
PDSI_INLINE int64_t top_bucket(pdsi_buckets *b) {
    int64_t t = b->top;
    while (t >= 0 && b->head[t] < 0) --t;
    b->top = t;
    if (t < 0) return PDSI_BUCKETS_EMPTY;
    if (b->scanned > b->budget) return PDSI_BUCKETS_CROWDED;
    return t;
}

int32_t pdsi_buckets_pop(pdsi_buckets *b, const pdsi_weight *w, const int32_t *tie,
                         uint64_t *key_out) {
    int32_t *head = b->head, *next = b->next;
    for (;;) {
        int64_t t = top_bucket(b);
        if (t < 0) return (int32_t)t;
        int32_t *link = &head[t], *best_link = NULL, best = -1;
        uint64_t best_key = 0;
        int64_t seen = 0;
        for (int32_t e = *link; e >= 0;) {
            int32_t after = next[e];
            uint64_t key = pdsi_tourney_key(pdsi_w_round(w[e]));
            int64_t to = bucket_of(b, key);
            if (to < t) {
                /* its key now belongs lower: unlink, push there */
                *link = after;
                next[e] = head[to];
                head[to] = e;
            } else {
                if (key > best_key || (key == best_key && tie[e] < tie[best]))
                    best = e, best_key = key, best_link = link;
                link = &next[e];
            }
            e = after;
            ++seen;
        }
        b->scanned += seen;
        if (best >= 0) {
            *best_link = next[best];
            *key_out = best_key;
            return best;
        }
    }
}

/* The largest value whose key lies in a bucket below t (bucket 0 holds all
 * keys below its range: none below it). */
PDSI_INLINE double below_bucket(const pdsi_buckets *b, int64_t t) {
    if (t <= 0 || t + b->base <= 0) return -INFINITY;
    uint64_t first = (uint64_t)(t + b->base) << b->shift; /* bucket t's first key */
    uint64_t bits = first - 2;                            /* key first - 1 */
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* unlinks point k from bucket t */
PDSI_INLINE void unlink_from(pdsi_buckets *b, int64_t t, int32_t k) {
    int32_t *link = &b->head[t];
    while (*link != k) link = &b->next[*link];
    *link = b->next[k];
}

/* points in doubt a pop may compare exactly before the queue gives up */
#define DOUBT_MOST 32

int32_t pdsi_buckets_pop_coarse(pdsi_buckets *b, const uint64_t *up, const int64_t *start,
                                const int32_t *tie, double (*exact)(void *, int32_t), void *ctx) {
    int32_t *head = b->head, *next = b->next;
    for (;;) {
        int64_t t = top_bucket(b);
        if (t < 0) return (int32_t)t;
        /* best: the largest coarse sum (equal: the smaller tie), and the
         * two largest bounds that stay here, and whose the first is */
        int32_t *link = &head[t], *best_link = NULL, best = -1, bound1_of = -1;
        double best_a = -1.0, bound1 = -1.0, bound2 = -1.0;
        int64_t seen = 0;
        for (int32_t e = *link; e >= 0;) {
            int32_t after = next[e];
            uint64_t up_e = up[e];
            double bound = pdsi_coarse_round(up_e);
            int64_t to = bucket_of(b, pdsi_tourney_key(bound));
            if (to < t) {
                *link = after;
                next[e] = head[to];
                head[to] = e;
            } else {
                double ad = pdsi_coarse_round(up_e - (uint64_t)(start[e + 1] - start[e]));
                if (ad > best_a || (ad == best_a && tie[e] < tie[best]))
                    best = e, best_a = ad, best_link = link;
                if (bound > bound1) bound2 = bound1, bound1 = bound, bound1_of = e;
                else if (bound > bound2) bound2 = bound;
                link = &next[e];
            }
            e = after;
            ++seen;
        }
        b->scanned += seen;
        if (best < 0) continue;
        /* certain (no other bound here reaches best's sum, nor any below):
         * taken without a second look at the lists */
        double other = bound1_of == best ? bound2 : bound1;
        if (other < best_a && below_bucket(b, t) < best_a) {
            *best_link = next[best];
            return best;
        }
        /* the points whose bound reaches best's coarse sum: in this bucket,
         * and in lower ones while their range reaches it */
        int32_t doubt[DOUBT_MOST];
        int64_t doubt_bucket[DOUBT_MOST];
        int nd = 0;
        for (int64_t u = t; u >= 0 && (u == t || below_bucket(b, u + 1) >= best_a); --u) {
            for (int32_t e = head[u]; e >= 0; e = next[e]) {
                if (e == best || pdsi_coarse_round(up[e]) < best_a) continue;
                if (nd == DOUBT_MOST) return PDSI_BUCKETS_GAVE_UP;
                doubt[nd] = e, doubt_bucket[nd] = u, nd++;
            }
        }
        int32_t win = best;
        int64_t win_bucket = t;
        if (nd) {
            /* rare on points in general position (equal or nearly equal
             * weights): the exact weights decide, equal ones by the tie rule */
            double win_w = exact(ctx, best);
            if (win_w != win_w) return PDSI_BUCKETS_GAVE_UP;
            for (int i = 0; i < nd; ++i) {
                double we = exact(ctx, doubt[i]);
                if (we != we) return PDSI_BUCKETS_GAVE_UP;
                if (we > win_w || (we == win_w && tie[doubt[i]] < tie[win]))
                    win = doubt[i], win_w = we, win_bucket = doubt_bucket[i];
            }
        }
        unlink_from(b, win_bucket, win);
        return win;
    }
}

void pdsi_buckets_free(pdsi_buckets *b, pds_workspace *ws) {
    pdsi_ws_give(ws, b->head);
    b->head = b->next = NULL;
}
