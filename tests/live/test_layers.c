/*
 * Layered configuration on a live handle: drop-ins added, changed, removed
 * and broken while live; runtime overrides set and unset with file reloads
 * in between (they survive), reverted, saved to a state file and applied
 * again at the next open; provenance of a runtime value.
 */
#include "live.h"

struct layer_fx {
    struct live_fx base;
    char dropins[PATH_MAX];
    const char *dirs[2];
    snapconf_options o;
};

static int setup(void **state)
{
    if (live_setup(state))
        return -1;
    struct live_fx *b = *state;
    struct layer_fx *f = realloc(b, sizeof *f);
    if (!f)
        return -1;
    live_join(f->dropins, f->base.dir, "conf.d");
    mkdir(f->dropins, 0755);
    f->dirs[0] = f->dropins;
    f->dirs[1] = NULL;
    f->o = live_opts(SNAPCONF_WATCH_THREAD);
    f->o.dropin_dirs = f->dirs;
    *state = f;
    return 0;
}

static void dropin_put(struct layer_fx *f, const char *name, const char *content)
{
    char p[PATH_MAX];
    live_put_rename(live_join(p, f->dropins, name), content);
}

static int64_t wait_int(snapconf *h, const char *path, int64_t want)
{
    int64_t end = live_now_ms() + LIVE_WAIT_MS, v;
    while ((v = live_int_or(h, path, -1)) != want && live_now_ms() < end)
        live_sleep_ms(1);
    return v;
}

static void dropins_added_changed_removed_broken(void **state)
{
    struct layer_fx *f = *state;
    live_put_trunc(f->base.path, "port: 1\nname: main\n");
    f->base.h = live_open(f->base.path, &f->o);
    snapconf *h = f->base.h;
    assert_int_equal(live_int_or(h, "port", -1), 1);

    dropin_put(f, "10-port.yaml", "port: 2\n");
    assert_int_equal(wait_int(h, "port", 2), 2);
    dropin_put(f, "10-port.yaml", "port: 3\n");
    assert_int_equal(wait_int(h, "port", 3), 3);

    /* Broken: the reload fails naming the drop-in, the last good stays. */
    uint64_t failed = live_status(h).failed_reloads;
    dropin_put(f, "20-bad.yaml", "port: [4\n");
    assert_true(wait_failed(h, failed + 1, LIVE_WAIT_MS) > failed);
    snapconf_status_info st = live_status(h);
    assert_non_null(strstr(st.last_error.file, "20-bad.yaml"));
    assert_int_equal(st.last_error.code, SNAPCONF_EPARSE);
    assert_int_equal(live_int_or(h, "port", -1), 3);

    char p[PATH_MAX];
    assert_int_equal(unlink(live_join(p, f->dropins, "20-bad.yaml")), 0);
    assert_int_equal(unlink(live_join(p, f->dropins, "10-port.yaml")), 0);
    assert_int_equal(wait_int(h, "port", 1), 1);
    assert_true(live_status(h).last_reload_ok);
    assert_int_equal(live_status(h).layers, 1);
}

static int set_ok(snapconf *h, const char *path, const char *value)
{
    snapconf_error err;
    int rc = snapconf_set(h, path, value, &err);
    if (rc)
        fail_msg("snapconf_set(%s, %s): %s", path, value, err.message);
    return rc;
}

struct heard {
    atomic_int calls;
    char path[128];
};

static void on_change(void *userdata, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                      const snapconf_change *changes, size_t count)
{
    (void)old_snap;
    (void)new_snap;
    struct heard *h = userdata;
    if (count)
        snprintf(h->path, sizeof h->path, "%s", changes[0].path);
    atomic_fetch_add(&h->calls, 1);
}

static void overrides_survive_reloads(void **state)
{
    struct layer_fx *f = *state;
    live_put_trunc(f->base.path, "server: {port: 8080, host: a}\nflag: false\n");
    f->base.h = live_open(f->base.path, &f->o);
    snapconf *h = f->base.h;
    struct heard heard = {0};
    assert_true(snapconf_subscribe(h, "server", on_change, &heard) > 0);
    uint64_t g = live_gen(h);

    set_ok(h, "server.port", "9090");
    assert_int_equal(live_gen(h), g + 1);
    assert_int_equal(live_int_or(h, "server.port", -1), 9090);
    assert_int_equal(atomic_load(&heard.calls), 1);
    assert_string_equal(heard.path, "server.port");
    snapconf_error err;
    assert_int_equal(snapconf_unset(h, "flag", &err), 0);
    assert_false(live_has(h, "flag"));
    assert_int_equal(live_gen(h), g + 2);

    /* A file reload: the overrides are applied again on top. */
    live_put_rename(f->base.path, "server: {port: 8081, host: b}\nflag: true\nnew: 1\n");
    assert_int_equal(wait_int(h, "new", 1), 1);
    assert_int_equal(live_int_or(h, "server.port", -1), 9090);
    assert_false(live_has(h, "flag"));
    const snapconf_snap *s = snapconf_snap_begin(h);
    assert_string_equal(snapconf_get_str_or(s, "server.host", "?"), "b");
    snapconf_snap_end(h, s);
    assert_int_equal(live_status(h).overrides, 2);

    /* Revert one, then all: the file's values show again. */
    assert_int_equal(snapconf_revert(h, "server", &err), 0);
    assert_int_equal(live_int_or(h, "server.port", -1), 8081);
    assert_false(live_has(h, "flag"));
    assert_int_equal(snapconf_revert(h, NULL, &err), 0);
    assert_true(live_has(h, "flag"));
    assert_int_equal(snapconf_revert(h, NULL, &err), SNAPCONF_ENOTFOUND);
    assert_int_equal(live_status(h).overrides, 0);
}

static void set_errors_publish_nothing(void **state)
{
    struct layer_fx *f = *state;
    live_put_trunc(f->base.path, "a: scalar\nlist: [1, 2]\n");
    f->base.h = live_open(f->base.path, &f->o);
    snapconf *h = f->base.h;
    uint64_t g = live_gen(h);
    snapconf_error err;
    assert_int_equal(snapconf_set(h, "x", "[1, 2", &err), SNAPCONF_EPARSE);
    assert_int_equal(snapconf_set(h, "a.b", "1", &err), SNAPCONF_ETYPE);
    assert_non_null(strstr(err.message, "'a' is a string"));
    assert_int_equal(snapconf_set(h, "list[5]", "1", &err), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_unset(h, "nope", &err), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_set(h, "a..b", "1", &err), SNAPCONF_EPATH);
    assert_int_equal(snapconf_set(h, "", "1", &err), SNAPCONF_EPATH);
    assert_int_equal(live_gen(h), g);
    /* New parents are created; sequence items can be set. */
    set_ok(h, "new.deep.key", "{x: 1}");
    assert_int_equal(live_int_or(h, "new.deep.key.x", -1), 1);
    set_ok(h, "list[1]", "20");
    assert_int_equal(live_int_or(h, "list[1]", -1), 20);
    assert_int_equal(live_gen(h), g + 2);
}

static void override_that_no_longer_applies_fails_reload(void **state)
{
    struct layer_fx *f = *state;
    live_put_trunc(f->base.path, "a: {b: 1}\n");
    f->base.h = live_open(f->base.path, &f->o);
    snapconf *h = f->base.h;
    set_ok(h, "a.b", "2");
    uint64_t failed = live_status(h).failed_reloads;
    live_put_rename(f->base.path, "a: now a scalar\n");
    assert_true(wait_failed(h, failed + 1, LIVE_WAIT_MS) > failed);
    snapconf_status_info st = live_status(h);
    assert_int_equal(st.last_error.code, SNAPCONF_ETYPE);
    assert_non_null(strstr(st.last_error.message, "snapconf revert a.b"));
    assert_int_equal(live_int_or(h, "a.b", -1), 2);
    snapconf_error err;
    assert_int_equal(snapconf_revert(h, "a.b", &err), 0);
    assert_int_equal(snapconf_reload(h, &err), 0);
    const snapconf_snap *s = snapconf_snap_begin(h);
    assert_string_equal(snapconf_get_str_or(s, "a", "?"), "now a scalar");
    snapconf_snap_end(h, s);
}

static int origin_kind(void *userdata, const snapconf_origin *o)
{
    int *last = userdata;
    *last = (int)o->kind * 10 + (int)o->role;
    return 0;
}

static void state_file_restores_overrides(void **state)
{
    struct layer_fx *f = *state;
    char statefile[PATH_MAX];
    live_join(statefile, f->base.dir, "overrides.yaml");
    live_put_trunc(f->base.path, "port: 1\nfeature: on\n");
    f->o.state_file = statefile;
    f->base.h = live_open(f->base.path, &f->o);
    set_ok(f->base.h, "port", "2");
    snapconf_error err;
    assert_int_equal(snapconf_unset(f->base.h, "feature", &err), 0);
    snapconf_close(f->base.h);
    f->base.h = NULL;
    char *saved = live_slurp(statefile, NULL);
    assert_non_null(strstr(saved, "port"));
    free(saved);

    f->base.h = live_open(f->base.path, &f->o);
    assert_int_equal(live_int_or(f->base.h, "port", -1), 2);
    assert_false(live_has(f->base.h, "feature"));
    int last = -1;
    const snapconf_snap *s = snapconf_snap_begin(f->base.h);
    assert_int_equal(snapconf_explain(s, "port", origin_kind, &last), 0);
    snapconf_snap_end(f->base.h, s);
    assert_int_equal(last, SNAPCONF_LAYER_RUNTIME * 10 + SNAPCONF_ORIGIN_VALUE);
}

static void set_inside_a_read_section_is_refused(void **state)
{
    struct layer_fx *f = *state;
    live_put_trunc(f->base.path, "port: 1\n");
    f->base.h = live_open(f->base.path, &f->o);
    const snapconf_snap *s = snapconf_snap_begin(f->base.h);
    snapconf_error err;
    assert_int_equal(snapconf_set(f->base.h, "port", "2", &err), SNAPCONF_EDEADLK);
    snapconf_snap_end(f->base.h, s);
    assert_int_equal(live_int_or(f->base.h, "port", -1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(dropins_added_changed_removed_broken, setup, live_teardown),
        cmocka_unit_test_setup_teardown(overrides_survive_reloads, setup, live_teardown),
        cmocka_unit_test_setup_teardown(set_errors_publish_nothing, setup, live_teardown),
        cmocka_unit_test_setup_teardown(override_that_no_longer_applies_fails_reload, setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(state_file_restores_overrides, setup, live_teardown),
        cmocka_unit_test_setup_teardown(set_inside_a_read_section_is_refused, setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
