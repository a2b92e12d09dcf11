/*
 * The state file of runtime overrides (src/state.c): what is saved reads
 * back exactly, whatever the text; a file that is not a state file fails
 * with its position; a save that cannot complete leaves the old file.
 */
#include "unit.h"

#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

struct fx {
    char dir[64];
    char file[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/snapconf-state-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->file, sizeof f->file, "%s/overrides.yaml", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    DIR *d = opendir(f->dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
            remove(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void put_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Entries in dir other than . and .. */
static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void round_trip_of_tricky_values(void **state)
{
    struct fx *f = *state;
    char long_value[5000];
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    struct snapconf__override ov[] = {
        {false, "server.port", "9090"},
        {false, "quote", "say \"hi\" \\ back"},
        {false, "multi", "line one\nline two\twith tab\x01\x7f"},
        {false, "utf8", "caf\xc3\xa9 \xe2\x82\xac"},
        {false, "empty", ""},
        {false, "flow", "{x: 1, y: [a, b]}"},
        {false, "nullish", "null"},
        {true, "feature.beta", NULL},
        {false, "labels.\"app.kubernetes.io/name\"", "web"},
        {false, "long", long_value},
    };
    size_t n = sizeof ov / sizeof ov[0];
    snapconf_error err;
    assert_int_equal(snapconf__state_save(f->file, ov, n, &err), 0);
    struct snapconf__override *back = NULL;
    size_t m = 0;
    assert_int_equal(snapconf__state_load(f->file, NULL, &back, &m, &err), 0);
    assert_int_equal(m, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(back[i].unset, ov[i].unset);
        assert_string_equal(back[i].path, ov[i].path);
        if (ov[i].unset)
            assert_null(back[i].value);
        else
            assert_string_equal(back[i].value, ov[i].value);
    }
    snapconf__overrides_free(back, m);
    /* Only the state file is left: no temporary file. */
    assert_int_equal(entries(f->dir), 1);
    /* It is plain YAML any tool can read. */
    snapconf_snap *s = NULL;
    assert_int_equal(snapconf_snap_load_file(f->file, &s, &err), 0);
    assert_int_equal(snapconf_get_int_or(s, "version", 0), 1);
    snapconf_snap_free(s);
}

static void empty_list_and_missing_file(void **state)
{
    struct fx *f = *state;
    snapconf_error err;
    struct snapconf__override *back = (void *)&err;
    size_t m = 7;
    assert_int_equal(snapconf__state_load(f->file, NULL, &back, &m, &err), 0);
    assert_int_equal(m, 0);
    assert_null(back);
    assert_int_equal(snapconf__state_save(f->file, NULL, 0, &err), 0);
    assert_int_equal(snapconf__state_load(f->file, NULL, &back, &m, &err), 0);
    assert_int_equal(m, 0);
    snapconf__overrides_free(back, m);
}

struct bad_case {
    const char *text;
    int line, column;
    const char *says;
};

static void malformed_state_files(void **state)
{
    struct fx *f = *state;
    static const struct bad_case cases[] = {
        {"- a list\n", 1, 1, "must be a mapping"},
        {"version: 2\noverrides: []\n", 1, 10, "newer snapconf"},
        {"overrides: []\n", 1, 1, "version: 1 is missing"},
        {"version: 1\noverrides: {}\n", 2, 12, "must be a sequence"},
        {"version: 1\nextra: 1\noverrides: []\n", 2, 8, "unknown key"},
        {"version: 1\noverrides:\n  - {path: a, value: \"1\"}\n", 3, 5, "op must be"},
        {"version: 1\noverrides:\n  - {op: frob, path: a}\n", 3, 10, "op must be"},
        {"version: 1\noverrides:\n  - {op: set, path: \"a..b\", value: \"1\"}\n", 3, 21,
         "not a valid snapconf path"},
        {"version: 1\noverrides:\n  - {op: set, path: a}\n", 3, 5, "needs a string value"},
        {"version: 1\noverrides:\n  - {op: unset, path: a, value: \"1\"}\n", 3, 33, "has no value"},
        {"version: 1\noverrides:\n  - {op: set, path: a, value: 1}\n", 3, 31,
         "needs a string value"},
        {"version: 1\noverrides:\n  - {op: set, path: a, value: \"1\", when: now}\n", 3, 42,
         "unknown key"},
        {"version: 1\noverrides:\n  - just text\n", 3, 5, "must be a mapping"},
        {"version: 1\noverrides: [\n", 3, 1, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_file(f->file, cases[i].text);
        struct snapconf__override *back = NULL;
        size_t m = 0;
        snapconf_error err;
        memset(&err, 0, sizeof err);
        int rc = snapconf__state_load(f->file, NULL, &back, &m, &err);
        if (rc != SNAPCONF_EPARSE || err.line != cases[i].line || err.column != cases[i].column ||
            !strstr(err.message, cases[i].says) ||
            strncmp(err.message, f->file, strlen(f->file)) != 0)
            fail_msg("case %zu: rc %d, %d:%d, message: %s", i, rc, err.line, err.column,
                     err.message);
        assert_null(back);
    }
}

static void failed_save_keeps_the_old_file(void **state)
{
    struct fx *f = *state;
    struct snapconf__override a[] = {{false, "k", "old"}};
    snapconf_error err;
    assert_int_equal(snapconf__state_save(f->file, a, 1, &err), 0);
    /* A directory where the file should go: rename fails even for root. */
    char blocked[160];
    snprintf(blocked, sizeof blocked, "%s/blocked", f->dir);
    assert_int_equal(mkdir(blocked, 0755), 0);
    char inside[200];
    snprintf(inside, sizeof inside, "%s/x", blocked);
    put_file(inside, "x");
    assert_int_equal(snapconf__state_save(blocked, a, 1, &err), SNAPCONF_EIO);
    assert_non_null(strstr(err.message, "blocked"));
    assert_true(err.sys_errno != 0);
    remove(inside);
    rmdir(blocked);
    /* A directory that does not exist: the temporary file cannot be made. */
    char nowhere[200];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/state.yaml", f->dir);
    assert_int_equal(snapconf__state_save(nowhere, a, 1, &err), SNAPCONF_EIO);
    assert_int_equal(err.sys_errno, ENOENT);
    /* The first file is intact and nothing else was left behind. */
    struct snapconf__override *back = NULL;
    size_t m = 0;
    assert_int_equal(snapconf__state_load(f->file, NULL, &back, &m, &err), 0);
    assert_int_equal(m, 1);
    assert_string_equal(back[0].value, "old");
    snapconf__overrides_free(back, m);
    assert_int_equal(entries(f->dir), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip_of_tricky_values, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_list_and_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_state_files, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_save_keeps_the_old_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
