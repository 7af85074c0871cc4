/* pds_problem.h - one call's problem, as prepared for the levels (private):
 * the points checked and brought into the metric's and the doubles' range,
 * the principal frame, and the space with d_max and d_min. */
#ifndef PDS_PROBLEM_H
#define PDS_PROBLEM_H

#include "pds_space.h"

typedef struct pdsi_problem {
    const double *x;        /* m x d: the points whose distances are measured
                               (the caller's, or a unit-row or scaled copy) */
    const double *frame;    /* NULL, or x in its principal axes (pds_pca.c):
                               only the grid's cells and the scan's early exit
                               read it */
    double spread;          /* every row of frame lies within it of the centre */
    int64_t m, n;
    int d;
    int dim;                /* the domain's dimension: d_max grows by 2^(1/dim)
                               a progressive level */
    const pds_options *opt; /* the caller's options, or &scaled */
    pdsi_space space;       /* metric, period, alpha, d_max, d_min */
    pds_options scaled;     /* the options of the scaled copy */
    uint8_t *keep;          /* NULL, or per input index 1 for a kept point */
    int64_t n_keep;         /* the kept points (distinct) */
    /* owned buffers, freed by pdsi_problem_free */
    double *copy, *unit, *rotated, *period;  /* and keep */
} pdsi_problem;

/* pds_eliminate's first stage (pds_prepare.c): checks the options and the
 * points and fills *P; free it with pdsi_problem_free whatever the status. */
pds_status pdsi_prepare(pdsi_problem *P, const double *points, int64_t m, int d, int64_t n,
                        const pds_options *opt, pds_error *err);
void pdsi_problem_free(pdsi_problem *P);

/* ---- r_max (pds_radius.c) ---- */
/* pds_max_radius from the volume's logarithm (for volumes outside the
 * doubles' range; elsewhere pds_max_radius, whose bits the oracle repeats). */
double pdsi_max_radius_log(int dim, double log_volume, int64_t n);
/* pds_estimate_radius on rows already normalised for the metric. */
pds_status pdsi_estimate_radius(const double *x, int64_t m, int d, int64_t n,
                                const pds_options *opt, double *radius, int *dim,
                                pds_error *err);

/* ---- the principal frame (pds_pca.c) ---- */
/* Euclidean, d > 3, not periodic: when the points' principal axes hide less
 * of their variance from a three-axis grid than the coordinate axes do (by
 * half), writes a malloc'ed copy rotated into those axes to *rotated (the
 * distances are kept up to rounding) and to *spread the largest distance of
 * a point from the centre of the rotation, which bounds that rounding
 * (pdsi_frame_limit); else sets *rotated to NULL (pds_pca.c). */
pds_status pdsi_principal_frame(const double *x, int64_t m, int d, const pds_options *opt,
                                double **rotated, double *spread, pds_error *err);
/* A key (squared distance) on rotated rows of d coordinates, all within
 * spread of the centre, at least this: the points' own distance is at
 * least sqrt(search2). Rounding moves each rotated coordinate by at most
 * (d + 1) eps |p - centre| (the frame's rows have unit length), the
 * difference of two rows by 2 sqrt(d) (d + 1) eps spread, the frame's
 * orthogonality and the key's sum by far less than the factors 1 + 1e-9. */
double pdsi_frame_limit(double search2, int d, double spread);

#endif /* PDS_PROBLEM_H */
