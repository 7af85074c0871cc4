/* pds_eliminate.c - the entry point: prepare the problem (pds_prepare.c),
 * eliminate it down to n in one level (pds_level.c), and for the
 * progressive order halve the survivors level by level. */
#include "pds_state.h"
#include "pds_problem.h"

#include <float.h>

/* Progressive order: halves the n kept points (kept, their ids) while at
 * least 3 remain (first: the ids of the n points kept by the first level),
 * with kept points (opt.keep) until they alone remain, none below their count,
 * d_max growing by 2^(1/dim) a level; each level's removed
 * points go to the end of out's first `size` places, the last removed
 * first, and the last survivors to its start. */
static pds_status progressive(const pdsi_problem *P, const pdsi_testing *t, const int64_t *first,
                              int64_t *out, pds_error *err) {
    int64_t n = P->n;
    int d = P->d;
    const double *x = P->x, *frame = P->frame;
    pds_status st = PDS_OK;
    /* removal log: at most n - n/2 entries a level */
    int64_t *removed = malloc(sizeof(int64_t) * (size_t)(n + 1));
    int64_t *kept = malloc(sizeof(int64_t) * (size_t)n);
    int64_t *kept2 = malloc(sizeof(int64_t) * (size_t)n);
    double *sub = malloc(sizeof(double) * (size_t)n * (size_t)d * (frame ? 2 : 1));
    if (!removed || !kept || !kept2 || !sub) {
        st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    memcpy(kept, first, sizeof(int64_t) * (size_t)n);
    pdsi_space s = P->space;
    double d_max = s.d_max;
    int64_t size = n;
    double grow = P->dim >= 1 ? pow(2.0, 1.0 / P->dim) : 1.0;
    /* halve while at least 3 remain; with kept points, until they alone
     * remain (no level goes below their count) */
    while (P->n_keep ? size > P->n_keep : size >= 3) {
        int64_t half = size / 2 > P->n_keep ? size / 2 : P->n_keep;
        d_max *= grow;
        if (!isfinite(d_max)) d_max = DBL_MAX; /* already reaches every finite distance */
        pdsi_space_set_dmax(&s, d_max);
        double *subg = frame ? sub + size * d : NULL;
        for (int64_t i = 0; i < size; ++i) {
            memcpy(sub + i * d, x + kept[i] * d, sizeof(double) * (size_t)d);
            if (frame) memcpy(subg + i * d, frame + kept[i] * d, sizeof(double) * (size_t)d);
        }
        st = pdsi_level_run(P, sub, subg, size, half, kept, &s, t, removed, kept2, err);
        if (st != PDS_OK) goto done;
        for (int64_t r = 0; r < size - half; ++r) out[size - 1 - r] = removed[r];
        int64_t *tmp = kept;
        kept = kept2;
        kept2 = tmp;
        size = half;
    }
    memcpy(out, kept, sizeof(int64_t) * (size_t)size);
done:
    free(removed);
    free(kept);
    free(kept2);
    free(sub);
    return st;
}

pds_status pds_eliminate(const double *points, int64_t m, int d, int64_t n,
                         const pds_options *opt, int64_t *out, pds_error *err) {
    return pdsi_eliminate_testing(points, m, d, n, opt, NULL, out, err);
}

pds_status pdsi_eliminate_testing(const double *points, int64_t m, int d, int64_t n,
                                  const pds_options *opt, const pdsi_testing *t, int64_t *out,
                                  pds_error *err) {
    static const pdsi_testing chosen; /* every field 0: the paths pds_eliminate picks */
    pds_options defaults;
    if (!opt) {
        pds_options_init(&defaults);
        opt = &defaults;
    }
    if (!t) t = &chosen;
    if (err) {
        err->code = PDS_OK;
        err->message[0] = '\0';
    }
    if (!points || !out)
        return pdsi_fail(err, PDS_ERR_INVALID_ARGUMENT, "points and out must not be NULL");
    pdsi_problem P;
    pds_status st = pdsi_prepare(&P, points, m, d, n, opt, err);
    int64_t *kept = st == PDS_OK ? malloc(sizeof(int64_t) * (size_t)n) : NULL;
    if (st == PDS_OK && !kept) st = pdsi_fail(err, PDS_ERR_OUT_OF_MEMORY, "out of memory");
    if (st == PDS_OK)
        st = pdsi_level_run(&P, P.x, P.frame, m, n, NULL, &P.space, t, NULL, kept, err);
    if (st == PDS_OK && P.opt->progressive)
        st = progressive(&P, t, kept, out, err);
    else if (st == PDS_OK)
        memcpy(out, kept, sizeof(int64_t) * (size_t)n);
    free(kept);
    pdsi_problem_free(&P);
    return st;
}
