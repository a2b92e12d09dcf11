/*
 * test_scalar.c - scalar typing by the YAML 1.2 core schema, explicit tags,
 * and the typed getters that never convert.
 */
#include "unit.h"

#include <math.h>

/* Asserts the type of the node at path. */
static void assert_type(const snapconf_snap *snap, const char *path, snapconf_type type)
{
    snapconf_type got = snapconf_node_type(node_at_path(snap, path));

    if (got != type)
        fail_msg("path '%s': expected %s, got %s", path, snapconf_type_name(type),
                 snapconf_type_name(got));
}

/* Asserts that the node at path is the string expected, unquoted or not. */
static void assert_str(const snapconf_snap *snap, const char *path, const char *expected)
{
    assert_type(snap, path, SNAPCONF_TYPE_STRING);
    assert_string_equal(str_at(snap, path), expected);
}

static void assert_int(const snapconf_snap *snap, const char *path, int64_t expected)
{
    assert_type(snap, path, SNAPCONF_TYPE_INT);
    assert_int_equal(int_at(snap, path), expected);
}

static double double_at(const snapconf_snap *snap, const char *path)
{
    double d = 0;
    int rc;

    assert_type(snap, path, SNAPCONF_TYPE_FLOAT);
    rc = snapconf_get_double(snap, path, &d);
    if (rc != 0)
        fail_msg("path '%s': %s", path, snapconf_err_name(rc));
    return d;
}

static bool bool_at(const snapconf_snap *snap, const char *path)
{
    bool b = false;
    int rc;

    assert_type(snap, path, SNAPCONF_TYPE_BOOL);
    rc = snapconf_get_bool(snap, path, &b);
    if (rc != 0)
        fail_msg("path '%s': %s", path, snapconf_err_name(rc));
    return b;
}

/* ------------------------------------------------------------------------- */

static void null_forms(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: ~\n"
                               "b: null\n"
                               "c: Null\n"
                               "d: NULL\n"
                               "e:\n"
                               "f: \"\"\n"
                               "g: nULL\n"
                               "h: 'null'\n"
                               "i: [~, null, ]\n");

    assert_type(snap, "a", SNAPCONF_TYPE_NULL);
    assert_type(snap, "b", SNAPCONF_TYPE_NULL);
    assert_type(snap, "c", SNAPCONF_TYPE_NULL);
    assert_type(snap, "d", SNAPCONF_TYPE_NULL);
    assert_type(snap, "e", SNAPCONF_TYPE_NULL);
    assert_str(snap, "f", "");
    assert_str(snap, "g", "nULL");
    assert_str(snap, "h", "null");
    assert_int_equal(snapconf_node_size(node_at_path(snap, "i")), 2);
    assert_type(snap, "i[0]", SNAPCONF_TYPE_NULL);
    assert_type(snap, "i[1]", SNAPCONF_TYPE_NULL);
    snapconf_snap_free(snap);
}

static void bool_forms(void **state)
{
    (void)state;
    snapconf_snap *snap = load("t1: true\nt2: True\nt3: TRUE\n"
                               "f1: false\nf2: False\nf3: FALSE\n");

    assert_true(bool_at(snap, "t1"));
    assert_true(bool_at(snap, "t2"));
    assert_true(bool_at(snap, "t3"));
    assert_false(bool_at(snap, "f1"));
    assert_false(bool_at(snap, "f2"));
    assert_false(bool_at(snap, "f3"));
    snapconf_snap_free(snap);
}

/* YAML 1.1 booleans are plain strings in YAML 1.2: the "Norway problem". */
static void yaml11_bools_are_strings(void **state)
{
    (void)state;
    static const char *const words[] = {"yes", "no",  "on", "off", "y",    "n",    "Yes",
                                        "No",  "YES", "ON", "Off", "tRUE", "fALSE"};
    strbuf sb = {0};
    char path[32];
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        sb_add(&sb, "k%zu: %s\n", i, words[i]);
    sb_add(&sb, "country: NO\n");
    snapconf_snap *snap = load_len(sb.data, sb.len);

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(path, sizeof(path), "k%zu", i);
        assert_str(snap, path, words[i]);
    }
    assert_str(snap, "country", "NO");
    snapconf_snap_free(snap);
    sb_free(&sb);
}

static void int_forms(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: -42\n"
                               "b: +7\n"
                               "c: 0123\n"
                               "d: 0x1F\n"
                               "e: 0o17\n"
                               "f: 9223372036854775807\n"
                               "g: -9223372036854775808\n"
                               "h: 0\n"
                               "i: -0\n"
                               "j: 0x0\n"
                               "k: 0xffffffff\n"
                               "l: 0o0\n"
                               "m: 0x7FFFFFFFFFFFFFFF\n"
                               "n: 0o777777777777777777777\n");

    assert_int(snap, "a", -42);
    assert_int(snap, "b", 7);
    assert_int(snap, "c", 123);
    assert_int(snap, "d", 31);
    assert_int(snap, "e", 15);
    assert_int(snap, "f", INT64_MAX);
    assert_int(snap, "g", INT64_MIN);
    assert_int(snap, "h", 0);
    assert_int(snap, "i", 0);
    assert_int(snap, "j", 0);
    assert_int(snap, "k", 0xffffffffLL);
    assert_int(snap, "l", 0);
    assert_int(snap, "m", INT64_MAX);
    assert_int(snap, "n", INT64_MAX);
    snapconf_snap_free(snap);
}

/* An integer that does not fit in int64_t is an error, never a wrapped or
 * clamped value and never silently a string or a float. */
static void int_overflow_is_error(void **state)
{
    (void)state;
    load_err("port: 9223372036854775808\n", SNAPCONF_EPARSE, "t.yaml:1:7: ", "64");
    load_err("a: 1\nport: -9223372036854775809\n", SNAPCONF_EPARSE, "t.yaml:2:7: ", "64");
    load_err("x: 0x10000000000000000\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", "64");
    load_err("x: 0o2000000000000000000000\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", "64");
    load_err("x: 99999999999999999999999999999\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", "64");
    /* 2^64 - 1 fits in 64 unsigned bits but not in int64_t; it must not
     * come back as -1. */
    load_err("x: 0xFFFFFFFFFFFFFFFF\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", NULL);
    /* Overflow inside a sequence, on a later line. */
    load_err("list:\n  - 1\n  - 18446744073709551616\n", SNAPCONF_EPARSE, "t.yaml:3:5: ", "64");
}

static void float_forms(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: 1.5\n"
                               "b: -.5\n"
                               "c: 1e3\n"
                               "d: 1.\n"
                               "e: 6.02e+23\n"
                               "f: .inf\n"
                               "g: -.Inf\n"
                               "h: +.INF\n"
                               "i: .nan\n"
                               "j: .NaN\n"
                               "k: .NAN\n"
                               "l: 0.1\n"
                               "m: -0.0\n"
                               "n: 1E-3\n"
                               "o: +12.5e2\n"
                               "p: .Inf\n");

    assert_true(double_at(snap, "a") == 1.5);
    assert_true(double_at(snap, "b") == -0.5);
    assert_true(double_at(snap, "c") == 1000.0);
    assert_true(double_at(snap, "d") == 1.0);
    assert_true(double_at(snap, "e") == 6.02e+23);
    assert_true(isinf(double_at(snap, "f")) && double_at(snap, "f") > 0);
    assert_true(isinf(double_at(snap, "g")) && double_at(snap, "g") < 0);
    assert_true(isinf(double_at(snap, "h")) && double_at(snap, "h") > 0);
    assert_true(isnan(double_at(snap, "i")));
    assert_true(isnan(double_at(snap, "j")));
    assert_true(isnan(double_at(snap, "k")));
    assert_true(double_at(snap, "l") == 0.1);
    assert_true(double_at(snap, "m") == 0.0 && signbit(double_at(snap, "m")));
    assert_true(double_at(snap, "n") == 1e-3);
    assert_true(double_at(snap, "o") == 1250.0);
    assert_true(isinf(double_at(snap, "p")) && double_at(snap, "p") > 0);
    snapconf_snap_free(snap);
}

/* Scalars that look almost like numbers, booleans or nulls stay strings,
 * with their text unchanged. */
static void look_alikes_are_strings(void **state)
{
    (void)state;
    static const char *const words[] = {"0x",   "1_000", "0b101", "1:30",  ".5.5",  "0o",
                                        "0x1G", "0o8",   "1e",    "--1",   "1.2.3", "inf",
                                        "nan",  ".infx", "+",     "1,000", "12abc", "0x1F.5",
                                        "TrUe", "~~",    "Nulls", "1e3e3"};
    strbuf sb = {0};
    char path[32];
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        sb_add(&sb, "k%zu: %s\n", i, words[i]);
    snapconf_snap *snap = load_len(sb.data, sb.len);

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(path, sizeof(path), "k%zu", i);
        assert_str(snap, path, words[i]);
        assert_false(snapconf_node_quoted(node_at_path(snap, path)));
    }
    snapconf_snap_free(snap);
    sb_free(&sb);
}

static void quoted_and_block_are_strings(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: \"123\"\n"
                               "b: 'true'\n"
                               "c: \"~\"\n"
                               "d: '1.5'\n"
                               "e: |\n"
                               "  123\n"
                               "f: >\n"
                               "  true\n"
                               "  false\n"
                               "g: |-\n"
                               "  42\n"
                               "h: \"\\u00e9\\t\"\n"
                               "i: plain text here\n"
                               "j: \"null\"\n");

    assert_str(snap, "a", "123");
    assert_str(snap, "b", "true");
    assert_str(snap, "c", "~");
    assert_str(snap, "d", "1.5");
    assert_str(snap, "e", "123\n");
    assert_str(snap, "f", "true false\n");
    assert_str(snap, "g", "42");
    assert_str(snap, "h", "\xc3\xa9\t");
    assert_str(snap, "i", "plain text here");
    assert_str(snap, "j", "null");

    assert_true(snapconf_node_quoted(node_at_path(snap, "a")));
    assert_true(snapconf_node_quoted(node_at_path(snap, "b")));
    assert_true(snapconf_node_quoted(node_at_path(snap, "e")));
    assert_true(snapconf_node_quoted(node_at_path(snap, "f")));
    assert_true(snapconf_node_quoted(node_at_path(snap, "g")));
    assert_false(snapconf_node_quoted(node_at_path(snap, "i")));
    snapconf_snap_free(snap);
}

static void quoted_flag_of_non_strings(void **state)
{
    (void)state;
    snapconf_snap *snap = load("i: 42\nb: true\nn: ~\nf: 1.5\ns: plain\n");

    assert_false(snapconf_node_quoted(node_at_path(snap, "i")));
    assert_false(snapconf_node_quoted(node_at_path(snap, "b")));
    assert_false(snapconf_node_quoted(node_at_path(snap, "n")));
    assert_false(snapconf_node_quoted(node_at_path(snap, "f")));
    assert_false(snapconf_node_quoted(node_at_path(snap, "s")));
    snapconf_snap_free(snap);
}

static void core_tags(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: !!str 123\n"
                               "b: !!int \"42\"\n"
                               "c: !!float 3\n"
                               "d: !!bool \"true\"\n"
                               "e: !!null \"\"\n"
                               "f: !!str true\n"
                               "g: !!int 0x1F\n"
                               "h: !!float \"-1.5\"\n"
                               "i: !!str ~\n"
                               "j: !<tag:yaml.org,2002:int> '7'\n"
                               "k: !!str\n");
    double d = 0;

    assert_str(snap, "a", "123");
    assert_null(snapconf_node_tag(node_at_path(snap, "a")));
    assert_int(snap, "b", 42);
    assert_null(snapconf_node_tag(node_at_path(snap, "b")));
    assert_type(snap, "c", SNAPCONF_TYPE_FLOAT);
    assert_int_equal(snapconf_get_double(snap, "c", &d), 0);
    assert_true(d == 3.0);
    assert_true(bool_at(snap, "d"));
    assert_type(snap, "e", SNAPCONF_TYPE_NULL);
    assert_str(snap, "f", "true");
    assert_int(snap, "g", 31);
    assert_true(double_at(snap, "h") == -1.5);
    assert_str(snap, "i", "~");
    assert_int(snap, "j", 7);
    assert_str(snap, "k", "");
    snapconf_snap_free(snap);
}

static void bad_core_tags_are_errors(void **state)
{
    (void)state;
    load_err("x: !!int abc\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", NULL);
    load_err("a: 1\nx: !!float abc\n", SNAPCONF_EPARSE, "t.yaml:2:4: ", NULL);
    load_err("x: !!bool yes\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", NULL);
    load_err("x: !!null 0\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", NULL);
    load_err("x: !!int 9223372036854775808\n", SNAPCONF_EPARSE, "t.yaml:1:4: ", "64");
}

static void unknown_tags(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: !color red\n"
                               "b: !<tag:example.com,2024:x> v\n"
                               "c: !color 42\n"
                               "d: plain\n"
                               "e: \"quoted\"\n"
                               "f: 42\n"
                               "g: {k: v}\n");

    assert_str(snap, "a", "red");
    assert_string_equal(snapconf_node_tag(node_at_path(snap, "a")), "!color");
    assert_str(snap, "b", "v");
    assert_string_equal(snapconf_node_tag(node_at_path(snap, "b")), "tag:example.com,2024:x");
    /* An unknown tag makes a string even of something that looks like an int. */
    assert_str(snap, "c", "42");
    assert_string_equal(snapconf_node_tag(node_at_path(snap, "c")), "!color");
    assert_null(snapconf_node_tag(node_at_path(snap, "d")));
    assert_null(snapconf_node_tag(node_at_path(snap, "e")));
    assert_null(snapconf_node_tag(node_at_path(snap, "f")));
    assert_null(snapconf_node_tag(node_at_path(snap, "g")));
    snapconf_snap_free(snap);
}

/* The typed getters never convert between types. */
/* Tags are kept whole, however long. */
static void long_tags(void **state)
{
    (void)state;
    strbuf sb = {0}, tag = {0}, local = {0};
    int i;

    sb_add(&tag, "tag:example.com,2024:");
    sb_add(&local, "!");
    for (i = 0; i < 300; i++) {
        sb_add(&tag, "%c", 'a' + i % 26);
        sb_add(&local, "%c", 'a' + i % 26);
    }
    sb_add(&sb, "a: !<%s> v\nb: %s w\n", tag.data, local.data);
    snapconf_snap *snap = load_len(sb.data, sb.len);

    assert_string_equal(str_at(snap, "a"), "v");
    assert_string_equal(snapconf_node_tag(node_at_path(snap, "a")), tag.data);
    assert_string_equal(snapconf_node_tag(node_at_path(snap, "b")), local.data);
    snapconf_snap_free(snap);
    sb_free(&sb);
    sb_free(&tag);
    sb_free(&local);
}

static void getters_never_convert(void **state)
{
    (void)state;
    snapconf_snap *snap = load("port: \"8080\"\n"
                               "num: 8080\n"
                               "flag: yes\n"
                               "f: 2.5\n"
                               "b: true\n"
                               "n: ~\n"
                               "m: {a: 1}\n"
                               "s: [1]\n"
                               "big: 9007199254740993\n"
                               "neg: -3\n");
    int64_t i = 77;
    const char *s = "sentinel";
    double d = 7.25;
    bool b = true;

    assert_int_equal(snapconf_get_int(snap, "port", &i), SNAPCONF_ETYPE);
    assert_int_equal(i, 77);
    assert_int_equal(snapconf_get_str(snap, "num", &s), SNAPCONF_ETYPE);
    assert_string_equal(s, "sentinel");
    assert_int_equal(snapconf_get_bool(snap, "flag", &b), SNAPCONF_ETYPE);
    assert_true(b);
    assert_int_equal(snapconf_get_int(snap, "f", &i), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_int(snap, "b", &i), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_int(snap, "n", &i), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_str(snap, "n", &s), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_str(snap, "b", &s), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_str(snap, "m", &s), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_str(snap, "s", &s), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_double(snap, "port", &d), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_double(snap, "b", &d), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_double(snap, "n", &d), SNAPCONF_ETYPE);
    assert_true(d == 7.25);
    assert_int_equal(snapconf_get_bool(snap, "num", &b), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_bool(snap, "n", &b), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_get_int(snap, "m", &i), SNAPCONF_ETYPE);
    assert_int_equal(i, 77);
    assert_string_equal(s, "sentinel");
    assert_true(b);

    /* The one documented exception: an int read as a double. */
    assert_int_equal(snapconf_get_double(snap, "num", &d), 0);
    assert_true(d == 8080.0);
    assert_int_equal(snapconf_get_double(snap, "neg", &d), 0);
    assert_true(d == -3.0);
    assert_int_equal(snapconf_get_double(snap, "big", &d), 0);
    assert_true(d == (double)INT64_C(9007199254740993));

    /* Missing values are ENOTFOUND, not ETYPE. */
    assert_int_equal(snapconf_get_int(snap, "nope", &i), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_get_str(snap, "nope", &s), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_get_double(snap, "nope", &d), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_get_bool(snap, "nope", &b), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_get_int(snap, "a..b", &i), SNAPCONF_EPATH);
    assert_int_equal(i, 77);
    snapconf_snap_free(snap);
}

static void node_getters(void **state)
{
    (void)state;
    snapconf_snap *snap = load("s: hello\ni: -5\nf: 0.25\nb: false\nm: {}\n");
    const char *s = NULL;
    size_t len = 99;
    int64_t i = 0;
    double d = 0;
    bool b = true;

    assert_int_equal(snapconf_node_str(node_at_path(snap, "s"), &s, &len), 0);
    assert_string_equal(s, "hello");
    assert_int_equal(len, 5);
    assert_int_equal(snapconf_node_str(node_at_path(snap, "s"), &s, NULL), 0);
    assert_int_equal(snapconf_node_int(node_at_path(snap, "i"), &i), 0);
    assert_int_equal(i, -5);
    assert_int_equal(snapconf_node_double(node_at_path(snap, "f"), &d), 0);
    assert_true(d == 0.25);
    assert_int_equal(snapconf_node_double(node_at_path(snap, "i"), &d), 0);
    assert_true(d == -5.0);
    assert_int_equal(snapconf_node_bool(node_at_path(snap, "b"), &b), 0);
    assert_false(b);

    s = "sentinel";
    len = 99;
    i = 1;
    assert_int_equal(snapconf_node_str(node_at_path(snap, "i"), &s, &len), SNAPCONF_ETYPE);
    assert_string_equal(s, "sentinel");
    assert_int_equal(len, 99);
    assert_int_equal(snapconf_node_int(node_at_path(snap, "s"), &i), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_node_int(node_at_path(snap, "f"), &i), SNAPCONF_ETYPE);
    assert_int_equal(i, 1);
    assert_int_equal(snapconf_node_double(node_at_path(snap, "s"), &d), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_node_bool(node_at_path(snap, "i"), &b), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_node_str(node_at_path(snap, "m"), &s, &len), SNAPCONF_ETYPE);
    assert_int_equal(snapconf_node_str(snapconf_snap_root(snap), &s, &len), SNAPCONF_ETYPE);
    snapconf_snap_free(snap);
}

static void or_variants(void **state)
{
    (void)state;
    snapconf_snap *snap = load("name: web\nport: 8080\nratio: 0.5\non: true\nq: \"12\"\n"
                               "list: [1, 2]\n");

    /* Present with the right type. */
    assert_string_equal(snapconf_get_str_or(snap, "name", "def"), "web");
    assert_int_equal(snapconf_get_int_or(snap, "port", 1), 8080);
    assert_true(snapconf_get_double_or(snap, "ratio", 9.0) == 0.5);
    assert_true(snapconf_get_double_or(snap, "port", 9.0) == 8080.0);
    assert_true(snapconf_get_bool_or(snap, "on", false));
    assert_int_equal(snapconf_get_int_or(snap, "list[1]", 1), 2);

    /* Missing. */
    assert_string_equal(snapconf_get_str_or(snap, "nope", "def"), "def");
    assert_null(snapconf_get_str_or(snap, "nope", NULL));
    assert_int_equal(snapconf_get_int_or(snap, "nope", -1), -1);
    assert_true(snapconf_get_double_or(snap, "nope", 9.5) == 9.5);
    assert_true(snapconf_get_bool_or(snap, "nope", true));
    assert_false(snapconf_get_bool_or(snap, "nope", false));
    assert_int_equal(snapconf_get_int_or(snap, "list[5]", 3), 3);
    assert_int_equal(snapconf_get_int_or(snap, "name.x", 3), 3);

    /* Wrong type. */
    assert_string_equal(snapconf_get_str_or(snap, "port", "def"), "def");
    assert_int_equal(snapconf_get_int_or(snap, "q", -1), -1);
    assert_int_equal(snapconf_get_int_or(snap, "ratio", -1), -1);
    assert_true(snapconf_get_double_or(snap, "name", 9.5) == 9.5);
    assert_true(snapconf_get_bool_or(snap, "port", true));
    assert_false(snapconf_get_bool_or(snap, "name", false));
    assert_string_equal(snapconf_get_str_or(snap, "list", "def"), "def");

    /* Malformed path. */
    assert_string_equal(snapconf_get_str_or(snap, "a..b", "def"), "def");
    assert_int_equal(snapconf_get_int_or(snap, "port[", 4), 4);
    assert_true(snapconf_get_double_or(snap, ".ratio", 1.25) == 1.25);
    assert_true(snapconf_get_bool_or(snap, "on.", true));
    assert_false(snapconf_get_bool_or(snap, "\"on", false));
    snapconf_snap_free(snap);
}

static void strings_with_nul(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: \"a\\0b\"\nb: \"\\0\"\n");
    const char *s = NULL;
    size_t len = 0;

    assert_int_equal(snapconf_node_str(node_at_path(snap, "a"), &s, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "a\0b", 4);
    /* The getter's string is cut short at the NUL. */
    assert_string_equal(str_at(snap, "a"), "a");
    assert_int_equal(snapconf_node_str(node_at_path(snap, "b"), &s, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(s[0], '\0');
    snapconf_snap_free(snap);
}

static void multibyte_and_long_strings(void **state)
{
    (void)state;
    strbuf sb = {0};
    const char *s = NULL;
    size_t len = 0, i;

    sb_add(&sb, "u: \"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80\"\nlong: ");
    for (i = 0; i < 10000; i++)
        sb_add(&sb, "%c", 'a' + (int)(i % 26));
    sb_add(&sb, "\n");
    snapconf_snap *snap = load_len(sb.data, sb.len);

    assert_str(snap, "u", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_int_equal(snapconf_node_str(node_at_path(snap, "long"), &s, &len), 0);
    assert_int_equal(len, 10000);
    for (i = 0; i < 10000; i++)
        assert_int_equal(s[i], 'a' + (int)(i % 26));
    assert_int_equal(s[10000], '\0');
    snapconf_snap_free(snap);
    sb_free(&sb);
}

static void type_names(void **state)
{
    (void)state;
    assert_string_equal(snapconf_type_name(SNAPCONF_TYPE_NULL), "null");
    assert_string_equal(snapconf_type_name(SNAPCONF_TYPE_BOOL), "bool");
    assert_string_equal(snapconf_type_name(SNAPCONF_TYPE_INT), "int");
    assert_string_equal(snapconf_type_name(SNAPCONF_TYPE_FLOAT), "float");
    assert_string_equal(snapconf_type_name(SNAPCONF_TYPE_STRING), "string");
    assert_string_equal(snapconf_type_name(SNAPCONF_TYPE_MAP), "map");
    assert_string_equal(snapconf_type_name(SNAPCONF_TYPE_SEQ), "seq");
    assert_string_equal(snapconf_type_name((snapconf_type)99), "unknown");
    assert_string_equal(snapconf_type_name((snapconf_type)-1), "unknown");
}

/* Scalars as sequence items and in flow collections get the same typing. */
static void typing_in_collections(void **state)
{
    (void)state;
    snapconf_snap *snap = load("l: [1, \"1\", 1.5, true, yes, ~, 0x10]\n"
                               "m: {a: 1, b: '1'}\n");

    assert_int(snap, "l[0]", 1);
    assert_str(snap, "l[1]", "1");
    assert_true(double_at(snap, "l[2]") == 1.5);
    assert_true(bool_at(snap, "l[3]"));
    assert_str(snap, "l[4]", "yes");
    assert_type(snap, "l[5]", SNAPCONF_TYPE_NULL);
    assert_int(snap, "l[6]", 16);
    assert_int(snap, "m.a", 1);
    assert_str(snap, "m.b", "1");
    snapconf_snap_free(snap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_forms),
        cmocka_unit_test(bool_forms),
        cmocka_unit_test(yaml11_bools_are_strings),
        cmocka_unit_test(int_forms),
        cmocka_unit_test(int_overflow_is_error),
        cmocka_unit_test(float_forms),
        cmocka_unit_test(look_alikes_are_strings),
        cmocka_unit_test(quoted_and_block_are_strings),
        cmocka_unit_test(quoted_flag_of_non_strings),
        cmocka_unit_test(core_tags),
        cmocka_unit_test(bad_core_tags_are_errors),
        cmocka_unit_test(unknown_tags),
        cmocka_unit_test(long_tags),
        cmocka_unit_test(getters_never_convert),
        cmocka_unit_test(node_getters),
        cmocka_unit_test(or_variants),
        cmocka_unit_test(strings_with_nul),
        cmocka_unit_test(multibyte_and_long_strings),
        cmocka_unit_test(type_names),
        cmocka_unit_test(typing_in_collections),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
