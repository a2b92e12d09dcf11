/*
 * The state file of runtime overrides (src/state.c): what it writes reads
 * back exactly, whatever the strings hold; the file is plain YAML; every
 * malformed state file fails at the right position with advice; a missing
 * file is an empty list; stale temporary files are ignored and cleaned up;
 * a save that cannot write fails with SNAPCONF_EIO naming the file.
 */
#include "unit.h"

#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>

struct fx {
    char dir[64];
    char file[128];
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
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/snapconf-state-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->file, sizeof f->file, "%s/state.yaml", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Helpers                                                                    */

static void put_file(const char *path, const char *content)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(content, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    strbuf sb = {0};
    char chunk[4096];
    size_t n;
    sb_add(&sb, "%s", "");
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        sb_add(&sb, "%.*s", (int)n, chunk);
    fclose(fp);
    if (len)
        *len = sb.len;
    return sb.data;
}

static void save_ok(const char *file, const struct snapconf__override *ov, size_t n)
{
    snapconf_error err;
    memset(&err, 0, sizeof err);
    int rc = snapconf__state_save(file, ov, n, &err);
    if (rc != 0)
        fail_msg("save failed with %s: %s", snapconf_err_name(rc), err.message);
}

static struct snapconf__override *load_ok(const char *file, size_t *n)
{
    struct snapconf__override *ov = NULL;
    snapconf_error err;
    memset(&err, 0, sizeof err);
    int rc = snapconf__state_load(file, NULL, &ov, n, &err);
    if (rc != 0)
        fail_msg("load failed with %s: %s", snapconf_err_name(rc), err.message);
    return ov;
}

/* Fails unless got[0..n) is want[0..n), path by path (want's paths are
 * canonical) and value by value. */
static void expect_same(const struct snapconf__override *want, size_t nwant,
                        const struct snapconf__override *got, size_t ngot)
{
    assert_int_equal(ngot, nwant);
    for (size_t i = 0; i < nwant; i++) {
        if (got[i].unset != want[i].unset || strcmp(got[i].path, want[i].path) != 0)
            fail_msg("entry %zu: got %s '%s', wanted %s '%s'", i, got[i].unset ? "unset" : "set",
                     got[i].path, want[i].unset ? "unset" : "set", want[i].path);
        if (want[i].unset) {
            assert_null(got[i].value);
            continue;
        }
        assert_non_null(got[i].value);
        if (strcmp(got[i].value, want[i].value) != 0)
            fail_msg("entry %zu (%s): value of %zu bytes came back as %zu bytes", i, want[i].path,
                     strlen(want[i].value), strlen(got[i].value));
    }
}

/* Saves ov, loads it back and checks it is the same list. */
static void round_trip(const char *file, const struct snapconf__override *ov, size_t n)
{
    save_ok(file, ov, n);
    size_t got_n = 99;
    struct snapconf__override *got = load_ok(file, &got_n);
    expect_same(ov, n, got, got_n);
    snapconf__overrides_free(got, got_n);
}

/* Names in dir other than "." and "..", and the first one that starts with
 * prefix (NULL: any) into found. */
static int count_entries(const char *dir, const char *prefix, char *found, size_t size)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (prefix && strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (found && n == 0)
            snprintf(found, size, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------------------------- */
/* Round trips                                                                */

/* Strings a hand-made writer gets wrong: YAML syntax, quotes, escapes,
 * every control character, the code points libyaml takes for line breaks,
 * byte order marks and non-characters. */
static const char *const tricky[] = {
    "9090",
    "",
    "\"quoted\"",
    "'single'",
    "back\\slash",
    "\\",
    "trailing\\",
    "\\\"",
    "\\n is not a newline",
    "line1\nline2\n",
    "\n",
    "tab\there",
    "\r\n",
    "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
    "\x1a\x1b\x1c\x1d\x1e\x1f\x7f",
    "[a, b]",
    "{x: 1}",
    "{host: \"db\", port: 5432}",
    "null",
    "~",
    "true",
    "- item",
    "# not a comment",
    "key: value",
    "&anchor",
    "*alias",
    "!tag x",
    "%YAML 1.2",
    "---",
    "...",
    "  leading and trailing  ",
    "   ",
    "a  b   c",
    "héllo wörld ✓ 日本語 🎉",
    "\xc2\x80\xc2\x85\xc2\x9f\xc2\xa0", /* U+0080, NEL, U+009F, NBSP */
    "nel\xc2\x85here",                  /* libyaml folds a raw NEL into a space */
    "a\xe2\x80\xa8"
    "b\xe2\x80\xa9"
    "c", /* LINE and PARAGRAPH SEPARATOR */
    "\xef\xbb\xbf"
    "bom",                                  /* U+FEFF first */
    "x\xef\xbb\xbfy",                       /* and inside */
    "\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd", /* U+FFFE, U+FFFF, U+FFFD */
    "\xf4\x8f\xbf\xbf\xf0\x90\x80\x80",     /* U+10FFFF, U+10000 */
    "\xed\x9f\xbf\xee\x80\x80",             /* U+D7FF, U+E000 */
    "|\n  block",
    ">- folded",
    "<<: *x",
    "@reserved `too`",
    "\"\"\"",
};

static void test_round_trip_tricky_values(void **state)
{
    struct fx *f = *state;
    size_t n = sizeof tricky / sizeof tricky[0];
    struct snapconf__override ov[sizeof tricky / sizeof tricky[0]];
    char paths[sizeof tricky / sizeof tricky[0]][32];
    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "values.v%zu", i);
        ov[i] = (struct snapconf__override){false, paths[i], (char *)tricky[i]};
    }
    round_trip(f->file, ov, n);
}

/* A megabyte-long value, and a line of many entries. */
static void test_round_trip_long(void **state)
{
    struct fx *f = *state;
    size_t len = 1u << 20;
    char *big = malloc(len + 1);
    assert_non_null(big);
    for (size_t i = 0; i < len; i++)
        big[i] = "ab\"\\\n\t c\x01"[i % 10];
    big[len] = '\0';
    struct snapconf__override many[300];
    char paths[300][24];
    for (size_t i = 0; i < 300; i++) {
        snprintf(paths[i], sizeof paths[i], "k%zu", i);
        many[i] = (struct snapconf__override){i % 3 == 0, paths[i], i % 3 ? "v" : NULL};
    }
    many[7].value = big;
    round_trip(f->file, many, 300);
    free(big);
}

/* Keys that need quoting in a path, and an unset; paths are stored in
 * canonical form, so a path written otherwise comes back canonical. */
static void test_round_trip_paths_and_unsets(void **state)
{
    struct fx *f = *state;
    const struct snapconf__override ov[] = {
        {false, "server.port", "9090"},
        {true, "feature.beta", NULL},
        {false, "labels.\"app.kubernetes.io/name\"", "web"},
        {false, "upstreams[0].host", "db1"},
        {false, "a.\"quote\\\"d\".back\\slash", "x"},
        {true, "clé.ключ.鍵", NULL},
        {false, "matrix[1][2]", "3"},
        {false, "", "{}"},
        {false, "server.port", "9091"},
    };
    round_trip(f->file, ov, sizeof ov / sizeof ov[0]);

    const struct snapconf__override written[] = {{false, "\"server\".\"port\"", "1"},
                                                 {true, "\"a\"[0]", NULL}};
    const struct snapconf__override canonical[] = {{false, "server.port", "1"},
                                                   {true, "a[0]", NULL}};
    save_ok(f->file, written, 2);
    size_t n = 0;
    struct snapconf__override *got = load_ok(f->file, &n);
    expect_same(canonical, 2, got, n);
    snapconf__overrides_free(got, n);
}

/* A random well-formed UTF-8 string of up to 40 code points, none NUL. */
static void random_utf8(char *out, unsigned *seed)
{
    static const uint32_t ranges[][2] = {{1, 0x7f},        {0x80, 0x7ff},       {0x800, 0xd7ff},
                                         {0xe000, 0xffff}, {0x10000, 0x10ffff}, {0x2020, 0x2030},
                                         {0x80, 0xa0},     {0xfef0, 0xffff}};
    size_t n = (size_t)rand_r(seed) % 41, o = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t *r = ranges[(size_t)rand_r(seed) % 8];
        uint32_t c = r[0] + (uint32_t)rand_r(seed) % (r[1] - r[0] + 1);
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xc0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xe0 | c >> 12);
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | c >> 18);
            out[o++] = (char)(0x80 | (c >> 12 & 0x3f));
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[o] = '\0';
}

/* Random strings over every range of code points, quoted keys included. */
static void test_round_trip_random(void **state)
{
    struct fx *f = *state;
    unsigned seed = 20261126;
    enum { N = 400 };
    static char values[N][170], keys[N][170], paths[N][400];
    struct snapconf__override ov[N];
    for (size_t i = 0; i < N; i++) {
        random_utf8(values[i], &seed);
        random_utf8(keys[i], &seed);
        /* The key as a quoted path segment: \" and \\ escaped. */
        size_t o = 0;
        o += (size_t)snprintf(paths[i], sizeof paths[i], "r%zu.\"", i);
        for (const char *k = keys[i]; *k; k++) {
            if (*k == '"' || *k == '\\')
                paths[i][o++] = '\\';
            paths[i][o++] = *k;
        }
        snprintf(paths[i] + o, sizeof paths[i] - o, "\"");
        ov[i] = (struct snapconf__override){false, paths[i], values[i]};
    }
    save_ok(f->file, ov, N);
    size_t n = 0;
    struct snapconf__override *got = load_ok(f->file, &n);
    assert_int_equal(n, N);
    for (size_t i = 0; i < N; i++) {
        assert_string_equal(got[i].value, values[i]);
        /* Canonical form may drop the quotes; compiled, both are the same. */
        snapconf_path *a = NULL, *b = NULL;
        assert_int_equal(snapconf_path_compile(paths[i], &a, NULL), 0);
        assert_int_equal(snapconf_path_compile(got[i].path, &b, NULL), 0);
        assert_string_equal(snapconf_path_str(a), snapconf_path_str(b));
        snapconf_path_free(a);
        snapconf_path_free(b);
    }
    snapconf__overrides_free(got, n);
}

/* The file is ordinary YAML with the documented shape: any YAML reader
 * (here the library's own) sees the header comment, version 1 and the
 * overrides as mappings of strings. */
static void test_file_is_plain_yaml(void **state)
{
    struct fx *f = *state;
    const struct snapconf__override ov[] = {{false, "server.port", "9090"},
                                            {true, "feature.beta", NULL},
                                            {false, "x", "line\n\"two\"\x01\xe2\x80\xa8"}};
    save_ok(f->file, ov, 3);
    size_t len = 0;
    char *text = slurp(f->file, &len);
    assert_true(text[0] == '#');
    assert_non_null(strstr(text, "snapconf set"));
    assert_non_null(strstr(text, "snapconf unset"));
    assert_non_null(strstr(text, "snapconf revert"));
    assert_non_null(strstr(text, "\nversion: 1\n"));
    assert_non_null(strstr(text, "  - {op: set, path: \"server.port\", value: \"9090\"}\n"));
    assert_non_null(strstr(text, "  - {op: unset, path: \"feature.beta\"}\n"));
    assert_non_null(strstr(text, "value: \"line\\n\\\"two\\\"\\x01\\u2028\"}\n"));

    snapconf_snap *snap = NULL;
    snapconf_error err;
    int rc = snapconf_snap_load_buffer(text, len, "state.yaml", &snap, &err);
    if (rc)
        fail_msg("not YAML: %s", err.message);
    assert_int_equal(int_at(snap, "version"), 1);
    assert_int_equal(snapconf_node_size(node_at_path(snap, "overrides")), 3);
    assert_string_equal(str_at(snap, "overrides[0].op"), "set");
    assert_string_equal(str_at(snap, "overrides[0].value"), "9090");
    assert_string_equal(str_at(snap, "overrides[1].op"), "unset");
    assert_int_equal(snapconf_find(snap, "overrides[1].value", &(const snapconf_node *){NULL}),
                     SNAPCONF_ENOTFOUND);
    assert_string_equal(str_at(snap, "overrides[2].value"), "line\n\"two\"\x01\xe2\x80\xa8");
    snapconf_snap_free(snap);
    free(text);
}

/* No overrides: "overrides: []", read back as nothing at all. */
static void test_empty_list(void **state)
{
    struct fx *f = *state;
    save_ok(f->file, NULL, 0);
    char *text = slurp(f->file, NULL);
    assert_non_null(strstr(text, "\nversion: 1\noverrides: []\n"));
    free(text);
    struct snapconf__override *ov = (struct snapconf__override *)(void *)&out_sentinel_;
    size_t n = 99;
    snapconf_error err;
    assert_int_equal(snapconf__state_load(f->file, NULL, &ov, &n, &err), 0);
    assert_null(ov);
    assert_int_equal(n, 0);
}

/* ------------------------------------------------------------------------- */
/* Missing files and stale temporary files                                    */

static void expect_missing_is_empty(const char *file)
{
    struct snapconf__override *ov = (struct snapconf__override *)(void *)&out_sentinel_;
    size_t n = 99;
    snapconf_error err;
    int rc = snapconf__state_load(file, NULL, &ov, &n, &err);
    if (rc)
        fail_msg("%s: %s", file, err.message);
    assert_null(ov);
    assert_int_equal(n, 0);
}

static void test_missing_file_is_empty(void **state)
{
    struct fx *f = *state;
    char path[PATH_MAX];
    expect_missing_is_empty(f->file);
    snprintf(path, sizeof path, "%s/no/such/dir/state.yaml", f->dir);
    expect_missing_is_empty(path);
}

/* A writer killed mid-save leaves .state.yaml.XXXXXX: the reader never
 * looks at it, and the next save removes it - and nothing else. */
static void test_stale_temp_files(void **state)
{
    struct fx *f = *state;
    const struct snapconf__override a[] = {{false, "a", "1"}};
    const struct snapconf__override b[] = {{false, "b", "2"}};
    static const char *const stale[] = {".state.yaml.Ab3xYz", ".state.yaml.000000"};
    static const char *const others[] = {
        ".state.yaml.Ab3xY",   /* five characters */
        ".state.yaml.Ab3xYz1", /* seven */
        ".state.yaml.Ab3-Yz",  /* not mkstemp's alphabet */
        ".other.yaml.Ab3xYz",  /* another state file's */
        "state.yaml.Ab3xYz",   /* no dot in front */
        ".state.yamlXAb3xYz",  /* no dot before the suffix */
    };
    char path[PATH_MAX];
    save_ok(f->file, a, 1);
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, stale[i]);
        put_file(path, "version: 1\noverrides: [{op: set, path: \"a\", value: \"tor");
    }
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, others[i]);
        put_file(path, "keep me");
    }
    size_t n = 0;
    struct snapconf__override *got = load_ok(f->file, &n);
    expect_same(a, 1, got, n);
    snapconf__overrides_free(got, n);

    save_ok(f->file, b, 1);
    assert_int_equal(count_entries(f->dir, ".state.yaml.", NULL, 0), 3);
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, stale[i]);
        assert_int_equal(access(path, F_OK), -1);
    }
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, others[i]);
        assert_int_equal(access(path, F_OK), 0);
    }
    got = load_ok(f->file, &n);
    expect_same(b, 1, got, n);
    snapconf__overrides_free(got, n);
}

/* A bare file name lives in the working directory. */
static void test_relative_name(void **state)
{
    struct fx *f = *state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    const struct snapconf__override a[] = {{false, "a", "1"}};
    put_file(".rel.yaml.qwerty", "stale");
    save_ok("rel.yaml", a, 1);
    size_t n = 0;
    struct snapconf__override *got = load_ok("rel.yaml", &n);
    int stale_left = access(".rel.yaml.qwerty", F_OK);
    assert_int_equal(chdir(cwd), 0);
    expect_same(a, 1, got, n);
    snapconf__overrides_free(got, n);
    assert_int_equal(stale_left, -1);
}

/* A new file is 0600 (it may say more than the configuration does); a
 * replaced one keeps the mode an operator gave it. */
static void test_mode(void **state)
{
    struct fx *f = *state;
    const struct snapconf__override a[] = {{false, "a", "1"}};
    struct stat st1, st2;
    /* Whatever the umask, restored before anything asserts. */
    mode_t old = umask(0277);
    save_ok(f->file, a, 1);
    int rc1 = stat(f->file, &st1);
    int rc2 = chmod(f->file, 0640);
    if (rc2 == 0) {
        save_ok(f->file, a, 1);
        rc2 = stat(f->file, &st2);
    }
    umask(old);
    assert_int_equal(rc1, 0);
    assert_int_equal(st1.st_mode & 07777, 0600);
    assert_int_equal(rc2, 0);
    assert_int_equal(st2.st_mode & 07777, 0640);
}

/* ------------------------------------------------------------------------- */
/* Saves that cannot be made                                                  */

/* Fails unless the save failed with SNAPCONF_EIO, err naming file and the
 * step, with sys_errno, and left no file beginning with ".state.yaml." in
 * dir. */
static void expect_save_eio(const char *file, const char *dir, int sys, const char *step)
{
    const struct snapconf__override a[] = {{false, "a", "1"}};
    snapconf_error err;
    memset(&err, 0x5a, sizeof err);
    int rc = snapconf__state_save(file, a, 1, &err);
    if (rc != SNAPCONF_EIO)
        fail_msg("%s: got %s: %s", file, snapconf_err_name(rc), err.message);
    assert_int_equal(err.code, SNAPCONF_EIO);
    assert_string_equal(err.file, file);
    assert_int_equal(err.line, 0);
    assert_message_starts(&err, file);
    assert_message_has(&err, step);
    assert_message_has(&err, strerror(sys));
    if (err.sys_errno != sys)
        fail_msg("sys_errno %d (%s), wanted %s: %s", err.sys_errno, strerror(err.sys_errno),
                 strerror(sys), err.message);
    if (dir)
        assert_int_equal(count_entries(dir, ".state.yaml.", NULL, 0), 0);
}

/* As root in CI, permissions stop nothing: make the path itself
 * impossible. */
static void test_save_unwritable(void **state)
{
    struct fx *f = *state;
    char path[PATH_MAX], plain[PATH_MAX];
    snprintf(path, sizeof path, "%s/missing/state.yaml", f->dir);
    expect_save_eio(path, NULL, ENOENT, "cannot open the directory");
    snprintf(plain, sizeof plain, "%s/plain", f->dir);
    put_file(plain, "a file, not a directory");
    snprintf(path, sizeof path, "%s/plain/state.yaml", f->dir);
    expect_save_eio(path, NULL, ENOTDIR, "cannot open the directory");
    /* The state file's name taken by a directory: the rename fails, and the
     * temporary file goes. */
    assert_int_equal(mkdir(f->file, 0700), 0);
    expect_save_eio(f->file, f->dir, EISDIR, "cannot rename");
    assert_int_equal(rmdir(f->file), 0);
}

/* A string that is not UTF-8 cannot be written as YAML: refused, nothing
 * written, the old state kept. */
static void test_save_not_utf8(void **state)
{
    struct fx *f = *state;
    const struct snapconf__override a[] = {{false, "a", "1"}};
    save_ok(f->file, a, 1);
    static const char *const bad[] = {
        "\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct snapconf__override b[] = {{false, "a", "1"}, {false, "b", (char *)bad[i]}};
        const struct snapconf__override c[] = {{true, (char *)bad[i], NULL}};
        snapconf_error err;
        assert_int_equal(snapconf__state_save(f->file, b, 2, &err), SNAPCONF_EINVAL);
        assert_message_starts(&err, f->file);
        assert_message_has(&err, "override 2");
        assert_message_has(&err, "not UTF-8");
        assert_int_equal(snapconf__state_save(f->file, c, 1, &err), SNAPCONF_EINVAL);
    }
    assert_int_equal(count_entries(f->dir, ".state.yaml.", NULL, 0), 0);
    size_t n = 0;
    struct snapconf__override *got = load_ok(f->file, &n);
    expect_same(a, 1, got, n);
    snapconf__overrides_free(got, n);
}

/* ------------------------------------------------------------------------- */
/* Malformed state files                                                      */

#define HEAD "# state\nversion: 1\noverrides:\n"

struct bad_case {
    const char *text;
    int line, column;
    const char *says;
};

static const struct bad_case bad_cases[] = {
    /* The top. */
    {"version: 2\noverrides: []\n", 1, 10, "version 2: written by a newer snapconf"},
    {"version: 99\noverrides: []\n", 1, 10, "upgrade snapconf"},
    {"version: 0\noverrides: []\n", 1, 10, "unknown version 0"},
    {"version: -1\noverrides: []\n", 1, 10, "unknown version -1"},
    {"version: \"1\"\noverrides: []\n", 1, 10, "version must be a number"},
    {"version: 1.0\noverrides: []\n", 1, 10, "version must be a number"},
    {"# c\noverrides: []\n", 2, 1, "no version"},
    {"version: 1\n", 1, 1, "no overrides"},
    {"version: 1\noverrides:\n", 2, 11, "overrides must be a list"},
    {"version: 1\noverrides: {}\n", 2, 12, "overrides must be a list"},
    {"version: 1\noverrides: \"[]\"\n", 2, 12, "overrides must be a list"},
    {"version: 1\noverrides: []\nextra: 1\n", 3, 8, "unknown key 'extra' at the top"},
    {"- version: 1\n", 1, 1, "a state file is a mapping"},
    {"just text\n", 1, 1, "a state file is a mapping"},
    {"{}\n", 1, 1, "no version"},
    /* The entries. */
    {HEAD "  - \"set a 1\"\n", 4, 5, "an override must be a mapping"},
    {HEAD "  - [set, a, \"1\"]\n", 4, 5, "an override must be a mapping"},
    {HEAD "  - {path: \"a\", value: \"1\"}\n", 4, 5, "this override has no op"},
    {HEAD "  - {op: sett, path: \"a\", value: \"1\"}\n", 4, 10, "not 'sett'"},
    {HEAD "  - {op: SET, path: \"a\", value: \"1\"}\n", 4, 10, "op must be set or unset"},
    {HEAD "  - {op: [set], path: \"a\", value: \"1\"}\n", 4, 10, "not a value of type seq"},
    {HEAD "  - {op: 1, path: \"a\", value: \"1\"}\n", 4, 10, "not a value of type int"},
    {HEAD "  - {op: null, path: \"a\", value: \"1\"}\n", 4, 10, "not a value of type null"},
    {HEAD "  - {op: set, value: \"1\"}\n", 4, 5, "this override has no path"},
    {HEAD "  - {op: set, path: 5, value: \"1\"}\n", 4, 21, "path must be a string"},
    {HEAD "  - {op: set, path: {a: b}, value: \"1\"}\n", 4, 21, "not a value of type map"},
    {HEAD "  - {op: set, path: \"a..b\", value: \"1\"}\n", 4, 21, "invalid path 'a..b'"},
    {HEAD "  - {op: set, path: \"a[1\", value: \"1\"}\n", 4, 21, "invalid path"},
    {HEAD "  - {op: set, path: \"a\\0b\", value: \"1\"}\n", 4, 21, "path holds a NUL byte"},
    {HEAD "  - {op: set, path: \"a\"}\n", 4, 5, "this set has no value"},
    {HEAD "  - {op: set, path: \"a\", value: 9090}\n", 4, 33, "value must be a string"},
    {HEAD "  - {op: set, path: \"a\", value: null}\n", 4, 33, "not a value of type null"},
    {HEAD "  - {op: set, path: \"a\", value: [1]}\n", 4, 33, "not a value of type seq"},
    {HEAD "  - {op: set, path: \"a\", value: \"x\\0\"}\n", 4, 33, "value holds a NUL byte"},
    {HEAD "  - {op: unset, path: \"a\", value: \"1\"}\n", 4, 35, "an unset has no value"},
    {HEAD "  - {op: unset, path: \"a\", value: null}\n", 4, 35, "an unset has no value"},
    {HEAD "  - {op: set, path: \"a\", value: \"1\", when: now}\n", 4, 44,
     "unknown key 'when' in an override"},
    {HEAD "  - {op: set, path: \"a\", value: \"1\"}\n  - {op: unset, path: \"b\", x: 1}\n", 5, 31,
     "unknown key 'x'"},
    /* Block style is YAML too, and positions follow it. */
    {HEAD "  - op: set\n    path: a.b\n    value: 1\n", 6, 12, "value must be a string"},
    {HEAD "  - op: unset\n    path: a..b\n", 5, 11, "invalid path"},
};

static void expect_bad(const char *file, const struct bad_case *c, size_t i)
{
    struct snapconf__override *ov = (struct snapconf__override *)(void *)&out_sentinel_;
    size_t n = 99;
    snapconf_error err;
    memset(&err, 0x5a, sizeof err);
    put_file(file, c->text);
    int rc = snapconf__state_load(file, NULL, &ov, &n, &err);
    if (rc != SNAPCONF_EPARSE) {
        if (rc == 0)
            snapconf__overrides_free(ov, n);
        fail_msg("case %zu: got %s: %.*s", i, snapconf_err_name(rc), (int)sizeof err.message,
                 err.message);
    }
    assert_ptr_equal(ov, &out_sentinel_);
    assert_int_equal(n, 99);
    check_error_common(rc, SNAPCONF_EPARSE, OUT_SENTINEL, &err);
    assert_string_equal(err.file, file);
    if (err.line != c->line || err.column != c->column)
        fail_msg("case %zu: at %d:%d, wanted %d:%d: %s", i, err.line, err.column, c->line,
                 c->column, err.message);
    if (!strstr(err.message, c->says))
        fail_msg("case %zu: the message lacks \"%s\": %s", i, c->says, err.message);
    assert_message_has(&err, "delete it to drop the saved overrides");
}

static void test_malformed(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
        expect_bad(f->file, &bad_cases[i], i);
}

/* Not YAML at all: the loader's error, with the same advice. */
static void test_not_yaml(void **state)
{
    struct fx *f = *state;
    static const struct bad_case cases[] = {
        {"", 1, 1, "no YAML document"},
        {"# only a comment\n", 1, 1, "no YAML document"},
        {"version: 1\noverrides: [\n", 0, 0, ""},
        {"version: 1\nversion: 1\noverrides: []\n", 2, 1, "duplicate key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct snapconf__override *ov = (struct snapconf__override *)(void *)&out_sentinel_;
        size_t n = 99;
        snapconf_error err;
        put_file(f->file, cases[i].text);
        int rc = snapconf__state_load(f->file, NULL, &ov, &n, &err);
        check_error_common(rc, SNAPCONF_EPARSE, OUT_SENTINEL, &err);
        assert_ptr_equal(ov, &out_sentinel_);
        assert_string_equal(err.file, f->file);
        assert_message_starts(&err, f->file);
        assert_true(err.line > 0);
        if (cases[i].line)
            assert_int_equal(err.line, cases[i].line);
        assert_message_has(&err, cases[i].says);
        assert_message_has(&err, "delete it to drop the saved overrides");
    }
}

/* The options' limits apply to the state file too. */
static void test_limits(void **state)
{
    struct fx *f = *state;
    const struct snapconf__override a[] = {{false, "a", "1"}, {false, "b", "2"}};
    save_ok(f->file, a, 2);
    snapconf_options o;
    snapconf_options_init(&o);
    o.max_file_size = 64;
    struct snapconf__override *ov = (struct snapconf__override *)(void *)&out_sentinel_;
    size_t n = 99;
    snapconf_error err;
    assert_int_equal(snapconf__state_load(f->file, &o, &ov, &n, &err), SNAPCONF_ELIMIT);
    assert_ptr_equal(ov, &out_sentinel_);
    assert_message_starts(&err, f->file);
    snapconf_options_init(&o);
    ov = NULL;
    assert_int_equal(snapconf__state_load(f->file, &o, &ov, &n, &err), 0);
    assert_int_equal(n, 2);
    snapconf__overrides_free(ov, n);
    /* NULL is accepted, as for every destructor. */
    snapconf__overrides_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_tricky_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_paths_and_unsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_is_plain_yaml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temp_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_unwritable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_not_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_yaml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
    };
    return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
