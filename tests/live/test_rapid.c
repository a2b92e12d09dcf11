/*
 * 1000 edits as fast as the test can make them (write a temporary file,
 * rename it over the config) end with the last content published; every
 * publication on the way carries content that was really written, in the
 * order it was written.  Then the handle is closed; running this program
 * under valgrind or AddressSanitizer proves that no snapshot leaked (the
 * test frees everything it allocates itself).
 */
#include "live.h"

#define EDITS 1000

struct order {
    int64_t last_n;    /* the n of the last publication seen */
    uint64_t last_gen; /* its generation */
    int calls;
    int out_of_order; /* publications whose n did not grow */
    int gen_gaps;     /* callbacks whose generation was not old + 1 */
    char first_problem[160];
};

static void on_change(void *ud, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                      const snapconf_change *changes, size_t count)
{
    struct order *o = ud;
    int64_t n = snapconf_get_int_or(new_snap, "n", -1);
    uint64_t og = snapconf_snap_generation(old_snap), ng = snapconf_snap_generation(new_snap);
    o->calls++;
    if (ng != og + 1 && o->gen_gaps++ == 0)
        snprintf(o->first_problem, sizeof o->first_problem, "callback from generation %llu to %llu",
                 (unsigned long long)og, (unsigned long long)ng);
    if (n <= o->last_n && o->out_of_order++ == 0)
        snprintf(o->first_problem, sizeof o->first_problem,
                 "n went from %lld to %lld at generation %llu", (long long)o->last_n, (long long)n,
                 (unsigned long long)ng);
    /* Every change is to n, pad or the per-edit key. */
    if (count == 0 && o->out_of_order++ == 0)
        snprintf(o->first_problem, sizeof o->first_problem, "a callback with no changes");
    (void)changes;
    o->last_n = n;
    o->last_gen = ng;
}

static void content(int n, char *buf, size_t size)
{
    snprintf(buf, size, "n: %d\nkey%d: true\npad: \"%0*d\"\n", n, n, 1 + n % 200, n);
}

static void run(struct live_fx *f, unsigned debounce_ms)
{
    char buf[512];
    content(0, buf, sizeof buf);
    live_put_trunc(f->path, buf);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.debounce_ms = debounce_ms;
    f->h = live_open(f->path, &o);
    struct order ord = {.last_n = 0, .last_gen = 1};
    int id = snapconf_subscribe(f->h, NULL, on_change, &ord);
    assert_true(id > 0);

    int64_t t0 = live_now_ms();
    for (int n = 1; n <= EDITS; n++) {
        content(n, buf, sizeof buf);
        live_put_rename(f->path, buf);
    }
    int64_t t1 = live_now_ms();

    /* Wait for the last edit to be live, then for the watcher to go quiet. */
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (live_int_or(f->h, "n", -1) != EDITS && live_now_ms() < end)
        live_sleep_ms(1);
    assert_int_equal(live_int_or(f->h, "n", -1), EDITS);
    live_sleep_ms(LIVE_SETTLE_MS + debounce_ms);
    assert_int_equal(live_int_or(f->h, "n", -1), EDITS);
    assert_true(live_has(f->h, "key1000"));
    assert_false(live_has(f->h, "key999"));
    expect_published_is_file(f->h, f->path);

    snapconf_status_info st = live_status(f->h);
    print_message("    %d edits in %lld ms; %llu generations published (debounce %u ms)\n", EDITS,
                  (long long)(t1 - t0), (unsigned long long)st.generation, debounce_ms);
    assert_true(st.generation >= 2);
    assert_true(st.generation <= EDITS + 1);
    assert_int_equal(st.reloads, st.generation - 1);
    assert_int_equal(st.failed_reloads, 0);
    assert_true(st.last_reload_ok);

    /* The unsubscribe makes sure no callback touches ord after this point. */
    assert_int_equal(snapconf_unsubscribe(f->h, id), 0);
    if (ord.out_of_order || ord.gen_gaps)
        fail_msg("%d out of order, %d generation gaps; first: %s", ord.out_of_order, ord.gen_gaps,
                 ord.first_problem);
    assert_int_equal((uint64_t)ord.calls, st.generation - 1);
    assert_int_equal(ord.last_n, EDITS);
    assert_int_equal(ord.last_gen, st.generation);

    snapconf_close(f->h);
    f->h = NULL;
}

static void test_rapid_edits_debounced(void **state)
{
    run(*state, LIVE_DEBOUNCE_MS);
}

/* With a debounce of 0 ms nearly every edit may become its own
 * generation: the most publications, the most reclamation. */
static void test_rapid_edits_no_debounce(void **state)
{
    run(*state, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rapid_edits_debounced, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_rapid_edits_no_debounce, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
