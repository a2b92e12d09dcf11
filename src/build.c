/* The snapshot builder: frames, pending children, anchors, merge keys, layout. */
#include "build.h"
#include "error.h"
#include "hash.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The string pool stays well below 2 GiB so that every offset in the final
 * block fits in 32 bits. */
#define POOL_MAX ((size_t)1 << 30)

/* A finished child waiting for its container to close. */
struct snapconf__pending {
    struct snapconf_node n; /* build form: offsets are absolute */
    uint64_t size;          /* expanded node count */
    uint32_t kline, kcol;   /* where its key was written */
};

struct snapconf__frame {
    snapconf_type type;
    size_t start; /* first pending entry of this container */
    unsigned line, column;
    long anchor; /* anchor to complete when this closes, or -1 */
    bool have_key;
    bool key_is_merge;
    bool has_merge;
    uint32_t koff, khash, kline, kcol;
    unsigned child_height; /* tallest child: 0 for scalars, 1 + ... for containers */
};

struct snapconf__anchor {
    char *name;
    struct snapconf_node n;
    uint64_t size;
    unsigned height; /* containers on the longest path down, itself included */
    bool open;       /* its container has not closed yet */
    char *text;      /* scalar text, for use as a key; NULL for containers */
    size_t len;
};

/* ------------------------------------------------------------------------- */
/* Growable arrays                                                            */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return SNAPCONF_ENOMEM;
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (!q)
        return SNAPCONF_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

#define GROW(b, arr, cap, need) grow((void **)&(arr), &(cap), (need), sizeof *(arr))

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n)
        p *= 2;
    return p;
}

static int oom(snapconf__builder *b)
{
    return snapconf__error(b->err, SNAPCONF_ENOMEM, b->name, 0, 0,
                           "out of memory while building the snapshot");
}

static int pool_limit(snapconf__builder *b, unsigned line, unsigned col)
{
    return snapconf__error(b->err, SNAPCONF_ELIMIT, b->name, line, col,
                           "the configuration's text exceeds 2 GiB, the most a snapshot holds");
}

/* ------------------------------------------------------------------------- */
/* Set-up                                                                     */

void snapconf__builder_init(snapconf__builder *b, const char *name, const snapconf_options *opts,
                            snapconf_error *err)
{
    memset(b, 0, sizeof *b);
    b->name = name;
    b->err = err;
    if (opts)
        b->opts = *opts;
    else
        snapconf_options_init(&b->opts);
}

void snapconf__builder_fini(snapconf__builder *b)
{
    for (size_t i = 0; i < b->anchors_len; i++) {
        free(b->anchors[i].name);
        free(b->anchors[i].text);
    }
    free(b->anchors);
    free(b->anchor_index);
    free(b->out);
    free(b->out_size);
    free(b->pend);
    free(b->frames);
    free(b->pool);
    free(b->intern);
    free(b->index);
    free(b->scratch);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------------- */
/* The string pool and key interning                                          */

/* Appends bytes plus a NUL; returns the offset of the bytes or 0 on failure.
 * The pool starts with one spare byte, so 0 is never a valid offset. */
static uint32_t pool_add(snapconf__builder *b, const char *s, size_t len, size_t prefix)
{
    if (b->pool_len == 0)
        b->pool_len = 1;
    size_t need = b->pool_len + prefix + len + 1;
    if (need > POOL_MAX + 16 || GROW(b, b->pool, b->pool_cap, need))
        return 0;
    char *p = b->pool + b->pool_len + prefix;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    b->pool_len = need;
    return (uint32_t)(p - b->pool);
}

static int intern_rehash(snapconf__builder *b)
{
    size_t cap = b->intern_cap ? b->intern_cap * 2 : 256;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return SNAPCONF_ENOMEM;
    for (size_t i = 0; i < b->intern_cap; i++) {
        uint32_t off = b->intern[i];
        if (!off)
            continue;
        const char *k = b->pool + off;
        size_t pos = snapconf__key_hash(k, snapconf__key_len(k)) & (cap - 1);
        while (slots[pos])
            pos = (pos + 1) & (cap - 1);
        slots[pos] = off;
    }
    free(b->intern);
    b->intern = slots;
    b->intern_cap = cap;
    return 0;
}

/* Stores each distinct key once: configs repeat the same few keys in every
 * record, and equal keys then compare as equal offsets. */
static uint32_t intern_key(snapconf__builder *b, const char *s, size_t len, uint32_t h)
{
    if ((b->intern_used + 1) * 2 > b->intern_cap && intern_rehash(b))
        return 0;
    size_t mask = b->intern_cap - 1;
    for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
        uint32_t off = b->intern[pos];
        if (!off)
            break;
        const char *k = b->pool + off;
        if (snapconf__key_len(k) == len && snapconf__bytes_equal(k, s, len))
            return off;
    }
    uint32_t off = pool_add(b, s, len, sizeof(uint32_t));
    if (!off)
        return 0;
    uint32_t len32 = (uint32_t)len;
    memcpy(b->pool + off - sizeof len32, &len32, sizeof len32);
    size_t pos = h & mask;
    while (b->intern[pos])
        pos = (pos + 1) & mask;
    b->intern[pos] = off;
    b->intern_used++;
    return off;
}

/* ------------------------------------------------------------------------- */
/* Limits and attaching finished nodes                                        */

static int count_nodes(snapconf__builder *b, uint64_t n, unsigned line, unsigned col)
{
    b->total_nodes += n;
    if (b->total_nodes <= b->opts.max_nodes)
        return 0;
    return snapconf__error(b->err, SNAPCONF_ELIMIT, b->name, line, col,
                           "more than %zu values after expanding aliases and merge keys "
                           "(max_nodes); is this an alias bomb? If not, raise max_nodes",
                           b->opts.max_nodes);
}

static struct snapconf__frame *top(snapconf__builder *b)
{
    return b->depth ? &b->frames[b->depth - 1] : NULL;
}

/* Hands a finished value to its container (or makes it the root). */
static int attach(snapconf__builder *b, struct snapconf_node n, uint64_t size, unsigned height,
                  bool counted)
{
    struct snapconf__frame *f = top(b);
    if (f && height > f->child_height)
        f->child_height = height;
    if (!f) {
        b->root = n;
        b->root_size = size;
        b->have_root = 1;
        return 0;
    }
    if (GROW(b, b->pend, b->pend_cap, b->pend_len + 1))
        return oom(b);
    struct snapconf__pending *p = &b->pend[b->pend_len++];
    unsigned flags = snapconf__flags(&n) & ~(unsigned)SNAPCONF__F_MERGE;
    p->kline = p->kcol = 0;
    if (f->type == SNAPCONF_TYPE_MAP) {
        n.key = (int32_t)f->koff;
        n.khash = f->khash;
        p->kline = f->kline;
        p->kcol = f->kcol;
        if (f->key_is_merge) {
            /* A merge value is replaced by the entries it contributes, which
             * are counted as they are placed; an alias's was never counted. */
            flags |= SNAPCONF__F_MERGE;
            f->has_merge = true;
            if (counted)
                b->total_nodes -= size;
        }
        f->have_key = false;
    } else {
        n.key = 0;
        n.khash = 0;
    }
    n.meta = snapconf__meta(snapconf__type(&n), flags, n.meta & SNAPCONF__COL_MAX);
    p->n = n;
    p->size = size;
    return 0;
}

static bool expecting_key(snapconf__builder *b)
{
    struct snapconf__frame *f = top(b);
    return f && f->type == SNAPCONF_TYPE_MAP && !f->have_key;
}

static int set_key(snapconf__builder *b, const char *text, size_t len, bool plain, unsigned line,
                   unsigned col)
{
    struct snapconf__frame *f = top(b);
    uint32_t h = snapconf__key_hash(text, len);
    if (len > POOL_MAX - b->pool_len)
        return pool_limit(b, line, col);
    uint32_t off = intern_key(b, text, len, h);
    if (!off)
        return oom(b);
    f->have_key = true;
    f->key_is_merge = plain && len == 2 && text[0] == '<' && text[1] == '<';
    f->koff = off;
    f->khash = h;
    f->kline = line;
    f->kcol = col;
    return 0;
}

static int depth_limit(snapconf__builder *b, unsigned line, unsigned column)
{
    return snapconf__error(b->err, SNAPCONF_ELIMIT, b->name, line, column,
                           "nesting deeper than %u levels (max_depth), counting what aliases "
                           "expand to; flatten the structure or raise the limit",
                           b->opts.max_depth);
}

static int non_scalar_key(snapconf__builder *b, unsigned line, unsigned col)
{
    return snapconf__error(b->err, SNAPCONF_EPARSE, b->name, line, col,
                           "mapping keys must be scalars, but this key is a mapping or a "
                           "sequence; use a string key");
}

/* ------------------------------------------------------------------------- */
/* Anchors                                                                    */

static uint32_t name_hash(const char *name)
{
    return snapconf__key_hash(name, strlen(name));
}

static int anchor_reindex(snapconf__builder *b)
{
    size_t cap = pow2_at_least(b->anchors_len * 2 + 2);
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return SNAPCONF_ENOMEM;
    free(b->anchor_index);
    b->anchor_index = slots;
    b->anchor_index_cap = cap;
    /* Later definitions replace earlier ones: insert oldest first, overwrite. */
    for (size_t i = 0; i < b->anchors_len; i++) {
        size_t pos = name_hash(b->anchors[i].name) & (cap - 1);
        while (slots[pos] && strcmp(b->anchors[slots[pos] - 1].name, b->anchors[i].name) != 0)
            pos = (pos + 1) & (cap - 1);
        slots[pos] = (uint32_t)i + 1;
    }
    return 0;
}

static struct snapconf__anchor *anchor_find(snapconf__builder *b, const char *name)
{
    if (!b->anchor_index_cap)
        return NULL;
    size_t mask = b->anchor_index_cap - 1;
    for (size_t pos = name_hash(name) & mask; b->anchor_index[pos]; pos = (pos + 1) & mask) {
        struct snapconf__anchor *a = &b->anchors[b->anchor_index[pos] - 1];
        if (strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

/* Records a new anchor; returns its number or -1 (error set). */
static long anchor_add(snapconf__builder *b, const char *name)
{
    if (GROW(b, b->anchors, b->anchors_cap, b->anchors_len + 1))
        return oom(b), -1;
    struct snapconf__anchor *a = &b->anchors[b->anchors_len];
    memset(a, 0, sizeof *a);
    a->name = strdup(name);
    if (!a->name)
        return oom(b), -1;
    a->open = true;
    b->anchors_len++;
    if (b->anchors_len * 2 > b->anchor_index_cap) {
        if (anchor_reindex(b))
            return oom(b), -1;
    } else {
        size_t mask = b->anchor_index_cap - 1;
        size_t pos = name_hash(name) & mask;
        while (b->anchor_index[pos] && strcmp(b->anchors[b->anchor_index[pos] - 1].name, name) != 0)
            pos = (pos + 1) & mask;
        b->anchor_index[pos] = (uint32_t)b->anchors_len;
    }
    return (long)b->anchors_len - 1;
}

static void anchor_close(snapconf__builder *b, long i, struct snapconf_node n, uint64_t size,
                         unsigned height)
{
    struct snapconf__anchor *a = &b->anchors[i];
    a->n = n;
    a->size = size;
    a->height = height;
    a->open = false;
}

/* ------------------------------------------------------------------------- */
/* Scalars and aliases                                                        */

static int store_string(snapconf__builder *b, const struct snapconf__scalar_event *ev,
                        struct snapconf_node *n)
{
    size_t taglen = ev->tag ? strlen(ev->tag) + 1 : 0;
    if (ev->len + taglen > POOL_MAX - b->pool_len)
        return pool_limit(b, ev->line, ev->column);
    uint32_t off = pool_add(b, ev->text, ev->len, 0);
    if (off && taglen) {
        /* The tag rides right after the string's NUL (see snapconf_node_tag). */
        size_t tagoff = b->pool_len;
        if (!pool_add(b, ev->tag, taglen - 1, 0) || tagoff != off + ev->len + 1)
            off = 0;
    }
    if (!off)
        return oom(b);
    n->v.s.off = (int32_t)off;
    n->v.s.len = (uint32_t)ev->len;
    return 0;
}

static int add_anchor_text(snapconf__builder *b, const struct snapconf__scalar_event *ev,
                           struct snapconf_node n)
{
    long i = anchor_add(b, ev->anchor);
    if (i < 0)
        return SNAPCONF_ENOMEM;
    struct snapconf__anchor *a = &b->anchors[i];
    a->text = malloc(ev->len + 1);
    if (!a->text)
        return oom(b);
    memcpy(a->text, ev->text, ev->len);
    a->text[ev->len] = '\0';
    a->len = ev->len;
    anchor_close(b, i, n, 1, 0);
    return 0;
}

bool snapconf__build_expecting_key(const snapconf__builder *b)
{
    return b->depth && b->frames[b->depth - 1].type == SNAPCONF_TYPE_MAP &&
           !b->frames[b->depth - 1].have_key;
}

int snapconf__build_scalar(snapconf__builder *b, const struct snapconf__scalar_event *ev)
{
    int rc;
    struct snapconf_node n;
    memset(&n, 0, sizeof n);
    n.line = ev->line;
    unsigned flags = (ev->quoted ? SNAPCONF__F_QUOTED : 0) |
                     (ev->tag && ev->value.type == SNAPCONF_TYPE_STRING ? SNAPCONF__F_TAGGED : 0);
    n.meta = snapconf__meta(ev->value.type, flags, ev->column);
    if (ev->value.type == SNAPCONF_TYPE_STRING) {
        if ((rc = store_string(b, ev, &n)))
            return rc;
    } else if (ev->value.type == SNAPCONF_TYPE_INT) {
        n.v.i = ev->value.v.i;
    } else if (ev->value.type == SNAPCONF_TYPE_FLOAT) {
        n.v.d = ev->value.v.d;
    } else if (ev->value.type == SNAPCONF_TYPE_BOOL) {
        n.v.b = ev->value.v.b;
    }
    if (ev->anchor && (rc = add_anchor_text(b, ev, n)))
        return rc;
    if (expecting_key(b))
        return set_key(b, ev->text, ev->len, ev->plain && !ev->tag, ev->line, ev->column);
    if ((rc = count_nodes(b, 1, ev->line, ev->column)))
        return rc;
    return attach(b, n, 1, 0, true);
}

int snapconf__build_alias(snapconf__builder *b, const char *anchor, unsigned line, unsigned column)
{
    struct snapconf__anchor *a = anchor_find(b, anchor);
    if (!a)
        return snapconf__error(b->err, SNAPCONF_EPARSE, b->name, line, column,
                               "unknown alias '*%s': no anchor '&%s' is defined before it", anchor,
                               anchor);
    if (a->open)
        return snapconf__error(b->err, SNAPCONF_EPARSE, b->name, line, column,
                               "alias '*%s' refers to a value that contains it; recursive "
                               "structures cannot be loaded",
                               anchor);
    if (expecting_key(b)) {
        if (!a->text)
            return non_scalar_key(b, line, column);
        return set_key(b, a->text, a->len, false, line, column);
    }
    /* Aliases share the anchored subtree, so an alias can make the tree
     * deeper than any nesting written in the file: check it here. */
    if (b->depth + a->height > b->opts.max_depth)
        return depth_limit(b, line, column);
    if (top(b) && top(b)->key_is_merge)
        return attach(b, a->n, a->size, a->height, false);
    int rc = count_nodes(b, a->size, line, column);
    return rc ? rc : attach(b, a->n, a->size, a->height, true);
}

/* ------------------------------------------------------------------------- */
/* Containers                                                                 */

int snapconf__build_begin(snapconf__builder *b, snapconf_type type, const char *anchor,
                          unsigned line, unsigned column)
{
    if (expecting_key(b))
        return non_scalar_key(b, line, column);
    if (b->depth >= b->opts.max_depth)
        return depth_limit(b, line, column);
    int rc = count_nodes(b, 1, line, column);
    if (rc)
        return rc;
    if (GROW(b, b->frames, b->frames_cap, b->depth + 1))
        return oom(b);
    struct snapconf__frame *f = &b->frames[b->depth];
    memset(f, 0, sizeof *f);
    f->type = type;
    f->start = b->pend_len;
    f->line = line;
    f->column = column;
    f->anchor = -1;
    if (anchor && (f->anchor = anchor_add(b, anchor)) < 0)
        return SNAPCONF_ENOMEM;
    b->depth++;
    return 0;
}

static uint32_t first_child(const snapconf__builder *b, const struct snapconf_node *n)
{
    if (snapconf__flags(n) & SNAPCONF__F_INDEXED)
        return b->index[n->v.c.off];
    return (uint32_t)n->v.c.off;
}

static char *key_text(const snapconf__builder *b, uint32_t koff)
{
    return b->pool + koff;
}

/* A set of interned key offsets, in the scratch buffer. */
static int keyset_init(snapconf__builder *b, size_t n, size_t *mask)
{
    size_t cap = pow2_at_least(n * 2 + 1);
    if (GROW(b, b->scratch, b->scratch_cap, cap))
        return SNAPCONF_ENOMEM;
    memset(b->scratch, 0, cap * sizeof *b->scratch);
    *mask = cap - 1;
    return 0;
}

/* Adds koff; returns false when it was already there. */
static bool keyset_add(snapconf__builder *b, size_t mask, uint32_t koff, uint32_t h)
{
    for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
        if (b->scratch[pos] == koff)
            return false;
        if (!b->scratch[pos]) {
            b->scratch[pos] = koff;
            return true;
        }
    }
}

static int duplicate_key(snapconf__builder *b, const struct snapconf__pending *first,
                         const struct snapconf__pending *again)
{
    char k[96];
    const char *key = key_text(b, (uint32_t)again->n.key);
    snapconf__excerpt(k, sizeof k, key, snapconf__key_len(key), 64);
    return snapconf__error(b->err, SNAPCONF_EPARSE, b->name, again->kline, again->kcol,
                           "duplicate key '%s' (first defined at line %u)", k, first->kline);
}

static const struct snapconf__pending *find_first(const snapconf__builder *b, size_t start,
                                                  size_t end, uint32_t koff)
{
    for (size_t i = start; i < end; i++)
        if ((uint32_t)b->pend[i].n.key == koff &&
            !(snapconf__flags(&b->pend[i].n) & SNAPCONF__F_MERGE))
            return &b->pend[i];
    return NULL;
}

/* Rejects a mapping with a key written twice; leaves the explicit keys in
 * the scratch set for the merge step. */
static int check_duplicates(snapconf__builder *b, size_t start, size_t end, size_t extra,
                            size_t *mask)
{
    if (keyset_init(b, end - start + extra, mask))
        return oom(b);
    for (size_t i = start; i < end; i++) {
        const struct snapconf__pending *p = &b->pend[i];
        if (snapconf__flags(&p->n) & SNAPCONF__F_MERGE)
            continue;
        if (!keyset_add(b, *mask, (uint32_t)p->n.key, p->n.khash))
            return duplicate_key(b, find_first(b, start, i, (uint32_t)p->n.key), p);
    }
    return 0;
}

static int place(snapconf__builder *b, const struct snapconf_node *n, uint64_t size)
{
    if (b->out_len == b->out_cap) {
        size_t size_cap = b->out_cap;
        if (GROW(b, b->out, b->out_cap, b->out_len + 1) ||
            GROW(b, b->out_size, size_cap, b->out_cap))
            return oom(b);
    }
    b->out[b->out_len] = *n;
    b->out_size[b->out_len] = size;
    b->out_len++;
    return 0;
}

static int bad_merge(snapconf__builder *b, const struct snapconf__pending *p, const char *what)
{
    return snapconf__error(b->err, SNAPCONF_EPARSE, b->name, p->kline, p->kcol,
                           "merge key '<<' needs a mapping or a list of mappings, not %s", what);
}

/* Places the entries of one merged mapping that no explicit key and no
 * earlier merged mapping has claimed. */
static int merge_map(snapconf__builder *b, size_t mask, const struct snapconf_node *src,
                     const struct snapconf__pending *at, uint64_t *size, uint32_t *count)
{
    uint32_t first = first_child(b, src);
    for (uint32_t i = 0; i < src->v.c.count; i++) {
        struct snapconf_node c = b->out[first + i];
        uint64_t csize = b->out_size[first + i];
        if (!keyset_add(b, mask, (uint32_t)c.key, c.khash))
            continue;
        int rc = count_nodes(b, csize, at->kline, at->kcol);
        if (rc || (rc = place(b, &c, csize)))
            return rc;
        *size += csize;
        (*count)++;
    }
    return 0;
}

static int merge_entry(snapconf__builder *b, size_t mask, const struct snapconf__pending *p,
                       uint64_t *size, uint32_t *count)
{
    const struct snapconf_node *v = &p->n;
    snapconf_type t = snapconf__type(v);
    if (t == SNAPCONF_TYPE_MAP)
        return merge_map(b, mask, v, p, size, count);
    if (t != SNAPCONF_TYPE_SEQ)
        return bad_merge(b, p, snapconf_type_name(t));
    uint32_t first = first_child(b, v);
    for (uint32_t i = 0; i < v->v.c.count; i++) {
        /* Copy: placing merged entries may move b->out. */
        struct snapconf_node item = b->out[first + i];
        if (snapconf__type(&item) != SNAPCONF_TYPE_MAP)
            return bad_merge(b, p, "a list holding a non-mapping");
        int rc = merge_map(b, mask, &item, p, size, count);
        if (rc)
            return rc;
    }
    return 0;
}

static size_t merge_extra(const snapconf__builder *b, size_t start, size_t end)
{
    size_t extra = 0;
    for (size_t i = start; i < end; i++) {
        const struct snapconf_node *n = &b->pend[i].n;
        if (!(snapconf__flags(n) & SNAPCONF__F_MERGE) || !snapconf__is_container(n))
            continue;
        if (snapconf__type(n) == SNAPCONF_TYPE_MAP) {
            extra += n->v.c.count;
            continue;
        }
        uint32_t first = first_child(b, n);
        for (uint32_t j = 0; j < n->v.c.count; j++)
            extra += snapconf__is_container(&b->out[first + j]) ? b->out[first + j].v.c.count : 0;
    }
    return extra;
}

/* Moves the children to the output, resolving merge keys in place. */
static int place_children(snapconf__builder *b, const struct snapconf__frame *f, size_t mask,
                          uint64_t *size, uint32_t *count)
{
    for (size_t i = f->start; i < b->pend_len; i++) {
        const struct snapconf__pending *p = &b->pend[i];
        int rc;
        if (snapconf__flags(&p->n) & SNAPCONF__F_MERGE)
            rc = merge_entry(b, mask, p, size, count);
        else if ((rc = place(b, &p->n, p->size)) == 0) {
            *size += p->size;
            (*count)++;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Builds the open-addressing index of a large mapping; returns its word
 * offset in b->index, or -1. */
static long build_index(snapconf__builder *b, uint32_t first, uint32_t count)
{
    size_t cap = pow2_at_least((size_t)count * 2);
    size_t at = b->index_len;
    if (GROW(b, b->index, b->index_cap, at + 2 + cap))
        return -1;
    uint32_t *ix = b->index + at;
    ix[0] = first;
    ix[1] = (uint32_t)(cap - 1);
    memset(ix + 2, 0, cap * sizeof *ix);
    for (uint32_t i = 0; i < count; i++) {
        size_t pos = b->out[first + i].khash & (cap - 1);
        while (ix[2 + pos])
            pos = (pos + 1) & (cap - 1);
        ix[2 + pos] = i + 1;
    }
    b->index_len = at + 2 + cap;
    return (long)at;
}

static int close_map(snapconf__builder *b, struct snapconf__frame *f, struct snapconf_node *n,
                     uint64_t *size)
{
    size_t mask = 0;
    size_t extra = f->has_merge ? merge_extra(b, f->start, b->pend_len) : 0;
    int rc = check_duplicates(b, f->start, b->pend_len, extra, &mask);
    if (rc)
        return rc;
    uint32_t first = (uint32_t)b->out_len, count = 0;
    if ((rc = place_children(b, f, mask, size, &count)))
        return rc;
    n->v.c.count = count;
    n->v.c.off = (int32_t)first;
    if (count > SNAPCONF__SMALL_MAP) {
        long at = build_index(b, first, count);
        if (at < 0)
            return oom(b);
        n->v.c.off = (int32_t)at;
        n->meta |= (uint32_t)SNAPCONF__F_INDEXED << (SNAPCONF__COL_BITS + 4);
    }
    return 0;
}

static int close_seq(snapconf__builder *b, struct snapconf__frame *f, struct snapconf_node *n,
                     uint64_t *size)
{
    uint32_t first = (uint32_t)b->out_len;
    for (size_t i = f->start; i < b->pend_len; i++) {
        int rc = place(b, &b->pend[i].n, b->pend[i].size);
        if (rc)
            return rc;
        *size += b->pend[i].size;
    }
    n->v.c.off = (int32_t)first;
    n->v.c.count = (uint32_t)(b->pend_len - f->start);
    return 0;
}

int snapconf__build_end(snapconf__builder *b)
{
    struct snapconf__frame *f = top(b);
    struct snapconf_node n;
    memset(&n, 0, sizeof n);
    n.line = f->line;
    n.meta = snapconf__meta(f->type, 0, f->column);
    uint64_t size = 1;
    if (b->out_len + (b->pend_len - f->start) > UINT32_MAX / 2)
        return snapconf__error(b->err, SNAPCONF_ELIMIT, b->name, f->line, f->column,
                               "too many values for one snapshot");
    int rc = f->type == SNAPCONF_TYPE_MAP ? close_map(b, f, &n, &size) : close_seq(b, f, &n, &size);
    if (rc)
        return rc;
    b->pend_len = f->start;
    long anchor = f->anchor;
    unsigned height = f->child_height + 1;
    b->depth--;
    if (anchor >= 0)
        anchor_close(b, anchor, n, size, height);
    return attach(b, n, size, height, true);
}

/* ------------------------------------------------------------------------- */
/* Layout                                                                     */

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

struct layout {
    char *block;
    struct snapconf_node *nodes;
    uint32_t *index;
    char *pool;
};

static int32_t rel(const void *from, const void *to)
{
    return (int32_t)((const char *)to - (const char *)from);
}

static void relocate_node(const struct layout *l, const snapconf__builder *b, size_t i)
{
    struct snapconf_node *d = &l->nodes[i];
    *d = i < b->out_len ? b->out[i] : b->root;
    if (d->key)
        d->key = rel(d, l->pool + d->key);
    switch (snapconf__type(d)) {
    case SNAPCONF_TYPE_STRING:
        d->v.s.off = rel(d, l->pool + d->v.s.off);
        break;
    case SNAPCONF_TYPE_MAP:
    case SNAPCONF_TYPE_SEQ:
        if (snapconf__flags(d) & SNAPCONF__F_INDEXED)
            d->v.c.off = rel(d, l->index + d->v.c.off);
        else
            d->v.c.off = rel(d, l->nodes + d->v.c.off);
        break;
    default:
        break;
    }
}

static void relocate_indexes(const struct layout *l, const snapconf__builder *b)
{
    for (size_t at = 0; at < b->index_len;) {
        uint32_t *ix = l->index + at;
        uint32_t first = ix[0];
        size_t slots = (size_t)ix[1] + 1;
        int32_t r = rel(ix, l->nodes + first);
        memcpy(&ix[0], &r, sizeof r);
        at += 2 + slots;
    }
}

int snapconf__build_finish(snapconf__builder *b, const char *hash, snapconf_snap **out)
{
    /* A file emptied by accident (a failed `>` redirect, a full disk, a
     * truncation caught half-way) must not replace a live configuration
     * with nothing; an empty configuration is written as {}. */
    if (!b->have_root)
        return snapconf__error(b->err, SNAPCONF_EPARSE, b->name, 1, 1,
                               "no YAML document: the file is empty or holds only comments; "
                               "write {} for an empty configuration");
    size_t nnodes = b->out_len + 1;
    size_t name_len = strlen(b->name) + 1;
    size_t off_nodes = ALIGN8(sizeof(struct snapconf_snap));
    size_t off_index = off_nodes + nnodes * sizeof(struct snapconf_node);
    size_t off_pool = off_index + b->index_len * sizeof(uint32_t);
    size_t off_name = off_pool + b->pool_len;
    size_t total = off_name + name_len;
    if (total > INT32_MAX)
        return snapconf__error(b->err, SNAPCONF_ELIMIT, b->name, 0, 0,
                               "the snapshot would exceed 2 GiB, the most one can hold");
    struct layout l;
    l.block = malloc(total);
    if (!l.block)
        return oom(b);
    l.nodes = (struct snapconf_node *)(void *)(l.block + off_nodes);
    l.index = (uint32_t *)(void *)(l.block + off_index);
    l.pool = l.block + off_pool;
    if (b->index_len)
        memcpy(l.index, b->index, b->index_len * sizeof(uint32_t));
    if (b->pool_len)
        memcpy(l.pool, b->pool, b->pool_len);
    memcpy(l.block + off_name, b->name, name_len);
    for (size_t i = 0; i < nnodes; i++)
        relocate_node(&l, b, i);
    relocate_indexes(&l, b);

    struct snapconf_snap *s = (struct snapconf_snap *)(void *)l.block;
    memset(s, 0, sizeof *s); /* the memo starts empty */
    s->root = &l.nodes[nnodes - 1];
    s->nodes = l.nodes;
    s->memory = total;
    s->node_count = (size_t)b->root_size;
    s->source = l.block + off_name;
    snprintf(s->content_hash, sizeof s->content_hash, "%s", hash);
    *out = s;
    return 0;
}
