/*
 * live.h - helpers shared by the live-reload tests (cmocka, real inotify).
 *
 * Every test works in its own directory made with mkdtemp under /tmp and
 * removed by the fixture's teardown, so tests can run in parallel with each
 * other and with other builds.  Waiting is always "poll every millisecond
 * until the condition holds or a generous timeout passes": a passing test
 * waits only as long as the library needs, and the timeout (which only a
 * failing test reaches) is long enough for valgrind.
 *
 * The helpers are static inline so that each program compiles them without
 * unused-function warnings.  They assert on their own, so they may only be
 * called from the thread that runs the cmocka test; reader threads record
 * failures in counters that the test checks after joining them.
 */
#ifndef SNAPCONF_TESTS_LIVE_H
#define SNAPCONF_TESTS_LIVE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapconf.h"

/* The debounce every test uses unless it is about the default. */
#define LIVE_DEBOUNCE_MS 20u
/* How long a test waits for something that must happen (only a failing test
 * waits this long; valgrind needs the margin). */
#define LIVE_WAIT_MS 10000
/* How long to wait to be sure that nothing more happens after an event:
 * the debounce window plus a margin for the reload itself. */
#define LIVE_SETTLE_MS (LIVE_DEBOUNCE_MS + 100u)

/* ------------------------------------------------------------------------- */
/* Time                                                                       */

static inline int64_t live_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void live_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static inline void live_sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------------- */
/* Temporary directories                                                      */

/* The fixture of most tests: a fresh directory, the config path in it, and
 * the handle under test (closed by the teardown when the test left it
 * open, e.g. because it failed). */
struct live_fx {
    char dir[256];
    char path[PATH_MAX];
    snapconf *h;
};

static inline int live_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline void live_rm_rf(const char *dir)
{
    /* Best effort: a directory made unreadable by a test is fixed first. */
    chmod(dir, 0700);
    nftw(dir, live_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int live_setup(void **state)
{
    struct live_fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/snapconf-live-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/app.yaml", f->dir);
    *state = f;
    return 0;
}

static inline int live_teardown(void **state)
{
    struct live_fx *f = *state;
    snapconf_close(f->h);
    live_rm_rf(f->dir);
    free(f);
    return 0;
}

/* dir/name into out (PATH_MAX bytes). */
static inline char *live_join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    assert_true(n > 0 && n < PATH_MAX);
    return out;
}

/* ------------------------------------------------------------------------- */
/* Writing files the way tools do                                            */

static inline void live_write_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            fail_msg("write: %s", strerror(errno));
        s += n;
        len -= (size_t)n;
    }
}

/* In place: open with O_TRUNC, write, close (nano, VS Code, "> file"). */
static inline void live_put_trunc(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    live_write_all(fd, content, strlen(content));
    assert_int_equal(close(fd), 0);
}

/* Append: open with O_APPEND, write, close (">> file"). */
static inline void live_put_append(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        fail_msg("open %s: %s", path, strerror(errno));
    live_write_all(fd, content, strlen(content));
    assert_int_equal(close(fd), 0);
}

/* A temporary file in the same directory, then rename over the target, as
 * sed -i does: mkstemp, write, fchmod, close, rename. */
static inline void live_put_rename(const char *path, const char *content)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    assert_non_null(slash);
    int n = snprintf(tmp, sizeof tmp, "%.*s/sedXXXXXX", (int)(slash - path), path);
    assert_true(n > 0 && n < (int)sizeof tmp);
    int fd = mkstemp(tmp);
    if (fd < 0)
        fail_msg("mkstemp %s: %s", tmp, strerror(errno));
    live_write_all(fd, content, strlen(content));
    assert_int_equal(fchmod(fd, 0644), 0);
    assert_int_equal(close(fd), 0);
    if (rename(tmp, path) < 0)
        fail_msg("rename %s -> %s: %s", tmp, path, strerror(errno));
}

/* The whole content of a file (following symlinks), malloc'd, NUL-ended. */
static inline char *live_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("fopen %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += r;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* ------------------------------------------------------------------------- */
/* Options, opening                                                           */

static inline snapconf_options live_opts(snapconf_watch_mode watch)
{
    snapconf_options o;
    snapconf_options_init(&o);
    o.watch = watch;
    o.debounce_ms = LIVE_DEBOUNCE_MS;
    return o;
}

static inline snapconf *live_open(const char *path, const snapconf_options *o)
{
    snapconf *h = NULL;
    snapconf_error err;
    memset(&err, 0, sizeof err);
    int rc = snapconf_open(&h, path, o, &err);
    if (rc != 0)
        fail_msg("snapconf_open(%s) failed with %s: %s", path, snapconf_err_name(rc), err.message);
    assert_non_null(h);
    return h;
}

/* ------------------------------------------------------------------------- */
/* Reading the live state                                                     */

static inline snapconf_status_info live_status(snapconf *h)
{
    snapconf_status_info st;
    memset(&st, 0, sizeof st);
    assert_int_equal(snapconf_status(h, &st), 0);
    return st;
}

/* The generation readers see right now, through the read side. */
static inline uint64_t live_gen(snapconf *h)
{
    const snapconf_snap *s = snapconf_snap_begin(h);
    assert_non_null(s);
    uint64_t g = snapconf_snap_generation(s);
    snapconf_snap_end(h, s);
    return g;
}

static inline int64_t live_int_or(snapconf *h, const char *path, int64_t def)
{
    const snapconf_snap *s = snapconf_snap_begin(h);
    int64_t v = snapconf_get_int_or(s, path, def);
    snapconf_snap_end(h, s);
    return v;
}

static inline bool live_has(snapconf *h, const char *path)
{
    const snapconf_node *n;
    const snapconf_snap *s = snapconf_snap_begin(h);
    bool found = snapconf_find(s, path, &n) == 0;
    snapconf_snap_end(h, s);
    return found;
}

/* Polls the generation every millisecond until it reaches g or timeout_ms
 * passes; returns the last generation seen (>= g on success). */
static inline uint64_t wait_generation(snapconf *h, uint64_t g, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    uint64_t cur;
    while ((cur = live_gen(h)) < g && live_now_ms() < end)
        live_sleep_ms(1);
    return cur;
}

/* Waits until the status's last_attempt_time_ns differs from since; returns
 * true when it did within timeout_ms. */
static inline bool wait_attempt(snapconf *h, int64_t since, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    while (live_status(h).last_attempt_time_ns == since) {
        if (live_now_ms() >= end)
            return false;
        live_sleep_ms(1);
    }
    return true;
}

/* Waits until failed_reloads reaches n; returns the count last seen. */
static inline uint64_t wait_failed(snapconf *h, uint64_t n, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    uint64_t cur;
    while ((cur = live_status(h).failed_reloads) < n && live_now_ms() < end)
        live_sleep_ms(1);
    return cur;
}

/* Asserts that the generation reaches g, then that no further generation
 * follows within the settle time: a save produces exactly one. */
static inline void expect_exactly(snapconf *h, uint64_t g)
{
    uint64_t got = wait_generation(h, g, LIVE_WAIT_MS);
    if (got != g)
        fail_msg("expected generation %llu, got %llu", (unsigned long long)g,
                 (unsigned long long)got);
    live_sleep_ms(LIVE_SETTLE_MS);
    got = live_gen(h);
    if (got != g)
        fail_msg("expected exactly generation %llu after settling, got %llu", (unsigned long long)g,
                 (unsigned long long)got);
}

/* Asserts that the published snapshot is exactly the bytes now at path (its
 * content hash equals that of the file's bytes). */
static inline void expect_published_is_file(snapconf *h, const char *path)
{
    size_t len;
    char *bytes = live_slurp(path, &len);
    snapconf_snap *want = NULL;
    snapconf_error err;
    int rc = snapconf_snap_load_buffer(bytes, len, "expected", &want, &err);
    if (rc)
        fail_msg("the file itself does not load: %s", err.message);
    const snapconf_snap *s = snapconf_snap_begin(h);
    char got_hash[33];
    memcpy(got_hash, snapconf_snap_content_hash(s), sizeof got_hash);
    snapconf_snap_end(h, s);
    char want_hash[33];
    memcpy(want_hash, snapconf_snap_content_hash(want), sizeof want_hash);
    snapconf_snap_free(want);
    if (strcmp(got_hash, want_hash) != 0)
        fail_msg("published content (hash %s) is not the file's content (hash %s):\n%s", got_hash,
                 want_hash, bytes);
    free(bytes);
}

#endif
