/*
 * jsonw.h - small helpers for writing the daemon's JSON bodies.
 *
 * Bodies that embed configuration values are written as text: the value
 * comes from render_json() (src/common), squeezed onto one line, and the
 * envelope's keys and strings are encoded by jansson.  One line matters for
 * Server-Sent Events, where a newline would end the "data:" field, and
 * keeps every body easy to grep.
 */
#ifndef SNAPCONFD_JSONW_H
#define SNAPCONFD_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>
#include <snapconf.h>

#include "render.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0), or 0
 * when the bytes there are not one. */
size_t jsonw_utf8_seq(const unsigned char *s, size_t n);

/*
 * A jansson string holding s, which may come from a client and so need not
 * be valid UTF-8: invalid bytes become U+FFFD.  NULL only when out of
 * memory.
 */
json_t *jsonw_string(const char *s);

/* Writes s as a JSON string literal (sanitized as jsonw_string() does).
 * Returns 0, or -1 when out of memory. */
int jsonw_put_string(FILE *out, const char *s);

/*
 * Writes node as JSON on one line, with the separators jansson uses by
 * default (", " and ": "): render_json()'s output without its layout.
 * With limit > 0, gives up (returning -1) once more than limit bytes would
 * be written, so that an enormous value fails early instead of filling
 * memory.  Returns 0, or -1 with err filled in.
 */
int jsonw_put_node(FILE *out, const snapconf_node *node, size_t limit, render_error *err);

/*
 * Encodes j (which this function releases) on one line followed by a
 * newline, into a malloc'd string; *len receives its length.  NULL when out
 * of memory.  flags are jansson encoding flags (e.g. JSON_REAL_PRECISION).
 */
char *jsonw_dump(json_t *j, size_t flags, size_t *len);

/* A memory stream (open_memstream) and what it wrote. */
struct jsonw_buf {
    FILE *f;
    char *data;
    size_t len;
};

/* Opens b->f; false when out of memory. */
bool jsonw_buf_open(struct jsonw_buf *b);

/* Closes b->f and hands over the text (NUL-terminated) in *len bytes;
 * NULL when writing failed (out of memory), in which case nothing is left
 * to free. */
char *jsonw_buf_close(struct jsonw_buf *b, size_t *len);

#endif /* SNAPCONFD_JSONW_H */
