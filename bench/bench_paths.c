/*
 * bench_paths.c - sampling existing paths from a snapshot.
 */
#include "bench_paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_BUF_MAX 4096

/* The walk's state, so that the recursion carries only what changes. */
typedef struct walker {
    const path_query *q;
    path_set *out;
    uint64_t rng;
    char buf[PATH_BUF_MAX];
    int failed;
} walker;

/* splitmix64, as in gen_config.c: the sample must not depend on libc. */
static uint64_t walker_rnd(walker *w)
{
    uint64_t z = (w->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static bool key_needs_quotes(const char *key, size_t keylen)
{
    if (keylen == 0)
        return true;
    for (size_t i = 0; i < keylen; i++)
        if (strchr(".[]\"\\", key[i]))
            return true;
    return false;
}

size_t path_append_key(char *buf, size_t len, size_t size, const char *key, size_t keylen)
{
    bool quote = key_needs_quotes(key, keylen);
    /* Worst case: every byte escaped, two quotes, and the NUL. */
    if (len + 2 * keylen + 3 > size)
        return (size_t)-1;
    if (quote)
        buf[len++] = '"';
    for (size_t i = 0; i < keylen; i++) {
        if (quote && (key[i] == '"' || key[i] == '\\'))
            buf[len++] = '\\';
        buf[len++] = key[i];
    }
    if (quote)
        buf[len++] = '"';
    buf[len] = '\0';
    return len;
}

/* Reservoir sampling (Algorithm R): every candidate ends up in the sample
 * with the same probability, whatever the walk order. */
static void offer(walker *w, const snapconf_node *node)
{
    path_set *s = w->out;
    size_t slot = s->len;
    s->candidates++;
    if (s->len == w->q->max) {
        slot = (size_t)(walker_rnd(w) % s->candidates);
        if (slot >= w->q->max)
            return;
        free(s->paths[slot]);
    } else {
        s->len++;
    }
    s->paths[slot] = strdup(w->buf);
    if (!s->paths[slot])
        w->failed = 1;
    int64_t v = 0;
    if (snapconf_node_type(node) == SNAPCONF_TYPE_INT)
        snapconf_node_int(node, &v);
    s->ints[slot] = v;
}

static bool matches(const walker *w, const snapconf_node *node, unsigned segments)
{
    if (segments != w->q->segments)
        return false;
    return w->q->want_type < 0 || (int)snapconf_node_type(node) == w->q->want_type;
}

static void walk(walker *w, const snapconf_node *node, size_t len, unsigned segments);

static void walk_children(walker *w, const snapconf_node *node, size_t len, unsigned segments)
{
    bool is_map = snapconf_node_type(node) == SNAPCONF_TYPE_MAP;
    size_t n = snapconf_node_size(node);
    for (size_t i = 0; i < n && !w->failed; i++) {
        const snapconf_node *child = snapconf_node_at(node, i);
        size_t keylen = 0, next = len;
        const char *key = is_map ? snapconf_node_key(child, &keylen) : NULL;
        if (is_map) {
            /* A key with a NUL byte cannot be written in a path. */
            if (!key || strlen(key) != keylen)
                continue;
            if (len > 0 && len + 1 < PATH_BUF_MAX)
                w->buf[next++] = '.';
            next = path_append_key(w->buf, next, PATH_BUF_MAX, key, keylen);
        } else {
            int added = snprintf(w->buf + len, PATH_BUF_MAX - len, "[%zu]", i);
            bool fits = added > 0 && len + (size_t)added < PATH_BUF_MAX;
            next = fits ? len + (size_t)added : (size_t)-1;
        }
        if (next == (size_t)-1)
            continue; /* too long to sample; such paths are not what we time */
        walk(w, child, next, segments + (is_map ? 1 : 0));
        w->buf[len] = '\0';
    }
}

static void walk(walker *w, const snapconf_node *node, size_t len, unsigned segments)
{
    if (matches(w, node, segments))
        offer(w, node);
    /* Below the wanted depth only sequence items keep the segment count. */
    bool is_seq = snapconf_node_type(node) == SNAPCONF_TYPE_SEQ;
    if (segments < w->q->segments || (segments == w->q->segments && is_seq))
        walk_children(w, node, len, segments);
}

int path_set_sample(const snapconf_node *base, const path_query *q, path_set *out)
{
    memset(out, 0, sizeof(*out));
    out->paths = calloc(q->max ? q->max : 1, sizeof(*out->paths));
    out->ints = calloc(q->max ? q->max : 1, sizeof(*out->ints));
    if (!out->paths || !out->ints) {
        path_set_free(out);
        return -1;
    }
    walker *w = calloc(1, sizeof(*w));
    if (!w) {
        path_set_free(out);
        return -1;
    }
    w->q = q;
    w->out = out;
    w->rng = q->seed;
    walk(w, base, 0, 0);
    int failed = w->failed;
    free(w);
    if (failed) {
        path_set_free(out);
        return -1;
    }
    return 0;
}

int path_set_compile(path_set *set)
{
    set->compiled = calloc(set->len ? set->len : 1, sizeof(*set->compiled));
    if (!set->compiled)
        return SNAPCONF_ENOMEM;
    for (size_t i = 0; i < set->len; i++) {
        int rc = snapconf_path_compile(set->paths[i], &set->compiled[i], NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void path_set_free(path_set *set)
{
    for (size_t i = 0; set->paths && i < set->len; i++)
        free(set->paths[i]);
    for (size_t i = 0; set->compiled && i < set->len; i++)
        snapconf_path_free(set->compiled[i]);
    free(set->paths);
    free(set->ints);
    free(set->compiled);
    memset(set, 0, sizeof(*set));
}
