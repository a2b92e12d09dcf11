/*
 * compact.c - a node as JSON on one line, for "snapconf watch".
 *
 * The scalars are encoded as render_json() encodes them (jansson for every
 * string, key and number; each float in its shortest round-trip form; the
 * YAML names of infinities and NaN as strings), only the layout differs:
 * no spaces and no newlines, so that one change stays one line.
 */
#include "cli.h"
#include "render.h"

#include <jansson.h>
#include <stdbool.h>

/* Writes json, which this function releases. */
static int put_json(FILE *out, json_t *json, size_t flags)
{
    int rc;

    if (json == NULL)
        return -1;
    rc = json_dumpf(json, out, JSON_ENCODE_ANY | JSON_COMPACT | flags);
    json_decref(json);
    return rc;
}

static int scalar_compact(FILE *out, const snapconf_node *node)
{
    const char *s;
    size_t len;
    int64_t i;
    double d;
    bool b;
    char num[RENDER_DOUBLE_MAX];
    int prec;

    switch (snapconf_node_type(node)) {
    case SNAPCONF_TYPE_NULL:
        return put_json(out, json_null(), 0);
    case SNAPCONF_TYPE_BOOL:
        return snapconf_node_bool(node, &b) < 0 ? -1 : put_json(out, json_boolean(b), 0);
    case SNAPCONF_TYPE_INT:
        return snapconf_node_int(node, &i) < 0 ? -1 : put_json(out, json_integer(i), 0);
    case SNAPCONF_TYPE_FLOAT:
        if (snapconf_node_double(node, &d) < 0)
            return -1;
        prec = render_double(d, num);
        if (prec == 0)
            return put_json(out, json_string(num), 0);
        return put_json(out, json_real(d), JSON_REAL_PRECISION(prec));
    case SNAPCONF_TYPE_STRING:
        if (snapconf_node_str(node, &s, &len) < 0)
            return -1;
        return put_json(out, json_stringn(s, len), 0);
    default:
        return -1;
    }
}

int cli_print_compact(FILE *out, const snapconf_node *node)
{
    snapconf_type type = snapconf_node_type(node);
    bool is_map = type == SNAPCONF_TYPE_MAP;
    size_t n;

    if (!is_map && type != SNAPCONF_TYPE_SEQ)
        return scalar_compact(out, node);
    n = snapconf_node_size(node);
    fputc(is_map ? '{' : '[', out);
    for (size_t i = 0; i < n; i++) {
        const snapconf_node *child = snapconf_node_at(node, i);
        const char *key;
        size_t keylen;

        if (child == NULL)
            return -1;
        if (i > 0)
            fputc(',', out);
        if (is_map) {
            key = snapconf_node_key(child, &keylen);
            if (key == NULL || put_json(out, json_stringn(key, keylen), 0) < 0)
                return -1;
            fputc(':', out);
        }
        if (cli_print_compact(out, child) < 0)
            return -1;
    }
    fputc(is_map ? '}' : ']', out);
    return 0;
}
