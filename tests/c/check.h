/* check.h - what every C test of the core shares: a CHECK macro that counts
 * failures (the test's main returns non-zero when any failed) and a seeded
 * xorshift64 generator. Define TEST_SEED before including it to pick a seed. */
#ifndef PDS_TEST_CHECK_H
#define PDS_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>

#ifndef TEST_SEED
#define TEST_SEED 88172645463325252ull
#endif

static int failures = 0;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

static uint64_t rng_state = TEST_SEED;
/* uniform in [0, 1) */
static double urand(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

#endif /* PDS_TEST_CHECK_H */
