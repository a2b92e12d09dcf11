/*
 * The bad-input catalogue through the library: every case in
 * tests/bad-input/cases, loaded directly and swapped in under a live handle,
 * and every bad path in tests/bad-input/paths (README.md describes both).
 *
 *   test_bad_input_live BAD_INPUT_DIR
 *
 * For each case there are two tests:
 *
 *  - load/NAME: snapconf_snap_load_file() (and, for byte inputs,
 *    snapconf_snap_load_buffer() under the same name) fails with exactly the
 *    expected code, errno, line, column and message, and writes no snapshot;
 *    an accepted case loads and holds the expected value.
 *  - live/NAME: a handle with a watcher thread serves a good file; the bad
 *    input replaces it (renamed over it, or a directory, a symlink loop, a
 *    FIFO, a mode-000 file, nothing); the watcher's reload and a
 *    synchronous snapconf_reload() both report exactly the expected error,
 *    while the generation, the content and the value readers see stay those
 *    of the last good file; a good file put back is then published.
 *
 * For each bad path, path/NAME checks snapconf_path_compile()'s error and
 * that lookups with it in a snapshot say EPATH (the getters' _or forms: the
 * default).
 *
 * billion_laughs_resources loads the alias bomb in a child process and
 * asserts that it is refused with its peak RSS growing by less than 10 MiB;
 * it prints the time the refusal took (a time is a benchmark's business,
 * not a test's, so it is not asserted).
 */
#include "live.h"

#include <dirent.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define GOOD_PORT 8080
#define ROOT_READS_PORT 9090
#define MAX_CASES 256

struct bad_case {
    char name[128];
    char dir[PATH_MAX];
    bool is_path; /* a paths/ case, else a cases/ one */
    /* cases/: how the input is made */
    enum { INPUT_FILE, INPUT_GENERATE, INPUT_SPECIAL } input;
    char special[32];
    /* expected */
    int code;                  /* 0 for an accepted input */
    char errno_name[32];       /* "" when sys_errno must be 0 */
    int line, column;          /* of the error */
    char message[1024];        /* with @FILE@ for the file's path */
    char get[256], value[256]; /* accepted inputs: a path, its value */
    bool has_value;            /* else get must find nothing */
    char path[256];            /* paths/: the bad path */
};

static struct bad_case all_cases[MAX_CASES];
static size_t n_cases;
static char src_dir[PATH_MAX];

/* ------------------------------------------------------------------------- */
/* Reading the catalogue                                                      */

static int code_by_name(const char *name)
{
    for (int c = 0; c >= -64; c--)
        if (strcmp(snapconf_err_name(c), name) == 0)
            return c;
    fail_msg("unknown code name '%s'", name);
    return 1;
}

static void copy_field(char *dst, size_t size, const char *value)
{
    if (strlen(value) >= size)
        fail_msg("value too long: %s", value);
    memcpy(dst, value, strlen(value) + 1);
}

/* Fills c from the "key: value" lines of file ('#' lines are comments). */
static void parse_expected(struct bad_case *c, const char *file)
{
    FILE *fp = fopen(file, "r");
    if (!fp)
        fail_msg("%s: %s", file, strerror(errno));
    char line[2048];
    bool have_code = false;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        char *sep = strstr(line, ": ");
        if (line[0] == '#' || !sep)
            continue;
        *sep = '\0';
        const char *key = line, *value = sep + 2;
        if (strcmp(key, "code") == 0) {
            c->code = code_by_name(value);
            have_code = true;
        } else if (strcmp(key, "errno") == 0) {
            copy_field(c->errno_name, sizeof c->errno_name, value);
        } else if (strcmp(key, "line") == 0) {
            c->line = atoi(value);
        } else if (strcmp(key, "column") == 0) {
            c->column = atoi(value);
        } else if (strcmp(key, "message") == 0) {
            copy_field(c->message, sizeof c->message, value);
        } else if (strcmp(key, "get") == 0) {
            copy_field(c->get, sizeof c->get, value);
        } else if (strcmp(key, "value") == 0) {
            copy_field(c->value, sizeof c->value, value);
            c->has_value = true;
        } else if (strcmp(key, "path") == 0) {
            copy_field(c->path, sizeof c->path, value);
        }
    }
    fclose(fp);
    if (!have_code)
        fail_msg("%s: no code", file);
}

static bool exists(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    return stat(live_join(p, dir, name), &st) == 0;
}

static int by_name(const void *a, const void *b)
{
    const struct bad_case *x = a, *y = b;
    if (x->is_path != y->is_path)
        return x->is_path ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void read_folder(const char *sub, bool is_path)
{
    char dirpath[PATH_MAX];
    live_join(dirpath, src_dir, sub);
    DIR *d = opendir(dirpath);
    if (!d)
        fail_msg("%s: %s", dirpath, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n_cases == MAX_CASES)
            fail_msg("more than %d cases", MAX_CASES);
        struct bad_case *c = &all_cases[n_cases++];
        memset(c, 0, sizeof *c);
        c->is_path = is_path;
        copy_field(c->name, sizeof c->name, de->d_name);
        char expected[PATH_MAX];
        if (is_path) {
            parse_expected(c, live_join(expected, dirpath, de->d_name));
            continue;
        }
        live_join(c->dir, dirpath, de->d_name);
        parse_expected(c, live_join(expected, c->dir, "expected"));
        if (exists(c->dir, "input.yaml")) {
            c->input = INPUT_FILE;
        } else if (exists(c->dir, "generate")) {
            c->input = INPUT_GENERATE;
        } else if (exists(c->dir, "special")) {
            char p[PATH_MAX];
            char *kind = live_slurp(live_join(p, c->dir, "special"), NULL);
            kind[strcspn(kind, "\n")] = '\0';
            copy_field(c->special, sizeof c->special, kind);
            free(kind);
            c->input = INPUT_SPECIAL;
        } else {
            fail_msg("case %s has no input.yaml, generate or special file", c->name);
        }
    }
    closedir(d);
}

/* ------------------------------------------------------------------------- */
/* Making the inputs                                                          */

/* Decodes the escapes of a generate line (\n, \\, \NNN octal) into out,
 * which has room for strlen(s) bytes; returns the length. */
static size_t unescape(const char *s, char *out)
{
    size_t n = 0;
    while (*s) {
        if (s[0] == '\\' && s[1] == 'n') {
            out[n++] = '\n';
            s += 2;
        } else if (s[0] == '\\' && s[1] == '\\') {
            out[n++] = '\\';
            s += 2;
        } else if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7') {
            unsigned v = 0;
            int digits = 0;
            for (s++; digits < 3 && *s >= '0' && *s <= '7'; s++, digits++)
                v = v * 8 + (unsigned)(*s - '0');
            out[n++] = (char)v;
        } else {
            out[n++] = *s++;
        }
    }
    return n;
}

/* Writes the file a generate script describes (see run_cli.sh). */
static void generate(const struct bad_case *c, const char *target)
{
    char script[PATH_MAX];
    char *text = live_slurp(live_join(script, c->dir, "generate"), NULL);
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("open %s: %s", target, strerror(errno));
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *buf = malloc(strlen(line) + 1);
        assert_non_null(buf);
        if (strncmp(line, "text ", 5) == 0) {
            live_write_all(fd, buf, unescape(line + 5, buf));
        } else if (strncmp(line, "repeat ", 7) == 0) {
            char *end;
            unsigned long count = strtoul(line + 7, &end, 10);
            assert_true(*end == ' ');
            size_t len = unescape(end + 1, buf);
            for (unsigned long i = 0; i < count; i++)
                live_write_all(fd, buf, len);
        } else if (strncmp(line, "size ", 5) == 0) {
            assert_int_equal(ftruncate(fd, (off_t)strtoull(line + 5, NULL, 10)), 0);
        } else {
            fail_msg("%s: unknown instruction '%s'", c->name, line);
        }
        free(buf);
    }
    assert_int_equal(close(fd), 0);
    free(text);
}

static void put_file(const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    live_write_all(fd, content, strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

#define GOOD_CONFIG(port) "server:\n  host: example\n  port: " #port "\n"

static void loop_name(char *out, const char *target)
{
    int n = snprintf(out, PATH_MAX, "%s.loop", target);
    assert_true(n > 0 && n < PATH_MAX);
}

/*
 * Puts the case's input at target the way an editor or a deploy would:
 * made beside it and renamed over it, so that target never holds anything
 * else in between; a directory and a deletion, which rename cannot do,
 * replace it in two steps.
 */
static void put_input(const struct bad_case *c, const char *target)
{
    char staging[PATH_MAX], loop[PATH_MAX], src[PATH_MAX];
    int n = snprintf(staging, sizeof staging, "%s.new", target);
    assert_true(n > 0 && n < (int)sizeof staging);
    switch (c->input) {
    case INPUT_FILE: {
        size_t len;
        char *bytes = live_slurp(live_join(src, c->dir, "input.yaml"), &len);
        int fd = open(staging, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        live_write_all(fd, bytes, len);
        assert_int_equal(close(fd), 0);
        free(bytes);
        break;
    }
    case INPUT_GENERATE:
        generate(c, staging);
        break;
    case INPUT_SPECIAL:
        if (strcmp(c->special, "directory") == 0 || strcmp(c->special, "missing") == 0) {
            if (unlink(target) < 0 && errno != ENOENT)
                fail_msg("unlink %s: %s", target, strerror(errno));
            if (strcmp(c->special, "directory") == 0)
                assert_int_equal(mkdir(target, 0755), 0);
            return;
        }
        if (strcmp(c->special, "symlink-loop") == 0) {
            loop_name(loop, target);
            assert_int_equal(symlink(loop, staging), 0);
            assert_int_equal(symlink(target, loop), 0);
        } else if (strcmp(c->special, "fifo") == 0) {
            assert_int_equal(mkfifo(staging, 0644), 0);
        } else if (strcmp(c->special, "unreadable") == 0) {
            put_file(staging, GOOD_CONFIG(9090), 0);
        } else {
            fail_msg("%s: unknown special file '%s'", c->name, c->special);
        }
        break;
    }
    if (rename(staging, target) < 0)
        fail_msg("rename %s -> %s: %s", staging, target, strerror(errno));
}

/* Undoes what put_input() left beside or instead of a file. */
static void remove_input(const struct bad_case *c, const char *target)
{
    char loop[PATH_MAX];
    struct stat st;
    if (lstat(target, &st) == 0 && S_ISDIR(st.st_mode))
        assert_int_equal(rmdir(target), 0);
    if (c->input == INPUT_SPECIAL && strcmp(c->special, "symlink-loop") == 0) {
        loop_name(loop, target);
        unlink(loop);
    }
}

/* ------------------------------------------------------------------------- */
/* Permissions as root                                                        */

/*
 * Root reads a mode-000 file: CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
 * bypass the permission bits.  Dropping both from this thread's effective
 * set (they stay permitted, so they can be raised again) makes uid 0 obey
 * them.  Capabilities belong to a thread, and threads started meanwhile (the
 * handle's watcher and reclaimer) inherit the reduced set.
 */
static int set_dac_caps(bool on)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0)
        return -1;
    uint32_t bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
    if (on)
        data[0].effective |= bits & data[0].permitted;
    else
        data[0].effective &= ~bits;
    return (int)syscall(SYS_capset, &hdr, data);
}

static bool is_unreadable_case(const struct bad_case *c)
{
    return c->input == INPUT_SPECIAL && strcmp(c->special, "unreadable") == 0;
}

/* For the unreadable case: makes permissions apply to this thread (as root,
 * by dropping the capabilities above) and says whether they now do for
 * target, which must exist.  When they do not, the case asserts what does
 * apply (root reads the file) after saying so: it is never skipped. */
static bool permissions_apply(const struct bad_case *c, const char *target)
{
    if (geteuid() == 0 && set_dac_caps(false) != 0)
        print_message("NOTE: %s: cannot drop CAP_DAC_OVERRIDE: %s\n", c->name, strerror(errno));
    int fd = open(target, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        assert_int_equal(errno, EACCES);
        if (geteuid() == 0)
            print_message("NOTE: %s: running as root; mode 000 applies with CAP_DAC_OVERRIDE "
                          "and CAP_DAC_READ_SEARCH dropped from this thread\n",
                          c->name);
        return true;
    }
    close(fd);
    print_message("NOTE: %s: running as root and the file stays readable; asserting instead "
                  "that root reads it\n",
                  c->name);
    return false;
}

/* ------------------------------------------------------------------------- */
/* Checking an error                                                          */

static void expected_message(const struct bad_case *c, const char *file, char *out, size_t size)
{
    const char *at = strstr(c->message, "@FILE@");
    int n = at ? snprintf(out, size, "%.*s%s%s", (int)(at - c->message), c->message, file,
                          at + strlen("@FILE@"))
               : snprintf(out, size, "%s", c->message);
    assert_true(n > 0 && (size_t)n < size);
}

static void check_error(const struct bad_case *c, const char *what, int rc,
                        const snapconf_error *err, const char *file)
{
    char want[1200];
    expected_message(c, file, want, sizeof want);
    if (rc != c->code || err->code != c->code)
        fail_msg("%s: %s returned %s (error struct %s), want %s: %s", c->name, what,
                 snapconf_err_name(rc), snapconf_err_name(err->code), snapconf_err_name(c->code),
                 err->message);
    if (strcmp(err->message, want) != 0)
        fail_msg("%s: %s: message\n  got:  %s\n  want: %s", c->name, what, err->message, want);
    if (err->line != c->line || err->column != c->column)
        fail_msg("%s: %s: position %d:%d, want %d:%d", c->name, what, err->line, err->column,
                 c->line, c->column);
    assert_string_equal(err->file, file);
    if (c->errno_name[0]) {
        const char *got = err->sys_errno ? strerrorname_np(err->sys_errno) : NULL;
        if (!got || strcmp(got, c->errno_name) != 0)
            fail_msg("%s: %s: sys_errno %s, want %s", c->name, what, got ? got : "0",
                     c->errno_name);
    } else {
        assert_int_equal(err->sys_errno, 0);
    }
}

/* An accepted input: the path given holds the value given, or nothing. */
static void check_accepted(const struct bad_case *c, const snapconf_snap *s)
{
    const snapconf_node *n = NULL;
    int rc = snapconf_find(s, c->get, &n);
    if (!c->has_value) {
        assert_int_equal(rc, SNAPCONF_ENOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    const char *str;
    assert_int_equal(snapconf_node_str(n, &str, NULL), 0);
    assert_string_equal(str, c->value);
}

/* ------------------------------------------------------------------------- */
/* load/NAME                                                                  */

struct fx {
    struct live_fx live;
    const struct bad_case *c;
    bool caps_dropped;
};

static int fx_setup(void **state)
{
    const struct bad_case *c = *state;
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    void *live = NULL;
    if (live_setup(&live) != 0) {
        free(f);
        return -1;
    }
    f->live = *(struct live_fx *)live;
    free(live);
    f->c = c;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    snapconf_close(f->live.h);
    if (f->caps_dropped)
        set_dac_caps(true);
    live_rm_rf(f->live.dir);
    free(f);
    return 0;
}

static void test_load(void **state)
{
    struct fx *f = *state;
    const struct bad_case *c = f->c;
    const char *path = f->live.path;
    put_input(c, path);

    bool root_reads = false;
    if (is_unreadable_case(c)) {
        f->caps_dropped = geteuid() == 0;
        root_reads = !permissions_apply(c, path);
    }

    static char sentinel;
    snapconf_snap *snap = (snapconf_snap *)(void *)&sentinel;
    snapconf_error err;
    memset(&err, 0, sizeof err);
    int rc = snapconf_snap_load_file(path, &snap, &err);
    if (root_reads) {
        assert_int_equal(rc, 0);
        assert_int_equal(snapconf_get_int_or(snap, "server.port", -1), ROOT_READS_PORT);
        snapconf_snap_free(snap);
        return;
    }
    if (c->code == 0) {
        if (rc != 0)
            fail_msg("%s: rejected: %s", c->name, err.message);
        check_accepted(c, snap);
        snapconf_snap_free(snap);
        return;
    }
    check_error(c, "snapconf_snap_load_file", rc, &err, path);
    assert_ptr_equal(snap, (snapconf_snap *)(void *)&sentinel);

    /* The same bytes from a buffer, under the same name: the same error.
     * (Not for special files, nor for the sparse file above the size limit,
     * which is refused by its size before it is read.) */
    if (c->input == INPUT_SPECIAL || c->line == 0)
        return;
    size_t len;
    char *bytes = live_slurp(path, &len);
    memset(&err, 0, sizeof err);
    rc = snapconf_snap_load_buffer(bytes, len, path, &snap, &err);
    free(bytes);
    check_error(c, "snapconf_snap_load_buffer", rc, &err, path);
    assert_ptr_equal(snap, (snapconf_snap *)(void *)&sentinel);
}

/* ------------------------------------------------------------------------- */
/* live/NAME                                                                  */

/* Waits until the status's last error is want (or timeout); returns it. */
static snapconf_status_info wait_error_message(snapconf *h, const char *want)
{
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    snapconf_status_info st;
    do {
        st = live_status(h);
        if (!st.last_reload_ok && strcmp(st.last_error.message, want) == 0)
            break;
        live_sleep_ms(1);
    } while (live_now_ms() < end);
    return st;
}

/* The last good file is what readers see: generation, content, value. */
static void expect_still_serving(snapconf *h, uint64_t gen, const char *hash, int64_t port)
{
    const snapconf_snap *s = snapconf_snap_begin(h);
    uint64_t g = snapconf_snap_generation(s);
    bool same = strcmp(snapconf_snap_content_hash(s), hash) == 0;
    int64_t p = snapconf_get_int_or(s, "server.port", -1);
    snapconf_snap_end(h, s);
    assert_int_equal(g, gen);
    assert_true(same);
    assert_int_equal(p, port);
    snapconf_status_info st = live_status(h);
    assert_int_equal(st.generation, gen);
    assert_string_equal(st.content_hash, hash);
}

static void test_live(void **state)
{
    struct fx *f = *state;
    const struct bad_case *c = f->c;
    const char *path = f->live.path;
    char staging[PATH_MAX];
    live_join(staging, f->live.dir, "restore.yaml");

    /* For the unreadable case, permissions must apply to the handle's
     * threads, which inherit this thread's capabilities: decide first. */
    bool root_reads = false;
    if (is_unreadable_case(c)) {
        char probe[PATH_MAX];
        live_join(probe, f->live.dir, "probe.yaml");
        put_file(probe, "x\n", 0);
        f->caps_dropped = geteuid() == 0;
        root_reads = !permissions_apply(c, probe);
        assert_int_equal(unlink(probe), 0);
    }

    put_file(path, GOOD_CONFIG(8080), 0644);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->live.h = live_open(path, &o);
    snapconf *h = f->live.h;
    uint64_t gen = live_gen(h);
    snapconf_status_info st = live_status(h);
    char good_hash[33];
    memcpy(good_hash, st.content_hash, sizeof good_hash);
    uint64_t reloads = st.reloads;

    put_input(c, path);

    if (root_reads) {
        /* What applies to root: the mode-000 file is read and published. */
        expect_exactly(h, gen + 1);
        assert_int_equal(live_int_or(h, "server.port", -1), ROOT_READS_PORT);
        gen++;
    } else if (c->code == 0) {
        /* Accepted: published like any valid edit. */
        expect_exactly(h, gen + 1);
        const snapconf_snap *s = snapconf_snap_begin(h);
        check_accepted(c, s);
        snapconf_snap_end(h, s);
        assert_true(live_status(h).last_reload_ok);
        gen++;
    } else {
        /* The watcher's attempt: recorded in the status, nothing published. */
        char want[1200];
        expected_message(c, path, want, sizeof want);
        st = wait_error_message(h, want);
        check_error(c, "the watcher's reload", st.last_error.code, &st.last_error, path);
        assert_false(st.last_reload_ok);
        assert_true(st.failed_reloads >= 1);
        assert_int_equal(st.reloads, reloads);
        expect_still_serving(h, gen, good_hash, GOOD_PORT);

        /* A synchronous reload says the same, and changes nothing either. */
        snapconf_error err;
        memset(&err, 0, sizeof err);
        int rc = snapconf_reload(h, &err);
        check_error(c, "snapconf_reload", rc, &err, path);
        expect_still_serving(h, gen, good_hash, GOOD_PORT);
    }

    /* A good file put back is published by the watcher. */
    remove_input(c, path);
    put_file(staging, GOOD_CONFIG(8081), 0644);
    assert_int_equal(rename(staging, path), 0);
    expect_exactly(h, gen + 1);
    assert_int_equal(live_int_or(h, "server.port", -1), 8081);
    assert_true(live_status(h).last_reload_ok);

    snapconf_close(h);
    f->live.h = NULL;
}

/* ------------------------------------------------------------------------- */
/* path/NAME                                                                  */

static void test_path(void **state)
{
    const struct bad_case *c = *state;
    assert_int_equal(c->code, SNAPCONF_EPATH);

    static char sentinel;
    snapconf_path *p = (snapconf_path *)(void *)&sentinel;
    snapconf_error err;
    memset(&err, 0, sizeof err);
    int rc = snapconf_path_compile(c->path, &p, &err);
    assert_ptr_equal(p, (snapconf_path *)(void *)&sentinel);
    if (rc != SNAPCONF_EPATH || err.code != SNAPCONF_EPATH)
        fail_msg("%s: snapconf_path_compile returned %s", c->name, snapconf_err_name(rc));
    if (strcmp(err.message, c->message) != 0)
        fail_msg("%s: message\n  got:  %s\n  want: %s", c->name, err.message, c->message);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, c->column);
    assert_string_equal(err.file, "");

    /* Lookups with it fail the same way. */
    const char *good = GOOD_CONFIG(8080);
    snapconf_snap *snap = NULL;
    assert_int_equal(snapconf_snap_load_buffer(good, strlen(good), "good.yaml", &snap, NULL), 0);
    const snapconf_node *n;
    assert_int_equal(snapconf_find(snap, c->path, &n), SNAPCONF_EPATH);
    assert_int_equal(snapconf_get_int_or(snap, c->path, -7), -7);
    snapconf_snap_free(snap);
}

/* ------------------------------------------------------------------------- */
/* The billion laughs: memory and time                                         */

/* A field of /proc/self/status in KiB, or -1. */
static long status_kib(const char *key)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp)
        return -1;
    char line[256];
    long v = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, fp))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            v = atol(line + klen + 1);
    fclose(fp);
    return v;
}

struct laughs_result {
    int rc;
    int64_t ns;
    long rss_before_kib, peak_kib;
};

static void test_billion_laughs_resources(void **state)
{
    (void)state;
    char file[PATH_MAX], dir[PATH_MAX];
    live_join(dir, src_dir, "cases/billion-laughs");
    live_join(file, dir, "input.yaml");

    /* In a child, whose peak RSS (VmHWM, what getrusage calls ru_maxrss)
     * starts at its RSS at fork - or at its current RSS once reset through
     * clear_refs - instead of at whatever this process reached earlier. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct laughs_result r = {0};
        FILE *cr = fopen("/proc/self/clear_refs", "w");
        if (cr) {
            fputs("5", cr);
            fclose(cr);
        }
        snapconf_snap *snap = NULL;
        snapconf_error err;
        r.rss_before_kib = status_kib("VmRSS");
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r.rc = snapconf_snap_load_file(file, &snap, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        r.peak_kib = status_kib("VmHWM");
        r.ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    struct laughs_result r;
    ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(got, (ssize_t)sizeof r);
    assert_int_equal(r.rc, SNAPCONF_ELIMIT);
    assert_true(r.rss_before_kib > 0 && r.peak_kib > 0);
    long growth = r.peak_kib - r.rss_before_kib;
    print_message("billion laughs: refused in %.3f ms (printed, not asserted), peak RSS "
                  "%ld KiB over the %ld KiB before the load (limit 10240 KiB)\n",
                  (double)r.ns / 1e6, growth, r.rss_before_kib);
    assert_true(growth < 10 * 1024);
}

/* ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s BAD_INPUT_DIR\n", argv[0]);
        return 2;
    }
    snprintf(src_dir, sizeof src_dir, "%s", argv[1]);
    read_folder("cases", false);
    read_folder("paths", true);
    qsort(all_cases, n_cases, sizeof all_cases[0], by_name);

    static struct CMUnitTest tests[2 * MAX_CASES + 1];
    static char names[2 * MAX_CASES + 1][160];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest){"billion_laughs_resources", test_billion_laughs_resources,
                                     NULL, NULL, NULL};
    for (size_t i = 0; i < n_cases; i++) {
        struct bad_case *c = &all_cases[i];
        if (c->is_path) {
            snprintf(names[n], sizeof names[n], "path/%.127s", c->name);
            tests[n] = (struct CMUnitTest){names[n], test_path, NULL, NULL, c};
            n++;
            continue;
        }
        snprintf(names[n], sizeof names[n], "load/%.127s", c->name);
        tests[n] = (struct CMUnitTest){names[n], test_load, fx_setup, fx_teardown, c};
        n++;
        snprintf(names[n], sizeof names[n], "live/%.127s", c->name);
        tests[n] = (struct CMUnitTest){names[n], test_live, fx_setup, fx_teardown, c};
        n++;
    }
    return _cmocka_run_group_tests("bad_input", tests, n, NULL, NULL);
}
