/* Finding values by path, and the typed getters built on that. */
#include "path.h"

#include <math.h>

/* The rare path with an escaped quoted key longer than the stack buffer:
 * compile it (which allocates) rather than refuse it. */
static int walk_compiled(const struct snapconf_node *from, const char *path,
                         const struct snapconf_node **out)
{
    snapconf_path *cp;
    int rc = snapconf_path_compile(path, &cp, NULL);
    if (rc)
        return rc;
    rc = snapconf__path_walk(from, cp, out);
    snapconf_path_free(cp);
    return rc;
}

/* Walks a string path from a node.  Keeps parsing after a miss so that a
 * malformed path is SNAPCONF_EPATH whether or not its prefix exists. */
static int walk(const struct snapconf_node *cur, const char *path, const struct snapconf_node **out)
{
    const struct snapconf_node *from = cur;
    char buf[SNAPCONF__SEGMENT_BUF];
    struct snapconf__seg s = {0};
    const char *p = path;
    for (;;) {
        int rc = snapconf__seg_next(&p, &s, buf, sizeof buf);
        if (rc == 1)
            break;
        if (rc == SNAPCONF_ELIMIT)
            return walk_compiled(from, path, out);
        if (rc)
            return rc;
        if (cur)
            cur = snapconf__step(cur, &s);
    }
    if (!cur)
        return SNAPCONF_ENOTFOUND;
    *out = cur;
    return 0;
}

int snapconf_find(const snapconf_snap *snap, const char *path, const snapconf_node **out)
{
    if (!snap || !path || !out)
        return SNAPCONF_EINVAL;
    return walk(snap->root, path, out);
}

int snapconf_node_find(const snapconf_node *node, const char *path, const snapconf_node **out)
{
    if (!node || !path || !out)
        return SNAPCONF_EINVAL;
    return walk(node, path, out);
}

int snapconf_find_path(const snapconf_snap *snap, const snapconf_path *path,
                       const snapconf_node **out)
{
    if (!snap || !path || !out)
        return SNAPCONF_EINVAL;
    return snapconf__path_find(snap, path, out);
}

/* The getters: find, then read the node.  One macro keeps the eight
 * variants (string path and compiled path, four types) identical. */
/* NOLINTBEGIN(bugprone-macro-parentheses): the arguments are a name and types */
#define SNAPCONF_GETTER_(fname, ptype, find, ctype, nodefn)                                        \
    int fname(const snapconf_snap *snap, ptype path, ctype *out)                                   \
    {                                                                                              \
        const snapconf_node *n;                                                                    \
        if (!out)                                                                                  \
            return SNAPCONF_EINVAL;                                                                \
        int rc = find(snap, path, &n);                                                             \
        return rc ? rc : nodefn;                                                                   \
    }
/* NOLINTEND(bugprone-macro-parentheses) */

SNAPCONF_GETTER_(snapconf_get_str, const char *, snapconf_find, const char *,
                 snapconf_node_str(n, out, NULL))
SNAPCONF_GETTER_(snapconf_get_int, const char *, snapconf_find, int64_t, snapconf_node_int(n, out))
SNAPCONF_GETTER_(snapconf_get_double, const char *, snapconf_find, double,
                 snapconf_node_double(n, out))
SNAPCONF_GETTER_(snapconf_get_bool, const char *, snapconf_find, bool, snapconf_node_bool(n, out))
SNAPCONF_GETTER_(snapconf_path_get_str, const snapconf_path *, snapconf_find_path, const char *,
                 snapconf_node_str(n, out, NULL))
SNAPCONF_GETTER_(snapconf_path_get_int, const snapconf_path *, snapconf_find_path, int64_t,
                 snapconf_node_int(n, out))
SNAPCONF_GETTER_(snapconf_path_get_double, const snapconf_path *, snapconf_find_path, double,
                 snapconf_node_double(n, out))
SNAPCONF_GETTER_(snapconf_path_get_bool, const snapconf_path *, snapconf_find_path, bool,
                 snapconf_node_bool(n, out))

const char *snapconf_get_str_or(const snapconf_snap *snap, const char *path, const char *def)
{
    const char *v;
    return snapconf_get_str(snap, path, &v) == 0 ? v : def;
}

int64_t snapconf_get_int_or(const snapconf_snap *snap, const char *path, int64_t def)
{
    int64_t v;
    return snapconf_get_int(snap, path, &v) == 0 ? v : def;
}

double snapconf_get_double_or(const snapconf_snap *snap, const char *path, double def)
{
    double v;
    return snapconf_get_double(snap, path, &v) == 0 ? v : def;
}

bool snapconf_get_bool_or(const snapconf_snap *snap, const char *path, bool def)
{
    bool v;
    return snapconf_get_bool(snap, path, &v) == 0 ? v : def;
}
