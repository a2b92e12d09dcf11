/* The loader's pieces, for the publication layer: read the bytes, hash them,
 * and only build a snapshot when they differ from the published one. */
#ifndef SNAPCONF_LOADER_H
#define SNAPCONF_LOADER_H

#include "snapconf.h"

#include <stddef.h>

/* Reads a regular file of at most max bytes into a malloc'd buffer. */
int snapconf__read_file(const char *path, size_t max, char **data, size_t *len,
                        snapconf_error *err);

/* XXH3-128 of the bytes as 32 hex digits. */
void snapconf__content_hash(const char *data, size_t len, char out[33]);

/* Builds a snapshot from bytes whose hash the caller already computed. */
int snapconf__load_bytes(const char *name, const char *data, size_t len, const char *hash,
                         const snapconf_options *opts, snapconf_snap **out, snapconf_error *err);

#endif
