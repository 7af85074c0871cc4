/* pds_grid.c - neighbour search on a uniform grid.
 *
 * Cells have side >= s->reach / grid->reach (s->reach is d_max, or for so3
 * and sphere the chord of d_max) along up to three axes (for d > 3, the three
 * with the widest extent; the distance test still uses every coordinate), so
 * all neighbours of a point lie in the (2 grid->reach + 1)^g cells around its
 * own. grid->reach 2 (half-size cells) on three axes, when the caller asks
 * (the serial pass, which meets each pair once): the candidates cover
 * 125/8 d_max^3 instead of 27 d_max^3, 42% fewer distance tests for the same
 * neighbours, in 25 runs instead of 9 (in 2D, 25/4 instead of 9 d_max^2 saves
 * too little to pay for the shorter runs). Points are renumbered in cell
 * order, which makes a cell row one contiguous range of memory: the
 * neighbour scan reads (2 grid->reach + 1)^(g-1) runs of consecutive points.
 *
 * A dense grid has at most max(64, 2m) cells (half-size cells that would be
 * more become full-size ones). Data far smaller than its bounding box
 * (tight clusters, a surface) would need more, and with fewer, larger cells
 * every point of a cluster becomes a candidate of every other: then (not
 * periodic, one image) the grid is sparse instead: only occupied cells are
 * stored, sorted by their full index, and a run of cells is found by
 * searching them (from where the cell's previous run ended). */
#include "pds_grid.h"

#include <string.h>

/* A cell index is computed in doubles, floor((x - origin) / side), with an
 * error of at most ~2^-50 of the cells along the axis, and two points less
 * than reach apart must never land more than grid->reach cells apart. With
 * sides of at least reach / grid->reach times 1 + CELL_MARGIN and at most
 * AXIS_CELLS_MOST cells an axis (so3's -q may lie a span beyond: twice
 * that), the error (2^-13 of a cell) stays below the margin: a neighbour
 * just inside d_max is found whatever the rounding. */
#define CELL_MARGIN (1.0 / 1024)
#define AXIS_CELLS_MOST 68719476736.0 /* 2^36 */

void pdsi_axis_range(const double *x, int64_t m, int d, int k, double *lo, double *hi) {
    /* four minima and maxima at once instead of one chain of dependent
     * comparisons (the values are finite: the order is free) */
    double a[4], b[4];
    for (int u = 0; u < 4; ++u) a[u] = b[u] = x[k];
    int64_t i = 1;
    for (; i + 4 <= m; i += 4)
        for (int u = 0; u < 4; ++u) {
            double v = x[(i + u) * (int64_t)d + k];
            a[u] = v < a[u] ? v : a[u];
            b[u] = v > b[u] ? v : b[u];
        }
    for (; i < m; ++i) {
        double v = x[i * (int64_t)d + k];
        a[0] = v < a[0] ? v : a[0];
        b[0] = v > b[0] ? v : b[0];
    }
    for (int u = 1; u < 4; ++u) {
        a[0] = a[u] < a[0] ? a[u] : a[0];
        b[0] = b[u] > b[0] ? b[u] : b[0];
    }
    *lo = a[0];
    *hi = b[0];
}

void pdsi_grid_free(pdsi_grid *grid) {
    free(grid->start);
    free(grid->cell_of);
    free(grid->keys);
    grid->start = NULL;
    grid->cell_of = NULL;
    grid->keys = NULL;
}

typedef struct keyed_point {
    int64_t key;
    int32_t index;
} keyed_point;

static int cmp_keyed(const void *a, const void *b) {
    const keyed_point *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Sparse grid: sorts the points by cell, stores the occupied cells. */
static pds_status build_sparse(pdsi_grid *grid, const double *x, int64_t m, int d, int32_t *order,
                               pds_error *err) {
    keyed_point *kp = malloc(sizeof(keyed_point) * (size_t)(m > 0 ? m : 1));
    grid->cell_of = malloc(sizeof(int32_t) * (size_t)(m > 0 ? m : 1));
    if (!kp || !grid->cell_of) {
        free(kp);
        pdsi_grid_free(grid);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory building the grid");
    }
    for (int64_t i = 0; i < m; ++i) {
        kp[i].key = pdsi_grid_cell(grid, x + i * (int64_t)d, 1.0);
        kp[i].index = (int32_t)i;
    }
    qsort(kp, (size_t)m, sizeof(keyed_point), cmp_keyed);
    int64_t occupied = 0;
    for (int64_t k = 0; k < m; ++k) occupied += k == 0 || kp[k].key != kp[k - 1].key;
    grid->keys = malloc(sizeof(int64_t) * (size_t)(occupied > 0 ? occupied : 1));
    grid->start = malloc(sizeof(int32_t) * (size_t)(occupied + 1));
    if (!grid->keys || !grid->start) {
        free(kp);
        pdsi_grid_free(grid);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory building the grid");
    }
    int64_t c = -1;
    for (int64_t k = 0; k < m; ++k) {
        if (k == 0 || kp[k].key != kp[k - 1].key) {
            ++c;
            grid->keys[c] = kp[k].key;
            grid->start[c] = (int32_t)k;
        }
        order[k] = kp[k].index;
        grid->cell_of[k] = (int32_t)c;
    }
    grid->start[occupied] = (int32_t)m;
    grid->ncell = occupied;
    free(kp);
    return PDS_OK;
}

/* First occupied cell at or after `from` whose key is >= key (every cell
 * before `from` has a smaller key): galloping from `from`, then a binary
 * search. A cell's ranges ask for ascending keys, each near the last one's
 * answer: a few steps each instead of log2(cells). */
static int64_t lower_bound(const int64_t *keys, int64_t n, int64_t from, int64_t key) {
    int64_t lo = from, step = 1, hi;
    for (;;) {
        hi = lo + step;
        if (hi >= n) {
            hi = n;
            break;
        }
        if (keys[hi - 1] >= key) break;
        lo = hi;
        step *= 2;
    }
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int64_t pdsi_grid_cell(const pdsi_grid *grid, const double *p, double sign) {
    int64_t c = 0;
    for (int a = 0; a < grid->g; ++a) {
        double t = (sign * p[grid->axis[a]] - grid->origin[a]) * grid->inv_side[a];
        /* compare before converting: a huge t must not reach the cast */
        int64_t k = t > 0.0 ? (t < (double)grid->cells[a] ? (int64_t)t : grid->cells[a] - 1) : 0;
        c = c * grid->cells[a] + k;
    }
    return c;
}

/* The grid's axes: the (up to) three widest of the points' extents (the
 * bounds' when periodic), each at least a cell wide; their least values and
 * extents to lo and ext. */
static pds_status choose_axes(pdsi_grid *grid, const double *x, int64_t m, int d,
                              const pdsi_space *s, const double *bounds, double *lo, double *ext,
                              pds_error *err) {
    int taken = 0;
    double *all_lo = malloc(sizeof(double) * 2 * (size_t)d);
    if (!all_lo) return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory building the grid");
    double *all_ext = all_lo + d;
    for (int k = 0; k < d; ++k) {
        double a, b;
        if (s->periodic && bounds) {
            a = bounds[k];
            b = bounds[d + k];
        } else {
            pdsi_axis_range(x, m, d, k, &a, &b);
        }
        all_lo[k] = a;
        all_ext[k] = b - a;
    }
    while (taken < PDSI_GRID_MAX_DIMS && taken < d) {
        int best = -1;
        for (int k = 0; k < d; ++k) {
            int used = 0;
            for (int a = 0; a < taken; ++a) used |= grid->axis[a] == k;
            if (!used && (best < 0 || all_ext[k] > all_ext[best])) best = k;
        }
        if (!(all_ext[best] >= s->reach)) break; /* under one cell wide: no gain */
        grid->axis[taken] = best;
        lo[taken] = all_lo[best];
        ext[taken] = all_ext[best];
        taken += 1;
    }
    free(all_lo);
    grid->g = taken;
    return PDS_OK;
}

/* Cells per axis and their sides, for the axes' least values lo and extents
 * ext: half-size cells on three axes when `half` asks for them and a dense
 * grid can hold them; returns 1 when the cells are too many for a dense
 * grid (a sparse one then holds the occupied ones). */
static int size_cells(pdsi_grid *grid, const pdsi_space *s, int64_t m, int half, const double *lo,
                      const double *ext) {
    double want[PDSI_GRID_MAX_DIMS];
    int sparse = 0;
    grid->reach = grid->g >= 3 && half ? 2 : 1;
    double cap = m * 2.0 > 64.0 ? m * 2.0 : 64.0, total, unit;
    for (;;) {
        /* cell counts: side >= unit; at most max(64, 2m) cells in all */
        unit = s->reach / grid->reach * (1.0 + CELL_MARGIN);
        total = 1.0;
        for (int a = 0; a < grid->g; ++a) {
            want[a] = floor(ext[a] / unit);
            /* ext / unit may be Inf or NaN; a sparse grid may have up to
             * 2^36 cells an axis, 1e18 in all (clamped to a dense grid's
             * 2m cells, tight clusters in a wide box would get cells far
             * wider than d_max, and far too many candidates) */
            if (!(want[a] <= AXIS_CELLS_MOST)) want[a] = AXIS_CELLS_MOST;
            if (!s->periodic) want[a] += 1.0;
            if (want[a] < 1.0) want[a] = 1.0;
            total *= want[a];
        }
        /* half-size cells too many for a dense grid (a surface, clusters):
         * full ones (cells of ~2 points, and in a sparse grid two searches a
         * run, cost more than the extra candidates) */
        if (total > cap && grid->reach > 1) {
            grid->reach = 1;
            continue;
        }
        break;
    }
    /* too many cells for a dense grid: a sparse one (at most ~1e18 cells;
     * so3 too, whose search around -q then starts from a full cell index:
     * pdsi_grid_image_ranges) */
    if (total > cap && !s->periodic) {
        sparse = 1;
        cap = 1e18;
    }
    while (total > cap) {
        double f = pow(total / cap, 1.0 / grid->g) * 1.0001;
        total = 1.0;
        for (int a = 0; a < grid->g; ++a) {
            want[a] = floor(want[a] / f);
            if (want[a] < 1.0) want[a] = 1.0;
            total *= want[a];
        }
    }
    for (int a = 0; a < grid->g; ++a) {
        grid->cells[a] = (int64_t)want[a];
        grid->origin[a] = lo[a];
        /* periodic: the cells tile the period; else want cells of side unit
         * cover the extent (want > ext / unit), or, fewer after the cap,
         * cells of ext / want (the last point, on the last cell's far edge,
         * is clamped into it) */
        double side = ext[a] / want[a];
        if (side < unit) side = unit;
        grid->inv_side[a] = 1.0 / side;
    }
    return sparse;
}

/* A dense grid: the points sorted into cell order by a counting sort. */
static pds_status build_dense(pdsi_grid *grid, const double *x, int64_t m, int d, int32_t *order,
                              pds_error *err) {
    grid->ncell = 1;
    for (int a = 0; a < grid->g; ++a) grid->ncell *= grid->cells[a];
    grid->start = calloc((size_t)grid->ncell + 1, sizeof(int32_t));
    grid->cell_of = malloc(sizeof(int32_t) * (size_t)(m > 0 ? m : 1));
    if (!grid->start || !grid->cell_of) {
        pdsi_grid_free(grid);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory building the grid (%lld cells)",
                         (long long)grid->ncell);
    }
    /* cell_of temporarily holds each input point's cell */
    for (int64_t i = 0; i < m; ++i) {
        int64_t c = pdsi_grid_cell(grid, x + i * (int64_t)d, 1.0);
        grid->cell_of[i] = (int32_t)c;
        grid->start[c + 1] += 1;
    }
    for (int64_t c = 0; c < grid->ncell; ++c) grid->start[c + 1] += grid->start[c];
    int32_t *fill = malloc(sizeof(int32_t) * (size_t)grid->ncell);
    if (!fill) {
        pdsi_grid_free(grid);
        return pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory building the grid");
    }
    memcpy(fill, grid->start, sizeof(int32_t) * (size_t)grid->ncell);
    for (int64_t i = 0; i < m; ++i) order[fill[grid->cell_of[i]]++] = (int32_t)i;
    free(fill);
    for (int64_t c = 0; c < grid->ncell; ++c)
        for (int32_t k = grid->start[c]; k < grid->start[c + 1]; ++k) grid->cell_of[k] = (int32_t)c;
    return PDS_OK;
}

pds_status pdsi_grid_build(pdsi_grid *grid, const double *x, int64_t m, int d,
                           const pdsi_space *s, const double *bounds, int half, int32_t *order,
                           pds_error *err) {
    memset(grid, 0, sizeof *grid);
    grid->periodic = s->periodic;
    grid->reach = 1;
    int sparse = 0;
    if (s->reach > 0.0) {
        double lo[PDSI_GRID_MAX_DIMS], ext[PDSI_GRID_MAX_DIMS];
        pds_status st = choose_axes(grid, x, m, d, s, bounds, lo, ext, err);
        if (st != PDS_OK) return st;
        sparse = size_cells(grid, s, m, half, lo, ext);
    }
    return sparse ? build_sparse(grid, x, m, d, order, err) : build_dense(grid, x, m, d, order, err);
}

int pdsi_grid_ranges(const pdsi_grid *grid, int64_t c, int32_t *ranges) {
    if (grid->g && grid->keys) c = grid->keys[c]; /* sparse: the full index */
    return pdsi_grid_ranges_full(grid, c, ranges);
}

int pdsi_grid_ranges_full(const pdsi_grid *grid, int64_t c, int32_t *ranges) {
    int g = grid->g, reach = grid->reach;
    if (g == 0) {
        ranges[0] = grid->start[0];
        ranges[1] = grid->start[1];
        return ranges[1] > ranges[0];
    }
    int64_t coord[PDSI_GRID_MAX_DIMS];
    for (int a = g - 1; a >= 0; --a) {
        coord[a] = c % grid->cells[a];
        c /= grid->cells[a];
    }
    /* candidate values of each leading grid dim: the cells within reach,
     * each once (all of them when the periodic axis is that short) */
    int64_t vals[PDSI_GRID_MAX_DIMS][5];
    int nv[PDSI_GRID_MAX_DIMS];
    for (int a = 0; a < g - 1; ++a) {
        int64_t n = grid->cells[a];
        nv[a] = 0;
        if (grid->periodic && n <= 2 * reach + 1) {
            for (int64_t v = 0; v < n; ++v) vals[a][nv[a]++] = v;
        } else {
            for (int64_t o = -reach; o <= reach; ++o) {
                int64_t v = coord[a] + o;
                if (grid->periodic) v = (v + n) % n;
                else if (v < 0 || v >= n) continue;
                vals[a][nv[a]++] = v;
            }
        }
    }
    /* spans of the last dim: [a0, b0] and, wrapping around, maybe [a1, b1] */
    int64_t nl = grid->cells[g - 1], cl = coord[g - 1];
    int64_t spans[2][2];
    int ns = 0;
    if (grid->periodic && nl <= 2 * reach + 1) {
        spans[ns][0] = 0, spans[ns][1] = nl - 1, ns++;
    } else if (grid->periodic && cl - reach < 0) {
        spans[ns][0] = 0, spans[ns][1] = cl + reach, ns++;
        spans[ns][0] = nl + cl - reach, spans[ns][1] = nl - 1, ns++;
    } else if (grid->periodic && cl + reach > nl - 1) {
        spans[ns][0] = 0, spans[ns][1] = cl + reach - nl, ns++;
        spans[ns][0] = cl - reach, spans[ns][1] = nl - 1, ns++;
    } else {
        spans[ns][0] = cl - reach > 0 ? cl - reach : 0;
        spans[ns][1] = cl + reach < nl ? cl + reach : nl - 1;
        ns++;
    }
    int count = 0;
    int64_t at = 0; /* sparse: where the last search ended (keys ascend) */
    int idx[PDSI_GRID_MAX_DIMS] = {0};
    for (;;) {
        int64_t base = 0;
        for (int a = 0; a < g - 1; ++a) base = (base + vals[a][idx[a]]) * grid->cells[a + 1];
        for (int s = 0; s < ns; ++s) {
            int32_t b, e;
            if (grid->keys) {
                at = lower_bound(grid->keys, grid->ncell, at, base + spans[s][0]);
                b = grid->start[at];
                at = lower_bound(grid->keys, grid->ncell, at, base + spans[s][1] + 1);
                e = grid->start[at];
            } else {
                b = grid->start[base + spans[s][0]];
                e = grid->start[base + spans[s][1] + 1];
            }
            if (e > b) {
                ranges[2 * count] = b;
                ranges[2 * count + 1] = e;
                count++;
            }
        }
        int a = g - 2;
        while (a >= 0 && ++idx[a] == nv[a]) idx[a--] = 0;
        if (a < 0) break;
    }
    return count;
}

double pdsi_grid_pair_estimate(const pdsi_grid *grid, int64_t *max_candidates) {
    double pairs = 0.0;
    int64_t most = 0;
    int32_t r[2 * PDSI_MAX_RANGES];
    for (int64_t c = 0; c < grid->ncell; ++c) {
        int32_t cnt = grid->start[c + 1] - grid->start[c];
        if (!cnt) continue;
        int nr = pdsi_grid_ranges(grid, c, r);
        double len = (double)pdsi_ranges_length(r, nr);
        pairs += (double)cnt * len;
        if ((int64_t)len > most) most = (int64_t)len;
    }
    if (max_candidates) *max_candidates = most;
    return pairs;
}
