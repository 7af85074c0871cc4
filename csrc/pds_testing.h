/* pds_testing.h - the other code paths, for the tests (tests/c, tests/fuzz)
 * to compare against the one pds_eliminate picks: every path gives the same
 * indices. Zero in every field is pds_eliminate's own choice. */
#ifndef PDS_TESTING_H
#define PDS_TESTING_H

#include "pds.h"

typedef struct pdsi_testing {
    int64_t tail;  /* removals of each level left to the sequential run, not
                      the rounds (INT64_MAX: the sequential run alone) */
    int no_serial; /* never the serial path (each pair once, pds_pairs.c) */
    int tree_only; /* the sequential run on the tournament tree alone */
    int parts;     /* the serial pair pass in parts on levels of any size */
    int exact;     /* serial levels on exact weights, without the coarse run */
    int coarse;    /* the coarse run also on 1-D and lattice-like levels */
} pdsi_testing;

/* pds_eliminate on the paths t names (NULL: pds_eliminate itself). */
pds_status pdsi_eliminate_testing(const double *points, int64_t m, int d, int64_t n,
                                  const pds_options *opt, const pdsi_testing *t, int64_t *out,
                                  pds_error *err);

#endif /* PDS_TESTING_H */
