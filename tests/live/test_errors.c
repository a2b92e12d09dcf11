/*
 * Failures never replace the live snapshot: an invalid edit, a deleted file,
 * an unreadable file, a directory in the file's place, a validator's
 * rejection.  Readers keep the last good snapshot, the status records the
 * error with its position, and the next change is tried again.
 */
#include "live.h"

#include <grp.h>
#include <sys/wait.h>

#define GOOD0 "a: 1\nb: 2\nlist: [x, y]\n"
#define GOOD1 "a: 10\nb: 20\nlist: [x, y, z]\n"

/* Waits until the status's last error has the given sys_errno (or code,
 * when sys is 0); returns true when it did. */
static bool wait_error(snapconf *h, int code, int sys)
{
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    for (;;) {
        snapconf_status_info st = live_status(h);
        if (!st.last_reload_ok && st.last_error.code == code &&
            (sys == 0 || st.last_error.sys_errno == sys))
            return true;
        if (live_now_ms() >= end)
            return false;
        live_sleep_ms(1);
    }
}

static void expect_old_values(snapconf *h, uint64_t g)
{
    assert_int_equal(live_gen(h), g);
    assert_int_equal(live_int_or(h, "a", -1), 1);
    assert_int_equal(live_int_or(h, "b", -1), 2);
    assert_false(live_has(h, "list[2]"));
}

/* ------------------------------------------------------------------------- */
/* Invalid edits                                                             */

static void test_invalid_edit_keeps_old_and_reports_position(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    live_put_trunc(f->path, GOOD0);
    f->h = live_open(f->path, &o);

    /* A duplicate key on line 3, column 1. */
    live_put_rename(f->path, "a: 1\nb: 2\na: 3\n");
    assert_int_equal(wait_failed(f->h, 1, LIVE_WAIT_MS), 1);
    live_sleep_ms(LIVE_SETTLE_MS);
    snapconf_status_info st = live_status(f->h);
    assert_int_equal(st.failed_reloads, 1); /* one save, one attempt */
    assert_false(st.last_reload_ok);
    assert_int_equal(st.last_error.code, SNAPCONF_EPARSE);
    assert_string_equal(st.last_error.file, f->path);
    assert_int_equal(st.last_error.line, 3);
    assert_int_equal(st.last_error.column, 1);
    char prefix[PATH_MAX + 16];
    snprintf(prefix, sizeof prefix, "%s:3:1: ", f->path);
    if (strncmp(st.last_error.message, prefix, strlen(prefix)) != 0)
        fail_msg("message does not start with \"%s\": %s", prefix, st.last_error.message);
    assert_non_null(strstr(st.last_error.message, "'a'"));
    assert_int_equal(st.generation, 1);
    assert_int_equal(st.reloads, 0);
    expect_old_values(f->h, 1);

    /* The next change is tried again: a syntax error this time. */
    live_put_trunc(f->path, "a: 1\nb: [2, 3\nc: 4\n");
    assert_int_equal(wait_failed(f->h, 2, LIVE_WAIT_MS), 2);
    st = live_status(f->h);
    assert_int_equal(st.last_error.code, SNAPCONF_EPARSE);
    assert_true(st.last_error.line >= 2);
    assert_true(st.last_error.column >= 1);
    expect_old_values(f->h, 1);

    /* snapconf_reload reports the same failure synchronously. */
    snapconf_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(snapconf_reload(f->h, &err), SNAPCONF_EPARSE);
    assert_int_equal(err.code, SNAPCONF_EPARSE);
    assert_int_equal(err.line, st.last_error.line);
    assert_int_equal(live_status(f->h).failed_reloads, 3);
    expect_old_values(f->h, 1);

    /* Fixing the file publishes the fix. */
    live_put_trunc(f->path, GOOD1);
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 10);
    assert_true(live_has(f->h, "list[2]"));
    st = live_status(f->h);
    assert_true(st.last_reload_ok);
    assert_int_equal(st.failed_reloads, 3);
    assert_int_equal(st.reloads, 1);
}

/* ------------------------------------------------------------------------- */
/* The file disappears, or becomes a directory                               */

static void test_deleted_file_keeps_last_good_then_recovers(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    live_put_trunc(f->path, GOOD0);
    f->h = live_open(f->path, &o);

    assert_int_equal(unlink(f->path), 0);
    assert_true(wait_error(f->h, SNAPCONF_EIO, ENOENT));
    snapconf_status_info st = live_status(f->h);
    assert_int_equal(st.last_error.sys_errno, ENOENT);
    assert_string_equal(st.last_error.file, f->path);
    assert_true(st.failed_reloads >= 1);
    assert_non_null(strstr(st.last_error.message, f->path));
    expect_old_values(f->h, 1);

    /* It reappears (created in place): loaded. */
    live_put_trunc(f->path, GOOD1);
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 10);
    assert_true(live_status(f->h).last_reload_ok);

    /* Deleted again, then renamed into place. */
    uint64_t failed = live_status(f->h).failed_reloads;
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(wait_failed(f->h, failed + 1, LIVE_WAIT_MS), failed + 1);
    assert_int_equal(live_int_or(f->h, "a", -1), 10);
    live_put_rename(f->path, GOOD0);
    expect_exactly(f->h, 3);
    assert_int_equal(live_int_or(f->h, "a", -1), 1);
    assert_true(live_status(f->h).last_reload_ok);
}

static void test_directory_in_place_of_file(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    live_put_trunc(f->path, GOOD0);
    f->h = live_open(f->path, &o);

    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(mkdir(f->path, 0755), 0);
    assert_true(wait_error(f->h, SNAPCONF_EIO, EISDIR));
    snapconf_status_info st = live_status(f->h);
    assert_non_null(strstr(st.last_error.message, "directory"));
    assert_string_equal(st.last_error.file, f->path);
    expect_old_values(f->h, 1);

    /* snapconf_reload says the same. */
    snapconf_error err;
    assert_int_equal(snapconf_reload(f->h, &err), SNAPCONF_EIO);
    assert_non_null(strstr(err.message, "directory"));
    expect_old_values(f->h, 1);

    /* A file is put back. */
    assert_int_equal(rmdir(f->path), 0);
    live_put_trunc(f->path, GOOD1);
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 10);
    assert_true(live_status(f->h).last_reload_ok);
}

/* ------------------------------------------------------------------------- */
/* An unreadable file                                                        */

/* The scenario for a user that permissions do stop; returns NULL when it
 * passed, else what went wrong.  It cannot use cmocka's assertions, as it
 * also runs in a forked child. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(why, sizeof why, "line %d: %s", __LINE__, #cond);                             \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

static const char *unreadable_scenario(const char *path)
{
    static char why[256];
    const char *result = why;
    snapconf *h = NULL;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    snapconf_error err;
    FILE *fp = fopen(path, "w");
    CHECK(fp);
    fputs(GOOD0, fp);
    CHECK(fclose(fp) == 0);
    CHECK(snapconf_open(&h, path, &o, &err) == 0);

    CHECK(chmod(path, 0) == 0);
    /* chmod itself is an attribute change the watcher reloads on. */
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    snapconf_status_info st;
    do {
        live_sleep_ms(1);
        CHECK(snapconf_status(h, &st) == 0);
    } while (st.failed_reloads == 0 && live_now_ms() < end);
    CHECK(st.failed_reloads >= 1);
    CHECK(!st.last_reload_ok);
    CHECK(st.last_error.code == SNAPCONF_EIO);
    CHECK(st.last_error.sys_errno == EACCES);
    CHECK(strstr(st.last_error.message, "permission") != NULL);
    CHECK(strcmp(st.last_error.file, path) == 0);
    const snapconf_snap *s = snapconf_snap_begin(h);
    bool old = snapconf_snap_generation(s) == 1 && snapconf_get_int_or(s, "a", -1) == 1;
    snapconf_snap_end(h, s);
    CHECK(old);
    CHECK(snapconf_reload(h, &err) == SNAPCONF_EIO && err.sys_errno == EACCES);

    /* Fixed: readable again, with new content. */
    CHECK(chmod(path, 0644) == 0);
    fp = fopen(path, "w");
    CHECK(fp);
    fputs(GOOD1, fp);
    CHECK(fclose(fp) == 0);
    end = live_now_ms() + LIVE_WAIT_MS;
    do {
        live_sleep_ms(1);
        CHECK(snapconf_status(h, &st) == 0);
    } while (st.generation < 2 && live_now_ms() < end);
    CHECK(st.generation == 2);
    CHECK(st.last_reload_ok);
    s = snapconf_snap_begin(h);
    bool fixed = snapconf_get_int_or(s, "a", -1) == 10;
    snapconf_snap_end(h, s);
    CHECK(fixed);
    result = NULL;
out:
    snapconf_close(h);
    return result;
}

static void test_unreadable_file(void **state)
{
    struct live_fx *f = *state;
    if (geteuid() != 0) {
        const char *why = unreadable_scenario(f->path);
        if (why)
            fail_msg("unreadable file: %s", why);
        return;
    }

    /* As root (as in CI), permissions do not stop reads: chmod 000 changes
     * nothing for the library, the load keeps succeeding.  Assert exactly
     * that... */
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    live_put_trunc(f->path, GOOD0);
    f->h = live_open(f->path, &o);
    snapconf_status_info st = live_status(f->h);
    assert_int_equal(chmod(f->path, 0), 0);
    wait_attempt(f->h, st.last_attempt_time_ns, (int)LIVE_SETTLE_MS + 100);
    live_sleep_ms(LIVE_SETTLE_MS);
    st = live_status(f->h);
    assert_true(st.last_reload_ok);
    assert_int_equal(st.failed_reloads, 0);
    assert_int_equal(snapconf_reload(f->h, NULL), 0);
    live_put_trunc(f->path, GOOD1); /* root can write a mode-000 file */
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 10);
    snapconf_close(f->h);
    f->h = NULL;

    /* ...and run the real scenario as an unprivileged user (nobody) in a
     * forked child, so the permission path is tested in CI as well. */
    char path2[PATH_MAX];
    live_join(path2, f->dir, "nobody.yaml");
    assert_int_equal(chmod(f->dir, 0777), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *why = NULL;
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            why = "cannot become nobody";
        else if (geteuid() == 0)
            why = "still root";
        else
            why = unreadable_scenario(path2);
        if (why)
            fprintf(stderr, "unprivileged child: %s\n", why);
        fflush(stderr);
        _exit(why ? 1 : 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------------------------------- */
/* Missing files at open                                                     */

static void test_open_missing_fails_without_handle(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    static char sentinel;
    snapconf *h = (snapconf *)(void *)&sentinel;
    snapconf_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(snapconf_open(&h, f->path, &o, &err), SNAPCONF_EIO);
    assert_ptr_equal(h, (snapconf *)(void *)&sentinel);
    assert_int_equal(err.code, SNAPCONF_EIO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_string_equal(err.file, f->path);

    /* Also with NULL options, and with no error struct. */
    assert_int_equal(snapconf_open(&h, f->path, NULL, NULL), SNAPCONF_EIO);
    assert_ptr_equal(h, (snapconf *)(void *)&sentinel);

    /* An invalid file fails too, with its position. */
    live_put_trunc(f->path, "a: 1\na: 2\n");
    assert_int_equal(snapconf_open(&h, f->path, &o, &err), SNAPCONF_EPARSE);
    assert_ptr_equal(h, (snapconf *)(void *)&sentinel);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 1);
    /* allow_missing is about missing files only. */
    o.allow_missing = true;
    assert_int_equal(snapconf_open(&h, f->path, &o, &err), SNAPCONF_EPARSE);
    assert_ptr_equal(h, (snapconf *)(void *)&sentinel);
}

static void test_allow_missing(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.allow_missing = true;
    snapconf_error err;
    memset(&err, 0x5a, sizeof err);
    assert_int_equal(snapconf_open(&f->h, f->path, &o, &err), 0);
    assert_non_null(f->h);
    snapconf_error after_open = err;

    const snapconf_snap *s = snapconf_snap_begin(f->h);
    assert_int_equal(snapconf_snap_generation(s), 1);
    assert_int_equal(snapconf_node_type(snapconf_snap_root(s)), SNAPCONF_TYPE_MAP);
    assert_int_equal(snapconf_node_size(snapconf_snap_root(s)), 0);
    snapconf_snap_end(f->h, s);
    snapconf_status_info st = live_status(f->h);
    assert_int_equal(st.generation, 1);
    assert_int_equal(st.watch, SNAPCONF_WATCHING_INOTIFY);

    /* The file appears: loaded. */
    live_put_trunc(f->path, GOOD0);
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 1);
    st = live_status(f->h);
    assert_true(st.last_reload_ok);
    assert_int_equal(st.reloads, 1);

    /* The error struct is written only on failure (header conventions), and
     * this open succeeded: it must still hold what the caller put there. */
    if (after_open.code != 0x5a5a5a5a || after_open.sys_errno != 0x5a5a5a5a)
        fail_msg("a successful snapconf_open wrote the error struct: code %d, sys_errno %d, "
                 "message \"%s\"",
                 after_open.code, after_open.sys_errno, after_open.message);
}

/* The directory holding the file does not exist yet either. */
static void test_allow_missing_directory_too(void **state)
{
    struct live_fx *f = *state;
    char sub[PATH_MAX], path[PATH_MAX];
    live_join(sub, f->dir, "conf.d");
    live_join(path, sub, "app.yaml");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.allow_missing = true;
    f->h = live_open(path, &o);
    assert_int_equal(live_gen(f->h), 1);
    assert_int_equal(mkdir(sub, 0755), 0);
    live_put_rename(path, GOOD0);
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 1);
}

/* ------------------------------------------------------------------------- */
/* The user validator                                                        */

struct vstate {
    int calls, calls_without_current;
    int64_t max_port;
};

static int check_port(void *ud, const snapconf_snap *candidate, const snapconf_snap *current,
                      snapconf_error *err)
{
    struct vstate *v = ud;
    v->calls++;
    if (!current)
        v->calls_without_current++;
    const snapconf_node *n;
    int64_t port;
    if (snapconf_find(candidate, "server.port", &n) == 0 && snapconf_node_int(n, &port) == 0 &&
        port > v->max_port)
        return snapconf_error_at(err, candidate, n, "port %lld is above %lld", (long long)port,
                                 (long long)v->max_port);
    return 0;
}

#define SERVER(port) "server:\n  host: example\n  port: " #port "\n"

static void test_validator_rejects_candidate(void **state)
{
    struct live_fx *f = *state;
    struct vstate v = {.max_port = 1000};
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.validate = check_port;
    o.validate_userdata = &v;
    live_put_trunc(f->path, SERVER(80));
    f->h = live_open(f->path, &o);
    assert_int_equal(live_int_or(f->h, "server.port", -1), 80);

    live_put_rename(f->path, SERVER(99999));
    assert_int_equal(wait_failed(f->h, 1, LIVE_WAIT_MS), 1);
    snapconf_status_info st = live_status(f->h);
    assert_false(st.last_reload_ok);
    assert_int_equal(st.last_error.code, SNAPCONF_EVALIDATE);
    assert_string_equal(st.last_error.file, f->path);
    assert_int_equal(st.last_error.line, 3);
    assert_int_equal(st.last_error.column, 9);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s:3:9: port 99999 is above 1000", f->path);
    assert_string_equal(st.last_error.message, want);
    assert_int_equal(live_gen(f->h), 1);
    assert_int_equal(live_int_or(f->h, "server.port", -1), 80);

    /* Synchronously, the same. */
    snapconf_error err;
    assert_int_equal(snapconf_reload(f->h, &err), SNAPCONF_EVALIDATE);
    assert_string_equal(err.message, want);
    assert_int_equal(live_int_or(f->h, "server.port", -1), 80);

    /* Accepted once it is fixed; the validator saw the current snapshot. */
    live_put_rename(f->path, SERVER(443));
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "server.port", -1), 443);
    assert_true(live_status(f->h).last_reload_ok);
    assert_true(v.calls >= 3);
}

/* The header says the validator also sees the first load (with current
 * NULL), so a first load it rejects makes snapconf_open fail. */
static void test_validator_on_first_load(void **state)
{
    struct live_fx *f = *state;
    struct vstate v = {.max_port = 1000};
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.validate = check_port;
    o.validate_userdata = &v;
    live_put_trunc(f->path, SERVER(80));
    f->h = live_open(f->path, &o);
    assert_int_equal(v.calls, 1);
    assert_int_equal(v.calls_without_current, 1);
    snapconf_close(f->h);
    f->h = NULL;

    live_put_trunc(f->path, SERVER(99999));
    snapconf_error err;
    memset(&err, 0, sizeof err);
    int rc = snapconf_open(&f->h, f->path, &o, &err);
    assert_int_equal(rc, SNAPCONF_EVALIDATE);
    assert_null(f->h);
    assert_int_equal(err.line, 3);
}

/* The directory holding the file is removed and created again (a deploy
 * that replaces the whole folder): the watcher follows. */
static void test_directory_removed_and_recreated(void **state)
{
    struct live_fx *f = *state;
    char sub[PATH_MAX], path[PATH_MAX];
    live_join(sub, f->dir, "conf.d");
    live_join(path, sub, "app.yaml");
    assert_int_equal(mkdir(sub, 0755), 0);
    live_put_trunc(path, GOOD0);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(path, &o);
    for (int round = 0; round < 2; round++) {
        uint64_t g = live_gen(f->h);
        uint64_t failed = live_status(f->h).failed_reloads;
        live_rm_rf(sub);
        assert_int_equal(wait_failed(f->h, failed + 1, LIVE_WAIT_MS), failed + 1);
        assert_int_equal(live_gen(f->h), g);
        assert_int_equal(mkdir(sub, 0755), 0);
        live_put_trunc(path, round ? GOOD0 : GOOD1);
        expect_exactly(f->h, g + 1);
        assert_int_equal(live_int_or(f->h, "a", -1), round ? 1 : 10);
        assert_true(live_status(f->h).last_reload_ok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invalid_edit_keeps_old_and_reports_position,
                                        live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_deleted_file_keeps_last_good_then_recovers, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_directory_in_place_of_file, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_directory_removed_and_recreated, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_file, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_fails_without_handle, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_allow_missing, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_allow_missing_directory_too, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_validator_rejects_candidate, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_validator_on_first_load, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
