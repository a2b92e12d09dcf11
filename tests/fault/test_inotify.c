/*
 * inotify queue overflow, simulated: the events of an edit are thrown away
 * (the test first checks that, without more, the edit is indeed lost), then
 * the watcher reads an IN_Q_OVERFLOW event, as after a real overflow.  It
 * must re-read the file in full - and resolve its symlink chain again, in
 * case the lost events were a Kubernetes-style swap - so that the edit goes
 * live.  Also: an overflow with nothing changed publishes nothing and keeps
 * the status clean, and a handle whose inotify cannot be set up polls.
 *
 * A real overflow needs more events queued than
 * /proc/sys/fs/inotify/max_queued_events, a system-wide setting (root only)
 * that this test leaves alone; the watcher thread reads too fast to flood
 * it.  tests/live/test_external.c overflows a real queue with the default
 * limit through a handle whose host loop does not read.
 */
#include "fault_test.h"

#define V1 "v: 1\nname: first\n"
#define V2 "v: 2\nname: second\n"
#define V3 "v: 3\nname: third\n"

static struct fault_log log_lines = {.lock = PTHREAD_MUTEX_INITIALIZER};

static snapconf *open_logged(const char *path)
{
    fault_log_clear(&log_lines);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.log = fault_log_cb;
    o.log_userdata = &log_lines;
    o.log_level = SNAPCONF_LOG_WARNING;
    snapconf *h = live_open(path, &o);
    assert_int_equal(live_status(h).watch, SNAPCONF_WATCHING_INOTIFY);
    return h;
}

/* Writes a file the handle does not care about, in its directory: an event
 * that wakes the watcher and nothing else. */
static void poke(const char *dir)
{
    char other[PATH_MAX];
    live_put_trunc(live_join(other, dir, "unrelated.txt"), "x\n");
}

/*
 * Runs edit() with every inotify event thrown away and checks that it is
 * lost (no reload attempt within the settle time), then has the watcher
 * read IN_Q_OVERFLOW (woken by an unrelated write) and waits for the edit
 * to go live as generation g.
 */
static void lose_then_overflow(struct live_fx *f, void (*edit)(struct live_fx *f), uint64_t g)
{
    snapconf_status_info st = live_status(f->h);
    fault_inotify_drop_arm();
    edit(f);
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (fault_inotify_dropped() == 0 && live_now_ms() < end)
        live_sleep_ms(1);
    live_sleep_ms(LIVE_SETTLE_MS);
    size_t dropped = fault_inotify_dropped();
    snapconf_status_info lost = live_status(f->h);
    if (dropped == 0 || lost.last_attempt_time_ns != st.last_attempt_time_ns ||
        live_gen(f->h) != g - 1) {
        fault_inotify_disarm(NULL);
        fail_msg("the edit's events were not lost: %zu dropped, generation %llu", dropped,
                 (unsigned long long)live_gen(f->h));
    }

    fault_inotify_overflow_arm();
    poke(f->dir);
    uint64_t got = wait_generation(f->h, g, LIVE_WAIT_MS);
    bool delivered;
    dropped = fault_inotify_disarm(&delivered);
    assert_true(delivered);
    if (got != g)
        fail_msg("after IN_Q_OVERFLOW the edit did not go live: generation %llu, wanted %llu",
                 (unsigned long long)got, (unsigned long long)g);
    print_message("    %zu event(s) lost, then IN_Q_OVERFLOW: generation %llu\n", dropped,
                  (unsigned long long)g);
    assert_true(fault_log_has(&log_lines, "inotify queue overflowed"));

    /* The status tells a normal story: inotify still, the reload fine. */
    snapconf_status_info now = live_status(f->h);
    assert_int_equal(now.watch, SNAPCONF_WATCHING_INOTIFY);
    assert_true(now.last_reload_ok);
    assert_int_equal(now.generation, g);
    assert_int_equal(now.failed_reloads, st.failed_reloads);
}

static void edit_rename(struct live_fx *f)
{
    live_put_rename(f->path, V2);
}

static void edit_in_place(struct live_fx *f)
{
    live_put_trunc(f->path, V2);
}

static void test_overflow_rename_edit(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, V1);
    f->h = open_logged(f->path);
    lose_then_overflow(f, edit_rename, 2);
    assert_int_equal(live_int_or(f->h, "v", -1), 2);
    expect_published_is_file(f->h, f->path);

    /* Events flow normally afterwards. */
    live_put_rename(f->path, V3);
    expect_exactly(f->h, 3);
    assert_int_equal(live_int_or(f->h, "v", -1), 3);
}

static void test_overflow_in_place_edit(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, V1);
    f->h = open_logged(f->path);
    lose_then_overflow(f, edit_in_place, 2);
    assert_int_equal(live_int_or(f->h, "v", -1), 2);
    live_put_trunc(f->path, V3);
    expect_exactly(f->h, 3);
}

/* A Kubernetes ConfigMap volume: app.yaml -> ..data/app.yaml, ..data ->
 * ..v1.  An update writes ..v2, swaps ..data over to it and removes ..v1;
 * here every event of that is lost.  After the overflow the watcher must
 * follow the chain to ..v2 again: an in-place edit there is seen. */
static char *version_dir(char *out, const char *dir, int v)
{
    char name[16];
    snprintf(name, sizeof name, "..v%d", v);
    return live_join(out, dir, name);
}

static void put_version(const char *dir, int v, const char *content)
{
    char vdir[PATH_MAX], file[PATH_MAX];
    version_dir(vdir, dir, v);
    assert_int_equal(mkdir(vdir, 0755), 0);
    live_put_trunc(live_join(file, vdir, "app.yaml"), content);
}

static void swap_to_v2(struct live_fx *f)
{
    char tmp[PATH_MAX], data[PATH_MAX], v1[PATH_MAX];
    put_version(f->dir, 2, V2);
    live_join(tmp, f->dir, "..data_tmp");
    live_join(data, f->dir, "..data");
    assert_int_equal(symlink("..v2", tmp), 0);
    assert_int_equal(rename(tmp, data), 0);
    live_rm_rf(version_dir(v1, f->dir, 1));
}

static void test_overflow_configmap_swap(void **state)
{
    struct live_fx *f = *state;
    char data[PATH_MAX];
    put_version(f->dir, 1, V1);
    assert_int_equal(symlink("..v1", live_join(data, f->dir, "..data")), 0);
    assert_int_equal(symlink("..data/app.yaml", f->path), 0);
    f->h = open_logged(f->path);
    lose_then_overflow(f, swap_to_v2, 2);
    assert_int_equal(live_int_or(f->h, "v", -1), 2);

    /* Only a watch on ..v2, set up after the overflow, sees this. */
    char v2[PATH_MAX], file[PATH_MAX];
    live_put_trunc(live_join(file, version_dir(v2, f->dir, 2), "app.yaml"), V3);
    expect_exactly(f->h, 3);
    assert_int_equal(live_int_or(f->h, "v", -1), 3);
}

/* Nothing changed: the overflow costs a re-read, publishes nothing, and
 * leaves the status clean. */
static void test_overflow_without_change(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, V1);
    f->h = open_logged(f->path);
    snapconf_status_info st = live_status(f->h);
    fault_inotify_overflow_arm();
    poke(f->dir);
    bool attempted = wait_attempt(f->h, st.last_attempt_time_ns, LIVE_WAIT_MS);
    bool delivered;
    fault_inotify_disarm(&delivered);
    assert_true(delivered);
    assert_true(attempted);
    live_sleep_ms(LIVE_SETTLE_MS);
    snapconf_status_info now = live_status(f->h);
    assert_int_equal(now.generation, 1);
    assert_int_equal(live_gen(f->h), 1);
    assert_true(now.last_reload_ok);
    assert_int_equal(now.reloads, 0);
    assert_int_equal(now.failed_reloads, 0);
    assert_int_equal(now.watch, SNAPCONF_WATCHING_INOTIFY);
    assert_true(fault_log_has(&log_lines, "inotify queue overflowed"));
}

/* inotify_init1 fails (EMFILE): the handle polls and says why, and the
 * edit still goes live; closing it gives back every resource. */
static void test_inotify_unavailable(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, V1);
    snapconf_close(open_logged(f->path)); /* warm-up: thread stacks */
    struct fault_resources res = fault_resources_now();
    fault_inotify_init_arm(EMFILE);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    snapconf *h = NULL;
    snapconf_error err;
    int rc = snapconf_open(&h, f->path, &o, &err);
    assert_true(fault_inotify_init_disarm());
    if (rc != 0)
        fail_msg("snapconf_open: %s", err.message);
    f->h = h;
    snapconf_status_info st = live_status(h);
    assert_int_equal(st.watch, SNAPCONF_WATCHING_POLL);
    if (!strstr(st.watch_note, "inotify is unavailable") ||
        !strstr(st.watch_note, strerror(EMFILE)))
        fail_msg("watch_note: \"%s\"", st.watch_note);
    live_put_rename(f->path, V2);
    assert_int_equal(wait_generation(h, 2, LIVE_WAIT_MS), 2);
    assert_int_equal(live_int_or(h, "v", -1), 2);
    snapconf_close(h);
    f->h = NULL;
    fault_expect_resources("closing a polling handle", 1, &res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_overflow_rename_edit, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_overflow_in_place_edit, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_overflow_configmap_swap, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_overflow_without_change, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_inotify_unavailable, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
