/*
 * Reloading a live handle, its first load, and its layered state (the file
 * layers last published and the runtime overrides).  snapconf__reload()
 * itself is declared in publish.h, where the watcher finds it.
 */
#ifndef SNAPCONF_RELOAD_H
#define SNAPCONF_RELOAD_H

#include "layer.h"
#include "publish.h"

#include <stdbool.h>

/* True when the handle publishes merges rather than one file as loaded. */
bool snapconf__layered(const snapconf *h);

/* The first snapshot to publish, validated: the saved overrides are read
 * from the state file, then the file (or its layers) loaded. */
int snapconf__first_snapshot(snapconf *h, snapconf_snap **out, snapconf_error *err);

/* Merges files and overrides into a validated candidate.  Writer only. */
int snapconf__layered_build(snapconf *h, const struct snapconf__layer_set *files,
                            struct snapconf__layer *const *overrides, size_t noverrides,
                            const struct snapconf__layer *fresh, snapconf_snap **out,
                            snapconf_error *e);

/* Frees the layered state; at close. */
void snapconf__layered_fini(snapconf *h);

#endif
