/*
 * A writer that truncates the file, writes half of it, pauses for 200 ms
 * (ten debounce windows), then writes the rest through the same descriptor
 * and closes: no generation may ever carry the partial content.  The
 * partial content is valid YAML on purpose ("a: N\n" out of
 * "a: N\nb: N\n"), so that only reacting to close-after-write - not to each
 * modification - protects it.
 *
 * Two observers record every generation they see: a subscriber (which sees
 * each publication) and a reader thread polling the read side.
 */
#include "live.h"

#define MAX_GEN 64

struct seen {
    pthread_mutex_t lock;
    bool have[MAX_GEN];
    int64_t a[MAX_GEN], b[MAX_GEN]; /* -1: key missing */
    int bad;                        /* generations with a != b (partial) */
    char first_bad[128];
};

static void seen_record(struct seen *s, const snapconf_snap *snap)
{
    uint64_t g = snapconf_snap_generation(snap);
    int64_t a = snapconf_get_int_or(snap, "a", -1);
    int64_t b = snapconf_get_int_or(snap, "b", -1);
    pthread_mutex_lock(&s->lock);
    if (g < MAX_GEN && !s->have[g]) {
        s->have[g] = true;
        s->a[g] = a;
        s->b[g] = b;
    }
    if (a != b && s->bad++ == 0)
        snprintf(s->first_bad, sizeof s->first_bad, "generation %llu had a=%lld b=%lld",
                 (unsigned long long)g, (long long)a, (long long)b);
    pthread_mutex_unlock(&s->lock);
}

static struct seen by_sub, by_reader;
static atomic_bool stop;
static pthread_t reader_thread;
static bool reader_running;

static void stop_reader(void)
{
    if (!reader_running)
        return;
    atomic_store(&stop, true);
    pthread_join(reader_thread, NULL);
    reader_running = false;
}

/* Stops the reader before the handle is closed, also when a test failed. */
static int teardown(void **state)
{
    stop_reader();
    return live_teardown(state);
}

static void on_change(void *ud, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                      const snapconf_change *changes, size_t count)
{
    (void)ud;
    (void)old_snap;
    (void)changes;
    (void)count;
    seen_record(&by_sub, new_snap);
}

static void *reader(void *arg)
{
    snapconf *h = arg;
    while (!atomic_load(&stop)) {
        const snapconf_snap *s = snapconf_snap_begin(h);
        seen_record(&by_reader, s);
        snapconf_snap_end(h, s);
    }
    return NULL;
}

static void reset_seen(struct seen *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
}

enum how { OPEN_TRUNC, FTRUNCATE };

/* Truncates (by O_TRUNC or ftruncate), writes "a: v\n", pauses, writes
 * "b: v\n" through the same descriptor, closes. */
static void slow_write(const char *path, int v, enum how how)
{
    char first[32], rest[32];
    snprintf(first, sizeof first, "a: %d\n", v);
    snprintf(rest, sizeof rest, "b: %d\n", v);
    int fd;
    if (how == OPEN_TRUNC) {
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
    } else {
        fd = open(path, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 0), 0);
    }
    live_write_all(fd, first, strlen(first));
    live_sleep_ms(200);
    live_write_all(fd, rest, strlen(rest));
    assert_int_equal(close(fd), 0);
}

static void run(struct live_fx *f, enum how how)
{
    reset_seen(&by_sub);
    reset_seen(&by_reader);
    atomic_store(&stop, false);
    live_put_trunc(f->path, "a: 0\nb: 0\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(f->path, &o);
    assert_true(snapconf_subscribe(f->h, "", on_change, NULL) > 0);
    assert_int_equal(pthread_create(&reader_thread, NULL, reader, f->h), 0);
    reader_running = true;

    for (int v = 1; v <= 3; v++) {
        uint64_t g = live_gen(f->h);
        slow_write(f->path, v, how);
        expect_exactly(f->h, g + 1);
        assert_int_equal(live_int_or(f->h, "a", -1), v);
        assert_int_equal(live_int_or(f->h, "b", -1), v);
    }

    stop_reader();

    if (by_sub.bad)
        fail_msg("subscriber saw partial content: %s", by_sub.first_bad);
    if (by_reader.bad)
        fail_msg("reader saw partial content: %s", by_reader.first_bad);
    /* The subscriber saw exactly generations 2..4, each with the full
     * content of its round. */
    for (int g = 2; g <= 4; g++) {
        assert_true(by_sub.have[g]);
        assert_int_equal(by_sub.a[g], g - 1);
        assert_int_equal(by_sub.b[g], g - 1);
    }
    assert_false(by_sub.have[5]);
    assert_true(by_reader.have[4]);
    /* The partial write never caused a failed reload either. */
    snapconf_status_info st = live_status(f->h);
    assert_int_equal(st.failed_reloads, 0);
    assert_int_equal(st.reloads, 3);
}

static void test_open_trunc_pause_rest(void **state)
{
    run(*state, OPEN_TRUNC);
}

static void test_ftruncate_pause_rest(void **state)
{
    run(*state, FTRUNCATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_trunc_pause_rest, live_setup, teardown),
        cmocka_unit_test_setup_teardown(test_ftruncate_pause_rest, live_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
