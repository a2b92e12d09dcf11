/*
 * The state file: runtime overrides saved across restarts.
 *
 * One YAML document, written by the library and read back at open:
 *
 *     # snapconf runtime overrides: written by snapconf_set() ...
 *     version: 1
 *     overrides:
 *       - {op: set, path: "server.port", value: "9090"}
 *       - {op: unset, path: "feature.beta"}
 *
 * value is the YAML text the override was given, kept as text (a quoted
 * string) so that it reads back exactly as it was set.  Writes are atomic:
 * a temporary file in the same directory, fsync, rename over the state
 * file, fsync of the directory, so a crash at any step leaves the old list
 * or the new one, whole.
 */
#ifndef SNAPCONF_STATE_H
#define SNAPCONF_STATE_H

#include "snapconf.h"

#include <stdbool.h>
#include <stddef.h>

struct snapconf__override {
    bool unset;
    char *path;  /* canonical */
    char *value; /* YAML text; NULL for an unset */
};

/* Writes the list atomically.  SNAPCONF_EIO (err naming the file and the
 * step that failed, sys_errno set) or SNAPCONF_ENOMEM. */
int snapconf__state_save(const char *file, const struct snapconf__override *ov, size_t n,
                         snapconf_error *err);

/* Reads the list; a missing file is an empty list (0, *n = 0).  A file that
 * is not a state file fails with its position and what to do. *out is
 * malloc'd, freed with snapconf__overrides_free(). */
int snapconf__state_load(const char *file, const snapconf_options *opts,
                         struct snapconf__override **out, size_t *n, snapconf_error *err);

void snapconf__overrides_free(struct snapconf__override *ov, size_t n);

#endif
