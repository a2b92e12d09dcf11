/*
 * Provenance: where the value at a path came from.
 *
 * A merged snapshot keeps its layers, so the answer is worked out when
 * asked, from the layers themselves, by the same rules the merge applies
 * (snapconf.h): each layer's effect on the path is found, then the effects
 * are folded lowest first.  Nothing is stored per node, so the read path
 * and the snapshot's size do not pay for it.
 */
#include "layer.h"
#include "path.h"
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

enum effect_kind {
    EFFECT_NONE = 0,
    EFFECT_REPLACE, /* sets the value whole */
    EFFECT_MERGE,   /* a mapping merged into what is there */
    EFFECT_DELETE,  /* deletes the value itself */
    EFFECT_KILL,    /* deletes or replaces a parent */
    EFFECT_MODIFY,  /* a runtime override below the path */
};

struct effect {
    enum effect_kind kind;
    const struct snapconf_node *node;
    const char *path; /* what this layer set: a prefix of the asked path or an override's */
    size_t path_len;
};

struct entry {
    size_t layer;
    struct effect e;
    snapconf_origin_role role;
    bool active; /* part of the live value */
};

/* Length of the path text before at, without the '.' that joins them. */
static size_t prefix_len(const char *path, const char *at)
{
    size_t n = (size_t)(at - path);
    return n && path[n - 1] == '.' ? n - 1 : n;
}

static struct effect file_effect(const struct snapconf__layer *l, bool first, const char *path)
{
    struct effect none = {EFFECT_NONE, NULL, path, 0};
    char buf[SNAPCONF__SEGMENT_BUF];
    const struct snapconf_node *cur = l->snap->root, *seq = NULL;
    const char *p = path, *at = path, *seq_at = NULL;
    struct snapconf__seg s = {0};
    int rc;
    while ((rc = snapconf__seg_next(&p, &s, buf, sizeof buf)) == 0) {
        const struct snapconf_node *next = snapconf__step(cur, &s);
        if (!next) {
            if (first)
                return none;
            if (seq)
                return (struct effect){EFFECT_KILL, seq, path, prefix_len(path, seq_at)};
            snapconf_type t = snapconf__type(cur);
            if (t == SNAPCONF_TYPE_MAP && !s.is_index)
                return none;
            return (struct effect){EFFECT_KILL, cur, path, prefix_len(path, at)};
        }
        if (s.is_index && !seq) {
            seq = cur;
            seq_at = at;
        }
        cur = next;
        at = p;
    }
    if (rc != 1)
        return none;
    struct effect e = {EFFECT_REPLACE, cur, path, strlen(path)};
    if (!first && snapconf__type(cur) == SNAPCONF_TYPE_NULL)
        e.kind = EFFECT_DELETE;
    else if (!seq && snapconf__type(cur) == SNAPCONF_TYPE_MAP)
        e.kind = EFFECT_MERGE;
    return e;
}

/* How an override's path o relates to the asked path p (both canonical):
 * 0 equal, 1 o above p, 2 o below p, -1 apart. */
static int relation(const char *o, const char *p)
{
    if (strcmp(o, p) == 0)
        return 0;
    if (snapconf__path_within(p, o))
        return 1;
    return snapconf__path_within(o, p) ? 2 : -1;
}

static struct effect runtime_effect(const struct snapconf__layer *l, const char *path)
{
    const char *o = l->op_path;
    struct effect e = {EFFECT_NONE, NULL, o, strlen(o)};
    const struct snapconf_node *value = l->snap ? l->snap->root : NULL;
    switch (relation(o, path)) {
    case 0:
        e.kind = l->unset ? EFFECT_DELETE : EFFECT_REPLACE;
        e.node = value;
        break;
    case 1: {
        const char *rest = path + e.path_len;
        const struct snapconf_node *n = NULL;
        if (value && snapconf_node_find(value, rest + (*rest == '.'), &n) == 0) {
            e = (struct effect){EFFECT_REPLACE, n, path, strlen(path)};
        } else {
            e.kind = EFFECT_KILL;
            e.node = value;
        }
        break;
    }
    case 2:
        e.kind = EFFECT_MODIFY;
        e.node = value;
        break;
    default:
        break;
    }
    return e;
}

static void deactivate(struct entry *es, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (es[i].active) {
            es[i].active = false;
            es[i].role = SNAPCONF_ORIGIN_OVERRIDDEN;
        }
}

/* Folds one layer's effect into the story so far. */
static size_t fold(struct entry *es, size_t n, size_t layer, struct effect e, bool *live,
                   bool *live_map)
{
    bool joins = false;
    switch (e.kind) {
    case EFFECT_NONE:
        return n;
    case EFFECT_MERGE:
        joins = *live && *live_map;
        break;
    case EFFECT_MODIFY:
        if (!*live && !e.node)
            return n; /* an unset below a value that is not there */
        joins = *live;
        break;
    default:
        break;
    }
    if (!joins)
        deactivate(es, n);
    bool deletes = e.kind == EFFECT_DELETE || e.kind == EFFECT_KILL;
    es[n] = (struct entry){layer, e, deletes ? SNAPCONF_ORIGIN_DELETED : SNAPCONF_ORIGIN_VALUE,
                           !deletes};
    *live = !deletes;
    if (!joins)
        *live_map = e.kind == EFFECT_MERGE || e.kind == EFFECT_MODIFY ||
                    (e.node && snapconf__type(e.node) == SNAPCONF_TYPE_MAP);
    return n + 1;
}

static const char *origin_name(const struct snapconf__layer *l, const struct snapconf_node *n)
{
    if (l->kind == SNAPCONF_LAYER_ENV && n && n->line >= 1 && n->line <= l->env_count)
        return l->env_names[n->line - 1];
    return l->name;
}

static int report(struct snapconf__layer *const *layers, const struct entry *es, size_t n,
                  snapconf_origin_fn cb, void *userdata)
{
    size_t active = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        active += es[i].active;
        if (es[i].e.path_len > longest)
            longest = es[i].e.path_len;
    }
    char *path = malloc(longest + 1);
    if (!path)
        return SNAPCONF_ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct snapconf__layer *l = layers[es[i].layer];
        const struct snapconf_node *node = es[i].e.node;
        bool positioned =
            node && (l->kind == SNAPCONF_LAYER_FILE || l->kind == SNAPCONF_LAYER_DROPIN);
        memcpy(path, es[i].e.path, es[i].e.path_len);
        path[es[i].e.path_len] = '\0';
        snapconf_origin o = {
            .kind = l->kind,
            .role = es[i].active && active > 1 ? SNAPCONF_ORIGIN_MERGED : es[i].role,
            .name = origin_name(l, node),
            .path = path,
            .line = positioned ? snapconf_node_line(node) : 0,
            .column = positioned ? snapconf_node_column(node) : 0,
            .node = node,
        };
        rc = cb(userdata, &o);
    }
    free(path);
    return rc;
}

static int explain_layers(struct snapconf__layer *const *layers, size_t n, const char *path,
                          snapconf_origin_fn cb, void *userdata)
{
    struct entry *es = calloc(n ? n : 1, sizeof *es);
    if (!es)
        return SNAPCONF_ENOMEM;
    size_t count = 0;
    bool live = false, live_map = false;
    for (size_t i = 0; i < n; i++) {
        const struct snapconf__layer *l = layers[i];
        struct effect e = l->kind == SNAPCONF_LAYER_RUNTIME ? runtime_effect(l, path)
                                                            : file_effect(l, i == 0, path);
        count = fold(es, count, i, e, &live, &live_map);
    }
    int rc = count ? report(layers, es, count, cb, userdata) : SNAPCONF_ENOTFOUND;
    free(es);
    return rc;
}

int snapconf_explain(const snapconf_snap *snap, const char *path, snapconf_origin_fn cb,
                     void *userdata)
{
    if (!snap || !cb)
        return SNAPCONF_EINVAL;
    snapconf_path *p;
    int rc = snapconf_path_compile(path ? path : "", &p, NULL);
    if (rc)
        return rc;
    if (snap->layers) {
        rc = explain_layers(snap->layers->items, snap->layers->n, snapconf_path_str(p), cb,
                            userdata);
    } else {
        /* One file: a layer of the snapshot itself, never freed from here. */
        struct snapconf__layer self = {.kind = SNAPCONF_LAYER_FILE,
                                       .name = (char *)snap->source,
                                       .snap = (snapconf_snap *)snap};
        struct snapconf__layer *one = &self;
        rc = explain_layers(&one, 1, snapconf_path_str(p), cb, userdata);
    }
    snapconf_path_free(p);
    return rc;
}

const char *snapconf_layer_kind_name(snapconf_layer_kind kind)
{
    static const char *const names[] = {"file", "dropin", "env", "runtime"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

const char *snapconf_origin_role_name(snapconf_origin_role role)
{
    static const char *const names[] = {"value", "merged", "overridden", "deleted"};
    return (unsigned)role < sizeof names / sizeof names[0] ? names[role] : "unknown";
}
