/* Compiled paths: parsed and hashed once, looked up many times. */
#include "error.h"
#include "path.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const unsigned char snapconf__path_stop[256] = {
    ['\0'] = 1, ['.'] = 1, ['['] = 1, [']'] = 1, ['"'] = 1,
};

struct snapconf_path {
    int memo_slot;     /* in every snapshot's memo, or -1 when all are taken */
    uint64_t memo_tag; /* incarnation << SNAPCONF__MEMO_NODE_BITS */
    size_t nseg;
    const char *canonical;
    struct snapconf__seg seg[];
    /* followed by the unescaped keys, then the canonical text */
};

/* Counts segments and the bytes their keys take, validating the syntax.
 * buf must hold the longest unescaped key (the path's length will do). */
static int measure(const char *path, char *buf, size_t bufsize, size_t *nseg, size_t *keybytes,
                   size_t *bad)
{
    const char *p = path;
    struct snapconf__seg s;
    *nseg = *keybytes = 0;
    for (;;) {
        int rc = snapconf__seg_next(&p, &s, buf, bufsize);
        if (rc == 1)
            return 0;
        if (rc) {
            *bad = (size_t)(p - path);
            return rc;
        }
        (*nseg)++;
        *keybytes += s.is_index ? 0 : s.len;
    }
}

/* The column (from 1) of the quote or '[' still open at the end of path,
 * with *quote telling which; 0 when none is. */
static size_t unclosed_at(const char *path, bool *quote)
{
    size_t open = 0;
    bool in_quote = false, in_index = false;
    for (size_t i = 0; path[i]; i++) {
        if (in_quote) {
            if (path[i] == '\\' && path[i + 1])
                i++;
            else if (path[i] == '"')
                in_quote = false;
        } else if (path[i] == '"' || path[i] == '[') {
            in_quote = path[i] == '"';
            in_index = !in_quote;
            open = i + 1;
        } else if (path[i] == ']') {
            in_index = false;
        }
    }
    *quote = in_quote;
    return in_quote || in_index ? open : 0;
}

/* Says in words what is wrong at path[bad], into buf when it needs a
 * number. */
static const char *path_problem(const char *path, size_t bad, char *buf, size_t bufsize)
{
    char c = path[bad];
    char prev = bad ? path[bad - 1] : '\0';
    if (prev == '[' && c >= '0' && c <= '9')
        return "the index is too large (at most 4294967295)";
    if (prev == '[' || (prev >= '0' && prev <= '9' && c != '\0'))
        return "an index is a number in brackets, like [0]";
    bool quote;
    size_t open = c == '\0' ? unclosed_at(path, &quote) : 0;
    if (open) {
        snprintf(buf, bufsize, "the %s at column %zu is never closed; add the closing %s",
                 quote ? "quote" : "'['", open, quote ? "'\"'" : "']'");
        return buf;
    }
    if (c == '\0')
        return prev == '.' ? "the path ends with a dot"
                           : "the path ends too early (unclosed quote or bracket?)";
    if (c == '.')
        return bad == 0 ? "the path starts with a dot" : "empty key between two dots";
    if (c == '[' && prev == '.')
        return "an index follows its key directly, like a[0], without a dot";
    if (c == '\\')
        return "only \\\" and \\\\ are escapes inside a quoted key";
    if (c == '"')
        return "a quote may only start a key; quote the whole key, like \"a.b\"";
    if (c == ']')
        return "a ']' without its '['; an index is written like a[0]";
    return "expected a dot, an [index] or the end of the path";
}

static bool needs_quotes(const char *key, size_t len)
{
    if (len == 0)
        return true;
    for (size_t i = 0; i < len; i++)
        if (!snapconf__bare_char(key[i]))
            return true;
    return false;
}

size_t snapconf__canonical_seg(const struct snapconf__seg *s, bool first, char *out)
{
    char tmp[24];
    size_t n = 0;
    if (s->is_index) {
        n = (size_t)snprintf(tmp, sizeof tmp, "[%u]", s->index);
        if (out)
            memcpy(out, tmp, n);
        return n;
    }
    if (!first && out)
        out[n] = '.';
    n += !first;
    if (!needs_quotes(s->key, s->len)) {
        if (out)
            memcpy(out + n, s->key, s->len);
        return n + s->len;
    }
    if (out)
        out[n] = '"';
    n++;
    for (uint32_t i = 0; i < s->len; i++) {
        char c = s->key[i];
        if (c == '"' || c == '\\') {
            if (out)
                out[n] = '\\';
            n++;
        }
        if (out)
            out[n] = c;
        n++;
    }
    if (out)
        out[n] = '"';
    return n + 1;
}

static void fill(struct snapconf_path *cp, const char *path, char *buf, size_t bufsize, char *keys)
{
    const char *p = path;
    for (size_t i = 0; i < cp->nseg; i++) {
        struct snapconf__seg *s = &cp->seg[i];
        snapconf__seg_next(&p, s, buf, bufsize);
        if (!s->is_index) {
            memcpy(keys, s->key, s->len);
            s->key = keys;
            keys += s->len;
        }
    }
}

/* Memo slots: taken at compile, given back at free; each taking gets the
 * slot's next incarnation. */
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t memo_incarnation[SNAPCONF__MEMO_SLOTS];
static uint64_t memo_used[SNAPCONF__MEMO_SLOTS / 64];

static void memo_take(struct snapconf_path *cp)
{
    cp->memo_slot = -1;
    pthread_mutex_lock(&memo_lock);
    for (int i = 0; i < SNAPCONF__MEMO_SLOTS; i++) {
        uint64_t bit = UINT64_C(1) << (i % 64);
        if ((memo_used[i / 64] & bit) || memo_incarnation[i] == SNAPCONF__MEMO_INC_MAX)
            continue;
        memo_used[i / 64] |= bit;
        cp->memo_slot = i;
        cp->memo_tag = ++memo_incarnation[i] << SNAPCONF__MEMO_NODE_BITS;
        break;
    }
    pthread_mutex_unlock(&memo_lock);
}

static void memo_give_back(const struct snapconf_path *cp)
{
    if (cp->memo_slot < 0)
        return;
    pthread_mutex_lock(&memo_lock);
    memo_used[cp->memo_slot / 64] &= ~(UINT64_C(1) << (cp->memo_slot % 64));
    pthread_mutex_unlock(&memo_lock);
}

int snapconf_path_compile(const char *path, snapconf_path **out, snapconf_error *err)
{
    if (!path || !out)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf_path_compile: path or out is NULL");
    snapconf__hash_init();
    size_t nseg, keybytes, bad = 0, bufsize = strlen(path) + 1;
    char *buf = malloc(bufsize);
    if (!buf)
        return snapconf__error(err, SNAPCONF_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = measure(path, buf, bufsize, &nseg, &keybytes, &bad);
    if (rc) {
        free(buf);
        char problem[96];
        return snapconf__error(err, SNAPCONF_EPATH, NULL, 1, (unsigned)bad + 1,
                               "invalid path '%s' at column %zu: %s", path, bad + 1,
                               path_problem(path, bad, problem, sizeof problem));
    }
    /* Canonical text is at most twice the keys plus punctuation. */
    size_t canon_max = 2 * keybytes + 16 * nseg + 1;
    size_t head = sizeof(struct snapconf_path) + nseg * sizeof(struct snapconf__seg);
    struct snapconf_path *cp = malloc(head + keybytes + canon_max);
    if (!cp) {
        free(buf);
        return snapconf__error(err, SNAPCONF_ENOMEM, NULL, 0, 0, "out of memory");
    }
    cp->nseg = nseg;
    char *keys = (char *)cp + head;
    fill(cp, path, buf, bufsize, keys);
    free(buf);
    char *canon = keys + keybytes;
    size_t n = 0;
    for (size_t i = 0; i < nseg; i++)
        n += snapconf__canonical_seg(&cp->seg[i], i == 0, canon + n);
    canon[n] = '\0';
    cp->canonical = canon;
    memo_take(cp);
    *out = cp;
    return 0;
}

void snapconf_path_free(snapconf_path *path)
{
    if (!path)
        return;
    memo_give_back(path);
    free(path);
}

const char *snapconf_path_str(const snapconf_path *path)
{
    return path ? path->canonical : NULL;
}

int snapconf__path_find(const snapconf_snap *snap, const snapconf_path *path,
                        const struct snapconf_node **out)
{
    bool memoized = path->memo_slot >= 0;
    _Atomic uint64_t *memo = memoized ? (_Atomic uint64_t *)&snap->memo[path->memo_slot] : NULL;
    if (memoized) {
        uint64_t m = atomic_load_explicit(memo, memory_order_relaxed);
        if ((m & ~SNAPCONF__MEMO_NODE_MASK) == path->memo_tag) {
            uint64_t node = m & SNAPCONF__MEMO_NODE_MASK;
            if (node == SNAPCONF__MEMO_ABSENT)
                return SNAPCONF_ENOTFOUND;
            *out = snap->nodes + (node - 1);
            return 0;
        }
    }
    const struct snapconf_node *n = NULL;
    int rc = snapconf__path_walk(snap->root, path, &n);
    uint64_t node = rc ? SNAPCONF__MEMO_ABSENT : (uint64_t)(n - snap->nodes) + 1;
    if (memoized && node <= SNAPCONF__MEMO_ABSENT)
        atomic_store_explicit(memo, path->memo_tag | node, memory_order_relaxed);
    if (rc == 0)
        *out = n;
    return rc;
}

int snapconf__path_walk(const struct snapconf_node *from, const snapconf_path *path,
                        const struct snapconf_node **out)
{
    const struct snapconf_node *cur = from;
    for (size_t i = 0; i < path->nseg && cur; i++)
        cur = snapconf__step(cur, &path->seg[i]);
    if (!cur)
        return SNAPCONF_ENOTFOUND;
    *out = cur;
    return 0;
}

bool snapconf__path_within(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return n == 0 ||
           (strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '.' || path[n] == '['));
}
