/* The mutable tree a merged snapshot is built from (see mtree.h). */
#include "mtree.h"

#include <stdlib.h>
#include <string.h>

/* Merging and laying out recurse once per level: a bound far above any
 * real configuration keeps the stack safe whatever max_depth says. */
#define MTREE_MAX_DEPTH 4096
#define CHUNK_MIN ((size_t)64 * 1024)

struct snapconf__arena_chunk {
    struct snapconf__arena_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

void snapconf__mtree_init(struct snapconf__mtree *t)
{
    t->chunks = NULL;
    t->oom = 0;
}

void snapconf__mtree_fini(struct snapconf__mtree *t)
{
    while (t->chunks) {
        struct snapconf__arena_chunk *next = t->chunks->next;
        free(t->chunks);
        t->chunks = next;
    }
}

static void *arena_alloc(struct snapconf__mtree *t, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct snapconf__arena_chunk *c = t->chunks;
    if (!c || c->size - c->used < size) {
        size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
        c = malloc(sizeof *c + cap);
        if (!c) {
            t->oom = 1;
            return NULL;
        }
        c->size = cap;
        c->used = 0;
        c->next = t->chunks;
        t->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

static struct snapconf__mnode *mnode_new(struct snapconf__mtree *t, enum snapconf__mkind kind)
{
    struct snapconf__mnode *m = arena_alloc(t, sizeof *m);
    if (m) {
        memset(m, 0, sizeof *m);
        m->kind = kind;
    }
    return m;
}

struct snapconf__mnode *snapconf__mtree_borrow(struct snapconf__mtree *t,
                                               const struct snapconf_node *src)
{
    struct snapconf__mnode *m = mnode_new(t, SNAPCONF__M_BORROWED);
    if (m)
        m->src = src;
    return m;
}

struct snapconf__mnode *snapconf__mtree_map(struct snapconf__mtree *t, unsigned line,
                                            unsigned column)
{
    struct snapconf__mnode *m = mnode_new(t, SNAPCONF__M_MAP);
    if (m) {
        m->line = line;
        m->column = column;
    }
    return m;
}

struct snapconf__mnode *snapconf__mtree_scalar(struct snapconf__mtree *t,
                                               const struct snapconf__scalar *v, const char *text,
                                               size_t len, unsigned line)
{
    struct snapconf__mnode *m = mnode_new(t, SNAPCONF__M_SCALAR);
    if (m) {
        m->scalar = *v;
        m->text = text;
        m->text_len = len;
        m->line = line;
    }
    return m;
}

const char *snapconf__mtree_strdup(struct snapconf__mtree *t, const char *s, size_t len)
{
    char *p = arena_alloc(t, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

snapconf_type snapconf__mtree_type(const struct snapconf__mnode *m)
{
    switch (m->kind) {
    case SNAPCONF__M_MAP:
        return SNAPCONF_TYPE_MAP;
    case SNAPCONF__M_SEQ:
        return SNAPCONF_TYPE_SEQ;
    case SNAPCONF__M_SCALAR:
        return m->scalar.type;
    default:
        return snapconf__type(m->src);
    }
}

/* ------------------------------------------------------------------------- */
/* Mappings                                                                   */

static void index_put(struct snapconf__mnode *map, uint32_t item)
{
    uint32_t pos = map->items[item].hash & map->mask;
    while (map->slots[pos])
        pos = (pos + 1) & map->mask;
    map->slots[pos] = item + 1;
}

/* Keeps the index at most half full, so probes stay short. */
static int index_fit(struct snapconf__mtree *t, struct snapconf__mnode *map, uint32_t want)
{
    if (want <= SNAPCONF__SMALL_MAP || (map->slots && want <= (map->mask + 1) / 2))
        return 0;
    uint32_t size = 16;
    while (size / 2 < want)
        size *= 2;
    uint32_t *slots = arena_alloc(t, size * sizeof *slots);
    if (!slots)
        return SNAPCONF_ENOMEM;
    memset(slots, 0, size * sizeof *slots);
    map->slots = slots;
    map->mask = size - 1;
    for (uint32_t i = 0; i < map->n; i++)
        index_put(map, i);
    return 0;
}

static int items_fit(struct snapconf__mtree *t, struct snapconf__mnode *m, uint32_t want)
{
    if (want <= m->cap)
        return 0;
    uint32_t cap = m->cap ? m->cap * 2 : 8;
    while (cap < want)
        cap *= 2;
    struct snapconf__mentry *items = arena_alloc(t, cap * sizeof *items);
    if (!items)
        return SNAPCONF_ENOMEM;
    if (m->n)
        memcpy(items, m->items, m->n * sizeof *items);
    m->items = items;
    m->cap = cap;
    return 0;
}

struct snapconf__mentry *snapconf__mtree_find(struct snapconf__mnode *map, const char *key,
                                              uint32_t len, uint32_t hash)
{
    if (!map->slots) {
        for (uint32_t i = 0; i < map->n; i++) {
            struct snapconf__mentry *e = &map->items[i];
            if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
                return e;
        }
        return NULL;
    }
    for (uint32_t pos = hash & map->mask;; pos = (pos + 1) & map->mask) {
        uint32_t s = map->slots[pos];
        if (!s)
            return NULL;
        struct snapconf__mentry *e = &map->items[s - 1];
        if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
}

struct snapconf__mentry *snapconf__mtree_append(struct snapconf__mtree *t,
                                                struct snapconf__mnode *map, const char *key,
                                                uint32_t len, uint32_t hash,
                                                struct snapconf__mnode *val)
{
    if (items_fit(t, map, map->n + 1) || index_fit(t, map, map->n + 1))
        return NULL;
    struct snapconf__mentry *e = &map->items[map->n];
    *e = (struct snapconf__mentry){key, len, hash, val};
    map->n++;
    if (map->slots)
        index_put(map, map->n - 1);
    return e;
}

int snapconf__mtree_materialize(struct snapconf__mtree *t, struct snapconf__mnode *m)
{
    if (m->kind != SNAPCONF__M_BORROWED)
        return 0;
    snapconf_type type = snapconf__type(m->src);
    if (type != SNAPCONF_TYPE_MAP && type != SNAPCONF_TYPE_SEQ)
        return 0;
    uint32_t count = m->src->v.c.count;
    const struct snapconf_node *c = snapconf__children(m->src);
    if (items_fit(t, m, count) || (type == SNAPCONF_TYPE_MAP && index_fit(t, m, count)))
        return SNAPCONF_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        struct snapconf__mnode *v = snapconf__mtree_borrow(t, &c[i]);
        if (!v)
            return SNAPCONF_ENOMEM;
        struct snapconf__mentry *e = &m->items[i];
        *e = (struct snapconf__mentry){NULL, 0, 0, v};
        if (type == SNAPCONF_TYPE_MAP) {
            e->key = snapconf__at(&c[i], c[i].key);
            e->len = snapconf__key_len(e->key);
            e->hash = c[i].khash;
        }
    }
    m->n = count;
    if (m->slots)
        for (uint32_t i = 0; i < count; i++)
            index_put(m, i);
    m->line = m->src->line;
    m->column = snapconf_node_column(m->src);
    m->kind = type == SNAPCONF_TYPE_MAP ? SNAPCONF__M_MAP : SNAPCONF__M_SEQ;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Merging                                                                    */

static int merge_map(struct snapconf__mtree *t, struct snapconf__mnode **dst,
                     const struct snapconf_node *src, bool nulls_delete, unsigned depth);

static int merge_entry(struct snapconf__mtree *t, struct snapconf__mnode *map,
                       const struct snapconf_node *c, bool nulls_delete, unsigned depth)
{
    const char *key = snapconf__at(c, c->key);
    uint32_t len = snapconf__key_len(key);
    struct snapconf__mentry *e = snapconf__mtree_find(map, key, len, c->khash);
    snapconf_type type = snapconf__type(c);
    if (nulls_delete && type == SNAPCONF_TYPE_NULL) {
        if (e)
            e->val = NULL;
        return 0;
    }
    if (e && e->val && type == SNAPCONF_TYPE_MAP &&
        snapconf__mtree_type(e->val) == SNAPCONF_TYPE_MAP)
        return merge_map(t, &e->val, c, nulls_delete, depth + 1);
    struct snapconf__mnode *v = snapconf__mtree_borrow(t, c);
    if (!v)
        return SNAPCONF_ENOMEM;
    if (e)
        e->val = v;
    else if (!snapconf__mtree_append(t, map, key, len, c->khash, v))
        return SNAPCONF_ENOMEM;
    return 0;
}

static int merge_map(struct snapconf__mtree *t, struct snapconf__mnode **dst,
                     const struct snapconf_node *src, bool nulls_delete, unsigned depth)
{
    if (depth > MTREE_MAX_DEPTH)
        return SNAPCONF_ELIMIT;
    if (snapconf__type(src) != SNAPCONF_TYPE_MAP ||
        snapconf__mtree_type(*dst) != SNAPCONF_TYPE_MAP) {
        struct snapconf__mnode *v = snapconf__mtree_borrow(t, src);
        if (!v)
            return SNAPCONF_ENOMEM;
        *dst = v;
        return 0;
    }
    int rc = snapconf__mtree_materialize(t, *dst);
    const struct snapconf_node *c = snapconf__children(src);
    for (uint32_t i = 0; rc == 0 && i < src->v.c.count; i++)
        rc = merge_entry(t, *dst, &c[i], nulls_delete, depth);
    return rc;
}

int snapconf__mtree_merge(struct snapconf__mtree *t, struct snapconf__mnode **dst,
                          const struct snapconf_node *src, bool nulls_delete)
{
    return merge_map(t, dst, src, nulls_delete, 0);
}

/* ------------------------------------------------------------------------- */
/* Laying out                                                                 */

static int emit_key(snapconf__builder *b, const char *key, size_t len, unsigned line,
                    unsigned column)
{
    /* Not plain: a key "<<" that reached a layer as a key stays a key. */
    struct snapconf__scalar_event ev = {.text = key, .len = len, .line = line, .column = column};
    ev.value.type = SNAPCONF_TYPE_STRING;
    return snapconf__build_scalar(b, &ev);
}

static int emit_scalar(snapconf__builder *b, const struct snapconf_node *n)
{
    struct snapconf__scalar_event ev = {.line = n->line, .column = snapconf_node_column(n)};
    ev.value.type = snapconf__type(n);
    switch (ev.value.type) {
    case SNAPCONF_TYPE_STRING:
        ev.text = snapconf__at(n, n->v.s.off);
        ev.len = n->v.s.len;
        ev.tag = snapconf_node_tag(n);
        ev.quoted = snapconf_node_quoted(n);
        break;
    case SNAPCONF_TYPE_INT:
        ev.value.v.i = n->v.i;
        break;
    case SNAPCONF_TYPE_FLOAT:
        ev.value.v.d = n->v.d;
        break;
    case SNAPCONF_TYPE_BOOL:
        ev.value.v.b = n->v.b;
        break;
    default:
        break;
    }
    return snapconf__build_scalar(b, &ev);
}

static int emit_node(snapconf__builder *b, const struct snapconf_node *n, unsigned depth)
{
    snapconf_type type = snapconf__type(n);
    if (type != SNAPCONF_TYPE_MAP && type != SNAPCONF_TYPE_SEQ)
        return emit_scalar(b, n);
    if (depth > MTREE_MAX_DEPTH)
        return SNAPCONF_ELIMIT;
    int rc = snapconf__build_begin(b, type, NULL, n->line, snapconf_node_column(n));
    const struct snapconf_node *c = snapconf__children(n);
    for (uint32_t i = 0; rc == 0 && i < n->v.c.count; i++) {
        if (type == SNAPCONF_TYPE_MAP) {
            const char *key = snapconf__at(&c[i], c[i].key);
            rc = emit_key(b, key, snapconf__key_len(key), c[i].line, snapconf_node_column(&c[i]));
        }
        if (rc == 0)
            rc = emit_node(b, &c[i], depth + 1);
    }
    return rc ? rc : snapconf__build_end(b);
}

static int emit(snapconf__builder *b, const struct snapconf__mnode *m, unsigned depth);

static int emit_container(snapconf__builder *b, const struct snapconf__mnode *m, unsigned depth)
{
    bool map = m->kind == SNAPCONF__M_MAP;
    int rc = snapconf__build_begin(b, map ? SNAPCONF_TYPE_MAP : SNAPCONF_TYPE_SEQ, NULL, m->line,
                                   m->column);
    for (uint32_t i = 0; rc == 0 && i < m->n; i++) {
        const struct snapconf__mentry *e = &m->items[i];
        if (!e->val)
            continue;
        if (map) {
            const struct snapconf__mnode *v = e->val;
            unsigned line = v->kind == SNAPCONF__M_BORROWED ? v->src->line : v->line;
            unsigned col =
                v->kind == SNAPCONF__M_BORROWED ? snapconf_node_column(v->src) : v->column;
            rc = emit_key(b, e->key, e->len, line, col);
        }
        if (rc == 0)
            rc = emit(b, e->val, depth + 1);
    }
    return rc ? rc : snapconf__build_end(b);
}

static int emit(snapconf__builder *b, const struct snapconf__mnode *m, unsigned depth)
{
    if (depth > MTREE_MAX_DEPTH)
        return SNAPCONF_ELIMIT;
    switch (m->kind) {
    case SNAPCONF__M_BORROWED:
        return emit_node(b, m->src, depth);
    case SNAPCONF__M_SCALAR: {
        struct snapconf__scalar_event ev = {
            .text = m->text, .len = m->text_len, .value = m->scalar, .line = m->line, .column = 0};
        return snapconf__build_scalar(b, &ev);
    }
    default:
        return emit_container(b, m, depth);
    }
}

int snapconf__mtree_emit(snapconf__builder *b, const struct snapconf__mnode *m)
{
    return emit(b, m, 0);
}
