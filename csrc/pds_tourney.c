/* pds_tourney.c - the sequential run's priority structure: a tournament tree.
 *
 * Leaves are the level's rows, in input order (so a smaller row is a smaller
 * input index), padded to a power of two. Keys are integers: the bits of the
 * rounded weight (a double >= 0, whose bits order as its values) plus one,
 * and 0 for removed points and padding (pdsi_tourney_key). Every inner node holds the leaf that wins its
 * subtree: the larger key, the left one on equal keys, i.e. the smaller
 * input index, which is the tie rule. The root's leaf is the maximum.
 *
 * Used lazily: weights only ever decrease, so a leaf's key may be stale
 * (larger than the point's current weight) but never too small. The caller
 * compares the winner's key with its current weight; when they differ it
 * sets the new key (one path to the root), else the winner is the true
 * maximum (every other point's weight <= its key <= the winner's key).
 * Changing a key redoes one path, log2(size) levels, with no branch that
 * depends on the data: on small levels this replaced a lazy 4-ary heap whose
 * sifts (several per removal, each mispredicting at every level) took half
 * of the elimination time. */
#include "pds_queue.h"

int pdsi_tourney_init(pdsi_tourney *t, int64_t n, pds_workspace *ws) {
    int64_t size = 1;
    while (size < n) size *= 2;
    t->size = size;
    t->key = pdsi_ws_take(ws, PDSI_WS_KEYS, sizeof(uint64_t) * (size_t)size);
    t->win = pdsi_ws_take(ws, PDSI_WS_WINS, sizeof(int32_t) * (size_t)(2 * size));
    if (!t->key || !t->win) {
        pdsi_tourney_free(t, ws);
        return 0;
    }
    for (int64_t i = 0; i < size; ++i) t->key[i] = 0, t->win[size + i] = (int32_t)i;
    return 1;
}

void pdsi_tourney_build(pdsi_tourney *t) {
    for (int64_t v = t->size - 1; v >= 1; --v) {
        int32_t l = t->win[2 * v], r = t->win[2 * v + 1];
        t->win[v] = t->key[l] >= t->key[r] ? l : r; /* l < r: l wins ties */
    }
}

void pdsi_tourney_set(pdsi_tourney *t, int32_t leaf, uint64_t key) {
    const uint64_t *k = t->key;
    int32_t *win = t->win;
    t->key[leaf] = key;
    int32_t cur = leaf;
    uint64_t kc = key;
    for (int64_t c = t->size + leaf; c > 1; c >>= 1) {
        int32_t sib = win[c ^ 1];
        uint64_t ks = k[sib];
        /* the sibling wins with a larger key, or an equal one from the left
         * (the smaller leaf): ks > kc when the path comes from the left
         * child (c even), ks + 1 > kc from the right (keys are below 2^63:
         * no overflow). A compare and two conditional moves, so no
         * unpredictable branch and a dependency chain of two steps a level
         * (gcc turned the ternaries below into branches, hence the asm) */
        uint64_t ksa = ks + (uint64_t)(c & 1);
#if defined(__GNUC__) && defined(__x86_64__)
        __asm__("cmp %[kc], %[ksa]\n\t"
                "cmova %[sib], %[cur]\n\t"
                "cmova %[ks], %[kc]"
                : [cur] "+r"(cur), [kc] "+r"(kc)
                : [ksa] "r"(ksa), [sib] "r"(sib), [ks] "r"(ks)
                : "cc");
#else
        int sw = ksa > kc;
        cur = sw ? sib : cur;
        kc = sw ? ks : kc;
#endif
        win[c >> 1] = cur;
    }
}

void pdsi_tourney_free(pdsi_tourney *t, pds_workspace *ws) {
    pdsi_ws_give(ws, t->key);
    pdsi_ws_give(ws, t->win);
    t->key = NULL;
    t->win = NULL;
}
