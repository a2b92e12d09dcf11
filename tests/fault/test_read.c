/*
 * Read errors: the file vanishes before it is opened, fstat fails, read
 * fails with EIO, the file shrinks between fstat and read (really truncated,
 * or read reporting end of file early), a read is interrupted, the file is
 * unlinked once open.  Each must end in a clean error naming the file, with
 * nothing handed out or leaked - and on a live handle with the old snapshot
 * still published - except the two that lose nothing (an interrupted read
 * is retried; an unlinked file is still read whole through its descriptor).
 */
#include "fault_test.h"

#define OLD "a: 1\nb: 2\nlist: [x, y]\n"
/* A prefix of NEW, "a: 10\nb: 20\n", is valid YAML on its own: a shrink that
 * went unnoticed would publish it. */
#define NEW "a: 10\nb: 20\nlist: [x, y, z]\n"
#define NEW_PREFIX 12

struct read_fault {
    const char *what;
    enum fault_io kind;
    long arg;
    int sys_errno;    /* expected in err.sys_errno */
    const char *text; /* expected in the message */
};

/* The faults that must fail the load. */
static const struct read_fault failing[] = {
    {"vanished before open", FAULT_OPEN_ERRNO, ENOENT, ENOENT, "cannot open the file"},
    {"fstat fails with EIO", FAULT_FSTAT_ERRNO, EIO, EIO, "cannot inspect the file"},
    {"read fails with EIO", FAULT_READ_ERRNO, EIO, EIO, "cannot read the file"},
    {"truncated to a valid prefix after fstat", FAULT_FSTAT_TRUNCATE, NEW_PREFIX, EAGAIN,
     "changed while it was being read"},
    {"truncated to nothing after fstat", FAULT_FSTAT_TRUNCATE, 0, EAGAIN,
     "changed while it was being read"},
    {"read reports end of file early", FAULT_READ_EOF_AFTER, NEW_PREFIX, EAGAIN,
     "changed while it was being read"},
};

static void expect_read_error(const struct read_fault *fx, int rc, const snapconf_error *err,
                              const char *path)
{
    fault_expect_error(fx->what, 1, rc, SNAPCONF_EIO, err, path, fx->text);
    if (err->sys_errno != fx->sys_errno)
        fail_msg("%s: sys_errno is %d (%s), wanted %d (%s)", fx->what, err->sys_errno,
                 strerror(err->sys_errno), fx->sys_errno, strerror(fx->sys_errno));
}

/* ------------------------------------------------------------------------- */
/* One-shot loads                                                             */

static void test_load_file_read_errors(void **state)
{
    struct live_fx *f = *state;
    snapconf_snap *s = NULL;
    live_put_trunc(f->path, NEW);
    assert_int_equal(snapconf_snap_load_file(f->path, &s, NULL), 0); /* warm-up */
    snapconf_snap_free(s);
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        const struct read_fault *fx = &failing[i];
        live_put_trunc(f->path, NEW);
        struct fault_resources res = fault_resources_now();
        snapconf_snap *snap = SNAP_SENTINEL;
        snapconf_error err;
        fault_poison(&err);
        fault_io_arm(f->path, fx->kind, fx->arg);
        int rc = snapconf_snap_load_file(f->path, &snap, &err);
        bool fired = fault_io_disarm();
        if (!fired)
            fail_msg("%s: the fault was never injected", fx->what);
        if (rc == 0) {
            const char *keys = snapconf_find(snap, "list", &(const snapconf_node *){NULL}) == 0
                                   ? "with its list"
                                   : "without its list";
            snapconf_snap_free(snap);
            fail_msg("%s: the load succeeded (%s)", fx->what, keys);
        }
        expect_read_error(fx, rc, &err, f->path);
        assert_ptr_equal(snap, SNAP_SENTINEL);
        fault_expect_resources(fx->what, 1, &res);
    }
}

/* An interrupted read is retried; an unlinked file is still read whole
 * through the descriptor opened before it went. */
static void test_load_file_harmless_faults(void **state)
{
    struct live_fx *f = *state;
    const struct {
        const char *what;
        enum fault_io kind;
    } cases[] = {
        {"read interrupted", FAULT_READ_EINTR},
        {"unlinked after fstat", FAULT_FSTAT_UNLINK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        live_put_trunc(f->path, NEW);
        struct fault_resources res = fault_resources_now();
        snapconf_snap *snap = NULL;
        snapconf_error err;
        fault_io_arm(f->path, cases[i].kind, 0);
        int rc = snapconf_snap_load_file(f->path, &snap, &err);
        bool fired = fault_io_disarm();
        if (!fired)
            fail_msg("%s: the fault was never injected", cases[i].what);
        if (rc != 0)
            fail_msg("%s: %s", cases[i].what, err.message);
        assert_int_equal(snapconf_get_int_or(snap, "a", -1), 10);
        assert_int_equal(snapconf_node_size(snapconf_snap_root(snap)), 3);
        snapconf_snap_free(snap);
        fault_expect_resources(cases[i].what, 1, &res);
    }
    assert_int_equal(access(f->path, F_OK), -1); /* the unlink was real */
}

/* ------------------------------------------------------------------------- */
/* Live handles                                                               */

static void expect_old_served(snapconf *h, const char *what)
{
    uint64_t g = live_gen(h);
    int64_t a = live_int_or(h, "a", -1);
    bool list2 = live_has(h, "list[2]");
    if (g != 1 || a != 1 || list2)
        fail_msg("%s: generation %llu, a = %lld, list[2] %s; the old snapshot should be served",
                 what, (unsigned long long)g, (long long)a, list2 ? "present" : "absent");
}

static void test_reload_read_errors(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, OLD);
    snapconf_options o = live_opts(SNAPCONF_WATCH_NONE);
    f->h = live_open(f->path, &o);
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        const struct read_fault *fx = &failing[i];
        live_put_trunc(f->path, NEW);
        uint64_t failed = live_status(f->h).failed_reloads;
        long before = fault_alloc_live();
        snapconf_error err;
        fault_poison(&err);
        fault_io_arm(f->path, fx->kind, fx->arg);
        int rc = snapconf_reload(f->h, &err);
        bool fired = fault_io_disarm();
        long after = fault_alloc_live();
        if (!fired)
            fail_msg("%s: the fault was never injected", fx->what);
        if (rc == 0)
            fail_msg("%s: the reload succeeded; now serving generation %llu with a = %lld, "
                     "list[2] %s",
                     fx->what, (unsigned long long)live_gen(f->h),
                     (long long)live_int_or(f->h, "a", -1),
                     live_has(f->h, "list[2]") ? "present" : "absent");
        if (after != before)
            fail_msg("%s: %ld block(s) leaked", fx->what, after - before);
        expect_read_error(fx, rc, &err, f->path);
        expect_old_served(f->h, fx->what);
        snapconf_status_info st = live_status(f->h);
        assert_false(st.last_reload_ok);
        assert_int_equal(st.failed_reloads, failed + 1);
        assert_int_equal(st.last_error.code, SNAPCONF_EIO);
        assert_int_equal(st.last_error.sys_errno, fx->sys_errno);
        assert_string_equal(st.last_error.message, err.message);
    }

    /* An interrupted read loses nothing: the new file goes live. */
    live_put_trunc(f->path, NEW);
    fault_io_arm(f->path, FAULT_READ_EINTR, 0);
    snapconf_error err;
    int rc = snapconf_reload(f->h, &err);
    assert_true(fault_io_disarm());
    if (rc != 0)
        fail_msg("reload after an interrupted read: %s", err.message);
    assert_int_equal(live_gen(f->h), 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 10);
    assert_true(live_has(f->h, "list[2]"));
}

/* The watcher's reload hits a read error: the status says so, the old
 * snapshot stays, and the next save goes live. */
static void test_watcher_read_errors(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, OLD);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(f->path, &o);
    const struct read_fault *faults[] = {&failing[2], &failing[5]};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        const struct read_fault *fx = faults[i];
        snapconf_status_info st = live_status(f->h);
        fault_io_arm(f->path, fx->kind, fx->arg);
        live_put_rename(f->path, NEW);
        assert_true(wait_failed(f->h, st.failed_reloads + 1, LIVE_WAIT_MS) > st.failed_reloads);
        bool fired = fault_io_disarm();
        if (!fired)
            fail_msg("%s: the fault was never injected", fx->what);
        st = live_status(f->h);
        expect_read_error(fx, st.last_error.code, &st.last_error, f->path);
        expect_old_served(f->h, fx->what);
        /* Back to the old content, which is what is live: nothing to do. */
        st = live_status(f->h);
        live_put_rename(f->path, OLD);
        assert_true(wait_attempt(f->h, st.last_attempt_time_ns, LIVE_WAIT_MS));
        assert_true(live_status(f->h).last_reload_ok);
        expect_old_served(f->h, fx->what);
    }
    live_put_rename(f->path, NEW);
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_file_read_errors, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_load_file_harmless_faults, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_reload_read_errors, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_watcher_read_errors, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
