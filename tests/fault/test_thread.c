/*
 * Threads that fail to start: snapconf_open() is run with its Nth
 * pthread_create failing (EAGAIN, as when the process is out of threads or
 * memory for a stack), N = 1, 2, ... until it starts all it needs: the
 * reclaimer (every mode but SNAPCONF_WATCH_EXTERNAL) and the watcher
 * (SNAPCONF_WATCH_THREAD).  Each failure must be a clean SNAPCONF_ESYS
 * naming the file, with no handle returned and every thread, descriptor
 * and heap block given back.
 */
#include "fault_test.h"

#define GOOD "a: 1\nlist: [x, y]\n"

static void open_with_thread_failures(struct live_fx *f, snapconf_watch_mode mode, const char *what,
                                      unsigned threads)
{
    snapconf_options o = live_opts(mode);
    /* One open and close first: glibc caches the stacks of ended threads. */
    snapconf_close(live_open(f->path, &o));
    for (unsigned n = 1; n <= threads + 1; n++) {
        struct fault_resources res = fault_resources_now();
        snapconf *h = HANDLE_SENTINEL;
        snapconf_error err;
        fault_poison(&err);
        fault_thread_arm(n, EAGAIN);
        int rc = snapconf_open(&h, f->path, &o, &err);
        bool fired = fault_thread_disarm();
        unsigned seen = fault_thread_seen();
        if (!fired) {
            if (rc != 0)
                fail_msg("%s: failed with every thread starting: %s", what, err.message);
            if (seen != threads)
                fail_msg("%s: started %u threads, expected %u", what, seen, threads);
            assert_int_equal(live_gen(h), 1);
            assert_int_equal(live_int_or(h, "a", -1), 1);
            snapconf_close(h);
            fault_expect_resources(what, n, &res);
            print_message("    %s: %u attempts\n", what, n);
            return;
        }
        if (rc == 0) {
            snapconf_close(h);
            fail_msg("%s: thread %u did not start, yet snapconf_open succeeded", what, n);
        }
        fault_expect_error(what, n, rc, SNAPCONF_ESYS, &err, f->path, strerror(EAGAIN));
        if (!strstr(err.message, n == 1 ? "reclaimer thread" : "cannot start watching"))
            fail_msg("%s, attempt %u: the message does not say what failed: %s", what, n,
                     err.message);
        print_message("    %s, thread %u fails: %s\n", what, n, err.message);
        if (h != HANDLE_SENTINEL)
            fail_msg("%s, attempt %u: the failed open wrote *out", what, n);
        fault_expect_resources(what, n, &res);
    }
    fail_msg("%s: snapconf_open still failing after %u attempts", what, threads + 1);
}

static void test_watcher_thread_mode(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, GOOD);
    open_with_thread_failures(f, SNAPCONF_WATCH_THREAD, "watcher thread mode", 2);
}

static void test_no_watching_mode(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, GOOD);
    open_with_thread_failures(f, SNAPCONF_WATCH_NONE, "no watching", 1);
}

static void test_external_mode_starts_no_thread(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, GOOD);
    open_with_thread_failures(f, SNAPCONF_WATCH_EXTERNAL, "external loop", 0);
}

/* A handle whose open failed leaves nothing behind that a later open of the
 * same file could trip over: the next one works, watcher and all. */
static void test_open_after_failure(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, GOOD);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    snapconf *h = HANDLE_SENTINEL;
    fault_thread_arm(2, EAGAIN);
    int rc = snapconf_open(&h, f->path, &o, NULL);
    assert_true(fault_thread_disarm());
    assert_int_equal(rc, SNAPCONF_ESYS);
    f->h = live_open(f->path, &o);
    live_put_rename(f->path, "a: 2\n");
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "a", -1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_watcher_thread_mode, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_no_watching_mode, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_external_mode_starts_no_thread, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_open_after_failure, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
