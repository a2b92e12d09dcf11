/*
 * Torture: reader threads doing begin / lookups / end in a tight loop while
 * the writer publishes at least 10,000 generations.  Every key of version m
 * carries the marker m (50 top-level keys, a nested map, a sequence), and
 * version m is generation m + 1, so a reader can tell a torn, stale or
 * freed snapshot from a good one.  Readers also check that generations
 * never go backwards within a thread.
 *
 *   test_live_torture [READERS [GENERATIONS [TEST]]]   (defaults: 2, 10000, all)
 *
 * TEST is a cmocka filter on the test names below (e.g. test_torture_none),
 * so that ctest can run the variants as separate entries.
 *
 * Variants: no watcher (only snapconf_reload publishes), the watcher thread
 * running as well (both writers publish, serialized by the handle), long
 * holders (snapconf_snap_hold kept for a few ms while the writer goes on),
 * and layered: each version split between the main file and a drop-in, with
 * a runtime override set first that every merged snapshot must still carry.  Under AddressSanitizer
 * or valgrind, the same run proves that no reader touches freed memory and that close frees
 * everything.
 */
#include "live.h"

#define NKEYS 50
#define NSEQ 3

static int n_readers = 2;
static int n_generations = 10000;
/* Version m is generation m + gen_offset: 2 when a runtime override was
 * published before version 1. */
static uint64_t gen_offset = 1;
static bool layered;

/* Paths compiled once: the hot loop only looks up. */
static snapconf_path *key_paths[NKEYS], *nested_a, *nested_bc, *seq_items[NSEQ], *seq_path;

struct reader {
    pthread_t thread;
    snapconf *h;
    bool holder; /* keeps snapshots with hold/release for a few ms */
    uint64_t reads, distinct, errors, backwards;
    char first_error[200];
};

static atomic_bool stop;

static void build_paths(void)
{
    char p[32];
    for (int i = 0; i < NKEYS; i++) {
        snprintf(p, sizeof p, "k%02d", i);
        assert_int_equal(snapconf_path_compile(p, &key_paths[i], NULL), 0);
    }
    assert_int_equal(snapconf_path_compile("nested.a", &nested_a, NULL), 0);
    assert_int_equal(snapconf_path_compile("nested.b.c", &nested_bc, NULL), 0);
    for (int i = 0; i < NSEQ; i++) {
        snprintf(p, sizeof p, "seq[%d]", i);
        assert_int_equal(snapconf_path_compile(p, &seq_items[i], NULL), 0);
    }
    assert_int_equal(snapconf_path_compile("seq", &seq_path, NULL), 0);
}

static void free_paths(void)
{
    for (int i = 0; i < NKEYS; i++)
        snapconf_path_free(key_paths[i]);
    snapconf_path_free(nested_a);
    snapconf_path_free(nested_bc);
    for (int i = 0; i < NSEQ; i++)
        snapconf_path_free(seq_items[i]);
    snapconf_path_free(seq_path);
}

/* The config of version m. */
static size_t config_text(char *buf, size_t size, int m)
{
    size_t n = 0;
    for (int i = 0; i < NKEYS; i++)
        n += (size_t)snprintf(buf + n, size - n, "k%02d: %d\n", i, m);
    n += (size_t)snprintf(buf + n, size - n,
                          "nested:\n  a: %d\n  b:\n    c: %d\nseq: [%d, %d, %d]\nlabel: \"v%d\"\n",
                          m, m, m, m, m, m);
    assert_true(n < size);
    return n;
}

/* Checks one snapshot; returns its generation, or 0 after recording an
 * error. */
static uint64_t check_snapshot(struct reader *r, const snapconf_snap *s)
{
    uint64_t g = snapconf_snap_generation(s);
    int64_t m, v;
    const char *why = NULL;
    if (snapconf_path_get_int(s, key_paths[0], &m) != 0)
        why = "k00 missing";
    else if ((uint64_t)m + gen_offset != g)
        why = "marker does not match the generation";
    else if (layered && snapconf_get_int_or(s, "override.x", 0) != 1)
        why = "the runtime override is missing";
    for (int i = 1; !why && i < NKEYS; i++)
        if (snapconf_path_get_int(s, key_paths[i], &v) != 0 || v != m)
            why = "a top-level key differs";
    if (!why && (snapconf_path_get_int(s, nested_a, &v) != 0 || v != m))
        why = "nested.a differs";
    if (!why && (snapconf_path_get_int(s, nested_bc, &v) != 0 || v != m))
        why = "nested.b.c differs";
    const snapconf_node *seq;
    if (!why && (snapconf_find_path(s, seq_path, &seq) != 0 || snapconf_node_size(seq) != NSEQ))
        why = "seq has the wrong size";
    for (int i = 0; !why && i < NSEQ; i++)
        if (snapconf_path_get_int(s, seq_items[i], &v) != 0 || v != m)
            why = "a seq item differs";
    if (!why) {
        char want[32];
        snprintf(want, sizeof want, "v%lld", (long long)m);
        const char *label;
        if (snapconf_get_str(s, "label", &label) != 0 || strcmp(label, want) != 0)
            why = "label differs";
    }
    if (!why)
        return g;
    if (r->errors++ == 0)
        snprintf(r->first_error, sizeof r->first_error, "generation %llu: %s",
                 (unsigned long long)g, why);
    return 0;
}

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    uint64_t last = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t g;
        if (r->holder) {
            const snapconf_snap *s = snapconf_snap_hold(r->h);
            g = check_snapshot(r, s);
            live_sleep_us(2000 + (unsigned)(r->reads % 3) * 1000);
            /* Still the same, after the writer went on publishing. */
            if (g && check_snapshot(r, s) != g && r->errors++ == 0)
                snprintf(r->first_error, sizeof r->first_error,
                         "held snapshot changed under its holder");
            snapconf_snap_release(s);
        } else {
            const snapconf_snap *s = snapconf_snap_begin(r->h);
            g = check_snapshot(r, s);
            /* A nested section sees the same snapshot (no reload can
             * complete while the outer one is open). */
            const snapconf_snap *inner = snapconf_snap_begin(r->h);
            if (snapconf_snap_generation(inner) < g && r->errors++ == 0)
                snprintf(r->first_error, sizeof r->first_error, "nested section went backwards");
            snapconf_snap_end(r->h, inner);
            snapconf_snap_end(r->h, s);
        }
        if (g && g < last)
            r->backwards++;
        if (g && g != last)
            r->distinct++;
        if (g > last)
            last = g;
        r->reads++;
    }
    return NULL;
}

struct run {
    snapconf_watch_mode watch;
    int holders;  /* how many of the readers are long holders */
    bool layered; /* split between the main file and a drop-in */
};

static void put_atomically(const char *path, const char *tmp, const char *bytes, size_t len)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    live_write_all(fd, bytes, len);
    assert_int_equal(close(fd), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* Version m on disk: one file, or (layered) the first 20 top-level keys in
 * the main file and the rest in the drop-in (the text is line-based). */
static void write_version(struct live_fx *f, const char *dropin, int m)
{
    static char buf[8192];
    char tmp[PATH_MAX];
    size_t len = config_text(buf, sizeof buf, m);
    if (!layered) {
        put_atomically(f->path, live_join(tmp, f->dir, ".app.yaml.tmp"), buf, len);
        return;
    }
    char *cut = buf;
    for (int i = 0; i < 20; i++)
        cut = strchr(cut, '\n') + 1;
    put_atomically(dropin, live_join(tmp, f->dir, ".dropin.tmp"), cut, len - (size_t)(cut - buf));
    put_atomically(f->path, live_join(tmp, f->dir, ".app.yaml.tmp"), buf, (size_t)(cut - buf));
}

static void torture(struct live_fx *f, const struct run *cfg)
{
    char dir[PATH_MAX], dropin[PATH_MAX];
    layered = cfg->layered;
    gen_offset = layered ? 2 : 1;
    live_join(dir, f->dir, "conf.d");
    live_join(dropin, dir, "50-rest.yaml");
    assert_int_equal(mkdir(dir, 0755), 0);
    write_version(f, dropin, 0);
    snapconf_options o = live_opts(cfg->watch);
    const char *dirs[] = {dir, NULL};
    if (layered)
        o.dropin_dirs = dirs;
    f->h = live_open(f->path, &o);
    if (layered)
        assert_int_equal(snapconf_set(f->h, "override", "{x: 1}", NULL), 0);

    int nr = n_readers + cfg->holders;
    struct reader *rs = calloc((size_t)nr, sizeof *rs);
    assert_non_null(rs);
    atomic_store(&stop, false);
    for (int i = 0; i < nr; i++) {
        rs[i].h = f->h;
        rs[i].holder = i >= n_readers;
        assert_int_equal(pthread_create(&rs[i].thread, NULL, read_loop, &rs[i]), 0);
    }

    int64_t t0 = live_now_ms();
    int reload_errors = 0;
    char first_reload_error[SNAPCONF_ERROR_MESSAGE_MAX] = "";
    for (int m = 1; m <= n_generations; m++) {
        write_version(f, dropin, m);
        snapconf_error err;
        int rc = snapconf_reload(f->h, &err);
        if (rc && reload_errors++ == 0)
            snprintf(first_reload_error, sizeof first_reload_error, "%s", err.message);
    }
    int64_t t1 = live_now_ms();
    /* Let the watcher (if any) catch up with the last events before the
     * readers stop, so its reloads run against readers too. */
    if (cfg->watch == SNAPCONF_WATCH_THREAD)
        live_sleep_ms(LIVE_SETTLE_MS);
    atomic_store(&stop, true);
    uint64_t reads = 0;
    for (int i = 0; i < nr; i++) {
        pthread_join(rs[i].thread, NULL);
        reads += rs[i].reads;
    }
    print_message("    %d readers + %d holders, %d generations in %lld ms, %llu reads\n", n_readers,
                  cfg->holders, n_generations, (long long)(t1 - t0), (unsigned long long)reads);

    if (reload_errors)
        fail_msg("%d reloads failed; first: %s", reload_errors, first_reload_error);
    for (int i = 0; i < nr; i++) {
        if (rs[i].errors)
            fail_msg("reader %d: %llu inconsistent snapshots; first: %s", i,
                     (unsigned long long)rs[i].errors, rs[i].first_error);
        if (rs[i].backwards)
            fail_msg("reader %d saw the generation go backwards %llu times", i,
                     (unsigned long long)rs[i].backwards);
        /* Each reader really ran alongside the writer. */
        if (rs[i].reads == 0 || rs[i].distinct < 2)
            fail_msg("reader %d made %llu reads of %llu generations", i,
                     (unsigned long long)rs[i].reads, (unsigned long long)rs[i].distinct);
    }
    free(rs);

    /* Every version was published exactly once, by whichever writer came
     * first: the last is generation n + 1. */
    snapconf_status_info st = live_status(f->h);
    assert_int_equal(st.generation, (uint64_t)n_generations + gen_offset);
    assert_int_equal(st.reloads, (uint64_t)n_generations + gen_offset - 1);
    assert_int_equal(st.failed_reloads, 0);
    assert_int_equal(live_int_or(f->h, "k49", -1), n_generations);
    /* Memory stays bounded however fast the writer goes and however long
     * readers hold: at most 4 replaced snapshots wait for their grace
     * period, queued or in the batch under way (the header's bound). */
    print_message("    at most %zu replaced snapshots waited for a grace period at once\n",
                  st.retired_peak);
    assert_true(st.retired_peak >= 1);
    assert_true(st.retired_peak <= 4);
    snapconf_close(f->h);
    f->h = NULL;
}

static void test_torture_none(void **state)
{
    struct run cfg = {SNAPCONF_WATCH_NONE, 0, false};
    torture(*state, &cfg);
}

static void test_torture_watcher(void **state)
{
    struct run cfg = {SNAPCONF_WATCH_THREAD, 0, false};
    torture(*state, &cfg);
}

static void test_torture_holders(void **state)
{
    struct run cfg = {SNAPCONF_WATCH_NONE, 2, false};
    torture(*state, &cfg);
}

static void test_torture_layered(void **state)
{
    struct run cfg = {SNAPCONF_WATCH_NONE, 1, true};
    torture(*state, &cfg);
}

/* A snapshot held across snapconf_close stays valid until released. */
static void test_hold_outlives_close(void **state)
{
    struct live_fx *f = *state;
    static char buf[8192];
    layered = false;
    gen_offset = 1;
    config_text(buf, sizeof buf, 0);
    live_put_trunc(f->path, buf);
    snapconf_options o = live_opts(SNAPCONF_WATCH_NONE);
    f->h = live_open(f->path, &o);
    const snapconf_snap *first = snapconf_snap_hold(f->h);
    config_text(buf, sizeof buf, 1);
    live_put_rename(f->path, buf);
    assert_int_equal(snapconf_reload(f->h, NULL), 0);
    const snapconf_snap *second = snapconf_snap_hold(f->h);
    const snapconf_snap *second_again = snapconf_snap_hold(f->h);
    assert_ptr_equal(second, second_again);
    snapconf_close(f->h);
    f->h = NULL;
    struct reader r = {0};
    assert_int_equal(check_snapshot(&r, first), 1);
    assert_int_equal(check_snapshot(&r, second), 2);
    snapconf_snap_release(first);
    snapconf_snap_release(second);
    assert_int_equal(check_snapshot(&r, second_again), 2);
    snapconf_snap_release(second_again);
    snapconf_snap_release(NULL);
}

static int group_setup(void **state)
{
    (void)state;
    build_paths();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free_paths();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n_readers = atoi(argv[1]);
    if (argc > 2)
        n_generations = atoi(argv[2]);
    if (n_readers < 1 || n_generations < 1) {
        fprintf(stderr, "usage: %s [READERS [GENERATIONS [TEST]]]\n", argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torture_none, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_torture_watcher, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_torture_holders, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_hold_outlives_close, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_torture_layered, live_setup, live_teardown),
    };
    if (argc > 3) {
        /* An exact name: a typo must not turn into "0 tests passed". */
        bool known = false;
        for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
            known |= strcmp(tests[i].name, argv[3]) == 0;
        if (!known) {
            fprintf(stderr, "%s: no test called %s\n", argv[0], argv[3]);
            return 2;
        }
        cmocka_set_test_filter(argv[3]);
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
