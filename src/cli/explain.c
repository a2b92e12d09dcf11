/*
 * explain.c - get --explain: which layers set a value, from a snapshot
 * (snapconf_explain()) or from snapconfd's "origin" array, printed the
 * same way either way.
 *
 * Text puts the highest layer first: the first line under the value is
 * where the live value comes from, which is what one looks for; the
 * lower layers follow in the order they were overridden.  JSON keeps the
 * API's order, lowest first, so that a program reads the same from both.
 */
#include "cli.h"
#include "client.h"
#include "render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of a layer's value shown on its line; longer is cut. */
#define PREVIEW_MAX 40
/* A label longer than this does not widen the column for the others. */
#define LABEL_COLUMN_MAX 60

void cli_explanation_free(struct cli_explanation *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->items[i].path);
    free(e->items);
    memset(e, 0, sizeof(*e));
}

static struct cli_origin *add_origin(struct cli_explanation *e, const char *path)
{
    struct cli_origin *items = realloc(e->items, (e->n + 1) * sizeof(*items));
    char *copy = strdup(path);

    if (items != NULL)
        e->items = items;
    if (items == NULL || copy == NULL) {
        free(copy);
        return NULL;
    }
    memset(&items[e->n], 0, sizeof(items[e->n]));
    items[e->n].path = copy;
    return &items[e->n++];
}

/* ---- from a snapshot ----------------------------------------------------- */

static int collect(void *userdata, const snapconf_origin *o)
{
    struct cli_origin *c = add_origin(userdata, o->path);

    if (c == NULL)
        return SNAPCONF_ENOMEM;
    c->layer = snapconf_layer_kind_name(o->kind);
    c->role = snapconf_origin_role_name(o->role);
    c->name = o->name != NULL ? o->name : "";
    c->line = o->line;
    c->column = o->column;
    c->value = o->node;
    return 0;
}

int cli_explain_snap(const snapconf_snap *snap, const char *path, struct cli_explanation *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = snapconf_explain(snap, path, collect, out);
    if (rc == 0 || rc == SNAPCONF_ENOTFOUND)
        return CLI_EXIT_OK;
    cli_explanation_free(out);
    cli_error("%s: cannot explain: %s", path, snapconf_strerror(rc));
    return CLI_EXIT_INTERNAL;
}

/* ---- from the API's "origin" array ---------------------------------------- */

static bool origin_from_json(struct cli_explanation *e, const snapconf_node *item)
{
    const char *layer = cli_member_str(item, "layer"), *role = cli_member_str(item, "role");
    const char *name = cli_member_str(item, "name"), *path = cli_member_str(item, "path");
    struct cli_origin *c;

    if (layer == NULL || role == NULL || name == NULL || path == NULL)
        return false;
    c = add_origin(e, path);
    if (c == NULL)
        return false;
    c->layer = layer;
    c->role = role;
    c->name = name;
    cli_member_int(item, "line", &c->line);
    cli_member_int(item, "column", &c->column);
    c->value = cli_member(item, "value");
    return true;
}

int cli_explain_json(const snapconf_node *origin, struct cli_explanation *out)
{
    memset(out, 0, sizeof(*out));
    if (origin == NULL)
        return CLI_EXIT_OK;
    if (snapconf_node_type(origin) != SNAPCONF_TYPE_SEQ) {
        cli_error("unexpected answer from snapconfd: \"origin\" is not an array");
        return CLI_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < snapconf_node_size(origin); i++) {
        if (!origin_from_json(out, snapconf_node_at(origin, i))) {
            cli_explanation_free(out);
            cli_error("unexpected answer from snapconfd: an \"origin\" entry without layer, "
                      "role, name or path");
            return CLI_EXIT_INTERNAL;
        }
    }
    return CLI_EXIT_OK;
}

/* ---- text ------------------------------------------------------------------- */

/* Where a layer's say comes from: "FILE:LINE:COLUMN", "env NAME" or
 * "runtime override (set PATH)", plus the parent it acted on, if not
 * path itself.  malloc'd; NULL when out of memory. */
static char *label(const struct cli_origin *o, const char *path)
{
    bool elsewhere = strcmp(o->path, path) != 0;
    char *text = NULL;
    int n;

    if (strcmp(o->layer, "runtime") == 0)
        n = asprintf(&text, "runtime override (%s %s)", o->value != NULL ? "set" : "unset",
                     o->path[0] != '\0' ? o->path : "''");
    else if (strcmp(o->layer, "env") == 0 && strcmp(o->name, "environment") != 0)
        n = asprintf(&text, "env %s%s%s%s", o->name, elsewhere ? " (at " : "",
                     elsewhere ? o->path : "", elsewhere ? ")" : "");
    else if (o->line > 0)
        n = asprintf(&text, "%s:%lld:%lld%s%s%s", o->name, (long long)o->line, (long long)o->column,
                     elsewhere ? " (at " : "", elsewhere ? o->path : "", elsewhere ? ")" : "");
    else
        n = asprintf(&text, "%s%s%s%s", o->name, elsewhere ? " (at " : "", elsewhere ? o->path : "",
                     elsewhere ? ")" : "");
    return n < 0 ? NULL : text;
}

/* The layer's value on one line, cut to PREVIEW_MAX bytes (at a character
 * boundary) with "..." after it.  malloc'd; NULL when none or no memory. */
static char *preview(const snapconf_node *value)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    if (value == NULL || (f = open_memstream(&text, &len)) == NULL)
        return NULL;
    bool ok = cli_print_compact(f, value) == 0;
    if (fclose(f) != 0 || !ok) {
        free(text);
        return NULL;
    }
    if (len > PREVIEW_MAX) {
        size_t cut = PREVIEW_MAX;
        char *shorter = NULL;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--;
        if (asprintf(&shorter, "%.*s...", (int)cut, text) < 0)
            shorter = NULL;
        free(text);
        text = shorter;
    }
    return text;
}

static void print_lines(FILE *out, const char *path, const struct cli_explanation *e)
{
    char **labels = calloc(e->n ? e->n : 1, sizeof(*labels));
    size_t width = 0;

    if (labels == NULL) {
        cli_error("out of memory");
        return;
    }
    for (size_t i = 0; i < e->n; i++) {
        labels[i] = label(&e->items[i], path);
        size_t len = labels[i] != NULL ? strlen(labels[i]) : 0;
        if (len > width && len <= LABEL_COLUMN_MAX)
            width = len;
    }
    for (size_t i = e->n; i-- > 0;) {
        const struct cli_origin *o = &e->items[i];
        char *shown = preview(o->value);
        if (shown != NULL)
            fprintf(out, "  %-*s  %-10s  %s\n", (int)width, labels[i] ? labels[i] : o->name,
                    o->role, shown);
        else
            fprintf(out, "  %-*s  %s\n", (int)width, labels[i] ? labels[i] : o->name, o->role);
        free(shown);
        free(labels[i]);
    }
    free(labels);
}

/* ---- JSON ------------------------------------------------------------------- */

/* A JSON string; bytes that are not UTF-8 (a file name can hold any) are
 * written as U+FFFD, as snapconfd writes them. */
static void put_string(FILE *out, const char *s)
{
    json_t *j = json_string(s);
    char *copy;

    if (j == NULL && (copy = strdup(s)) != NULL) {
        for (char *p = copy; *p != '\0'; p++) {
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        }
        j = json_string(copy);
        free(copy);
    }
    if (j == NULL || json_dumpf(j, out, JSON_ENCODE_ANY) < 0)
        fputs("\"\"", out);
    json_decref(j);
}

static int put_origin(FILE *out, const struct cli_origin *o)
{
    fputs("{\"layer\":", out);
    put_string(out, o->layer);
    fputs(",\"name\":", out);
    put_string(out, o->name);
    fputs(",\"path\":", out);
    put_string(out, o->path);
    fprintf(out, ",\"line\":%lld,\"column\":%lld,\"role\":", (long long)o->line,
            (long long)o->column);
    put_string(out, o->role);
    if (o->value != NULL) {
        fputs(",\"value\":", out);
        if (cli_print_compact(out, o->value) < 0)
            return -1;
    }
    fputc('}', out);
    return 0;
}

static int print_json(FILE *out, const char *path, const snapconf_node *value,
                      const struct cli_explanation *e)
{
    fputs("{\"path\":", out);
    put_string(out, path);
    if (value != NULL) {
        fputs(",\"value\":", out);
        if (cli_print_compact(out, value) < 0)
            return -1;
        fprintf(out, ",\"type\":\"%s\"", snapconf_type_name(snapconf_node_type(value)));
    }
    fputs(",\"origin\":[", out);
    for (size_t i = 0; i < e->n; i++) {
        if (i > 0)
            fputc(',', out);
        if (put_origin(out, &e->items[i]) < 0)
            return -1;
    }
    fputs("]}\n", out);
    return 0;
}

int cli_print_explained(const char *path, const snapconf_node *value,
                        const struct cli_explanation *e, bool json)
{
    render_error err;

    if (json) {
        if (print_json(stdout, path, value, e) == 0)
            return CLI_EXIT_OK;
        if (!ferror(stdout))
            cli_error("%s: a value cannot be written as JSON", path);
        return CLI_EXIT_INTERNAL;
    }
    if (value == NULL) {
        print_lines(stderr, path, e);
        return CLI_EXIT_OK;
    }
    if (render_text(stdout, value, &err) < 0) {
        if (!ferror(stdout))
            cli_error("%s: %s", path, err.message);
        return CLI_EXIT_INTERNAL;
    }
    print_lines(stdout, path, e);
    return CLI_EXIT_OK;
}
