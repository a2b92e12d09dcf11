/*
 * The loader: reads a file (or takes a buffer), checks its bytes, runs
 * libyaml's event parser over them and feeds the builder.  Everything that
 * knows libyaml, file descriptors or encodings lives here.
 */
#include "build.h"
#include "loader.h"
#include "error.h"
#include "hash.h"
#include "scalar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define CORE_TAG_PREFIX "tag:yaml.org,2002:"

/* ------------------------------------------------------------------------- */
/* Positions                                                                  */

/* 1-based line and column (in characters, as libyaml counts) of a byte. */
static void position_of(const char *data, size_t size, size_t offset, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < offset && i < size; i++) {
        if (data[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)data[i] & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* The byte at a 0-based libyaml mark, or -1 past the end. */
static int byte_at_mark(const char *data, size_t size, size_t line0, size_t col0)
{
    size_t i = 0;
    for (size_t l = 0; l < line0 && i < size; i++)
        if (data[i] == '\n')
            l++;
    for (size_t c = 0; i < size && data[i] != '\n'; i++) {
        if (((unsigned char)data[i] & 0xc0) == 0x80)
            continue;
        if (c++ == col0)
            return (unsigned char)data[i];
    }
    return i < size ? (unsigned char)data[i] : -1;
}

/* ------------------------------------------------------------------------- */
/* Reading the file                                                           */

static int sys_error(snapconf_error *err, int sys, const char *path, const char *what)
{
    char buf[128];
    const char *text = strerror_r(sys, buf, sizeof buf);
    const char *hint = "";
    if (sys == EACCES)
        hint = "; check the file's permissions";
    else if (sys == ELOOP)
        hint = "; the path has a symbolic link loop: fix the links along it";
    else if (sys == ENOENT)
        hint = "; check the path (a missing directory counts too)";
    return snapconf__error_sys(err, sys, path, "cannot %s the file: %s%s", what, text, hint);
}

static int too_big(snapconf_error *err, const char *path, size_t size, size_t max)
{
    return snapconf__error(err, SNAPCONF_ELIMIT, path, 0, 0,
                           "the file is larger than the limit of %zu bytes (max_file_size is "
                           "%zu, the file %s%zu bytes); shrink it or raise max_file_size",
                           max, max, size > max ? "has " : "has at least ", size);
}

static int check_file_kind(int fd, const char *path, size_t max, struct stat *st,
                           snapconf_error *err)
{
    if (fstat(fd, st) < 0)
        return sys_error(err, errno, path, "inspect");
    if (S_ISDIR(st->st_mode))
        return snapconf__error_sys(
            err, EISDIR, path,
            "this is a directory, not a configuration file; give the path of "
            "a YAML file");
    if (!S_ISREG(st->st_mode))
        return snapconf__error_sys(err, EINVAL, path,
                                   "not a regular file (a FIFO, socket or device); snapconf "
                                   "reads regular files only");
    if ((uint64_t)st->st_size > max)
        return too_big(err, path, (size_t)st->st_size, max);
    return 0;
}

/* Reads until end of file rather than trusting st_size: the file may be
 * growing or shrinking under us (check_unchanged() then says so). */
static int read_all(int fd, const char *path, size_t hint, size_t max, char **data, size_t *len,
                    snapconf_error *err)
{
    size_t cap = hint + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return snapconf__error(err, SNAPCONF_ENOMEM, path, 0, 0, "out of memory reading the file");
    for (;;) {
        if (n == cap) {
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *nbuf = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nbuf) {
                free(buf);
                return ncap > cap ? snapconf__error(err, SNAPCONF_ENOMEM, path, 0, 0,
                                                    "out of memory reading the file")
                                  : too_big(err, path, n, max);
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return sys_error(err, e, path, "read");
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        free(buf);
        return too_big(err, path, n, max);
    }
    *data = buf;
    *len = n;
    return 0;
}

/* A file truncated, rewritten or appended to while it was read gives
 * bytes that may be half of one version (a valid YAML prefix, or nothing
 * at all): refuse them.  The writer's close will bring the next attempt. */
static int check_unchanged(int fd, const char *path, const struct stat *before, size_t n,
                           snapconf_error *err)
{
    struct stat after;
    if (fstat(fd, &after) < 0)
        return sys_error(err, errno, path, "inspect");
    if (after.st_size == before->st_size && (uint64_t)after.st_size == n &&
        after.st_mtim.tv_sec == before->st_mtim.tv_sec &&
        after.st_mtim.tv_nsec == before->st_mtim.tv_nsec)
        return 0;
    return snapconf__error_sys(err, EAGAIN, path,
                               "the file changed while it was being read (%lld bytes before, "
                               "%zu read, %lld after); try again once its writer is done",
                               (long long)before->st_size, n, (long long)after.st_size);
}

int snapconf__read_file(const char *path, size_t max, char **data, size_t *len, snapconf_error *err)
{
    /* O_NONBLOCK: opening a FIFO must not hang waiting for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return sys_error(err, errno, path, "open");
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    int rc = check_file_kind(fd, path, max, &st, err);
    if (rc == 0)
        rc = read_all(fd, path, (size_t)st.st_size, max, &buf, &n, err);
    if (rc == 0 && (rc = check_unchanged(fd, path, &st, n, err)) != 0)
        free(buf);
    close(fd);
    if (rc == 0) {
        *data = buf;
        *len = n;
    }
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Checking the bytes before libyaml sees them                                */

static int check_bytes(const char *data, size_t size, const char *name, snapconf_error *err)
{
    const unsigned char *u = (const unsigned char *)data;
    if (size >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
        return snapconf__error(err, SNAPCONF_EPARSE, name, 1, 1,
                               "the file is UTF-16 (or UTF-32) encoded; snapconf reads UTF-8 "
                               "only: convert it, e.g. with iconv -f UTF-16 -t UTF-8");
    if (size >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0xfe && u[3] == 0xff)
        return snapconf__error(err, SNAPCONF_EPARSE, name, 1, 1,
                               "the file is UTF-32 encoded; snapconf reads UTF-8 only: convert "
                               "it, e.g. with iconv -f UTF-32 -t UTF-8");
    const char *nul = memchr(data, '\0', size);
    if (nul) {
        unsigned line, col;
        position_of(data, size, (size_t)(nul - data), &line, &col);
        return snapconf__error(err, SNAPCONF_EPARSE, name, line, col,
                               "NUL byte in the file; YAML text cannot contain one (is this a "
                               "binary or UTF-16 file?)");
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* libyaml's errors                                                           */

/* What to do about libyaml's commonest complaints, which say only what it
 * did not find: "" when there is nothing useful to add.  The context's
 * position, printed just before the hint, is the "there" it refers to. */
static const char *syntax_hint(const yaml_parser_t *p)
{
    static const struct {
        const char *context; /* NULL: any */
        const char *problem;
        const char *hint;
    } hints[] = {
        {"while scanning a quoted scalar", "found unexpected end of stream",
         "; the quote that starts there is never closed: add the closing quote"},
        {"while parsing a flow sequence", "did not find expected ',' or ']'",
         "; close the '[' that starts there with ']', and separate items with ','"},
        {"while parsing a flow mapping", "did not find expected ',' or '}'",
         "; close the '{' that starts there with '}', and separate entries with ','"},
        {"while parsing a block mapping", "did not find expected key",
         "; check the indentation: a mapping's keys must line up, and a '- ' item cannot sit "
         "among them"},
        {NULL, "mapping values are not allowed in this context",
         "; quote the value if it contains ': '"},
        {NULL, "block sequence entries are not allowed in this context",
         "; start the list on the next line, indented, or write it as [a, b]"},
        {NULL, "found unknown escape character",
         "; in double quotes write \\\\ for a backslash, or use single quotes"},
    };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (p->problem && strcmp(p->problem, hints[i].problem) == 0 &&
            (!hints[i].context || (p->context && strcmp(p->context, hints[i].context) == 0)))
            return hints[i].hint;
    return "";
}

/* Bytes libyaml's reader refuses: bad UTF-8, control characters. */
static int reader_error(const yaml_parser_t *p, const char *name, const char *data, size_t size,
                        snapconf_error *err)
{
    const char *problem = p->problem ? p->problem : "unknown problem";
    size_t off = p->problem_offset;
    /* libyaml points at the byte that breaks a sequence; the position of a
     * bad character is where its sequence starts, where editors show it. */
    if (strcmp(problem, "invalid trailing UTF-8 octet") == 0 && off < size) {
        while (off > 0 && ((unsigned char)data[off - 1] & 0xc0) == 0x80)
            off--;
        if (off > 0)
            off--;
    }
    unsigned line, col;
    position_of(data, size, off, &line, &col);
    if (strcmp(problem, "control characters are not allowed") == 0)
        return snapconf__error(err, SNAPCONF_EPARSE, name, line, col,
                               "%s; YAML text cannot contain them (is this a binary file?)",
                               problem);
    return snapconf__error(err, SNAPCONF_EPARSE, name, line, col,
                           "%s; the file must be valid UTF-8 text", problem);
}

static int parser_error(const yaml_parser_t *p, const char *name, const char *data, size_t size,
                        snapconf_error *err)
{
    const char *problem = p->problem ? p->problem : "unknown problem";
    unsigned line, col;
    switch (p->error) {
    case YAML_NO_ERROR:
        /* A failure with no reason given: libyaml (0.2.5 and later) does
         * not record two of its tag scanner's allocation failures. */
    case YAML_MEMORY_ERROR:
        return snapconf__error(err, SNAPCONF_ENOMEM, name, 0, 0, "out of memory while parsing");
    case YAML_READER_ERROR:
        return reader_error(p, name, data, size, err);
    default:
        break;
    }
    line = (unsigned)p->problem_mark.line + 1;
    col = (unsigned)p->problem_mark.column + 1;
    const char *hint = syntax_hint(p);
    if (byte_at_mark(data, size, p->problem_mark.line, p->problem_mark.column) == '\t')
        hint = "; YAML does not allow tabs for indentation, use spaces";
    if (p->context)
        return snapconf__error(err, SNAPCONF_EPARSE, name, line, col,
                               "%s (%s at line %zu, column %zu)%s", problem, p->context,
                               p->context_mark.line + 1, p->context_mark.column + 1, hint);
    return snapconf__error(err, SNAPCONF_EPARSE, name, line, col, "%s%s", problem, hint);
}

/* ------------------------------------------------------------------------- */
/* Scalars                                                                    */

static const char *type_article(snapconf_type t)
{
    switch (t) {
    case SNAPCONF_TYPE_INT:
        return "an integer";
    case SNAPCONF_TYPE_FLOAT:
        return "a number";
    case SNAPCONF_TYPE_BOOL:
        return "a boolean (true or false)";
    default:
        return "null";
    }
}

static snapconf_type core_tag_type(const char *suffix)
{
    static const struct {
        const char *name;
        snapconf_type type;
    } core[] = {
        {"str", SNAPCONF_TYPE_STRING}, {"int", SNAPCONF_TYPE_INT},   {"float", SNAPCONF_TYPE_FLOAT},
        {"bool", SNAPCONF_TYPE_BOOL},  {"null", SNAPCONF_TYPE_NULL},
    };
    for (size_t i = 0; i < sizeof core / sizeof core[0]; i++)
        if (strcmp(suffix, core[i].name) == 0)
            return core[i].type;
    return SNAPCONF_TYPE_MAP; /* not a scalar core tag */
}

static int scalar_error(const char *name, const struct snapconf__scalar_event *ev, int rc,
                        const char *tag, snapconf_type want, snapconf_error *err)
{
    if (rc == SNAPCONF_ENOMEM)
        return snapconf__error(err, SNAPCONF_ENOMEM, name, 0, 0, "out of memory");
    char text[96];
    snapconf__excerpt(text, sizeof text, ev->text, ev->len, 64);
    if (rc == SNAPCONF_ERANGE && want == SNAPCONF_TYPE_FLOAT)
        return snapconf__error(err, SNAPCONF_EPARSE, name, ev->line, ev->column,
                               "number %s is too large for a 64-bit float; quote it to keep it "
                               "as a string",
                               text);
    if (rc == SNAPCONF_ERANGE)
        return snapconf__error(err, SNAPCONF_EPARSE, name, ev->line, ev->column,
                               "integer %s does not fit in 64 bits; quote it to keep it as a "
                               "string",
                               text);
    return snapconf__error(err, SNAPCONF_EPARSE, name, ev->line, ev->column,
                           "'%s' is tagged %s but is not %s", text, tag, type_article(want));
}

/* The short form of a tag snapconf keeps: "!!binary" for the core
 * namespace, the tag as written otherwise.  malloc'd, or NULL. */
static char *short_tag(const char *tag)
{
    size_t plen = strlen(CORE_TAG_PREFIX);
    if (strncmp(tag, CORE_TAG_PREFIX, plen) != 0)
        return strdup(tag);
    size_t n = strlen(tag + plen) + 3;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "!!%s", tag + plen);
    return t;
}

/* Types one scalar.  *tag_out receives a malloc'd tag for a string whose tag
 * snapconf keeps, to be freed by the caller. */
static int type_scalar(const yaml_event_t *e, const char *name, struct snapconf__scalar_event *ev,
                       char **tag_out, snapconf_error *err)
{
    const char *tag = (const char *)e->data.scalar.tag;
    int plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    ev->quoted = !plain;
    ev->plain = plain && !tag;
    ev->tag = NULL;
    ev->value.type = SNAPCONF_TYPE_STRING;
    if (!tag || strcmp(tag, "!") == 0) {
        if (!plain || tag)
            return 0;
        int rc = snapconf__resolve_plain(ev->text, ev->len, &ev->value);
        snapconf_type kind =
            ev->value.type == SNAPCONF_TYPE_FLOAT ? SNAPCONF_TYPE_FLOAT : SNAPCONF_TYPE_INT;
        return rc ? scalar_error(name, ev, rc, NULL, kind, err) : 0;
    }
    size_t plen = strlen(CORE_TAG_PREFIX);
    if (strncmp(tag, CORE_TAG_PREFIX, plen) == 0) {
        snapconf_type want = core_tag_type(tag + plen);
        if (want == SNAPCONF_TYPE_STRING)
            return 0;
        if (want != SNAPCONF_TYPE_MAP) {
            int rc = snapconf__parse_as(want, ev->text, ev->len, &ev->value);
            if (rc) {
                char shown[64];
                snprintf(shown, sizeof shown, "!!%s", tag + plen);
                return scalar_error(name, ev, rc, shown, want, err);
            }
            return 0;
        }
    }
    /* An uninterpreted tag: a string that remembers it. */
    *tag_out = short_tag(tag);
    if (!*tag_out)
        return snapconf__error(err, SNAPCONF_ENOMEM, name, 0, 0, "out of memory");
    ev->tag = *tag_out;
    return 0;
}

static int on_scalar(snapconf__builder *b, const yaml_event_t *e, unsigned line, unsigned col)
{
    struct snapconf__scalar_event ev = {
        .text = (const char *)e->data.scalar.value,
        .len = e->data.scalar.length,
        .anchor = (const char *)e->data.scalar.anchor,
        .line = line,
        .column = col,
        .value.type = SNAPCONF_TYPE_STRING,
    };
    /* Keys are text: typing one could only produce a spurious error (a
     * "too big" integer key).  An anchored key is typed, since an alias may
     * use it as a value. */
    if (snapconf__build_expecting_key(b) && !ev.anchor) {
        ev.plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !e->data.scalar.tag;
        return snapconf__build_scalar(b, &ev);
    }
    char *tag = NULL;
    int rc = type_scalar(e, b->name, &ev, &tag, b->err);
    if (rc == 0)
        rc = snapconf__build_scalar(b, &ev);
    free(tag);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* The event loop                                                             */

static int on_event(snapconf__builder *b, const yaml_event_t *e, int *docs)
{
    unsigned line = (unsigned)e->start_mark.line + 1;
    unsigned col = (unsigned)e->start_mark.column + 1;
    switch (e->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return snapconf__error(b->err, SNAPCONF_EPARSE, b->name, line, col,
                                   "a second document starts here; snapconf loads exactly one "
                                   "document per file (remove the extra '---' or split the "
                                   "file)");
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, e, line, col);
    case YAML_ALIAS_EVENT:
        return snapconf__build_alias(b, (const char *)e->data.alias.anchor, line, col);
    case YAML_SEQUENCE_START_EVENT:
        return snapconf__build_begin(b, SNAPCONF_TYPE_SEQ,
                                     (const char *)e->data.sequence_start.anchor, line, col);
    case YAML_MAPPING_START_EVENT:
        return snapconf__build_begin(b, SNAPCONF_TYPE_MAP,
                                     (const char *)e->data.mapping_start.anchor, line, col);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return snapconf__build_end(b);
    default:
        return 0;
    }
}

static int parse(snapconf__builder *b, const char *data, size_t size)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return snapconf__error(b->err, SNAPCONF_ENOMEM, b->name, 0, 0, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, size);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    int rc = 0, docs = 0, done = 0;
    while (!rc && !done) {
        yaml_event_t e;
        if (!yaml_parser_parse(&parser, &e)) {
            rc = parser_error(&parser, b->name, data, size, b->err);
            break;
        }
        done = e.type == YAML_STREAM_END_EVENT;
        rc = on_event(b, &e, &docs);
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&parser);
    return rc;
}

void snapconf__content_hash(const char *data, size_t size, char out[33])
{
    snapconf__hash_hex(XXH3_128bits(data, size), out);
}

int snapconf__load_bytes(const char *name, const char *data, size_t size, const char *hash,
                         const snapconf_options *opts, snapconf_snap **out, snapconf_error *err)
{
    int rc = check_bytes(data, size, name, err);
    if (rc)
        return rc;
    snapconf__builder b;
    snapconf__builder_init(&b, name, opts, err);
    rc = parse(&b, data, size);
    if (rc == 0)
        rc = snapconf__build_finish(&b, hash, out);
    snapconf__builder_fini(&b);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Public entry points                                                        */

int snapconf_snap_load(const char *path, const char *buf, size_t len, const snapconf_options *opts,
                       snapconf_snap **out, snapconf_error *err)
{
    if (!out || (!buf && !path))
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf_snap_load: no output pointer, or neither path nor "
                               "buffer given");
    snapconf_options defaults;
    if (!opts) {
        snapconf_options_init(&defaults);
        opts = &defaults;
    }
    snapconf__hash_init();
    if (buf) {
        const char *name = path ? path : "<buffer>";
        if (len > opts->max_file_size)
            return too_big(err, name, len, opts->max_file_size);
        char hash[33];
        snapconf__content_hash(buf, len, hash);
        return snapconf__load_bytes(name, buf, len, hash, opts, out, err);
    }
    char *data = NULL;
    size_t size = 0;
    int rc = snapconf__read_file(path, opts->max_file_size, &data, &size, err);
    if (rc == 0) {
        char hash[33];
        snapconf__content_hash(data, size, hash);
        rc = snapconf__load_bytes(path, data, size, hash, opts, out, err);
    }
    free(data);
    return rc;
}

int snapconf_snap_load_file(const char *path, snapconf_snap **out, snapconf_error *err)
{
    if (!path)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf_snap_load_file: path is NULL");
    return snapconf_snap_load(path, NULL, 0, NULL, out, err);
}

int snapconf_snap_load_buffer(const char *buf, size_t len, const char *name, snapconf_snap **out,
                              snapconf_error *err)
{
    if (!buf && len)
        return snapconf__error(err, SNAPCONF_EINVAL, NULL, 0, 0,
                               "snapconf_snap_load_buffer: buffer is NULL");
    return snapconf_snap_load(name ? name : "<buffer>", buf ? buf : "", len, NULL, out, err);
}
