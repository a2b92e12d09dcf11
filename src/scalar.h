/* Typing scalars by the YAML 1.2 core schema. */
#ifndef SNAPCONF_SCALAR_H
#define SNAPCONF_SCALAR_H

#include "snapconf.h"

#include <stddef.h>
#include <stdint.h>

struct snapconf__scalar {
    snapconf_type type; /* NULL, BOOL, INT, FLOAT or STRING */
    union {
        int64_t i;
        double d;
        int b;
    } v;
};

/*
 * Resolves a plain (unquoted, untagged) scalar of len bytes.  Returns 0, or
 * SNAPCONF_ERANGE for text that is a number by the core schema but does not
 * fit: an integer beyond 64 bits (out->type is then STRING) or a float
 * beyond a double's range (out->type is then FLOAT), or SNAPCONF_ENOMEM
 * when a float's text (128 bytes or more) cannot be copied for strtod.
 */
int snapconf__resolve_plain(const char *s, size_t len, struct snapconf__scalar *out);

/*
 * Parses the text as exactly one type, for explicit tags (!!int, !!float,
 * !!bool, !!null).  Returns 0, SNAPCONF_ETYPE when the text is not of that
 * type, SNAPCONF_ERANGE for an integer beyond 64 bits, or SNAPCONF_ENOMEM as
 * above.  A !!float accepts integer text too.
 */
int snapconf__parse_as(snapconf_type type, const char *s, size_t len, struct snapconf__scalar *out);

#endif
