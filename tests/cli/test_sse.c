/*
 * test_sse.c - the CLI's Server-Sent Events parser (src/cli/sse.c): the
 * same stream gives the same events however the network cuts it, with
 * every line ending the standard allows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sse.h"

/* Everything the callbacks saw, one line per call. */
struct record {
    char text[4096];
    size_t len;
    int stop_after; /* stop the parser at this event (1-based); 0: never */
    int events;
};

static void add(struct record *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->len, sizeof(r->text) - r->len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(r->text) - r->len);
    r->len += (size_t)n;
}

static int on_event(void *userdata, const char *type, const char *data, size_t len, const char *id)
{
    struct record *r = userdata;

    assert_int_equal(strlen(data), len);
    add(r, "event type=%s id=%s data=[%s]\n", type, id, data);
    r->events++;
    return r->stop_after == r->events ? 42 : 0;
}

static int on_comment(void *userdata, const char *text)
{
    add(userdata, "comment [%s]\n", text);
    return 0;
}

/* Feeds stream in pieces of chunk bytes (0: all at once). */
static int feed(struct record *r, const char *stream, size_t chunk)
{
    struct sse_parser p;
    size_t len = strlen(stream);
    int rc = 0;

    memset(r->text, 0, sizeof(r->text));
    r->len = 0;
    r->events = 0;
    sse_init(&p, on_event, on_comment, r);
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t i = 0; i < len && rc == 0; i += chunk)
        rc = sse_feed(&p, stream + i, len - i < chunk ? len - i : chunk);
    sse_free(&p);
    return rc;
}

/* The stream gives want, fed whole, byte by byte, and in odd chunks. */
static void expect_events(const char *stream, const char *want)
{
    static const size_t chunks[] = {0, 1, 2, 3, 7, 64};
    struct record r = {0};

    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        assert_int_equal(feed(&r, stream, chunks[i]), 0);
        if (strcmp(r.text, want) != 0)
            fail_msg("in chunks of %zu:\n%s\nwant:\n%s", chunks[i], r.text, want);
    }
}

/* The daemon's stream, as docs/API.md shows it. */
static void test_daemon_stream(void **state)
{
    (void)state;
    expect_events(": connected generation 7\n\n"
                  "id: 8\nevent: change\n"
                  "data: {\"generation\": 8, \"changes\": []}\n\n"
                  ": keepalive\n\n"
                  "event: resync\ndata: {\"generation\": 300, \"reason\": \"gone\"}\n\n",
                  "comment [ connected generation 7]\n"
                  "event type=change id=8 data=[{\"generation\": 8, \"changes\": []}]\n"
                  "comment [ keepalive]\n"
                  "event type=resync id=8 data=[{\"generation\": 300, \"reason\": \"gone\"}]\n");
}

/* CRLF, CR alone and LF alone all end lines; a CRLF split between two
 * chunks is one line end, not two. */
static void test_line_endings(void **state)
{
    (void)state;
    expect_events("event: a\r\ndata: 1\r\n\r\n"
                  "event: b\rdata: 2\r\r"
                  "event: c\ndata: 3\n\n"
                  "data: 4\r\n\n",
                  "event type=a id= data=[1]\n"
                  "event type=b id= data=[2]\n"
                  "event type=c id= data=[3]\n"
                  "event type=message id= data=[4]\n");
}

/* Several data lines join with '\n'; one space after the colon is
 * dropped, not more; a field without a colon has an empty value. */
static void test_fields(void **state)
{
    (void)state;
    expect_events("data: {\"a\":\ndata:  1}\n\n"
                  "data\n\n"
                  "data:x\nretry: 10\nunknown: y\n\n"
                  "event: t\n\n" /* no data: not dispatched, type forgotten */
                  "data: after\n\n",
                  "event type=message id= data=[{\"a\":\n 1}]\n"
                  "event type=message id= data=[]\n"
                  "event type=message id= data=[x]\n"
                  "event type=message id= data=[after]\n");
}

/* The last id stays until another one comes; a byte order mark at the
 * start is skipped. */
static void test_id_and_bom(void **state)
{
    struct record r = {0};

    (void)state;
    assert_int_equal(feed(&r, "\xEF\xBB\xBFid: 5\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", 0), 0);
    assert_string_equal(r.text, "event type=message id=5 data=[a]\n"
                                "event type=message id=5 data=[b]\n"
                                "event type=message id= data=[c]\n");
}

/* An event without its closing empty line is not dispatched. */
static void test_unfinished(void **state)
{
    struct record r = {0};

    (void)state;
    assert_int_equal(feed(&r, "data: 1\n\ndata: 2\n", 1), 0);
    assert_string_equal(r.text, "event type=message id= data=[1]\n");
}

/* A callback's nonzero return stops the parser with that value. */
static void test_stop(void **state)
{
    struct record r = {.stop_after = 1};

    (void)state;
    assert_int_equal(feed(&r, "data: 1\n\ndata: 2\n\n", 0), 42);
    assert_int_equal(r.events, 1);
}

/* A line longer than max_line fails instead of growing without end. */
static void test_line_limit(void **state)
{
    struct record r = {0};
    struct sse_parser p;
    char buf[100];

    (void)state;
    memset(buf, 'x', sizeof(buf));
    sse_init(&p, on_event, on_comment, &r);
    p.max_line = 150;
    assert_int_equal(sse_feed(&p, "data: ", 6), 0);
    assert_int_equal(sse_feed(&p, buf, sizeof(buf)), 0);
    assert_int_equal(sse_feed(&p, buf, sizeof(buf)), -1);
    sse_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_stream), cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_fields),        cmocka_unit_test(test_id_and_bom),
        cmocka_unit_test(test_unfinished),    cmocka_unit_test(test_stop),
        cmocka_unit_test(test_line_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
