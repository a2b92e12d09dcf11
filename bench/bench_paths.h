/*
 * bench_paths.h - lookup paths sampled from a loaded snapshot.
 *
 * The lookup benchmarks must only ask for paths that exist, so they take them
 * from the snapshot itself: a walk with snapconf_node_at()/snapconf_node_key()
 * writes each candidate's path in snapconf's syntax (quoting keys that need
 * it) and a seeded reservoir sample keeps a fixed number of them.
 */
#ifndef SNAPCONF_BENCH_PATHS_H
#define SNAPCONF_BENCH_PATHS_H

#include <stddef.h>
#include <stdint.h>

#include <snapconf.h>

/* What a sample should contain. */
typedef struct path_query {
    unsigned segments; /* dot-separated segments; "[N]" does not start one */
    int want_type;     /* a snapconf_type, or -1 for any scalar or container */
    size_t max;        /* sample size */
    uint64_t seed;
} path_query;

typedef struct path_set {
    char **paths;             /* relative to the node the walk started from */
    int64_t *ints;            /* for int samples, each path's value */
    snapconf_path **compiled; /* filled by path_set_compile() */
    size_t len;
    size_t candidates; /* how many matching paths the walk saw */
} path_set;

/*
 * Walks the tree under base and samples up to q->max paths of exactly
 * q->segments segments whose value has q->want_type.  Returns 0, or -1 when
 * memory runs out.
 */
int path_set_sample(const snapconf_node *base, const path_query *q, path_set *out);

/* Compiles every path.  Returns 0 or the first snapconf error code. */
int path_set_compile(path_set *set);

void path_set_free(path_set *set);

/*
 * Appends key to buf as one path segment, in double quotes with \" and \\
 * escaped when it holds '.', '[', ']', '"' or '\\' or is empty.  Returns the
 * new length, or (size_t)-1 when the result would not fit in size bytes.
 */
size_t path_append_key(char *buf, size_t len, size_t size, const char *key, size_t keylen);

#endif /* SNAPCONF_BENCH_PATHS_H */
