/* pds_rounds.c - exact parallel elimination in rounds.
 *
 * The sequential run removes, R times, the live point of largest key, where
 * key(x) = (round(w(x)), -input index of x) ordered lexicographically
 * (round: the exact fixed-point weight rounded to float64, a monotone map),
 * and then subtracts x's contribution from its neighbours (the points within
 * d_max; contributions are symmetric and >= 0). Two facts about it:
 *
 * (a) Keys only decrease (weights do, and rounding is monotone), and the
 *     removal keys strictly decrease along the run: after removing the maximum, every other key is <= what it was,
 *     hence below the removed one (keys are distinct).
 *
 * (b) Let x be live with key(x) > key(y) for every live neighbour y of x.
 *     While x is live its key stays key(x): only a neighbour's removal can
 *     lower it, and a neighbour y is never the maximum while x is live,
 *     since key(y) <= its first value < key(x). So if fewer than R live
 *     points have a key above key(x), x is removed within the R steps (else
 *     R points of larger removal key, hence of larger current key, would
 *     exist), with removal key key(x).
 *
 * Lemma. Let x be as in (b), removed at step k of the run s_1 .. s_R from
 * state S. Then the run from S' = S with x removed now (its contribution
 * subtracted, R - 1 steps) is s_1 .. s_{k-1}, s_{k+1} .. s_R, every point
 * with the same removal key. Proof: s_1 .. s_{k-1} are not neighbours of x
 * (b). Before step j < k, S' differs from the run's state only in that x is
 * gone and x's neighbours are lighter; s_j is not a neighbour of x, so its
 * key is unchanged while every other key is <= its key in the run: s_j is
 * still the maximum. After step k - 1, S' has removed exactly the points the
 * run has after step k, and weights are sums over live neighbours, so the
 * states are equal and the runs coincide from there.
 *
 * A round. Let T be a key such that the candidates C = {live x: key(x) >= T}
 * number at most R. Every x in C has fewer than R live points above it (they
 * are all in C). Let M be the x in C whose key exceeds the key of every live
 * neighbour (neighbours outside C are below T, so only neighbours in C can
 * block). Two points of M are never neighbours (each would be above the
 * other). Removing one x of M: by the lemma the run continues as before
 * without x; the other points of M keep their keys and stay above their
 * neighbours (whose keys only dropped), and C shrinks by at least one while
 * R drops by one, so they still qualify. By induction, removing all of M at
 * once (subtracting their contributions in any order: the weights are exact
 * integers) leaves a state whose run is the original run without M, and
 * every point of M has its run's removal key. T stays valid for later
 * rounds: keys only decrease, so |C| drops by at least |M| while R drops by
 * |M|. The largest key of C is always in M, so every round removes a point;
 * when C is empty a new T is chosen from the live keys (the R-th largest).
 *
 * So the rounds remove the same points as the sequential run with the same
 * removal keys, whatever the threads; by (a) sorting the removals by key
 * descending gives the run's order.
 *
 * Kept points (opt.keep) rank as if their key were below every other, and
 * that key never changes: the run never removes one (R never exceeds the
 * live points not kept), and (a), (b), the lemma and the rounds hold as
 * written with "live" read as "live and not kept" wherever a point is
 * ranked. A kept point is never a candidate, so it never blocks a
 * neighbour (it is below it); its contributions stay in its neighbours'
 * weights as a live point's do. The rounds leave kept points out of their
 * live list, so no threshold, count or test ever reads their keys. */
#include "pds_state.h"

#include <string.h>

/* see pdsi_rounds: when rounds stop paying */
#define POOR_ROUNDS 4
#define POOR_RATIO 64
#define POOR_MIN_TESTS 256

/* candidates per block: the unit of parallel work and of compaction (fixed,
 * so the compacted order does not depend on the threads) */
#define BLOCK 2048
/* the least work worth a parallel call: every call waits for its slowest
 * thread, and a round has two */
#define TEST_GRAIN 8       /* blocks of candidates */
#define SUBTRACT_GRAIN 1024 /* removed points */
#define FILTER_GRAIN 4     /* filter blocks */

typedef struct key {
    double w; /* the weight rounded to float64: what the ranking uses */
    int32_t tie;
    int32_t id;
} key;

PDSI_INLINE int key_above(const key *a, const key *b) {
    return a->w > b->w || (a->w == b->w && a->tie < b->tie);
}

/* Moves the r largest keys (1 <= r <= n) to a[0 .. r); a[r - 1] is the r-th
 * largest. Quickselect with median-of-three pivots. */
static void select_top(key *a, int64_t n, int64_t r) {
    int64_t lo = 0, hi = n - 1, want = r - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        /* order a[lo], a[mid], a[hi] descending; pivot the middle one */
        key t;
        if (key_above(&a[mid], &a[lo])) t = a[mid], a[mid] = a[lo], a[lo] = t;
        if (key_above(&a[hi], &a[lo])) t = a[hi], a[hi] = a[lo], a[lo] = t;
        if (key_above(&a[hi], &a[mid])) t = a[hi], a[hi] = a[mid], a[mid] = t;
        key p = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (key_above(&a[i], &p)) ++i;
            while (key_above(&p, &a[j])) --j;
            if (i <= j) {
                t = a[i], a[i] = a[j], a[j] = t;
                ++i, --j;
            }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else return;
    }
}

typedef struct rounds {
    pdsi_level *L;
    int32_t *cand, *next, *maxima;
    /* per point: 1 while it is a candidate of the current threshold (set
     * when the threshold is chosen, cleared when it is removed). A point
     * without it is removed or has a key below T, hence below every
     * candidate's: it blocks nobody, and its weight need not be read. */
    uint8_t *flag;
    /* the points not removed when the threshold was last chosen, ascending
     * (the threshold's passes look at these, not at all m), its length, and
     * room for the next such list; lblk: per filter block, how many of its
     * entries are still live (then their prefix sums) */
    int32_t *live, *live2;
    int64_t nlive, nlive_next;
    int64_t *lblk;
    int32_t *blocker; /* per point: a live neighbour above it when last tested, or -1 */
    int64_t ncand;
    int64_t *nkeep, *nmax; /* per block, then their exclusive prefix sums */
    double tw;              /* the threshold key T = (tw, -ttie) */
    int32_t ttie;
    int32_t *rm;
    double *rm_w;
    int64_t count, nmaxima;
    double frac; /* the most candidates, as a fraction of the live points */
    key *keys;   /* room for nkeys keys, for choosing thresholds */
    int64_t nkeys;
} rounds;

/* x, a candidate, is a local maximum: no live neighbour ranks above it
 * (only candidates can) */
PDSI_INLINE int local_max(const pdsi_level *L, int32_t *blocker, const uint8_t *flag, int32_t x,
                          int D) {
    double wx = pdsi_w_round(L->w[x]);
    int32_t tx = L->tie[x];
    if (L->nb) {
        /* the neighbour that blocked x last time usually still does */
        int32_t b = blocker[x];
        if (b >= 0 && flag[b]) {
            double wb = pdsi_w_round(L->w[b]);
            if (wb > wx || (wb == wx && L->tie[b] < tx)) return 0;
        }
        const int32_t *p = L->nb[x], *e = p + L->nb_cnt[x];
        for (; p < e; ++p) {
            int32_t j = *p;
            if (!flag[j]) continue;
            double wj = pdsi_w_round(L->w[j]);
            if (wj < wx) continue;
            if (wj > wx || L->tie[j] < tx) {
                blocker[x] = j;
                return 0;
            }
        }
        return 1;
    }
    if (!(L->s->search2 > 0.0)) return 1; /* d_max 0: nobody has neighbours */
    int32_t r[2 * PDSI_MAX_RANGES];
    const double *xk = L->x + (int64_t)x * D;
    for (int im = 0, nim = pdsi_images_of(L->s, xk); im < nim; ++im) {
        int nr = pdsi_grid_image_ranges(&L->grid, xk, x, im, r);
        for (int q = 0; q < nr; ++q) {
            for (int32_t j = r[2 * q]; j < r[2 * q + 1]; ++j) {
                if (j == x || !flag[j]) continue;
                double wj = pdsi_w_round(L->w[j]);
                if (wj < wx) continue;
                if (wj == wx && L->tie[j] > tx) continue;
                if (pdsi_level_key(L, xk, j, D, im) < L->s->search2)
                    return 0;
            }
        }
    }
    return 1;
}

PDSI_INLINE void test_block(rounds *R, int64_t blk, int D) {
    const pdsi_level *L = R->L;
    int64_t b = blk * BLOCK, e = b + BLOCK < R->ncand ? b + BLOCK : R->ncand;
    int64_t keep = 0, max = 0;
    for (int64_t i = b; i < e; ++i) {
        int32_t x = R->cand[i];
        if (L->nb && i + 16 < e) {
            /* memory latency bounds this loop: fetch ahead */
            int32_t y = R->cand[i + 16], z = R->cand[i + 8];
            PDSI_PREFETCH(&L->w[y]);
            PDSI_PREFETCH(&R->blocker[y]);
            PDSI_PREFETCH(&L->nb[y]);
            PDSI_PREFETCH(&L->nb_cnt[y]);
            PDSI_PREFETCH(L->nb[z]);
            if (R->blocker[z] >= 0) PDSI_PREFETCH(&L->w[R->blocker[z]]);
        }
        double wx = pdsi_w_round(L->w[x]);
        if (wx < R->tw || (wx == R->tw && L->tie[x] > R->ttie)) continue; /* fell below T */
        if (local_max(L, R->blocker, R->flag, x, D)) R->maxima[b + max++] = x;
        else R->next[b + keep++] = x;
    }
    R->nkeep[blk] = keep;
    R->nmax[blk] = max;
}

static void test_task(void *task, int64_t b, int64_t e) {
    rounds *R = task;
    for (int64_t blk = b; blk < e; ++blk) {
        switch (R->L->d) {
        case 1: test_block(R, blk, 1); break;
        case 2: test_block(R, blk, 2); break;
        case 3: test_block(R, blk, 3); break;
        default: test_block(R, blk, R->L->d); break;
        }
    }
}

PDSI_INLINE void subtract_block(rounds *R, int64_t b, int64_t e, int D) {
    pdsi_level *L = R->L;
    /* a call given the whole range runs alone: plain updates suffice */
    int atomic = L->opt->parallel_for && !(b == 0 && e == R->nmaxima);
    for (int64_t i = b; i < e; ++i) {
        int32_t x = R->maxima[i];
        /* record and mark it; no other point removed in this round is a
         * neighbour of x, so nothing else reads or writes x's entries now */
        R->rm[R->count + i] = x;
        if (R->rm_w) R->rm_w[R->count + i] = pdsi_w_round(L->w[x]);
        L->removed[x] = 1;
        R->flag[x] = 0;
        if (!(L->s->search2 > 0.0)) continue;
        if (L->nb && i + 8 < e) {
            int32_t y = R->maxima[i + 8], z = R->maxima[i + 4];
            PDSI_PREFETCH(&L->nb[y]);
            PDSI_PREFETCH(&L->nb_cnt[y]);
            PDSI_PREFETCH(L->nb[z]);
            const int32_t *p = L->nb[z];
            if (L->nbw) {
                PDSI_PREFETCH(&L->nbw[y]);
                PDSI_PREFETCH(L->nbw[z]);
                for (int32_t t = 0, c = L->nb_cnt[z]; t < c; t += 4) PDSI_PREFETCH(&L->w[p[t]]);
            } else {
                /* the contributions are recomputed from the coordinates */
                for (int32_t t = 0, c = L->nb_cnt[z]; t < c; t += 4) {
                    PDSI_PREFETCH(&L->w[p[t]]);
                    PDSI_PREFETCH(L->x + (int64_t)p[t] * D);
                }
            }
        }
        PDSI_SUBTRACT_NEIGHBOURS(L, x, D, atomic);
    }
}

static void subtract_task(void *task, int64_t b, int64_t e) {
    rounds *R = task;
    switch (R->L->d) {
    case 1: subtract_block(R, b, e, 1); break;
    case 2: subtract_block(R, b, e, 2); break;
    case 3: subtract_block(R, b, e, 3); break;
    default: subtract_block(R, b, e, R->L->d); break;
    }
}

/* ---- choosing the threshold ---- */

/* points per block of the candidate filter */
#define FILTER_BLOCK 16384
/* a sample of about this many live keys places the threshold on big levels */
#define SAMPLE 32768

PDSI_INLINE int at_or_above(const pdsi_level *L, int32_t k, double tw, int32_t ttie) {
    if (L->removed[k]) return 0;
    double wk = pdsi_w_round(L->w[k]);
    return wk > tw || (wk == tw && L->tie[k] <= ttie);
}

static void count_task(void *task, int64_t b, int64_t e) {
    rounds *R = task;
    const pdsi_level *L = R->L;
    for (int64_t blk = b; blk < e; ++blk) {
        int64_t i0 = blk * FILTER_BLOCK, i1 = i0 + FILTER_BLOCK < R->nlive ? i0 + FILTER_BLOCK : R->nlive;
        int64_t c = 0, l = 0;
        for (int64_t i = i0; i < i1; ++i) {
            int32_t k = R->live[i];
            c += at_or_above(L, k, R->tw, R->ttie);
            l += !L->removed[k];
        }
        R->nkeep[blk] = c;
        R->lblk[blk] = l;
    }
}

/* cand := the candidates, flags set, the live list compacted (into live2) */
static void fill_task(void *task, int64_t b, int64_t e) {
    rounds *R = task;
    const pdsi_level *L = R->L;
    for (int64_t blk = b; blk < e; ++blk) {
        int64_t i0 = blk * FILTER_BLOCK, i1 = i0 + FILTER_BLOCK < R->nlive ? i0 + FILTER_BLOCK : R->nlive;
        int64_t c = R->nkeep[blk], l = R->lblk[blk];
        for (int64_t i = i0; i < i1; ++i) {
            int32_t k = R->live[i];
            if (L->removed[k]) continue; /* (its flag was cleared then) */
            R->live2[l++] = k;
            int in = at_or_above(L, k, R->tw, R->ttie);
            R->flag[k] = (uint8_t)in;
            if (in) R->cand[c++] = k;
        }
    }
}

/* Counts every live point with key >= T (their offsets per block in nkeep)
 * and the live points (offsets in lblk, total in nlive_next); returns the
 * count. */
static int64_t filter(rounds *R) {
    int64_t nblk = (R->nlive + FILTER_BLOCK - 1) / FILTER_BLOCK, total = 0, live = 0;
    pdsi_parallel(R->L->opt, nblk, FILTER_GRAIN, count_task, R);
    for (int64_t b = 0; b < nblk; ++b) {
        int64_t c = R->nkeep[b], l = R->lblk[b];
        R->nkeep[b] = total;
        R->lblk[b] = live;
        total += c;
        live += l;
    }
    R->nlive_next = live;
    return total;
}

/* cand := every live point with key >= T, in index order (after filter) */
static void fill(rounds *R) {
    pdsi_parallel(R->L->opt, (R->nlive + FILTER_BLOCK - 1) / FILTER_BLOCK, FILTER_GRAIN, fill_task, R);
    int32_t *t = R->live;
    R->live = R->live2, R->live2 = t;
    R->nlive = R->nlive_next;
}

/* T := about the `want`-th largest live key, never with more than `left`
 * live keys at or above it; cand := those keys' points. The exact rank comes
 * from a quickselect over all live keys; big levels first try the same rank
 * in a regular sample, which is as good and far cheaper, and keep it when
 * the count allows. */
static int choose_threshold(rounds *R, int64_t want, int64_t left, int64_t live) {
    pdsi_level *L = R->L;
    if (want > left) want = left;
    if (want < 1 || live < 1) return 0;
    key *keys = R->keys;
    if (live >= 16 * 1024) {
        int64_t size = live / 8 < SAMPLE ? live / 8 : SAMPLE;
        int64_t step = R->nlive / size > 1 ? R->nlive / size : 1, ns = 0;
        for (int64_t i = 0; i < R->nlive; i += step) {
            int32_t k = R->live[i];
            if (L->removed[k]) continue;
            keys[ns].w = pdsi_w_round(L->w[k]), keys[ns].tie = L->tie[k], keys[ns].id = k;
            ns++;
        }
        /* aim a little high when the count must stay under `left` */
        double rank = (double)want * (double)ns / (double)live;
        if (want == left) rank *= 0.9;
        int64_t r = (int64_t)rank;
        if (r >= 1 && r <= ns) {
            select_top(keys, ns, r);
            R->tw = keys[r - 1].w, R->ttie = keys[r - 1].tie;
            int64_t c = filter(R);
            if (c <= left && c >= 1) {
                fill(R);
                R->ncand = c;
                return 1;
            }
        }
    }
    if (R->nkeys < live) {
        /* the exact rank needs every live key */
        free(R->keys);
        R->nkeys = 0;
        R->keys = keys = malloc(sizeof(key) * (size_t)live);
        if (!keys) return -1;
        R->nkeys = live;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < R->nlive; ++i) {
        int32_t k = R->live[i];
        if (L->removed[k]) continue;
        keys[n].w = pdsi_w_round(L->w[k]), keys[n].tie = L->tie[k], keys[n].id = k;
        n++;
    }
    select_top(keys, n, want);
    R->tw = keys[want - 1].w, R->ttie = keys[want - 1].tie;
    R->ncand = filter(R);
    fill(R);
    return 1;
}

pds_status pdsi_rounds(pdsi_level *L, int64_t *left, int64_t tail, int32_t *rm, double *rm_w,
                       int64_t *count, pds_error *err) {
    if (*left <= tail) return PDS_OK;
    int64_t m = L->m;
    pds_status st = PDS_OK;
    rounds R;
    memset(&R, 0, sizeof R);
    R.L = L;
    R.rm = rm;
    R.rm_w = rm_w;
    R.count = *count;
    int64_t first = *count; /* removals recorded before this call */
    R.frac = 0.25;
    int64_t nblk_max = m / BLOCK + m / FILTER_BLOCK + 2;
    R.cand = malloc(sizeof(int32_t) * (size_t)m);
    R.next = malloc(sizeof(int32_t) * (size_t)m);
    R.maxima = malloc(sizeof(int32_t) * (size_t)m);
    R.blocker = malloc(sizeof(int32_t) * (size_t)m);
    R.flag = calloc((size_t)m, 1);
    R.live = malloc(sizeof(int32_t) * (size_t)m);
    R.live2 = malloc(sizeof(int32_t) * (size_t)m);
    R.lblk = malloc(sizeof(int64_t) * (size_t)nblk_max);
    R.nkeep = malloc(sizeof(int64_t) * (size_t)nblk_max);
    R.nmax = malloc(sizeof(int64_t) * (size_t)nblk_max);
    R.nkeys = m < 8 * SAMPLE + 8 ? m : 8 * SAMPLE + 8;
    R.keys = malloc(sizeof(key) * (size_t)R.nkeys);
    if (!R.cand || !R.next || !R.maxima || !R.blocker || !R.flag || !R.live || !R.live2 || !R.lblk ||
        !R.nkeep || !R.nmax || !R.keys) {
        st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
        goto done;
    }
    memset(R.blocker, 0xff, sizeof(int32_t) * (size_t)m);
    /* kept points are never candidates: not even listed */
    for (int64_t k = 0; k < m; ++k)
        if (!pdsi_kept(L, k)) R.live[R.nlive++] = (int32_t)k;
    /* Dense regime (every candidate neighbours every other, e.g. a radius
     * larger than the domain): a round removes only the few points above all
     * others, and each removal makes every candidate look for a new blocker,
     * so rounds would cost O(M^2) each. After POOR_ROUNDS rounds in a row that
     * test more than POOR_RATIO candidates per removal, the rest is left to
     * the sequential heap (the caller), which gives the same result. */
    int poor = 0;
    while (*left > tail) {
        if (pdsi_cancelled(L->opt)) {
            st = pdsi_fail(err, PDS_ERR_CANCELLED, "cancelled");
            goto done;
        }
        if (R.ncand == 0) {
            int64_t live = m - L->n_keep - (R.count - first);
            int64_t want = (int64_t)((double)live * R.frac);
            int ok = choose_threshold(&R, want > 0 ? want : 1, *left, live);
            if (ok < 0) {
                st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld)", (long long)m);
                goto done;
            }
            if (!ok) break;
        }
        int64_t tested = R.ncand;
        int64_t nblk = (R.ncand + BLOCK - 1) / BLOCK;
        pdsi_parallel(L->opt, nblk, TEST_GRAIN, test_task, &R);
        /* each block left its kept candidates and maxima at its own start:
         * close the gaps (in block order, so the order is the same for any
         * threads) */
        int64_t k = 0, q = 0;
        for (int64_t b = 0; b < nblk; ++b) {
            if (k != b * BLOCK) memmove(R.next + k, R.next + b * BLOCK, sizeof(int32_t) * (size_t)R.nkeep[b]);
            if (q != b * BLOCK) memmove(R.maxima + q, R.maxima + b * BLOCK, sizeof(int32_t) * (size_t)R.nmax[b]);
            k += R.nkeep[b], q += R.nmax[b];
        }
        int32_t *t = R.cand;
        R.cand = R.next, R.next = t;
        R.ncand = k;
        R.nmaxima = q;
        /* marks and records the maxima, and subtracts their contributions */
        pdsi_parallel(L->opt, q, SUBTRACT_GRAIN, subtract_task, &R);
        R.count += q;
        *left -= q;
        poor = tested > POOR_MIN_TESTS && tested > POOR_RATIO * q ? poor + 1 : 0;
        if (poor >= POOR_ROUNDS) break;
    }
done:
    *count = R.count;
    free(R.cand);
    free(R.next);
    free(R.maxima);
    free(R.blocker);
    free(R.flag);
    free(R.live);
    free(R.live2);
    free(R.lblk);
    free(R.nkeep);
    free(R.nmax);
    free(R.keys);
    return st;
}
