/*
 * The state file of runtime overrides (format and guarantees in state.h).
 */
#include "state.h"
#include "error.h"
#include "path.h"
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_VERSION 1
#define STATE_HEADER                                                                               \
    "# snapconf runtime overrides, written by snapconf_set(), snapconf_unset() and\n"              \
    "# snapconf_revert() (`snapconf set`, `unset`, `revert` through snapconfd).\n"                 \
    "# Change them that way: this file is replaced whole at every change.\n"

/* ------------------------------------------------------------------------- */
/* Writing                                                                    */

struct text {
    char *buf;
    size_t len, cap;
    int oom;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->buf, cap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->buf = p;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void puts_(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

/* A YAML double-quoted scalar: the escapes JSON also knows, and \xNN for
 * other control bytes; every other byte (UTF-8 included) as is. */
static void put_quoted(struct text *t, const char *s)
{
    put(t, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(t, esc, 2);
        } else if (*p == '\n') {
            put(t, "\\n", 2);
        } else if (*p == '\t') {
            put(t, "\\t", 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            put(t, esc, 4);
        } else {
            put(t, (const char *)p, 1);
        }
    }
    put(t, "\"", 1);
}

static int render(const struct snapconf__override *ov, size_t n, struct text *t)
{
    puts_(t, STATE_HEADER "version: 1\n");
    puts_(t, n ? "overrides:\n" : "overrides: []\n");
    for (size_t i = 0; i < n; i++) {
        puts_(t, ov[i].unset ? "  - {op: unset, path: " : "  - {op: set, path: ");
        put_quoted(t, ov[i].path);
        if (!ov[i].unset) {
            puts_(t, ", value: ");
            put_quoted(t, ov[i].value);
        }
        puts_(t, "}\n");
    }
    return t->oom ? SNAPCONF_ENOMEM : 0;
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fail(snapconf_error *err, const char *file, const char *step, int e)
{
    return snapconf__error_sys(err, e, file, "cannot save the runtime overrides: %s: %s", step,
                               strerror(e));
}

/* The directory's fsync makes the rename itself durable. */
static int sync_dir(const char *file)
{
    char *copy = strdup(file);
    if (!copy)
        return ENOMEM;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) < 0 ? errno : 0;
    close(fd);
    return rc;
}

/* Writes bytes to a new temporary file next to file; its name in tmp. */
static int write_temp(const char *file, const struct text *t, char *tmp, size_t tmpsize,
                      snapconf_error *err)
{
    char *copy = strdup(file);
    if (!copy)
        return snapconf__error(err, SNAPCONF_ENOMEM, file, 0, 0, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *base = slash ? slash + 1 : copy;
    if (slash)
        *slash = '\0';
    int n = slash ? snprintf(tmp, tmpsize, "%s/.%s.XXXXXX", copy[0] ? copy : "", base)
                  : snprintf(tmp, tmpsize, ".%s.XXXXXX", base);
    free(copy);
    if (n < 0 || (size_t)n >= tmpsize)
        return fail(err, file, "the path is too long", ENAMETOOLONG);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail(err, file, "cannot create a temporary file beside it", errno);
    const char *step = NULL;
    int e = 0;
    if (write_all(fd, t->buf, t->len) < 0)
        step = "cannot write the temporary file";
    else if (fsync(fd) < 0)
        step = "cannot fsync the temporary file";
    if (step)
        e = errno;
    if (close(fd) < 0 && !step) {
        step = "cannot close the temporary file";
        e = errno;
    }
    if (step) {
        unlink(tmp);
        return fail(err, file, step, e);
    }
    return 0;
}

int snapconf__state_save(const char *file, const struct snapconf__override *ov, size_t n,
                         snapconf_error *err)
{
    struct text t = {0};
    if (render(ov, n, &t) != 0) {
        free(t.buf);
        return snapconf__error(err, SNAPCONF_ENOMEM, file, 0, 0, "out of memory");
    }
    char tmp[4096];
    int rc = write_temp(file, &t, tmp, sizeof tmp, err);
    free(t.buf);
    if (rc)
        return rc;
    if (rename(tmp, file) < 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, file, "cannot rename the temporary file over it", e);
    }
    int e = sync_dir(file);
    return e ? fail(err, file, "cannot fsync its directory", e) : 0;
}

/* ------------------------------------------------------------------------- */
/* Reading                                                                    */

void snapconf__overrides_free(struct snapconf__override *ov, size_t n)
{
    for (size_t i = 0; ov && i < n; i++) {
        free(ov[i].path);
        free(ov[i].value);
    }
    free(ov);
}

static int bad(snapconf_error *err, const snapconf_snap *snap, const snapconf_node *node,
               const char *what)
{
    return snapconf__error(err, SNAPCONF_EPARSE, snapconf_snap_source(snap),
                           node ? snapconf_node_line(node) : 1,
                           node ? snapconf_node_column(node) : 1,
                           "%s; this is not a state file snapconf wrote: fix it, or delete it to "
                           "drop every saved override",
                           what);
}

static const char *str_of(const snapconf_node *n)
{
    const char *s = NULL;
    return n && snapconf_node_str(n, &s, NULL) == 0 ? s : NULL;
}

/* One entry: {op: set|unset, path: "...", value: "..."}. */
static int parse_entry(const snapconf_snap *snap, const snapconf_node *e,
                       struct snapconf__override *out, snapconf_error *err)
{
    if (snapconf_node_type(e) != SNAPCONF_TYPE_MAP)
        return bad(err, snap, e, "an override must be a mapping {op, path, value}");
    for (size_t i = 0; i < snapconf_node_size(e); i++) {
        const char *k = snapconf_node_key(snapconf_node_at(e, i), NULL);
        if (strcmp(k, "op") != 0 && strcmp(k, "path") != 0 && strcmp(k, "value") != 0)
            return bad(err, snap, snapconf_node_at(e, i), "unknown key in an override");
    }
    const snapconf_node *op = NULL, *path = NULL, *value = NULL;
    snapconf_node_child(e, "op", 2, &op);
    snapconf_node_child(e, "path", 4, &path);
    snapconf_node_child(e, "value", 5, &value);
    const char *ops = str_of(op);
    if (!ops || (strcmp(ops, "set") != 0 && strcmp(ops, "unset") != 0))
        return bad(err, snap, op ? op : e, "op must be set or unset");
    out->unset = strcmp(ops, "unset") == 0;
    if (!str_of(path))
        return bad(err, snap, path ? path : e, "path must be a string");
    if (out->unset ? value != NULL : !str_of(value))
        return bad(err, snap, value ? value : e,
                   out->unset ? "an unset has no value" : "a set needs a string value");
    snapconf_path *p;
    if (snapconf_path_compile(str_of(path), &p, NULL) != 0)
        return bad(err, snap, path, "path is not a valid snapconf path");
    out->path = strdup(snapconf_path_str(p));
    snapconf_path_free(p);
    out->value = out->unset ? NULL : strdup(str_of(value));
    if (!out->path || (!out->unset && !out->value))
        return snapconf__error(err, SNAPCONF_ENOMEM, snapconf_snap_source(snap), 0, 0,
                               "out of memory");
    return 0;
}

static int parse(const snapconf_snap *snap, struct snapconf__override **out, size_t *n,
                 snapconf_error *err)
{
    const snapconf_node *root = snapconf_snap_root(snap), *v = NULL, *list = NULL;
    if (snapconf_node_type(root) != SNAPCONF_TYPE_MAP)
        return bad(err, snap, root, "the state file must be a mapping");
    for (size_t i = 0; i < snapconf_node_size(root); i++) {
        const char *k = snapconf_node_key(snapconf_node_at(root, i), NULL);
        if (strcmp(k, "version") != 0 && strcmp(k, "overrides") != 0)
            return bad(err, snap, snapconf_node_at(root, i), "unknown key at the top");
    }
    int64_t version = 0;
    if (snapconf_node_child(root, "version", 7, &v) != 0 || snapconf_node_int(v, &version) != 0)
        return bad(err, snap, v ? v : root, "version: 1 is missing");
    if (version != STATE_VERSION)
        return bad(err, snap, v, "written by a newer snapconf (unknown version)");
    if (snapconf_node_child(root, "overrides", 9, &list) != 0 ||
        snapconf_node_type(list) != SNAPCONF_TYPE_SEQ)
        return bad(err, snap, list ? list : root, "overrides must be a sequence");
    size_t count = snapconf_node_size(list);
    struct snapconf__override *ov = calloc(count ? count : 1, sizeof *ov);
    if (!ov)
        return snapconf__error(err, SNAPCONF_ENOMEM, snapconf_snap_source(snap), 0, 0,
                               "out of memory");
    for (size_t i = 0; i < count; i++) {
        int rc = parse_entry(snap, snapconf_node_at(list, i), &ov[i], err);
        if (rc) {
            snapconf__overrides_free(ov, i + 1);
            return rc;
        }
    }
    *out = ov;
    *n = count;
    return 0;
}

int snapconf__state_load(const char *file, const snapconf_options *opts,
                         struct snapconf__override **out, size_t *n, snapconf_error *err)
{
    *out = NULL;
    *n = 0;
    struct stat st;
    if (stat(file, &st) < 0 && errno == ENOENT)
        return 0;
    snapconf_snap *snap = NULL;
    int rc = snapconf_snap_load(file, NULL, 0, opts, &snap, err);
    if (rc == 0)
        rc = parse(snap, out, n, err);
    snapconf_snap_free(snap);
    return rc;
}
