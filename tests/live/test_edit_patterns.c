/*
 * Every common way of changing a file, done the way the tool really does
 * it, ends with exactly the final content published - one new generation
 * per save, and a second and third save the same way still reload.  touch
 * and chmod with unchanged content publish nothing.
 */
#include "live.h"

#include <sys/types.h>

/* One save of the content for round i. */
typedef void (*save_fn)(struct live_fx *f, int i, const char *content);

/* The content of round i: a value that changes, and a key that exists in
 * this round only, so a stale or mixed snapshot shows. */
static void content_of(int i, char *buf, size_t size)
{
    snprintf(buf, size, "# round %d\nvalue: %d\nround%d: %d\nname: \"round %d\"\n", i, i, i, i, i);
}

static void check_round(snapconf *h, int i)
{
    char key[32];
    assert_int_equal(live_int_or(h, "value", -1), i);
    snprintf(key, sizeof key, "round%d", i);
    assert_int_equal(live_int_or(h, key, -1), i);
    snprintf(key, sizeof key, "round%d", i - 1);
    assert_false(live_has(h, key));
}

/* Opens the handle on f->path (already holding round 0), then saves three
 * times with save, each time expecting exactly one new generation with
 * exactly the file's final content. */
static void run_saves(struct live_fx *f, save_fn save, const snapconf_options *o)
{
    char buf[256];
    f->h = live_open(f->path, o);
    assert_int_equal(live_gen(f->h), 1);
    check_round(f->h, 0);
    for (int i = 1; i <= 3; i++) {
        uint64_t g = live_gen(f->h);
        content_of(i, buf, sizeof buf);
        save(f, i, buf);
        expect_exactly(f->h, g + 1);
        check_round(f->h, i);
        expect_published_is_file(f->h, f->path);
        snapconf_status_info st = live_status(f->h);
        assert_true(st.last_reload_ok);
        assert_int_equal(st.generation, g + 1);
    }
    assert_int_equal(live_status(f->h).reloads, 3);
}

static void write_round0(struct live_fx *f)
{
    char buf[256];
    content_of(0, buf, sizeof buf);
    live_put_trunc(f->path, buf);
}

/* ------------------------------------------------------------------------- */

static void save_trunc(struct live_fx *f, int i, const char *content)
{
    (void)i;
    live_put_trunc(f->path, content);
}

static void test_in_place_truncate_write(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    write_round0(f);
    run_saves(f, save_trunc, &o);
}

/* Append: the file grows by one line per save; every round's key stays. */
static void test_append(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    live_put_trunc(f->path, "base: 0\n");
    f->h = live_open(f->path, &o);
    for (int i = 1; i <= 3; i++) {
        char line[64], key[32];
        uint64_t g = live_gen(f->h);
        snprintf(line, sizeof line, "appended%d: %d\n", i, i);
        live_put_append(f->path, line);
        expect_exactly(f->h, g + 1);
        for (int j = 1; j <= i; j++) {
            snprintf(key, sizeof key, "appended%d", j);
            assert_int_equal(live_int_or(f->h, key, -1), j);
        }
        assert_int_equal(live_int_or(f->h, "base", -1), 0);
        expect_published_is_file(f->h, f->path);
    }
}

static void save_rename(struct live_fx *f, int i, const char *content)
{
    (void)i;
    live_put_rename(f->path, content);
}

static void test_rename_over(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    write_round0(f);
    run_saves(f, save_rename, &o);
}

/* The same with NULL options: the default debounce (50 ms) and a watcher
 * thread. */
static void test_rename_over_default_options(void **state)
{
    struct live_fx *f = *state;
    write_round0(f);
    run_saves(f, save_rename, NULL);
}

/* vim with backupcopy=no: probe that the directory is writable with a file
 * called 4913, rename the original to file~, write a new file, set its
 * mode, delete the backup. */
static void save_vim_backupcopy_no(struct live_fx *f, int i, const char *content)
{
    (void)i;
    char probe[PATH_MAX], backup[PATH_MAX + 2];
    live_join(probe, f->dir, "4913");
    int fd = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0100644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(unlink(probe), 0);
    snprintf(backup, sizeof backup, "%s~", f->path);
    assert_int_equal(rename(f->path, backup), 0);
    fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    live_write_all(fd, content, strlen(content));
    assert_int_equal(fsync(fd), 0);
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(unlink(backup), 0);
}

static void test_vim_backupcopy_no(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    write_round0(f);
    run_saves(f, save_vim_backupcopy_no, &o);
}

/* Delete, then create again (git checkout, some deploy tools). */
static void save_delete_create(struct live_fx *f, int i, const char *content)
{
    (void)i;
    assert_int_equal(unlink(f->path), 0);
    live_put_trunc(f->path, content);
}

static void test_delete_then_create(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    write_round0(f);
    run_saves(f, save_delete_create, &o);
}

/* The same with a pause longer than the debounce between the two steps, so
 * the watcher certainly sees the file missing in between: the failure keeps
 * the old snapshot, and the creation still publishes exactly once. */
static void save_delete_pause_create(struct live_fx *f, int i, const char *content)
{
    (void)i;
    snapconf_status_info before = live_status(f->h);
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(wait_failed(f->h, before.failed_reloads + 1, LIVE_WAIT_MS),
                     before.failed_reloads + 1);
    assert_int_equal(live_gen(f->h), before.generation);
    assert_int_equal(live_int_or(f->h, "value", -1), i - 1);
    live_put_trunc(f->path, content);
}

static void test_delete_pause_create(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    write_round0(f);
    run_saves(f, save_delete_pause_create, &o);
    assert_true(live_status(f->h).last_reload_ok);
}

/* ------------------------------------------------------------------------- */
/* A Kubernetes ConfigMap volume, as the kubelet's atomic writer updates it:
 *   dir/app.yaml -> ..data/app.yaml
 *   dir/..data   -> ..2026_11_26_01...
 * An update writes a new timestamped directory, points a temporary symlink
 * ..data_tmp at it, renames ..data_tmp over ..data, and removes the old
 * directory. */

struct kube {
    char ts[64]; /* the current timestamped directory's name */
};
static struct kube kube_state;

static void kube_write_ts_dir(struct live_fx *f, int i, const char *content)
{
    char d[PATH_MAX], file[PATH_MAX];
    snprintf(kube_state.ts, sizeof kube_state.ts, "..2026_11_26_01_%02d_00.%09d", i, 123456789 + i);
    live_join(d, f->dir, kube_state.ts);
    assert_int_equal(mkdir(d, 0755), 0);
    live_join(file, d, "app.yaml");
    live_put_trunc(file, content);
    assert_int_equal(chmod(file, 0644), 0);
}

static void kube_initial(struct live_fx *f, const char *content)
{
    char link[PATH_MAX];
    kube_write_ts_dir(f, 0, content);
    assert_int_equal(symlink(kube_state.ts, live_join(link, f->dir, "..data")), 0);
    assert_int_equal(symlink("..data/app.yaml", f->path), 0);
}

static void save_kube(struct live_fx *f, int i, const char *content)
{
    char old[PATH_MAX], tmp[PATH_MAX], data[PATH_MAX];
    live_join(old, f->dir, kube_state.ts);
    kube_write_ts_dir(f, i, content);
    live_join(tmp, f->dir, "..data_tmp");
    live_join(data, f->dir, "..data");
    assert_int_equal(symlink(kube_state.ts, tmp), 0);
    assert_int_equal(rename(tmp, data), 0);
    live_rm_rf(old);
    struct stat st;
    assert_int_equal(lstat(old, &st), -1);
}

static void test_kubernetes_configmap(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    char buf[256];
    content_of(0, buf, sizeof buf);
    kube_initial(f, buf);
    struct stat st;
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    run_saves(f, save_kube, &o);
    /* The handle still names the symlink, not the file it resolved to. */
    assert_string_equal(live_status(f->h).source, f->path);
}

/* ------------------------------------------------------------------------- */
/* Unchanged content: no new generation, and the attempt counts as a success. */

static void expect_nothing_published(snapconf *h, int64_t attempt_before, uint64_t g)
{
    /* The watcher may or may not look (it reacts to attribute changes and
     * writers closing); either way nothing may be published. */
    wait_attempt(h, attempt_before, (int)LIVE_SETTLE_MS + 100);
    live_sleep_ms(LIVE_SETTLE_MS);
    assert_int_equal(live_gen(h), g);
    snapconf_status_info st = live_status(h);
    assert_true(st.last_reload_ok);
    assert_int_equal(st.failed_reloads, 0);
    assert_int_equal(st.reloads, 0);
}

static void test_touch_and_chmod_publish_nothing(void **state)
{
    struct live_fx *f = *state;
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    write_round0(f);
    f->h = live_open(f->path, &o);
    assert_int_equal(live_gen(f->h), 1);

    /* touch(1): open for writing without truncating, set the times, close
     * (the close of a descriptor opened for writing is a close-after-write). */
    snapconf_status_info st = live_status(f->h);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, 0666);
    assert_true(fd >= 0);
    assert_int_equal(futimens(fd, NULL), 0);
    assert_int_equal(close(fd), 0);
    expect_nothing_published(f->h, st.last_attempt_time_ns, 1);

    /* utimensat on the path, as touch -h or a build tool does. */
    st = live_status(f->h);
    assert_int_equal(utimensat(AT_FDCWD, f->path, NULL, 0), 0);
    expect_nothing_published(f->h, st.last_attempt_time_ns, 1);

    /* chmod to another mode and back. */
    st = live_status(f->h);
    assert_int_equal(chmod(f->path, 0600), 0);
    expect_nothing_published(f->h, st.last_attempt_time_ns, 1);
    st = live_status(f->h);
    assert_int_equal(chmod(f->path, 0644), 0);
    expect_nothing_published(f->h, st.last_attempt_time_ns, 1);

    /* Rewriting the same bytes by rename publishes nothing either. */
    char buf[256];
    content_of(0, buf, sizeof buf);
    st = live_status(f->h);
    live_put_rename(f->path, buf);
    expect_nothing_published(f->h, st.last_attempt_time_ns, 1);

    /* And the watcher still works afterwards. */
    content_of(1, buf, sizeof buf);
    live_put_rename(f->path, buf);
    expect_exactly(f->h, 2);
    check_round(f->h, 1);
}

/* ------------------------------------------------------------------------- */
/* Symlinks to elsewhere                                                     */

/* The config is a symlink into another directory; the real file there is
 * edited in place, by rename, and the link is repointed (ln -sfn: a new
 * link renamed over the old one). */
static void test_symlink_to_other_directory(void **state)
{
    struct live_fx *f = *state;
    char data[PATH_MAX], real[PATH_MAX], real2[PATH_MAX], tmp[PATH_MAX];
    live_join(data, f->dir, "data");
    assert_int_equal(mkdir(data, 0755), 0);
    live_join(real, data, "real.yaml");
    live_join(real2, data, "real2.yaml");
    live_put_trunc(real, "value: 0\n");
    assert_int_equal(symlink("data/real.yaml", f->path), 0);
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(f->path, &o);

    live_put_trunc(real, "value: 1\n");
    expect_exactly(f->h, 2);
    assert_int_equal(live_int_or(f->h, "value", -1), 1);
    live_put_rename(real, "value: 2\n");
    expect_exactly(f->h, 3);
    assert_int_equal(live_int_or(f->h, "value", -1), 2);

    live_put_trunc(real2, "value: 3\n");
    live_join(tmp, f->dir, ".app.yaml.lnk");
    assert_int_equal(symlink(real2, tmp), 0); /* absolute this time */
    assert_int_equal(rename(tmp, f->path), 0);
    expect_exactly(f->h, 4);
    assert_int_equal(live_int_or(f->h, "value", -1), 3);
    /* The old target is no longer the config: editing it does nothing. */
    live_put_trunc(real, "value: 99\n");
    live_sleep_ms(LIVE_SETTLE_MS);
    assert_int_equal(live_gen(f->h), 4);
    /* The new one is. */
    live_put_trunc(real2, "value: 4\n");
    expect_exactly(f->h, 5);
    assert_int_equal(live_int_or(f->h, "value", -1), 4);
}

/* A Capistrano-style deploy: dir/current -> releases/N, the config path
 * goes through current/, and a deploy repoints current atomically. */
static void test_symlinked_directory_switch(void **state)
{
    struct live_fx *f = *state;
    char rel[PATH_MAX], d[PATH_MAX], file[PATH_MAX], cur[PATH_MAX], tmp[PATH_MAX];
    live_join(rel, f->dir, "releases");
    assert_int_equal(mkdir(rel, 0755), 0);
    for (int i = 0; i <= 3; i++) {
        char name[16], buf[64];
        snprintf(name, sizeof name, "%d", i);
        live_join(d, rel, name);
        assert_int_equal(mkdir(d, 0755), 0);
        snprintf(buf, sizeof buf, "value: %d\n", i);
        live_put_trunc(live_join(file, d, "app.yaml"), buf);
    }
    live_join(cur, f->dir, "current");
    assert_int_equal(symlink("releases/0", cur), 0);
    char path[PATH_MAX];
    live_join(path, cur, "app.yaml");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(path, &o);
    assert_int_equal(live_int_or(f->h, "value", -1), 0);
    for (int i = 1; i <= 3; i++) {
        char target[32];
        snprintf(target, sizeof target, "releases/%d", i);
        live_join(tmp, f->dir, "current.tmp");
        assert_int_equal(symlink(target, tmp), 0);
        assert_int_equal(rename(tmp, cur), 0);
        expect_exactly(f->h, (uint64_t)i + 1);
        assert_int_equal(live_int_or(f->h, "value", -1), i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_place_truncate_write, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_append, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_rename_over, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_rename_over_default_options, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_vim_backupcopy_no, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_delete_then_create, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_delete_pause_create, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_kubernetes_configmap, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_touch_and_chmod_publish_nothing, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_symlink_to_other_directory, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_symlinked_directory_switch, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
