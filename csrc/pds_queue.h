/* pds_queue.h - the sequential run's maximum (private): a tournament tree
 * (pds_tourney.c) and, on small levels, a lazy bucket queue (pds_buckets.c). */
#ifndef PDS_QUEUE_H
#define PDS_QUEUE_H

#include "pds_weight.h"

typedef struct pdsi_tourney {
    int64_t size;  /* leaves: the least power of two >= the points          */
    uint64_t *key; /* per leaf: pdsi_tourney_key of the rounded weight when
                      last set (>= the current one), 0 when removed/padding */
    int32_t *win;  /* win[v], 1 <= v < size: the leaf winning v's subtree
                      (larger key, then smaller leaf); win[size + i] = i    */
} pdsi_tourney;

/* The key of a rounded weight w >= 0: its bits (which order as the values
 * of doubles >= 0) plus one, above the 0 of removed leaves. */
PDSI_INLINE uint64_t pdsi_tourney_key(double w) {
    uint64_t b;
    memcpy(&b, &w, sizeof b);
    return b + 1;
}
/* Allocates a tree of at least n leaves, every key 0 (from ws when not
 * NULL); 0 when out of memory. */
int pdsi_tourney_init(pdsi_tourney *t, int64_t n, pds_workspace *ws);
/* Computes every winner after the keys were filled in. */
void pdsi_tourney_build(pdsi_tourney *t);
/* The winning leaf (the maximum). */
PDSI_INLINE int32_t pdsi_tourney_top(const pdsi_tourney *t) { return t->win[1]; }
/* Sets a leaf's key (lowered, or 0 to remove it) and redoes its path. */
void pdsi_tourney_set(pdsi_tourney *t, int32_t leaf, uint64_t key);
void pdsi_tourney_free(pdsi_tourney *t, pds_workspace *ws);

/* ---- the same maximum on small levels: a lazy bucket queue (pds_buckets.c) ---- */
typedef struct pdsi_buckets {
    int64_t nb;      /* buckets                                              */
    int32_t *head;   /* head[t]: first point in bucket t, -1 when empty      */
    int32_t *next;   /* next[k]: the next point in k's bucket, -1 at the end */
    int64_t top;     /* no bucket above it holds a point                      */
    int shift;       /* 52 - F: 2^F buckets an octave                         */
    int64_t base;    /* bucket of key: (key >> (52 - F)) - base, at least 0  */
    int64_t scanned; /* points looked at by the pops so far                  */
    int64_t budget;  /* give up past this many                               */
} pdsi_buckets;
#define PDSI_BUCKETS_EMPTY (-1)
#define PDSI_BUCKETS_GAVE_UP (-2)
#define PDSI_BUCKETS_CROWDED (-3) /* past the scan budget (the queue is intact) */
/* Allocates a queue for m points, about 2^spread a bucket at the top (from
 * ws when not NULL); 0 when out of memory. */
int pdsi_buckets_init(pdsi_buckets *b, int64_t m, int spread, pds_workspace *ws);
/* Crowded buckets (a pop gave up past its scan budget: many nearly equal
 * keys, as in a tight cluster): frees the queue and allocates it again,
 * empty, with 64 times as many buckets an octave, for pdsi_buckets_build.
 * 0 when that would pass max(2^20, 64 m) buckets (the queue left as it
 * was) or when out of memory (nothing held: b->head NULL). */
int pdsi_buckets_refine(pdsi_buckets *b, int64_t m, pds_workspace *ws);
/* Fills it: point k with key[k] (pdsi_tourney_key of its rounded weight; 0:
 * not in the queue). Pops give up once they have scanned `budget` points. */
void pdsi_buckets_build(pdsi_buckets *b, const uint64_t *key, int64_t m, int64_t budget);
/* Takes the point of largest current key (pdsi_tourney_key of
 * pdsi_w_round(w[k])), equal keys by the smaller tie[k], out of the queue;
 * its key in *key_out. PDSI_BUCKETS_EMPTY when no point is left,
 * PDSI_BUCKETS_CROWDED past the budget (the queue is then unchanged). */
int32_t pdsi_buckets_pop(pdsi_buckets *b, const pdsi_weight *w, const int32_t *tie,
                         uint64_t *key_out);
void pdsi_buckets_free(pdsi_buckets *b, pds_workspace *ws);
/* The coarse run's pop (pds_pairs.c). Point k's exact fixed-point weight E
 * lies in [A 2^e, (A + n) 2^e) where A is its coarse sum and n <= deg =
 * start[k + 1] - start[k] its live neighbours, so the rounded E lies
 * between the rounded A and the rounded bound up[k] = A + deg (times 2^e).
 * Points sit in the bucket of their bound (built with pdsi_tourney_key of
 * the rounded up[k]). The point of largest A is taken when its rounded A
 * is above every other point's rounded bound: its exact weight is then the
 * largest. Otherwise the points whose bounds reach it are compared by
 * exact(ctx, k) (the rounded exact weight; NAN: no more of those). Returns
 * the point, PDSI_BUCKETS_EMPTY, PDSI_BUCKETS_CROWDED (past the scan
 * budget; the queue holds every point still, in a bucket at or above its
 * bound's) or PDSI_BUCKETS_GAVE_UP (too many points in doubt, or exact
 * said NAN; the queue is then no longer usable). */
int32_t pdsi_buckets_pop_coarse(pdsi_buckets *b, const uint64_t *up, const int64_t *start,
                                const int32_t *tie, double (*exact)(void *, int32_t), void *ctx);

#endif /* PDS_QUEUE_H */
