/*
 * fuzz_load.c - libFuzzer target for the YAML loader.
 *
 * Bytes in, snapshot or error out:
 *  - an error must be a loader error with a message that starts with the
 *    buffer's name and the position, and a position inside the input;
 *  - a snapshot is walked node by node.  Every node's accessors must agree
 *    with its type; every node is looked up again by its path, as a string
 *    and as a compiled path (whose canonical text must be the path we
 *    built), and must come back as the very same node; the walk must count
 *    snapconf_snap_node_count() nodes;
 *  - the snapshot is rendered as text, as JSON (which must parse) and as
 *    YAML, which must load back to a snapshot with no difference from the
 *    first (render.h promises that round trip).
 *
 * Small limits keep each input fast: an alias bomb stops at MAX_NODES.
 */
#include "fuzz.h"

#include "render.h"

#include <jansson.h>
#include <stdbool.h>

#define NAME "fuzz.yaml"
#define MAX_NODES 4096
#define MAX_DEPTH 64

static void load_options(snapconf_options *opts)
{
    snapconf_options_init(opts);
    opts->max_nodes = MAX_NODES;
    opts->max_depth = MAX_DEPTH;
}

/* ---- errors ---------------------------------------------------------------- */

/*
 * The highest line a position in the input can have: one more than the
 * line breaks as libyaml counts them (LF, CR, NEL, LS, PS; CRLF counts
 * twice here, which only loosens the bound), and one more again because
 * libyaml ends an input that lacks a final line break with a virtual one,
 * so that what it finds at the end (an implicit null, an unclosed bracket)
 * sits at the start of the line after the last.
 */
static unsigned max_line(const char *data, size_t size)
{
    unsigned lines = 2;

    for (size_t i = 0; i < size; i++) {
        const unsigned char *u = (const unsigned char *)data + i;
        bool nel = u[0] == 0xc2 && i + 1 < size && u[1] == 0x85;
        bool ls_ps = u[0] == 0xe2 && i + 2 < size && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9);
        lines += u[0] == '\n' || u[0] == '\r' || nel || ls_ps;
    }
    return lines;
}

static void check_error(int rc, const snapconf_error *err, const char *data, size_t size)
{
    char prefix[64];

    FUZZ_CHECK(rc == SNAPCONF_EPARSE || rc == SNAPCONF_ELIMIT || rc == SNAPCONF_ENOMEM,
               "unexpected code %s", snapconf_err_name(rc));
    FUZZ_CHECK(err->code == rc, "err.code %d, returned %d", err->code, rc);
    FUZZ_CHECK(fuzz_terminated(err->message, sizeof(err->message)), "message not terminated");
    FUZZ_CHECK(fuzz_terminated(err->file, sizeof(err->file)), "file not terminated");
    FUZZ_CHECK(strcmp(err->file, NAME) == 0, "file '%s'", err->file);
    FUZZ_CHECK(err->sys_errno == 0, "sys_errno %d", err->sys_errno);
    FUZZ_CHECK(err->line >= 0 && err->column >= 0, "position %d:%d", err->line, err->column);
    FUZZ_CHECK((unsigned)err->line <= max_line(data, size), "line %d of %u", err->line,
               max_line(data, size));
    FUZZ_CHECK((size_t)err->column <= size + 1, "column %d, %zu bytes", err->column, size);
    if (err->line == 0) {
        FUZZ_CHECK(err->column == 0, "column %d without a line", err->column);
        snprintf(prefix, sizeof(prefix), "%s: ", NAME);
    } else {
        FUZZ_CHECK(err->column >= 1, "line %d, column %d", err->line, err->column);
        snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", NAME, err->line, err->column);
    }
    FUZZ_CHECK(strncmp(err->message, prefix, strlen(prefix)) == 0 &&
                   err->message[strlen(prefix)] != '\0',
               "message '%s' does not start with '%s' and go on", err->message, prefix);
}

/* ---- the walk -------------------------------------------------------------- */

struct walk {
    const snapconf_snap *snap;
    unsigned lines; /* of the input */
    char *path;     /* canonical path of the current node */
    size_t len, cap;
    size_t nodes;
    unsigned depth;      /* containers from the root to the current node */
    bool unwritable_tag; /* one that render_yaml() refuses (render.h) */
};

static void path_reserve(struct walk *w, size_t more)
{
    if (w->len + more + 1 <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + more + 1)
        cap *= 2;
    w->path = realloc(w->path, cap);
    FUZZ_CHECK(w->path != NULL, "out of memory");
    w->cap = cap;
}

/* Appends a key segment as snapconf.h defines the canonical form: bare
 * unless the key is empty or holds one of NUL . [ ] ", else quoted with \"
 * and \\ escaped. */
static void path_add_key(struct walk *w, const char *key, size_t klen)
{
    bool quote = klen == 0 || strcspn(key, ".[]\"") < klen || memchr(key, '\0', klen) != NULL;

    path_reserve(w, 2 * klen + 3);
    if (w->len > 0)
        w->path[w->len++] = '.';
    if (quote)
        w->path[w->len++] = '"';
    for (size_t i = 0; i < klen; i++) {
        if (quote && (key[i] == '"' || key[i] == '\\'))
            w->path[w->len++] = '\\';
        w->path[w->len++] = key[i];
    }
    if (quote)
        w->path[w->len++] = '"';
    w->path[w->len] = '\0';
}

static void path_add_index(struct walk *w, size_t i)
{
    path_reserve(w, 24);
    w->len += (size_t)snprintf(w->path + w->len, 24, "[%zu]", i);
}

/* Each typed accessor succeeds exactly for its own type. */
static void check_accessors(const struct walk *w, const snapconf_node *node)
{
    snapconf_type type = snapconf_node_type(node);
    const char *tag = snapconf_node_tag(node);
    const char *s = NULL;
    size_t len = 0;
    int64_t i;
    double d;
    bool b;

    FUZZ_CHECK(type <= SNAPCONF_TYPE_SEQ, "type %d at '%s'", (int)type, w->path);
    FUZZ_CHECK((snapconf_node_str(node, &s, &len) == 0) == (type == SNAPCONF_TYPE_STRING),
               "node_str on a %s", snapconf_type_name(type));
    FUZZ_CHECK(s == NULL || s[len] == '\0', "string not terminated at '%s'", w->path);
    FUZZ_CHECK((snapconf_node_int(node, &i) == 0) == (type == SNAPCONF_TYPE_INT), "node_int");
    FUZZ_CHECK((snapconf_node_double(node, &d) == 0) ==
                   (type == SNAPCONF_TYPE_INT || type == SNAPCONF_TYPE_FLOAT),
               "node_double on a %s", snapconf_type_name(type));
    FUZZ_CHECK((snapconf_node_bool(node, &b) == 0) == (type == SNAPCONF_TYPE_BOOL), "node_bool");
    FUZZ_CHECK(tag == NULL || type == SNAPCONF_TYPE_STRING, "a tag on a %s",
               snapconf_type_name(type));
    FUZZ_CHECK(snapconf_node_line(node) >= 1 && snapconf_node_line(node) <= w->lines,
               "line %u of %u at '%s'", snapconf_node_line(node), w->lines, w->path);
    FUZZ_CHECK(snapconf_node_column(node) >= 1, "column 0 at '%s'", w->path);
    FUZZ_CHECK(!snapconf_node_quoted(node) || type < SNAPCONF_TYPE_MAP, "a quoted %s",
               snapconf_type_name(type));
}

/* The node comes back from its path, by string and compiled. */
static void check_lookup(const struct walk *w, const snapconf_node *node)
{
    const snapconf_node *found = NULL;
    snapconf_path *cp = NULL;
    snapconf_error err;
    int rc = snapconf_find(w->snap, w->path, &found);

    FUZZ_CHECK(rc == 0 && found == node, "snapconf_find('%s'): %s, %s node", w->path,
               snapconf_err_name(rc), found == node ? "same" : "another");
    rc = snapconf_path_compile(w->path, &cp, &err);
    FUZZ_CHECK(rc == 0, "compiling '%s': %s", w->path, err.message);
    FUZZ_CHECK(strcmp(snapconf_path_str(cp), w->path) == 0, "canonical '%s' for '%s'",
               snapconf_path_str(cp), w->path);
    /* Twice: the first walks and fills the memo, the second reads it. */
    for (int pass = 0; pass < 2; pass++) {
        found = NULL;
        rc = snapconf_find_path(w->snap, cp, &found);
        FUZZ_CHECK(rc == 0 && found == node, "snapconf_find_path('%s') pass %d: %s", w->path, pass,
                   snapconf_err_name(rc));
    }
    snapconf_path_free(cp);
}

static void walk_node(struct walk *w, const snapconf_node *node, bool addressable);

/* Child i of node: the key, or the lack of one, and the way back to it. */
static void walk_child(struct walk *w, const snapconf_node *node, size_t i, bool addressable)
{
    const snapconf_node *child = snapconf_node_at(node, i), *again = NULL;
    size_t saved = w->len, klen = 0;
    const char *key;

    FUZZ_CHECK(child != NULL, "item %zu of %zu missing at '%s'", i, snapconf_node_size(node),
               w->path);
    key = snapconf_node_key(child, &klen);
    if (snapconf_node_type(node) == SNAPCONF_TYPE_MAP) {
        FUZZ_CHECK(key != NULL && key[klen] == '\0', "entry %zu of '%s' has no key", i, w->path);
        FUZZ_CHECK(snapconf_node_child(node, key, klen, &again) == 0 && again == child,
                   "snapconf_node_child for entry %zu of '%s'", i, w->path);
        /* A path is a C string: a key holding a NUL byte cannot be
         * written in one, so its subtree is reached only by walking. */
        addressable = addressable && memchr(key, '\0', klen) == NULL;
        path_add_key(w, key, klen);
    } else {
        FUZZ_CHECK(key == NULL, "item %zu of '%s' has a key", i, w->path);
        path_add_index(w, i);
    }
    walk_node(w, child, addressable);
    w->len = saved;
    w->path[saved] = '\0';
}

static void walk_node(struct walk *w, const snapconf_node *node, bool addressable)
{
    size_t n = snapconf_node_size(node);
    snapconf_type type = snapconf_node_type(node);
    bool container = type == SNAPCONF_TYPE_MAP || type == SNAPCONF_TYPE_SEQ;

    w->nodes++;
    check_accessors(w, node);
    const char *tag = snapconf_node_tag(node);
    if (tag != NULL && tag[0] == '!' && strpbrk(tag + 1, ",[]") != NULL)
        w->unwritable_tag = true;
    if (addressable)
        check_lookup(w, node);
    FUZZ_CHECK(container || n == 0, "a %s of size %zu", snapconf_type_name(type), n);
    FUZZ_CHECK(snapconf_node_at(node, n) == NULL, "item %zu of %zu exists", n, n);
    /* max_depth holds through aliases too (DESIGN.md, "The loader"). */
    w->depth += container;
    FUZZ_CHECK(w->depth <= MAX_DEPTH, "nesting %u deep at '%s'", w->depth, w->path);
    for (size_t i = 0; i < n; i++)
        walk_child(w, node, i, addressable);
    w->depth -= container;
}

/* ---- rendering ------------------------------------------------------------- */

typedef int (*render_fn)(FILE *out, const snapconf_node *node, render_error *err);

/* The rendering of node, malloc'd, length in *len; NULL (with *rerr
 * filled in) when the renderer fails. */
static char *render_or_null(render_fn fn, const snapconf_node *node, size_t *len,
                            render_error *rerr)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);

    FUZZ_CHECK(f != NULL, "open_memstream");
    int rc = fn(f, node, rerr);
    FUZZ_CHECK(fclose(f) == 0, "out of memory");
    if (rc == 0)
        return text;
    FUZZ_CHECK(rerr->message[0] != '\0', "a render error without a message");
    free(text);
    return NULL;
}

static char *render(render_fn fn, const snapconf_node *node, size_t *len, const char *what)
{
    render_error rerr;
    char *text = render_or_null(fn, node, len, &rerr);

    FUZZ_CHECK(text != NULL, "render_%s: %s", what, rerr.message);
    return text;
}

static int report_change(void *userdata, const snapconf_change *change)
{
    FUZZ_CHECK(0, "the YAML rendering of the snapshot loads differently at '%s' (kind %d):\n%s",
               change->path, (int)change->kind, (const char *)userdata);
    return 1;
}

/* render_yaml()'s output loads back to the same values, types and tags,
 * unless the snapshot has a tag it refuses, and then it must refuse. */
static void check_yaml_round_trip(const snapconf_snap *snap, bool unwritable_tag)
{
    snapconf_options opts;
    snapconf_snap *again = NULL;
    snapconf_error err;
    render_error rerr;
    size_t len = 0;
    char *yaml = render_or_null(render_yaml, snapconf_snap_root(snap), &len, &rerr);

    if (unwritable_tag) {
        FUZZ_CHECK(yaml == NULL, "render_yaml wrote a tag it cannot write:\n%s", yaml);
        return;
    }
    FUZZ_CHECK(yaml != NULL, "render_yaml: %s", rerr.message);
    load_options(&opts);
    int rc = snapconf_snap_load(NAME, yaml, len, &opts, &again, &err);
    FUZZ_CHECK(rc == 0, "the YAML rendering does not load: %s\n%s", err.message, yaml);
    snapconf_diff(snap, again, report_change, yaml);
    snapconf_snap_free(again);
    free(yaml);
}

/*
 * Strings and keys may hold NUL bytes, which JSON writes as \u0000.
 * jansson reads those in strings with JSON_ALLOW_NUL but never in object
 * keys, so each \u0000 becomes \u0001 before parsing: the text stays
 * exactly as valid or invalid as it was.
 */
static char *loadable_json(char *text)
{
    for (char *p = strstr(text, "\\u0000"); p != NULL; p = strstr(p + 6, "\\u0000"))
        p[5] = '1';
    return text;
}

static void check_renderings(const snapconf_snap *snap, bool unwritable_tag)
{
    const snapconf_node *root = snapconf_snap_root(snap);
    json_error_t jerr;
    size_t len = 0;
    char *text = render(render_text, root, &len, "text");

    free(text);
    text = render(render_json, root, &len, "json");
    json_t *j = json_loadb(loadable_json(text), len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    FUZZ_CHECK(j != NULL, "render_json wrote invalid JSON (%s, line %d):\n%s", jerr.text, jerr.line,
               text);
    json_decref(j);
    free(text);
    check_yaml_round_trip(snap, unwritable_tag);
}

/* ---- entry point ----------------------------------------------------------- */

static int report_self_change(void *userdata, const snapconf_change *change)
{
    (void)userdata;
    FUZZ_CHECK(0, "a snapshot differs from itself at '%s' (kind %d)", change->path,
               (int)change->kind);
    return 1;
}

static void check_snapshot(const snapconf_snap *snap, const char *data, size_t size)
{
    struct walk w = {.snap = snap, .lines = max_line(data, size)};

    path_reserve(&w, 0);
    w.path[0] = '\0';
    walk_node(&w, snapconf_snap_root(snap), true);
    FUZZ_CHECK(w.nodes == snapconf_snap_node_count(snap), "walked %zu nodes, node_count %zu",
               w.nodes, snapconf_snap_node_count(snap));
    FUZZ_CHECK(w.nodes <= MAX_NODES, "%zu nodes, max_nodes %d", w.nodes, MAX_NODES);
    free(w.path);
    FUZZ_CHECK(snapconf_diff(snap, snap, report_self_change, NULL) == 0, "self-diff failed");
    check_renderings(snap, w.unwritable_tag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = size > 0 ? (const char *)data : "";
    snapconf_options opts;
    snapconf_snap *snap = NULL;
    snapconf_error err;

    load_options(&opts);
    memset(&err, 0, sizeof(err));
    int rc = snapconf_snap_load(NAME, buf, size, &opts, &snap, &err);
    if (rc != 0) {
        FUZZ_CHECK(snap == NULL, "a snapshot despite %s", snapconf_err_name(rc));
        check_error(rc, &err, buf, size);
        return 0;
    }
    check_snapshot(snap, buf, size);
    snapconf_snap_free(snap);
    return 0;
}
