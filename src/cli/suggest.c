/*
 * suggest.c - saying why a path has no value, and which key was probably
 * meant.
 *
 * A typo in a path is the most common reason for "not found", and the
 * library only says that the path as a whole failed.  Walking the path one
 * segment at a time from the root tells which segment failed and what was
 * there instead.
 */
#include "cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys longer than this are not compared; typos in them are rare and the
 * distance table stays on the stack. */
#define SUGGEST_KEY_MAX 128

/*
 * Returns the length of the first segment of path: up to the next '.' or
 * '[' outside double quotes.  The path has been compiled, so it is well
 * formed and the quotes are balanced.
 */
static size_t segment_length(const char *path)
{
    bool quoted = false;
    size_t i;

    for (i = 0; path[i] != '\0'; i++) {
        char c = path[i];

        if (quoted) {
            if (c == '\\' && path[i + 1] != '\0')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if ((c == '.' || c == '[') && i > 0) {
            break;
        }
    }
    return i;
}

/* Levenshtein distance over bytes; both lengths at most SUGGEST_KEY_MAX. */
static size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t row[SUGGEST_KEY_MAX + 1];

    for (size_t j = 0; j <= blen; j++)
        row[j] = j;
    for (size_t i = 1; i <= alen; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= blen; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[blen];
}

/* The key of map closest to want, or NULL when none is close enough to be
 * a likely typo (at most one edit per three characters). */
static const char *closest_key(const snapconf_node *map, const char *want, size_t wantlen)
{
    const char *best = NULL;
    size_t best_dist = (size_t)-1;

    if (wantlen > SUGGEST_KEY_MAX)
        return NULL;
    for (size_t i = 0; i < snapconf_node_size(map); i++) {
        const snapconf_node *child = snapconf_node_at(map, i);
        size_t len = 0;
        const char *key = child != NULL ? snapconf_node_key(child, &len) : NULL;

        /* A key with a NUL byte cannot be typed into a path anyway. */
        if (key == NULL || len > SUGGEST_KEY_MAX || memchr(key, '\0', len) != NULL)
            continue;
        size_t d = edit_distance(want, wantlen, key, len);
        size_t longer = len > wantlen ? len : wantlen;
        if (d * 3 <= longer && d < best_dist) {
            best = key;
            best_dist = d;
        }
    }
    return best;
}

/* A key segment's text without its quotes and escapes, in buf. */
static size_t unquote_key(const char *seg, size_t len, char *buf)
{
    size_t n = 0;

    if (len < 2 || seg[0] != '"') {
        memcpy(buf, seg, len);
        return len;
    }
    for (size_t i = 1; i + 1 < len; i++) {
        if (seg[i] == '\\')
            i++;
        buf[n++] = seg[i];
    }
    return n;
}

bool cli_write_key(FILE *f, const char *key, size_t len)
{
    /* The library's canonical form: bare unless the key is empty or holds
     * a character that the path syntax gives a meaning. */
    bool bare = len > 0;

    if (memchr(key, '\0', len) != NULL)
        return false;
    for (size_t i = 0; i < len && bare; i++)
        bare = strchr(".[]\"", key[i]) == NULL;
    if (bare) {
        fwrite(key, 1, len, f);
        return true;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (key[i] == '"' || key[i] == '\\')
            fputc('\\', f);
        fputc(key[i], f);
    }
    fputc('"', f);
    return true;
}

/*
 * Prints "did you mean 'PATH'?" for path with the segment after its first
 * parent_len bytes replaced by key.  The rest of the path is kept when the
 * corrected path has a value, so that a typo in the middle gets the whole
 * path back ("databse.primary.host"), and dropped otherwise.
 */
static void print_suggestion(const snapconf_node *root, const char *path, size_t parent_len,
                             const char *key, const char *rest)
{
    const snapconf_node *found;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);

    if (f == NULL)
        return;
    fprintf(f, "%.*s%s", (int)parent_len, path, parent_len > 0 ? "." : "");
    cli_write_key(f, key, strlen(key));
    long corrected_len = ftell(f);
    fputs(rest, f);
    if (fclose(f) != 0) {
        free(text);
        return;
    }
    if (rest[0] != '\0' && corrected_len > 0 && snapconf_node_find(root, text, &found) != 0)
        text[corrected_len] = '\0';
    fprintf(stderr, "snapconf: did you mean '%s'?\n", text);
    free(text);
}

/*
 * Says why segment seg (len bytes, as written in the path) has no value in
 * parent, the node at the first parent_len bytes of path.
 */
static void explain_segment(const snapconf_node *root, const snapconf_node *parent,
                            const char *path, size_t parent_len, const char *seg, size_t len)
{
    snapconf_type type = snapconf_node_type(parent);
    bool is_index = seg[0] == '[';
    const char *where = parent_len > 0 ? path : "the root";
    int wlen = parent_len > 0 ? (int)parent_len : (int)strlen(where);

    if (type == SNAPCONF_TYPE_SEQ && is_index) {
        fprintf(stderr, "snapconf: %.*s has %zu items\n", wlen, where, snapconf_node_size(parent));
    } else if (type == SNAPCONF_TYPE_SEQ) {
        fprintf(stderr, "snapconf: %.*s is a sequence; select an item with [N]\n", wlen, where);
    } else if (type == SNAPCONF_TYPE_MAP && is_index) {
        fprintf(stderr, "snapconf: %.*s is a mapping, not a sequence\n", wlen, where);
    } else if (type == SNAPCONF_TYPE_MAP) {
        char *want = malloc(len + 1);
        if (want == NULL)
            return;
        size_t wantlen = unquote_key(seg, len, want);
        const char *key = closest_key(parent, want, wantlen);
        if (key != NULL)
            print_suggestion(root, path, parent_len, key, seg + len);
        free(want);
    } else {
        fprintf(stderr, "snapconf: %.*s is a scalar (%s), not a mapping or a sequence\n", wlen,
                where, snapconf_type_name(type));
    }
}

void cli_explain_missing(const snapconf_node *root, const char *path)
{
    const snapconf_node *node = root;
    size_t done = 0; /* bytes of path resolved so far, to node */

    while (path[done] != '\0') {
        size_t skip = path[done] == '.' ? 1 : 0;
        const char *seg = path + done + skip;
        size_t len = segment_length(seg);
        char *text = strndup(seg, len);
        const snapconf_node *next;
        int rc;

        if (text == NULL)
            return;
        /* A lone segment is a path of its own, relative to node. */
        rc = snapconf_node_find(node, text, &next);
        free(text);
        if (rc == SNAPCONF_ENOTFOUND) {
            explain_segment(root, node, path, done, seg, len);
            return;
        }
        if (rc < 0)
            return;
        node = next;
        done += skip + len;
    }
}
