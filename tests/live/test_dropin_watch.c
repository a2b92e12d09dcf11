/*
 * The watcher and drop-in directories: every way a drop-in file or a
 * drop-in directory changes makes the watcher attempt a reload, with
 * inotify and with polling, and changes elsewhere do not.
 *
 * These tests count reload attempts (opts.on_reload reports), not values:
 * what a reload publishes is the merge's business (test_layers.c).  Each
 * test first checks that the freshly opened handle stays quiet, so that an
 * attempt it then sees was caused by the change it made.  Files made before
 * the handle opens are backdated: polling reloads on every tick while a file
 * is younger than two seconds (coarse timestamps), which would otherwise
 * pass for the attempt the test waits for.
 */
#include "live.h"

#include <poll.h>
#include <sys/types.h>

#define POLL_MS 20u

struct dw_fx {
    struct live_fx base;
    char dropins[PATH_MAX]; /* dir/conf.d, not made by the setup */
    const char *dirs[3];
    snapconf_options o;
    atomic_int attempts;
};

static void on_reload(void *userdata, const snapconf_reload_report *report)
{
    (void)report;
    atomic_fetch_add((atomic_int *)userdata, 1);
}

static int setup(void **state)
{
    if (live_setup(state))
        return -1;
    struct dw_fx *f = realloc(*state, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    live_join(f->dropins, f->base.dir, "conf.d");
    f->dirs[0] = f->dropins;
    f->dirs[1] = f->dirs[2] = NULL;
    f->o = live_opts(SNAPCONF_WATCH_THREAD);
    f->o.dropin_dirs = f->dirs;
    f->o.on_reload = on_reload;
    atomic_init(&f->attempts, 0);
    f->o.on_reload_userdata = &f->attempts;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Helpers                                                                    */

static int attempts(struct dw_fx *f)
{
    return atomic_load(&f->attempts);
}

/* dir/name, relative to the fixture's directory, into out (PATH_MAX). */
static char *at(struct dw_fx *f, char *out, const char *rel)
{
    return live_join(out, f->base.dir, rel);
}

static void put(struct dw_fx *f, const char *rel, const char *content)
{
    char p[PATH_MAX];
    live_put_trunc(at(f, p, rel), content);
}

static void make_dir(struct dw_fx *f, const char *rel)
{
    char p[PATH_MAX];
    if (mkdir(at(f, p, rel), 0755) < 0)
        fail_msg("mkdir %s: %s", p, strerror(errno));
}

static void make_link(struct dw_fx *f, const char *target, const char *rel)
{
    char p[PATH_MAX];
    if (symlink(target, at(f, p, rel)) < 0)
        fail_msg("symlink %s -> %s: %s", p, target, strerror(errno));
}

static void move(struct dw_fx *f, const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (rename(at(f, a, from), at(f, b, to)) < 0)
        fail_msg("rename %s -> %s: %s", a, b, strerror(errno));
}

static void remove_file(struct dw_fx *f, const char *rel)
{
    char p[PATH_MAX];
    if (unlink(at(f, p, rel)) < 0)
        fail_msg("unlink %s: %s", p, strerror(errno));
}

static int backdate_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    struct timespec t[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
    utimensat(AT_FDCWD, p, t, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static void backdate(struct dw_fx *f)
{
    nftw(f->base.dir, backdate_cb, 16, FTW_PHYS);
}

/* Opens the handle on what the test made (backdated first), polling every
 * POLL_MS when poll, and checks that nothing reloads while nothing
 * changes. */
static void open_quiet(struct dw_fx *f, bool poll)
{
    backdate(f);
    f->o.poll_ms = poll ? POLL_MS : 0;
    f->base.h = live_open(f->base.path, &f->o);
    live_sleep_ms(LIVE_SETTLE_MS);
    if (attempts(f) != 0)
        fail_msg("%d reload attempts while nothing changed", attempts(f));
}

/* Waits for an attempt after the count was before. */
static void expect_attempt(struct dw_fx *f, int before, const char *what)
{
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (attempts(f) <= before) {
        if (live_now_ms() >= end)
            fail_msg("no reload attempt after %s within %d ms", what, LIVE_WAIT_MS);
        live_sleep_ms(1);
    }
}

/* Waits until no attempt has come for the settle time: the watcher has
 * done what the last change asked for, and does not keep reloading. */
static void expect_quiet_again(struct dw_fx *f)
{
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    int seen = attempts(f);
    int64_t since = live_now_ms();
    while (live_now_ms() - since < LIVE_SETTLE_MS) {
        if (live_now_ms() >= end)
            fail_msg("still reloading (%d attempts) %d ms after the last change", attempts(f),
                     LIVE_WAIT_MS);
        live_sleep_ms(1);
        if (attempts(f) != seen) {
            seen = attempts(f);
            since = live_now_ms();
        }
    }
}

/* Does change, expects an attempt, then that the watcher goes quiet again,
 * so that the next change's attempt is that change's.  Polling reloads on
 * every tick while a file is younger than two seconds: the files are
 * backdated first (itself a change, of their ctime). */
static void expect_change(struct dw_fx *f, bool poll, void (*change)(struct dw_fx *),
                          const char *what)
{
    int before = attempts(f);
    change(f);
    expect_attempt(f, before, what);
    if (poll)
        backdate(f);
    expect_quiet_again(f);
}

/* Expects no attempt within the settle time. */
static void expect_none(struct dw_fx *f, int before, const char *what)
{
    live_sleep_ms(LIVE_SETTLE_MS);
    if (attempts(f) != before)
        fail_msg("%d reload attempts after %s", attempts(f) - before, what);
}

static void main_and_one_dropin(struct dw_fx *f)
{
    put(f, "app.yaml", "main: 1\n");
    make_dir(f, "conf.d");
    put(f, "conf.d/10-a.yaml", "a: 1\n");
}

/* Each scenario runs twice, with inotify and with polling. */
#define BOTH_MODES(name)                                                                           \
    static void name##_inotify(void **state)                                                       \
    {                                                                                              \
        name(*state, false);                                                                       \
    }                                                                                              \
    static void name##_poll(void **state)                                                          \
    {                                                                                              \
        name(*state, true);                                                                        \
    }

/* ------------------------------------------------------------------------- */
/* Files in the directory                                                     */

static void create_b(struct dw_fx *f)
{
    put(f, "conf.d/20-b.yaml", "b: 2\n");
}

static void file_created(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    open_quiet(f, poll);
    expect_change(f, poll, create_b, "a drop-in was created");
}
BOTH_MODES(file_created)

static void rewrite_a(struct dw_fx *f)
{
    put(f, "conf.d/10-a.yaml", "a: 2\n");
}

static void file_modified_in_place(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    open_quiet(f, poll);
    expect_change(f, poll, rewrite_a, "a drop-in was rewritten in place");
    expect_change(f, poll, rewrite_a, "a drop-in was rewritten in place again");
}
BOTH_MODES(file_modified_in_place)

/* rsync -t and cp -p write the content, then set the mtime they copy:
 * here the same size and the very mtime the file had, so that polling has
 * only the ctime to go by. */
static void rewrite_a_keeping_mtime(struct dw_fx *f)
{
    char p[PATH_MAX];
    struct stat st;
    assert_int_equal(stat(at(f, p, "conf.d/10-a.yaml"), &st), 0);
    put(f, "conf.d/10-a.yaml", "a: 9\n");
    struct timespec t[2] = {st.st_atim, st.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
}

static void file_rewritten_keeping_mtime(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    open_quiet(f, poll);
    expect_change(f, poll, rewrite_a_keeping_mtime, "a drop-in was rewritten keeping its mtime");
}
BOTH_MODES(file_rewritten_keeping_mtime)

static void rename_over_a(struct dw_fx *f)
{
    char p[PATH_MAX];
    live_put_rename(at(f, p, "conf.d/10-a.yaml"), "a: 3\n");
}

static void file_renamed_over(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    open_quiet(f, poll);
    expect_change(f, poll, rename_over_a, "a drop-in was replaced by a rename");
    expect_change(f, poll, rename_over_a, "a drop-in was replaced by a rename again");
}
BOTH_MODES(file_renamed_over)

static void delete_a(struct dw_fx *f)
{
    remove_file(f, "conf.d/10-a.yaml");
}

static void file_deleted(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    open_quiet(f, poll);
    expect_change(f, poll, delete_a, "a drop-in was deleted");
}
BOTH_MODES(file_deleted)

static void rename_a(struct dw_fx *f)
{
    move(f, "conf.d/10-a.yaml", "conf.d/30-a.yaml");
}

static void file_renamed(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    open_quiet(f, poll);
    expect_change(f, poll, rename_a, "a drop-in was renamed");
}
BOTH_MODES(file_renamed)

/* vim with backupcopy=no: probe file 4913, rename the original to a~,
 * write a new file, set its mode, delete the backup. */
static void vim_save_a(struct dw_fx *f)
{
    put(f, "conf.d/4913", "");
    remove_file(f, "conf.d/4913");
    move(f, "conf.d/10-a.yaml", "conf.d/10-a.yaml~");
    put(f, "conf.d/10-a.yaml", "a: 4\n");
    char p[PATH_MAX];
    assert_int_equal(chmod(at(f, p, "conf.d/10-a.yaml"), 0644), 0);
    remove_file(f, "conf.d/10-a.yaml~");
}

static void file_saved_by_vim(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    open_quiet(f, poll);
    expect_change(f, poll, vim_save_a, "vim saved a drop-in");
    expect_change(f, poll, vim_save_a, "vim saved a drop-in again");
}
BOTH_MODES(file_saved_by_vim)

/* A hard link makes a file appear with no writer to close it. */
static void hard_link_c(struct dw_fx *f)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (link(at(f, a, "staged.yaml"), at(f, b, "conf.d/40-c.yaml")) < 0)
        fail_msg("link %s -> %s: %s", a, b, strerror(errno));
}

static void file_hard_linked_in(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    put(f, "staged.yaml", "c: 5\n");
    open_quiet(f, poll);
    expect_change(f, poll, hard_link_c, "a drop-in was hard-linked into the directory");
}
BOTH_MODES(file_hard_linked_in)

/* ------------------------------------------------------------------------- */
/* Symlinked drop-ins                                                         */

/* A Kubernetes ConfigMap volume mounted as the drop-in directory:
 *   conf.d/10-x.yaml -> ..data/10-x.yaml
 *   conf.d/..data    -> ..<timestamp>
 * The kubelet writes a new timestamped directory, points ..data_tmp at it,
 * renames ..data_tmp over ..data and removes the old directory. */
static int kube_round;

static void kube_write_ts(struct dw_fx *f, int round)
{
    char ts[64], rel[128], content[32];
    snprintf(ts, sizeof ts, "conf.d/..2026_11_26_01_%02d_00.%09d", round, 100 + round);
    make_dir(f, ts);
    snprintf(rel, sizeof rel, "%s/10-x.yaml", ts);
    snprintf(content, sizeof content, "x: %d\n", round);
    put(f, rel, content);
}

static void kube_swap(struct dw_fx *f)
{
    char old[64], ts[64], p[PATH_MAX];
    snprintf(old, sizeof old, "..2026_11_26_01_%02d_00.%09d", kube_round, 100 + kube_round);
    kube_round++;
    kube_write_ts(f, kube_round);
    snprintf(ts, sizeof ts, "..2026_11_26_01_%02d_00.%09d", kube_round, 100 + kube_round);
    make_link(f, ts, "conf.d/..data_tmp");
    move(f, "conf.d/..data_tmp", "conf.d/..data");
    live_join(p, f->dropins, old);
    live_rm_rf(p);
}

static void configmap_data_swap(struct dw_fx *f, bool poll)
{
    put(f, "app.yaml", "main: 1\n");
    make_dir(f, "conf.d");
    kube_round = 0;
    kube_write_ts(f, 0);
    make_link(f, "..2026_11_26_01_00_00.000000100", "conf.d/..data");
    make_link(f, "..data/10-x.yaml", "conf.d/10-x.yaml");
    open_quiet(f, poll);
    expect_change(f, poll, kube_swap, "the ConfigMap's ..data was swapped");
    expect_change(f, poll, kube_swap, "the ConfigMap's ..data was swapped again");
}
BOTH_MODES(configmap_data_swap)

/* A drop-in that is a symlink into another directory changes there, with
 * no event in the drop-in directory itself. */
static void rewrite_shared(struct dw_fx *f)
{
    put(f, "shared/ext.yaml", "ext: 2\n");
}

static void symlinked_file_changed_at_target(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    make_dir(f, "shared");
    put(f, "shared/ext.yaml", "ext: 1\n");
    make_link(f, "../shared/ext.yaml", "conf.d/50-ext.yaml");
    open_quiet(f, poll);
    expect_change(f, poll, rewrite_shared, "a symlinked drop-in's target was rewritten");
    expect_change(f, poll, rewrite_shared, "a symlinked drop-in's target was rewritten again");
}
BOTH_MODES(symlinked_file_changed_at_target)

/* ------------------------------------------------------------------------- */
/* The directory itself                                                       */

static void mkdir_conf_d(struct dw_fx *f)
{
    make_dir(f, "conf.d");
}

/* Created after the open: its appearance is a change, and the files then
 * put in it are watched. */
static void dir_created_after_open(struct dw_fx *f, bool poll)
{
    put(f, "app.yaml", "main: 1\n");
    open_quiet(f, poll);
    expect_change(f, poll, mkdir_conf_d, "the drop-in directory was created");
    expect_change(f, poll, create_b, "a drop-in was created in the new directory");
}
BOTH_MODES(dir_created_after_open)

/* The same several levels down: each missing parent is watched for in
 * turn, however fast they appear. */
static void mkdir_deep(struct dw_fx *f)
{
    make_dir(f, "etc");
    make_dir(f, "etc/app");
    make_dir(f, "etc/app/conf.d");
}

static void put_deep(struct dw_fx *f)
{
    put(f, "etc/app/conf.d/10-deep.yaml", "deep: 1\n");
}

static void dir_and_parents_created_after_open(struct dw_fx *f, bool poll)
{
    put(f, "app.yaml", "main: 1\n");
    at(f, f->dropins, "etc/app/conf.d");
    open_quiet(f, poll);
    expect_change(f, poll, mkdir_deep, "the drop-in directory and its parents were created");
    expect_change(f, poll, put_deep, "a drop-in was created in the new directory");
}
BOTH_MODES(dir_and_parents_created_after_open)

static void rm_conf_d(struct dw_fx *f)
{
    live_rm_rf(f->dropins);
}

/* Removed: a change; made again, watched again. */
static void dir_removed(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    put(f, "conf.d/20-b.yaml", "b: 1\n");
    open_quiet(f, poll);
    expect_change(f, poll, rm_conf_d, "the drop-in directory was removed");
    expect_change(f, poll, mkdir_conf_d, "the drop-in directory was made again");
    expect_change(f, poll, create_b, "a drop-in was created in the directory made again");
}
BOTH_MODES(dir_removed)

/* The directory is a symlink that a deployment swaps to another release. */
static void swap_to_v2(struct dw_fx *f)
{
    make_link(f, "releases/v2", "conf.d.tmp");
    move(f, "conf.d.tmp", "conf.d");
}

static void rewrite_v2(struct dw_fx *f)
{
    put(f, "releases/v2/10-a.yaml", "a: 22\n");
}

static void dir_symlink_swapped(struct dw_fx *f, bool poll)
{
    put(f, "app.yaml", "main: 1\n");
    make_dir(f, "releases");
    make_dir(f, "releases/v1");
    make_dir(f, "releases/v2");
    put(f, "releases/v1/10-a.yaml", "a: 1\n");
    put(f, "releases/v2/10-a.yaml", "a: 2\n");
    make_link(f, "releases/v1", "conf.d");
    open_quiet(f, poll);
    expect_change(f, poll, swap_to_v2, "the drop-in directory's symlink was swapped");
    expect_change(f, poll, rewrite_v2, "a drop-in of the new target was rewritten");
    /* The old release is no longer watched. */
    int before = attempts(f);
    put(f, "releases/v1/10-a.yaml", "a: 11\n");
    expect_none(f, before, "a file of the old release changed");
}
BOTH_MODES(dir_symlink_swapped)

/* ------------------------------------------------------------------------- */
/* Several directories, changes elsewhere, the host's event loop              */

static void create_in_extra(struct dw_fx *f)
{
    put(f, "extra.d/90-z.yaml", "z: 1\n");
}

static void second_dir_watched(struct dw_fx *f, bool poll)
{
    static char extra[PATH_MAX];
    main_and_one_dropin(f);
    make_dir(f, "extra.d");
    f->dirs[1] = at(f, extra, "extra.d");
    open_quiet(f, poll);
    expect_change(f, poll, create_in_extra, "a drop-in was created in the second directory");
    expect_change(f, poll, create_b, "a drop-in was created in the first directory");
}
BOTH_MODES(second_dir_watched)

/* Files beside the main file, and a directory that is not a drop-in
 * directory, are none of the handle's business. */
static void unrelated_changes_reload_nothing(struct dw_fx *f, bool poll)
{
    main_and_one_dropin(f);
    make_dir(f, "other.d");
    open_quiet(f, poll);
    int before = attempts(f);
    put(f, "other.yaml", "o: 1\n");
    put(f, "other.d/10-o.yaml", "o: 1\n");
    make_dir(f, "other.d/sub");
    expect_none(f, before, "changes outside the drop-in directories");
}
BOTH_MODES(unrelated_changes_reload_nothing)

/* With the host's event loop (snapconf_fd and snapconf_process). */
static void external_event_loop(void **state)
{
    struct dw_fx *f = *state;
    main_and_one_dropin(f);
    f->o.watch = SNAPCONF_WATCH_EXTERNAL;
    open_quiet(f, false);
    int fd = snapconf_fd(f->base.h);
    assert_true(fd >= 0);
    create_b(f);
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (attempts(f) == 0 && live_now_ms() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 10) > 0)
            assert_int_equal(snapconf_process(f->base.h), 0);
    }
    assert_int_equal(attempts(f), 1);
}

#define BOTH(name)                                                                                 \
    cmocka_unit_test_setup_teardown(name##_inotify, setup, live_teardown),                         \
        cmocka_unit_test_setup_teardown(name##_poll, setup, live_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(file_created),
        BOTH(file_modified_in_place),
        BOTH(file_rewritten_keeping_mtime),
        BOTH(file_renamed_over),
        BOTH(file_deleted),
        BOTH(file_renamed),
        BOTH(file_saved_by_vim),
        BOTH(file_hard_linked_in),
        BOTH(configmap_data_swap),
        BOTH(symlinked_file_changed_at_target),
        BOTH(dir_created_after_open),
        BOTH(dir_and_parents_created_after_open),
        BOTH(dir_removed),
        BOTH(dir_symlink_swapped),
        BOTH(second_dir_watched),
        BOTH(unrelated_changes_reload_nothing),
        cmocka_unit_test_setup_teardown(external_event_loop, setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
