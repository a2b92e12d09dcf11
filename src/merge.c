/*
 * Merging layers into one flat snapshot (rules in snapconf.h): the file
 * layers merge into a mutable tree over their snapshots, the runtime
 * overrides are applied on top in order, and the tree is laid out through
 * the builder, so a merged snapshot is read exactly like a single file's.
 */
#include "build.h"
#include "error.h"
#include "hash.h"
#include "layer.h"
#include "mtree.h"
#include "path.h"
#include "snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------- */
/* Runtime overrides                                                          */

struct op_walk {
    struct snapconf__mtree *t;
    const struct snapconf__layer *op;
    bool fresh; /* being made now: no "revert" hint, there is nothing to revert */
    snapconf_error *err;
};

/* "a string", "an int": for messages. */
static const char *type_with_article(snapconf_type type)
{
    switch (type) {
    case SNAPCONF_TYPE_INT:
        return "an int";
    case SNAPCONF_TYPE_MAP:
        return "a mapping";
    case SNAPCONF_TYPE_SEQ:
        return "a sequence";
    case SNAPCONF_TYPE_NULL:
        return "a null";
    case SNAPCONF_TYPE_BOOL:
        return "a bool";
    case SNAPCONF_TYPE_FLOAT:
        return "a float";
    default:
        return "a string";
    }
}

static int op_error(const struct op_walk *w, int code, const char *at, const char *what)
{
    const char *p = w->op->op_path;
    int len = (int)(at - p);
    if (len && p[len - 1] == '.')
        len--; /* the dot joining the parent to the segment */
    if (w->fresh)
        return snapconf__error(w->err, code, NULL, 0, 0, "cannot %s %s: %s%.*s%s %s",
                               w->op->unset ? "unset" : "set", p, len ? "'" : "", len, p,
                               len ? "'" : "the root", what);
    return snapconf__error(w->err, code, "runtime override", 0, 0,
                           "%s %s: %s%.*s%s %s; `snapconf revert %s` drops the override",
                           w->op->unset ? "unset" : "set", p, len ? "'" : "", len, p,
                           len ? "'" : "the root", what, p);
}

/* The live item number index of a materialized sequence, or NULL. */
static struct snapconf__mentry *seq_item(struct snapconf__mnode *seq, uint32_t index)
{
    for (uint32_t i = 0; i < seq->n; i++)
        if (seq->items[i].val && index-- == 0)
            return &seq->items[i];
    return NULL;
}

/* One step of an override's path from *cur.  *slot receives the entry the
 * step leads to (created for a set, NULL when absent for an unset). */
static int op_step(struct op_walk *w, struct snapconf__mnode *cur, const struct snapconf__seg *s,
                   const char *at, bool last, struct snapconf__mentry **slot)
{
    snapconf_type type = snapconf__mtree_type(cur);
    snapconf_type want = s->is_index ? SNAPCONF_TYPE_SEQ : SNAPCONF_TYPE_MAP;
    *slot = NULL;
    if (type != want) {
        if (w->op->unset)
            return 0; /* nothing there to delete */
        char what[64];
        snprintf(what, sizeof what, "is %s, not a %s", type_with_article(type),
                 s->is_index ? "sequence" : "mapping");
        return op_error(w, SNAPCONF_ETYPE, at, what);
    }
    if (snapconf__mtree_materialize(w->t, cur))
        return SNAPCONF_ENOMEM;
    if (s->is_index) {
        *slot = seq_item(cur, s->index);
        if (!*slot && !w->op->unset)
            return op_error(w, SNAPCONF_ENOTFOUND, at, "has no item at that index");
        return 0;
    }
    struct snapconf__mentry *e = snapconf__mtree_find(cur, s->key, s->len, s->hash);
    if (w->op->unset || (e && e->val)) {
        *slot = e && e->val ? e : NULL;
        return 0;
    }
    struct snapconf__mnode *v = last ? NULL : snapconf__mtree_map(w->t, 0, 0);
    if (!last && !v)
        return SNAPCONF_ENOMEM;
    if (!e) {
        const char *key = snapconf__mtree_strdup(w->t, s->key, s->len);
        if (!key || !(e = snapconf__mtree_append(w->t, cur, key, s->len, s->hash, v)))
            return SNAPCONF_ENOMEM;
    }
    e->val = v;
    *slot = e;
    return 0;
}

static int apply_override(struct snapconf__mtree *t, struct snapconf__mnode *root,
                          const struct snapconf__layer *op, bool fresh, snapconf_error *err)
{
    struct op_walk w = {t, op, fresh, err};
    char buf[SNAPCONF__SEGMENT_BUF];
    const char *p = op->op_path, *at = p;
    struct snapconf__mnode *cur = root;
    struct snapconf__seg s = {0};
    int rc = snapconf__seg_next(&p, &s, buf, sizeof buf);
    while (rc == 0) {
        bool more = *p != '\0';
        struct snapconf__mentry *slot;
        if ((rc = op_step(&w, cur, &s, at, !more, &slot)) != 0 || !slot)
            return rc;
        if (!more) {
            if (op->unset)
                slot->val = NULL;
            else if (!(slot->val = snapconf__mtree_borrow(t, op->snap->root)))
                return SNAPCONF_ENOMEM;
            return 0;
        }
        cur = slot->val;
        at = p;
        rc = snapconf__seg_next(&p, &s, buf, sizeof buf);
    }
    return rc == 1 ? 0 : rc;
}

/* ------------------------------------------------------------------------- */
/* The merged snapshot                                                        */

static void layers_release(struct snapconf__snap_layers *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        snapconf__layer_unref(ls->items[i]);
    free(ls);
}

static struct snapconf__snap_layers *layers_keep(struct snapconf__layer *const *layers, size_t n)
{
    struct snapconf__snap_layers *ls = malloc(sizeof *ls + n * sizeof(struct snapconf__layer *));
    if (!ls)
        return NULL;
    ls->n = n;
    for (size_t i = 0; i < n; i++)
        ls->items[i] = snapconf__layer_ref(layers[i]);
    return ls;
}

/* Over every layer's identity and content, so that the merged snapshot's
 * hash changes exactly when one of them does. */
static void merged_hash(struct snapconf__layer *const *layers, size_t n, char out[33])
{
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    for (size_t i = 0; i < n; i++) {
        const struct snapconf__layer *l = layers[i];
        const char *parts[] = {l->name, l->op_path ? l->op_path : "",
                               l->snap ? l->snap->content_hash : "-"};
        for (size_t j = 0; j < 3; j++)
            XXH3_128bits_update(&st, parts[j], strlen(parts[j]) + 1);
    }
    snapconf__hash_hex(XXH3_128bits_digest(&st), out);
}

static int build_tree(struct snapconf__mtree *t, struct snapconf__layer *const *layers, size_t n,
                      const struct snapconf__layer *fresh, struct snapconf__mnode **root,
                      snapconf_error *err)
{
    if (!(*root = snapconf__mtree_borrow(t, layers[0]->snap->root)))
        return SNAPCONF_ENOMEM;
    for (size_t i = 1; i < n; i++) {
        int rc;
        if (layers[i]->kind == SNAPCONF_LAYER_RUNTIME)
            rc = apply_override(t, *root, layers[i], layers[i] == fresh, err);
        else
            rc = snapconf__mtree_merge(t, root, layers[i]->snap->root, true);
        if (rc == SNAPCONF_ELIMIT && !err->message[0])
            rc = snapconf__error(err, rc, layers[i]->name, 0, 0,
                                 "merging it nests deeper than 4096 levels");
        if (rc)
            return rc;
    }
    return 0;
}

int snapconf__merge(struct snapconf__layer *const *layers, size_t n, const char *source,
                    const snapconf_options *opts, const struct snapconf__layer *fresh,
                    snapconf_snap **out, snapconf_error *err)
{
    struct snapconf__mtree t;
    snapconf__mtree_init(&t);
    memset(err, 0, sizeof *err);
    struct snapconf__mnode *root;
    int rc = build_tree(&t, layers, n, fresh, &root, err);
    snapconf_snap *snap = NULL;
    if (rc == 0) {
        char hash[33];
        merged_hash(layers, n, hash);
        snapconf__builder b;
        snapconf__builder_init(&b, source, opts, err);
        rc = snapconf__mtree_emit(&b, root);
        if (rc == 0)
            rc = snapconf__build_finish(&b, hash, &snap);
        snapconf__builder_fini(&b);
    }
    snapconf__mtree_fini(&t);
    if (rc == 0 && !(snap->layers = layers_keep(layers, n))) {
        snapconf_snap_free(snap);
        rc = SNAPCONF_ENOMEM;
    }
    if (rc) {
        if (!err->message[0])
            snapconf__error(err, rc, source, 0, 0, "%s while merging the layers",
                            rc == SNAPCONF_ENOMEM ? "out of memory" : snapconf_strerror(rc));
        return rc;
    }
    snap->layers_free = layers_release;
    *out = snap;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Loading layers once                                                        */

/* Appends the overrides saved in opts->state_file to set. */
static int saved_overrides(const snapconf_options *opts, struct snapconf__layer_set *set,
                           snapconf_error *err)
{
    struct snapconf__layer **saved;
    size_t n;
    int rc = snapconf__layers_from_state(opts->state_file, opts, &saved, &n, err);
    if (rc || n == 0)
        return rc;
    struct snapconf__layer **items =
        realloc(set->items, (set->n + n) * sizeof(struct snapconf__layer *));
    if (!items) {
        for (size_t i = 0; i < n; i++)
            snapconf__layer_unref(saved[i]);
        free(saved);
        return snapconf__error(err, SNAPCONF_ENOMEM, opts->state_file, 0, 0, "out of memory");
    }
    memcpy(items + set->n, saved, n * sizeof(struct snapconf__layer *));
    set->items = items;
    set->n += n;
    free(saved);
    return 0;
}

int snapconf_snap_load_layered(const char *path, const snapconf_options *opts, snapconf_snap **out,
                               snapconf_error *err)
{
    snapconf_options defaults;
    if (!opts) {
        snapconf_options_init(&defaults);
        opts = &defaults;
    }
    if (!path || !out)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf_snap_load_layered: path and out are required");
    snapconf_error e;
    struct snapconf__layer_set *set = NULL;
    int rc = snapconf__layers_load(path, opts->dropin_dirs, opts->env_prefix, opts, NULL, &set, &e);
    if (rc == 0 && opts->state_file)
        rc = saved_overrides(opts, set, &e);
    if (rc == 0)
        rc = snapconf__merge(set->items, set->n, path, opts, NULL, out, &e);
    snapconf__layer_set_free(set);
    if (rc && err)
        *err = e;
    return rc;
}
