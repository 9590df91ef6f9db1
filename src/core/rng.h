/* The one pseudo-random generator of the library (splitmix64): seeded,
 * deterministic sampling for AdaRound's batches and its driver's columns. */
#ifndef OCT_CORE_RNG_H
#define OCT_CORE_RNG_H

#include <stdint.h>

static inline uint64_t oct_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
