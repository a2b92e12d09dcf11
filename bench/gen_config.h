/*
 * gen_config.h - deterministic YAML generators for the benchmarks.
 *
 * Every generator writes into a growable buffer and depends on nothing but
 * its arguments: the same arguments give the same bytes on every machine,
 * because randomness comes from our own splitmix64 (never rand()) and floats
 * are printed from integers (never through the libc's float formatting).
 *
 * Shapes:
 *   service  - a realistic service configuration of about a requested size:
 *              nested mappings 3-4 levels deep, keys repeating across records,
 *              hostnames, URLs, paths, ints, floats, bools, nulls, flow and
 *              block sequences (of maps and of scalars), quoted strings,
 *              block scalars, dotted label keys and comments.
 *   deep     - mappings nested N levels deep.
 *   wide     - one mapping with N keys.
 *   seq      - one sequence of N scalar items.
 */
#ifndef SNAPCONF_BENCH_GEN_CONFIG_H
#define SNAPCONF_BENCH_GEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer.  The generators keep it NUL-terminated for
 * convenience; len never counts the NUL. */
typedef struct gen_buf {
    char *data;
    size_t len, cap;
} gen_buf;

/* Releases the buffer's memory and empties it; safe on a zeroed buffer. */
void gen_buf_free(gen_buf *buf);

/* The default seed; any fixed value would do, this one is just documented. */
#define GEN_DEFAULT_SEED UINT64_C(0x5eed5eed2024)

typedef struct gen_service_params {
    size_t target_bytes; /* stop after the first record that reaches it */
    uint64_t seed;
    bool anchors; /* also emit an anchor and merge keys (<<: *defaults) */
} gen_service_params;

/*
 * Each generator appends to *out (normally an empty buffer) and returns 0, or
 * -1 when memory runs out (then *out holds a truncated document the caller
 * must still free).
 */
int gen_service(gen_buf *out, const gen_service_params *params);
int gen_deep(gen_buf *out, unsigned depth);
int gen_wide(gen_buf *out, size_t keys);
int gen_seq(gen_buf *out, size_t items);

/* The shapes by name, for command lines. */
typedef enum gen_shape {
    GEN_SHAPE_SERVICE,
    GEN_SHAPE_DEEP,
    GEN_SHAPE_WIDE,
    GEN_SHAPE_SEQ,
} gen_shape;

/* "service", "deep", "wide", "seq" to a shape; -1 for anything else. */
int gen_shape_parse(const char *name);

/*
 * Parses a size such as "4096", "100K", "10M" or "1G" (powers of 1024,
 * case-insensitive).  Returns 0, or -1 when text is not such a size.
 */
int gen_parse_size(const char *text, size_t *out);

#endif /* SNAPCONF_BENCH_GEN_CONFIG_H */
