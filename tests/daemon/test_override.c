/*
 * Runtime overrides and provenance through snapconfd (issue 7): PUT and
 * DELETE on /v1/keys/PATH, /v1/overrides, who may write (--admin-uid,
 * SO_PEERCRED, never over TCP), the errors of a write, overrides across
 * reloads and restarts (--state-file), the "origin" of GET /v1/keys for
 * each layer (file, --dropin, --env-prefix, runtime), and the CLI's set,
 * unset, revert, overrides and get --explain against the daemon.
 *
 * The tests run as root, so a daemon started with --admin-uid 12345 has
 * a client that is not an admin, and one started with --admin-uid of
 * getuid() one that is.
 */
#include "dtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>

/* "--admin-uid" and the test's own uid, for dt_start_opts(). */
static char my_uid[32];

static const char *const *as_admin(void)
{
    static const char *extra[] = {"--admin-uid", my_uid, NULL};
    snprintf(my_uid, sizeof my_uid, "%u", (unsigned)getuid());
    return extra;
}

/* PUT target with body; asserts the status. */
static struct http_resp put(const struct dfx *f, const char *target, const char *body, long status)
{
    char what[512];
    snprintf(what, sizeof what, "PUT %s <<%.100s>>", target, body);
    struct http_resp r = http_send(f, "PUT", target, body);
    expect_status(&r, status, what);
    return r;
}

static struct http_resp del(const struct dfx *f, const char *target, long status)
{
    char what[512];
    snprintf(what, sizeof what, "DELETE %s", target);
    struct http_resp r = http_req(f->sock, "DELETE", target);
    expect_status(&r, status, what);
    return r;
}

/* The "origin" array of a GET /v1/keys answer (or of its 404 "error"). */
static json_t *origin_of(const struct http_resp *r)
{
    json_t *o = json_object_get(r->json, "origin");
    if (!o)
        o = json_object_get(json_object_get(r->json, "error"), "origin");
    if (!json_is_array(o))
        fail_msg("no \"origin\" array in %s", r->body);
    return o;
}

/* Asserts that entry i of origin has this layer, name (NULL: any), role,
 * line and column (-1: any). */
static void expect_origin(json_t *origin, size_t i, const char *layer, const char *name,
                          const char *role, int line, int column)
{
    json_t *e = json_array_get(origin, i);
    char *all = json_dumps(origin, JSON_COMPACT);
    if (!json_is_object(e))
        fail_msg("no origin %zu in %s", i, all);
    if (strcmp(jstr(e, "layer"), layer) != 0 || strcmp(jstr(e, "role"), role) != 0 ||
        (name && strcmp(jstr(e, "name"), name) != 0) || (line >= 0 && jint(e, "line") != line) ||
        (column >= 0 && jint(e, "column") != column))
        fail_msg("origin %zu: want %s %s %s %d:%d in %s", i, layer, name ? name : "*", role, line,
                 column, all);
    free(all);
}

/* ------------------------------------------------------------------------- */
/* PUT, GET, DELETE                                                           */

static void test_put_then_get(void **state)
{
    struct dfx *f = *state;
    dt_start_opts(f, as_admin(), NULL, NULL, true);
    long long g = dt_generation(f);
    struct sse w;
    sse_open(&w, f->sock, "/v1/watch?prefix=server");
    sse_wait_connected(&w);

    struct http_resp r = put(f, "/v1/keys/server.port", "9090", 200);
    json_t *o = expect_json(&r, "PUT");
    assert_string_equal(jstr(o, "path"), "server.port");
    assert_int_equal(jint(o, "value"), 9090);
    assert_string_equal(jstr(o, "type"), "int");
    assert_int_equal(jint(o, "generation"), g + 1);
    assert_int_equal(http_gen_header(&r, "PUT"), g + 1);
    expect_origin(origin_of(&r), 0, "file", f->conf, "overridden", 12, 9);
    expect_origin(origin_of(&r), 1, "runtime", "runtime", "value", 0, 0);
    http_resp_free(&r);

    /* One publication, heard by watchers like a file change. */
    struct sse_event ev;
    json_t *d = sse_expect_change(&w, &ev, "after PUT");
    json_t *c = sse_change_at(d, "server.port");
    assert_non_null(c);
    assert_int_equal(json_integer_value(json_object_get(c, "new")), 9090);
    sse_event_free(&ev);
    sse_close(&w);

    r = http_get(f, "/v1/keys/server.port");
    expect_status(&r, 200, "GET after PUT");
    o = expect_json(&r, "GET after PUT");
    assert_int_equal(jint(o, "value"), 9090);
    json_t *origin = origin_of(&r);
    assert_int_equal(json_array_size(origin), 2);
    expect_origin(origin, 0, "file", f->conf, "overridden", 12, 9);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(origin, 0), "value")), 8080);
    expect_origin(origin, 1, "runtime", "runtime", "value", 0, 0);
    assert_string_equal(jstr(json_object_get(o, "source"), "layer"), "runtime");
    http_resp_free(&r);

    /* Any YAML value: a string that looks like a number, a new mapping
     * with its parents created. */
    r = put(f, "/v1/keys/server.host", "\"8080\"", 200);
    assert_string_equal(jstr(r.json, "type"), "string");
    assert_string_equal(jstr(r.json, "value"), "8080");
    http_resp_free(&r);
    r = put(f, "/v1/keys/extra.nested", "{a: 1, b: [x, y]}", 200);
    assert_string_equal(jstr(r.json, "type"), "map");
    http_resp_free(&r);
    assert_int_equal(dt_int_value(f, "extra.nested.a"), 1);

    json_t *s = dt_status(f);
    assert_int_equal(jint(s, "overrides"), 3);
    assert_int_equal(jint(s, "layers"), 4);
    assert_int_equal(jint(s, "generation"), g + 3);
    json_decref(s);

    /* A file's value without overrides: one origin, the file. */
    r = http_get(f, "/v1/keys/server.workers");
    expect_origin(origin_of(&r), 0, "file", f->conf, "value", 13, 12);
    assert_int_equal(json_array_size(origin_of(&r)), 1);
    assert_string_equal(jstr(json_object_get(r.json, "source"), "layer"), "file");
    http_resp_free(&r);
    dt_stop(f);
}

static void test_override_survives_reload(void **state)
{
    struct dfx *f = *state;
    dt_start_opts(f, as_admin(), NULL, NULL, true);
    struct http_resp r = put(f, "/v1/keys/server.port", "9090", 200);
    long long g = jint(r.json, "generation");
    http_resp_free(&r);

    /* An edit elsewhere in the file: the override is applied again. */
    dt_sed_i(f, "s/workers: 4/workers: 8/");
    dt_wait_generation(f, g + 1, DT_WAIT_MS);
    assert_int_equal(dt_int_value(f, "server.workers"), 8);
    assert_int_equal(dt_int_value(f, "server.port"), 9090);

    /* An edit of the overridden value itself: the file changes under the
     * override, which still wins. */
    dt_sed_i(f, "s/port: 8080/port: 7070/");
    dt_wait_generation(f, g + 2, DT_WAIT_MS);
    r = http_get(f, "/v1/keys/server.port");
    assert_int_equal(jint(r.json, "value"), 9090);
    json_t *first = json_array_get(origin_of(&r), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "value")), 7070);
    http_resp_free(&r);

    /* POST /v1/reload and SIGHUP too. */
    r = http_req(f->sock, "POST", "/v1/reload");
    expect_status(&r, 200, "POST /v1/reload");
    http_resp_free(&r);
    assert_int_equal(kill(f->pid, SIGHUP), 0);
    live_sleep_ms(DT_SETTLE_MS);
    assert_int_equal(dt_int_value(f, "server.port"), 9090);

    /* Reverted, the file's value shows. */
    r = del(f, "/v1/overrides/server.port", 200);
    assert_int_equal(jint(r.json, "reverted"), 1);
    http_resp_free(&r);
    assert_int_equal(dt_int_value(f, "server.port"), 7070);
    dt_stop(f);
}

static void test_delete_and_revert(void **state)
{
    struct dfx *f = *state;
    dt_start_opts(f, as_admin(), NULL, NULL, true);
    long long g = dt_generation(f);

    struct http_resp r = del(f, "/v1/keys/server.tls", 200);
    json_t *o = expect_json(&r, "DELETE");
    assert_string_equal(jstr(o, "path"), "server.tls");
    assert_int_equal(jint(o, "generation"), g + 1);
    http_resp_free(&r);

    /* Gone, and the 404 says who deleted it. */
    r = http_get(f, "/v1/keys/server.tls.enabled");
    expect_error(&r, 404, "not_found", "GET a deleted key");
    json_t *origin = origin_of(&r);
    expect_origin(origin, 0, "file", f->conf, "overridden", 18, 14);
    expect_origin(origin, 1, "runtime", "runtime", "deleted", 0, 0);
    assert_string_equal(jstr(json_array_get(origin, 1), "path"), "server.tls");
    http_resp_free(&r);

    /* Nothing there: 404, and no generation spent. */
    r = del(f, "/v1/keys/server.tls", 404);
    expect_error(&r, 404, "not_found", "DELETE again");
    http_resp_free(&r);
    r = del(f, "/v1/keys/no.such.key", 404);
    http_resp_free(&r);
    assert_int_equal(dt_generation(f), g + 1);

    /* The list, in the order made. */
    r = put(f, "/v1/keys/server.port", "9090", 200);
    http_resp_free(&r);
    r = http_get(f, "/v1/overrides");
    expect_status(&r, 200, "GET /v1/overrides");
    assert_int_equal(jint(r.json, "count"), 2);
    json_t *list = json_object_get(r.json, "overrides");
    assert_string_equal(jstr(json_array_get(list, 0), "op"), "unset");
    assert_string_equal(jstr(json_array_get(list, 0), "path"), "server.tls");
    assert_null(json_object_get(json_array_get(list, 0), "value"));
    assert_string_equal(jstr(json_array_get(list, 1), "op"), "set");
    assert_int_equal(jint(json_array_get(list, 1), "value"), 9090);
    http_resp_free(&r);
    r = http_get(f, "/v1/overrides/server.tls");
    assert_int_equal(jint(r.json, "count"), 1);
    http_resp_free(&r);
    r = http_get(f, "/v1/overrides/database");
    assert_int_equal(jint(r.json, "count"), 0);
    http_resp_free(&r);

    /* Revert one subtree, then everything, then nothing is left. */
    r = del(f, "/v1/overrides/server.tls", 200);
    assert_int_equal(jint(r.json, "reverted"), 1);
    http_resp_free(&r);
    assert_true(json_is_true(dt_value(f, "server.tls.enabled")));
    r = del(f, "/v1/overrides", 200);
    assert_int_equal(jint(r.json, "reverted"), 1);
    http_resp_free(&r);
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    r = del(f, "/v1/overrides", 404);
    expect_error(&r, 404, "not_found", "DELETE /v1/overrides with none");
    http_resp_free(&r);
    json_t *s = dt_status(f);
    assert_int_equal(jint(s, "overrides"), 0);
    assert_true(json_is_true(json_object_get(s, "last_reload_ok")));
    json_decref(s);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* Errors                                                                     */

static void test_write_errors(void **state)
{
    struct dfx *f = *state;
    dt_start_opts(f, as_admin(), NULL, NULL, true);
    long long g = dt_generation(f);

    /* YAML that does not parse: 400 with the position in the value. */
    struct http_resp r = put(f, "/v1/keys/server.port", "[a, b\nc: d", 400);
    json_t *e = expect_error(&r, 400, "bad_value", "bad YAML");
    expect_contains(jstr(e, "message"), "<value for server.port>:", "bad YAML message");
    assert_true(jint(e, "line") >= 1);
    assert_true(jint(e, "column") >= 1);
    assert_string_equal(jstr(e, "snapconf_code"), "SNAPCONF_EPARSE");
    http_resp_free(&r);

    /* A parent that is a scalar: 409. */
    r = put(f, "/v1/keys/server.port.number", "1", 409);
    e = expect_error(&r, 409, "conflict", "through a scalar");
    expect_contains(jstr(e, "message"), "server.port", "conflict message");
    http_resp_free(&r);
    r = put(f, "/v1/keys/upstreams[7].name", "x", 404);
    http_resp_free(&r);

    /* A malformed path, the root, an empty body, a NUL, too much. */
    r = put(f, "/v1/keys/server..port", "1", 400);
    expect_error(&r, 400, "bad_path", "bad path");
    http_resp_free(&r);
    r = put(f, "/v1/keys/", "{}", 400);
    expect_error(&r, 400, "bad_path", "the root");
    http_resp_free(&r);
    r = put(f, "/v1/keys/server.port", "", 400);
    expect_error(&r, 400, "bad_value", "empty body");
    http_resp_free(&r);
    struct http_resp nul;
    char url[256];
    snprintf(url, sizeof url, "http://localhost/v1/keys/server.port");
    assert_true(http_try_full(NULL, &nul, f->sock, "PUT", url, NULL, "1\0002", 3));
    expect_error(&nul, 400, "bad_value", "NUL in the body");
    http_resp_free(&nul);
    size_t big = 1024 * 1024 + 1;
    char *text = malloc(big + 1);
    memset(text, 'a', big);
    text[big] = '\0';
    r = put(f, "/v1/keys/server.name", text, 413);
    expect_error(&r, 413, "payload_too_large", "1 MiB + 1");
    http_resp_free(&r);
    /* Exactly the limit is a value (a long string). */
    text[big - 1] = '\0';
    r = put(f, "/v1/keys/server.name", text, 200);
    http_resp_free(&r);
    free(text);
    assert_int_equal(dt_generation(f), g + 1);

    /* Still serving, the file's values untouched. */
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    dt_expect_running(f);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* Who may write                                                              */

static void expect_forbidden(const struct dfx *f, const char *method, const char *target,
                             const char *says)
{
    char what[256];
    snprintf(what, sizeof what, "%s %s", method, target);
    struct http_resp r = strcmp(method, "PUT") == 0 ? http_send(f, method, target, "1")
                                                    : http_req(f->sock, method, target);
    json_t *e = expect_error(&r, 403, "forbidden", what);
    expect_contains(jstr(e, "message"), says, what);
    http_resp_free(&r);
}

static void test_not_admin(void **state)
{
    struct dfx *f = *state;
    const char *extra[] = {"--admin-uid", "12345", NULL};
    dt_start_opts(f, extra, NULL, NULL, true);
    long long g = dt_generation(f);
    char says[64];
    snprintf(says, sizeof says, "start snapconfd with --admin-uid %u", (unsigned)getuid());

    expect_forbidden(f, "PUT", "/v1/keys/server.port", says);
    expect_forbidden(f, "DELETE", "/v1/keys/server.port", says);
    expect_forbidden(f, "DELETE", "/v1/overrides", says);
    expect_forbidden(f, "DELETE", "/v1/overrides/server", says);
    /* Even a bad request is refused first: nothing is learnt, and a
     * large body is not even read. */
    expect_forbidden(f, "PUT", "/v1/keys/server..port", says);
    size_t big = 200 * 1024;
    char *text = malloc(big + 1);
    memset(text, '1', big);
    text[big] = '\0';
    struct http_resp r = http_send(f, "PUT", "/v1/keys/server.port", text);
    expect_error(&r, 403, "forbidden", "PUT of 200 KiB as a non-admin");
    http_resp_free(&r);
    free(text);
    assert_int_equal(dt_generation(f), g);
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    /* Reading stays open to all. */
    r = http_get(f, "/v1/overrides");
    expect_status(&r, 200, "GET /v1/overrides");
    http_resp_free(&r);

    /* The CLI says so, with exit status 6. */
    struct cmd_result c = run_cli(f, "set", "server.port", "1");
    expect_code(&c, 6, "snapconf set as a non-admin");
    expect_contains(c.err, says, "snapconf set's message");
    cmd_result_free(&c);
    c = run_cli(f, "revert");
    expect_code(&c, 6, "snapconf revert as a non-admin");
    cmd_result_free(&c);

    char *log = live_slurp(f->log, NULL);
    expect_contains(log, "refused PUT /v1/keys/server.port from uid", "the refusal is logged");
    expect_contains(log, "allowed on the Unix socket for uid 12345", "the admins are logged");
    free(log);
    dt_stop(f);
}

static void test_no_admin_by_default(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    expect_forbidden(f, "PUT", "/v1/keys/server.port", "runtime changes are disabled");
    char *log = live_slurp(f->log, NULL);
    expect_contains(log, "runtime changes (PUT, DELETE) are disabled: no --admin-uid",
                    "the start-up log");
    free(log);
    dt_stop(f);
}

/* An admin by name, among others, comma-separated and repeated. */
static void test_admin_by_name(void **state)
{
    struct dfx *f = *state;
    struct passwd *pw = getpwuid(getuid());
    if (!pw)
        skip();
    char list[300];
    snprintf(list, sizeof list, "12345, %s", pw->pw_name);
    const char *extra[] = {"--admin-uid", "4242", "--admin-uid", list, NULL};
    dt_start_opts(f, extra, NULL, NULL, true);
    struct http_resp r = put(f, "/v1/keys/server.port", "1", 200);
    http_resp_free(&r);
    dt_stop(f);

    struct cmd_result c =
        run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV((char *)dt_snapconfd(), "--config", f->conf, "--socket", f->sock,
                            "--admin-uid", "no-such-user-here"));
    expect_code(&c, 2, "--admin-uid no-such-user-here");
    expect_contains(c.err, "no user named 'no-such-user-here'", "its message");
    cmd_result_free(&c);
}

/* A TCP port on 127.0.0.1 that was free a moment ago. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_tcp_never_writes(void **state)
{
    struct dfx *f = *state;
    int port = free_port();
    char listen[64], url[128];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(my_uid, sizeof my_uid, "%u", (unsigned)getuid());
    const char *extra[] = {"--admin-uid", my_uid, "--listen", listen, NULL};
    dt_start_opts(f, extra, NULL, NULL, true);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/keys/server.port", port);
    struct http_resp r;
    assert_true(http_try_full(NULL, &r, NULL, "PUT", url, NULL, "9090", 4));
    json_t *e = expect_error(&r, 403, "forbidden", "PUT over TCP");
    expect_contains(jstr(e, "message"), "TCP", "the TCP refusal");
    http_resp_free(&r);
    assert_true(http_try_full(NULL, &r, NULL, "DELETE", url, NULL, NULL, 0));
    expect_error(&r, 403, "forbidden", "DELETE over TCP");
    http_resp_free(&r);
    /* Reading over TCP works, with the origin. */
    assert_true(http_try_url(NULL, &r, NULL, "GET", url, NULL));
    expect_status(&r, 200, "GET over TCP");
    origin_of(&r);
    http_resp_free(&r);
    /* The same admin on the Unix socket may. */
    r = put(f, "/v1/keys/server.port", "9090", 200);
    http_resp_free(&r);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* --state-file                                                               */

static void test_state_file_across_restart(void **state)
{
    struct dfx *f = *state;
    char dir[PATH_MAX], file[PATH_MAX + 32];
    dt_path(dir, f, "state");
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(file, sizeof file, "%s/overrides.yaml", dir);
    snprintf(my_uid, sizeof my_uid, "%u", (unsigned)getuid());
    const char *extra[] = {"--admin-uid", my_uid, "--state-file", file, NULL};
    dt_start_opts(f, extra, NULL, NULL, true);

    struct http_resp r = put(f, "/v1/keys/server.port", "9090", 200);
    http_resp_free(&r);
    r = del(f, "/v1/keys/server.tls", 200);
    http_resp_free(&r);
    dt_stop(f);
    char *saved = live_slurp(file, NULL);
    expect_contains(saved, "server.port", "the state file");
    expect_contains(saved, "server.tls", "the state file");
    free(saved);

    /* A new daemon with the same state file serves the same. */
    dt_start_opts(f, extra, NULL, NULL, true);
    r = http_get(f, "/v1/keys/server.port");
    assert_int_equal(jint(r.json, "value"), 9090);
    expect_origin(origin_of(&r), 1, "runtime", "runtime", "value", 0, 0);
    http_resp_free(&r);
    r = http_get(f, "/v1/keys/server.tls");
    expect_status(&r, 404, "server.tls after the restart");
    http_resp_free(&r);
    json_t *s = dt_status(f);
    assert_int_equal(jint(s, "overrides"), 2);
    assert_int_equal(jint(s, "generation"), 1);
    json_decref(s);
    /* Reverting empties the file for the next start. */
    r = del(f, "/v1/overrides", 200);
    assert_int_equal(jint(r.json, "reverted"), 2);
    http_resp_free(&r);
    dt_stop(f);
    dt_start_opts(f, extra, NULL, NULL, true);
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    dt_stop(f);

    /* Without --state-file nothing persists (opt-in). */
    const char *plain[] = {"--admin-uid", my_uid, NULL};
    dt_start_opts(f, plain, NULL, NULL, true);
    r = put(f, "/v1/keys/server.port", "9091", 200);
    http_resp_free(&r);
    dt_stop(f);
    dt_start_opts(f, plain, NULL, NULL, true);
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* Layers: --dropin, --env-prefix                                             */

/* DIR/conf.d with 20-port.yaml setting server.port (line 2, column 9). */
static void make_dropins(const struct dfx *f, char *dir)
{
    char file[PATH_MAX + 32];
    dt_path(dir, f, "conf.d");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/20-port.yaml", dir);
    live_put_trunc(file, "server:\n  port: 8081\n");
}

static void test_layer_origins(void **state)
{
    struct dfx *f = *state;
    char dir[PATH_MAX], dropin[PATH_MAX + 32];
    make_dropins(f, dir);
    snprintf(dropin, sizeof dropin, "%s/20-port.yaml", dir);
    const char *extra[] = {"--dropin", dir, "--env-prefix", "APP_", NULL};
    const char *env[] = {"APP_SERVER__HOST=10.1.2.3", "APP_LOGGING__LEVEL=debug", NULL};
    dt_start_opts(f, extra, env, NULL, true);

    struct http_resp r = http_get(f, "/v1/keys/server.port");
    assert_int_equal(jint(r.json, "value"), 8081);
    expect_origin(origin_of(&r), 0, "file", f->conf, "overridden", 12, 9);
    expect_origin(origin_of(&r), 1, "dropin", dropin, "value", 2, 9);
    json_t *src = json_object_get(r.json, "source");
    assert_string_equal(jstr(src, "file"), dropin);
    assert_int_equal(jint(src, "line"), 2);
    http_resp_free(&r);

    r = http_get(f, "/v1/keys/server.host");
    assert_string_equal(jstr(r.json, "value"), "10.1.2.3");
    expect_origin(origin_of(&r), 0, "file", f->conf, "overridden", 11, 9);
    expect_origin(origin_of(&r), 1, "env", "APP_SERVER__HOST", "value", 0, 0);
    http_resp_free(&r);

    json_t *s = dt_status(f);
    assert_int_equal(jint(s, "layers"), 3);
    json_decref(s);

    /* The CLI explains the daemon's values as it explains the same layers
     * read with --file. */
    const char *cli_env[] = {"SNAPCONF_SOCKET=", "APP_SERVER__HOST=10.1.2.3",
                             "APP_LOGGING__LEVEL=debug", NULL};
    char sock_var[PATH_MAX + 32];
    snprintf(sock_var, sizeof sock_var, "SNAPCONF_SOCKET=%s", f->sock);
    cli_env[0] = sock_var;
    const char *paths[] = {"server.port", "server.host", "server", "logging.level"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        struct cmd_result d =
            run_cmd_env(f, cli_env, DT_WAIT_MS,
                        DT_ARGV((char *)dt_cli(), "get", "--explain", (char *)paths[i]));
        expect_code(&d, 0, "get --explain (daemon)");
        struct cmd_result l =
            run_cmd_env(f, cli_env, DT_WAIT_MS,
                        DT_ARGV((char *)dt_cli(), "get", "--explain", "--file", f->conf, "--dropin",
                                dir, "--env-prefix", "APP_", (char *)paths[i]));
        expect_code(&l, 0, "get --explain --file");
        if (strcmp(d.out, l.out) != 0)
            fail_msg("get --explain %s: the daemon's\n%s\nthe file's\n%s", paths[i], d.out, l.out);
        cmd_result_free(&d);
        cmd_result_free(&l);
    }
    dt_stop(f);
}

/* SNAPCONF_ENV_PREFIX is --env-prefix's default. */
static void test_env_prefix_from_environment(void **state)
{
    struct dfx *f = *state;
    const char *env[] = {"SNAPCONF_ENV_PREFIX=CHK_", "CHK_SERVER__WORKERS=16", NULL};
    dt_start_opts(f, NULL, env, NULL, true);
    assert_int_equal(dt_int_value(f, "server.workers"), 16);
    char *log = live_slurp(f->log, NULL);
    expect_contains(log, "environment overrides: CHK_*", "the start-up log");
    free(log);
    dt_stop(f);
    /* --env-prefix '' turns it off. */
    const char *off[] = {"--env-prefix", "", NULL};
    dt_start_opts(f, off, env, NULL, true);
    assert_int_equal(dt_int_value(f, "server.workers"), 4);
    dt_stop(f);
}

/* --check loads the layers too, naming a broken drop-in. */
static void test_check_with_dropins(void **state)
{
    struct dfx *f = *state;
    char dir[PATH_MAX], bad[PATH_MAX + 32];
    make_dropins(f, dir);
    struct cmd_result c = run_cmd_env(
        f, NULL, DT_WAIT_MS,
        DT_ARGV((char *)dt_snapconfd(), "--check", "--config", f->conf, "--dropin", dir));
    expect_code(&c, 0, "--check with a good drop-in");
    cmd_result_free(&c);
    snprintf(bad, sizeof bad, "%s/30-bad.yaml", dir);
    live_put_trunc(bad, "server: [\n");
    c = run_cmd_env(
        f, NULL, DT_WAIT_MS,
        DT_ARGV((char *)dt_snapconfd(), "--check", "--config", f->conf, "--dropin", dir));
    expect_code(&c, 4, "--check with a broken drop-in");
    expect_contains(c.err, bad, "--check names the drop-in");
    cmd_result_free(&c);
}

/* ------------------------------------------------------------------------- */
/* The CLI against the daemon                                                 */

static void expect_line(const char *out, int n, const char *prefix, const char *what)
{
    const char *line = out;
    for (int i = 0; i < n && line; i++) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    if (!line || strncmp(line, prefix, strlen(prefix)) != 0)
        fail_msg("%s: line %d does not start with \"%s\":\n%s", what, n, prefix, out);
}

static void test_cli_set_unset_revert(void **state)
{
    struct dfx *f = *state;
    dt_start_opts(f, as_admin(), NULL, NULL, true);
    long long g = dt_generation(f);
    char want[PATH_MAX + 128];

    struct cmd_result c = run_cli(f, "set", "server.port", "9090");
    expect_code(&c, 0, "snapconf set");
    snprintf(want, sizeof want, "set server.port: generation %lld\n", g + 1);
    assert_string_equal(c.out, want);
    cmd_result_free(&c);

    /* get --explain: the value, then the layers, highest first. */
    c = run_cli(f, "get", "--explain", "server.port");
    expect_code(&c, 0, "snapconf get --explain");
    expect_line(c.out, 0, "9090\n", "get --explain");
    /* The first column is as wide as the longest label, the file's. */
    snprintf(want, sizeof want, "  %-*s  value       9090\n", (int)strlen(f->conf) + 5,
             "runtime override (set server.port)");
    expect_line(c.out, 1, want, "get --explain");
    snprintf(want, sizeof want, "  %s:12:9  overridden  8080\n", f->conf);
    expect_line(c.out, 2, want, "get --explain");
    cmd_result_free(&c);

    c = run_cli(f, "get", "--explain", "--json", "server.port");
    expect_code(&c, 0, "snapconf get --explain --json");
    json_t *j = json_loads(c.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(jint(j, "value"), 9090);
    json_t *origin = json_object_get(j, "origin");
    expect_origin(origin, 0, "file", f->conf, "overridden", 12, 9);
    expect_origin(origin, 1, "runtime", "runtime", "value", 0, 0);
    json_decref(j);
    cmd_result_free(&c);

    c = run_cli(f, "unset", "server.tls");
    expect_code(&c, 0, "snapconf unset");
    snprintf(want, sizeof want, "unset server.tls: generation %lld\n", g + 2);
    assert_string_equal(c.out, want);
    cmd_result_free(&c);
    c = run_cli(f, "get", "--explain", "server.tls");
    expect_code(&c, 1, "get --explain of an unset key");
    assert_string_equal(c.out, "");
    expect_contains(c.err, "  runtime override (unset server.tls)", "its stderr");
    expect_contains(c.err, "  deleted\n", "its stderr");
    cmd_result_free(&c);

    c = run_cli(f, "overrides");
    expect_code(&c, 0, "snapconf overrides");
    assert_string_equal(c.out, "set server.port = 9090\nunset server.tls\n");
    cmd_result_free(&c);
    c = run_cli(f, "status");
    expect_contains(c.out, "  layers:        3, 2 runtime overrides\n", "snapconf status");
    cmd_result_free(&c);

    /* The errors, with their exit codes. */
    c = run_cli(f, "set", "server.port", "[a, b");
    expect_code(&c, 2, "set with bad YAML");
    expect_contains(c.err, "<value for server.port>:", "its message");
    cmd_result_free(&c);
    c = run_cli(f, "set", "server.port.x", "1");
    expect_code(&c, 4, "set through a scalar");
    cmd_result_free(&c);
    c = run_cli(f, "unset", "no.such.key");
    expect_code(&c, 1, "unset a missing key");
    cmd_result_free(&c);

    c = run_cli(f, "revert", "server.tls");
    expect_code(&c, 0, "snapconf revert server.tls");
    snprintf(want, sizeof want,
             "reverted 1 runtime override at or below server.tls: generation %lld\n", g + 3);
    assert_string_equal(c.out, want);
    cmd_result_free(&c);
    c = run_cli(f, "revert");
    expect_code(&c, 0, "snapconf revert");
    snprintf(want, sizeof want, "reverted all 1 runtime override: generation %lld\n", g + 4);
    assert_string_equal(c.out, want);
    cmd_result_free(&c);
    c = run_cli(f, "revert");
    expect_code(&c, 1, "snapconf revert with none left");
    expect_contains(c.err, "no runtime overrides to revert", "its message");
    cmd_result_free(&c);
    c = run_cli(f, "get", "server.port");
    assert_string_equal(c.out, "8080\n");
    cmd_result_free(&c);

    /* --json prints the daemon's answers. */
    c = run_cli(f, "set", "--json", "features.gift_cards", "true");
    expect_code(&c, 0, "set --json");
    j = json_loads(c.out, 0, NULL);
    assert_true(json_is_true(json_object_get(j, "value")));
    json_decref(j);
    cmd_result_free(&c);
    c = run_cli(f, "overrides", "--json");
    j = json_loads(c.out, 0, NULL);
    assert_int_equal(jint(j, "count"), 1);
    json_decref(j);
    cmd_result_free(&c);
    dt_stop(f);
}

int main(int argc, char **argv)
{
    dt_global_init_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_then_get, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_override_survives_reload, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_revert, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_write_errors, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_not_admin, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_no_admin_by_default, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_admin_by_name, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_never_writes, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_state_file_across_restart, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_layer_origins, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_env_prefix_from_environment, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_check_with_dropins, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_cli_set_unset_revert, dt_setup, dt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
