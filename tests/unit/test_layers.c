/*
 * Layered configuration without a live handle (snapconf_snap_load_layered):
 * the merge rules, drop-in discovery and order, environment overrides and
 * their typing, and provenance (snapconf_explain) for each layer.
 */
#include "unit.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>

struct fx {
    char dir[64];
    char main[128];
    char dropins[128];
    const char *dirs[3];
    snapconf_options opts;
};

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/snapconf-layers-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->main, sizeof f->main, "%s/config.yaml", f->dir);
    snprintf(f->dropins, sizeof f->dropins, "%s/conf.d", f->dir);
    mkdir(f->dropins, 0755);
    f->dirs[0] = f->dropins;
    snapconf_options_init(&f->opts);
    f->opts.dropin_dirs = f->dirs;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    unsetenv("TAPP_DATABASE__PORT");
    unsetenv("TAPP_FEATURE__ON");
    unsetenv("TAPP_NAME");
    unsetenv("TAPP_SERVER__MAXCONNS");
    unsetenv("TAPP_GONE");
    unsetenv("TAPP_BIG");
    unsetenv("TAPP___BAD");
    unsetenv("TAPP_A__");
    return 0;
}

static void put(const char *dir, const char *name, const char *content)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(content, fp);
    fclose(fp);
}

static snapconf_snap *load_layers(struct fx *f)
{
    snapconf_snap *snap = NULL;
    snapconf_error err;
    int rc = snapconf_snap_load_layered(f->main, &f->opts, &snap, &err);
    if (rc)
        fail_msg("layered load failed: %s (%s)", err.message, snapconf_err_name(rc));
    return snap;
}

static bool has(const snapconf_snap *s, const char *path)
{
    const snapconf_node *n;
    return snapconf_find(s, path, &n) == 0;
}

/* ------------------------------------------------------------------------- */

static void mappings_merge_deeply_later_wins(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "a:\n  x: 1\n  y: 2\n  deep: {p: 1, q: 2}\ns: [1, 2]\nk: v\n");
    put(f->dropins, "10-a.yaml", "a:\n  y: 3\n  z: 4\n  deep: {q: 20}\ns: [9]\n");
    snapconf_snap *s = load_layers(f);
    assert_int_equal(int_at(s, "a.x"), 1);
    assert_int_equal(int_at(s, "a.y"), 3);
    assert_int_equal(int_at(s, "a.z"), 4);
    assert_int_equal(int_at(s, "a.deep.p"), 1);
    assert_int_equal(int_at(s, "a.deep.q"), 20);
    assert_string_equal(str_at(s, "k"), "v");
    /* Sequences are replaced whole, not appended to. */
    const snapconf_node *seq = node_at_path(s, "s");
    assert_int_equal(snapconf_node_size(seq), 1);
    assert_int_equal(int_at(s, "s[0]"), 9);
    /* New keys come after the existing ones, in the drop-in's order. */
    const snapconf_node *a = node_at_path(s, "a");
    assert_string_equal(snapconf_node_key(snapconf_node_at(a, 0), NULL), "x");
    assert_string_equal(snapconf_node_key(snapconf_node_at(a, 3), NULL), "z");
    /* A value keeps the position it was written at, in its own layer. */
    assert_int_equal(snapconf_node_line(node_at_path(s, "a.y")), 2);
    assert_int_equal(snapconf_node_line(node_at_path(s, "a.x")), 2);
    snapconf_snap_free(s);
}

static void scalars_and_mappings_replace_each_other(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "m: {x: 1}\nv: 5\n");
    put(f->dropins, "10.yaml", "m: false\nv: {now: map}\n");
    snapconf_snap *s = load_layers(f);
    bool b = true;
    assert_int_equal(snapconf_get_bool(s, "m", &b), 0);
    assert_false(b);
    assert_false(has(s, "m.x"));
    assert_string_equal(str_at(s, "v.now"), "map");
    snapconf_snap_free(s);
}

static void null_in_a_later_layer_deletes(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "keep: ~\ngone: 1\nm: {x: 1, y: 2}\n");
    put(f->dropins, "10.yaml", "gone: null\nm: {x: ~}\nnever: ~\n");
    snapconf_snap *s = load_layers(f);
    /* A null in the main file is a value. */
    assert_int_equal(snapconf_node_type(node_at_path(s, "keep")), SNAPCONF_TYPE_NULL);
    assert_false(has(s, "gone"));
    assert_false(has(s, "m.x"));
    assert_int_equal(int_at(s, "m.y"), 2);
    assert_false(has(s, "never"));
    snapconf_snap_free(s);
}

static void dropins_in_lexical_order_dirs_in_given_order(void **state)
{
    struct fx *f = *state;
    char second[160];
    snprintf(second, sizeof second, "%s/second.d", f->dir);
    mkdir(second, 0755);
    f->dirs[1] = second;
    put(f->dir, "config.yaml", "p: 0\nq: 0\n");
    put(f->dropins, "20-b.yaml", "p: 2\n");
    put(f->dropins, "10-a.yaml", "p: 1\nq: 1\n");
    put(second, "00-first-but-later-dir.yaml", "q: 9\n");
    /* Not drop-ins: other suffixes, hidden files, directories. */
    put(f->dropins, "30-c.yml", "p: 30\n");
    put(f->dropins, "40-d.yaml.bak", "p: 40\n");
    put(f->dropins, ".50-e.yaml", "p: 50\n");
    char sub[200];
    snprintf(sub, sizeof sub, "%s/60-dir.yaml", f->dropins);
    mkdir(sub, 0755);
    snapconf_snap *s = load_layers(f);
    assert_int_equal(int_at(s, "p"), 2);
    assert_int_equal(int_at(s, "q"), 9);
    snapconf_snap_free(s);
}

static void missing_dropin_dir_is_empty(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "p: 1\n");
    rmdir(f->dropins);
    snapconf_snap *s = load_layers(f);
    assert_int_equal(int_at(s, "p"), 1);
    snapconf_snap_free(s);
}

static void broken_dropin_fails_naming_it(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "p: 1\n");
    put(f->dropins, "10-ok.yaml", "q: 1\n");
    put(f->dropins, "20-bad.yaml", "q: 2\nr: [1, 2\n");
    snapconf_snap *s = OUT_SENTINEL;
    snapconf_error err;
    int rc = snapconf_snap_load_layered(f->main, &f->opts, &s, &err);
    assert_int_equal(rc, SNAPCONF_EPARSE);
    assert_ptr_equal(s, OUT_SENTINEL);
    assert_non_null(strstr(err.file, "20-bad.yaml"));
    assert_non_null(strstr(err.message, "20-bad.yaml:"));
    assert_true(err.line >= 2);
    assert_true(err.column >= 1);
}

static void dropin_must_be_a_mapping(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "p: 1\n");
    put(f->dropins, "10.yaml", "- just\n- a list\n");
    snapconf_snap *s = NULL;
    snapconf_error err;
    assert_int_equal(snapconf_snap_load_layered(f->main, &f->opts, &s, &err), SNAPCONF_EPARSE);
    assert_non_null(strstr(err.message, "10.yaml:1:1: "));
    assert_non_null(strstr(err.message, "mapping"));
}

static void env_overrides_typed_and_matched(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml",
        "database: {port: 5432, host: db}\nserver: {maxConns: 10}\ngone: 1\nname: x\n");
    setenv("TAPP_DATABASE__PORT", "5433", 1);
    setenv("TAPP_FEATURE__ON", "true", 1);
    setenv("TAPP_NAME", "hello world", 1);
    setenv("TAPP_SERVER__MAXCONNS", "64", 1);
    setenv("TAPP_GONE", "", 1);
    setenv("TAPP_BIG", "123456789012345678901234567890", 1);
    setenv("TAPP___BAD", "1", 1);
    setenv("TAPP_A__", "1", 1);
    f->opts.env_prefix = "TAPP_";
    snapconf_snap *s = load_layers(f);
    assert_int_equal(int_at(s, "database.port"), 5433);
    assert_string_equal(str_at(s, "database.host"), "db");
    bool on = false;
    assert_int_equal(snapconf_get_bool(s, "feature.on", &on), 0);
    assert_true(on);
    assert_string_equal(str_at(s, "name"), "hello world");
    /* The existing key's spelling wins over lowercase. */
    assert_int_equal(int_at(s, "server.maxConns"), 64);
    assert_false(has(s, "server.maxconns"));
    /* An empty value is a null, which deletes. */
    assert_false(has(s, "gone"));
    /* Too large for an int: kept as text. */
    assert_string_equal(str_at(s, "big"), "123456789012345678901234567890");
    /* Names with an empty segment are skipped. */
    assert_false(has(s, "_bad"));
    assert_false(has(s, "a"));
    snapconf_snap_free(s);
}

/* ------------------------------------------------------------------------- */
/* Provenance                                                                 */

struct seen {
    snapconf_origin o[8];
    char names[8][256], paths[8][128];
    int n;
};

static int record(void *userdata, const snapconf_origin *o)
{
    struct seen *s = userdata;
    assert_true(s->n < 8);
    s->o[s->n] = *o;
    snprintf(s->names[s->n], sizeof s->names[0], "%s", o->name);
    snprintf(s->paths[s->n], sizeof s->paths[0], "%s", o->path);
    s->n++;
    return 0;
}

static void explain_dropin_over_main(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "server:\n  port: 8080\n");
    put(f->dropins, "10-port.yaml", "# comment\nserver:\n  port: 9090\n");
    snapconf_snap *s = load_layers(f);
    struct seen seen = {0};
    assert_int_equal(snapconf_explain(s, "server.port", record, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.o[0].kind, SNAPCONF_LAYER_FILE);
    assert_int_equal(seen.o[0].role, SNAPCONF_ORIGIN_OVERRIDDEN);
    assert_string_equal(seen.names[0], f->main);
    assert_int_equal(seen.o[0].line, 2);
    assert_int_equal(seen.o[0].column, 9);
    assert_int_equal(seen.o[1].kind, SNAPCONF_LAYER_DROPIN);
    assert_int_equal(seen.o[1].role, SNAPCONF_ORIGIN_VALUE);
    assert_non_null(strstr(seen.names[1], "10-port.yaml"));
    assert_int_equal(seen.o[1].line, 3);
    assert_string_equal(seen.paths[1], "server.port");
    /* The mapping above it is merged from both. */
    memset(&seen, 0, sizeof seen);
    assert_int_equal(snapconf_explain(s, "server", record, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.o[0].role, SNAPCONF_ORIGIN_MERGED);
    assert_int_equal(seen.o[1].role, SNAPCONF_ORIGIN_MERGED);
    assert_int_equal(snapconf_explain(s, "server.nope", record, &seen), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_explain(s, "server..x", record, &seen), SNAPCONF_EPATH);
    snapconf_snap_free(s);
}

static void explain_deletion_and_parent_replacement(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "a:\n  b: 1\nc: {d: 1}\n");
    put(f->dropins, "10.yaml", "a:\n  b: ~\nc: flat\n");
    snapconf_snap *s = load_layers(f);
    struct seen seen = {0};
    assert_int_equal(snapconf_explain(s, "a.b", record, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.o[0].role, SNAPCONF_ORIGIN_OVERRIDDEN);
    assert_int_equal(seen.o[1].role, SNAPCONF_ORIGIN_DELETED);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(snapconf_explain(s, "c.d", record, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.o[1].role, SNAPCONF_ORIGIN_DELETED);
    assert_string_equal(seen.paths[1], "c");
    assert_int_equal(seen.o[1].line, 3);
    snapconf_snap_free(s);
}

static void explain_env_names_the_variable(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml", "database: {port: 5432}\n");
    setenv("TAPP_DATABASE__PORT", "5433", 1);
    f->opts.env_prefix = "TAPP_";
    snapconf_snap *s = load_layers(f);
    struct seen seen = {0};
    assert_int_equal(snapconf_explain(s, "database.port", record, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.o[1].kind, SNAPCONF_LAYER_ENV);
    assert_int_equal(seen.o[1].role, SNAPCONF_ORIGIN_VALUE);
    assert_string_equal(seen.names[1], "TAPP_DATABASE__PORT");
    assert_int_equal(seen.o[1].line, 0);
    int64_t v = 0;
    assert_int_equal(snapconf_node_int(seen.o[1].node, &v), 0);
    assert_int_equal(v, 5433);
    snapconf_snap_free(s);
}

static void explain_single_file(void **state)
{
    (void)state;
    snapconf_snap *s = load("a:\n  b: 7\n");
    struct seen seen = {0};
    assert_int_equal(snapconf_explain(s, "a.b", record, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.o[0].kind, SNAPCONF_LAYER_FILE);
    assert_int_equal(seen.o[0].role, SNAPCONF_ORIGIN_VALUE);
    assert_string_equal(seen.names[0], T_NAME);
    assert_int_equal(seen.o[0].line, 2);
    assert_int_equal(seen.o[0].column, 6);
    assert_string_equal(snapconf_layer_kind_name(SNAPCONF_LAYER_DROPIN), "dropin");
    assert_string_equal(snapconf_origin_role_name(SNAPCONF_ORIGIN_DELETED), "deleted");
    snapconf_snap_free(s);
}

/* What the merge copies keeps its types, tags, quoting and aliases. */
static void merged_values_keep_their_details(void **state)
{
    struct fx *f = *state;
    put(f->dir, "config.yaml",
        "base: &b {x: 1, y: [1, 2.5, true, null]}\nuse: *b\nt: !color red\nq: \"007\"\n"
        "\"<<\": literal\n");
    put(f->dropins, "10.yaml", "extra: 1\n");
    snapconf_snap *s = load_layers(f);
    assert_int_equal(int_at(s, "use.x"), 1);
    double d = 0;
    assert_int_equal(snapconf_get_double(s, "use.y[1]", &d), 0);
    assert_true(d == 2.5);
    assert_string_equal(snapconf_node_tag(node_at_path(s, "t")), "!color");
    assert_true(snapconf_node_quoted(node_at_path(s, "q")));
    assert_string_equal(str_at(s, "q"), "007");
    assert_string_equal(str_at(s, "\"<<\""), "literal");
    assert_int_equal(snapconf_snap_node_count(s), 19);
    snapconf_snap_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mappings_merge_deeply_later_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(scalars_and_mappings_replace_each_other, setup, teardown),
        cmocka_unit_test_setup_teardown(null_in_a_later_layer_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(dropins_in_lexical_order_dirs_in_given_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(missing_dropin_dir_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(broken_dropin_fails_naming_it, setup, teardown),
        cmocka_unit_test_setup_teardown(dropin_must_be_a_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(env_overrides_typed_and_matched, setup, teardown),
        cmocka_unit_test_setup_teardown(explain_dropin_over_main, setup, teardown),
        cmocka_unit_test_setup_teardown(explain_deletion_and_parent_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(explain_env_names_the_variable, setup, teardown),
        cmocka_unit_test(explain_single_file),
        cmocka_unit_test_setup_teardown(merged_values_keep_their_details, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
