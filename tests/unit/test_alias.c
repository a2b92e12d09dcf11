/*
 * test_alias.c - anchors, aliases and merge keys: values, order, keys,
 * positions and node counts.
 */
#include "unit.h"

/* Asserts the keys of the mapping at path, in iteration order, given as
 * one space-separated string. */
static void assert_keys(const snapconf_snap *snap, const char *path, const char *expected)
{
    const snapconf_node *map = node_at_path(snap, path);
    char got[512] = "";
    size_t i, n = snapconf_node_size(map);

    assert_int_equal(snapconf_node_type(map), SNAPCONF_TYPE_MAP);
    for (i = 0; i < n; i++) {
        const char *key = snapconf_node_key(snapconf_node_at(map, i), NULL);

        assert_non_null(key);
        if (i > 0)
            strncat(got, " ", sizeof(got) - strlen(got) - 1);
        strncat(got, key, sizeof(got) - strlen(got) - 1);
    }
    if (strcmp(got, expected) != 0)
        fail_msg("keys of '%s': got \"%s\", expected \"%s\"", path, got, expected);
}

static size_t node_count_of(const char *yaml)
{
    snapconf_snap *snap = load(yaml);
    size_t n = snapconf_snap_node_count(snap);

    snapconf_snap_free(snap);
    return n;
}

/* ------------------------------------------------------------------------- */

static void scalar_and_container_aliases(void **state)
{
    (void)state;
    snapconf_snap *snap = load("n: &n 5\n"
                               "s: &s hello\n"
                               "l: &l [1, 2]\n"
                               "m: &m {k: v, o: {deep: 1}}\n"
                               "n2: *n\n"
                               "s2: *s\n"
                               "l2: *l\n"
                               "m2: *m\n"
                               "uses: [*l, *l, *l, *n, *s]\n");

    assert_int_equal(int_at(snap, "n2"), 5);
    assert_string_equal(str_at(snap, "s2"), "hello");
    assert_int_equal(snapconf_node_size(node_at_path(snap, "l2")), 2);
    assert_int_equal(int_at(snap, "l2[1]"), 2);
    assert_string_equal(str_at(snap, "m2.k"), "v");
    assert_int_equal(int_at(snap, "m2.o.deep"), 1);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "uses")), 5);
    assert_int_equal(int_at(snap, "uses[0][0]"), 1);
    assert_int_equal(int_at(snap, "uses[2][1]"), 2);
    assert_int_equal(int_at(snap, "uses[3]"), 5);
    assert_string_equal(str_at(snap, "uses[4]"), "hello");
    snapconf_snap_free(snap);
}

/* An anchor may be defined again; each alias sees the latest definition
 * before it. */
static void redefined_anchor(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: &x 1\n"
                               "b: *x\n"
                               "c: &x {v: 2}\n"
                               "d: *x\n"
                               "e: [&x 3, *x]\n"
                               "f: *x\n");

    assert_int_equal(int_at(snap, "b"), 1);
    assert_int_equal(int_at(snap, "d.v"), 2);
    assert_int_equal(int_at(snap, "e[1]"), 3);
    assert_int_equal(int_at(snap, "f"), 3);
    snapconf_snap_free(snap);
}

/* An alias keeps the aliased scalar's type, tag and quoting. */
static void alias_keeps_scalar_details(void **state)
{
    (void)state;
    snapconf_snap *snap = load("t: &t !color red\n"
                               "q: &q \"123\"\n"
                               "t2: *t\n"
                               "q2: *q\n");

    assert_string_equal(str_at(snap, "t2"), "red");
    assert_string_equal(snapconf_node_tag(node_at_path(snap, "t2")), "!color");
    assert_string_equal(str_at(snap, "q2"), "123");
    assert_true(snapconf_node_quoted(node_at_path(snap, "q2")));
    snapconf_snap_free(snap);
}

/* The key of an aliased value is the key it sits under, not the key under
 * which its anchor was written. */
static void aliased_values_have_their_own_keys(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: &x {k: 1}\n"
                               "b: *x\n"
                               "c: &y 5\n"
                               "d: *y\n"
                               "l: [*x, *y]\n");
    const snapconf_node *root = snapconf_snap_root(snap);

    assert_keys(snap, "", "a b c d l");
    assert_string_equal(snapconf_node_key(snapconf_node_at(root, 0), NULL), "a");
    assert_string_equal(snapconf_node_key(snapconf_node_at(root, 1), NULL), "b");
    assert_string_equal(snapconf_node_key(snapconf_node_at(root, 3), NULL), "d");
    assert_string_equal(snapconf_node_key(node_at_path(snap, "b"), NULL), "b");
    assert_string_equal(snapconf_node_key(node_at_path(snap, "d"), NULL), "d");
    assert_string_equal(snapconf_node_key(node_at_path(snap, "a"), NULL), "a");
    assert_string_equal(snapconf_node_key(node_at_path(snap, "c"), NULL), "c");
    assert_null(snapconf_node_key(node_at_path(snap, "l[0]"), NULL));
    assert_null(snapconf_node_key(node_at_path(snap, "l[1]"), NULL));
    /* Inside the aliased mapping the keys are its own. */
    assert_string_equal(snapconf_node_key(node_at_path(snap, "b.k"), NULL), "k");
    snapconf_snap_free(snap);
}

static void alias_as_key(void **state)
{
    (void)state;
    snapconf_snap *snap = load("k: &k foo\n*k : bar\n");

    assert_string_equal(str_at(snap, "foo"), "bar");
    snapconf_snap_free(snap);
    load_err("m: &m {x: 1}\n? *m\n: 2\n", SNAPCONF_EPARSE, "t.yaml:2:", "keys must be scalars");
}

/* ------------------------------------------------------------------------- */

static void merge_single(void **state)
{
    (void)state;
    snapconf_snap *snap = load("base: &base\n"
                               "  x: 1\n"
                               "  y: 2\n"
                               "m:\n"
                               "  y: 20\n"
                               "  <<: *base\n"
                               "  z: 3\n"
                               "m2:\n"
                               "  <<: *base\n"
                               "  x: 10\n");

    /* An explicit key wins whether it comes before or after the merge. */
    assert_int_equal(int_at(snap, "m.x"), 1);
    assert_int_equal(int_at(snap, "m.y"), 20);
    assert_int_equal(int_at(snap, "m.z"), 3);
    assert_int_equal(int_at(snap, "m2.x"), 10);
    assert_int_equal(int_at(snap, "m2.y"), 2);
    /* The merged entries stand where "<<" stood, minus the overridden. */
    assert_keys(snap, "m", "y x z");
    assert_keys(snap, "m2", "y x");
    assert_int_equal(snapconf_node_size(node_at_path(snap, "m")), 3);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "m2")), 2);
    /* "<<" itself is no key of the result, and the base is unchanged. */
    assert_int_equal(snapconf_get_int_or(snap, "m.<<", -1), -1);
    assert_int_equal(snapconf_get_int_or(snap, "m.\"<<\"", -1), -1);
    assert_int_equal(int_at(snap, "base.x"), 1);
    assert_keys(snap, "base", "x y");
    snapconf_snap_free(snap);
}

static void merge_list(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: &a {x: 1, y: 1}\n"
                               "b: &b {y: 2, z: 2}\n"
                               "m3:\n"
                               "  <<: [*a, *b]\n"
                               "  w: 0\n"
                               "m4: {w: 0, <<: [*b, *a]}\n"
                               "m5: {<<: [*a, *a], x: 9}\n");

    /* Among merged mappings, the earlier in the list wins. */
    assert_int_equal(int_at(snap, "m3.x"), 1);
    assert_int_equal(int_at(snap, "m3.y"), 1);
    assert_int_equal(int_at(snap, "m3.z"), 2);
    assert_int_equal(int_at(snap, "m3.w"), 0);
    assert_keys(snap, "m3", "x y z w");
    assert_int_equal(int_at(snap, "m4.y"), 2);
    assert_int_equal(int_at(snap, "m4.x"), 1);
    assert_keys(snap, "m4", "w y z x");
    assert_int_equal(int_at(snap, "m5.x"), 9);
    assert_int_equal(int_at(snap, "m5.y"), 1);
    assert_keys(snap, "m5", "y x");
    snapconf_snap_free(snap);
}

static void merge_inline_and_nested(void **state)
{
    (void)state;
    snapconf_snap *snap = load("i: {<<: {x: 1}, y: 2}\n"
                               "a: &a {x: 1}\n"
                               "b: &b {<<: *a, y: 2}\n"
                               "c: {<<: *b, z: 3}\n"
                               "d: &d {sub: {deep: 1}}\n"
                               "e: {<<: *d}\n"
                               "empty: {<<: {}}\n"
                               "defaults: &defaults\n"
                               "  port: 5432\n"
                               "  pool: 10\n"
                               "dbs:\n"
                               "  - <<: *defaults\n"
                               "    host: a\n"
                               "    pool: 20\n");

    assert_int_equal(int_at(snap, "i.x"), 1);
    assert_int_equal(int_at(snap, "i.y"), 2);
    assert_keys(snap, "c", "x y z");
    assert_int_equal(int_at(snap, "c.x"), 1);
    assert_int_equal(int_at(snap, "c.y"), 2);
    assert_int_equal(int_at(snap, "e.sub.deep"), 1);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "empty")), 0);
    assert_int_equal(int_at(snap, "dbs[0].port"), 5432);
    assert_int_equal(int_at(snap, "dbs[0].pool"), 20);
    assert_string_equal(str_at(snap, "dbs[0].host"), "a");
    assert_keys(snap, "dbs[0]", "port host pool");
    snapconf_snap_free(snap);
}

/* Merged entries are found by snapconf_node_child() and keep the position
 * where they were written. */
static void merged_entries_lookup_and_position(void **state)
{
    (void)state;
    snapconf_snap *snap = load("base: &base\n"
                               "  x: 1\n"
                               "  y: 2\n"
                               "m:\n"
                               "  <<: *base\n"
                               "  z: 3\n");
    const snapconf_node *m = node_at_path(snap, "m");
    const snapconf_node *node = NULL;

    assert_int_equal(snapconf_node_child(m, "y", 1, &node), 0);
    assert_ptr_equal(node, node_at_path(snap, "m.y"));
    assert_string_equal(snapconf_node_key(node, NULL), "y");
    assert_int_equal(snapconf_node_line(node), 3);
    assert_int_equal(snapconf_node_column(node), 6);
    assert_int_equal(snapconf_node_line(node_at_path(snap, "m.z")), 6);
    assert_int_equal(snapconf_node_child(m, "<<", 2, &node), SNAPCONF_ENOTFOUND);
    snapconf_snap_free(snap);
}

static void merge_of_non_mapping_is_error(void **state)
{
    (void)state;
    load_err("m:\n  <<: 5\n", SNAPCONF_EPARSE, "t.yaml:2:", NULL);
    load_err("a: &a {x: 1}\nm: {<<: [*a, 5]}\n", SNAPCONF_EPARSE, "t.yaml:2:", NULL);
    load_err("s: &s str\nm: {<<: *s}\n", SNAPCONF_EPARSE, "t.yaml:2:", NULL);
    load_err("m: {<<: [[1]]}\n", SNAPCONF_EPARSE, "t.yaml:1:", NULL);
    load_err("l: &l [1]\nm: {<<: *l}\n", SNAPCONF_EPARSE, "t.yaml:2:", NULL);
    load_err("m:\n  <<:\n  a: 1\n", SNAPCONF_EPARSE, "t.yaml:2:", NULL);
    /* Explicit keys that repeat each other are still duplicates. */
    load_err("a: &a {k: 0}\nm: {<<: *a, k: 1, k: 2}\n", SNAPCONF_EPARSE, "t.yaml:2:", "duplicate");
}

/* Only a plain "<<" merges; quoted it is an ordinary key. */
static void quoted_merge_key_is_ordinary(void **state)
{
    (void)state;
    snapconf_snap *snap = load("m: {\"<<\": 5}\n"
                               "n:\n"
                               "  '<<': {a: 1}\n");

    assert_int_equal(int_at(snap, "m.<<"), 5);
    assert_int_equal(int_at(snap, "m.\"<<\""), 5);
    assert_keys(snap, "m", "<<");
    assert_int_equal(snapconf_get_int_or(snap, "n.a", -1), -1);
    assert_int_equal(int_at(snap, "n.<<.a"), 1);
    snapconf_snap_free(snap);
}

/* ------------------------------------------------------------------------- */

static void node_count_counts_expansions(void **state)
{
    (void)state;
    /* Root, three sequences of four nodes each. */
    assert_int_equal(node_count_of("[&x [1, 2, 3], *x, *x]"), 13);
    assert_int_equal(node_count_of("[[1, 2, 3], [1, 2, 3], [1, 2, 3]]"), 13);
    assert_int_equal(node_count_of("[1, 2, 3]"), 4);

    /* Whatever a mapping entry counts as, an alias or a merge counts as much
     * as the same document written out. */
    assert_int_equal(node_count_of("a: &x {p: 1, q: 2}\nb: *x\n"),
                     node_count_of("a: {p: 1, q: 2}\nb: {p: 1, q: 2}\n"));
    assert_int_equal(node_count_of("a: &x {p: 1, q: 2}\nb: {<<: *x, r: 3}\n"),
                     node_count_of("a: {p: 1, q: 2}\nb: {p: 1, q: 2, r: 3}\n"));
    assert_int_equal(node_count_of("a: &x {p: 1, q: 2}\nb: {<<: *x, q: 3}\n"),
                     node_count_of("a: {p: 1, q: 2}\nb: {p: 1, q: 3}\n"));
    assert_int_equal(node_count_of("a: &x [[1, 2], [3]]\nb: [*x, *x]\n"),
                     node_count_of("a: [[1, 2], [3]]\nb: [[[1, 2], [3]], [[1, 2], [3]]]\n"));
    assert_true(node_count_of("a: &x [1, 2]\nb: *x\n") > node_count_of("a: [1, 2]\n"));
}

static void max_nodes_counts_expansions(void **state)
{
    (void)state;
    static const char doc[] = "[&x [1, 2, 3], *x, *x]";
    snapconf_options opts;

    snapconf_options_init(&opts);
    opts.max_nodes = 13;
    snapconf_snap *snap = load_len_opts(doc, strlen(doc), &opts);
    assert_int_equal(snapconf_snap_node_count(snap), 13);
    snapconf_snap_free(snap);
    opts.max_nodes = 12;
    load_err_opts(doc, strlen(doc), &opts, SNAPCONF_ELIMIT, "node");
}

/* snapconf_snap_node_count() is "the figure checked against max_nodes": a
 * document whose count is N loads with max_nodes = N and fails with N - 1,
 * whatever it holds (mappings, aliases, merges, aliases as keys). */
static void node_count_is_the_figure_checked(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "[&x [1, 2, 3], *x, *x]",
        "a: 1\nb: 2\n",
        "a: {b: {c: 1}}\n",
        "a: &x {p: 1, q: 2}\nb: *x\n",
        "a: &x {p: 1, q: 2}\nb: {<<: *x, r: 3}\n",
        "a: &x {p: 1, q: 2}\nb: {<<: *x, q: 3}\n",
        "k: &k foo\n*k : bar\n",
    };
    snapconf_options opts;
    size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        size_t n = node_count_of(docs[i]);
        snapconf_snap *snap = NULL;
        snapconf_error err;
        int rc;

        snapconf_options_init(&opts);
        opts.max_nodes = n;
        rc = snapconf_snap_load(NULL, docs[i], strlen(docs[i]), &opts, &snap, &err);
        if (rc != 0)
            fail_msg("document %zu has node_count %zu but max_nodes = %zu rejects it: %s", i, n, n,
                     err.message);
        assert_int_equal(snapconf_snap_node_count(snap), n);
        snapconf_snap_free(snap);
        opts.max_nodes = n - 1;
        load_err_opts(docs[i], strlen(docs[i]), &opts, SNAPCONF_ELIMIT, "max_nodes");
    }
}

/* max_depth limits the nesting of the snapshot, which an alias can deepen:
 * otherwise a chain of anchors builds a tree of any depth from a file that
 * passes the check. */
static void max_depth_after_alias_expansion(void **state)
{
    (void)state;
    static const char doc[] = "a: &x [[1]]\nb: [[*x]]\n";
    snapconf_options opts;
    strbuf sb = {0};
    int level, i;

    snapconf_options_init(&opts);
    opts.max_depth = 5;
    snapconf_snap *snap = load_len_opts(doc, strlen(doc), &opts);
    assert_int_equal(int_at(snap, "b[0][0][0][0]"), 1);
    snapconf_snap_free(snap);
    opts.max_depth = 4;
    load_err_opts(doc, strlen(doc), &opts, SNAPCONF_ELIMIT, "depth");

    /* Ten anchors, each 200 deep around the previous: 2000 levels. */
    for (level = 0; level < 10; level++) {
        sb_add(&sb, "l%d: &l%d ", level, level);
        for (i = 0; i < 200; i++)
            sb_add(&sb, "[");
        if (level == 0)
            sb_add(&sb, "1");
        else
            sb_add(&sb, "*l%d", level - 1);
        for (i = 0; i < 200; i++)
            sb_add(&sb, "]");
        sb_add(&sb, "\n");
    }
    load_err_len(sb.data, sb.len, SNAPCONF_ELIMIT, "t.yaml:", "depth");
    sb_free(&sb);
}

/* Merging and aliasing mappings big enough to carry a hash index. */
static void large_mappings(void **state)
{
    (void)state;
    strbuf sb = {0};
    char path[32], expect[512] = "";
    int i;

    sb_add(&sb, "base: &base\n");
    for (i = 0; i < 20; i++)
        sb_add(&sb, "  k%d: %d\n", i, i);
    sb_add(&sb, "copy: *base\n");
    sb_add(&sb, "m:\n  first: -1\n  <<: *base\n  k3: 300\n  last: -2\n");
    sb_add(&sb, "small: {<<: *base, k0: 0}\n");
    snapconf_snap *snap = load_len(sb.data, sb.len);

    for (i = 0; i < 20; i++) {
        snprintf(path, sizeof(path), "copy.k%d", i);
        assert_int_equal(int_at(snap, path), i);
        snprintf(path, sizeof(path), "m.k%d", i);
        assert_int_equal(int_at(snap, path), i == 3 ? 300 : i);
    }
    assert_int_equal(int_at(snap, "m.first"), -1);
    assert_int_equal(int_at(snap, "m.last"), -2);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "m")), 22);
    strcat(expect, "first");
    for (i = 0; i < 20; i++) {
        if (i == 3)
            continue;
        snprintf(path, sizeof(path), " k%d", i);
        strcat(expect, path);
    }
    strcat(expect, " k3 last");
    assert_keys(snap, "m", expect);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "small")), 20);
    assert_int_equal(int_at(snap, "small.k19"), 19);
    assert_int_equal(snapconf_get_int_or(snap, "m.k20", -9), -9);
    snapconf_snap_free(snap);
    sb_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scalar_and_container_aliases),
        cmocka_unit_test(redefined_anchor),
        cmocka_unit_test(alias_keeps_scalar_details),
        cmocka_unit_test(aliased_values_have_their_own_keys),
        cmocka_unit_test(alias_as_key),
        cmocka_unit_test(merge_single),
        cmocka_unit_test(merge_list),
        cmocka_unit_test(merge_inline_and_nested),
        cmocka_unit_test(merged_entries_lookup_and_position),
        cmocka_unit_test(merge_of_non_mapping_is_error),
        cmocka_unit_test(quoted_merge_key_is_ordinary),
        cmocka_unit_test(node_count_counts_expansions),
        cmocka_unit_test(max_nodes_counts_expansions),
        cmocka_unit_test(node_count_is_the_figure_checked),
        cmocka_unit_test(max_depth_after_alias_expansion),
        cmocka_unit_test(large_mappings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
