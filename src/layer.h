/*
 * Layers: the sources a merged snapshot is built from (see "Layered
 * configuration" in snapconf.h), and the merge itself.
 *
 * A layer is immutable once made and reference-counted, so that a runtime
 * override can reuse the file layers of the published snapshot, and so
 * that every merged snapshot keeps the layers it was built from alive for
 * snapconf_explain().  Dependency direction: snapshot <- loader <- layer <-
 * publication.
 */
#ifndef SNAPCONF_LAYER_H
#define SNAPCONF_LAYER_H

#include "snapconf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* More drop-ins than this in one directory is a mistake, not a config: the
 * loader refuses them and the watcher looks at no more. */
#define SNAPCONF__MAX_DROPINS 4096

struct snapconf__layer {
    _Atomic size_t refs;
    snapconf_layer_kind kind;
    char *name;          /* FILE, DROPIN: the path; ENV: "environment"; RUNTIME: "runtime" */
    snapconf_snap *snap; /* the layer's tree; NULL for a runtime unset */
    /* How the last reference lets go of snap: NULL frees it; a published
     * snapshot borrowed as a layer is released (snapconf_snap_release). */
    void (*release)(const snapconf_snap *snap);
    /* ENV: the scalar at line i + 1 of snap came from variable env_names[i]. */
    char **env_names;
    size_t env_count;
    /* RUNTIME: what snapconf_set() or snapconf_unset() was given. */
    bool unset;
    char *op_path;  /* canonical */
    char *op_value; /* the YAML text; NULL for an unset */
};

/* The file layers of one reload: the main file, the drop-ins, and the
 * environment, with a hash over all of them to tell an unchanged set. */
struct snapconf__layer_set {
    struct snapconf__layer **items;
    size_t n;
    char hash[33];
};

/* A new layer holding snap (freed, or released, with the last reference
 * to the layer); copies name.  NULL when out of memory, snap then still
 * the caller's. */
struct snapconf__layer *snapconf__layer_new(snapconf_layer_kind kind, const char *name,
                                            snapconf_snap *snap);
struct snapconf__layer *snapconf__layer_ref(struct snapconf__layer *l);
void snapconf__layer_unref(struct snapconf__layer *l);

/* A runtime override layer: path canonicalised, yaml_value parsed (NULL
 * for an unset).  Errors: EPATH, EPARSE (position within the value),
 * ELIMIT, ENOMEM. */
int snapconf__layer_override(const char *path, const char *yaml_value, const snapconf_options *opts,
                             struct snapconf__layer **out, snapconf_error *err);

/*
 * The runtime overrides saved in a state file (state.h), as layers, oldest
 * first: *out is a malloc'd array of n layers, each one reference the
 * caller owns; NULL and 0 for a missing file or an empty list.  An
 * override that no longer parses fails with the file named.
 */
int snapconf__layers_from_state(const char *file, const snapconf_options *opts,
                                struct snapconf__layer ***out, size_t *n, snapconf_error *err);

/*
 * Reads the main file (or, when main is not NULL, uses it: one reference
 * taken), every drop-in and the environment into a layer set.  A missing
 * main file with opts->allow_missing set is an empty mapping.  Any layer
 * that fails fails the whole set, err naming its file.
 */
int snapconf__layers_load(const char *path, const char *const *dropin_dirs, const char *env_prefix,
                          const snapconf_options *opts, struct snapconf__layer *main,
                          struct snapconf__layer_set **out, snapconf_error *err);
void snapconf__layer_set_free(struct snapconf__layer_set *set);

/* The environment layer for prefix over the file layers (whose keys its
 * segments match case-insensitively), or *out = NULL when no variable has
 * the prefix. */
int snapconf__env_layer(const char *prefix, struct snapconf__layer *const *files, size_t n,
                        const snapconf_options *opts, struct snapconf__layer **out,
                        snapconf_error *err);

/*
 * Merges layers[0..n) (the main file first, runtime overrides last) into
 * one new flat snapshot, which keeps a reference to every layer for
 * snapconf_explain().  source names the snapshot; its content hash covers
 * every layer.  fresh is the override being made now, if any: its errors
 * are the caller's, where an older override's say how to drop it.  Errors: ETYPE, ENOTFOUND (a
 * runtime override that no longer applies, err naming it), ELIMIT, ENOMEM.
 */
int snapconf__merge(struct snapconf__layer *const *layers, size_t n, const char *source,
                    const snapconf_options *opts, const struct snapconf__layer *fresh,
                    snapconf_snap **out, snapconf_error *err);

/* The layers a merged snapshot holds (snap->layers). */
struct snapconf__snap_layers {
    size_t n;
    struct snapconf__layer *items[];
};

#endif
