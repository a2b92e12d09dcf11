/*
 * Differences between two snapshots, as a list of changed paths.
 *
 * Walks both trees together with an explicit stack (depth is bounded by the
 * loader's max_depth, which a user may raise, so no recursion).  A subtree
 * that exists on one side only is reported once, at its root.
 */
#include "path.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct diff_frame {
    const struct snapconf_node *a, *b;
    size_t pathlen; /* length of the path to a and b */
    uint32_t i;     /* next child to look at */
    int phase;      /* maps: 0 old's children, 1 new's; seqs: 0 common, 1 old's tail, 2 new's */
};

struct diff {
    struct diff_frame *stack;
    size_t depth, cap;
    char *path;
    size_t pathcap;
    snapconf_diff_fn cb;
    void *userdata;
};

static bool scalar_equal(const struct snapconf_node *a, const struct snapconf_node *b)
{
    switch (snapconf__type(a)) {
    case SNAPCONF_TYPE_NULL:
        return true;
    case SNAPCONF_TYPE_BOOL:
        return (a->v.b != 0) == (b->v.b != 0);
    case SNAPCONF_TYPE_INT:
        return a->v.i == b->v.i;
    case SNAPCONF_TYPE_FLOAT:
        return a->v.d == b->v.d || (isnan(a->v.d) && isnan(b->v.d));
    case SNAPCONF_TYPE_STRING: {
        const char *ta = snapconf_node_tag(a), *tb = snapconf_node_tag(b);
        if ((ta == NULL) != (tb == NULL) || (ta && strcmp(ta, tb) != 0))
            return false;
        return a->v.s.len == b->v.s.len &&
               memcmp(snapconf__at(a, a->v.s.off), snapconf__at(b, b->v.s.off), a->v.s.len) == 0;
    }
    default:
        return false;
    }
}

static int path_reserve(struct diff *d, size_t need)
{
    if (need <= d->pathcap)
        return 0;
    size_t cap = d->pathcap ? d->pathcap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(d->path, cap);
    if (!p)
        return SNAPCONF_ENOMEM;
    d->path = p;
    d->pathcap = cap;
    return 0;
}

/* Appends the segment leading to child (a map entry or item i) after the
 * first len bytes of the path; returns the new length, or 0 on ENOMEM. */
static size_t path_child(struct diff *d, size_t len, const struct snapconf_node *parent,
                         const struct snapconf_node *child, uint32_t i)
{
    struct snapconf__seg s = {0};
    if (snapconf__type(parent) == SNAPCONF_TYPE_SEQ) {
        s.is_index = true;
        s.index = i;
    } else {
        s.key = snapconf_node_key(child, NULL);
        s.len = snapconf__key_len(s.key);
    }
    size_t n = snapconf__canonical_seg(&s, len == 0, NULL);
    if (path_reserve(d, len + n + 1))
        return 0;
    snapconf__canonical_seg(&s, len == 0, d->path + len);
    d->path[len + n] = '\0';
    return len + n;
}

static int emit(struct diff *d, snapconf_change_kind kind, size_t len,
                const struct snapconf_node *a, const struct snapconf_node *b)
{
    if (path_reserve(d, len + 1))
        return SNAPCONF_ENOMEM;
    d->path[len] = '\0';
    snapconf_change c = {kind, d->path, a, b};
    return d->cb(d->userdata, &c);
}

static int push(struct diff *d, const struct snapconf_node *a, const struct snapconf_node *b,
                size_t len)
{
    if (d->depth == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 32;
        struct diff_frame *s = realloc(d->stack, cap * sizeof *s);
        if (!s)
            return SNAPCONF_ENOMEM;
        d->stack = s;
        d->cap = cap;
    }
    d->stack[d->depth++] = (struct diff_frame){a, b, len, 0, 0};
    return 0;
}

/* Compares two nodes at the current path: reports a change, or pushes a
 * frame to compare their children. */
static int compare(struct diff *d, const struct snapconf_node *a, const struct snapconf_node *b,
                   size_t len)
{
    if (snapconf__type(a) != snapconf__type(b))
        return emit(d, SNAPCONF_CHANGE_MODIFIED, len, a, b);
    if (snapconf__is_container(a))
        return push(d, a, b, len);
    return scalar_equal(a, b) ? 0 : emit(d, SNAPCONF_CHANGE_MODIFIED, len, a, b);
}

static const struct snapconf_node *counterpart(const struct snapconf_node *map,
                                               const struct snapconf_node *child)
{
    size_t klen;
    const char *key = snapconf_node_key(child, &klen);
    return snapconf__map_get(map, key, klen, child->khash);
}

/* One step of a mapping frame (the top of the stack); pops it when done. */
static int step_map(struct diff *d, struct diff_frame *f)
{
    const struct snapconf_node *from = f->phase == 0 ? f->a : f->b;
    const struct snapconf_node *other = f->phase == 0 ? f->b : f->a;
    if (f->i >= from->v.c.count) {
        if (f->phase == 1) {
            d->depth--;
            return 0;
        }
        f->phase = 1;
        f->i = 0;
        return 0;
    }
    const struct snapconf_node *c = snapconf__children(from) + f->i++;
    const struct snapconf_node *o = counterpart(other, c);
    size_t len = path_child(d, f->pathlen, from, c, f->i - 1);
    if (!len)
        return SNAPCONF_ENOMEM;
    if (f->phase == 0)
        return o ? compare(d, c, o, len) : emit(d, SNAPCONF_CHANGE_REMOVED, len, c, NULL);
    return o ? 0 : emit(d, SNAPCONF_CHANGE_ADDED, len, NULL, c);
}

/* One step of a sequence frame (the top of the stack); pops it when done. */
static int step_seq(struct diff *d, struct diff_frame *f)
{
    uint32_t na = f->a->v.c.count, nb = f->b->v.c.count;
    uint32_t common = na < nb ? na : nb;
    uint32_t end = f->phase == 0 ? common : f->phase == 1 ? na : nb;
    if (f->phase == 0 && f->i < common) {
        uint32_t i = f->i++;
        size_t len = path_child(d, f->pathlen, f->a, NULL, i);
        return len ? compare(d, snapconf__children(f->a) + i, snapconf__children(f->b) + i, len)
                   : SNAPCONF_ENOMEM;
    }
    if (f->i >= end || f->phase == 0) {
        if (f->phase == 2) {
            d->depth--;
            return 0;
        }
        f->phase++;
        f->i = common;
        return 0;
    }
    uint32_t i = f->i++;
    size_t len = path_child(d, f->pathlen, f->a, NULL, i);
    if (!len)
        return SNAPCONF_ENOMEM;
    if (f->phase == 1)
        return emit(d, SNAPCONF_CHANGE_REMOVED, len, snapconf__children(f->a) + i, NULL);
    return emit(d, SNAPCONF_CHANGE_ADDED, len, NULL, snapconf__children(f->b) + i);
}

/* The step functions finish with their frame before comparing children,
 * since a comparison may push and so move the stack. */
static int run(struct diff *d, const struct snapconf_node *a, const struct snapconf_node *b)
{
    int rc = compare(d, a, b, 0);
    while (rc == 0 && d->depth) {
        struct diff_frame *f = &d->stack[d->depth - 1];
        rc = snapconf__type(f->a) == SNAPCONF_TYPE_MAP ? step_map(d, f) : step_seq(d, f);
    }
    return rc;
}

int snapconf_diff(const snapconf_snap *old_snap, const snapconf_snap *new_snap, snapconf_diff_fn cb,
                  void *userdata)
{
    if (!cb)
        return SNAPCONF_EINVAL;
    static const struct snapconf_node empty = {
        .meta = (uint32_t)SNAPCONF_TYPE_MAP << SNAPCONF__COL_BITS,
    };
    struct diff d = {.cb = cb, .userdata = userdata};
    int rc = path_reserve(&d, 256);
    if (rc == 0)
        rc = run(&d, old_snap ? old_snap->root : &empty, new_snap ? new_snap->root : &empty);
    free(d.stack);
    free(d.path);
    return rc;
}
