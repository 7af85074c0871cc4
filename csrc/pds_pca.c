/* pds_pca.c - a principal-axes frame for the neighbour grid when d > 3.
 *
 * The grid (pds_grid.c) cuts cells along at most three coordinate axes. Data
 * in many dimensions that lies near a low-dimensional subspace (learned
 * embeddings) rarely lines up with three coordinates: every axis then sees
 * the whole spread, the cells are coarse and every point becomes a candidate
 * neighbour of every other (quadratic work). Rotating the points into their
 * principal axes (an orthogonal change of frame, so euclidean distances are
 * kept up to rounding) puts the spread on the first axes, where the grid cuts.
 * Only the grid's cells and the scan's early exit (d > 8) read the rotated
 * copy; distances are measured on the points as given, so exact ties stay
 * ties (a lattice in 4-D had given other indices than in 2-D).
 *
 * The covariance is taken over at most PDSI_PCA_ROWS evenly spaced rows, its
 * eigenvectors by cyclic Jacobi rotations; everything is serial or per row,
 * so the frame and the rotated points do not depend on the thread count. The
 * rotation is used only when it helps: when the variance the grid cannot see
 * (outside its three axes) drops to at most half. */
#include "pds_problem.h"
#include "pds_grid.h"

#include <float.h>
#include <string.h>

#define PDSI_PCA_ROWS 8192
#define PDSI_PCA_MAX_D 128

/* Eigen-decomposition of the symmetric d x d matrix a (destroyed): writes
 * the eigenvalues to val and the eigenvectors to the columns of v. */
static void jacobi_eigen(double *a, int d, double *val, double *v) {
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) v[i * d + j] = i == j;
    for (int sweep = 0; sweep < 60; ++sweep) {
        double off = 0.0, diag = 0.0;
        for (int i = 0; i < d; ++i) {
            diag += a[i * d + i] * a[i * d + i];
            for (int j = i + 1; j < d; ++j) off += a[i * d + j] * a[i * d + j];
        }
        if (!(off > 1e-30 * diag)) break;
        for (int p = 0; p < d; ++p) {
            for (int q = p + 1; q < d; ++q) {
                double apq = a[p * d + q];
                if (apq == 0.0) continue;
                double app = a[p * d + p], aqq = a[q * d + q];
                double theta = (aqq - app) / (2.0 * apq);
                double t = (theta >= 0.0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < d; ++k) { /* columns p, q */
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; ++k) { /* rows p, q */
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < d; ++k) {
                    double vkp = v[k * d + p], vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    for (int i = 0; i < d; ++i) val[i] = a[i * d + i];
}

typedef struct rotate_task {
    const double *x;
    double *out;
    const double *mean, *frame; /* frame: d x d, row r = the r-th axis */
    int d;
} rotate_task;

static void rotate_rows(void *task, int64_t b, int64_t e) {
    rotate_task *t = task;
    int d = t->d;
    for (int64_t i = b; i < e; ++i) {
        const double *p = t->x + i * d;
        double *o = t->out + i * d;
        for (int r = 0; r < d; ++r) {
            const double *axis = t->frame + (int64_t)r * d;
            double s = 0.0;
            for (int k = 0; k < d; ++k) s += (p[k] - t->mean[k]) * axis[k];
            o[r] = s;
        }
    }
}

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

pds_status pdsi_principal_frame(const double *x, int64_t m, int d, const pds_options *opt,
                                double **rotated, double *spread, pds_error *err) {
    *rotated = NULL;
    *spread = 0.0;
    if (d <= PDSI_GRID_MAX_DIMS || d > PDSI_PCA_MAX_D || m < 8) return PDS_OK;
    size_t dd = (size_t)d * (size_t)d;
    double *buf = malloc(sizeof(double) * (3 * dd + 3 * (size_t)d));
    if (!buf) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (d=%d)", d);
    double *cov = buf, *vec = cov + dd, *frame = vec + dd, *mean = frame + dd;
    double *val = mean + d, *sorted = val + d;
    int64_t rows = m < PDSI_PCA_ROWS ? m : PDSI_PCA_ROWS;
    memset(mean, 0, sizeof(double) * (size_t)d);
    memset(cov, 0, sizeof(double) * dd);
    for (int64_t r = 0; r < rows; ++r) {
        const double *p = x + (int64_t)(((double)r + 0.5) * (double)m / (double)rows) * d;
        for (int k = 0; k < d; ++k) mean[k] += p[k];
    }
    for (int k = 0; k < d; ++k) mean[k] /= (double)rows;
    for (int64_t r = 0; r < rows; ++r) {
        const double *p = x + (int64_t)(((double)r + 0.5) * (double)m / (double)rows) * d;
        for (int i = 0; i < d; ++i) {
            double di = p[i] - mean[i];
            for (int j = i; j < d; ++j) cov[i * d + j] += di * (p[j] - mean[j]);
        }
    }
    double total = 0.0;
    for (int i = 0; i < d; ++i) {
        total += cov[i * d + i];
        for (int j = i + 1; j < d; ++j) cov[j * d + i] = cov[i * d + j];
    }
    /* the variance outside the grid's three widest coordinates */
    for (int i = 0; i < d; ++i) sorted[i] = cov[i * d + i];
    qsort(sorted, (size_t)d, sizeof(double), cmp_desc);
    double hidden_axes = total - sorted[0] - sorted[1] - sorted[2];
    jacobi_eigen(cov, d, val, vec);
    /* frame rows: eigenvectors by decreasing eigenvalue */
    for (int r = 0; r < d; ++r) {
        int best = 0;
        for (int k = 1; k < d; ++k)
            if (val[k] > val[best]) best = k;
        for (int k = 0; k < d; ++k) frame[(int64_t)r * d + k] = vec[k * d + best];
        sorted[r] = val[best];
        val[best] = -INFINITY;
    }
    double hidden_pca = total - sorted[0] - sorted[1] - sorted[2];
    if (!(total > 0.0) || !(hidden_pca <= 0.5 * hidden_axes)) {
        free(buf);
        return PDS_OK;
    }
    double *out = malloc(sizeof(double) * (size_t)m * (size_t)d);
    if (!out) {
        free(buf);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory (M=%lld, d=%d)", (long long)m, d);
    }
    rotate_task t = {x, out, mean, frame, d};
    pdsi_parallel(opt, m, 1024, rotate_rows, &t);
    double most = 0.0;
    for (int64_t i = 0; i < m; ++i) {
        const double *p = x + i * d;
        double sq = 0.0;
        for (int k = 0; k < d; ++k) sq += (p[k] - mean[k]) * (p[k] - mean[k]);
        most = sq > most ? sq : most;
    }
    *spread = sqrt(most) * (1.0 + 1e-9);
    free(buf);
    *rotated = out;
    return PDS_OK;
}

double pdsi_frame_limit(double search2, int d, double spread) {
    double e = 2.0 * sqrt((double)d) * (double)(d + 1) * DBL_EPSILON * spread;
    double r = sqrt(search2) * (1.0 + 1e-9) + e;
    return r * r * (1.0 + 1e-9);
}
