/* pds_workspace.c - memory kept between calls.
 *
 * A caller that eliminates many small problems in a row (the samplers'
 * batches, the padded batched operator) passes one workspace per thread in
 * pds_options.workspace. The largest buffers of a level (the pair scan, the
 * neighbour lists, the tournament tree) then live in its slots: each slot
 * grows to the largest size asked for and is kept until pds_workspace_free.
 * Without one, every call allocates and frees them: several large blocks
 * freed at once make glibc trim its heap after each call and fault the same
 * pages in again on the next (thousands of page faults a call). */
#include "pds_weight.h"

struct pds_workspace {
    void *slot[PDSI_WS_SLOTS];
    size_t size[PDSI_WS_SLOTS];
};

pds_workspace *pds_workspace_new(void) { return calloc(1, sizeof(pds_workspace)); }

void pds_workspace_free(pds_workspace *ws) {
    if (!ws) return;
    for (int k = 0; k < PDSI_WS_SLOTS; ++k) free(ws->slot[k]);
    free(ws);
}

size_t pds_workspace_bytes_held(const pds_workspace *ws) {
    size_t total = 0;
    if (ws)
        for (int k = 0; k < PDSI_WS_SLOTS; ++k) total += ws->size[k];
    return total;
}

void *pdsi_ws_take(pds_workspace *ws, int slot, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (!ws) return malloc(bytes);
    if (ws->size[slot] < bytes) {
        /* the old contents are not needed: free first, then allocate */
        free(ws->slot[slot]);
        ws->slot[slot] = malloc(bytes);
        ws->size[slot] = ws->slot[slot] ? bytes : 0;
    }
    return ws->slot[slot];
}

void *pdsi_ws_grow(pds_workspace *ws, int slot, void *p, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (!ws) return realloc(p, bytes);
    if (ws->size[slot] >= bytes) return ws->slot[slot];
    void *g = realloc(ws->slot[slot], bytes);
    if (!g) return NULL; /* the slot keeps its old block */
    ws->slot[slot] = g;
    ws->size[slot] = bytes;
    return g;
}

void pdsi_ws_give(pds_workspace *ws, void *p) {
    if (!ws) free(p);
}

size_t pds_workspace_bytes(int64_t m, int d, int64_t n, const pds_options *opt) {
    if (m < 1 || d < 1 || n < 1) return 0;
    size_t M = (size_t)m;
    size_t per_point = (size_t)d * sizeof(double) /* points in cell order          */
                       + 3 * sizeof(int32_t)       /* order, cell of each, grid cell */
                       + sizeof(pdsi_weight)       /* weight                         */
                       + 2                         /* removed, kept flags            */
                       + sizeof(int32_t)           /* input index (ties)             */
                       + sizeof(int32_t *) + sizeof(int32_t) /* neighbour list head  */
                       + 7 * sizeof(int32_t) + 2   /* rounds: candidates, blockers,
                                                      live lists, candidate flags    */
                       + 2 * sizeof(int64_t);      /* removal records, kept ids      */
    /* so3/sphere: unit rows; d > 3: the principal frame, and for d > 8 the
     * same in cell order */
    if ((opt && opt->metric != PDS_METRIC_EUCLIDEAN) || d > 3) per_point += (size_t)d * sizeof(double);
    if (d > 8) per_point += (size_t)d * sizeof(double);
    /* The neighbour lists are not counted: they are optional, kept only when
     * they fit beside this (and under max_memory); else the grid is rescanned. */
    return M * per_point + (8 * 32768 + 8) * 16;
}
