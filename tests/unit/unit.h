/*
 * unit.h - helpers shared by the cmocka unit tests.
 *
 * Every helper asserts on its own, so that a test reads as a list of facts
 * about the library: load() either returns a snapshot or fails the test with
 * the library's own error message, load_err() checks one failure in full.
 * The helpers are static inline so that each test program compiles them
 * without warnings about unused functions.
 */
#ifndef SNAPCONF_TESTS_UNIT_H
#define SNAPCONF_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snapconf.h"

/* The buffer name every test uses, so that messages start with "t.yaml:". */
#define T_NAME "t.yaml"

/* The details of the last failure seen by load_err(), for extra checks. */
static snapconf_error last_err;

/* A value no load may ever write into *out, to prove that it did not. */
static char out_sentinel_;
#define OUT_SENTINEL ((snapconf_snap *)(void *)&out_sentinel_)

/* Loads len bytes of buf as T_NAME with the given options (NULL for the
 * defaults) and fails the test, with the library's message, unless it
 * succeeds. */
static inline snapconf_snap *load_len_opts(const char *buf, size_t len,
                                           const snapconf_options *opts)
{
    snapconf_snap *snap = NULL;
    snapconf_error err;
    int rc;

    memset(&err, 0, sizeof(err));
    if (opts == NULL)
        rc = snapconf_snap_load_buffer(buf, len, T_NAME, &snap, &err);
    else
        rc = snapconf_snap_load(NULL, buf, len, opts, &snap, &err);
    if (rc != 0)
        fail_msg("loading failed with %s (%d): %s", snapconf_err_name(rc), rc, err.message);
    assert_non_null(snap);
    return snap;
}

static inline snapconf_snap *load_len(const char *buf, size_t len)
{
    return load_len_opts(buf, len, NULL);
}

static inline snapconf_snap *load(const char *yaml)
{
    return load_len_opts(yaml, strlen(yaml), NULL);
}

/*
 * Checks the parts of a failure that every failure shares: the code is
 * stored in the struct, *out was not touched, the message is a
 * NUL-terminated, non-empty string, and when a position is known the
 * message starts with exactly "file:line:column: ".
 */
static inline void check_error_common(int rc, int code, const snapconf_snap *out,
                                      const snapconf_error *err)
{
    char pos[SNAPCONF_ERROR_FILE_MAX + 64];

    /* A load that succeeded against expectations hands out a snapshot;
     * free it so that the failure below is the only thing reported. */
    if (rc == 0 && out != NULL && out != OUT_SENTINEL)
        snapconf_snap_free((snapconf_snap *)out);
    if (rc != code)
        fail_msg("expected %s, got %s (%d): %s", snapconf_err_name(code), snapconf_err_name(rc), rc,
                 err->message);
    assert_int_equal(err->code, code);
    assert_ptr_equal(out, OUT_SENTINEL);
    assert_non_null(memchr(err->message, '\0', sizeof(err->message)));
    assert_non_null(memchr(err->file, '\0', sizeof(err->file)));
    assert_true(strlen(err->message) > 0);
    assert_true(err->line >= 0);
    assert_true(err->column >= 0);
    if (err->line > 0) {
        snprintf(pos, sizeof(pos), "%s:%d:%d: ", err->file, err->line, err->column);
        if (strncmp(err->message, pos, strlen(pos)) != 0)
            fail_msg("message does not start with its own position \"%s\": %s", pos, err->message);
    }
}

/* Checks that message holds substring, showing the message when not. */
static inline void assert_message_has(const snapconf_error *err, const char *substring)
{
    if (strstr(err->message, substring) == NULL)
        fail_msg("message lacks \"%s\": %s", substring, err->message);
}

/* Checks that message starts with prefix, showing the message when not. */
static inline void assert_message_starts(const snapconf_error *err, const char *prefix)
{
    if (strncmp(err->message, prefix, strlen(prefix)) != 0)
        fail_msg("message does not start with \"%s\": %s", prefix, err->message);
}

/*
 * Loads len bytes as T_NAME and checks that it fails with code, that the
 * message starts with expected_prefix (e.g. "t.yaml:3:1: ", which must then
 * also be the position in the struct) and contains substring (either may be
 * NULL).  The error is left in last_err for further checks.
 */
static inline void load_err_len(const char *buf, size_t len, int code, const char *expected_prefix,
                                const char *substring)
{
    snapconf_snap *snap = OUT_SENTINEL;
    int rc;
    int line, column;
    char file[SNAPCONF_ERROR_FILE_MAX];

    memset(&last_err, 0, sizeof(last_err));
    rc = snapconf_snap_load_buffer(buf, len, T_NAME, &snap, &last_err);
    check_error_common(rc, code, snap, &last_err);
    assert_string_equal(last_err.file, T_NAME);
    if (expected_prefix != NULL) {
        assert_message_starts(&last_err, expected_prefix);
        if (sscanf(expected_prefix, "%511[^:]:%d:%d: ", file, &line, &column) == 3) {
            assert_int_equal(last_err.line, line);
            assert_int_equal(last_err.column, column);
        }
    }
    if (substring != NULL)
        assert_message_has(&last_err, substring);
}

static inline void load_err(const char *yaml, int code, const char *expected_prefix,
                            const char *substring)
{
    load_err_len(yaml, strlen(yaml), code, expected_prefix, substring);
}

/* As load_err(), through snapconf_snap_load() with options. */
static inline void load_err_opts(const char *buf, size_t len, const snapconf_options *opts,
                                 int code, const char *substring)
{
    snapconf_snap *snap = OUT_SENTINEL;
    int rc;

    memset(&last_err, 0, sizeof(last_err));
    rc = snapconf_snap_load(NULL, buf, len, opts, &snap, &last_err);
    check_error_common(rc, code, snap, &last_err);
    if (substring != NULL)
        assert_message_has(&last_err, substring);
}

/* The node at path, which must exist. */
static inline const snapconf_node *node_at_path(const snapconf_snap *snap, const char *path)
{
    const snapconf_node *node = NULL;
    int rc = snapconf_find(snap, path, &node);

    if (rc != 0)
        fail_msg("path '%s': %s", path, snapconf_err_name(rc));
    assert_non_null(node);
    return node;
}

/* The string at path, which must be one. */
static inline const char *str_at(const snapconf_snap *snap, const char *path)
{
    const char *s = NULL;
    int rc = snapconf_get_str(snap, path, &s);

    if (rc != 0)
        fail_msg("path '%s': %s", path, snapconf_err_name(rc));
    assert_non_null(s);
    return s;
}

/* The int at path, which must be one. */
static inline int64_t int_at(const snapconf_snap *snap, const char *path)
{
    int64_t v = 0;
    int rc = snapconf_get_int(snap, path, &v);

    if (rc != 0)
        fail_msg("path '%s': %s", path, snapconf_err_name(rc));
    return v;
}

/* Seconds since an arbitrary start, for "finishes fast" checks. */
static inline double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growable string for generated documents; aborts the test on ENOMEM. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
} strbuf;

static inline void sb_add(strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = sb->cap - sb->len;
        va_start(ap, fmt);
        n = vsnprintf(sb->data ? sb->data + sb->len : NULL, room, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < room)
            break;
        sb->cap = (sb->cap + (size_t)n + 1) * 2;
        sb->data = realloc(sb->data, sb->cap);
        assert_non_null(sb->data);
    }
    sb->len += (size_t)n;
}

static inline void sb_free(strbuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

/*
 * Writes len bytes into a new temporary file and returns its path in buf
 * (at least 64 bytes).  The caller unlinks it.
 */
static inline void write_temp(char *path, size_t pathsize, const char *data, size_t len)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    snprintf(path, pathsize, "%s/snapconf-unit-XXXXXX.yaml", dir && *dir ? dir : "/tmp");
    fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

#endif /* SNAPCONF_TESTS_UNIT_H */
