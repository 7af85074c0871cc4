/* pds_metric.c - the space of one elimination: the metric's fields, the
 * search radius from d_max, and the fixed point's scale.
 *
 * so3 and sphere search the embedded unit vectors with the chord, which is
 * monotone in the angle: a great-circle angle t has chord 2 sin(t/2); two
 * rotations q, p at angle t = 2 acos(|q.p|) have chord min(|q-p|, |q+p|) =
 * 2 sin(t/4). Angles are recovered from chords with asin (accurate near 0,
 * unlike acos of a dot product). */
#include "pds_space.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void pdsi_space_set_metric(pdsi_space *s, pds_metric metric) {
    s->metric = metric;
    s->images = metric == PDS_METRIC_SO3 ? 2 : 1;
    s->angle_factor = metric == PDS_METRIC_SO3 ? 4.0 : metric == PDS_METRIC_SPHERE ? 2.0 : 0.0;
}

void pdsi_space_set_dmax(pdsi_space *s, double d_max) {
    s->d_max = d_max;
    if (s->angle_factor == 0.0) {
        s->search2 = d_max * d_max;
        s->reach = d_max;
        return;
    }
    /* the largest angle is pi in both metrics */
    if (d_max < M_PI) {
        double c = 2.0 * sin(d_max / s->angle_factor);
        s->search2 = c * c;
        s->reach = c;
    } else {
        /* every pair is a neighbour: the whole sphere, or (so3) every p with
         * q.p >= 0 for image 0, chord at most sqrt(2) */
        s->search2 = INFINITY;
        s->reach = (s->metric == PDS_METRIC_SO3 ? sqrt(2.0) : 2.0) * (1.0 + 1e-9);
    }
}

/* The largest contribution one neighbour can make (at distance d_min). */
static double max_contribution(const pdsi_space *s) {
    if (!(s->d_max > 0.0)) return 0.0;
    double u = 1.0 - s->d_min / s->d_max; /* closer neighbours are capped at d_min */
    return u > 0.0 ? pow(u, s->alpha) : 0.0;
}

void pdsi_space_set_scale(pdsi_space *s, int64_t max_terms) {
    double bound = max_contribution(s) * (double)(max_terms > 0 ? max_terms : 1);
    int e = 0;
    if (bound > 0.0) frexp(bound, &e); /* bound < 2^e */
    int shift = PDSI_WEIGHT_BITS - 1 - e; /* one bit of margin for rounding */
    if (shift > 1000) shift = 1000;
    s->scale_hi = ldexp(1.0, shift - 64);
    /* coarse terms floor(c 2^q) below 2^31 (one bit spare for a pow/ipow
     * last-bit difference in the largest contribution), q <= s */
    int ec = 0;
    double most = max_contribution(s);
    if (most > 0.0) frexp(most, &ec); /* most < 2^ec */
    int q = 31 - ec;
    if (q > shift) q = shift;
    s->coarse_scale = ldexp(1.0, q - shift + 64);
}

