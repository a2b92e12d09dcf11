/*
 * Key hashing.  One seed per process, drawn at random the first time a
 * snapshot is loaded or a path compiled, so that nobody who writes a config
 * (or, later, a key over the daemon's API) can aim for hash collisions.  Every
 * snapshot and compiled path in a process shares the seed, which is what lets
 * a compiled path's hashes serve any snapshot.
 */
#ifndef SNAPCONF_HASH_H
#define SNAPCONF_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

extern uint64_t snapconf__hash_seed;

/* Draws the seed once; safe to call from any thread, any number of times. */
void snapconf__hash_init(void);

static inline uint32_t snapconf__key_hash(const char *key, size_t len)
{
    return (uint32_t)XXH3_64bits_withSeed(key, len, snapconf__hash_seed);
}

/* A 128-bit hash as 32 lowercase hex digits and a NUL, the form of every
 * content hash. */
static inline void snapconf__hash_hex(XXH128_hash_t h, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++) {
        uint64_t word = i < 8 ? h.high64 : h.low64;
        unsigned byte = (unsigned)(word >> (56 - 8 * (i % 8))) & 0xffu;
        out[2 * i] = hex[byte >> 4];
        out[2 * i + 1] = hex[byte & 0xfu];
    }
    out[32] = '\0';
}

#endif
