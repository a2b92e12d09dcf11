/*
 * Path syntax (see snapconf.h): one segment at a time, with no allocation,
 * shared by string lookups and by snapconf_path_compile().
 */
#ifndef SNAPCONF_PATH_H
#define SNAPCONF_PATH_H

#include "hash.h"
#include "snapshot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Escaped quoted segments are unescaped into a buffer of this size when a
 * path is looked up as a string (compiled paths have no such limit). */
#define SNAPCONF__SEGMENT_BUF 1024

struct snapconf__seg {
    const char *key; /* key bytes (into the path or the unescape buffer) */
    uint32_t len;
    uint32_t hash;
    uint32_t index;
    bool is_index;
};

/* Characters that end a bare key: NUL . [ ] " (a table: one load a char). */
extern const unsigned char snapconf__path_stop[256];

static inline bool snapconf__bare_char(char c)
{
    return !snapconf__path_stop[(unsigned char)c];
}

static inline int snapconf__seg_index(const char **pp, struct snapconf__seg *s)
{
    const char *p = *pp + 1;
    uint64_t v = 0;
    const char *digits = p;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX) {
            *pp = digits;
            return SNAPCONF_EPATH;
        }
        p++;
    }
    if (p == digits || *p != ']') {
        *pp = p;
        return SNAPCONF_EPATH;
    }
    s->is_index = true;
    s->index = (uint32_t)v;
    *pp = p + 1;
    return 0;
}

/* A quoted key: \" and \\ are the only escapes.  Unescapes into buf when
 * needed; SNAPCONF_ELIMIT when buf is too small. */
static inline int snapconf__seg_quoted(const char **pp, struct snapconf__seg *s, char *buf,
                                       size_t bufsize)
{
    const char *p = *pp + 1, *start = p;
    bool escaped = false;
    for (; *p != '"'; p++) {
        if (*p == '\0') {
            *pp = p;
            return SNAPCONF_EPATH;
        }
        if (*p == '\\') {
            if (p[1] != '"' && p[1] != '\\') {
                *pp = p;
                return SNAPCONF_EPATH;
            }
            escaped = true;
            p++;
        }
    }
    s->key = start;
    s->len = (uint32_t)(p - start);
    if (escaped) {
        size_t n = 0;
        for (const char *q = start; q < p; q++) {
            if (*q == '\\')
                q++;
            if (n == bufsize)
                return SNAPCONF_ELIMIT;
            buf[n++] = *q;
        }
        s->key = buf;
        s->len = (uint32_t)n;
    }
    *pp = p + 1;
    return 0;
}

/* After a segment: the end, an index, or a dot that a key must follow. */
static inline int snapconf__seg_after(const char **pp)
{
    const char *p = *pp;
    if (*p == '.') {
        p++;
        if (*p != '"' && !snapconf__bare_char(*p)) {
            *pp = p;
            return SNAPCONF_EPATH;
        }
    } else if (*p != '\0' && *p != '[') {
        return SNAPCONF_EPATH;
    }
    *pp = p;
    return 0;
}

/*
 * Parses the segment at *pp into s.  Returns 0 (and moves *pp past the
 * segment and a following '.'), 1 at the end of the path, or SNAPCONF_EPATH
 * (or SNAPCONF_ELIMIT) with *pp at the offending character.
 */
static inline int snapconf__seg_next(const char **pp, struct snapconf__seg *s, char *buf,
                                     size_t bufsize)
{
    const char *p = *pp;
    int rc;
    if (*p == '\0')
        return 1;
    s->is_index = false;
    if (*p == '[') {
        rc = snapconf__seg_index(pp, s);
    } else if (*p == '"') {
        rc = snapconf__seg_quoted(pp, s, buf, bufsize);
    } else {
        const char *start = p;
        while (snapconf__bare_char(*p))
            p++;
        if (p == start)
            return SNAPCONF_EPATH;
        s->key = start;
        s->len = (uint32_t)(p - start);
        *pp = p;
        rc = 0;
    }
    if (rc)
        return rc;
    if (!s->is_index)
        s->hash = snapconf__key_hash(s->key, s->len);
    return snapconf__seg_after(pp);
}

/* One step down from cur (NULL when there is nothing there). */
static inline const struct snapconf_node *snapconf__step(const struct snapconf_node *cur,
                                                         const struct snapconf__seg *s)
{
    if (s->is_index) {
        if (snapconf__type(cur) != SNAPCONF_TYPE_SEQ || s->index >= cur->v.c.count)
            return NULL;
        return snapconf__children(cur) + s->index;
    }
    if (snapconf__type(cur) != SNAPCONF_TYPE_MAP)
        return NULL;
    return snapconf__map_get(cur, s->key, s->len, s->hash);
}

/* Writes the canonical text of one segment (with its leading dot unless
 * first); returns the bytes written, or with out == NULL the bytes needed. */
size_t snapconf__canonical_seg(const struct snapconf__seg *s, bool first, char *out);

/* True when the canonical path is prefix or lies below it ("" holds all). */
bool snapconf__path_within(const char *path, const char *prefix);

/* Finds a compiled path from the snapshot's root, through its memo. */
int snapconf__path_find(const snapconf_snap *snap, const snapconf_path *path,
                        const struct snapconf_node **out);

/* Follows a compiled path from a node: 0 or SNAPCONF_ENOTFOUND. */
int snapconf__path_walk(const struct snapconf_node *from, const snapconf_path *path,
                        const struct snapconf_node **out);

#endif
