/*
 * origin.h - provenance as JSON: which layers set the value at a path
 * (the "origin" array of GET /v1/keys) and the runtime overrides in force
 * (GET /v1/overrides), both worked out from a pinned snapshot with
 * snapconf_explain().
 *
 * The layers' values are written as text by jsonw_put_node(), like every
 * configuration value the daemon serves, so that a float keeps its
 * shortest form and a key its bytes.
 */
#ifndef SNAPCONFD_ORIGIN_H
#define SNAPCONFD_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <snapconf.h>

#include "render.h"

/* The layer the live value at a path comes from, for "source". */
struct origin_source {
    bool found;
    snapconf_layer_kind kind;
    const char *name; /* borrowed from the snapshot */
    unsigned line, column;
};

/*
 * Writes the JSON array of the origins of path (canonical) in snap, lowest
 * layer first: {"layer", "name", "path", "line", "column", "role",
 * "value"}, "value" only when the layer has a node there.  Fills *src with
 * the live value's own layer: the last one that set or merged the value at
 * path itself (else the last that set or merged anything under it).
 * Returns 0 (an empty array when no layer ever set the path), or -1 with
 * err filled in (out of memory, a value that cannot be written).
 */
int origin_write(FILE *f, const snapconf_snap *snap, const char *path, struct origin_source *src,
                 render_error *err);

/*
 * Writes the JSON array of the runtime overrides in force in snap at or
 * below prefix (canonical; "" for all), in the order they were made:
 * {"op": "set", "path", "value", "type"} or {"op": "unset", "path"}.
 * *count receives their number.  With f NULL, only counts them.  Returns 0
 * or -1 with err filled in.
 */
int origin_write_overrides(FILE *f, const snapconf_snap *snap, const char *prefix, size_t *count,
                           render_error *err);

/* Whether the canonical path lies at or below the canonical prefix ("" is
 * above everything). */
bool origin_path_within(const char *path, const char *prefix);

#endif /* SNAPCONFD_ORIGIN_H */
