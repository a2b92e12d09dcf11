/*
 * test_path.c - path syntax, string and compiled lookups, child lookup by
 * key, and lookups in small and large mappings.
 */
#include "unit.h"

static const char doc[] = "a:\n"
                          "  b:\n"
                          "    c: 1\n"
                          "servers:\n"
                          "  - host: h0\n"
                          "    port: 80\n"
                          "  - host: h1\n"
                          "    port: 81\n"
                          "m:\n"
                          "  - [1, 2, 3]\n"
                          "  - [4, 5, 6]\n"
                          "labels:\n"
                          "  app.kubernetes.io/name: web\n"
                          "  \"a\\\"b\": quote\n"
                          "  \"a\\\\b\": backslash\n"
                          "  \"x[0]\": brackets\n"
                          "x:\n"
                          "  - y.z: dotted\n"
                          "    y: plain\n"
                          "ports:\n"
                          "  0: zero\n"
                          "  1: one\n"
                          "list: [p, q]\n"
                          "scalar: text\n"
                          "e:\n"
                          "  \"\": empty-key\n"
                          "\"spaced key\": sp\n";

/* The string at path, through snapconf_find() and snapconf_node_str(). */
static void assert_path_str(const snapconf_snap *snap, const char *path, const char *expected)
{
    const snapconf_node *node = NULL;
    const char *s = NULL;
    int rc = snapconf_find(snap, path, &node);

    if (rc != 0)
        fail_msg("path '%s': %s", path, snapconf_err_name(rc));
    assert_int_equal(snapconf_node_str(node, &s, NULL), 0);
    assert_string_equal(s, expected);
}

static void assert_find_rc(const snapconf_snap *snap, const char *path, int code)
{
    const snapconf_node *node = (const snapconf_node *)(const void *)&out_sentinel_;
    int rc = snapconf_find(snap, path, &node);

    if (rc != code)
        fail_msg("path '%s': expected %s, got %s", path, snapconf_err_name(code),
                 snapconf_err_name(rc));
    /* Output parameters are written only on success. */
    assert_ptr_equal(node, (const void *)&out_sentinel_);
}

/* Paths with a syntax error, and the 1-based column of the bad character
 * (a range where "the bad character" is the end of the string or could be
 * taken as either of two neighbours). */
static const struct bad_path {
    const char *path;
    int col_min, col_max;
} bad_paths[] = {
    {"a..b", 3, 3},
    {".a", 1, 1},
    {"a.", 2, 3},
    {"a[", 2, 3},
    {"a[]", 3, 3},
    {"a[x]", 3, 3},
    {"a[-1]", 3, 3},
    {"a[\"x\"]", 3, 3},
    {"\"abc", 1, 5},
    {"a\"b", 2, 2},
    {"a[99999999999999999999999]", 3, 26},
    {"a.b..c", 5, 5},
    {"servers[0]host", 11, 11},
    {"a]", 2, 2},
    {"a[0", 3, 4},
    {"a[0]]", 5, 5},
    {"labels.\"app", 8, 12},
    {"\"a\"b", 4, 4},
    {"a.\"b\\x\"", 5, 6},
    {"a[1 ]", 4, 4},
    {"abc.def[x]", 9, 9},
    {".", 1, 2},
};

#define N_BAD (sizeof(bad_paths) / sizeof(bad_paths[0]))

/* ------------------------------------------------------------------------- */

static void basic_paths(void **state)
{
    (void)state;
    snapconf_snap *snap = load(doc);

    assert_int_equal(int_at(snap, "a.b.c"), 1);
    assert_path_str(snap, "servers[0].host", "h0");
    assert_path_str(snap, "servers[1].host", "h1");
    assert_int_equal(int_at(snap, "servers[1].port"), 81);
    assert_int_equal(int_at(snap, "m[1][2]"), 6);
    assert_int_equal(int_at(snap, "m[0][0]"), 1);
    assert_path_str(snap, "labels.\"app.kubernetes.io/name\"", "web");
    assert_path_str(snap, "labels.\"a\\\"b\"", "quote");
    assert_path_str(snap, "labels.\"a\\\\b\"", "backslash");
    assert_path_str(snap, "labels.\"x[0]\"", "brackets");
    assert_path_str(snap, "x[0].\"y.z\"", "dotted");
    assert_path_str(snap, "x[0].y", "plain");
    assert_path_str(snap, "list[1]", "q");
    assert_path_str(snap, "e.\"\"", "empty-key");
    assert_path_str(snap, "\"spaced key\"", "sp");
    /* A quoted segment may name a key that needs no quotes. */
    assert_int_equal(int_at(snap, "\"a\".\"b\".c"), 1);
    assert_path_str(snap, "\"servers\"[0].\"host\"", "h0");
    snapconf_snap_free(snap);
}

static void empty_path_is_root(void **state)
{
    (void)state;
    snapconf_snap *snap = load(doc);
    const snapconf_node *node = NULL;

    assert_int_equal(snapconf_find(snap, "", &node), 0);
    assert_ptr_equal(node, snapconf_snap_root(snap));
    assert_int_equal(snapconf_node_type(node), SNAPCONF_TYPE_MAP);
    snapconf_snap_free(snap);
}

static void bare_digits_are_keys(void **state)
{
    (void)state;
    snapconf_snap *snap = load(doc);

    assert_path_str(snap, "ports.0", "zero");
    assert_path_str(snap, "ports.1", "one");
    /* A bare digit never indexes a sequence... */
    assert_find_rc(snap, "list.0", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "servers.1.host", SNAPCONF_ENOTFOUND);
    /* ...and an index never selects a mapping entry. */
    assert_find_rc(snap, "ports[0]", SNAPCONF_ENOTFOUND);
    snapconf_snap_free(snap);
}

static void root_sequence_index(void **state)
{
    (void)state;
    snapconf_snap *snap = load("- a\n- {k: v}\n- [x, y]\n");

    assert_path_str(snap, "[0]", "a");
    assert_path_str(snap, "[1].k", "v");
    assert_path_str(snap, "[2][1]", "y");
    assert_find_rc(snap, "[3]", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "k", SNAPCONF_ENOTFOUND);
    snapconf_snap_free(snap);
}

static void not_found(void **state)
{
    (void)state;
    snapconf_snap *snap = load(doc);

    assert_find_rc(snap, "nope", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "a.b.d", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "servers[2]", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "servers[2].host", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "m[1][3]", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "m[2][0]", SNAPCONF_ENOTFOUND);
    /* Walking into a scalar. */
    assert_find_rc(snap, "a.b.c.d", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "scalar.x", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "scalar[0]", SNAPCONF_ENOTFOUND);
    /* Indexing a mapping, keying a sequence. */
    assert_find_rc(snap, "a[0]", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "servers.host", SNAPCONF_ENOTFOUND);
    /* Keys are matched exactly: case, quotes and surrounding spaces count. */
    assert_find_rc(snap, "A", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, " a", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "labels.app", SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "labels.\"app.kubernetes.io\"", SNAPCONF_ENOTFOUND);
    /* Unquoted, the dots split the key. */
    assert_find_rc(snap, "labels.app.kubernetes.io/name", SNAPCONF_ENOTFOUND);
    snapconf_snap_free(snap);
}

static void malformed_paths(void **state)
{
    (void)state;
    snapconf_snap *snap = load(doc);
    size_t i;

    for (i = 0; i < N_BAD; i++)
        assert_find_rc(snap, bad_paths[i].path, SNAPCONF_EPATH);
    /* A malformed path is EPATH whatever the data: the lookup must not stop
     * with ENOTFOUND before it has seen the error. */
    assert_find_rc(snap, "nope..x", SNAPCONF_EPATH);
    assert_find_rc(snap, "nope.x[", SNAPCONF_EPATH);
    assert_find_rc(snap, "scalar.x[y]", SNAPCONF_EPATH);
    assert_find_rc(snap, "servers[9].\"unterminated", SNAPCONF_EPATH);
    snapconf_snap_free(snap);
}

static void node_find_is_relative(void **state)
{
    (void)state;
    snapconf_snap *snap = load(doc);
    const snapconf_node *servers = node_at_path(snap, "servers");
    const snapconf_node *node = NULL;
    const char *s = NULL;

    assert_int_equal(snapconf_node_find(servers, "[1].host", &node), 0);
    assert_int_equal(snapconf_node_str(node, &s, NULL), 0);
    assert_string_equal(s, "h1");
    assert_int_equal(snapconf_node_find(servers, "", &node), 0);
    assert_ptr_equal(node, servers);
    node = NULL;
    assert_int_equal(snapconf_node_find(servers, "host", &node), SNAPCONF_ENOTFOUND);
    assert_null(node);
    assert_int_equal(snapconf_node_find(servers, "[0]..x", &node), SNAPCONF_EPATH);
    assert_int_equal(snapconf_node_find(node_at_path(snap, "a"), "b.c", &node), 0);
    assert_ptr_equal(node, node_at_path(snap, "a.b.c"));
    snapconf_snap_free(snap);
}

static void node_child_with_keylen(void **state)
{
    (void)state;
    snapconf_snap *snap = load("port: 1\n"
                               "portal: 2\n"
                               "\"nul\\0key\": 3\n"
                               "nul: 4\n"
                               "list: [1]\n");
    const snapconf_node *root = snapconf_snap_root(snap);
    const snapconf_node *node = NULL;
    int64_t v = 0;
    size_t len = 0;

    assert_int_equal(snapconf_node_child(root, "portXYZ", 4, &node), 0);
    assert_int_equal(snapconf_node_int(node, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(snapconf_node_child(root, "portal", 6, &node), 0);
    assert_int_equal(snapconf_node_int(node, &v), 0);
    assert_int_equal(v, 2);
    /* Keys may hold a NUL byte; keylen decides. */
    assert_int_equal(snapconf_node_child(root, "nul\0key", 7, &node), 0);
    assert_int_equal(snapconf_node_int(node, &v), 0);
    assert_int_equal(v, 3);
    assert_string_equal(snapconf_node_key(node, &len), "nul");
    assert_int_equal(len, 7);
    assert_memory_equal(snapconf_node_key(node, NULL), "nul\0key", 8);
    assert_int_equal(snapconf_node_child(root, "nul", 3, &node), 0);
    assert_int_equal(snapconf_node_int(node, &v), 0);
    assert_int_equal(v, 4);

    node = NULL;
    assert_int_equal(snapconf_node_child(root, "por", 3, &node), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_node_child(root, "port ", 5, &node), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_node_child(root, "nul\0ke", 6, &node), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_node_child(root, "", 0, &node), SNAPCONF_ENOTFOUND);
    /* Not a mapping. */
    assert_int_equal(snapconf_node_child(node_at_path(snap, "list"), "0", 1, &node),
                     SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_node_child(node_at_path(snap, "port"), "port", 4, &node),
                     SNAPCONF_ENOTFOUND);
    assert_null(node);
    snapconf_snap_free(snap);
}

/* ------------------------------------------------------------------------- */

static void compile_good_paths(void **state)
{
    (void)state;
    static const char *const paths[] = {
        "a.b.c", "servers[0].host", "servers[1].port", "m[1][2]",
        "labels.\"app.kubernetes.io/name\"", "labels.\"a\\\"b\"", "labels.\"a\\\\b\"",
        "labels.\"x[0]\"", "x[0].\"y.z\"", "x[0].y", "\"a\".\"b\".c", "", "ports.0", "e.\"\"",
        "\"spaced key\"", "list",
        /* valid syntax, nothing there */
        "nope", "a.b.c.d", "servers[7]", "list.0", "a[0]", "ports[0]", "scalar.x"};
    snapconf_snap *snap = load(doc);
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        snapconf_path *p = NULL, *p2 = NULL;
        snapconf_error err;
        const snapconf_node *by_str = NULL, *by_path = NULL, *by_canon = NULL;
        int rc_str, rc_path, rc_canon;

        memset(&err, 0xA5, sizeof(err));
        if (snapconf_path_compile(paths[i], &p, &err) != 0)
            fail_msg("compiling '%s' failed: %s", paths[i], err.message);
        assert_non_null(p);
        /* The error struct is not written on success. */
        assert_int_equal(((unsigned char *)&err)[0], 0xA5);
        assert_int_equal(((unsigned char *)&err)[sizeof(err) - 1], 0xA5);
        assert_non_null(snapconf_path_str(p));

        rc_str = snapconf_find(snap, paths[i], &by_str);
        rc_path = snapconf_find_path(snap, p, &by_path);
        if (rc_str != rc_path || by_str != by_path)
            fail_msg("'%s': string lookup %s, compiled lookup %s", paths[i],
                     snapconf_err_name(rc_str), snapconf_err_name(rc_path));

        /* The canonical text compiles again to the same path. */
        if (snapconf_path_compile(snapconf_path_str(p), &p2, NULL) != 0)
            fail_msg("canonical form '%s' of '%s' does not compile", snapconf_path_str(p),
                     paths[i]);
        assert_string_equal(snapconf_path_str(p2), snapconf_path_str(p));
        rc_canon = snapconf_find_path(snap, p2, &by_canon);
        assert_int_equal(rc_canon, rc_path);
        assert_ptr_equal(by_canon, by_path);
        snapconf_path_free(p2);
        snapconf_path_free(p);
    }
    snapconf_snap_free(snap);
}

static void compile_bad_paths(void **state)
{
    (void)state;
    size_t i;

    for (i = 0; i < N_BAD; i++) {
        snapconf_path *p = (snapconf_path *)(void *)&out_sentinel_;
        snapconf_error err;
        int rc;

        memset(&err, 0, sizeof(err));
        rc = snapconf_path_compile(bad_paths[i].path, &p, &err);
        if (rc != SNAPCONF_EPATH)
            fail_msg("'%s': expected SNAPCONF_EPATH, got %s", bad_paths[i].path,
                     snapconf_err_name(rc));
        assert_ptr_equal(p, (void *)&out_sentinel_);
        assert_int_equal(err.code, SNAPCONF_EPATH);
        assert_true(strlen(err.message) > 0);
        if (err.column < bad_paths[i].col_min || err.column > bad_paths[i].col_max)
            fail_msg("'%s': error column %d, expected %d..%d (%s)", bad_paths[i].path, err.column,
                     bad_paths[i].col_min, bad_paths[i].col_max, err.message);
        /* Without an error struct the code is the same. */
        assert_int_equal(snapconf_path_compile(bad_paths[i].path, &p, NULL), SNAPCONF_EPATH);
    }
}

static void canonical_form(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"labels.\"app.kubernetes.io/name\"", "labels.\"app.kubernetes.io/name\""},
        {"\"plain\"", "plain"},
        {"\"a\".\"b\".c", "a.b.c"},
        {"m[1][2]", "m[1][2]"},
        {"x[0].\"y.z\"", "x[0].\"y.z\""},
        {"\"servers\"[0].\"host\"", "servers[0].host"},
        {"labels.\"a\\\"b\"", "labels.\"a\\\"b\""},
        {"labels.\"x[0]\"", "labels.\"x[0]\""},
        {"labels.\"a]\"", "labels.\"a]\""},
        {"e.\"\"", "e.\"\""},
        {"", ""},
        {"ports.0", "ports.0"},
        {"[3]", "[3]"},
    };
    size_t i;

    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        snapconf_path *p = NULL;

        if (snapconf_path_compile(pairs[i][0], &p, NULL) != 0)
            fail_msg("'%s' does not compile", pairs[i][0]);
        if (strcmp(snapconf_path_str(p), pairs[i][1]) != 0)
            fail_msg("canonical form of '%s' is '%s', expected '%s'", pairs[i][0],
                     snapconf_path_str(p), pairs[i][1]);
        snapconf_path_free(p);
    }
}

static void compiled_typed_getters(void **state)
{
    (void)state;
    snapconf_snap *snap = load("s: str\ni: 42\nf: 1.5\nb: true\n");
    snapconf_path *ps = NULL, *pi = NULL, *pf = NULL, *pb = NULL, *pn = NULL;
    const char *s = "sentinel";
    int64_t i = 0;
    double d = 0;
    bool b = false;

    assert_int_equal(snapconf_path_compile("s", &ps, NULL), 0);
    assert_int_equal(snapconf_path_compile("i", &pi, NULL), 0);
    assert_int_equal(snapconf_path_compile("f", &pf, NULL), 0);
    assert_int_equal(snapconf_path_compile("b", &pb, NULL), 0);
    assert_int_equal(snapconf_path_compile("none", &pn, NULL), 0);

    assert_int_equal(snapconf_path_get_str(snap, ps, &s), 0);
    assert_string_equal(s, "str");
    assert_int_equal(snapconf_path_get_int(snap, pi, &i), 0);
    assert_int_equal(i, 42);
    assert_int_equal(snapconf_path_get_double(snap, pf, &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(snapconf_path_get_double(snap, pi, &d), 0);
    assert_true(d == 42.0);
    assert_int_equal(snapconf_path_get_bool(snap, pb, &b), 0);
    assert_true(b);

    s = "sentinel";
    i = 7;
    assert_int_equal(snapconf_path_get_str(snap, pi, &s), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_path_get_int(snap, ps, &i), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_path_get_int(snap, pf, &i), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_path_get_double(snap, pb, &d), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_path_get_bool(snap, ps, &b), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_path_get_str(snap, pn, &s), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_path_get_int(snap, pn, &i), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_path_get_double(snap, pn, &d), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_path_get_bool(snap, pn, &b), SNAPCONF_ENOTFOUND);
    assert_string_equal(s, "sentinel");
    assert_int_equal(i, 7);
    assert_true(d == 42.0);
    assert_true(b);

    snapconf_path_free(ps);
    snapconf_path_free(pi);
    snapconf_path_free(pf);
    snapconf_path_free(pb);
    snapconf_path_free(pn);
    snapconf_path_free(NULL);
    snapconf_snap_free(snap);
}

/* A compiled path belongs to no snapshot. */
static void compiled_path_two_snapshots(void **state)
{
    (void)state;
    snapconf_snap *one = load("server:\n  port: 8080\n");
    snapconf_snap *two = load("other: 1\nserver: {host: x, port: 9090}\n");
    snapconf_snap *three = load("server: {host: x}\n");
    snapconf_path *p = NULL;
    int64_t v = 0;

    assert_int_equal(snapconf_path_compile("server.port", &p, NULL), 0);
    assert_string_equal(snapconf_path_str(p), "server.port");
    assert_int_equal(snapconf_path_get_int(one, p, &v), 0);
    assert_int_equal(v, 8080);
    assert_int_equal(snapconf_path_get_int(two, p, &v), 0);
    assert_int_equal(v, 9090);
    assert_int_equal(snapconf_path_get_int(three, p, &v), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_path_get_int(one, p, &v), 0);
    assert_int_equal(v, 8080);
    snapconf_path_free(p);
    snapconf_snap_free(one);
    snapconf_snap_free(two);
    snapconf_snap_free(three);
}

static void argument_checks(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: 1\n");
    const snapconf_node *node = NULL;
    snapconf_path *p = NULL;
    snapconf_error err;

    assert_int_equal(snapconf_find(snap, NULL, &node), SNAPCONF_EINVAL);
    assert_int_equal(snapconf_find(snap, "a", NULL), SNAPCONF_EINVAL);
    memset(&err, 0, sizeof(err));
    assert_int_equal(snapconf_path_compile(NULL, &p, &err), SNAPCONF_EINVAL);
    assert_int_equal(err.code, SNAPCONF_EINVAL);
    assert_int_equal(snapconf_path_compile("a", NULL, NULL), SNAPCONF_EINVAL);
    assert_null(p);
    snapconf_snap_free(snap);
}

/* A quoted key with escapes finds the same value through a string lookup
 * and a compiled path, however long the key is. */
static void long_escaped_key(void **state)
{
    (void)state;
    static const size_t lengths[] = {10, 1000, 1023, 1024, 1500, 5000};
    size_t i, j;

    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        size_t n = lengths[i];
        strbuf doc_sb = {0}, path_sb = {0};
        snapconf_path *p = NULL;
        const snapconf_node *by_str = NULL, *by_path = NULL;
        int rc;

        /* The key: n bytes, a '"' every 100th byte, as an explicit YAML
         * key in single quotes (implicit keys stop at 1024 characters). */
        sb_add(&doc_sb, "? '");
        sb_add(&path_sb, "\"");
        for (j = 0; j < n; j++) {
            char c = (j % 100 == 50) ? '"' : (char)('a' + (int)(j % 26));
            sb_add(&doc_sb, "%c", c);
            if (c == '"')
                sb_add(&path_sb, "\\\"");
            else
                sb_add(&path_sb, "%c", c);
        }
        sb_add(&doc_sb, "'\n: %zu\n", n);
        sb_add(&path_sb, "\"");
        snapconf_snap *snap = load_len(doc_sb.data, doc_sb.len);

        assert_int_equal(snapconf_path_compile(path_sb.data, &p, NULL), 0);
        assert_int_equal(snapconf_find_path(snap, p, &by_path), 0);
        rc = snapconf_find(snap, path_sb.data, &by_str);
        if (rc != 0)
            fail_msg("string lookup of a %zu-byte escaped key: %s", n, snapconf_err_name(rc));
        assert_ptr_equal(by_str, by_path);
        assert_int_equal(int_at(snap, path_sb.data), (int64_t)n);
        snapconf_path_free(p);
        snapconf_snap_free(snap);
        sb_free(&doc_sb);
        sb_free(&path_sb);
    }
}

/* ------------------------------------------------------------------------- */

/* Builds a mapping of n keys "k<i>: <i>" (plus look-alike keys that share
 * long prefixes) and checks that every key is found, by path and by
 * snapconf_node_child(), in document order, and that absent keys are not. */
static void check_mapping_of(size_t n)
{
    strbuf sb = {0};
    char key[64];
    size_t i;

    for (i = 0; i < n; i++)
        sb_add(&sb, "k%zu: %zu\n", i, i);
    snapconf_snap *snap = load_len(sb.data, sb.len);
    const snapconf_node *root = snapconf_snap_root(snap);

    assert_int_equal(snapconf_node_size(root), n);
    for (i = 0; i < n; i++) {
        const snapconf_node *node = NULL;
        size_t len = 0;
        int64_t v = -1;

        snprintf(key, sizeof(key), "k%zu", i);
        if (snapconf_get_int(snap, key, &v) != 0 || v != (int64_t)i)
            fail_msg("mapping of %zu: key '%s' not found or wrong", n, key);
        assert_int_equal(snapconf_node_child(root, key, strlen(key), &node), 0);
        assert_ptr_equal(node, snapconf_node_at(root, i));
        assert_string_equal(snapconf_node_key(node, &len), key);
        assert_int_equal(len, strlen(key));
    }
    static const char *const missing[] = {"k", "K0", "k-1", "k0 ", "", "kk0", "0"};
    for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        const snapconf_node *node = NULL;

        assert_int_equal(snapconf_node_child(root, missing[i], strlen(missing[i]), &node),
                         SNAPCONF_ENOTFOUND);
    }
    snprintf(key, sizeof(key), "k%zu", n);
    assert_find_rc(snap, key, SNAPCONF_ENOTFOUND);
    snprintf(key, sizeof(key), "k%zu", n * 10);
    assert_find_rc(snap, key, SNAPCONF_ENOTFOUND);
    snapconf_snap_free(snap);
    sb_free(&sb);
}

static void small_and_big_mappings(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 1000, 5000};
    size_t i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        check_mapping_of(sizes[i]);
}

/* Keys that differ only late, or only in length, in a big nested mapping. */
static void big_mapping_similar_keys(void **state)
{
    (void)state;
    strbuf sb = {0};
    char path[128];
    size_t i;

    sb_add(&sb, "outer:\n  inner:\n");
    for (i = 0; i < 1000; i++)
        sb_add(&sb, "    a_rather_long_common_prefix_for_every_key_%04zu: %zu\n", i, i);
    for (i = 1; i <= 40; i++)
        sb_add(&sb, "    %.*s: %zu\n", (int)i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
               5000 + i);
    snapconf_snap *snap = load_len(sb.data, sb.len);

    for (i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "outer.inner.a_rather_long_common_prefix_for_every_key_%04zu",
                 i);
        assert_int_equal(int_at(snap, path), (int64_t)i);
    }
    for (i = 1; i <= 40; i++) {
        snprintf(path, sizeof(path), "outer.inner.%.*s", (int)i,
                 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        assert_int_equal(int_at(snap, path), (int64_t)(5000 + i));
    }
    assert_find_rc(snap, "outer.inner.a_rather_long_common_prefix_for_every_key_1000",
                   SNAPCONF_ENOTFOUND);
    assert_find_rc(snap, "outer.inner.a_rather_long_common_prefix_for_every_key_",
                   SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "outer.inner")), 1040);
    snapconf_snap_free(snap);
    sb_free(&sb);
}

static void big_sequence(void **state)
{
    (void)state;
    strbuf sb = {0};
    char path[32];
    size_t i;

    sb_add(&sb, "s:\n");
    for (i = 0; i < 3000; i++)
        sb_add(&sb, "  - %zu\n", i * 3);
    snapconf_snap *snap = load_len(sb.data, sb.len);

    assert_int_equal(snapconf_node_size(node_at_path(snap, "s")), 3000);
    for (i = 0; i < 3000; i += 7) {
        snprintf(path, sizeof(path), "s[%zu]", i);
        assert_int_equal(int_at(snap, path), (int64_t)(i * 3));
    }
    assert_int_equal(int_at(snap, "s[2999]"), 8997);
    assert_find_rc(snap, "s[3000]", SNAPCONF_ENOTFOUND);
    snapconf_snap_free(snap);
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_paths),
        cmocka_unit_test(empty_path_is_root),
        cmocka_unit_test(bare_digits_are_keys),
        cmocka_unit_test(root_sequence_index),
        cmocka_unit_test(not_found),
        cmocka_unit_test(malformed_paths),
        cmocka_unit_test(node_find_is_relative),
        cmocka_unit_test(node_child_with_keylen),
        cmocka_unit_test(compile_good_paths),
        cmocka_unit_test(compile_bad_paths),
        cmocka_unit_test(canonical_form),
        cmocka_unit_test(compiled_typed_getters),
        cmocka_unit_test(compiled_path_two_snapshots),
        cmocka_unit_test(argument_checks),
        cmocka_unit_test(long_escaped_key),
        cmocka_unit_test(small_and_big_mappings),
        cmocka_unit_test(big_mapping_similar_keys),
        cmocka_unit_test(big_sequence),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
