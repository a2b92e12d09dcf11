/*
 * GET /v1/watch: Server-Sent Events of changes.  An edit with sed -i
 * arrives as one event with its generation and the changed paths with old
 * and new values; prefixes filter; a watcher sees every generation in
 * order; since=G replays what was missed or says resync; watchers that
 * vanish or stop reading hold back nothing.
 */
#include "dtest.h"

/* A config of one counter "v" and a few other keys, so that edits can
 * change one path at a time. */
static char *counter_config(int v, const char *level)
{
    char *s = NULL;
    assert_true(asprintf(&s,
                         "v: %d\n"
                         "server:\n"
                         "  port: 8080\n"
                         "  tls:\n"
                         "    enabled: true\n"
                         "logging:\n"
                         "  level: %s\n",
                         v, level) > 0);
    return s;
}

static void put_counter(const struct dfx *f, int v, const char *level)
{
    char *s = counter_config(v, level);
    live_put_rename(f->conf, s);
    free(s);
}

/* One change in an event: its kind, old and new (JSON texts; NULL: the
 * member must be absent). */
static void expect_change(json_t *data, const char *path, const char *kind, const char *old_json,
                          const char *new_json)
{
    json_t *c = sse_change_at(data, path);
    if (!c)
        fail_msg("no change at %s in %s", path, json_dumps(data, JSON_COMPACT));
    assert_string_equal(jstr(c, "kind"), kind);
    const char *names[2] = {"old", "new"};
    const char *want[2] = {old_json, new_json};
    for (int i = 0; i < 2; i++) {
        json_t *got = json_object_get(c, names[i]);
        if (!want[i]) {
            if (got)
                fail_msg("change at %s has \"%s\": %s", path, names[i],
                         json_dumps(c, JSON_COMPACT));
            continue;
        }
        json_t *w = json_loads(want[i], DT_JSON_FLAGS, NULL);
        assert_non_null(w);
        if (!got || !json_equal(got, w))
            fail_msg("change at %s: \"%s\" is not %s: %s", path, names[i], want[i],
                     json_dumps(c, JSON_COMPACT));
        json_decref(w);
    }
}

/* ------------------------------------------------------------------------- */

static void test_watch_sed_edit(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);

    struct sse w;
    sse_open(&w, f->sock, "/v1/watch");
    assert_int_equal(sse_wait_connected(&w), g);

    dt_sed_i(f, "s/port: 8080/port: 9090/");
    struct sse_event ev;
    json_t *d = sse_expect_change(&w, &ev, "after sed -i");
    assert_int_equal(jint(d, "generation"), g + 1);
    assert_int_equal(jint(d, "previous_generation"), g);
    assert_int_equal(json_array_size(json_object_get(d, "changes")), 1);
    expect_change(d, "server.port", "modified", "8080", "9090");
    sse_event_free(&ev);

    /* Added and removed keys; a quoted key's canonical path. */
    dt_sed_i(f, "s/^  beta_testers: ~/  new_key: 1/");
    d = sse_expect_change(&w, &ev, "rename a key");
    assert_int_equal(jint(d, "generation"), g + 2);
    expect_change(d, "features.beta_testers", "removed", "null", NULL);
    expect_change(d, "features.new_key", "added", NULL, "1");
    sse_event_free(&ev);

    dt_sed_i(f, "s|app.kubernetes.io/name: checkout|app.kubernetes.io/name: basket|");
    d = sse_expect_change(&w, &ev, "quoted key");
    expect_change(d, "labels.\"app.kubernetes.io/name\"", "modified", "\"checkout\"", "\"basket\"");
    sse_event_free(&ev);

    /* Rewriting the same bytes (a new inode) publishes and sends nothing;
     * a broken edit neither. */
    dt_sed_i(f, "s/checkout/checkout/");
    dt_sed_i(f, "s/workers: 4/workers: [4/");
    assert_int_equal(dt_wait_status_int(f, "failed_reloads", 1, DT_WAIT_MS), 1);
    live_sleep_ms(DT_SETTLE_MS);
    assert_false(sse_next(&w, &ev, 10));
    dt_sed_i(f, "s/workers: \\[4/workers: 5/");
    d = sse_expect_change(&w, &ev, "after the fix");
    assert_int_equal(jint(d, "generation"), g + 4);
    assert_int_equal(jint(d, "previous_generation"), g + 3);
    expect_change(d, "server.workers", "modified", "4", "5");
    sse_event_free(&ev);

    sse_close(&w);
    dt_stop(f);
}

static void test_watch_prefix(void **state)
{
    struct dfx *f = *state;
    put_counter(f, 0, "info");
    dt_start(f);
    long long g = dt_generation(f);

    struct sse tls, srv, all;
    sse_open(&tls, f->sock, "/v1/watch?prefix=server.tls");
    sse_open(&srv, f->sock, "/v1/watch?prefix=server");
    sse_open(&all, f->sock, "/v1/watch?prefix=");
    sse_wait_connected(&tls);
    sse_wait_connected(&srv);
    sse_wait_connected(&all);

    /* g+1: logging only.  g+2: server.port (under server).  g+3:
     * server.tls.enabled (under server.tls).  g+4: the whole server
     * section removed (above server.tls). */
    put_counter(f, 0, "debug");
    dt_expect_exactly(f, g + 1);
    live_put_rename(f->conf, "v: 0\nserver:\n  port: 9090\n  tls:\n    enabled: true\n"
                             "logging:\n  level: debug\n");
    dt_expect_exactly(f, g + 2);
    live_put_rename(f->conf, "v: 0\nserver:\n  port: 9090\n  tls:\n    enabled: false\n"
                             "logging:\n  level: debug\n");
    dt_expect_exactly(f, g + 3);
    live_put_rename(f->conf, "v: 0\nlogging:\n  level: debug\n");
    dt_expect_exactly(f, g + 4);

    struct sse_event ev;
    for (long long want = g + 1; want <= g + 4; want++) {
        json_t *d = sse_expect_change(&all, &ev, "prefix= (everything)");
        assert_int_equal(jint(d, "generation"), want);
        sse_event_free(&ev);
    }
    for (long long want = g + 2; want <= g + 4; want++) {
        json_t *d = sse_expect_change(&srv, &ev, "prefix=server");
        assert_int_equal(jint(d, "generation"), want);
        sse_event_free(&ev);
    }
    json_t *d = sse_expect_change(&tls, &ev, "prefix=server.tls, at g+3");
    assert_int_equal(jint(d, "generation"), g + 3);
    expect_change(d, "server.tls.enabled", "modified", "true", "false");
    sse_event_free(&ev);
    d = sse_expect_change(&tls, &ev, "prefix=server.tls, section removed above it");
    assert_int_equal(jint(d, "generation"), g + 4);
    sse_event_free(&ev);
    assert_false(sse_next(&tls, &ev, 50));
    assert_false(sse_next(&srv, &ev, 10));
    assert_false(sse_next(&all, &ev, 10));

    sse_close(&tls);
    sse_close(&srv);
    sse_close(&all);

    /* "server" is not a prefix of "serverx"; a quoted prefix is the same
     * path as its canonical form. */
    live_put_rename(f->conf, "v: 0\nserver: 1\nserverx: 1\nlabels:\n  team: a\n");
    dt_expect_exactly(f, g + 5);
    sse_open(&srv, f->sock, "/v1/watch?prefix=server");
    sse_open(&tls, f->sock, "/v1/watch?prefix=labels.%22team%22");
    sse_wait_connected(&srv);
    sse_wait_connected(&tls);
    live_put_rename(f->conf, "v: 0\nserver: 1\nserverx: 2\nlabels:\n  team: a\n");
    dt_expect_exactly(f, g + 6);
    live_put_rename(f->conf, "v: 0\nserver: 2\nserverx: 2\nlabels:\n  team: b\n");
    dt_expect_exactly(f, g + 7);
    d = sse_expect_change(&srv, &ev, "prefix=server, serverx changed first");
    if (jint(d, "generation") != g + 7)
        fail_msg("prefix=server got the change of serverx: %s", ev.data);
    sse_event_free(&ev);
    d = sse_expect_change(&tls, &ev, "prefix=labels.\"team\"");
    assert_int_equal(jint(d, "generation"), g + 7);
    expect_change(d, "labels.team", "modified", "\"a\"", "\"b\"");
    sse_event_free(&ev);
    sse_close(&srv);
    sse_close(&tls);

    /* A malformed prefix is a bad path. */
    struct http_resp r = http_get(f, "/v1/watch?prefix=server..port");
    expect_error(&r, 400, "bad_path", "GET /v1/watch?prefix=server..port");
    http_resp_free(&r);
    /* since must be a number. */
    r = http_get(f, "/v1/watch?since=abc");
    expect_error(&r, 400, "bad_request", "GET /v1/watch?since=abc");
    http_resp_free(&r);

    dt_stop(f);
}

/* Edits spaced so that each is its own generation (the next edit waits
 * until the previous one is live): the watcher sees them all, in order,
 * with consecutive generations. */
#define IN_ORDER_EDITS 25

static void test_every_generation_in_order(void **state)
{
    struct dfx *f = *state;
    put_counter(f, 0, "info");
    dt_start(f);

    struct sse w;
    sse_open(&w, f->sock, "/v1/watch");
    long long g0 = sse_wait_connected(&w);
    for (int i = 1; i <= IN_ORDER_EDITS; i++) {
        put_counter(f, i, "info");
        long long got = dt_wait_generation(f, g0 + i, DT_WAIT_MS);
        if (got != g0 + i)
            fail_msg("edit %d: generation %lld, want %lld", i, got, g0 + i);
    }
    struct sse_event ev;
    for (int i = 1; i <= IN_ORDER_EDITS; i++) {
        json_t *d = sse_expect_change(&w, &ev, "in order");
        if (jint(d, "generation") != g0 + i)
            fail_msg("event %d: generation %lld, want %lld", i, (long long)jint(d, "generation"),
                     g0 + i);
        assert_int_equal(jint(d, "previous_generation"), g0 + i - 1);
        char o[16], n[16];
        snprintf(o, sizeof o, "%d", i - 1);
        snprintf(n, sizeof n, "%d", i);
        expect_change(d, "v", "modified", o, n);
        sse_event_free(&ev);
    }
    assert_false(sse_next(&w, &ev, 50));
    sse_close(&w);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* since=G                                                                   */

/* Publishes n generations quickly: an edit, then POST /v1/reload. */
static void publish_n(const struct dfx *f, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        put_counter(f, i, "info");
        struct http_resp r = http_req(f->sock, "POST", "/v1/reload");
        expect_status(&r, 200, "POST /v1/reload");
        http_resp_free(&r);
    }
}

static void test_since_replay(void **state)
{
    struct dfx *f = *state;
    put_counter(f, 0, "info");
    dt_start(f);
    long long g0 = dt_generation(f);

    publish_n(f, 1, 10);
    live_sleep_ms(DT_SETTLE_MS); /* the watcher's late reloads publish nothing */
    long long g = dt_generation(f);
    assert_int_equal(g, g0 + 10);

    /* The last 10 are replayed, in order, then live events follow. */
    struct sse w;
    char target[128];
    snprintf(target, sizeof target, "/v1/watch?since=%lld", g0);
    sse_open(&w, f->sock, target);
    struct sse_event ev;
    for (int i = 1; i <= 10; i++) {
        json_t *d = sse_expect_change(&w, &ev, "replay");
        assert_int_equal(jint(d, "generation"), g0 + i);
        assert_int_equal(jint(d, "previous_generation"), g0 + i - 1);
        char o[16], n[16];
        snprintf(o, sizeof o, "%d", i - 1);
        snprintf(n, sizeof n, "%d", i);
        expect_change(d, "v", "modified", o, n);
        sse_event_free(&ev);
    }
    put_counter(f, 11, "info");
    json_t *d = sse_expect_change(&w, &ev, "live after the replay");
    assert_int_equal(jint(d, "generation"), g + 1);
    sse_event_free(&ev);
    sse_close(&w);

    /* since a generation the daemon never had (it restarted): resync. */
    snprintf(target, sizeof target, "/v1/watch?since=%lld", g + 1000);
    sse_open(&w, f->sock, target);
    if (!sse_next(&w, &ev, DT_WAIT_MS) || strcmp(ev.type, "resync") != 0)
        fail_msg("since a future generation: want a resync event first; stream: %s",
                 w.in.p ? w.in.p : "");
    assert_int_equal(jint(ev.json, "generation"), g + 1);
    sse_event_free(&ev);
    sse_close(&w);

    /* since the current generation: nothing to replay. */
    snprintf(target, sizeof target, "/v1/watch?since=%lld", g + 1);
    sse_open(&w, f->sock, target);
    assert_int_equal(sse_wait_connected(&w), g + 1);
    assert_false(sse_next(&w, &ev, 100));
    sse_close(&w);

    /* since with a prefix: only the replayed events touching it. */
    snprintf(target, sizeof target, "/v1/watch?since=%lld&prefix=logging", g0);
    sse_open(&w, f->sock, target);
    put_counter(f, 11, "debug");
    d = sse_expect_change(&w, &ev, "since with a prefix");
    assert_int_equal(jint(d, "generation"), g + 2);
    expect_change(d, "logging.level", "modified", "\"info\"", "\"debug\"");
    sse_event_free(&ev);
    sse_close(&w);

    dt_stop(f);
}

static void test_since_too_old_resync(void **state)
{
    struct dfx *f = *state;
    put_counter(f, 0, "info");
    dt_start(f);
    long long g0 = dt_generation(f);

    /* More publications than the daemon remembers (256). */
    publish_n(f, 1, 270);
    live_sleep_ms(DT_SETTLE_MS);
    long long g = dt_generation(f);
    assert_int_equal(g, g0 + 270);

    char target[128];
    snprintf(target, sizeof target, "/v1/watch?since=%lld", g0);
    struct sse w;
    sse_open(&w, f->sock, target);
    struct sse_event ev;
    if (!sse_next(&w, &ev, DT_WAIT_MS))
        fail_msg("since=%lld (270 publications ago): no event; stream: %s", g0,
                 w.in.p ? w.in.p : "");
    if (strcmp(ev.type, "resync") != 0)
        fail_msg("since=%lld (270 publications ago): event \"%s\", want resync: %s", g0, ev.type,
                 ev.data);
    assert_true(json_is_object(ev.json));
    assert_int_equal(jint(ev.json, "generation"), g);
    assert_true(json_is_string(json_object_get(ev.json, "reason")));
    sse_event_free(&ev);
    /* The stream goes on with live events. */
    put_counter(f, 1000, "info");
    json_t *d = sse_expect_change(&w, &ev, "live after resync");
    assert_int_equal(jint(d, "generation"), g + 1);
    sse_event_free(&ev);
    sse_close(&w);

    /* Within the remembered window: replayed, no resync. */
    snprintf(target, sizeof target, "/v1/watch?since=%lld", g - 200);
    sse_open(&w, f->sock, target);
    for (long long want = g - 199; want <= g + 1; want++) {
        d = sse_expect_change(&w, &ev, "replay of 201");
        assert_int_equal(jint(d, "generation"), want);
        sse_event_free(&ev);
    }
    sse_close(&w);

    dt_stop(f);
}

/* There is a limit on watch streams: past it, 503 too_many_watchers (and
 * the CLI's watch exits 3), while plain requests are still served and a
 * freed slot can be taken again. */
#define WATCHERS_TRY 300

static void test_too_many_watchers(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    struct sse *w = calloc(WATCHERS_TRY, sizeof *w);
    assert_non_null(w);
    int n = 0;
    for (; n < WATCHERS_TRY; n++) {
        sse_open_any(&w[n], f->sock, "/v1/watch");
        if (w[n].status != 200)
            break;
        sse_wait_connected(&w[n]);
    }
    if (n == WATCHERS_TRY)
        fail_msg("%d watch streams were all accepted: no limit", WATCHERS_TRY);
    assert_true(n >= 8);
    if (w[n].status != 503)
        fail_msg("watch stream #%d: HTTP %ld, want 503", n + 1, w[n].status);
    json_t *j = json_loads(w[n].in.p ? w[n].in.p : "", DT_JSON_FLAGS, NULL);
    if (!json_is_object(j) ||
        strcmp(jstr(json_object_get(j, "error"), "code"), "too_many_watchers") != 0)
        fail_msg("watch stream #%d refused with %s, want too_many_watchers", n + 1,
                 w[n].in.p ? w[n].in.p : "");
    json_decref(j);
    sse_close(&w[n]);
    print_message("the daemon took %d watch streams\n", n);
    /* Plain requests are still served. */
    json_t *s = dt_status(f);
    assert_int_equal(jint(s, "watchers"), n);
    json_decref(s);

    /* The CLI says so with exit 3. */
    struct cmd_result c = run_cli(f, "watch");
    expect_code(&c, 3, "snapconf watch with every slot taken");
    cmd_result_free(&c);

    /* A freed slot is taken again, and every stream still gets events. */
    sse_close(&w[0]);
    assert_int_equal(dt_wait_watchers(f, n - 1, DT_WAIT_MS), n - 1);
    sse_open(&w[0], f->sock, "/v1/watch");
    sse_wait_connected(&w[0]);
    long long g = dt_generation(f);
    dt_sed_i(f, "s/port: 8080/port: 9090/");
    for (int i = 0; i < n; i++) {
        struct sse_event ev;
        json_t *d = sse_expect_change(&w[i], &ev, "with every slot taken");
        assert_int_equal(jint(d, "generation"), g + 1);
        sse_event_free(&ev);
    }
    for (int i = 0; i < n; i++)
        sse_close(&w[i]);
    free(w);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* Watchers that go away or stop reading                                     */

static void test_disconnect_mid_stream(void **state)
{
    struct dfx *f = *state;
    put_counter(f, 0, "info");
    dt_start(f);
    long long g = dt_generation(f);

    /* Ten watchers connect and vanish, some after an event. */
    for (int i = 0; i < 10; i++) {
        struct sse w;
        sse_open(&w, f->sock, "/v1/watch");
        sse_wait_connected(&w);
        if (i % 3 == 0) {
            put_counter(f, i + 1, "info");
            struct sse_event ev;
            sse_expect_change(&w, &ev, "before vanishing");
            sse_event_free(&ev);
        }
        sse_close(&w);
    }
    /* The next publication notices them gone. */
    long long before = dt_generation(f);
    put_counter(f, 100, "info");
    assert_int_equal(dt_wait_generation(f, before + 1, DT_WAIT_MS), before + 1);
    assert_int_equal(dt_wait_watchers(f, 0, DT_WAIT_MS), 0);

    /* And it still serves, reloads and streams. */
    assert_int_equal(dt_int_value(f, "v"), 100);
    put_counter(f, 101, "info");
    struct http_resp r = http_req(f->sock, "POST", "/v1/reload");
    expect_status(&r, 200, "POST /v1/reload after disconnects");
    assert_int_equal(jint(r.json, "generation"), before + 2);
    http_resp_free(&r);
    struct sse w;
    sse_open(&w, f->sock, "/v1/watch");
    sse_wait_connected(&w);
    put_counter(f, 102, "info");
    struct sse_event ev;
    json_t *d = sse_expect_change(&w, &ev, "a new watcher");
    assert_true(jint(d, "generation") >= before + 3);
    sse_event_free(&ev);
    sse_close(&w);
    assert_true(g >= 1);

    dt_expect_running(f);
    dt_stop(f);
}

/* A watcher that never reads while big events pile up (300 publications
 * of 32 KiB each: more than any per-client buffer should hold), beside a
 * healthy watcher that reads: reloads and requests stay prompt, the healthy
 * watcher gets every event in order and then keepalives while idle, and the
 * stuck watcher is dropped (by the daemon's connection timeout, 30 s, so
 * this test runs on its own in ctest). */
#define STUCK_EDITS 300
#define STUCK_BLOB (16 * 1024)
#define STUCK_DROP_MS 60000

static void test_stuck_watcher_does_not_block(void **state)
{
    struct dfx *f = *state;
    static char blob[STUCK_BLOB + 1], conf[STUCK_BLOB + 64];
    memset(blob, 'x', STUCK_BLOB);
    blob[STUCK_BLOB] = '\0';
    snprintf(conf, sizeof conf, "v: 0\nblob: %s\n", blob);
    live_put_trunc(f->conf, conf);
    dt_start(f);

    int stuck = raw_connect(f->sock);
    int small = 4096;
    assert_int_equal(setsockopt(stuck, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    const char req[] = "GET /v1/watch HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_true(raw_send(stuck, req, sizeof req - 1));
    assert_int_equal(dt_wait_watchers(f, 1, DT_WAIT_MS), 1);
    struct sse healthy;
    sse_open(&healthy, f->sock, "/v1/watch");
    long long g = sse_wait_connected(&healthy);

    int64_t worst = 0;
    int seen = 0;
    struct sse_event ev;
    for (int i = 1; i <= STUCK_EDITS; i++) {
        blob[i % STUCK_BLOB] = (char)('a' + i % 26);
        snprintf(conf, sizeof conf, "v: %d\nblob: %s\n", i, blob);
        live_put_rename(f->conf, conf);
        int64_t t0 = live_now_ms();
        struct http_resp r = http_req(f->sock, "POST", "/v1/reload");
        expect_status(&r, 200, "POST /v1/reload with a stuck watcher");
        http_resp_free(&r);
        assert_int_equal(dt_int_value(f, "v"), i);
        int64_t took = live_now_ms() - t0;
        if (took > worst)
            worst = took;
        /* The healthy watcher reads what is there. */
        while (sse_next(&healthy, &ev, 0)) {
            seen++;
            if (strcmp(ev.type, "change") != 0 || jint(ev.json, "generation") != g + seen)
                fail_msg("the healthy watcher's event %d: %s %s, want change %lld", seen, ev.type,
                         ev.data, g + seen);
            sse_event_free(&ev);
        }
    }
    if (worst > DT_PROMPT_MS)
        fail_msg("a reload and a GET took %lld ms with a stuck watcher", (long long)worst);
    assert_int_equal(dt_generation(f), g + STUCK_EDITS);
    while (seen < STUCK_EDITS && sse_next(&healthy, &ev, DT_WAIT_MS)) {
        seen++;
        if (jint(ev.json, "generation") != g + seen)
            fail_msg("the healthy watcher's event %d: %s, want generation %lld", seen, ev.data,
                     g + seen);
        sse_event_free(&ev);
    }
    assert_int_equal(seen, STUCK_EDITS);

    /* Idle now: the stuck watcher goes; the healthy one stays, with
     * keepalives. */
    int64_t t0 = live_now_ms();
    long long watchers = 2;
    while (watchers != 1 && live_now_ms() - t0 < STUCK_DROP_MS) {
        if (sse_next(&healthy, &ev, 20))
            fail_msg("an event while idle: %s %s", ev.type, ev.data);
        json_t *s = dt_status(f);
        watchers = jint(s, "watchers");
        json_decref(s);
    }
    if (watchers != 1)
        fail_msg("a watcher that read nothing of %d events of %d KiB was not dropped within %d "
                 "ms",
                 STUCK_EDITS, 2 * STUCK_BLOB / 1024, STUCK_DROP_MS);
    print_message("the stuck watcher was dropped %lld ms after the last edit; the healthy one "
                  "got %d keepalives meanwhile\n",
                  (long long)(live_now_ms() - t0), healthy.keepalives);
    if (live_now_ms() - t0 > 16000 && healthy.keepalives < 1)
        fail_msg("no \": keepalive\" in %lld ms of silence", (long long)(live_now_ms() - t0));
    assert_false(healthy.done);
    close(stuck);

    /* The healthy watcher still gets events. */
    dt_sed_i(f, "s/^v: .*/v: 1000/");
    json_t *d = sse_expect_change(&healthy, &ev, "after the stuck watcher was dropped");
    assert_int_equal(jint(d, "generation"), g + STUCK_EDITS + 1);
    sse_event_free(&ev);
    sse_close(&healthy);

    dt_expect_running(f);
    dt_stop(f);
}

int main(int argc, char **argv)
{
    dt_global_init_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_watch_sed_edit, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_prefix, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_every_generation_in_order, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_since_replay, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_since_too_old_resync, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_too_many_watchers, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_mid_stream, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_stuck_watcher_does_not_block, dt_setup, dt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
