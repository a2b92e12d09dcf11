/*
 * The layout of an immutable snapshot.
 *
 * A snapshot is one malloc'd block:
 *
 *     [struct snapconf_snap][nodes ...][map indexes ...][string pool ...]
 *
 * Nodes refer to their strings, children and indexes by byte offsets
 * relative to the node itself, so a node needs no pointer back to its
 * snapshot (the public node functions take just the node) and the whole
 * block could be moved or mapped without fixing anything up.  The children
 * of a container are contiguous, in document order; the root is the last
 * node.  Mappings with more than SNAPCONF__SMALL_MAP entries also get an
 * open-addressing index, so a lookup costs O(1) expected at every level.
 */
#ifndef SNAPCONF_SNAPSHOT_H
#define SNAPCONF_SNAPSHOT_H

#include "snapconf.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* Up to this many entries a linear scan of the hashes beats an index. */
#define SNAPCONF__SMALL_MAP 8

/* Node flags, stored above the type in the meta bits. */
enum {
    SNAPCONF__F_QUOTED = 1u << 0,  /* quoted or block scalar */
    SNAPCONF__F_TAGGED = 1u << 1,  /* tag text follows the string's NUL */
    SNAPCONF__F_INDEXED = 1u << 2, /* a mapping whose c.off points to an index */
    SNAPCONF__F_MERGE = 1u << 3,   /* build time only: the value of a "<<" key */
};

#define SNAPCONF__COL_BITS 24
#define SNAPCONF__COL_MAX ((1u << SNAPCONF__COL_BITS) - 1)

struct snapconf_node {
    int32_t key;    /* offset to the key's bytes (length stored just before), 0: none */
    uint32_t khash; /* hash of the key, for lookups without touching the key */
    uint32_t line;
    uint32_t meta; /* column (low 24 bits), type (4 bits), flags (4 bits) */
    union {
        int64_t i;
        double d;
        int b;
        struct {
            int32_t off; /* offset to the bytes, NUL-terminated */
            uint32_t len;
        } s;
        struct {
            int32_t off; /* offset to the first child, or to the index when INDEXED */
            uint32_t count;
        } c;
    } v;
};

/* The index of a large mapping.  slot[i] is 0 when empty, else child + 1. */
struct snapconf__map_index {
    int32_t first; /* offset from this struct to the first child */
    uint32_t mask; /* number of slots - 1; a power of two minus one */
    uint32_t slot[];
};

/*
 * Where each live compiled path led in this snapshot, filled in by the first
 * lookup and read by every later one, so that a hot path costs one load
 * instead of a walk.  The content stays immutable; this is a cache of
 * answers about it.  A compiled path owns a slot while it lives, and each
 * taking of a slot gets a new incarnation number, so an entry is only ever
 * read back by the path that wrote it.  An entry is one 64-bit word
 * (incarnation << 26 | answer), stored and loaded whole; racing readers
 * that fill the same slot all write the same word.  Incarnations have 38
 * bits: reusing one slot 2^38 times while one snapshot stays alive is what
 * it would take to mistake an entry, and no program lives that long.
 */
#define SNAPCONF__MEMO_SLOTS 1024
#define SNAPCONF__MEMO_NODE_BITS 26
#define SNAPCONF__MEMO_NODE_MASK ((UINT64_C(1) << SNAPCONF__MEMO_NODE_BITS) - 1)
#define SNAPCONF__MEMO_ABSENT SNAPCONF__MEMO_NODE_MASK /* "no value at that path" */
#define SNAPCONF__MEMO_INC_MAX (UINT64_MAX >> SNAPCONF__MEMO_NODE_BITS)

struct snapconf_snap {
    /* References of a snapshot owned by a live handle: one while it is
     * published, one per snapconf_snap_hold().  Unused otherwise. */
    _Atomic uint64_t refs;
    uint64_t generation;
    const struct snapconf_node *root;
    const struct snapconf_node *nodes; /* the first node */
    size_t memory;
    size_t node_count;
    const char *source;
    char content_hash[33];
    /* The layers a merged snapshot was built from, for snapconf_explain();
     * NULL for a snapshot of one file.  Owned, and released by layers_free
     * (set by layer.c, so that snapshots need not know about layers). */
    struct snapconf__snap_layers *layers;
    void (*layers_free)(struct snapconf__snap_layers *layers);
    _Atomic uint64_t memo[SNAPCONF__MEMO_SLOTS];
};

static inline const char *snapconf__at(const void *base, int32_t off)
{
    return (const char *)base + off;
}

static inline snapconf_type snapconf__type(const struct snapconf_node *n)
{
    return (snapconf_type)((n->meta >> SNAPCONF__COL_BITS) & 0xfu);
}

static inline unsigned snapconf__flags(const struct snapconf_node *n)
{
    return n->meta >> (SNAPCONF__COL_BITS + 4);
}

static inline uint32_t snapconf__meta(snapconf_type type, unsigned flags, unsigned column)
{
    if (column > SNAPCONF__COL_MAX)
        column = SNAPCONF__COL_MAX;
    return column | ((uint32_t)type << SNAPCONF__COL_BITS) | (flags << (SNAPCONF__COL_BITS + 4));
}

static inline uint32_t snapconf__key_len(const char *key)
{
    uint32_t len;
    memcpy(&len, key - sizeof len, sizeof len);
    return len;
}

static inline const struct snapconf_node *snapconf__children(const struct snapconf_node *n)
{
    const char *p = snapconf__at(n, n->v.c.off);
    if (snapconf__flags(n) & SNAPCONF__F_INDEXED) {
        const struct snapconf__map_index *ix = (const struct snapconf__map_index *)(const void *)p;
        p = snapconf__at(ix, ix->first);
    }
    return (const struct snapconf_node *)(const void *)p;
}

static inline int snapconf__is_container(const struct snapconf_node *n)
{
    snapconf_type t = snapconf__type(n);
    return t == SNAPCONF_TYPE_MAP || t == SNAPCONF_TYPE_SEQ;
}

/* Equality of len bytes, inline: keys are short, and a call to memcmp
 * costs more than comparing them.  Overlapping word loads never read past
 * either buffer. */
static inline int snapconf__bytes_equal(const char *a, const char *b, size_t len)
{
    uint64_t x, y;
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return 0;
        }
        memcpy(&x, a + len - 8, 8);
        memcpy(&y, b + len - 8, 8);
        return x == y;
    }
    if (len >= 4) {
        uint32_t p, q, p2, q2;
        memcpy(&p, a, 4);
        memcpy(&q, b, 4);
        memcpy(&p2, a + len - 4, 4);
        memcpy(&q2, b + len - 4, 4);
        return p == q && p2 == q2;
    }
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static inline int snapconf__key_equal(const struct snapconf_node *c, const char *key, size_t len)
{
    const char *k = snapconf__at(c, c->key);
    return snapconf__key_len(k) == len && snapconf__bytes_equal(k, key, len);
}

/* The child of map under key (len bytes, hash h), or NULL.  Inline because
 * it is most of the cost of every lookup. */
static inline const struct snapconf_node *snapconf__map_get(const struct snapconf_node *map,
                                                            const char *key, size_t len, uint32_t h)
{
    const char *p = snapconf__at(map, map->v.c.off);
    if (!(snapconf__flags(map) & SNAPCONF__F_INDEXED)) {
        const struct snapconf_node *c = (const struct snapconf_node *)(const void *)p;
        for (uint32_t i = 0, n = map->v.c.count; i < n; i++)
            if (c[i].khash == h && snapconf__key_equal(&c[i], key, len))
                return &c[i];
        return NULL;
    }
    const struct snapconf__map_index *ix = (const struct snapconf__map_index *)(const void *)p;
    const struct snapconf_node *c =
        (const struct snapconf_node *)(const void *)snapconf__at(ix, ix->first);
    for (uint32_t pos = h & ix->mask;; pos = (pos + 1) & ix->mask) {
        uint32_t s = ix->slot[pos];
        if (s == 0)
            return NULL;
        if (c[s - 1].khash == h && snapconf__key_equal(&c[s - 1], key, len))
            return &c[s - 1];
    }
}

#endif
