/*
 * Quiet by default: with no log callback the library writes nothing to
 * stdout or stderr - not on open, a reload, a failed reload, a deleted
 * file, a validator rejection or close.  With a log callback, a failed
 * reload is reported there, at error level, with the file and position.
 */
#include "live.h"

static int reject_b(void *ud, const snapconf_snap *cand, const snapconf_snap *cur,
                    snapconf_error *err)
{
    (void)ud;
    (void)cur;
    const snapconf_node *n;
    if (snapconf_find(cand, "b", &n) == 0)
        return snapconf_error_at(err, cand, n, "b is not allowed");
    return 0;
}

/* Everything below runs with fds 1 and 2 on a pipe, so it must not use
 * cmocka's assertions (they print): it records what it saw instead. */
struct quiet_run {
    int open_rc, reload_fail_rc, missing_rc;
    uint64_t gen_after_edit, failed;
};

static void noisy_things(const char *dir, const char *path, struct quiet_run *q)
{
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.validate = reject_b;
    o.log_level = SNAPCONF_LOG_DEBUG; /* the most verbose, still no callback */
    snapconf *h = NULL;
    q->open_rc = snapconf_open(&h, path, &o, NULL);
    if (q->open_rc)
        return;
    FILE *fp = fopen(path, "w");
    fputs("a: 2\n", fp);
    fclose(fp);
    q->gen_after_edit = wait_generation(h, 2, LIVE_WAIT_MS);
    /* Invalid through the watcher, and synchronously. */
    fp = fopen(path, "w");
    fputs("a: [\n", fp);
    fclose(fp);
    wait_failed(h, 1, LIVE_WAIT_MS);
    q->reload_fail_rc = snapconf_reload(h, NULL);
    /* A validator rejection. */
    fp = fopen(path, "w");
    fputs("b: 1\n", fp);
    fclose(fp);
    wait_failed(h, 3, LIVE_WAIT_MS);
    /* Deleted. */
    unlink(path);
    wait_failed(h, 4, LIVE_WAIT_MS);
    snapconf_status_info st;
    snapconf_status(h, &st);
    q->failed = st.failed_reloads;
    snapconf_close(h);
    /* Opening a missing file, and one that is missing but allowed. */
    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/missing.yaml", dir);
    q->missing_rc = snapconf_open(&h, missing, &o, NULL);
    o.allow_missing = true;
    if (snapconf_open(&h, missing, &o, NULL) == 0)
        snapconf_close(h);
}

static void test_silent_without_log_callback(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "a: 1\n");
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    assert_true(saved_out >= 0 && saved_err >= 0);
    assert_true(dup2(p[1], 1) >= 0);
    assert_true(dup2(p[1], 2) >= 0);

    struct quiet_run q = {0};
    noisy_things(f->dir, f->path, &q);

    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(p[1]);
    char buf[4096];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    if (n > 0) {
        buf[n] = '\0';
        fail_msg("the library wrote %zd bytes: %s", n, buf);
    }
    /* The scenario really happened. */
    assert_int_equal(q.open_rc, 0);
    assert_int_equal(q.gen_after_edit, 2);
    assert_int_equal(q.reload_fail_rc, SNAPCONF_EPARSE);
    assert_true(q.failed >= 4);
    assert_int_equal(q.missing_rc, SNAPCONF_EIO);
}

/* ------------------------------------------------------------------------- */

struct log_lines {
    pthread_mutex_t lock;
    int n, errors, above_level;
    char lines[64][512];
    snapconf_log_level levels[64];
    snapconf_log_level max_level;
};

static void log_cb(void *ud, snapconf_log_level level, const char *message)
{
    struct log_lines *l = ud;
    pthread_mutex_lock(&l->lock);
    if (level > l->max_level)
        l->above_level++;
    if (level == SNAPCONF_LOG_ERROR)
        l->errors++;
    if (l->n < 64) {
        snprintf(l->lines[l->n], sizeof l->lines[0], "%s", message);
        l->levels[l->n] = level;
        l->n++;
    }
    pthread_mutex_unlock(&l->lock);
}

static int log_errors(struct log_lines *l)
{
    pthread_mutex_lock(&l->lock);
    int n = l->errors;
    pthread_mutex_unlock(&l->lock);
    return n;
}

static void test_log_callback_gets_failed_reload(void **state)
{
    struct live_fx *f = *state;
    static struct log_lines l;
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.lock, NULL);
    l.max_level = SNAPCONF_LOG_INFO;
    live_put_trunc(f->path, "a: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    o.log = log_cb;
    o.log_userdata = &l;
    o.log_level = SNAPCONF_LOG_INFO;
    f->h = live_open(f->path, &o);

    /* A failed reload through the watcher: one error line naming the file
     * and the position. */
    live_put_rename(f->path, "a: 1\nb: 2\na: 3\n");
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (log_errors(&l) == 0 && live_now_ms() < end)
        live_sleep_ms(1);
    assert_int_equal(log_errors(&l), 1);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s:3:1:", f->path);
    pthread_mutex_lock(&l.lock);
    bool found = false;
    for (int i = 0; i < l.n; i++)
        if (l.levels[i] == SNAPCONF_LOG_ERROR && strstr(l.lines[i], want) &&
            !strchr(l.lines[i], '\n'))
            found = true;
    pthread_mutex_unlock(&l.lock);
    assert_true(found);

    /* And a synchronous one. */
    assert_int_equal(snapconf_reload(f->h, NULL), SNAPCONF_EPARSE);
    assert_int_equal(log_errors(&l), 2);

    snapconf_close(f->h);
    f->h = NULL;
    assert_int_equal(l.above_level, 0);
}

/* log_level filters: at ERROR, a successful reload logs nothing, a failed
 * one logs its error. */
static void test_log_level_filters(void **state)
{
    struct live_fx *f = *state;
    static struct log_lines l;
    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.lock, NULL);
    l.max_level = SNAPCONF_LOG_ERROR;
    live_put_trunc(f->path, "a: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_NONE);
    o.log = log_cb;
    o.log_userdata = &l;
    o.log_level = SNAPCONF_LOG_ERROR;
    f->h = live_open(f->path, &o);
    live_put_rename(f->path, "a: 2\n");
    assert_int_equal(snapconf_reload(f->h, NULL), 0);
    assert_int_equal(l.n, 0);
    live_put_rename(f->path, "a: [\n");
    assert_int_equal(snapconf_reload(f->h, NULL), SNAPCONF_EPARSE);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.levels[0], SNAPCONF_LOG_ERROR);
    assert_int_equal(l.above_level, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_silent_without_log_callback, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_log_callback_gets_failed_reload, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_log_level_filters, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
