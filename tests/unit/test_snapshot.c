/*
 * test_snapshot.c - snapshot properties, iteration, positions, error
 * names and the version.
 */
#include "unit.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <xxhash.h>

static void iterate_mapping(void **state)
{
    (void)state;
    snapconf_snap *snap = load("zeta: 1\nalpha: two\nmid: [3]\n\"\": empty\n");
    const snapconf_node *root = snapconf_snap_root(snap);
    static const char *const keys[] = {"zeta", "alpha", "mid", ""};
    const char *s = NULL;
    int64_t v = 0;
    size_t i, len;

    assert_int_equal(snapconf_node_type(root), SNAPCONF_TYPE_MAP);
    assert_int_equal(snapconf_node_size(root), 4);
    for (i = 0; i < 4; i++) {
        const snapconf_node *entry = snapconf_node_at(root, i);

        assert_non_null(entry);
        len = 99;
        assert_string_equal(snapconf_node_key(entry, &len), keys[i]);
        assert_int_equal(len, strlen(keys[i]));
        assert_ptr_equal(entry, node_at_path(snap, i == 3 ? "\"\"" : keys[i]));
    }
    assert_int_equal(snapconf_node_int(snapconf_node_at(root, 0), &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(snapconf_node_str(snapconf_node_at(root, 1), &s, NULL), 0);
    assert_string_equal(s, "two");
    assert_int_equal(snapconf_node_type(snapconf_node_at(root, 2)), SNAPCONF_TYPE_SEQ);
    assert_null(snapconf_node_at(root, 4));
    assert_null(snapconf_node_at(root, SIZE_MAX));
    assert_null(snapconf_node_key(root, NULL));
    snapconf_snap_free(snap);
}

static void iterate_sequence(void **state)
{
    (void)state;
    snapconf_snap *snap = load("s:\n  - a\n  - 2\n  - {k: v}\n  - []\n");
    const snapconf_node *seq = node_at_path(snap, "s");
    size_t len = 42;

    assert_int_equal(snapconf_node_size(seq), 4);
    assert_int_equal(snapconf_node_type(snapconf_node_at(seq, 0)), SNAPCONF_TYPE_STRING);
    assert_int_equal(snapconf_node_type(snapconf_node_at(seq, 1)), SNAPCONF_TYPE_INT);
    assert_int_equal(snapconf_node_type(snapconf_node_at(seq, 2)), SNAPCONF_TYPE_MAP);
    assert_int_equal(snapconf_node_type(snapconf_node_at(seq, 3)), SNAPCONF_TYPE_SEQ);
    assert_int_equal(snapconf_node_size(snapconf_node_at(seq, 3)), 0);
    assert_null(snapconf_node_at(snapconf_node_at(seq, 3), 0));
    for (size_t i = 0; i < 4; i++)
        assert_null(snapconf_node_key(snapconf_node_at(seq, i), NULL));
    assert_null(snapconf_node_key(snapconf_node_at(seq, 0), &len));
    assert_ptr_equal(snapconf_node_at(seq, 2), node_at_path(snap, "s[2]"));
    assert_string_equal(snapconf_node_key(node_at_path(snap, "s[2].k"), NULL), "k");
    assert_null(snapconf_node_at(seq, 4));
    assert_string_equal(snapconf_node_key(seq, NULL), "s");
    snapconf_snap_free(snap);
}

static void scalars_have_no_entries(void **state)
{
    (void)state;
    snapconf_snap *snap = load("s: text\ni: 1\nn: ~\n");

    assert_int_equal(snapconf_node_size(node_at_path(snap, "s")), 0);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "i")), 0);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "n")), 0);
    assert_null(snapconf_node_at(node_at_path(snap, "s"), 0));
    assert_null(snapconf_node_at(node_at_path(snap, "n"), 0));
    snapconf_snap_free(snap);
}

/* Document order is kept for many entries too (the hash index must not
 * reorder them). */
static void large_mapping_keeps_order(void **state)
{
    (void)state;
    strbuf sb = {0};
    char key[32];
    size_t i;

    for (i = 0; i < 2000; i++)
        sb_add(&sb, "key%zu: %zu\n", (i * 7919) % 2000, i);
    snapconf_snap *snap = load_len(sb.data, sb.len);
    const snapconf_node *root = snapconf_snap_root(snap);

    assert_int_equal(snapconf_node_size(root), 2000);
    for (i = 0; i < 2000; i++) {
        const snapconf_node *entry = snapconf_node_at(root, i);
        int64_t v = -1;

        snprintf(key, sizeof(key), "key%zu", (i * 7919) % 2000);
        assert_string_equal(snapconf_node_key(entry, NULL), key);
        assert_int_equal(snapconf_node_int(entry, &v), 0);
        assert_int_equal(v, (int64_t)i);
    }
    snapconf_snap_free(snap);
    sb_free(&sb);
}

static void positions(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: 1\n"
                               "b:\n"
                               "  c: hello\n"
                               "d: [x, \"y\"]\n"
                               "e:\n"
                               "  - p\n"
                               "  - q\n"
                               "f: |\n"
                               "  text\n"
                               "\n"
                               "# comment\n"
                               "g:    spaced\n");
    static const struct {
        const char *path;
        unsigned line, column;
    } want[] = {
        {"a", 1, 4}, {"b", 3, 3},    {"b.c", 3, 6},  {"d", 4, 4}, {"d[0]", 4, 5}, {"d[1]", 4, 8},
        {"e", 6, 3}, {"e[0]", 6, 5}, {"e[1]", 7, 5}, {"f", 8, 4}, {"g", 12, 7},   {"", 1, 1},
    };
    size_t i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const snapconf_node *node = node_at_path(snap, want[i].path);

        if (snapconf_node_line(node) != want[i].line ||
            snapconf_node_column(node) != want[i].column)
            fail_msg("'%s' at %u:%u, expected %u:%u", want[i].path, snapconf_node_line(node),
                     snapconf_node_column(node), want[i].line, want[i].column);
    }
    snapconf_snap_free(snap);
}

/* Columns beyond 16,777,215 are reported as that number. */
static void column_is_clamped(void **state)
{
    (void)state;
    const size_t n = ((size_t)1 << 24) + 10;
    char *buf = malloc(n + 16);
    size_t len = 0;

    assert_non_null(buf);
    buf[len++] = '[';
    memset(buf + len, 'x', n);
    len += n;
    memcpy(buf + len, ", y]\n", 5);
    len += 5;
    snapconf_snap *snap = load_len(buf, len);
    free(buf);

    assert_int_equal(snapconf_node_column(node_at_path(snap, "[0]")), 2);
    assert_int_equal(snapconf_node_column(node_at_path(snap, "[1]")), 16777215);
    assert_int_equal(snapconf_node_line(node_at_path(snap, "[1]")), 1);
    assert_string_equal(str_at(snap, "[1]"), "y");
    snapconf_snap_free(snap);
}

static void generation_and_source(void **state)
{
    (void)state;
    snapconf_snap *snap = load("a: 1\n");
    snapconf_snap *anon = NULL;

    assert_int_equal(snapconf_snap_generation(snap), 0);
    assert_string_equal(snapconf_snap_source(snap), T_NAME);
    assert_int_equal(snapconf_snap_load_buffer("a: 1\n", 5, NULL, &anon, NULL), 0);
    assert_string_equal(snapconf_snap_source(anon), "<buffer>");
    assert_int_equal(snapconf_snap_generation(anon), 0);
    snapconf_snap_free(anon);
    snapconf_snap_free(snap);
}

/* The source name is copied, not borrowed from the caller. */
static void source_name_is_copied(void **state)
{
    (void)state;
    char name[32];
    snapconf_snap *snap = NULL;

    strcpy(name, "copied.yaml");
    assert_int_equal(snapconf_snap_load_buffer("a: 1\n", 5, name, &snap, NULL), 0);
    memset(name, 'X', sizeof(name) - 1);
    assert_string_equal(snapconf_snap_source(snap), "copied.yaml");
    snapconf_snap_free(snap);
}

static bool is_lower_hex32(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 32)
        return false;
    for (i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

static void content_hash(void **state)
{
    (void)state;
    static const char doc1[] = "a: 1\nb: [x, y]\n";
    static const char doc2[] = "a: 1\nb: [x, z]\n";
    snapconf_snap *one = load(doc1);
    snapconf_snap *same = load(doc1);
    snapconf_snap *other = load(doc2);
    snapconf_snap *renamed = NULL;
    char expect[33];

    assert_true(is_lower_hex32(snapconf_snap_content_hash(one)));
    assert_true(is_lower_hex32(snapconf_snap_content_hash(other)));
    assert_string_equal(snapconf_snap_content_hash(one), snapconf_snap_content_hash(same));
    assert_string_not_equal(snapconf_snap_content_hash(one), snapconf_snap_content_hash(other));
    /* The hash covers the bytes only, not the name. */
    assert_int_equal(
        snapconf_snap_load_buffer(doc1, strlen(doc1), "other-name.yaml", &renamed, NULL), 0);
    assert_string_equal(snapconf_snap_content_hash(one), snapconf_snap_content_hash(renamed));

    /* It is XXH3-128 of the bytes, in the canonical (big-endian) hex form
     * that xxhsum prints. */
    XXH128_hash_t h = XXH3_128bits(doc1, strlen(doc1));
    snprintf(expect, sizeof(expect), "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    assert_string_equal(snapconf_snap_content_hash(one), expect);

    snapconf_snap_free(one);
    snapconf_snap_free(same);
    snapconf_snap_free(other);
    snapconf_snap_free(renamed);
}

static void content_hash_of_empty_and_file(void **state)
{
    (void)state;
    static const char doc[] = "k: v\n";
    snapconf_snap *empty = load("{}");
    snapconf_snap *from_file = NULL;
    snapconf_snap *from_buf = load(doc);
    char expect[33], path[256];

    XXH128_hash_t h = XXH3_128bits("{}", 2);
    snprintf(expect, sizeof(expect), "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    assert_string_equal(snapconf_snap_content_hash(empty), expect);

    write_temp(path, sizeof(path), doc, strlen(doc));
    assert_int_equal(snapconf_snap_load_file(path, &from_file, NULL), 0);
    assert_string_equal(snapconf_snap_content_hash(from_file),
                        snapconf_snap_content_hash(from_buf));
    unlink(path);
    snapconf_snap_free(empty);
    snapconf_snap_free(from_file);
    snapconf_snap_free(from_buf);
}

static void memory_and_node_count(void **state)
{
    (void)state;
    strbuf sb = {0};
    size_t i;
    snapconf_snap *small = load("a: 1\n");

    for (i = 0; i < 1000; i++)
        sb_add(&sb, "key_%zu: a string value number %zu\n", i, i);
    snapconf_snap *big = load_len(sb.data, sb.len);

    assert_true(snapconf_snap_memory(small) > 0);
    assert_true(snapconf_snap_memory(big) > snapconf_snap_memory(small));
    /* Every key and every value is stored somewhere. */
    assert_true(snapconf_snap_memory(big) > sb.len / 2);
    assert_true(snapconf_snap_node_count(small) >= 2);
    assert_true(snapconf_snap_node_count(big) >= 1001);
    assert_true(snapconf_snap_node_count(big) > snapconf_snap_node_count(small));
    snapconf_snap_free(small);
    snapconf_snap_free(big);
    sb_free(&sb);
}

static void free_null(void **state)
{
    (void)state;
    snapconf_snap_free(NULL);
    snapconf_path_free(NULL);
    /* The calls above must simply return; reaching here is the assertion,
     * and a live snapshot still works after them. */
    snapconf_snap *snap = load("a: 1\n");
    assert_int_equal(int_at(snap, "a"), 1);
    snapconf_snap_free(snap);
}

/* The snapshot owns copies of everything: the buffer it was loaded from
 * may be changed and freed, and need not end in a NUL. */
static void buffer_not_referenced(void **state)
{
    (void)state;
    static const char text[] = "name: web\nlist: [a, b]\n";
    size_t len = strlen(text);
    char *buf = malloc(len);
    const char *name = NULL;

    assert_non_null(buf);
    memcpy(buf, text, len); /* no terminating NUL */
    snapconf_snap *snap = load_len(buf, len);
    name = str_at(snap, "name");
    memset(buf, '#', len);
    free(buf);
    assert_string_equal(name, "web");
    assert_string_equal(str_at(snap, "list[1]"), "b");

    /* len cuts the document short. */
    buf = malloc(10);
    assert_non_null(buf);
    memcpy(buf, "a: 123456789", 10);
    snapconf_snap *cut = load_len(buf, 6);
    free(buf);
    assert_int_equal(int_at(cut, "a"), 123);
    snapconf_snap_free(cut);
    snapconf_snap_free(snap);
}

/* Any number of threads read one snapshot at once. */
static const snapconf_snap *shared_snap;

static void *read_many(void *arg)
{
    (void)arg;
    char path[32];
    int round, i;

    for (round = 0; round < 200; round++) {
        for (i = 0; i < 64; i++) {
            snprintf(path, sizeof(path), "m.k%d", i);
            if (snapconf_get_int_or(shared_snap, path, -1) != i)
                return (void *)1;
        }
        if (strcmp(snapconf_get_str_or(shared_snap, "s[1]", ""), "two") != 0)
            return (void *)1;
    }
    return NULL;
}

static void concurrent_readers(void **state)
{
    (void)state;
    strbuf sb = {0};
    pthread_t threads[4];
    void *result;
    int i;

    sb_add(&sb, "m:\n");
    for (i = 0; i < 64; i++)
        sb_add(&sb, "  k%d: %d\n", i, i);
    sb_add(&sb, "s: [one, two]\n");
    snapconf_snap *snap = load_len(sb.data, sb.len);
    shared_snap = snap;
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, read_many, NULL), 0);
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], &result), 0);
        assert_null(result);
    }
    snapconf_snap_free(snap);
    sb_free(&sb);
}

/* ------------------------------------------------------------------------- */

static void error_names_and_texts(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name, *text;
    } codes[] = {
#define ROW_(name, value, text) {value, "SNAPCONF_" #name, text},
        SNAPCONF_ERRNO_MAP(ROW_)
#undef ROW_
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    int lowest = 0;
    size_t i, j;

    assert_true(n >= 9);
    for (i = 0; i < n; i++) {
        assert_true(codes[i].code < 0);
        if (codes[i].code < lowest)
            lowest = codes[i].code;
        assert_string_equal(snapconf_err_name(codes[i].code), codes[i].name);
        assert_string_equal(snapconf_strerror(codes[i].code), codes[i].text);
        /* Each code has its own value and text. */
        for (j = 0; j < i; j++) {
            assert_int_not_equal(codes[i].code, codes[j].code);
            assert_string_not_equal(snapconf_strerror(codes[i].code),
                                    snapconf_strerror(codes[j].code));
        }
    }
    assert_string_equal(snapconf_err_name(SNAPCONF_ENOTFOUND), "SNAPCONF_ENOTFOUND");
    assert_string_equal(snapconf_err_name(SNAPCONF_EINVAL), "SNAPCONF_EINVAL");
    assert_string_equal(snapconf_strerror(SNAPCONF_EPATH), "invalid path syntax");
    assert_string_equal(snapconf_strerror(SNAPCONF_EPARSE), "invalid configuration");

    const int unknown[] = {1, 42, lowest - 1, -1000, INT_MIN, INT_MAX};
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(snapconf_err_name(unknown[i]), "SNAPCONF_EUNKNOWN");
        assert_string_equal(snapconf_strerror(unknown[i]), "unknown error");
    }
    /* 0 is success, neither an error nor unknown; all that is promised is
     * a string. */
    assert_non_null(snapconf_err_name(0));
    assert_non_null(snapconf_strerror(0));
}

static void version(void **state)
{
    (void)state;
    char expect[32];

    snprintf(expect, sizeof(expect), "%d.%d.%d", SNAPCONF_VERSION_MAJOR, SNAPCONF_VERSION_MINOR,
             SNAPCONF_VERSION_PATCH);
    assert_string_equal(snapconf_version_string(), expect);
    assert_string_equal(snapconf_version_string(), "0.1.0");
    assert_int_equal(snapconf_version(), SNAPCONF_VERSION_HEX);
    assert_int_equal(SNAPCONF_VERSION_HEX, 0x000100);
}

/* snapconf_options_init() gives every default the header documents; a
 * zeroed struct would mean no debounce and error-only logging. */
static void options_defaults(void **state)
{
    (void)state;
    snapconf_options o;
    memset(&o, 0xa5, sizeof o);
    snapconf_options_init(&o);
    assert_int_equal(o.max_file_size, SNAPCONF_DEFAULT_MAX_FILE_SIZE);
    assert_int_equal(o.max_depth, SNAPCONF_DEFAULT_MAX_DEPTH);
    assert_int_equal(o.max_nodes, SNAPCONF_DEFAULT_MAX_NODES);
    assert_int_equal(o.watch, SNAPCONF_WATCH_THREAD);
    assert_int_equal(o.debounce_ms, SNAPCONF_DEFAULT_DEBOUNCE_MS);
    assert_int_equal(o.debounce_ms, 50);
    assert_int_equal(o.poll_ms, 0);
    assert_false(o.allow_missing);
    assert_null(o.validate);
    assert_null(o.log);
    assert_int_equal(o.log_level, SNAPCONF_LOG_INFO);
    assert_null(o.on_reload);
    for (size_t i = 0; i < sizeof o.reserved_ / sizeof o.reserved_[0]; i++)
        assert_int_equal(o.reserved_[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(options_defaults),
        cmocka_unit_test(iterate_mapping),
        cmocka_unit_test(iterate_sequence),
        cmocka_unit_test(scalars_have_no_entries),
        cmocka_unit_test(large_mapping_keeps_order),
        cmocka_unit_test(positions),
        cmocka_unit_test(column_is_clamped),
        cmocka_unit_test(generation_and_source),
        cmocka_unit_test(source_name_is_copied),
        cmocka_unit_test(content_hash),
        cmocka_unit_test(content_hash_of_empty_and_file),
        cmocka_unit_test(memory_and_node_count),
        cmocka_unit_test(free_null),
        cmocka_unit_test(buffer_not_referenced),
        cmocka_unit_test(concurrent_readers),
        cmocka_unit_test(error_names_and_texts),
        cmocka_unit_test(version),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
