/* pds_scan.c - the candidate scan and the contributions, vectorized.
 *
 * Both weight passes (pds_pairs.c, each pair once; pds_weights.c, each
 * point its own) test runs of grid candidates against d_max and turn the
 * keys of the neighbours into contributions. On x86-64, SSE2 (part of every
 * x86-64 CPU) does two candidates or two contributions at a time with the
 * same operations in the same order as the scalar code (square root,
 * minimum, maximum, division, products and sums are exactly rounded in each
 * lane), so the bits, and the selections, are the same on every machine;
 * elsewhere the scalar code runs. */
#include "pds_state.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if PDSI_WIDE_BUILD
#include <immintrin.h>
#define WIDE_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,popcnt")))
#endif

#if PDSI_WIDE_BUILD
/* AVX-512, chosen at run time (pdsi_wide): eight candidates a vector.
 * Their coordinates (rows of D doubles) are loaded as D vectors and
 * transposed into one vector per coordinate by permutes; the key is then
 * the same operations in the same order as pdsi_pair_key's (0 + t_0^2 +
 * t_1^2 + ..., each exactly rounded per lane), so the selection and the
 * keys are those of the scalar code. The kept candidates are packed by
 * compress and stored as whole vectors (PDSI_SCAN_SLACK past the count). */

/* coordinate vectors c[0..D) of the n <= 8 rows at a */
#define PDSI_LOAD_T(D)                                                                       \
    WIDE_TARGET static inline void load_t##D(const double *a, int n, __m512d *c) {           \
        __m512d v[D];                                                                       \
        int have = n * (D);                                                                 \
        for (int i = 0; i < (D); ++i) {                                                     \
            int left = have - 8 * i;                                                        \
            __mmask8 k = left >= 8 ? 0xFF : left > 0 ? (__mmask8)((1u << left) - 1) : 0;    \
            v[i] = _mm512_maskz_loadu_pd(k, a + 8 * i);                                     \
        }                                                                                   \
        transpose##D(v, c);                                                                 \
    }

WIDE_TARGET static inline void transpose2(const __m512d *v, __m512d *c) {
    const __m512i ev = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i od = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    c[0] = _mm512_permutex2var_pd(v[0], ev, v[1]);
    c[1] = _mm512_permutex2var_pd(v[0], od, v[1]);
}

WIDE_TARGET static inline void transpose3(const __m512d *v, __m512d *c) {
    /* coordinate i of row r is element 3r + i of v[0] v[1] v[2]: from the
     * first two vectors below 16, else from the third */
    for (int i = 0; i < 3; ++i) {
        int64_t lo[8], hi[8];
        __mmask8 third = 0;
        for (int r = 0; r < 8; ++r) {
            int e = 3 * r + i;
            lo[r] = e < 16 ? e : 0;
            hi[r] = e < 16 ? 0 : e - 16;
            if (e >= 16) third |= (__mmask8)(1u << r);
        }
        __m512d a = _mm512_permutex2var_pd(v[0], _mm512_loadu_si512(lo), v[1]);
        c[i] = _mm512_mask_permutexvar_pd(a, third, _mm512_loadu_si512(hi), v[2]);
    }
}

WIDE_TARGET static inline void transpose4(const __m512d *v, __m512d *c) {
    const __m512i xy = _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13);
    const __m512i zw = _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15);
    const __m512i ev = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i od = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    __m512d a = _mm512_permutex2var_pd(v[0], xy, v[1]), b = _mm512_permutex2var_pd(v[2], xy, v[3]);
    __m512d e = _mm512_permutex2var_pd(v[0], zw, v[1]), f = _mm512_permutex2var_pd(v[2], zw, v[3]);
    c[0] = _mm512_permutex2var_pd(a, ev, b);
    c[1] = _mm512_permutex2var_pd(a, od, b);
    c[2] = _mm512_permutex2var_pd(e, ev, f);
    c[3] = _mm512_permutex2var_pd(e, od, f);
}
PDSI_LOAD_T(2)
PDSI_LOAD_T(3)
PDSI_LOAD_T(4)

/* candidates j of the nr ranges r (pairs of [begin, end)) of point xk (its
 * negation when plus: so3's second image), j >= from and j != skip; records
 * appended at np; returns the new count. One set-up for all of a point's
 * ranges (a call a range costs a small level dearly). */
#define PDSI_SCAN_WIDE(D, NAME, LOAD)                                                        \
    WIDE_TARGET static int64_t NAME(const double *x, int64_t stride, const double *xk,       \
                                              const double *per, double lim, int plus,       \
                                              const int32_t *r, int nr, int32_t from,        \
                                              int32_t skip, int32_t *pb, double *pk,         \
                                              int64_t np, int32_t *cnt) {                    \
        __m512d q[D], period[D];                                                            \
        for (int i = 0; i < (D); ++i) {                                                     \
            q[i] = _mm512_set1_pd(plus ? -xk[i] : xk[i]);                                   \
            period[i] = _mm512_set1_pd(per ? per[i] : 0.0);                                 \
        }                                                                                   \
        const __m512d vlim = _mm512_set1_pd(lim);                                           \
        const __m256i step = _mm256_set1_epi32(8);                                          \
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                    \
        for (int u = 0; u < nr; ++u) {                                                      \
            int32_t j = r[2 * u] > from ? r[2 * u] : from, j1 = r[2 * u + 1];               \
            __m256i ids = _mm256_add_epi32(_mm256_set1_epi32(j), lanes);                    \
            for (; j < j1; j += 8) {                                                        \
                int n = j1 - j < 8 ? j1 - j : 8;                                            \
                __m512d c[D];                                                               \
                LOAD;                                                                       \
                __m512d key = _mm512_setzero_pd();                                          \
                for (int i = 0; i < (D); ++i) {                                             \
                    /* xj - xk, or xj + xk = xj - (-xk): exact negation */                 \
                    __m512d t = _mm512_sub_pd(c[i], q[i]);                                  \
                    if (per) {                                                              \
                        t = _mm512_abs_pd(t);                                               \
                        t = _mm512_min_pd(t, _mm512_sub_pd(period[i], t));                  \
                    }                                                                       \
                    key = _mm512_add_pd(key, _mm512_mul_pd(t, t));                          \
                }                                                                           \
                unsigned valid = (1u << n) - 1;                                             \
                if ((uint32_t)(skip - j) < 8u) valid &= ~(1u << (skip - j));                \
                __mmask8 in = _mm512_mask_cmp_pd_mask((__mmask8)valid, key, vlim, _CMP_LT_OQ); \
                _mm512_storeu_pd(pk + np, _mm512_maskz_compress_pd(in, key));               \
                _mm256_storeu_si256((__m256i *)(pb + np), _mm256_maskz_compress_epi32(in, ids)); \
                if (cnt) {                                                                  \
                    /* the found candidates' counts: consecutive, so one masked \
                     * add (cheaper than a pass over the pairs afterwards) */  \
                    __m256i c_ = _mm256_maskz_loadu_epi32(in, cnt + j);                      \
                    c_ = _mm256_add_epi32(c_, _mm256_set1_epi32(1));                        \
                    _mm256_mask_storeu_epi32(cnt + j, in, c_);                              \
                }                                                                           \
                np += __builtin_popcount(in);                                               \
                ids = _mm256_add_epi32(ids, step);                                          \
            }                                                                               \
        }                                                                                   \
        return np;                                                                          \
    }
/* rows: point j's D coordinates at x[j * stride] (stride D) */
#define PDSI_LOAD_ROWS(D) load_t##D(x + (int64_t)j * stride, n, c)
/* columns: coordinate i of point j at x[i * stride + j] (pdsi_level.xs):
 * D loads, no transposes */
#define PDSI_LOAD_COLUMNS(D)                                                                 \
    do {                                                                                    \
        __mmask8 k_ = n == 8 ? (__mmask8)0xFF : (__mmask8)((1u << n) - 1);                  \
        for (int i = 0; i < (D); ++i) c[i] = _mm512_maskz_loadu_pd(k_, x + i * stride + j);  \
    } while (0)
PDSI_SCAN_WIDE(2, scan2_wide, PDSI_LOAD_ROWS(2))
PDSI_SCAN_WIDE(3, scan3_wide, PDSI_LOAD_ROWS(3))
PDSI_SCAN_WIDE(4, scan4_wide, PDSI_LOAD_ROWS(4))
PDSI_SCAN_WIDE(2, scan2_columns, PDSI_LOAD_COLUMNS(2))
PDSI_SCAN_WIDE(3, scan3_columns, PDSI_LOAD_COLUMNS(3))
PDSI_SCAN_WIDE(4, scan4_columns, PDSI_LOAD_COLUMNS(4))

/* pdsi_asin of eight x below 0.5: its first branch, operation for operation */
WIDE_TARGET static inline __m512d asin_small_wide(__m512d x) {
#define C(v) _mm512_set1_pd(v)
    __m512d t = _mm512_mul_pd(x, x);
    __m512d p = _mm512_add_pd(C(PDSI_ASIN_PS4), _mm512_mul_pd(t, C(PDSI_ASIN_PS5)));
    p = _mm512_add_pd(C(PDSI_ASIN_PS3), _mm512_mul_pd(t, p));
    p = _mm512_add_pd(C(PDSI_ASIN_PS2), _mm512_mul_pd(t, p));
    p = _mm512_add_pd(C(PDSI_ASIN_PS1), _mm512_mul_pd(t, p));
    p = _mm512_add_pd(C(PDSI_ASIN_PS0), _mm512_mul_pd(t, p));
    p = _mm512_mul_pd(t, p);
    __m512d q = _mm512_add_pd(C(PDSI_ASIN_QS3), _mm512_mul_pd(t, C(PDSI_ASIN_QS4)));
    q = _mm512_add_pd(C(PDSI_ASIN_QS2), _mm512_mul_pd(t, q));
    q = _mm512_add_pd(C(PDSI_ASIN_QS1), _mm512_mul_pd(t, q));
    q = _mm512_add_pd(C(1.0), _mm512_mul_pd(t, q));
    return _mm512_add_pd(x, _mm512_mul_pd(x, _mm512_div_pd(p, q)));
#undef C
}

/* pdsi_scale_contributions' alpha = 8 loop, eight at a time: the distance
 * (euclidean, or the angle of the chord by pdsi_asin: its other branches,
 * for chords of half or more, lane by lane), then as pdsi_scaled_contribution */
WIDE_TARGET static int64_t scale8_wide(const pdsi_space *s, double *key, int64_t np) {
    const __m512d d_min = _mm512_set1_pd(s->d_min), d_max = _mm512_set1_pd(s->d_max);
    const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
    const __m512d half = _mm512_set1_pd(0.5), angle = _mm512_set1_pd(s->angle_factor);
    const __m512d scale = _mm512_set1_pd(s->scale_hi);
    const int angular = s->angle_factor != 0.0;
    int64_t t = 0;
    for (; t + 8 <= np; t += 8) {
        __m512d dist = _mm512_sqrt_pd(_mm512_loadu_pd(key + t));
        if (angular) {
            __m512d c = _mm512_min_pd(_mm512_mul_pd(dist, half), one);
            __m512d a = asin_small_wide(c);
            if (_mm512_cmp_pd_mask(c, half, _CMP_GE_OQ)) {
                double cs[8], as[8];
                _mm512_storeu_pd(cs, c);
                _mm512_storeu_pd(as, a);
                for (int i = 0; i < 8; ++i)
                    if (cs[i] >= 0.5) as[i] = pdsi_asin(cs[i]);
                a = _mm512_loadu_pd(as);
            }
            dist = _mm512_mul_pd(angle, a);
        }
        dist = _mm512_max_pd(dist, d_min);
        __m512d u = _mm512_sub_pd(one, _mm512_div_pd(dist, d_max));
        __m512d b = _mm512_mul_pd(u, u);
        b = _mm512_mul_pd(b, b);
        b = _mm512_mul_pd(b, b);
        __mmask8 pos = _mm512_cmp_pd_mask(u, zero, _CMP_GT_OQ);
        _mm512_storeu_pd(key + t, _mm512_maskz_mov_pd(pos, _mm512_mul_pd(b, scale)));
    }
    return t;
}

/* pdsi_smallest_keys for d = D, eight rows a vector: keys as
 * pdsi_dist2's (0 + t_0^2 + t_1^2 + ..., per lane), and only the lanes
 * below the largest key kept go to the insertion */
#define PDSI_SMALLEST_WIDE(D)                                                                \
    WIDE_TARGET static void smallest##D(const double *x, int64_t m, int64_t i, int64_t k2,   \
                                        double *low) {                                       \
        const double *xi = x + i * (D);                                                     \
        __m512d q[D];                                                                       \
        for (int c = 0; c < (D); ++c) q[c] = _mm512_set1_pd(xi[c]);                         \
        int64_t have = 0;                                                                   \
        for (int64_t j = 0; j < m; j += 8) {                                                \
            int n = m - j < 8 ? (int)(m - j) : 8;                                           \
            __m512d c[D];                                                                   \
            load_t##D(x + j * (D), n, c);                                                   \
            __m512d key = _mm512_setzero_pd();                                              \
            for (int a = 0; a < (D); ++a) {                                                 \
                __m512d t = _mm512_sub_pd(q[a], c[a]);                                      \
                key = _mm512_add_pd(key, _mm512_mul_pd(t, t));                              \
            }                                                                               \
            unsigned lanes = (1u << n) - 1;                                                 \
            if ((uint64_t)(i - j) < 8u) lanes &= ~(1u << (i - j));                          \
            if (have == k2)                                                                 \
                lanes &= _mm512_cmp_pd_mask(key, _mm512_set1_pd(low[k2 - 1]), _CMP_LT_OQ);  \
            if (!lanes) continue;                                                           \
            double kv[8];                                                                   \
            _mm512_storeu_pd(kv, key);                                                      \
            for (; lanes; lanes &= lanes - 1)                                               \
                pdsi_keep_smallest(low, &have, k2, kv[__builtin_ctz(lanes)]);               \
        }                                                                                   \
    }
PDSI_SMALLEST_WIDE(2)
PDSI_SMALLEST_WIDE(3)
PDSI_SMALLEST_WIDE(4)
#endif

int pdsi_smallest_keys(const pdsi_space *s, const double *x, int64_t m, int d, int64_t i,
                       int64_t k2, double *low) {
#if PDSI_WIDE_BUILD
    if (s->wide && s->images == 1) {
        if (d == 2) return smallest2(x, m, i, k2, low), 1;
        if (d == 3) return smallest3(x, m, i, k2, low), 1;
        if (d == 4) return smallest4(x, m, i, k2, low), 1;
    }
#else
    (void)s, (void)x, (void)m, (void)d, (void)i, (void)k2, (void)low;
#endif
    return 0;
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


/* The scalar scan, d a constant where the caller's switch makes it one. */
PDSI_INLINE int64_t scan_scalar(const pdsi_level *L, int d, const double *xk, int im, int32_t j,
                                int32_t j1, int32_t *ids, double *keys, int64_t n) {
    const double lim = L->s->search2, *per = L->s->period;
    if (L->gx) {
        /* d > 8 in a principal-axes frame (pdsi_level_key). A loop of its
         * own: testing L->gx per candidate would slow every other scan */
        for (; j < j1; ++j) {
            double key = pdsi_level_key(L, xk, j, d, im);
            ids[n] = j;
            keys[n] = key;
            n += key < lim;
        }
        return n;
    }
    /* branch-free: the record is written, and kept when in */
    for (; j < j1; ++j) {
        double key = pdsi_pair_key(L->s, xk, L->x + (int64_t)j * d, d, per, im);
        ids[n] = j;
        keys[n] = key;
        n += key < lim;
    }
    return n;
}

/* One range [j0, j1) with SSE2 or the scalar code (skip excluded by the
 * caller). */
static int64_t scan_narrow(const pdsi_level *L, const double *xk, int im, int32_t j0, int32_t j1,
                           int32_t *ids, double *keys, int64_t n) {
    int d = L->d;
    int32_t j = j0;
#if defined(__SSE2__)
    const double lim = L->s->search2, *per = L->s->period;
    /* so3 with d_max >= pi tests a sign too: scalar there */
    if (d == 2 && L->s->images == 1)
        n = scan2_sse2(L->x, xk, per, lim, j, j1, ids, keys, n, &j);
    else if (d == 3 && L->s->images == 1)
        n = scan3_sse2(L->x, xk, per, lim, 0, j, j1, ids, keys, n, &j);
    else if (d == 4 && (L->s->images == 1 || lim < 2.0))
        n = scan4_sse2(L->x, xk, per, lim, im, j, j1, ids, keys, n, &j);
#endif
    switch (d) {
    case 1: return scan_scalar(L, 1, xk, im, j, j1, ids, keys, n);
    case 2: return scan_scalar(L, 2, xk, im, j, j1, ids, keys, n);
    case 3: return scan_scalar(L, 3, xk, im, j, j1, ids, keys, n);
    case 4: return scan_scalar(L, 4, xk, im, j, j1, ids, keys, n);
    default: return scan_scalar(L, d, xk, im, j, j1, ids, keys, n);
    }
}

int pdsi_scan_is_wide(const pdsi_level *L) {
#if PDSI_WIDE_BUILD
    int d = L->d;
    return L->s->wide && ((d == 2 || d == 3) ? L->s->images == 1
                          : d == 4 ? (L->s->images == 1 || L->s->search2 < 2.0)
                                   : 0);
#else
    (void)L;
    return 0;
#endif
}

int64_t pdsi_scan_ranges(const pdsi_level *L, const double *xk, int im, const int32_t *r, int nr,
                         int32_t from, int32_t skip, int32_t *ids, double *keys, int64_t n,
                         int32_t *cnt) {
#if PDSI_WIDE_BUILD
    if (L->s->wide) {
        const double lim = L->s->search2, *per = L->s->period, *xs = L->xs;
        int d = L->d;
        int64_t m = L->m;
        if (d == 2 && L->s->images == 1)
            return (xs ? scan2_columns(xs, m, xk, per, lim, 0, r, nr, from, skip, ids, keys, n, cnt)
                       : scan2_wide(L->x, 2, xk, per, lim, 0, r, nr, from, skip, ids, keys, n, cnt));
        if (d == 3 && L->s->images == 1)
            return (xs ? scan3_columns(xs, m, xk, per, lim, 0, r, nr, from, skip, ids, keys, n, cnt)
                       : scan3_wide(L->x, 3, xk, per, lim, 0, r, nr, from, skip, ids, keys, n, cnt));
        if (d == 4 && (L->s->images == 1 || lim < 2.0))
            return (xs ? scan4_columns(xs, m, xk, per, lim, im, r, nr, from, skip, ids, keys, n, cnt)
                       : scan4_wide(L->x, 4, xk, per, lim, im, r, nr, from, skip, ids, keys, n, cnt));
    }
#endif
    int64_t n0 = n;
    for (int u = 0; u < nr; ++u) {
        int32_t j0 = r[2 * u] > from ? r[2 * u] : from, j1 = r[2 * u + 1];
        if (j0 <= skip && skip < j1) {
            n = scan_narrow(L, xk, im, j0, skip, ids, keys, n);
            j0 = skip + 1;
        }
        if (j0 < j1) n = scan_narrow(L, xk, im, j0, j1, ids, keys, n);
    }
    if (cnt)
        for (int64_t t = n0; t < n; ++t) cnt[ids[t]]++;
    return n;
}

/* Replaces each key by its scaled contribution (pdsi_scaled_contribution).
 * Euclidean with alpha 8 two at a time with SSE2 (part of every x86-64):
 * square root, maximum, division and products are exactly rounded in each
 * lane, so the bits are those of the scalar code; otherwise one by one. */
void pdsi_scale_contributions(const pdsi_space *s, double *key, int64_t np) {
    int64_t t = 0;
#if PDSI_WIDE_BUILD
    if (s->wide && s->alpha_int == 8) t = scale8_wide(s, key, np);
#endif
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

