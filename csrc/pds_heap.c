/* pds_heap.c - the max-heap of weights.
 *
 * A lazy heap: weights only ever decrease, so an entry's key may be stale
 * (larger than the point's current weight) but never too small. The caller
 * compares the top's key with the current weight; if they differ it lowers the
 * key and calls pdsi_heap_sift_top, else the top is the true maximum (every
 * other entry's current weight <= its key <= the top's key). This trades a
 * decrease-key per neighbour update for one sift per stale top. */
#include "pds_internal.h"

/* a ranks above b: larger key, or equal key and smaller input index */
PDSI_INLINE int above(const pdsi_heap_entry *a, const pdsi_heap_entry *b) {
    return a->key > b->key || (a->key == b->key && a->tie < b->tie);
}

/* 4-ary: the children of i are 4i+1 .. 4i+4, one cache line of entries. */
static void sift_down(pdsi_heap_entry *e, int64_t size, int64_t i) {
    pdsi_heap_entry v = e[i];
    for (;;) {
        int64_t c = 4 * i + 1;
        if (c >= size) break;
        int64_t best = c;
        int64_t end = c + 4 < size ? c + 4 : size;
        for (int64_t k = c + 1; k < end; ++k)
            if (above(&e[k], &e[best])) best = k;
        if (!above(&e[best], &v)) break;
        e[i] = e[best];
        i = best;
    }
    e[i] = v;
}

void pdsi_heap_build(pdsi_heap *h) {
    if (h->size < 2) return;
    for (int64_t i = (h->size - 2) / 4; i >= 0; --i) sift_down(h->e, h->size, i);
}

void pdsi_heap_sift_top(pdsi_heap *h) { sift_down(h->e, h->size, 0); }

void pdsi_heap_pop(pdsi_heap *h) {
    h->size -= 1;
    if (h->size > 0) {
        h->e[0] = h->e[h->size];
        sift_down(h->e, h->size, 0);
    }
}
