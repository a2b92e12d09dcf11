/*
 * test_load.c - loading: errors with exact codes, positions and messages,
 * empty documents, limits, files, and argument checks.
 */
#include "unit.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Seconds a pathological input may take to be rejected: fast natively,
 * with room for valgrind's slowdown. */
static double time_budget(void)
{
    return RUNNING_ON_VALGRIND ? 60.0 : 2.0;
}

/* "[[[...]]]" or "{a: {a: ... 1}}" nested depth times. */
static void nested_flow(strbuf *sb, size_t depth, bool maps)
{
    size_t i;

    for (i = 0; i < depth; i++)
        sb_add(sb, maps ? "{a: " : "[");
    sb_add(sb, "1");
    for (i = 0; i < depth; i++)
        sb_add(sb, maps ? "}" : "]");
    sb_add(sb, "\n");
}

/* ------------------------------------------------------------------------- */

static void duplicate_keys(void **state)
{
    (void)state;
    load_err("port: 1\nhost: x\nport: 2\n", SNAPCONF_EPARSE,
             "t.yaml:3:1: ", "duplicate key 'port'");
    assert_message_has(&last_err, "line 1");

    load_err("a:\n  x: 1\n  y: 2\n  x: 3\n", SNAPCONF_EPARSE, "t.yaml:4:3: ", "duplicate key 'x'");
    assert_message_has(&last_err, "line 2");

    load_err("{a: 1, a: 2}\n", SNAPCONF_EPARSE, "t.yaml:1:8: ", "duplicate key 'a'");
    load_err("list:\n  - a: 1\n    b: 2\n    a: 3\n", SNAPCONF_EPARSE,
             "t.yaml:4:5: ", "duplicate key 'a'");
    assert_message_has(&last_err, "line 2");
    /* The same text quoted differently is the same key. */
    load_err("k: 1\n\"k\": 2\n", SNAPCONF_EPARSE, "t.yaml:2:1: ", "duplicate key 'k'");
    /* Equal keys in different mappings are fine. */
    snapconf_snap_free(load("a: {x: 1}\nb: {x: 2}\nx: 3\n"));
}

static void non_scalar_keys(void **state)
{
    (void)state;
    load_err("? [a]\n: 1\n", SNAPCONF_EPARSE, "t.yaml:1:3: ", "keys must be scalars");
    load_err("{[1]: 2}\n", SNAPCONF_EPARSE, "t.yaml:1:2: ", "keys must be scalars");
    load_err("ok: 1\n? {a: 1}\n: 2\n", SNAPCONF_EPARSE, "t.yaml:2:3: ", "keys must be scalars");
}

static void more_than_one_document(void **state)
{
    (void)state;
    load_err("a: 1\n---\nb: 2\n", SNAPCONF_EPARSE, "t.yaml:2:1: ", "document");
    load_err("--- 1\n--- 2\n", SNAPCONF_EPARSE, "t.yaml:2:1: ", "document");
    load_err("a: 1\n...\n---\nb: 2\n", SNAPCONF_EPARSE, "t.yaml:3:1: ", "document");

    /* One document with explicit markers is fine. */
    snapconf_snap *snap = load("---\na: 1\n...\n");
    assert_int_equal(int_at(snap, "a"), 1);
    snapconf_snap_free(snap);
    snap = load("%YAML 1.2\n---\na: 2\n");
    assert_int_equal(int_at(snap, "a"), 2);
    snapconf_snap_free(snap);
}

static void invalid_utf8(void **state)
{
    (void)state;
    /* A bad continuation byte on line 3. */
    load_err("a: 1\nb: 2\nc: \xc3\x28\n", SNAPCONF_EPARSE, "t.yaml:3:", "UTF-8");
    assert_int_equal(last_err.line, 3);
    assert_in_range(last_err.column, 4, 5);
    /* A lone continuation byte, an overlong form, a surrogate, a sequence
     * cut short by the end of input. */
    load_err("a: \x80\n", SNAPCONF_EPARSE, "t.yaml:1:", "UTF-8");
    load_err("a: \xc0\xaf\n", SNAPCONF_EPARSE, "t.yaml:1:", NULL);
    load_err("a: \xed\xa0\x80\n", SNAPCONF_EPARSE, "t.yaml:1:", NULL);
    load_err("a: 1\nb: \xe2\x82", SNAPCONF_EPARSE, "t.yaml:2:", "UTF-8");
    /* A UTF-8 byte-order mark is allowed. */
    snapconf_snap *snap = load("\xef\xbb\xbf"
                               "a: 1\n");
    assert_int_equal(int_at(snap, "a"), 1);
    snapconf_snap_free(snap);
}

static void nul_bytes(void **state)
{
    (void)state;
    load_err_len("a: 1\n\0b: 2\n", 11, SNAPCONF_EPARSE, "t.yaml:2:", NULL);
    assert_int_equal(last_err.line, 2);
    load_err_len("a: \"x\0y\"\n", 9, SNAPCONF_EPARSE, "t.yaml:1:", NULL);
    load_err_len("\0", 1, SNAPCONF_EPARSE, "t.yaml:1:", NULL);
}

static void utf16_is_rejected(void **state)
{
    (void)state;
    /* "a: 1\n" in UTF-16LE and UTF-16BE with a byte-order mark; libyaml
     * would accept both, the contract says UTF-8 only. */
    load_err_len("\xff\xfe"
                 "a\0:\0 \0"
                 "1\0\n\0",
                 12, SNAPCONF_EPARSE, "t.yaml", "UTF-16");
    load_err_len("\xfe\xff"
                 "\0a\0:\0 \0"
                 "1\0\n",
                 12, SNAPCONF_EPARSE, "t.yaml", "UTF-16");
}

static void syntax_errors(void **state)
{
    (void)state;
    load_err("a: [1, 2", SNAPCONF_EPARSE, "t.yaml:", NULL);
    assert_in_range(last_err.line, 1, 2);
    load_err("a: \"unclosed", SNAPCONF_EPARSE, "t.yaml:1:", NULL);
    assert_int_equal(last_err.line, 1);
    load_err("key: value\n\tbad: tab", SNAPCONF_EPARSE, "t.yaml:2:", "tab");
    load_err("a: b: c\n", SNAPCONF_EPARSE, "t.yaml:1:", NULL);
    load_err("a: 1\n b: 2\n", SNAPCONF_EPARSE, "t.yaml:2:", NULL);
    load_err("a: &x\n  b: 1\nc: &\n", SNAPCONF_EPARSE, "t.yaml:3:", NULL);
    /* Every syntax error has a position. */
    assert_true(last_err.line > 0 && last_err.column > 0);
}

static void bad_aliases(void **state)
{
    (void)state;
    load_err("a: 1\nb: *nope\n", SNAPCONF_EPARSE, "t.yaml:2:4: ", "nope");
    load_err("a: &x [*x]\n", SNAPCONF_EPARSE, "t.yaml:1:8: ", "x");
    load_err("a: &x {b: *x}\n", SNAPCONF_EPARSE, "t.yaml:1:11: ", "x");
    load_err("a: &x\n  b:\n    c: [1, *x]\n", SNAPCONF_EPARSE, "t.yaml:3:12: ", "x");
    /* An alias must come after its anchor. */
    load_err("b: *later\na: &later 1\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", "later");
}

static void empty_documents(void **state)
{
    (void)state;
    static const char *const empties[] = {"", "# only a comment\n", "# one\n\n# two\n", "\n\n   \n",
                                          "  # indented comment"};
    size_t i;

    /* No document is an error, so that a file emptied by accident never
     * replaces a live configuration. */
    for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
        snapconf_snap *snap = NULL;
        snapconf_error err;
        int rc =
            snapconf_snap_load_buffer(empties[i], strlen(empties[i]), "empty.yaml", &snap, &err);
        assert_int_equal(rc, SNAPCONF_EPARSE);
        assert_null(snap);
        assert_int_equal(err.line, 1);
        assert_int_equal(err.column, 1);
        assert_string_equal(err.message, "empty.yaml:1:1: no YAML document: the file is empty or "
                                         "holds only comments; write {} for an empty "
                                         "configuration");
    }
    /* len decides, not a terminating NUL. */
    snapconf_snap *snap = NULL;
    snapconf_error err;
    assert_int_equal(snapconf_snap_load_buffer("a: 1\n", 0, "empty.yaml", &snap, &err),
                     SNAPCONF_EPARSE);
    /* An empty configuration is written {}. */
    snap = load("{}\n");
    assert_int_equal(snapconf_node_type(snapconf_snap_root(snap)), SNAPCONF_TYPE_MAP);
    assert_int_equal(snapconf_node_size(snapconf_snap_root(snap)), 0);
    assert_null(snapconf_node_at(snapconf_snap_root(snap), 0));
    assert_null(snapconf_node_key(snapconf_snap_root(snap), NULL));
    snapconf_snap_free(snap);
}

static void root_of_any_type(void **state)
{
    (void)state;
    snapconf_snap *snap = load("hello\n");
    const char *s = NULL;

    assert_int_equal(snapconf_node_type(snapconf_snap_root(snap)), SNAPCONF_TYPE_STRING);
    assert_int_equal(snapconf_get_str(snap, "", &s), 0);
    assert_string_equal(s, "hello");
    snapconf_snap_free(snap);

    snap = load("42");
    assert_int_equal(int_at(snap, ""), 42);
    snapconf_snap_free(snap);

    snap = load("- 1\n- 2\n");
    assert_int_equal(snapconf_node_type(snapconf_snap_root(snap)), SNAPCONF_TYPE_SEQ);
    assert_int_equal(snapconf_node_size(snapconf_snap_root(snap)), 2);
    snapconf_snap_free(snap);

    snap = load("~\n");
    assert_non_null(snapconf_snap_root(snap));
    assert_int_equal(snapconf_node_type(snapconf_snap_root(snap)), SNAPCONF_TYPE_NULL);
    snapconf_snap_free(snap);
}

/* ------------------------------------------------------------------------- */

static void options_defaults(void **state)
{
    (void)state;
    snapconf_options opts;
    size_t i;

    memset(&opts, 0xA5, sizeof(opts));
    snapconf_options_init(&opts);
    assert_int_equal(opts.max_file_size, SNAPCONF_DEFAULT_MAX_FILE_SIZE);
    assert_int_equal(opts.max_file_size, (size_t)64 << 20);
    assert_int_equal(opts.max_depth, SNAPCONF_DEFAULT_MAX_DEPTH);
    assert_int_equal(opts.max_depth, 256);
    assert_int_equal(opts.max_nodes, SNAPCONF_DEFAULT_MAX_NODES);
    assert_int_equal(opts.max_nodes, (size_t)16 << 20);
    for (i = 0; i < sizeof(opts.reserved_) / sizeof(opts.reserved_[0]); i++)
        assert_int_equal(opts.reserved_[i], 0);

    /* NULL options are the defaults. */
    snapconf_snap *snap = NULL;
    assert_int_equal(snapconf_snap_load(NULL, "a: 1\n", 5, NULL, &snap, NULL), 0);
    assert_int_equal(int_at(snap, "a"), 1);
    snapconf_snap_free(snap);
}

/* Depth counts nested mappings and sequences, the root included: "a: 1"
 * has depth 1 and each level of nesting adds one. */
static void max_depth(void **state)
{
    (void)state;
    static const char five_maps[] = "a:\n b:\n  c:\n   d:\n    e: 1\n";
    snapconf_options opts;

    snapconf_options_init(&opts);
    opts.max_depth = 5;
    snapconf_snap *snap = load_len_opts(five_maps, strlen(five_maps), &opts);
    assert_int_equal(int_at(snap, "a.b.c.d.e"), 1);
    snapconf_snap_free(snap);

    opts.max_depth = 4;
    load_err_opts(five_maps, strlen(five_maps), &opts, SNAPCONF_ELIMIT, "depth");
    /* The mapping that goes too deep is the one under "d", on line 5. */
    assert_int_equal(last_err.line, 5);

    opts.max_depth = 3;
    load_err_opts("[[[[1]]]]", 9, &opts, SNAPCONF_ELIMIT, "depth");
    opts.max_depth = 4;
    snap = load_len_opts("[[[[1]]]]", 9, &opts);
    assert_int_equal(int_at(snap, "[0][0][0][0]"), 1);
    snapconf_snap_free(snap);
    opts.max_depth = 1;
    snap = load_len_opts("a: 1\n", 5, &opts);
    snapconf_snap_free(snap);
    load_err_opts("a: [1]\n", 7, &opts, SNAPCONF_ELIMIT, "depth");
}

static void default_depth_limit(void **state)
{
    (void)state;
    strbuf sb = {0};

    nested_flow(&sb, 256, false);
    snapconf_snap *snap = load_len(sb.data, sb.len);
    snapconf_snap_free(snap);
    sb_free(&sb);

    nested_flow(&sb, 257, false);
    load_err_len(sb.data, sb.len, SNAPCONF_ELIMIT, "t.yaml:1:", "depth");
    sb_free(&sb);

    nested_flow(&sb, 257, true);
    load_err_len(sb.data, sb.len, SNAPCONF_ELIMIT, "t.yaml:1:", "depth");
    sb_free(&sb);
}

/* Very deep input is rejected at the limit, without recursion that could
 * blow the stack and without first reading everything. */
static void very_deep_input_is_rejected_fast(void **state)
{
    (void)state;
    strbuf sb = {0};
    double start;

    nested_flow(&sb, 100000, false);
    start = now_seconds();
    load_err_len(sb.data, sb.len, SNAPCONF_ELIMIT, "t.yaml:1:", "depth");
    assert_true(now_seconds() - start < time_budget());
    sb_free(&sb);

    nested_flow(&sb, 100000, true);
    start = now_seconds();
    load_err_len(sb.data, sb.len, SNAPCONF_ELIMIT, "t.yaml:1:", "depth");
    assert_true(now_seconds() - start < time_budget());
    sb_free(&sb);

    /* Unclosed: the limit is hit before the syntax error at the end. */
    for (size_t i = 0; i < 100000; i++)
        sb_add(&sb, "[");
    start = now_seconds();
    load_err_len(sb.data, sb.len, SNAPCONF_ELIMIT, NULL, "depth");
    assert_true(now_seconds() - start < time_budget());
    sb_free(&sb);
}

static void max_nodes(void **state)
{
    (void)state;
    snapconf_options opts;

    snapconf_options_init(&opts);
    opts.max_nodes = 5;
    snapconf_snap *snap = load_len_opts("[1, 2, 3, 4]", 12, &opts);
    assert_int_equal(snapconf_snap_node_count(snap), 5);
    snapconf_snap_free(snap);
    opts.max_nodes = 4;
    load_err_opts("[1, 2, 3, 4]", 12, &opts, SNAPCONF_ELIMIT, "node");
}

/* Each level lists the previous alias ten times: 10^9 strings. */
static void billion_laughs(void **state)
{
    (void)state;
    strbuf sb = {0};
    double start;
    int level, i;

    sb_add(&sb, "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (level = 1; level <= 9; level++) {
        sb_add(&sb, "l%d: &l%d [", level, level);
        for (i = 0; i < 10; i++)
            sb_add(&sb, "%s*l%d", i ? ", " : "", level - 1);
        sb_add(&sb, "]\n");
    }
    start = now_seconds();
    load_err_len(sb.data, sb.len, SNAPCONF_ELIMIT, "t.yaml:", "node");
    assert_true(now_seconds() - start < time_budget());

    /* The same through snapconf_snap_load() with a small limit. */
    snapconf_options opts;
    snapconf_options_init(&opts);
    opts.max_nodes = 1000;
    start = now_seconds();
    load_err_opts(sb.data, sb.len, &opts, SNAPCONF_ELIMIT, "node");
    assert_true(now_seconds() - start < time_budget());
    sb_free(&sb);
}

/* ------------------------------------------------------------------------- */

static void load_from_file(void **state)
{
    (void)state;
    char path[256];
    snapconf_snap *snap = NULL;
    snapconf_error err;

    write_temp(path, sizeof(path), "a: 1\nb: [x]\n", 12);
    memset(&err, 0x5A, sizeof(err));
    assert_int_equal(snapconf_snap_load_file(path, &snap, &err), 0);
    assert_non_null(snap);
    assert_int_equal(int_at(snap, "a"), 1);
    assert_string_equal(snapconf_snap_source(snap), path);
    snapconf_snap_free(snap);
    snap = NULL;
    assert_int_equal(snapconf_snap_load(path, NULL, 0, NULL, &snap, NULL), 0);
    assert_int_equal(int_at(snap, "a"), 1);
    snapconf_snap_free(snap);
    unlink(path);
}

static void file_errors_name_the_file(void **state)
{
    (void)state;
    char path[256], prefix[300];
    snapconf_snap *snap = OUT_SENTINEL;
    snapconf_error err;
    int rc;

    write_temp(path, sizeof(path), "x: 1\nx: 2\n", 10);
    memset(&err, 0, sizeof(err));
    rc = snapconf_snap_load_file(path, &snap, &err);
    check_error_common(rc, SNAPCONF_EPARSE, snap, &err);
    snprintf(prefix, sizeof(prefix), "%s:2:1: ", path);
    assert_message_starts(&err, prefix);
    assert_string_equal(err.file, path);
    assert_int_equal(err.sys_errno, 0);
    unlink(path);
}

static void max_file_size(void **state)
{
    (void)state;
    char doc[101], path[256];
    snapconf_options opts;
    snapconf_snap *snap = OUT_SENTINEL;
    snapconf_error err;
    int rc;

    memset(doc, ' ', 100);
    memcpy(doc, "a: 1\n#", 6);
    doc[99] = '\n';
    doc[100] = '\0';
    write_temp(path, sizeof(path), doc, 100);
    snapconf_options_init(&opts);

    opts.max_file_size = 99;
    memset(&err, 0, sizeof(err));
    rc = snapconf_snap_load(path, NULL, 0, &opts, &snap, &err);
    check_error_common(rc, SNAPCONF_ELIMIT, snap, &err);
    assert_message_starts(&err, path);
    assert_int_equal(err.sys_errno, 0);

    opts.max_file_size = 100;
    snap = NULL;
    assert_int_equal(snapconf_snap_load(path, NULL, 0, &opts, &snap, &err), 0);
    assert_int_equal(int_at(snap, "a"), 1);
    snapconf_snap_free(snap);

    /* The limit holds for buffers too. */
    opts.max_file_size = 99;
    load_err_opts(doc, 100, &opts, SNAPCONF_ELIMIT, NULL);
    opts.max_file_size = 100;
    snap = load_len_opts(doc, 100, &opts);
    snapconf_snap_free(snap);
    unlink(path);
}

static void io_errors(void **state)
{
    (void)state;
    snapconf_snap *snap = OUT_SENTINEL;
    snapconf_error err;
    char dir[] = "/tmp/snapconf-unit-dir-XXXXXX";
    char missing[300];
    int rc;

    assert_non_null(mkdtemp(dir));
    snprintf(missing, sizeof(missing), "%s/does-not-exist.yaml", dir);

    memset(&err, 0, sizeof(err));
    rc = snapconf_snap_load_file(missing, &snap, &err);
    check_error_common(rc, SNAPCONF_EIO, snap, &err);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_message_has(&err, missing);
    assert_int_equal(err.line, 0);

    memset(&err, 0, sizeof(err));
    rc = snapconf_snap_load_file(dir, &snap, &err);
    check_error_common(rc, SNAPCONF_EIO, snap, &err);
    assert_int_equal(err.sys_errno, EISDIR);
    assert_message_has(&err, dir);

    /* Without an error struct. */
    assert_int_equal(snapconf_snap_load_file(missing, &snap, NULL), SNAPCONF_EIO);
    assert_ptr_equal(snap, OUT_SENTINEL);
    assert_int_equal(rmdir(dir), 0);
}

/* ------------------------------------------------------------------------- */

static void error_untouched_on_success(void **state)
{
    (void)state;
    snapconf_error err;
    unsigned char expect[sizeof(snapconf_error)];
    snapconf_snap *snap = NULL;

    memset(&err, 0x5A, sizeof(err));
    memset(expect, 0x5A, sizeof(expect));
    assert_int_equal(snapconf_snap_load_buffer("a: 1\n", 5, T_NAME, &snap, &err), 0);
    assert_memory_equal(&err, expect, sizeof(err));
    snapconf_snap_free(snap);
    assert_int_equal(snapconf_snap_load(NULL, "a: 1\n", 5, NULL, &snap, &err), 0);
    assert_memory_equal(&err, expect, sizeof(err));
    snapconf_snap_free(snap);
}

static void errors_without_struct(void **state)
{
    (void)state;
    snapconf_snap *snap = OUT_SENTINEL;

    assert_int_equal(snapconf_snap_load_buffer("a: [", 4, T_NAME, &snap, NULL), SNAPCONF_EPARSE);
    assert_int_equal(snapconf_snap_load_buffer("a: 1\na: 2\n", 10, NULL, &snap, NULL),
                     SNAPCONF_EPARSE);
    assert_ptr_equal(snap, OUT_SENTINEL);
}

static void buffer_name_defaults(void **state)
{
    (void)state;
    snapconf_snap *snap = OUT_SENTINEL;
    snapconf_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = snapconf_snap_load_buffer("a: 1\na: 2\n", 10, NULL, &snap, &err);
    check_error_common(rc, SNAPCONF_EPARSE, snap, &err);
    assert_string_equal(err.file, "<buffer>");
    assert_message_starts(&err, "<buffer>:2:1: ");
}

static void argument_checks(void **state)
{
    (void)state;
    snapconf_snap *snap = OUT_SENTINEL;
    snapconf_error err;

    memset(&err, 0, sizeof(err));
    assert_int_equal(snapconf_snap_load_file(NULL, &snap, &err), SNAPCONF_EINVAL);
    assert_int_equal(err.code, SNAPCONF_EINVAL);
    assert_true(strlen(err.message) > 0);
    memset(&err, 0, sizeof(err));
    assert_int_equal(snapconf_snap_load_file("/nonexistent", NULL, &err), SNAPCONF_EINVAL);
    assert_int_equal(err.code, SNAPCONF_EINVAL);
    assert_int_equal(snapconf_snap_load_buffer("a: 1", 4, T_NAME, NULL, &err), SNAPCONF_EINVAL);
    assert_int_equal(snapconf_snap_load_buffer(NULL, 4, T_NAME, &snap, &err), SNAPCONF_EINVAL);
    assert_int_equal(snapconf_snap_load(NULL, NULL, 0, NULL, &snap, &err), SNAPCONF_EINVAL);
    assert_int_equal(snapconf_snap_load(NULL, "a: 1", 4, NULL, NULL, &err), SNAPCONF_EINVAL);
    assert_int_equal(snapconf_snap_load_file(NULL, &snap, NULL), SNAPCONF_EINVAL);
    assert_ptr_equal(snap, OUT_SENTINEL);
}

/* Names and keys longer than the error struct's fields are cut, never
 * written past the end. */
static void long_names_and_keys(void **state)
{
    (void)state;
    char name[2000];
    strbuf sb = {0};
    snapconf_snap *snap = OUT_SENTINEL;
    snapconf_error err;
    size_t i;

    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    memset(&err, 0x5A, sizeof(err));
    assert_int_equal(snapconf_snap_load_buffer("a: 1\na: 2\n", 10, name, &snap, &err),
                     SNAPCONF_EPARSE);
    assert_int_equal(err.code, SNAPCONF_EPARSE);
    assert_non_null(memchr(err.file, '\0', sizeof(err.file)));
    assert_non_null(memchr(err.message, '\0', sizeof(err.message)));
    assert_int_equal(strncmp(err.file, name, strlen(err.file)), 0);
    assert_int_equal(err.line, 2);

    /* Implicit keys are limited to 1024 characters by YAML, so long keys
     * are written as explicit "? key" entries. */
    sb_add(&sb, "? ");
    for (i = 0; i < 2000; i++)
        sb_add(&sb, "k");
    sb_add(&sb, "\n: 1\n? ");
    for (i = 0; i < 2000; i++)
        sb_add(&sb, "k");
    sb_add(&sb, "\n: 2\n");
    load_err_len(sb.data, sb.len, SNAPCONF_EPARSE, "t.yaml:3:3: ", "duplicate key");
    sb_free(&sb);

    /* A long key in a successful load is kept whole. */
    sb_add(&sb, "? ");
    for (i = 0; i < 5000; i++)
        sb_add(&sb, "k");
    sb_add(&sb, "\n: 7\n");
    snap = load_len(sb.data, sb.len);
    sb.data[5002] = '\0';
    assert_int_equal(int_at(snap, sb.data + 2), 7);
    snapconf_snap_free(snap);
    sb_free(&sb);
}

/* Loading is self-contained: several threads load at once. */
static void *load_many(void *arg)
{
    const char *doc = arg;
    int i;

    for (i = 0; i < 50; i++) {
        snapconf_snap *snap = NULL;
        snapconf_error err;

        if (snapconf_snap_load_buffer(doc, strlen(doc), T_NAME, &snap, &err) != 0)
            return (void *)1;
        if (snapconf_get_int_or(snap, "b.c[2]", -1) != 3) {
            snapconf_snap_free(snap);
            return (void *)1;
        }
        snapconf_snap_free(snap);
        if (snapconf_snap_load_buffer("x: 1\nx: 2\n", 10, T_NAME, &snap, &err) != SNAPCONF_EPARSE ||
            strncmp(err.message, "t.yaml:2:1: ", 12) != 0)
            return (void *)1;
    }
    return NULL;
}

static void concurrent_loads(void **state)
{
    (void)state;
    static const char doc[] = "a: &x {k: v}\nb: {<<: *x, c: [1, 2, 3]}\n";
    pthread_t threads[4];
    void *result;
    int i;

    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, load_many, (void *)doc), 0);
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_null(result);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duplicate_keys),
        cmocka_unit_test(non_scalar_keys),
        cmocka_unit_test(more_than_one_document),
        cmocka_unit_test(invalid_utf8),
        cmocka_unit_test(nul_bytes),
        cmocka_unit_test(utf16_is_rejected),
        cmocka_unit_test(syntax_errors),
        cmocka_unit_test(bad_aliases),
        cmocka_unit_test(empty_documents),
        cmocka_unit_test(root_of_any_type),
        cmocka_unit_test(options_defaults),
        cmocka_unit_test(max_depth),
        cmocka_unit_test(default_depth_limit),
        cmocka_unit_test(very_deep_input_is_rejected_fast),
        cmocka_unit_test(max_nodes),
        cmocka_unit_test(billion_laughs),
        cmocka_unit_test(load_from_file),
        cmocka_unit_test(file_errors_name_the_file),
        cmocka_unit_test(max_file_size),
        cmocka_unit_test(io_errors),
        cmocka_unit_test(error_untouched_on_success),
        cmocka_unit_test(errors_without_struct),
        cmocka_unit_test(buffer_name_defaults),
        cmocka_unit_test(argument_checks),
        cmocka_unit_test(long_names_and_keys),
        cmocka_unit_test(concurrent_loads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
