/*
 * Allocation failures: every operation is run again and again with its
 * Nth allocation failing, N = 1, 2, ... until a run sees no failure.  Each
 * failed run must end in SNAPCONF_ENOMEM with a message naming the file,
 * hand out nothing, leak nothing, and - on a live handle - leave the old
 * snapshot published and readable with the failure in the status.
 *
 * Loads: conf/example.yaml and tests/fault/anchors.yaml (anchors, aliases,
 * merge keys, tags, an indexed mapping, a long float), from a file and from
 * memory, plus a generated config with many keys and anchors.  Live
 * handles: snapconf_reload(), with and without a subscriber; the watcher's
 * reload through snapconf_process() and on its own thread; snapconf_open()
 * in each watch mode.
 */
#include "fault_test.h"

#include <poll.h>

/* Keeps the loops finite if the failure stopped firing for some reason
 * other than the operation running out of allocations to fail. */
#define MAX_ATTEMPTS 200000ul

/* Loads done once before any loop: one-time set-up (the hash seed, the C
 * locale for floats) must not be mistaken for a leak. */
static void warm_up(void)
{
    snapconf_snap *s = NULL;
    assert_int_equal(snapconf_snap_load_file(FAULT_ANCHORS, &s, NULL), 0);
    snapconf_snap_free(s);
    assert_int_equal(snapconf_snap_load_file(FAULT_EXAMPLE, &s, NULL), 0);
    snapconf_snap_free(s);
}

static int count_change(void *ud, const snapconf_change *c)
{
    (void)c;
    ++*(int *)ud;
    return 0;
}

/* Fails unless a and b hold the same tree (snapconf_diff finds nothing). */
static void expect_same_tree(const char *what, const snapconf_snap *a, const snapconf_snap *b)
{
    int changes = 0;
    assert_int_equal(snapconf_diff(a, b, count_change, &changes), 0);
    if (changes)
        fail_msg("%s: the snapshot differs from the reference in %d place(s)", what, changes);
    assert_int_equal(snapconf_snap_node_count(a), snapconf_snap_node_count(b));
    assert_int_equal(snapconf_snap_memory(a), snapconf_snap_memory(b));
}

/* ------------------------------------------------------------------------- */
/* Loading                                                                    */

struct load_case {
    const char *what;
    const char *path; /* loaded from the file when buf is NULL */
    const char *buf;
    size_t len;
};

static int load_case_run(const struct load_case *c, snapconf_snap **out, snapconf_error *err)
{
    if (c->buf)
        return snapconf_snap_load_buffer(c->buf, c->len, c->path, out, err);
    return snapconf_snap_load_file(c->path, out, err);
}

/* The loop itself; returns the number of attempts (the last one clean). */
static unsigned long load_every_allocation(const struct load_case *c)
{
    snapconf_snap *ref = NULL;
    snapconf_error err;
    if (load_case_run(c, &ref, &err) != 0)
        fail_msg("%s: the reference load failed: %s", c->what, err.message);
    for (unsigned long n = 1; n < MAX_ATTEMPTS; n++) {
        snapconf_snap *snap = SNAP_SENTINEL;
        fault_poison(&err);
        long before = fault_alloc_live();
        fault_alloc_arm(n, FAULT_THIS_THREAD);
        int rc = load_case_run(c, &snap, &err);
        bool fired = fault_alloc_disarm();
        long after = fault_alloc_live();
        if (!fired) {
            if (rc != 0)
                fail_msg("%s: failed with no allocation failing: %s", c->what, err.message);
            expect_same_tree(c->what, ref, snap);
            snapconf_snap_free(snap);
            snapconf_snap_free(ref);
            print_message("    %s: %lu attempts (%lu allocations, %s)\n", c->what, n,
                          fault_alloc_seen(), fault_alloc_mechanism());
            return n;
        }
        if (rc == 0) {
            int changes = 0;
            snapconf_diff(ref, snap, count_change, &changes);
            snapconf_snap_free(snap);
            fail_msg("%s: allocation %lu failed, yet the load succeeded (its snapshot differs "
                     "from the reference in %d place(s))",
                     c->what, n, changes);
        }
        fault_expect_error(c->what, n, rc, SNAPCONF_ENOMEM, &err, c->path, "out of memory");
        if (snap != SNAP_SENTINEL)
            fail_msg("%s, attempt %lu: the failed load wrote *out", c->what, n);
        if (after != before)
            fail_msg("%s, attempt %lu: %ld block(s) leaked", c->what, n, after - before);
    }
    fail_msg("%s: still failing after %lu attempts", c->what, MAX_ATTEMPTS);
    return 0;
}

static void test_load_file(void **state)
{
    (void)state;
    warm_up();
    const struct load_case cases[] = {
        {"load_file example.yaml", FAULT_EXAMPLE, NULL, 0},
        {"load_file anchors.yaml", FAULT_ANCHORS, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_true(load_every_allocation(&cases[i]) > 10);
}

/* Many distinct keys (the key table grows several times), mappings large
 * enough to be indexed, a dozen anchors and merges of them. */
static char *generated_config(size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
#define PUT(...) (n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__), assert_true(n < cap))
    for (int a = 0; a < 12; a++)
        PUT("anchor_%d: &a%d {x%d: %d, y%d: \"v%d\", shared: %d}\n", a, a, a, a, a, a, a);
    PUT("keys:\n");
    for (int k = 0; k < 300; k++)
        PUT("  key_%03d: %d\n", k, k);
    PUT("records:\n");
    for (int r = 0; r < 24; r++)
        PUT("  - {<<: [*a%d, *a%d], id: %d, name: rec%d}\n", r % 12, (r + 5) % 12, r, r);
#undef PUT
    *len = n;
    return buf;
}

static void test_load_buffer(void **state)
{
    (void)state;
    warm_up();
    size_t elen, alen, glen;
    char *example = live_slurp(FAULT_EXAMPLE, &elen);
    char *anchors = live_slurp(FAULT_ANCHORS, &alen);
    char *generated = generated_config(&glen);
    const struct load_case cases[] = {
        {"load_buffer example.yaml", "example.yaml", example, elen},
        {"load_buffer anchors.yaml", "anchors.yaml", anchors, alen},
        {"load_buffer generated", "generated.yaml", generated, glen},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_true(load_every_allocation(&cases[i]) > 10);
    free(example);
    free(anchors);
    free(generated);
}

/* ------------------------------------------------------------------------- */
/* Live handles: snapconf_reload                                              */

static void copy_file(const char *from, const char *to)
{
    char *bytes = live_slurp(from, NULL);
    live_put_rename(to, bytes);
    free(bytes);
}

/* The values of example.yaml (generation 1) still served. */
static void expect_example_served(snapconf *h, const char *what, unsigned long n)
{
    uint64_t g = live_gen(h);
    int64_t port = live_int_or(h, "server.port", -1);
    int64_t pool = live_int_or(h, "database.primary.pool_size", -1);
    if (g != 1 || port != 8080 || pool != 20)
        fail_msg("%s, attempt %lu: generation %llu, server.port %lld, pool_size %lld; the old "
                 "snapshot (generation 1, 8080, 20) should still be served",
                 what, n, (unsigned long long)g, (long long)port, (long long)pool);
}

struct sub_count {
    atomic_int calls;
    atomic_int changes;
};

static void on_change(void *ud, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                      const snapconf_change *changes, size_t count)
{
    (void)old_snap;
    (void)new_snap;
    (void)changes;
    struct sub_count *s = ud;
    atomic_fetch_add(&s->calls, 1);
    atomic_fetch_add(&s->changes, (int)count);
}

/* Opens example.yaml, replaces it with anchors.yaml and reloads with each
 * allocation failing in turn; with_sub adds a subscriber, which must be
 * called exactly once, by the one reload that succeeds. */
static void reload_every_allocation(struct live_fx *f, bool with_sub)
{
    const char *what = with_sub ? "snapconf_reload with a subscriber" : "snapconf_reload";
    warm_up();
    copy_file(FAULT_EXAMPLE, f->path);
    snapconf_options o = live_opts(SNAPCONF_WATCH_NONE);
    f->h = live_open(f->path, &o);
    static struct sub_count sub;
    atomic_store(&sub.calls, 0);
    atomic_store(&sub.changes, 0);
    if (with_sub)
        assert_true(snapconf_subscribe(f->h, "", on_change, &sub) > 0);
    copy_file(FAULT_ANCHORS, f->path);
    expect_example_served(f->h, what, 0);
    for (unsigned long n = 1; n < MAX_ATTEMPTS; n++) {
        snapconf_error err;
        fault_poison(&err);
        long before = fault_alloc_live();
        fault_alloc_arm(n, FAULT_THIS_THREAD);
        int rc = snapconf_reload(f->h, &err);
        bool fired = fault_alloc_disarm();
        long after = fault_alloc_live();
        if (!fired) {
            if (rc != 0)
                fail_msg("%s: failed with no allocation failing: %s", what, err.message);
            assert_int_equal(live_gen(f->h), 2);
            assert_int_equal(live_int_or(f->h, "services.api.port", -1), 8080);
            assert_int_equal(live_status(f->h).failed_reloads, n - 1);
            if (with_sub && (atomic_load(&sub.calls) != 1 || atomic_load(&sub.changes) == 0))
                fail_msg("%s: the subscriber was called %d times, with %d changes, for the one "
                         "publication",
                         what, atomic_load(&sub.calls), atomic_load(&sub.changes));
            print_message("    %s: %lu attempts (%lu allocations, %s)\n", what, n,
                          fault_alloc_seen(), fault_alloc_mechanism());
            return;
        }
        if (rc == 0)
            fail_msg("%s: allocation %lu failed, yet the reload succeeded (generation %llu, "
                     "subscriber called %d times)",
                     what, n, (unsigned long long)live_gen(f->h), atomic_load(&sub.calls));
        fault_expect_error(what, n, rc, SNAPCONF_ENOMEM, &err, f->path, "out of memory");
        if (after != before)
            fail_msg("%s, attempt %lu: %ld block(s) leaked", what, n, after - before);
        expect_example_served(f->h, what, n);
        snapconf_status_info st = live_status(f->h);
        assert_int_equal(st.generation, 1);
        assert_false(st.last_reload_ok);
        assert_int_equal(st.failed_reloads, n);
        assert_int_equal(st.last_error.code, SNAPCONF_ENOMEM);
        assert_string_equal(st.last_error.message, err.message);
        assert_int_equal(atomic_load(&sub.calls), 0);
    }
    fail_msg("%s: still failing after %lu attempts", what, MAX_ATTEMPTS);
}

static void test_reload(void **state)
{
    reload_every_allocation(*state, false);
}

static void test_reload_with_subscriber(void **state)
{
    reload_every_allocation(*state, true);
}

/* ------------------------------------------------------------------------- */
/* Live handles: the watcher's reload                                         */

#define SMALL_A "a: 1\nname: &n first\nalias: *n\nlist: [x, y]\n"
#define SMALL_B "a: 2\nname: &n second\nalias: *n\nlist: [x, y, z]\nextra: {k: v}\n"

/* What the watcher logs when it cannot refresh its watches. */
#define WATCHES_KEPT "keeping the current watches"

/* How one reload attempt by the watcher ended. */
enum attempt {
    ATTEMPT_CLEAN,       /* nothing failed: SMALL_B is published */
    ATTEMPT_FAILED,      /* the reload failed with ENOMEM, SMALL_A still served */
    ATTEMPT_BOOKKEEPING, /* the watcher's own bookkeeping failed, logged; SMALL_B published */
};

/* Checks what one attempt left behind.  A failure either hit the reload
 * (ENOMEM in the status, the old snapshot kept) or the watcher's
 * bookkeeping of its watches, which it must log while the reload goes
 * ahead; it may never pass unnoticed. */
static enum attempt check_watcher_attempt(snapconf *h, struct fault_log *log, const char *what,
                                          unsigned long n, bool fired, uint64_t failed_before)
{
    snapconf_status_info st = live_status(h);
    int64_t a = live_int_or(h, "a", -1);
    if (!fired) {
        if (!st.last_reload_ok || a != 2)
            fail_msg("%s: failed with no allocation failing: %s", what, st.last_error.message);
        return ATTEMPT_CLEAN;
    }
    if (a == 2) {
        if (!fault_log_has(log, WATCHES_KEPT))
            fail_msg("%s: allocation %lu failed, yet the reload published and the watcher "
                     "logged nothing about it: \"%s\"",
                     what, n, log->text);
        assert_true(st.last_reload_ok);
        return ATTEMPT_BOOKKEEPING;
    }
    if (st.last_reload_ok || st.failed_reloads != failed_before + 1 ||
        st.last_error.code != SNAPCONF_ENOMEM)
        fail_msg("%s, attempt %lu: allocation failed, but the status says ok %d, %llu failures "
                 "(%llu before), last error %s: %s",
                 what, n, st.last_reload_ok, (unsigned long long)st.failed_reloads,
                 (unsigned long long)failed_before, snapconf_err_name(st.last_error.code),
                 st.last_error.message);
    fault_expect_error(what, n, st.last_error.code, SNAPCONF_ENOMEM, &st.last_error, NULL,
                       "out of memory");
    assert_int_equal(a, 1);
    assert_int_equal(live_gen(h), st.generation);
    return ATTEMPT_FAILED;
}

/* Polls and processes until the status records a new attempt. */
static void drive_one_attempt(snapconf *h, int64_t since)
{
    int fd = snapconf_fd(h);
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (live_status(h).last_attempt_time_ns == since) {
        if (live_now_ms() >= end) {
            fault_alloc_disarm();
            fail_msg("no reload attempt within %d ms", LIVE_WAIT_MS);
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0)
            snapconf_process(h);
    }
}

/* Puts SMALL_A back, unarmed, and waits until it is served. */
static void restore_small_a(snapconf *h, const char *path, bool external)
{
    uint64_t g = live_gen(h);
    live_put_trunc(path, SMALL_A);
    if (external)
        drive_one_attempt(h, live_status(h).last_attempt_time_ns);
    else
        wait_generation(h, g + 1, LIVE_WAIT_MS);
    assert_int_equal(live_gen(h), g + 1);
    assert_int_equal(live_int_or(h, "a", -1), 1);
}

/* Edits SMALL_A into SMALL_B with each allocation failing in turn, the
 * watcher reloading on this thread (external) or its own. */
static void watcher_every_allocation(struct live_fx *f, bool external)
{
    const char *what = external ? "snapconf_process" : "watcher thread";
    warm_up();
    static struct fault_log log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    fault_log_clear(&log);
    live_put_trunc(f->path, SMALL_A);
    snapconf_options o = live_opts(external ? SNAPCONF_WATCH_EXTERNAL : SNAPCONF_WATCH_THREAD);
    o.log = fault_log_cb;
    o.log_userdata = &log;
    o.log_level = SNAPCONF_LOG_WARNING;
    f->h = live_open(f->path, &o);
    (void)live_gen(f->h); /* this thread's RCU registration, outside the loop */
    unsigned long bookkeeping = 0;
    for (unsigned long n = 1; n < MAX_ATTEMPTS; n++) {
        snapconf_status_info st = live_status(f->h);
        fault_log_clear(&log);
        long before = fault_alloc_live();
        bool fired;
        if (external) {
            live_put_trunc(f->path, SMALL_B);
            fault_alloc_arm(n, FAULT_THIS_THREAD);
            drive_one_attempt(f->h, st.last_attempt_time_ns);
            fired = fault_alloc_disarm();
        } else {
            /* Armed for every thread before the edit: the watcher reacts to
             * it on its own thread; this one only writes the file and
             * waits, which allocates nothing. */
            fault_alloc_arm(n, FAULT_ANY_THREAD);
            live_put_trunc(f->path, SMALL_B);
            bool attempted = wait_attempt(f->h, st.last_attempt_time_ns, LIVE_WAIT_MS);
            fired = fault_alloc_disarm();
            if (!attempted)
                fail_msg("%s, attempt %lu: no reload attempt", what, n);
        }
        long after = fault_alloc_live();
        switch (check_watcher_attempt(f->h, &log, what, n, fired, st.failed_reloads)) {
        case ATTEMPT_CLEAN:
            print_message("    %s: %lu attempts (%lu allocations, %s); %lu failure(s) hit the "
                          "watcher's bookkeeping\n",
                          what, n, fault_alloc_seen(), fault_alloc_mechanism(), bookkeeping);
            /* And the watcher still works. */
            restore_small_a(f->h, f->path, external);
            return;
        case ATTEMPT_BOOKKEEPING:
            bookkeeping++;
            if (external) {
                restore_small_a(f->h, f->path, true);
                break;
            }
            /* The reclaimer frees the replaced snapshot in its own time,
             * which would blur the next attempt's count: a new handle. */
            snapconf_close(f->h);
            live_put_trunc(f->path, SMALL_A);
            f->h = live_open(f->path, &o);
            break;
        case ATTEMPT_FAILED:
            if (after != before)
                fail_msg("%s, attempt %lu: %ld block(s) leaked", what, n, after - before);
            break;
        }
    }
    fail_msg("%s: still failing after %lu attempts", what, MAX_ATTEMPTS);
}

static void test_external_watcher(void **state)
{
    watcher_every_allocation(*state, true);
}

static void test_watcher_thread(void **state)
{
    watcher_every_allocation(*state, false);
}

/* ------------------------------------------------------------------------- */
/* snapconf_open                                                              */

static void open_every_allocation(struct live_fx *f, snapconf_watch_mode mode, const char *what)
{
    snapconf_options o = live_opts(mode);
    /* One open and close first: thread stacks (and their TLS blocks) are
     * cached by glibc after the first threads end. */
    snapconf_close(live_open(f->path, &o));
    for (unsigned long n = 1; n < MAX_ATTEMPTS; n++) {
        struct fault_resources res = fault_resources_now();
        snapconf *h = HANDLE_SENTINEL;
        snapconf_error err;
        fault_poison(&err);
        fault_alloc_arm(n, FAULT_ANY_THREAD);
        int rc = snapconf_open(&h, f->path, &o, &err);
        bool fired = fault_alloc_disarm();
        if (!fired) {
            if (rc != 0)
                fail_msg("%s: failed with no allocation failing: %s", what, err.message);
            assert_int_equal(live_gen(h), 1);
            assert_int_equal(live_int_or(h, "server.port", -1), 8080);
            snapconf_close(h);
            fault_expect_resources(what, n, &res);
            print_message("    %s: %lu attempts (%lu allocations, %s)\n", what, n,
                          fault_alloc_seen(), fault_alloc_mechanism());
            return;
        }
        if (rc == 0) {
            snapconf_close(h);
            fail_msg("%s: allocation %lu failed, yet snapconf_open succeeded", what, n);
        }
        fault_expect_error(what, n, rc, SNAPCONF_ENOMEM, &err, f->path, "memory");
        if (h != HANDLE_SENTINEL)
            fail_msg("%s, attempt %lu: the failed open wrote *out", what, n);
        fault_expect_resources(what, n, &res);
    }
    fail_msg("%s: still failing after %lu attempts", what, MAX_ATTEMPTS);
}

/* ------------------------------------------------------------------------- */
/* Layers                                                                     */

/* A main file, two drop-ins and an environment variable, loaded once
 * (snapconf_snap_load_layered) with each allocation failing in turn. */
static void test_load_layered(void **state)
{
    struct live_fx *f = *state;
    warm_up();
    char dir[PATH_MAX], p[PATH_MAX];
    live_join(dir, f->dir, "conf.d");
    assert_int_equal(mkdir(dir, 0755), 0);
    copy_file(FAULT_EXAMPLE, f->path);
    copy_file(FAULT_ANCHORS, live_join(p, dir, "10-anchors.yaml"));
    live_put_trunc(live_join(p, dir, "20-port.yaml"), "server: {port: 9090, tls: ~}\n");
    setenv("FAULTAPP_DATABASE__PRIMARY__POOL_SIZE", "40", 1);
    const char *dirs[] = {dir, NULL};
    snapconf_options o;
    snapconf_options_init(&o);
    o.dropin_dirs = dirs;
    o.env_prefix = "FAULTAPP_";
    snapconf_snap *ref = NULL;
    snapconf_error err;
    if (snapconf_snap_load_layered(f->path, &o, &ref, &err) != 0)
        fail_msg("the reference layered load failed: %s", err.message);
    assert_int_equal(snapconf_get_int_or(ref, "database.primary.pool_size", 0), 40);
    for (unsigned long n = 1; n < MAX_ATTEMPTS; n++) {
        snapconf_snap *snap = SNAP_SENTINEL;
        fault_poison(&err);
        long before = fault_alloc_live();
        fault_alloc_arm(n, FAULT_THIS_THREAD);
        int rc = snapconf_snap_load_layered(f->path, &o, &snap, &err);
        bool fired = fault_alloc_disarm();
        if (!fired) {
            assert_int_equal(rc, 0);
            expect_same_tree("layered load", ref, snap);
            snapconf_snap_free(snap);
            snapconf_snap_free(ref);
            unsetenv("FAULTAPP_DATABASE__PRIMARY__POOL_SIZE");
            print_message("    layered load: %lu attempts (%s)\n", n, fault_alloc_mechanism());
            return;
        }
        if (rc == 0)
            fail_msg("layered load: allocation %lu failed, yet the load succeeded", n);
        fault_expect_error("layered load", n, rc, SNAPCONF_ENOMEM, &err, NULL, "out of memory");
        if (snap != SNAP_SENTINEL)
            fail_msg("layered load, attempt %lu: the failed load wrote *out", n);
        fault_expect_no_leak("layered load", n, before);
    }
    fail_msg("layered load: still failing after %lu attempts", MAX_ATTEMPTS);
}

/* snapconf_set() with each allocation failing in turn: nothing published,
 * the old value served, nothing leaked; the clean run publishes once. */
static void test_set(void **state)
{
    struct live_fx *f = *state;
    warm_up();
    copy_file(FAULT_EXAMPLE, f->path);
    snapconf_options o = live_opts(SNAPCONF_WATCH_NONE);
    f->h = live_open(f->path, &o);
    for (unsigned long n = 1; n < MAX_ATTEMPTS; n++) {
        snapconf_error err;
        fault_poison(&err);
        long before = fault_alloc_live();
        fault_alloc_arm(n, FAULT_THIS_THREAD);
        int rc = snapconf_set(f->h, "server.port", "{nested: [1, 2]}", &err);
        bool fired = fault_alloc_disarm();
        if (!fired) {
            assert_int_equal(rc, 0);
            assert_int_equal(live_gen(f->h), 2);
            assert_int_equal(live_int_or(f->h, "server.port.nested[1]", -1), 2);
            print_message("    snapconf_set: %lu attempts (%s)\n", n, fault_alloc_mechanism());
            return;
        }
        if (rc == 0)
            fail_msg("snapconf_set: allocation %lu failed, yet the set succeeded", n);
        fault_expect_error("snapconf_set", n, rc, SNAPCONF_ENOMEM, &err, NULL, "out of memory");
        fault_expect_no_leak("snapconf_set", n, before);
        expect_example_served(f->h, "snapconf_set", n);
    }
    fail_msg("snapconf_set: still failing after %lu attempts", MAX_ATTEMPTS);
}

static void test_open(void **state)
{
    struct live_fx *f = *state;
    warm_up();
    copy_file(FAULT_EXAMPLE, f->path);
    (void)fault_count_threads();
    open_every_allocation(f, SNAPCONF_WATCH_THREAD, "snapconf_open, watcher thread");
    open_every_allocation(f, SNAPCONF_WATCH_EXTERNAL, "snapconf_open, external loop");
    open_every_allocation(f, SNAPCONF_WATCH_NONE, "snapconf_open, no watching");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_buffer),
        cmocka_unit_test_setup_teardown(test_reload, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_reload_with_subscriber, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_external_watcher, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_watcher_thread, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_open, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_load_layered, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_set, live_setup, live_teardown),
    };
    print_message("allocation failures injected by %s%s\n", fault_alloc_mechanism(),
                  fault_alloc_sees_libyaml() ? " (libyaml's allocations included)"
                                             : " (the library's own allocations only)");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
