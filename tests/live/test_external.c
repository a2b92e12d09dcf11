/*
 * Hosts with their own event loop (SNAPCONF_WATCH_EXTERNAL), polling mode,
 * and the status fields.
 */
#include "live.h"

#include <grp.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/wait.h>

struct thread_rec {
    pthread_t thread;
    int calls;
};

static void record_thread(void *ud, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                          const snapconf_change *changes, size_t count)
{
    (void)old_snap;
    (void)new_snap;
    (void)changes;
    (void)count;
    struct thread_rec *r = ud;
    r->thread = pthread_self();
    r->calls++;
}

/* Runs the host's loop: poll the fd, process, until the generation reaches
 * g; returns the generation reached.  Counts wake-ups in *wakeups. */
static uint64_t drive_until(snapconf *h, uint64_t g, int *wakeups)
{
    int fd = snapconf_fd(h);
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (live_gen(h) < g && live_now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 100);
        assert_true(n >= 0);
        if (n > 0) {
            assert_true(p.revents & POLLIN);
            ++*wakeups;
            assert_int_equal(snapconf_process(h), 0);
        }
    }
    return live_gen(h);
}

static void test_external_event_loop(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "v: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_EXTERNAL);
    f->h = live_open(f->path, &o);
    int fd = snapconf_fd(f->h);
    assert_true(fd >= 0);
    assert_int_equal(snapconf_fd(f->h), fd); /* stable */
    assert_int_equal(live_status(f->h).watch, SNAPCONF_WATCHING_INOTIFY);
    static struct thread_rec rec;
    memset(&rec, 0, sizeof rec);
    assert_true(snapconf_subscribe(f->h, "", record_thread, &rec) > 0);

    /* Nothing pending: not readable, and processing is a no-op. */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(snapconf_process(f->h), 0);

    for (int v = 2; v <= 4; v++) {
        char buf[32];
        uint64_t g = live_gen(f->h);
        snprintf(buf, sizeof buf, "v: %d\n", v);
        live_put_rename(f->path, buf);
        /* The fd becomes readable after the edit. */
        p.revents = 0;
        assert_int_equal(poll(&p, 1, LIVE_WAIT_MS), 1);
        assert_true(p.revents & POLLIN);
        /* No hidden thread: without snapconf_process nothing is published,
         * even well after the debounce window. */
        live_sleep_ms(LIVE_SETTLE_MS);
        assert_int_equal(live_gen(f->h), g);
        int wakeups = 0;
        assert_int_equal(drive_until(f->h, g + 1, &wakeups), g + 1);
        assert_true(wakeups >= 1);
        assert_int_equal(live_int_or(f->h, "v", -1), v);
        /* The reload, and so the callback, ran on this thread. */
        assert_int_equal(rec.calls, v - 1);
        assert_true(pthread_equal(rec.thread, pthread_self()));
    }
    /* Once quiet, processing everything leaves the fd idle and publishes
     * nothing more. */
    for (int i = 0; i < 50; i++) {
        p.revents = 0;
        if (poll(&p, 1, 5) > 0)
            assert_int_equal(snapconf_process(f->h), 0);
    }
    p.revents = 0;
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(live_gen(f->h), 4);
}

static void test_fd_and_process_in_other_modes(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "v: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(f->path, &o);
    assert_int_equal(snapconf_fd(f->h), -1);
    assert_int_equal(snapconf_process(f->h), SNAPCONF_EINVAL);
    snapconf_close(f->h);
    o.watch = SNAPCONF_WATCH_NONE;
    f->h = live_open(f->path, &o);
    assert_int_equal(snapconf_fd(f->h), -1);
    assert_int_equal(snapconf_process(f->h), SNAPCONF_EINVAL);
    assert_int_equal(live_status(f->h).watch, SNAPCONF_WATCHING_NONE);
    /* Without a watcher, edits wait for snapconf_reload. */
    live_put_rename(f->path, "v: 2\n");
    live_sleep_ms(LIVE_SETTLE_MS);
    assert_int_equal(live_gen(f->h), 1);
    assert_int_equal(snapconf_reload(f->h, NULL), 0);
    assert_int_equal(live_int_or(f->h, "v", -1), 2);
    assert_int_equal(snapconf_fd(NULL), -1);
    assert_int_equal(snapconf_process(NULL), SNAPCONF_EINVAL);
}

/* ------------------------------------------------------------------------- */
/* Polling                                                                    */

static void test_polling_mode(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "v: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.poll_ms = 20;
    f->h = live_open(f->path, &o);
    snapconf_status_info st = live_status(f->h);
    assert_int_equal(st.watch, SNAPCONF_WATCHING_POLL);
    assert_true(strlen(st.watch_note) > 0);

    /* Rename over. */
    live_put_rename(f->path, "v: 2\n");
    assert_int_equal(wait_generation(f->h, 2, LIVE_WAIT_MS), 2);
    assert_int_equal(live_int_or(f->h, "v", -1), 2);
    /* In place, same size, same second: only the content hash tells. */
    live_put_trunc(f->path, "v: 3\n");
    assert_int_equal(wait_generation(f->h, 3, LIVE_WAIT_MS), 3);
    assert_int_equal(live_int_or(f->h, "v", -1), 3);
    /* Deleted: an error, the old snapshot kept; back: loaded. */
    assert_int_equal(unlink(f->path), 0);
    assert_true(wait_failed(f->h, 1, LIVE_WAIT_MS) >= 1);
    assert_int_equal(live_int_or(f->h, "v", -1), 3);
    live_put_trunc(f->path, "v: 4\n");
    assert_int_equal(wait_generation(f->h, 4, LIVE_WAIT_MS), 4);
    assert_int_equal(live_int_or(f->h, "v", -1), 4);
    /* Quiet file: nothing more is published. */
    live_sleep_ms(LIVE_SETTLE_MS + 40);
    assert_int_equal(live_gen(f->h), 4);
    assert_true(live_status(f->h).last_reload_ok);
}

/* Polling through the host's loop. */
static void test_polling_external(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "v: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_EXTERNAL);
    o.poll_ms = 10;
    f->h = live_open(f->path, &o);
    assert_true(snapconf_fd(f->h) >= 0);
    assert_int_equal(live_status(f->h).watch, SNAPCONF_WATCHING_POLL);
    live_put_rename(f->path, "v: 2\n");
    int wakeups = 0;
    assert_int_equal(drive_until(f->h, 2, &wakeups), 2);
    assert_int_equal(live_int_or(f->h, "v", -1), 2);
}

/* ------------------------------------------------------------------------- */
/* Status                                                                     */

static void check_status_matches_snapshot(snapconf *h, const char *path)
{
    snapconf_status_info st = live_status(h);
    const snapconf_snap *s = snapconf_snap_begin(h);
    assert_int_equal(st.generation, snapconf_snap_generation(s));
    assert_string_equal(st.content_hash, snapconf_snap_content_hash(s));
    assert_int_equal(strlen(st.content_hash), 32);
    assert_int_equal(st.memory, snapconf_snap_memory(s));
    assert_int_equal(st.nodes, snapconf_snap_node_count(s));
    assert_string_equal(snapconf_snap_source(s), path);
    snapconf_snap_end(h, s);
    assert_string_equal(st.source, path);
}

static void test_status_fields(void **state)
{
    struct live_fx *f = *state;
    struct timespec now;
    live_put_trunc(f->path, "a: 1\nb: [1, 2, 3]\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t t0 = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    f->h = live_open(f->path, &o);

    snapconf_status_info st = live_status(f->h);
    assert_int_equal(st.generation, 1);
    assert_int_equal(st.watch, SNAPCONF_WATCHING_INOTIFY);
    assert_true(st.last_load_time_ns >= t0);
    assert_true(st.last_load_time_ns < t0 + 60 * 1000000000LL);
    assert_true(st.last_attempt_time_ns >= st.last_load_time_ns);
    assert_int_equal(st.reloads, 0);
    assert_int_equal(st.failed_reloads, 0);
    assert_true(st.last_reload_ok);
    assert_int_equal(st.last_error.code, 0);
    assert_true(st.nodes >= 5);
    assert_true(st.memory > 0);
    check_status_matches_snapshot(f->h, f->path);
    char hash1[33];
    memcpy(hash1, st.content_hash, sizeof hash1);

    live_put_rename(f->path, "a: 2\nb: [1, 2, 3, 4]\n");
    expect_exactly(f->h, 2);
    snapconf_status_info st2 = live_status(f->h);
    assert_int_equal(st2.reloads, 1);
    assert_true(st2.last_load_time_ns > st.last_load_time_ns);
    assert_string_not_equal(st2.content_hash, hash1);
    assert_true(st2.nodes > st.nodes);
    check_status_matches_snapshot(f->h, f->path);

    /* A failure leaves the load time and the hash alone. */
    live_put_rename(f->path, "a: [\n");
    assert_int_equal(wait_failed(f->h, 1, LIVE_WAIT_MS), 1);
    snapconf_status_info st3 = live_status(f->h);
    assert_int_equal(st3.last_load_time_ns, st2.last_load_time_ns);
    assert_true(st3.last_attempt_time_ns > st2.last_load_time_ns);
    assert_string_equal(st3.content_hash, st2.content_hash);
    assert_int_equal(st3.generation, 2);
    assert_int_equal(st3.reloads, 1);
    check_status_matches_snapshot(f->h, f->path);
    assert_int_equal(snapconf_status(NULL, &st), SNAPCONF_EINVAL);
    assert_int_equal(snapconf_status(f->h, NULL), SNAPCONF_EINVAL);
}

/* A handle opened with a relative path keeps following that file after the
 * process changes its working directory (as daemons do with chdir("/")):
 * the watcher and the reload must agree on which file it is. */
static void test_relative_path_after_chdir(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    live_put_trunc("rel.yaml", "x: 1\n");
    f->h = live_open("rel.yaml", &o);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(live_status(f->h).source, "rel.yaml");
    /* The watcher still watches the right file after the cwd changed. */
    char rel[PATH_MAX];
    live_put_rename(live_join(rel, f->dir, "rel.yaml"), "x: 2\n");
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "x", -1), 2);
    /* And so does snapconf_reload. */
    live_put_rename(rel, "x: 3\n");
    snapconf_error err;
    int rc = snapconf_reload(f->h, &err);
    if (rc)
        fail_msg("snapconf_reload after chdir: %s", err.message);
    assert_int_equal(live_int_or(f->h, "x", -1), 3);
}

/* ------------------------------------------------------------------------- */
/* inotify queue overflow, and inotify not available at all                  */

static long read_proc_long(const char *path)
{
    FILE *fp = fopen(path, "r");
    long v = -1;
    if (fp) {
        if (fscanf(fp, "%ld", &v) != 1)
            v = -1;
        fclose(fp);
    }
    return v;
}

/* With an external loop the test decides when events are read: it floods
 * the watched directory past max_queued_events, so that the event of the
 * real edit that follows is lost and only IN_Q_OVERFLOW tells the watcher
 * something happened.  It must then re-read the file in full. */
static void test_queue_overflow_rereads(void **state)
{
    struct live_fx *f = *state;
    long max = read_proc_long("/proc/sys/fs/inotify/max_queued_events");
    assert_true(max > 0);
    assert_true(max <= 1000000); /* keeps the flood below reasonable */
    live_put_trunc(f->path, "v: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_EXTERNAL);
    f->h = live_open(f->path, &o);

    /* A probe instance of our own with the same queue limit proves that the
     * flood really overflows a queue. */
    int probe = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(probe >= 0);
    assert_true(inotify_add_watch(probe, f->dir, IN_MOVED_FROM | IN_MOVED_TO) >= 0);

    /* Each rename back and forth queues MOVED_FROM and MOVED_TO twice. */
    char a[PATH_MAX], b[PATH_MAX];
    live_join(a, f->dir, "noise-a");
    live_join(b, f->dir, "noise-b");
    live_put_trunc(a, "");
    for (long i = 0; i < max / 4 + 16; i++) {
        assert_int_equal(rename(a, b), 0);
        assert_int_equal(rename(b, a), 0);
    }
    live_put_rename(f->path, "v: 2\n"); /* its events are dropped */
    bool overflowed = false;
    char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(probe, buf, sizeof buf)) > 0)
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            overflowed |= (ev->mask & IN_Q_OVERFLOW) != 0;
            p += sizeof *ev + ev->len;
        }
    close(probe);
    assert_true(overflowed);
    int wakeups = 0;
    assert_int_equal(drive_until(f->h, 2, &wakeups), 2);
    assert_int_equal(live_int_or(f->h, "v", -1), 2);
}

/* When inotify cannot be set up (fs.inotify.max_user_instances used up),
 * the handle polls instead and says so in its status.  The instances are
 * used up by an unprivileged user in a forked child, so no other process
 * on the machine is affected. */
#define CHILD_CHECK(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "child, line %d: %s\n", __LINE__, #cond);                              \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

static void fallback_child(const char *path)
{
    if (geteuid() == 0)
        CHILD_CHECK(setgroups(0, NULL) == 0 && setgid(54321) == 0 && setuid(54321) == 0);
    /* Use up this user's inotify instances. */
    int fds[4096], n = 0;
    while (n < 4096 && (fds[n] = inotify_init1(IN_CLOEXEC)) >= 0)
        n++;
    CHILD_CHECK(n < 4096 && errno == EMFILE);
    FILE *fp = fopen(path, "w");
    CHILD_CHECK(fp);
    fputs("v: 1\n", fp);
    CHILD_CHECK(fclose(fp) == 0);
    snapconf *h = NULL;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    snapconf_error err;
    CHILD_CHECK(snapconf_open(&h, path, &o, &err) == 0);
    snapconf_status_info st;
    CHILD_CHECK(snapconf_status(h, &st) == 0);
    CHILD_CHECK(st.watch == SNAPCONF_WATCHING_POLL);
    CHILD_CHECK(strstr(st.watch_note, "inotify") != NULL);
    /* And it does notice an edit, by polling. */
    fp = fopen(path, "w");
    CHILD_CHECK(fp);
    fputs("v: 22\n", fp);
    CHILD_CHECK(fclose(fp) == 0);
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    int64_t v = 0;
    while (v != 22 && live_now_ms() < end) {
        live_sleep_ms(5);
        const snapconf_snap *s = snapconf_snap_begin(h);
        v = snapconf_get_int_or(s, "v", -1);
        snapconf_snap_end(h, s);
    }
    CHILD_CHECK(v == 22);
    snapconf_close(h);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    _exit(0);
}

static void test_no_inotify_falls_back_to_polling(void **state)
{
    struct live_fx *f = *state;
    assert_int_equal(chmod(f->dir, 0777), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        fallback_child(f->path);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_external_event_loop, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_fd_and_process_in_other_modes, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_polling_mode, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_polling_external, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_status_fields, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_relative_path_after_chdir, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_queue_overflow_rereads, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_no_inotify_falls_back_to_polling, live_setup,
                                        live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
