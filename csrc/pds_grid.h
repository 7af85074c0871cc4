/* pds_grid.h - neighbour search: a uniform grid with cells of side >= d_max / reach
 * (private; pds_grid.c). */
#ifndef PDS_GRID_H
#define PDS_GRID_H

#include "pds_space.h"

/* Most grid dimensions used for neighbour search. */
#define PDSI_GRID_MAX_DIMS 3

typedef struct pdsi_grid {
    int g;                            /* grid dimensions in use (0: one cell) */
    int axis[PDSI_GRID_MAX_DIMS];     /* which coordinate each grid dim uses  */
    int64_t cells[PDSI_GRID_MAX_DIMS];/* cells per grid dim                    */
    double origin[PDSI_GRID_MAX_DIMS];
    double inv_side[PDSI_GRID_MAX_DIMS];
    int periodic;
    int reach;                        /* cells of side >= s->reach / reach: the
                                         neighbours lie within reach cells    */
    int64_t ncell;                    /* product of cells (sparse: occupied)   */
    int32_t *start;                   /* ncell + 1 offsets into sorted order   */
    int32_t *cell_of;                 /* cell of each sorted point             */
    int64_t *keys;                    /* sparse grid: the full index of each
                                         occupied cell, ascending; else NULL   */
} pdsi_grid;

/* Most (begin, end) ranges pdsi_grid_ranges writes. */
#define PDSI_MAX_RANGES 64

/* Sorts the m points into cell order: writes order[k] = input index of the
 * k-th point in cell order (stable: ascending input index within a cell).
 * half: half-size cells on three grid axes (unless they would be too many
 * for a dense grid). */
pds_status pdsi_grid_build(pdsi_grid *grid, const double *x, int64_t m, int d,
                           const pdsi_space *s, const double *bounds, int half, int32_t *order,
                           pds_error *err);
/* Number of candidate pairs the grid implies (for the work budget), and the
 * most candidates any one point has. */
double pdsi_grid_pair_estimate(const pdsi_grid *grid, int64_t *max_candidates);
/* Writes the ranges of sorted indices of the cells around cell c; returns
 * how many ranges. Every neighbour within d_max is inside one of them. */
int pdsi_grid_ranges(const pdsi_grid *grid, int64_t c, int32_t *ranges);
/* How many sorted indices n ranges (as pdsi_grid_ranges writes them) hold. */
PDSI_INLINE int64_t pdsi_ranges_length(const int32_t *ranges, int n) {
    int64_t len = 0;
    for (int q = 0; q < n; ++q) len += ranges[2 * q + 1] - ranges[2 * q];
    return len;
}
/* The cell of the point sign * p (clamped into the grid): with sign -1, the
 * cell of -q, around which so3's second image is searched. */
int64_t pdsi_grid_cell(const pdsi_grid *grid, const double *p, double sign);
/* The ranges around the full cell index c (pdsi_grid_cell's; in a dense
 * grid the same as pdsi_grid_ranges). */
int pdsi_grid_ranges_full(const pdsi_grid *grid, int64_t c, int32_t *ranges);
void pdsi_grid_free(pdsi_grid *grid);

/* The least and largest coordinate k of the m points (row-major, m x d). */
void pdsi_axis_range(const double *x, int64_t m, int d, int k, double *lo, double *hi);

#endif /* PDS_GRID_H */
