/*
 * fault_test.h - what the fault tests share: the live tests' helpers
 * (live.h: temporary directories, writing files, waiting), the injection
 * layer (fault.h), and checks of a failure and of what it must leave
 * behind.
 *
 * Injections are always disarmed before anything asserts: cmocka itself
 * allocates when it reports a failure.
 */
#ifndef SNAPCONF_TESTS_FAULT_TEST_H
#define SNAPCONF_TESTS_FAULT_TEST_H

#include "live.h"

#include "fault.h"

/* A value no call may write into an output parameter when it fails. */
static char fault_sentinel_ __attribute__((unused));
#define SNAP_SENTINEL ((snapconf_snap *)(void *)&fault_sentinel_)
#define HANDLE_SENTINEL ((snapconf *)(void *)&fault_sentinel_)

/* The error struct's content before a call: a failure must overwrite all
 * of it that matters, so stale bytes are easy to tell. */
static inline void fault_poison(snapconf_error *err)
{
    memset(err, 0x5a, sizeof *err);
}

/*
 * Checks one failure in full: the code returned and stored, a message that
 * is NUL-terminated, names the file (as "file: ..." or "file:line:col: ...")
 * and contains want_text; file may be NULL when no file is involved.
 * what and n say which attempt failed, for the failure message.
 */
static inline void fault_expect_error(const char *what, unsigned long n, int rc, int code,
                                      const snapconf_error *err, const char *file,
                                      const char *want_text)
{
    if (rc != code)
        fail_msg("%s, attempt %lu: returned %s (%d), wanted %s; message: %.*s", what, n,
                 snapconf_err_name(rc), rc, snapconf_err_name(code), (int)sizeof err->message,
                 err->message);
    if (err->code != code)
        fail_msg("%s, attempt %lu: err.code is %d, wanted %d", what, n, err->code, code);
    if (!memchr(err->message, '\0', sizeof err->message) || err->message[0] == '\0')
        fail_msg("%s, attempt %lu: the message is empty or not terminated", what, n);
    if (file) {
        if (strcmp(err->file, file) != 0)
            fail_msg("%s, attempt %lu: err.file is \"%.*s\", wanted \"%s\"", what, n,
                     (int)sizeof err->file, err->file, file);
        size_t flen = strlen(file);
        if (strncmp(err->message, file, flen) != 0 || err->message[flen] != ':')
            fail_msg("%s, attempt %lu: the message does not start with the file name: %s", what, n,
                     err->message);
    }
    if (want_text && !strstr(err->message, want_text))
        fail_msg("%s, attempt %lu: the message lacks \"%s\": %s", what, n, want_text, err->message);
}

/* Fails unless the process holds exactly as many blocks as before. */
static inline void fault_expect_no_leak(const char *what, unsigned long n, long before)
{
    long now = fault_alloc_live();
    if (now != before)
        fail_msg("%s, attempt %lu: %ld block(s) leaked (live blocks %ld before, %ld after)", what,
                 n, now - before, before, now);
}

/* The process's descriptors, threads and heap blocks at one moment. */
struct fault_resources {
    int fds, threads;
    long blocks;
};

static inline struct fault_resources fault_resources_now(void)
{
    struct fault_resources r;
    r.fds = fault_count_fds();
    r.threads = fault_count_threads();
    r.blocks = fault_alloc_live();
    return r;
}

/* Fails unless everything is back to what r recorded (threads get a moment
 * to leave /proc after being joined). */
static inline void fault_expect_resources(const char *what, unsigned long n,
                                          const struct fault_resources *r)
{
    int threads = fault_wait_threads(r->threads, 2000);
    if (threads != r->threads)
        fail_msg("%s, attempt %lu: %d thread(s) left running", what, n, threads - r->threads);
    int fds = fault_count_fds();
    if (fds != r->fds)
        fail_msg("%s, attempt %lu: %d file descriptor(s) leaked", what, n, fds - r->fds);
    fault_expect_no_leak(what, n, r->blocks);
}

/* Log lines a handle passed to its log callback, for checking warnings. */
struct fault_log {
    pthread_mutex_t lock;
    char text[8192];
    size_t len;
    int warnings;
};

static inline void fault_log_cb(void *ud, snapconf_log_level level, const char *line)
{
    struct fault_log *l = ud;
    pthread_mutex_lock(&l->lock);
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", line);
    if (n > 0 && l->len + (size_t)n < sizeof l->text)
        l->len += (size_t)n;
    if (level == SNAPCONF_LOG_WARNING)
        l->warnings++;
    pthread_mutex_unlock(&l->lock);
}

/* True when some logged line contains s. */
static inline bool fault_log_has(struct fault_log *l, const char *s)
{
    pthread_mutex_lock(&l->lock);
    bool found = strstr(l->text, s) != NULL;
    pthread_mutex_unlock(&l->lock);
    return found;
}

static inline void fault_log_clear(struct fault_log *l)
{
    pthread_mutex_lock(&l->lock);
    l->text[0] = '\0';
    l->len = 0;
    l->warnings = 0;
    pthread_mutex_unlock(&l->lock);
}

#endif
