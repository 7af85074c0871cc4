/* pds_space.h - the geometry of one elimination (private): distances, pair
 * keys and contributions, inline for the hot loops; the space's setup is in
 * pds_metric.c. */
#ifndef PDS_SPACE_H
#define PDS_SPACE_H

#include "pds_weight.h"

typedef struct pdsi_space {
    int d;            /* coordinates per point                                */
    pds_metric metric;
    int periodic;
    const double *period; /* d values (hi - lo) when periodic, else NULL        */
    double d_max;     /* reach of the weight function                          */
    double d_min;     /* weight limiting distance                              */
    double alpha;
    int alpha_int;    /* alpha when it is an integer in [1, 64], else 0        */
    double search2;   /* neighbour test: key < search2 (see pdsi_pair_key)      */
    double reach;     /* search radius in the coordinates (d_max, or the chord
                         of d_max on the sphere); the grid's cell side          */
    int images;       /* 2 for so3 (q and -q are searched), else 1              */
    double angle_factor; /* 0: euclidean key; 2 sphere, 4 so3: the distance is
                            angle_factor * asin(sqrt(key) / 2)                  */
    double scale_hi;  /* 2^(s-64): the high word of floor(c 2^s) is floor(c scale_hi) */
    double coarse_scale; /* 2^(64-e): the coarse term floor(c 2^(s-e)) < 2^31 of a
                            scaled contribution v is floor(v coarse_scale), e >= 0
                            (pds_pairs.c) */
    int wide;         /* nonzero: the CPU has AVX-512 and pds_scan.c may use it  */
} pdsi_space;

/* Sets the metric dependent fields (metric, images, angle_factor) of s. */
void pdsi_space_set_metric(pdsi_space *s, pds_metric metric);
/* Fills the d_max dependent part of the space (search2, reach). */
void pdsi_space_set_dmax(pdsi_space *s, double d_max);
/* Sets s->scale_hi for weights that sum at most max_terms contributions. */
void pdsi_space_set_scale(pdsi_space *s, int64_t max_terms);

/* Squared (euclidean, toroidal when periodic) distance. */
PDSI_INLINE double pdsi_dist2(const double *a, const double *b, int d, const double *period) {
    double s = 0.0;
    if (period) {
        for (int k = 0; k < d; ++k) {
            double t = fabs(a[k] - b[k]);
            double u = period[k] - t;
            t = t < u ? t : u;
            s += t * t;
        }
    } else {
        for (int k = 0; k < d; ++k) {
            double t = a[k] - b[k];
            s += t * t;
        }
    }
    return s;
}

/* |a - b|^2 in coordinate order, or once a partial sum over blocks of 8
 * coordinates reaches lim, that partial sum (the sums only grow) */
PDSI_INLINE double pdsi_dist2_until(const double *a, const double *b, int d, double lim) {
    double sum = 0.0;
    int k = 0;
    for (; k + 8 <= d; k += 8) {
        for (int i = k; i < k + 8; ++i) {
            double t = a[i] - b[i];
            sum += t * t;
        }
        if (sum >= lim) return sum;
    }
    for (; k < d; ++k) {
        double t = a[k] - b[k];
        sum += t * t;
    }
    return sum;
}

/* The key of a pair: a number monotone in the pair's distance, symmetric in
 * the two points (bit for bit), compared with s->search2 and turned into a
 * contribution by pdsi_contribution.
 *   euclidean: the squared (toroidal when periodic) distance, or for d > 8
 *              any value >= search2 once the pair is known to be too far;
 *   sphere:    the squared chord |a - b|^2 of unit vectors;
 *   so3:       image 0 (the query q): |q - p|^2 when q.p >= 0, else +inf;
 *              image 1 (the query -q): |q + p|^2 when q.p < 0, else +inf.
 *              Each pair is counted by exactly one image (the sign of one
 *              dot product decides), and the key is the chord to the nearer
 *              of p and -p: 2 sin(angle / 4) squared, angle = 2 acos(|q.p|). */
PDSI_INLINE double pdsi_pair_key(const pdsi_space *s, const double *a, const double *b, int d,
                                 const double *period, int image) {
    if (s->images == 1) {
        if (d <= 8 || period) return pdsi_dist2(a, b, d, period);
        /* many coordinates: stop once the partial sum reaches search2 (the
         * pair is no neighbour). Below it the sum and its order are those of
         * pdsi_dist2. (The scan reads the principal-axes copy first, where
         * the first blocks hold most of the distance: pds_scan.c.) */
        return pdsi_dist2_until(a, b, d, s->search2);
    }
    double dot = 0.0, k = 0.0;
    /* d_max < pi: search2 < 2 and |q - p|^2 + |q + p|^2 = 4, so at most one
     * image is below search2 and the sign test is not needed */
    if (!(s->search2 < 2.0)) {
        for (int i = 0; i < d; ++i) dot += a[i] * b[i];
        if ((dot >= 0.0) == (image != 0)) return INFINITY;
    }
    for (int i = 0; i < d; ++i) {
        double t = image ? a[i] + b[i] : a[i] - b[i];
        k += t * t;
    }
    return k;
}

/* The key of a pair already known to be neighbours, whichever image found
 * them: exactly the value that image's pdsi_pair_key computed (so a
 * subtraction cancels the addition bit for bit). */
PDSI_INLINE double pdsi_pair_key_any(const pdsi_space *s, const double *a, const double *b, int d,
                                     const double *period) {
    if (s->images == 1) return pdsi_pair_key(s, a, b, d, period, 0);
    if (s->search2 < 2.0) {
        /* at most one image is below search2 (see pdsi_pair_key) */
        double k0 = pdsi_pair_key(s, a, b, d, period, 0);
        return k0 < s->search2 ? k0 : pdsi_pair_key(s, a, b, d, period, 1);
    }
    double dot = 0.0; /* the sign test of pdsi_pair_key decides */
    for (int i = 0; i < d; ++i) dot += a[i] * b[i];
    return pdsi_pair_key(s, a, b, d, period, dot >= 0.0 ? 0 : 1);
}

/* How many images of the point xk to search: so3 rows are stored with
 * xk[0] >= 0 (pdsi_normalise_rows), and a p with p[0] >= 0 has
 * |xk + p| >= xk[0], so -xk has neighbours only when xk[0] < reach. */
PDSI_INLINE int pdsi_images_of(const pdsi_space *s, const double *xk) {
    return s->images == 2 && xk[0] < s->reach ? 2 : 1;
}

/* t^e for integer e in [1, 64] by squaring (c = 1; b = t; for each bit of e
 * from the lowest: if set c *= b; b *= b), else pow(t, alpha). */
PDSI_INLINE double pdsi_ipow(double t, int e, double alpha) {
    if (e == 8) { /* the default: the same three squarings, unrolled */
        double b = t * t;
        b *= b;
        return b * b;
    }
    if (e <= 0) return pow(t, alpha);
    double c = 1.0, b = t;
    for (;;) {
        if (e & 1) c *= b;
        e >>= 1;
        if (!e) return c;
        b *= b;
    }
}

/* asin(x) for 0 <= x <= 1 from +, -, *, / and sqrt alone: the rational
 * approximation of fdlibm's e_asin.c (error below 1 ulp), so that the
 * vector code (pds_scan.c) repeats it bit for bit. libm's asin is a call
 * per pair (a large share of an SO(3) call) and its last bit differs
 * between libms anyway. */
#define PDSI_ASIN_PS0 1.66666666666666657415e-01
#define PDSI_ASIN_PS1 -3.25565818622400915405e-01
#define PDSI_ASIN_PS2 2.01212532134862925881e-01
#define PDSI_ASIN_PS3 -4.00555345006794114027e-02
#define PDSI_ASIN_PS4 7.91534994289814532176e-04
#define PDSI_ASIN_PS5 3.47933107596021167570e-05
#define PDSI_ASIN_QS1 -2.40339491173441421878e+00
#define PDSI_ASIN_QS2 2.02094576023350569471e+00
#define PDSI_ASIN_QS3 -6.88283971605453293030e-01
#define PDSI_ASIN_QS4 7.70381505559019352791e-02
#define PDSI_PIO2_HI 1.57079632679489655800e+00
#define PDSI_PIO2_LO 6.12323399573676603587e-17
#define PDSI_PIO4_HI 7.85398163397448278999e-01
/* t P(t) and Q(t) of the approximation asin(x) = x + x t P(t) / Q(t), t = x^2 */
#define PDSI_ASIN_P(t)                                                                      \
    ((t) * (PDSI_ASIN_PS0 +                                                                 \
            (t) * (PDSI_ASIN_PS1 +                                                          \
                   (t) * (PDSI_ASIN_PS2 +                                                   \
                          (t) * (PDSI_ASIN_PS3 + (t) * (PDSI_ASIN_PS4 + (t) * PDSI_ASIN_PS5))))))
#define PDSI_ASIN_Q(t)                                                                      \
    (1.0 + (t) * (PDSI_ASIN_QS1 +                                                           \
                  (t) * (PDSI_ASIN_QS2 + (t) * (PDSI_ASIN_QS3 + (t) * PDSI_ASIN_QS4))))

PDSI_INLINE double pdsi_asin(double x) {
    if (x < 0.5) {
        double t = x * x;
        return x + x * (PDSI_ASIN_P(t) / PDSI_ASIN_Q(t));
    }
    /* asin(x) = pi/2 - 2 asin(sqrt((1 - x) / 2)) */
    double t = (1.0 - x) * 0.5;
    double r = PDSI_ASIN_P(t) / PDSI_ASIN_Q(t), s = sqrt(t);
    if (x >= 0.975) return PDSI_PIO2_HI - (2.0 * (s + s * r) - PDSI_PIO2_LO);
    /* s split as f + (s - f), f with a short mantissa, for the last bits */
    uint64_t bits;
    memcpy(&bits, &s, sizeof bits);
    bits &= 0xFFFFFFFF00000000ull;
    double f;
    memcpy(&f, &bits, sizeof f);
    double c = (t - f * f) / (s + f);
    double p = 2.0 * s * r - (PDSI_PIO2_LO - 2.0 * c);
    double q = PDSI_PIO4_HI - 2.0 * f;
    return PDSI_PIO4_HI - (p - q);
}

/* The distance of a pair from its key: euclidean sqrt(key); on the sphere
 * and in so3 the angle from the chord, asin-based (accurate near 0, clamped). */
PDSI_INLINE double pdsi_key_distance(const pdsi_space *s, double key) {
    double c = sqrt(key);
    if (s->angle_factor == 0.0) return c;
    c *= 0.5;
    return s->angle_factor * pdsi_asin(c < 1.0 ? c : 1.0);
}

/* A pair's contribution c (key below s->search2) times 2^(s-64), as a double:
 * the fixed-point weight is floor of it times 2^64 (pdsi_fixed). */
PDSI_INLINE double pdsi_scaled_contribution(const pdsi_space *s, double key) {
    double dist = pdsi_key_distance(s, key);
    if (dist < s->d_min) dist = s->d_min;
    double t = 1.0 - dist / s->d_max;
    if (t <= 0.0) return 0.0;
    /* integer alpha (the default 8): exponentiation by squaring, a fixed
     * sequence of IEEE multiplications that the oracle (tests/oracle.py)
     * repeats, so the bits agree on every CPU; pow is many times slower and numpy's
     * own power differs from libm's in the last bit on some CPUs anyway */
    double c = pdsi_ipow(t, s->alpha_int, s->alpha);
    /* c 2^(s-64) < 2^62: a power-of-two scaling, exact */
    return c * s->scale_hi;
}

/* Fixed-point contribution floor(c 2^s) of a pair key already known to be
 * below s->search2. Symmetric in the two points because the key is. */
PDSI_INLINE pdsi_weight pdsi_contribution(const pdsi_space *s, double key) {
    return pdsi_fixed(pdsi_scaled_contribution(s, key));
}

#endif /* PDS_SPACE_H */
