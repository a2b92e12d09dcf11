/*
 * origin.c - provenance as JSON, see origin.h.
 */
#include "origin.h"

#include "jsonw.h"

#include <string.h>

bool origin_path_within(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (n == 0)
        return true;
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '.' || path[n] == '[');
}

/* ---- the origins of one path ------------------------------------------------ */

struct origin_writer {
    FILE *f;
    const char *path;
    size_t n;
    struct origin_source exact, any; /* the live layer at path itself, under it */
    render_error *err;
};

static bool is_live(snapconf_origin_role role)
{
    return role == SNAPCONF_ORIGIN_VALUE || role == SNAPCONF_ORIGIN_MERGED;
}

static void remember(struct origin_source *src, const snapconf_origin *o)
{
    *src = (struct origin_source){true, o->kind, o->name, o->line, o->column};
}

static int put_origin(void *userdata, const snapconf_origin *o)
{
    struct origin_writer *w = userdata;
    FILE *f = w->f;

    if (is_live(o->role)) {
        remember(&w->any, o);
        if (strcmp(o->path, w->path) == 0)
            remember(&w->exact, o);
    }
    fprintf(f, "%s{\"layer\": \"%s\", \"name\": ", w->n++ > 0 ? ", " : "",
            snapconf_layer_kind_name(o->kind));
    jsonw_put_string(f, o->name != NULL ? o->name : "");
    fputs(", \"path\": ", f);
    jsonw_put_string(f, o->path);
    fprintf(f, ", \"line\": %u, \"column\": %u, \"role\": \"%s\"", o->line, o->column,
            snapconf_origin_role_name(o->role));
    if (o->node != NULL) {
        fputs(", \"value\": ", f);
        if (jsonw_put_node(f, o->node, 0, w->err) < 0)
            return 1;
    }
    fputc('}', f);
    return 0;
}

int origin_write(FILE *f, const snapconf_snap *snap, const char *path, struct origin_source *src,
                 render_error *err)
{
    struct origin_writer w = {.f = f, .path = path, .err = err};
    int rc;

    err->message[0] = '\0';
    fputc('[', f);
    rc = snapconf_explain(snap, path, put_origin, &w);
    fputc(']', f);
    *src = w.exact.found ? w.exact : w.any;
    if (rc == 0 || rc == SNAPCONF_ENOTFOUND)
        return 0;
    if (err->message[0] == '\0')
        snprintf(err->message, sizeof(err->message), "cannot explain %s: %s", path,
                 snapconf_strerror(rc));
    return -1;
}

/* ---- the runtime overrides ---------------------------------------------------- */

/*
 * Every runtime override lies at or below the root, so explaining the
 * root names each of them, in the order they were made, with the path it
 * was made at and its value (no node for an unset).  The public API has no
 * other list of them.
 */
struct override_writer {
    FILE *f;
    const char *prefix;
    size_t n;
    render_error *err;
};

static int put_override(void *userdata, const snapconf_origin *o)
{
    struct override_writer *w = userdata;
    FILE *f = w->f;

    if (o->kind != SNAPCONF_LAYER_RUNTIME || !origin_path_within(o->path, w->prefix))
        return 0;
    if (f == NULL) {
        w->n++;
        return 0;
    }
    fprintf(f, "%s{\"op\": \"%s\", \"path\": ", w->n++ > 0 ? ", " : "",
            o->node != NULL ? "set" : "unset");
    jsonw_put_string(f, o->path);
    if (o->node != NULL) {
        fputs(", \"value\": ", f);
        if (jsonw_put_node(f, o->node, 0, w->err) < 0)
            return 1;
        fprintf(f, ", \"type\": \"%s\"", snapconf_type_name(snapconf_node_type(o->node)));
    }
    fputc('}', f);
    return 0;
}

int origin_write_overrides(FILE *f, const snapconf_snap *snap, const char *prefix, size_t *count,
                           render_error *err)
{
    struct override_writer w = {.f = f, .prefix = prefix, .err = err};
    int rc;

    err->message[0] = '\0';
    if (f != NULL)
        fputc('[', f);
    rc = snapconf_explain(snap, "", put_override, &w);
    if (f != NULL)
        fputc(']', f);
    *count = w.n;
    if (rc == 0 || rc == SNAPCONF_ENOTFOUND)
        return 0;
    if (err->message[0] == '\0')
        snprintf(err->message, sizeof(err->message), "cannot list the overrides: %s",
                 snapconf_strerror(rc));
    return -1;
}
