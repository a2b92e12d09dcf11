/*
 * Runtime overrides: snapconf_set(), snapconf_unset(), snapconf_revert().
 *
 * Each call is one write through the handle's single writer: the new list
 * of overrides is merged with the file layers last published (no file is
 * read), validated, saved to the state file, and only then published, so
 * a crash between the two leaves the saved list ahead of the live one,
 * which the next open applies, never behind it.
 */
#include "error.h"
#include "layer.h"
#include "path.h"
#include "publish.h"
#include "reload.h"
#include "snapshot.h"
#include "state.h"

#include <stdlib.h>
#include <string.h>

struct change {
    const char *what; /* "set", "unset" or "revert" */
    const char *path;
    const char *value;
    struct snapconf__layer *added; /* the new override, NULL for a revert */
    char *revert_path;             /* canonical */
};

struct override_list {
    struct snapconf__layer **items;
    size_t n;
};

static void list_free(struct override_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        snapconf__layer_unref(l->items[i]);
    free(l->items);
}

/* The current overrides minus those at or below prefix, plus added. */
static int list_without(const snapconf *h, const char *prefix, struct snapconf__layer *added,
                        struct override_list *out)
{
    out->n = 0;
    out->items = malloc((h->noverrides + 1) * sizeof(struct snapconf__layer *));
    if (!out->items)
        return SNAPCONF_ENOMEM;
    for (size_t i = 0; i < h->noverrides; i++)
        if (!snapconf__path_within(h->overrides[i]->op_path, prefix))
            out->items[out->n++] = snapconf__layer_ref(h->overrides[i]);
    if (added)
        out->items[out->n++] = snapconf__layer_ref(added);
    return 0;
}

/* A handle that so far published its file as is borrows that snapshot as
 * its file layer: an override must not depend on the file on disk, which
 * may be mid-edit or broken right now. */
static int files_of(snapconf *h, struct snapconf__layer_set **out, snapconf_error *e)
{
    if (h->files) {
        *out = h->files;
        return 0;
    }
    snapconf_snap *cur = h->current;
    struct snapconf__layer *main = snapconf__layer_new(SNAPCONF_LAYER_FILE, h->path, cur);
    if (!main) /* cur stays published and untouched */
        return snapconf__error(e, SNAPCONF_ENOMEM, h->path, 0, 0, "out of memory");
    atomic_fetch_add_explicit(&cur->refs, 1, memory_order_relaxed);
    main->release = snapconf_snap_release;
    int rc = snapconf__layers_load(h->path, NULL, NULL, &h->opts, main, out, e);
    snapconf__layer_unref(main);
    return rc;
}

static int save(snapconf *h, const struct override_list *list, snapconf_error *e)
{
    if (!h->state_file)
        return 0;
    struct snapconf__override *ov = calloc(list->n ? list->n : 1, sizeof *ov);
    if (!ov)
        return snapconf__error(e, SNAPCONF_ENOMEM, h->state_file, 0, 0, "out of memory");
    for (size_t i = 0; i < list->n; i++)
        ov[i] = (struct snapconf__override){list->items[i]->unset, list->items[i]->op_path,
                                            list->items[i]->op_value};
    int rc = snapconf__state_save(h->state_file, ov, list->n, e);
    free(ov); /* the strings are the layers' */
    return rc;
}

static int removed_nothing(const snapconf *h, const struct change *c,
                           const struct override_list *list, snapconf_error *e)
{
    if (c->added || list->n != h->noverrides)
        return 0;
    return snapconf__error(e, SNAPCONF_ENOTFOUND, NULL, 0, 0,
                           "no runtime override at or below '%s' to revert", c->revert_path);
}

static int unset_missing(snapconf *h, const struct change *c, snapconf_error *e)
{
    const snapconf_node *n;
    if (!c->added || !c->added->unset || snapconf_find(h->current, c->added->op_path, &n) == 0)
        return 0;
    return snapconf__error(e, SNAPCONF_ENOTFOUND, NULL, 0, 0, "cannot unset %s: no value there",
                           c->added->op_path);
}

static int change_locked(snapconf *h, void *arg, snapconf_error *e)
{
    struct change *c = arg;
    struct override_list list = {0};
    struct snapconf__layer_set *files = NULL;
    snapconf_snap *next = NULL;
    const char *prefix = c->added ? c->added->op_path : c->revert_path;
    int rc = unset_missing(h, c, e);
    if (rc == 0 && (rc = list_without(h, prefix, c->added, &list)) != 0)
        snapconf__error(e, rc, h->path, 0, 0, "out of memory");
    if (rc == 0)
        rc = removed_nothing(h, c, &list, e);
    if (rc == 0)
        rc = files_of(h, &files, e);
    if (rc == 0)
        rc = snapconf__layered_build(h, files, list.items, list.n, c->added, &next, e);
    if (rc == 0)
        rc = save(h, &list, e);
    if (rc == 0)
        rc = snapconf__publish(h, next, e);
    if (rc) {
        snapconf_snap_free(next);
        if (files != h->files)
            snapconf__layer_set_free(files);
        list_free(&list);
        return rc;
    }
    snapconf__log(h, SNAPCONF_LOG_INFO, "runtime override: %s %s%s%s (generation %llu)", c->what,
                  prefix, c->value ? " = " : "", c->value ? c->value : "",
                  (unsigned long long)h->generation);
    h->files = files;
    struct override_list old = {h->overrides, h->noverrides};
    list_free(&old);
    h->overrides = list.items;
    h->noverrides = list.n;
    return 0;
}

static int change(snapconf *h, struct change *c, snapconf_error *err)
{
    int rc = snapconf__writer_check(h, c->what, err);
    if (rc)
        return rc;
    if (strcmp(c->what, "revert") == 0) {
        snapconf_path *p;
        if ((rc = snapconf_path_compile(c->path ? c->path : "", &p, err)) != 0)
            return rc;
        c->revert_path = strdup(snapconf_path_str(p));
        snapconf_path_free(p);
        if (!c->revert_path)
            return snapconf__error(err, SNAPCONF_ENOMEM, NULL, 0, 0, "out of memory");
    } else {
        if (!c->path)
            return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0, "%s: no path", c->what);
        if ((rc = snapconf__layer_override(c->path, c->value, &h->opts, &c->added, err)) != 0)
            return rc;
    }
    rc = snapconf__write(h, SNAPCONF__WRITE_OVERRIDE, change_locked, c, err);
    snapconf__layer_unref(c->added);
    free(c->revert_path);
    return rc;
}

int snapconf_set(snapconf *h, const char *path, const char *yaml_value, snapconf_error *err)
{
    if (!yaml_value)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf_set: no value (use snapconf_unset to delete)");
    struct change c = {"set", path, yaml_value, NULL, NULL};
    return change(h, &c, err);
}

int snapconf_unset(snapconf *h, const char *path, snapconf_error *err)
{
    struct change c = {"unset", path, NULL, NULL, NULL};
    return change(h, &c, err);
}

int snapconf_revert(snapconf *h, const char *path, snapconf_error *err)
{
    struct change c = {"revert", path, NULL, NULL, NULL};
    return change(h, &c, err);
}
