/*
 * Building a snapshot from a stream of YAML-like events, without recursion.
 *
 * Each open container has a frame on a stack; finished children wait on a
 * "pending" stack until their container closes, at which point they are
 * moved, contiguous and in document order, to the output array.  The
 * builder also owns anchors and aliases (an alias shares the anchored
 * subtree instead of copying it, so an alias bomb costs no memory) and merge
 * keys, which it resolves when their mapping closes.  Nothing here knows
 * libyaml: the loader translates its events into these calls.
 */
#ifndef SNAPCONF_BUILD_H
#define SNAPCONF_BUILD_H

#include "snapconf.h"
#include "scalar.h"
#include "snapshot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snapconf__pending;
struct snapconf__frame;
struct snapconf__anchor;

typedef struct snapconf__builder {
    const char *name;
    snapconf_options opts;
    snapconf_error *err;

    struct snapconf_node *out; /* placed nodes, children before parents */
    uint64_t *out_size;        /* expanded node count of each placed node */
    size_t out_len, out_cap;

    struct snapconf__pending *pend;
    size_t pend_len, pend_cap;

    struct snapconf__frame *frames;
    size_t depth, frames_cap;

    char *pool; /* keys and strings */
    size_t pool_len, pool_cap;

    uint32_t *intern; /* key interning: slots hold pool offsets, 0 empty */
    size_t intern_cap, intern_used;

    uint32_t *index; /* indexes of large mappings, headers and slots */
    size_t index_len, index_cap;

    uint32_t *scratch; /* duplicate and merge checks */
    size_t scratch_cap;

    struct snapconf__anchor *anchors;
    size_t anchors_len, anchors_cap;
    uint32_t *anchor_index; /* slots hold anchor number + 1 */
    size_t anchor_index_cap;

    struct snapconf_node root;
    uint64_t root_size;
    int have_root;
    uint64_t total_nodes; /* running count checked against max_nodes */
} snapconf__builder;

void snapconf__builder_init(snapconf__builder *b, const char *name, const snapconf_options *opts,
                            snapconf_error *err);
void snapconf__builder_fini(snapconf__builder *b);

/* A scalar event.  text is the scalar's text (any bytes), value its typed
 * value; tag (may be NULL) is kept for strings with an uninterpreted tag;
 * plain says it may act as a merge key "<<".  anchor may be NULL. */
struct snapconf__scalar_event {
    const char *text;
    size_t len;
    struct snapconf__scalar value;
    const char *tag;
    int quoted;
    int plain;
    const char *anchor;
    unsigned line, column;
};

/* True when the next scalar will be a mapping key (keys are text, never
 * typed, so the loader skips typing them). */
bool snapconf__build_expecting_key(const snapconf__builder *b);

int snapconf__build_scalar(snapconf__builder *b, const struct snapconf__scalar_event *ev);
int snapconf__build_begin(snapconf__builder *b, snapconf_type type, const char *anchor,
                          unsigned line, unsigned column);
int snapconf__build_end(snapconf__builder *b);
int snapconf__build_alias(snapconf__builder *b, const char *anchor, unsigned line, unsigned column);

/*
 * Lays the finished tree out in one block and returns it as a snapshot the
 * caller owns.  source is recorded as the snapshot's source name; hash is
 * its content hash in hex.  An empty stream yields an empty mapping.
 */
int snapconf__build_finish(snapconf__builder *b, const char *hash, snapconf_snap **out);

#endif
