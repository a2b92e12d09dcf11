/*
 * A mutable tree over immutable snapshots, for building a merged snapshot.
 *
 * A node is either borrowed (a subtree of some layer's snapshot, used as
 * is) or materialized (a mapping or sequence of its own whose entries are
 * again borrowed or materialized nodes).  Merging materializes only the
 * spine it changes: a drop-in that sets server.port materializes the root
 * and "server", and every other subtree stays a pointer into its layer.
 * The finished tree is laid out through the builder into one flat
 * snapshot.  Everything lives in an arena freed in one go.
 */
#ifndef SNAPCONF_MTREE_H
#define SNAPCONF_MTREE_H

#include "build.h"
#include "path.h"
#include "scalar.h"
#include "snapshot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snapconf__arena_chunk;

struct snapconf__mtree {
    struct snapconf__arena_chunk *chunks;
    int oom;
};

enum snapconf__mkind {
    SNAPCONF__M_BORROWED = 0, /* src is the value */
    SNAPCONF__M_MAP,
    SNAPCONF__M_SEQ,
    SNAPCONF__M_SCALAR, /* a scalar of its own (environment values) */
};

struct snapconf__mnode;

struct snapconf__mentry {
    const char *key; /* NULL in sequences */
    uint32_t len, hash;
    struct snapconf__mnode *val; /* NULL: deleted (kept for the index) */
};

struct snapconf__mnode {
    enum snapconf__mkind kind;
    const struct snapconf_node *src; /* BORROWED: the value; MAP, SEQ: where it was written */
    unsigned line, column;           /* position of MAP, SEQ and SCALAR nodes */
    struct snapconf__mentry *items;
    uint32_t n, cap;
    uint32_t *slots; /* MAP index over items (item + 1; 0 empty), or NULL */
    uint32_t mask;
    struct snapconf__scalar scalar; /* SCALAR */
    const char *text;               /* SCALAR: its text (strings) */
    size_t text_len;
};

void snapconf__mtree_init(struct snapconf__mtree *t);
void snapconf__mtree_fini(struct snapconf__mtree *t);

struct snapconf__mnode *snapconf__mtree_borrow(struct snapconf__mtree *t,
                                               const struct snapconf_node *src);
struct snapconf__mnode *snapconf__mtree_map(struct snapconf__mtree *t, unsigned line,
                                            unsigned column);
struct snapconf__mnode *snapconf__mtree_scalar(struct snapconf__mtree *t,
                                               const struct snapconf__scalar *v, const char *text,
                                               size_t len, unsigned line);

/* A copy of len bytes (NUL added) that lives as long as the tree. */
const char *snapconf__mtree_strdup(struct snapconf__mtree *t, const char *s, size_t len);

/* The node's type as a snapshot would report it. */
snapconf_type snapconf__mtree_type(const struct snapconf__mnode *m);

/* Makes a borrowed mapping or sequence a materialized one (no-op for
 * materialized nodes).  0 or SNAPCONF_ENOMEM. */
int snapconf__mtree_materialize(struct snapconf__mtree *t, struct snapconf__mnode *m);

/* The entry under key in a materialized map (deleted entries included),
 * or NULL. */
struct snapconf__mentry *snapconf__mtree_find(struct snapconf__mnode *map, const char *key,
                                              uint32_t len, uint32_t hash);

/* Appends an entry to a materialized map; the key is borrowed and must
 * outlive the tree.  NULL when out of memory. */
struct snapconf__mentry *snapconf__mtree_append(struct snapconf__mtree *t,
                                                struct snapconf__mnode *map, const char *key,
                                                uint32_t len, uint32_t hash,
                                                struct snapconf__mnode *val);

/* Merges the mapping src (from a layer) into the map node *dst by the
 * layer rules (snapconf.h); a null in src deletes when nulls_delete. */
int snapconf__mtree_merge(struct snapconf__mtree *t, struct snapconf__mnode **dst,
                          const struct snapconf_node *src, bool nulls_delete);

/* Sends the tree to the builder as events, depth first. */
int snapconf__mtree_emit(snapconf__builder *b, const struct snapconf__mnode *m);

#endif
