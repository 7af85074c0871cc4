/* pds_weight.h - exact fixed-point weights (private). */
#ifndef PDS_WEIGHT_H
#define PDS_WEIGHT_H

#include "pds_base.h"

#if !defined(__GNUC__)
#include <stdatomic.h>
#endif


/* Weights are exact 128-bit fixed point: a contribution c is stored as
 * floor(c * 2^s), with s per level the largest that keeps every possible
 * weight (the most candidates any point has, times the largest contribution)
 * below 2^125. Integer sums are exact, so a weight does not depend on the
 * order in which contributions are added or subtracted (nor on threads).
 * Points are compared by the exact sum rounded to the nearest float64 (the
 * resolution of the fixed point, about 1e-37 of the largest weight, is far
 * finer), i.e. as a float64 computation of the exact sum would compare them;
 * equal rounded weights go by the tie rule. */
#define PDSI_WEIGHT_BITS 125

typedef struct pdsi_weight {
    uint64_t hi, lo;
} pdsi_weight;

PDSI_INLINE void pdsi_w_add(pdsi_weight *a, pdsi_weight b) {
    uint64_t lo = a->lo + b.lo;
    a->hi += b.hi + (lo < b.lo);
    a->lo = lo;
}

PDSI_INLINE void pdsi_w_sub(pdsi_weight *a, pdsi_weight b) {
    uint64_t borrow = a->lo < b.lo;
    a->lo -= b.lo;
    a->hi -= b.hi + borrow;
}


/* The weight rounded to the nearest double (ties to even), exactly as a
 * correctly rounded conversion of the 128-bit integer. */
PDSI_INLINE double pdsi_w_round(pdsi_weight a) {
    if (a.hi == 0) return (double)a.lo;
    int bits = 0; /* significant bits of hi */
#if defined(__GNUC__)
    bits = 64 - __builtin_clzll(a.hi); /* the loop below, in one instruction */
#else
    for (uint64_t h = a.hi; h; h >>= 1) bits++;
#endif
    /* the top 64 bits, with the bits shifted out folded into a sticky bit */
    uint64_t top = bits == 64 ? a.hi : (a.hi << (64 - bits)) | (a.lo >> bits);
    uint64_t rest = bits == 64 ? a.lo : a.lo << (64 - bits);
    top |= rest != 0;
    /* ldexp((double)top, bits) without the call: 2^bits (1 <= bits <= 64)
     * built from its bit pattern; scaling by a power of two is exact */
    uint64_t pattern = (uint64_t)(1023 + bits) << 52;
    double scale;
    memcpy(&scale, &pattern, sizeof scale);
    return (double)top * scale;
}

/* floor(v 2^64) as a 128-bit integer, for the v >= 0 of
 * pdsi_scaled_contribution (v < 2^62). */
PDSI_INLINE pdsi_weight pdsi_fixed(double v) {
    pdsi_weight w;
#if defined(__SIZEOF_INT128__)
    /* from v's bits: v 2^64 = mant 2^e, shifted into 128 bits (dropping the
     * fraction when e < 0): no conversions, no data-dependent branch */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int ex = (int)(bits >> 52); /* v >= 0: no sign bit */
    uint64_t mant = (bits & 0xFFFFFFFFFFFFFull) | ((uint64_t)(ex != 0) << 52);
    int e = (ex ? ex : 1) - 1075 + 64;
    unsigned __int128 f = e >= 0 ? (unsigned __int128)mant << e
                                 : (e > -64 ? (unsigned __int128)(mant >> -e) : 0);
    w.hi = (uint64_t)(f >> 64);
    w.lo = (uint64_t)f;
#else
    /* the same value by conversions: hi, then the low word 32 bits at a
     * time, are truncations of exact values (the differences are exact) */
    int64_t hi = (int64_t)v;
    double r = (v - (double)hi) * 4294967296.0;
    int64_t mid = (int64_t)r;
    int64_t low = (int64_t)((r - (double)mid) * 4294967296.0);
    w.hi = (uint64_t)hi;
    w.lo = ((uint64_t)mid << 32) | (uint64_t)low;
#endif
    return w;
}


/* Subtracts v from *p: atomically when threads may touch p at once. The
 * low words are subtracted atomically, and each subtraction that wraps its
 * low word borrows one from the high word: the exact 128-bit difference
 * whatever the order (integer updates commute), though a reader could see a
 * half-done value until the parallel call returns (nobody reads then). */
PDSI_INLINE void pdsi_sub(pdsi_weight *p, pdsi_weight v, int atomic) {
    if (atomic) {
#if defined(__GNUC__)
        uint64_t old = __atomic_fetch_sub(&p->lo, v.lo, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&p->hi, v.hi + (old < v.lo), __ATOMIC_RELAXED);
#else
        uint64_t old = atomic_fetch_sub_explicit((_Atomic uint64_t *)&p->lo, v.lo, memory_order_relaxed);
        atomic_fetch_sub_explicit((_Atomic uint64_t *)&p->hi, v.hi + (old < v.lo), memory_order_relaxed);
#endif
    } else {
        pdsi_w_sub(p, v);
    }
}

/* the double nearest a coarse sum (below 2^63; the coarse run, pds_pairs.c) */
PDSI_INLINE double pdsi_coarse_round(uint64_t a) { return (double)(int64_t)a; }

#endif /* PDS_WEIGHT_H */
