/*
 * The state file of runtime overrides: its text, its atomic replacement and
 * its strict reading (the format and the guarantees are in state.h).
 */
#include "state.h"
#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The format written and the only one read; a newer snapconf that changes
 * the format writes a higher number, which this one refuses to guess at. */
#define STATE_VERSION 1
#define STATE_VERSION_LINE "version: 1\n"

#define STATE_HEADER                                                                               \
    "# Runtime overrides, written by snapconf (snapconf_set(), snapconf_unset() and\n"             \
    "# snapconf_revert()).  Change them with `snapconf set PATH VALUE`, `snapconf unset\n"         \
    "# PATH` and `snapconf revert [PATH]`, not by editing: snapconf replaces this whole\n"         \
    "# file at every change, and reads it only when it opens.\n"

/* What every complaint about a state file ends with. */
#define LOAD_HINT                                                                                  \
    "fix the state file, or delete it to drop the saved overrides (snapconf rewrites it at the "   \
    "next set, unset or revert)"

/* mkstemp's six random characters, from letters and digits. */
#define TEMP_SUFFIX "XXXXXX"
#define TEMP_SUFFIX_LEN 6

/* ------------------------------------------------------------------------- */
/* The text                                                                   */

struct text {
    char *buf;
    size_t len, cap;
    bool oom;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (n >= t->cap - t->len) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap - t->len <= n)
            cap *= 2;
        char *p = realloc(t->buf, cap);
        if (!p) {
            t->oom = true;
            return;
        }
        t->buf = p;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static void put_str(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

/* The length of the UTF-8 sequence led by byte c: 1-4, or 0 for a byte no
 * sequence starts with (a continuation byte, C0, C1, F5-FF). */
static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    return c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

/* The length (1-4) of the well-formed UTF-8 sequence at s, its code point
 * in *cp; 0 for a malformed, overlong or surrogate sequence. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = utf8_len(s[0]);
    if (len == 0)
        return 0;
    uint32_t c = len == 1 ? s[0] : s[0] & (0x7fu >> len);
    /* A NUL ends the string and fails the test, so nothing past it is read. */
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Code points a double-quoted YAML scalar cannot hold as they are: the
 * quote and the escape, and those outside YAML's printable set.  NEL is a
 * line break to libyaml (YAML 1.1), which folds it into a space inside a
 * quoted scalar; U+2028 and U+2029 are line breaks there too (they shift
 * the line numbers of every later position); U+FEFF is escaped so that no
 * reader can take it for a byte order mark. */
static bool needs_escape(uint32_t c)
{
    return c < 0x20 || c == '"' || c == '\\' || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
           c == 0x2029 || c == 0xfeff || c == 0xfffe || c == 0xffff;
}

static void put_escape(struct text *t, uint32_t c)
{
    char esc[16];
    if (c == '"' || c == '\\')
        snprintf(esc, sizeof esc, "\\%c", (char)c);
    else if (c == '\n')
        snprintf(esc, sizeof esc, "\\n");
    else if (c == '\t')
        snprintf(esc, sizeof esc, "\\t");
    else if (c <= 0xff) /* YAML's \xNN is the code point U+00NN */
        snprintf(esc, sizeof esc, "\\x%02x", (unsigned)c);
    else
        snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
    put_str(t, esc);
}

/* s as a YAML double-quoted scalar; false when s is not UTF-8, which no
 * YAML file can hold. */
static bool put_quoted(struct text *t, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    put(t, "\"", 1);
    while (*p) {
        uint32_t c = 0;
        size_t len = utf8_next(p, &c);
        if (len == 0)
            return false;
        if (needs_escape(c))
            put_escape(t, c);
        else
            put(t, (const char *)p, len);
        p += len;
    }
    put(t, "\"", 1);
    return true;
}

/* One override as a flow mapping; false when a string is not UTF-8. */
static bool put_override(struct text *t, const struct snapconf__override *o)
{
    put_str(t, o->unset ? "  - {op: unset, path: " : "  - {op: set, path: ");
    if (!put_quoted(t, o->path))
        return false;
    if (!o->unset) {
        put_str(t, ", value: ");
        if (!put_quoted(t, o->value))
            return false;
    }
    put_str(t, "}\n");
    return true;
}

static int render(const char *file, const struct snapconf__override *ov, size_t n, struct text *t,
                  snapconf_error *err)
{
    put_str(t, STATE_HEADER STATE_VERSION_LINE);
    put_str(t, n ? "overrides:\n" : "overrides: []\n");
    for (size_t i = 0; i < n; i++) {
        if (!ov[i].path || (!ov[i].unset && !ov[i].value))
            return snapconf__error(err, SNAPCONF_EINVAL, file, 0, 0,
                                   "cannot save the runtime overrides: override %zu has no path, "
                                   "or is a set without a value",
                                   i + 1);
        if (!put_override(t, &ov[i]))
            return snapconf__error(err, SNAPCONF_EINVAL, file, 0, 0,
                                   "cannot save the runtime overrides: override %zu (%s) holds "
                                   "bytes that are not UTF-8, which a YAML file cannot hold",
                                   i + 1, ov[i].unset ? "an unset" : "a set");
    }
    if (t->oom)
        return snapconf__error(err, SNAPCONF_ENOMEM, file, 0, 0,
                               "out of memory saving the runtime overrides");
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The atomic replacement                                                     */

/* One save in progress.  Everything it holds is released by save_end(). */
struct save {
    const char *file;
    char *dir; /* the directory holding file ("." for a bare name) */
    char *tmp; /* the temporary file: dir/.base.XXXXXX */
    int dirfd; /* dir, for its fsync and the clean-up */
    int fd;    /* the temporary file while it is open */
    bool made; /* tmp exists on disk */
    mode_t mode;
};

/* "file: cannot save the runtime overrides: <step> <name>: <strerror>". */
static int save_fail(snapconf_error *err, const struct save *s, int sys, const char *step,
                     const char *name)
{
    char buf[128];
    return snapconf__error_sys(err, sys, s->file, "cannot save the runtime overrides: %s %s: %s",
                               step, name, strerror_r(sys, buf, sizeof buf));
}

/* The directory, and the temporary file's mkstemp template beside file. */
static int save_names(struct save *s, snapconf_error *err)
{
    const char *slash = strrchr(s->file, '/');
    const char *base = slash ? slash + 1 : s->file;
    size_t dirlen = slash ? (slash == s->file ? 1 : (size_t)(slash - s->file)) : 1;
    s->dir = strndup(slash ? s->file : ".", dirlen);
    s->tmp = malloc(dirlen + strlen(base) + TEMP_SUFFIX_LEN + 4);
    if (!s->dir || !s->tmp)
        return snapconf__error(err, SNAPCONF_ENOMEM, s->file, 0, 0,
                               "out of memory saving the runtime overrides");
    /* "/.name.XXXXXX" for a file at the root, not "//.name.XXXXXX". */
    sprintf(s->tmp, "%s/.%s." TEMP_SUFFIX, dirlen == 1 && s->dir[0] == '/' ? "" : s->dir, base);
    return 0;
}

/* The new file keeps the mode of the one it replaces, so that an operator's
 * chmod (say, 0640 for a monitoring group) survives every save; 0600 for a
 * new file, as it may say more than the configuration files do.  Set with
 * fchmod() either way, so that the umask does not change it. */
static mode_t save_mode(const char *file)
{
    struct stat st;
    if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 0777;
    return 0600;
}

/* The directory is opened first: a directory that cannot be opened fails
 * the save before anything is written. */
static int save_open(struct save *s, snapconf_error *err)
{
    s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0)
        return save_fail(err, s, errno, "cannot open the directory", s->dir);
    s->fd = mkostemp(s->tmp, O_CLOEXEC);
    if (s->fd < 0)
        return save_fail(err, s, errno, "cannot create a temporary file in", s->dir);
    s->made = true;
    if (fchmod(s->fd, s->mode) < 0)
        return save_fail(err, s, errno, "cannot set the mode of", s->tmp);
    return 0;
}

/* write() may write less than asked (a full disk, a signal): go on from
 * where it stopped until all is written or it fails. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_retry(int fd)
{
    int rc;
    while ((rc = fsync(fd)) < 0 && errno == EINTR) {
    }
    return rc < 0 ? errno : 0;
}

/* The bytes reach the disk before the rename can make them the state. */
static int save_write(struct save *s, const struct text *t, snapconf_error *err)
{
    int e = write_all(s->fd, t->buf, t->len);
    if (e)
        return save_fail(err, s, e, "cannot write", s->tmp);
    if ((e = fsync_retry(s->fd)) != 0)
        return save_fail(err, s, e, "cannot fsync", s->tmp);
    int rc = close(s->fd);
    s->fd = -1;
    /* Linux releases the descriptor even when close() is interrupted, and
     * the data is already on disk by then. */
    if (rc < 0 && errno != EINTR)
        return save_fail(err, s, errno, "cannot close", s->tmp);
    return 0;
}

static int save_commit(struct save *s, snapconf_error *err)
{
    char buf[128];
    if (rename(s->tmp, s->file) < 0) {
        int e = errno;
        return snapconf__error_sys(err, e, s->file,
                                   "cannot save the runtime overrides: cannot rename %s to %s: %s",
                                   s->tmp, s->file, strerror_r(e, buf, sizeof buf));
    }
    s->made = false;
    /* The directory's fsync makes the rename itself durable.  A file system
     * that cannot sync directories says EINVAL: there is nothing more to do
     * there.  After a real failure the new list is in place, but may not
     * survive a crash, as the message says. */
    int e = fsync_retry(s->dirfd);
    if (e && e != EINVAL)
        return snapconf__error_sys(err, e, s->file,
                                   "cannot save the runtime overrides: cannot fsync the directory "
                                   "%s: %s (the new overrides are in place, but may not survive "
                                   "a crash)",
                                   s->dir, strerror_r(e, buf, sizeof buf));
    return 0;
}

/* True for name == ".<base>.XXXXXX", a temporary file of this state file. */
static bool is_our_temp(const char *name, const char *base, size_t blen)
{
    if (name[0] != '.' || strncmp(name + 1, base, blen) != 0 || name[blen + 1] != '.')
        return false;
    const char *x = name + blen + 2;
    for (size_t i = 0; i < TEMP_SUFFIX_LEN; i++)
        if (!((x[i] >= 'a' && x[i] <= 'z') || (x[i] >= 'A' && x[i] <= 'Z') ||
              (x[i] >= '0' && x[i] <= '9')))
            return false;
    return x[TEMP_SUFFIX_LEN] == '\0';
}

/*
 * Removes the temporary files a writer killed mid-save left beside the
 * state file.  Best effort: the save itself already succeeded.  Only names
 * of this state file's exact pattern go; a second process saving the same
 * state file at the same moment (which the design does not support: each
 * would overwrite the other's list) could lose its temporary file here and
 * fail with EIO, never with a torn state.
 */
static void save_clean(const struct save *s)
{
    const char *slash = strrchr(s->file, '/');
    const char *base = slash ? slash + 1 : s->file;
    size_t blen = strlen(base);
    /* A descriptor of its own for the listing, close-on-exec as every one
     * the library opens. */
    int fd = fcntl(s->dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (is_our_temp(e->d_name, base, blen))
            unlinkat(s->dirfd, e->d_name, 0);
    closedir(d);
}

/* Releases what the save holds; a temporary file never renamed goes. */
static void save_end(struct save *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->made)
        unlink(s->tmp);
    if (s->dirfd >= 0)
        close(s->dirfd);
    free(s->dir);
    free(s->tmp);
}

int snapconf__state_save(const char *file, const struct snapconf__override *ov, size_t n,
                         snapconf_error *err)
{
    if (!file || (n && !ov))
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf__state_save: no file, or no overrides");
    struct text t = {0};
    int rc = render(file, ov, n, &t, err);
    struct save s = {.file = file, .dirfd = -1, .fd = -1};
    if (rc == 0 && (rc = save_names(&s, err)) == 0) {
        s.mode = save_mode(file);
        rc = save_open(&s, err);
        if (rc == 0)
            rc = save_write(&s, &t, err);
        if (rc == 0)
            rc = save_commit(&s, err);
        if (rc == 0)
            save_clean(&s);
    }
    save_end(&s);
    free(t.buf);
    return rc;
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

/* A state file being read. */
struct reader {
    const char *file;
    snapconf_error *err;
};

/* A complaint about node (its position) with what to do about it. */
static int bad(const struct reader *r, const snapconf_node *node, const char *what)
{
    return snapconf__error(r->err, SNAPCONF_EPARSE, r->file, snapconf_node_line(node),
                           snapconf_node_column(node), "%s; " LOAD_HINT, what);
}

static int out_of_memory(const struct reader *r)
{
    return snapconf__error(r->err, SNAPCONF_ENOMEM, r->file, 0, 0,
                           "out of memory reading the runtime overrides");
}

static bool key_is(const snapconf_node *n, const char *key)
{
    size_t len = 0;
    const char *k = snapconf_node_key(n, &len);
    return k && len == strlen(key) && memcmp(k, key, len) == 0;
}

/* Every key of map is one of the NULL-terminated known. */
static int known_keys(const struct reader *r, const snapconf_node *map, const char *where,
                      const char *const *known)
{
    for (size_t i = 0; i < snapconf_node_size(map); i++) {
        const snapconf_node *v = snapconf_node_at(map, i);
        const char *const *k = known;
        while (*k && !key_is(v, *k))
            k++;
        if (*k)
            continue;
        size_t len = 0;
        const char *key = snapconf_node_key(v, &len);
        char quoted[96], what[256];
        snprintf(what, sizeof what, "unknown key '%s' %s",
                 snapconf__excerpt(quoted, sizeof quoted, key, len, 60), where);
        return bad(r, v, what);
    }
    return 0;
}

/* The string of a node that must be one, NULL when it is not one or holds
 * a NUL byte (which C strings, and so overrides, cannot hold). */
static const char *string_of(const snapconf_node *n)
{
    const char *s = NULL;
    size_t len = 0;
    if (!n || snapconf_node_str(n, &s, &len) != 0 || strlen(s) != len)
        return NULL;
    return s;
}

/* The complaint about key's node, which string_of() refused. */
static int not_a_string(const struct reader *r, const snapconf_node *n, const char *key,
                        const char *should)
{
    char what[200];
    if (snapconf_node_type(n) == SNAPCONF_TYPE_STRING)
        snprintf(what, sizeof what, "%s holds a NUL byte (\\0)", key);
    else
        snprintf(what, sizeof what, "%s must be %s, not a value of type %s", key, should,
                 snapconf_type_name(snapconf_node_type(n)));
    return bad(r, n, what);
}

static const snapconf_node *child(const snapconf_node *map, const char *key)
{
    const snapconf_node *n = NULL;
    return snapconf_node_child(map, key, strlen(key), &n) == 0 ? n : NULL;
}

static int parse_op(const struct reader *r, const snapconf_node *entry, bool *unset)
{
    const snapconf_node *op = child(entry, "op");
    if (!op)
        return bad(r, entry, "this override has no op (set or unset)");
    const char *s = string_of(op);
    if (s && (strcmp(s, "set") == 0 || strcmp(s, "unset") == 0)) {
        *unset = s[0] == 'u';
        return 0;
    }
    char quoted[96], what[160];
    size_t len = 0;
    if (snapconf_node_str(op, &s, &len) == 0)
        snprintf(what, sizeof what, "op must be set or unset, not '%s'",
                 snapconf__excerpt(quoted, sizeof quoted, s, len, 60));
    else
        snprintf(what, sizeof what, "op must be set or unset, not a value of type %s",
                 snapconf_type_name(snapconf_node_type(op)));
    return bad(r, op, what);
}

/* The path must compile; what is kept is its canonical text. */
static int parse_path(const struct reader *r, const snapconf_node *entry, char **out)
{
    const snapconf_node *node = child(entry, "path");
    const char *s = string_of(node);
    if (!node)
        return bad(r, entry, "this override has no path");
    if (!s)
        return not_a_string(r, node, "path", "a string (a quoted snapconf path)");
    snapconf_path *p = NULL;
    snapconf_error perr;
    int rc = snapconf_path_compile(s, &p, &perr);
    if (rc == SNAPCONF_ENOMEM)
        return out_of_memory(r);
    if (rc)
        return bad(r, node, perr.message);
    *out = strdup(snapconf_path_str(p));
    snapconf_path_free(p);
    return *out ? 0 : out_of_memory(r);
}

static int parse_value(const struct reader *r, const snapconf_node *entry, bool unset, char **out)
{
    const snapconf_node *node = child(entry, "value");
    if (unset)
        return node ? bad(r, node, "an unset has no value: remove it, or make the op set") : 0;
    if (!node)
        return bad(r, entry, "this set has no value");
    const char *s = string_of(node);
    if (!s)
        return not_a_string(r, node, "value", "a string (the YAML text of the value, quoted)");
    *out = strdup(s);
    return *out ? 0 : out_of_memory(r);
}

/* One entry: {op: set|unset, path: "...", value: "..."}. */
static int parse_entry(const struct reader *r, const snapconf_node *e,
                       struct snapconf__override *out)
{
    static const char *const known[] = {"op", "path", "value", NULL};
    if (snapconf_node_type(e) != SNAPCONF_TYPE_MAP)
        return bad(r, e, "an override must be a mapping {op: set|unset, path: ..., value: ...}");
    int rc = known_keys(r, e, "in an override (known: op, path, value)", known);
    if (rc == 0)
        rc = parse_op(r, e, &out->unset);
    if (rc == 0)
        rc = parse_path(r, e, &out->path);
    if (rc == 0)
        rc = parse_value(r, e, out->unset, &out->value);
    return rc;
}

static int parse_version(const struct reader *r, const snapconf_node *root)
{
    const snapconf_node *v = child(root, "version");
    int64_t version = 0;
    char what[160];
    if (!v)
        return bad(r, root, "no version: a state file starts with version: 1");
    if (snapconf_node_int(v, &version) != 0)
        return bad(r, v, "version must be a number (1)");
    if (version > STATE_VERSION) {
        snprintf(what, sizeof what,
                 "version %lld: written by a newer snapconf, this one reads version %d; upgrade "
                 "snapconf",
                 (long long)version, STATE_VERSION);
        return bad(r, v, what);
    }
    if (version != STATE_VERSION) {
        snprintf(what, sizeof what, "unknown version %lld (this snapconf reads version %d)",
                 (long long)version, STATE_VERSION);
        return bad(r, v, what);
    }
    return 0;
}

/* The list of entries; an empty one hands out NULL. */
static int parse_list(const struct reader *r, const snapconf_node *list,
                      struct snapconf__override **out, size_t *n)
{
    size_t count = snapconf_node_size(list);
    struct snapconf__override *ov = count ? calloc(count, sizeof *ov) : NULL;
    if (count && !ov)
        return out_of_memory(r);
    for (size_t i = 0; i < count; i++) {
        int rc = parse_entry(r, snapconf_node_at(list, i), &ov[i]);
        if (rc) {
            snapconf__overrides_free(ov, i + 1);
            return rc;
        }
    }
    *out = ov;
    *n = count;
    return 0;
}

static int parse(const struct reader *r, const snapconf_snap *snap, struct snapconf__override **out,
                 size_t *n)
{
    static const char *const known[] = {"version", "overrides", NULL};
    const snapconf_node *root = snapconf_snap_root(snap);
    if (snapconf_node_type(root) != SNAPCONF_TYPE_MAP)
        return bad(r, root, "a state file is a mapping (version: 1, overrides: [...])");
    int rc = known_keys(r, root, "at the top (known: version, overrides)", known);
    if (rc == 0)
        rc = parse_version(r, root);
    if (rc)
        return rc;
    const snapconf_node *list = child(root, "overrides");
    if (!list)
        return bad(r, root, "no overrides: list them, [] for none");
    if (snapconf_node_type(list) != SNAPCONF_TYPE_SEQ)
        return bad(r, list, "overrides must be a list ([] for none)");
    return parse_list(r, list, out, n);
}

/* A state file that is not YAML at all gets the same advice as one of the
 * wrong shape. */
static int load_failed(int rc, const snapconf_error *e, snapconf_error *err)
{
    if (!err)
        return rc;
    *err = *e;
    size_t len = strlen(err->message);
    if (rc == SNAPCONF_EPARSE && len < sizeof err->message)
        snprintf(err->message + len, sizeof err->message - len, "; %s", LOAD_HINT);
    return rc;
}

int snapconf__state_load(const char *file, const snapconf_options *opts,
                         struct snapconf__override **out, size_t *n, snapconf_error *err)
{
    if (!file || !out || !n)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf__state_load: no file or no output");
    snapconf_snap *snap = NULL;
    snapconf_error e;
    int rc = snapconf_snap_load(file, NULL, 0, opts, &snap, &e);
    if (rc == SNAPCONF_EIO && e.sys_errno == ENOENT) {
        /* No state file yet: no override was ever saved. */
        *out = NULL;
        *n = 0;
        return 0;
    }
    if (rc)
        return load_failed(rc, &e, err);
    struct reader r = {file, err};
    rc = parse(&r, snap, out, n);
    snapconf_snap_free(snap);
    return rc;
}
