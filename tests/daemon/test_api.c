/*
 * The HTTP API endpoint by endpoint (docs/API.md): /v1/keys, /v1/snapshot,
 * /v1/status, POST /v1/reload, /metrics, wrong methods and unknown
 * endpoints, and the real curl binary against the socket.
 *
 * Every test runs its own snapconfd on a copy of conf/example.yaml.
 */
#include "dtest.h"

#include <time.h>

/* The value of GET /v1/keys/{encoded}: asserts 200, the JSON shape, the
 * canonical path, the type and that value equals want (JSON text). */
static json_t *expect_key(const struct dfx *f, const char *encoded, const char *canonical,
                          const char *type, const char *want_json)
{
    char target[1024];
    snprintf(target, sizeof target, "/v1/keys/%s", encoded);
    struct http_resp r = http_get(f, target);
    expect_status(&r, 200, target);
    json_t *o = expect_json(&r, target);
    if (strcmp(jstr(o, "path"), canonical) != 0)
        fail_msg("GET %s: path \"%s\", want \"%s\"", target, jstr(o, "path"), canonical);
    if (strcmp(jstr(o, "type"), type) != 0)
        fail_msg("GET %s: type \"%s\", want \"%s\"", target, jstr(o, "type"), type);
    json_t *want = json_loads(want_json, DT_JSON_FLAGS, NULL);
    assert_non_null(want);
    json_t *got = json_object_get(o, "value");
    if (!got || !json_equal(got, want))
        fail_msg("GET %s: value %s, want %s", target, r.body, want_json);
    json_decref(want);
    long long g = jint(o, "generation");
    if (http_gen_header(&r, target) != g)
        fail_msg("GET %s: header generation %lld, body %lld", target, http_gen_header(&r, target),
                 g);
    json_t *src = json_object_get(o, "source");
    if (!json_is_object(src))
        fail_msg("GET %s: no \"source\" object: %s", target, r.body);
    if (strcmp(jstr(src, "file"), f->conf) != 0)
        fail_msg("GET %s: source.file \"%s\", want \"%s\"", target, jstr(src, "file"), f->conf);
    assert_true(jint(src, "line") >= 1);
    assert_true(jint(src, "column") >= 1);
    json_incref(o);
    http_resp_free(&r);
    return o;
}

/* `snapconf dump --file FILE` parsed (the reference for the whole config). */
static json_t *dump_file(const struct dfx *f, const char *file)
{
    struct cmd_result c =
        run_cmd_env(f, NULL, DT_WAIT_MS, DT_ARGV((char *)dt_cli(), "dump", "--file", (char *)file));
    expect_code(&c, 0, "snapconf dump --file");
    json_error_t je;
    json_t *j = json_loads(c.out, DT_JSON_FLAGS, &je);
    if (!j)
        fail_msg("dump --file output is not JSON (%s): %s", je.text, c.out);
    cmd_result_free(&c);
    return j;
}

/* ------------------------------------------------------------------------- */
/* GET /v1/keys                                                              */

static void test_keys_values(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    json_t *o = expect_key(f, "server.port", "server.port", "int", "8080");
    /* "  port: 8080" on line 12: the value starts at column 9. */
    json_t *src = json_object_get(o, "source");
    assert_int_equal(jint(src, "line"), 12);
    assert_int_equal(jint(src, "column"), 9);
    assert_true(jint(o, "generation") >= 1);
    json_decref(o);

    json_decref(expect_key(f, "service.name", "service.name", "string", "\"checkout\""));
    json_decref(expect_key(f, "service.version", "service.version", "string", "\"2.14.1\""));
    json_decref(expect_key(f, "server.max_body_bytes", "server.max_body_bytes", "int", "1048576"));
    json_decref(expect_key(f, "server.tls.enabled", "server.tls.enabled", "bool", "true"));
    json_decref(expect_key(f, "features.gift_cards", "features.gift_cards", "bool", "false"));
    json_decref(expect_key(f, "features.beta_testers", "features.beta_testers", "null", "null"));
    json_decref(
        expect_key(f, "features.recommendations", "features.recommendations", "string", "\"on\""));
    json_decref(expect_key(f, "logging.sample_rate", "logging.sample_rate", "float", "0.25"));
    /* Merge keys resolved; a merged value's source is where it is written
     * (under the anchor), an overriding one's where it overrides. */
    o = expect_key(f, "database.replica.port", "database.replica.port", "int", "5432");
    json_t *anchor = expect_key(f, "defaults.port", "defaults.port", "int", "5432");
    assert_int_equal(jint(json_object_get(o, "source"), "line"),
                     jint(json_object_get(anchor, "source"), "line"));
    json_decref(anchor);
    json_decref(o);
    json_decref(
        expect_key(f, "database.primary.pool_size", "database.primary.pool_size", "int", "20"));
    json_decref(expect_key(f, "motd", "motd", "string",
                           "\"Welcome to checkout.\\nMaintenance window: Sundays 02:00-03:00 "
                           "UTC.\\n\""));

    dt_stop(f);
}

static void test_keys_collections(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    /* A mapping, keys in document order. */
    json_t *o = expect_key(f, "server.tls", "server.tls", "map",
                           "{\"enabled\": true, \"cert\": \"/etc/checkout/tls/server.crt\","
                           " \"key\": \"/etc/checkout/tls/server.key\", \"min_version\": \"1.2\"}");
    const char *order[] = {"enabled", "cert", "key", "min_version"};
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach(json_object_get(o, "value"), k, v)
    {
        assert_true(i < 4);
        assert_string_equal(k, order[i]);
        i++;
    }
    json_decref(o);

    /* A sequence, and an item of one. */
    json_decref(expect_key(f, "logging.outputs", "logging.outputs", "seq",
                           "[\"stderr\", \"/var/log/checkout/app.log\"]"));
    json_decref(
        expect_key(f, "upstreams%5B1%5D.name", "upstreams[1].name", "string", "\"inventory\""));
    json_decref(expect_key(f, "upstreams[2].weight", "upstreams[2].weight", "int", "1"));

    /* A quoted key, percent-encoded as the contract shows. */
    json_decref(expect_key(f, "labels.%22app.kubernetes.io%2Fname%22",
                           "labels.\"app.kubernetes.io/name\"", "string", "\"checkout\""));
    /* Quotes where none are needed are dropped from the canonical path. */
    json_decref(expect_key(f, "labels.%22team%22", "labels.team", "string", "\"payments-core\""));

    /* The root: the whole config, as `snapconf dump --file` prints it. */
    struct http_resp r = http_get(f, "/v1/keys/");
    expect_status(&r, 200, "GET /v1/keys/");
    json_t *root = expect_json(&r, "GET /v1/keys/");
    assert_string_equal(jstr(root, "type"), "map");
    assert_string_equal(jstr(root, "path"), "");
    json_t *want = dump_file(f, f->conf);
    if (!json_equal(json_object_get(root, "value"), want))
        fail_msg("GET /v1/keys/ differs from dump --file: %s", r.body);
    json_decref(want);
    http_resp_free(&r);

    dt_stop(f);
}

static void test_keys_errors(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);

    /* Absent: 404 not_found, with the pinned generation. */
    const char *absent[] = {"server.prt", "upstreams%5B7%5D.name", "server.port.number",
                            "labels.%22app.kubernetes.io%2Fnme%22", "nothing.like.this"};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++) {
        char target[256];
        snprintf(target, sizeof target, "/v1/keys/%s", absent[i]);
        struct http_resp r = http_get(f, target);
        expect_error(&r, 404, "not_found", target);
        assert_int_equal(jint(r.json, "generation"), g);
        assert_int_equal(http_gen_header(&r, target), g);
        http_resp_free(&r);
    }

    /* Malformed: 400 bad_path with the column the library reports. */
    const char *bad[][2] = {
        {"server..port", "server..port"}, {"labels.%22app", "labels.\"app"}, {"a%5Bx%5D", "a[x]"},
        {"server.", "server."},           {"upstreams%5B0", "upstreams[0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char target[256];
        snprintf(target, sizeof target, "/v1/keys/%s", bad[i][0]);
        snapconf_path *p = NULL;
        snapconf_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(snapconf_path_compile(bad[i][1], &p, &err), SNAPCONF_EPATH);
        struct http_resp r = http_get(f, target);
        json_t *e = expect_error(&r, 400, "bad_path", target);
        if (jint(e, "column") != err.column)
            fail_msg("GET %s: column %lld, want %d (%s)", target, (long long)jint(e, "column"),
                     err.column, err.message);
        http_resp_free(&r);
    }

    /* The daemon never treats a path as a file name. */
    struct http_resp r = http_get(f, "/v1/keys/..%2F..%2F..%2Fetc%2Fpasswd");
    assert_true(r.status == 400 || r.status == 404);
    assert_null(strstr(r.body, "root:"));
    http_resp_free(&r);

    dt_stop(f);
}

/* Values of every type, awkward strings and keys, floats that need all
 * their digits (the CLI's fixtures): the snapshot is what dump --file
 * prints (ints stay ints, floats stay floats), and single keys agree. */
static void test_types(void **state)
{
    struct dfx *f = *state;
    /* Less the key with a NUL byte, which jansson cannot hold. */
    char *types = live_slurp(CLI_FIXTURES "/types.yaml", NULL);
    char *nul_key = strstr(types, "  \"k\\0ey\"");
    assert_non_null(nul_key);
    memmove(nul_key, strchr(nul_key, '\n') + 1, strlen(strchr(nul_key, '\n') + 1) + 1);
    live_put_trunc(f->conf, types);
    free(types);
    dt_start(f);

    struct http_resp r = http_get(f, "/v1/snapshot");
    expect_status(&r, 200, "GET /v1/snapshot of types.yaml");
    json_t *want = dump_file(f, f->conf);
    if (!json_equal(json_object_get(expect_json(&r, "snapshot"), "config"), want))
        fail_msg("/v1/snapshot of types.yaml:\n%s\ndiffers from dump --file:\n%s", r.body,
                 json_dumps(want, JSON_COMPACT));
    json_decref(want);
    http_resp_free(&r);

    json_decref(expect_key(f, "numbers.big", "numbers.big", "int", "9223372036854775807"));
    json_decref(expect_key(f, "numbers.small", "numbers.small", "int", "-9223372036854775808"));
    json_decref(expect_key(f, "numbers.three", "numbers.three", "float", "3.0"));
    json_decref(expect_key(f, "numbers.tenth", "numbers.tenth", "float", "0.1"));
    json_decref(expect_key(f, "numbers.huge", "numbers.huge", "float", "1e300"));
    json_decref(expect_key(f, "numbers.inf", "numbers.inf", "float", "\".inf\""));
    json_decref(expect_key(f, "numbers.neg_inf", "numbers.neg_inf", "float", "\"-.inf\""));
    json_decref(expect_key(f, "numbers.nan", "numbers.nan", "float", "\".nan\""));
    json_decref(expect_key(f, "numbers.hex", "numbers.hex", "int", "255"));
    json_decref(expect_key(f, "strings.inf_text", "strings.inf_text", "string", "\".inf\""));
    json_decref(expect_key(f, "strings.nul_byte", "strings.nul_byte", "string", "\"a\\u0000b\""));
    json_decref(
        expect_key(f, "strings.unicode", "strings.unicode", "string", "\"caf\u00e9 \u2615\""));
    json_decref(expect_key(f, "strings.port_text", "strings.port_text", "string", "\"8080\""));
    json_decref(expect_key(f, "strings.tagged", "strings.tagged", "string", "\"red\""));
    json_decref(expect_key(f, "others.empty_map", "others.empty_map", "map", "{}"));
    json_decref(expect_key(f, "others.empty_seq", "others.empty_seq", "seq", "[]"));
    json_decref(
        expect_key(f, "others.nested%5B1%5D%5B1%5D%5B0%5D", "others.nested[1][1][0]", "int", "4"));
    json_decref(expect_key(f, "keys.%22a.b%22", "keys.\"a.b\"", "string", "\"dotted key\""));
    json_decref(expect_key(f, "keys.%228080%22", "keys.8080", "string", "\"numeric-looking key\""));
    json_decref(expect_key(f, "keys.%22%22", "keys.\"\"", "string", "\"empty key\""));
    json_decref(expect_key(f, "anchors.merged", "anchors.merged", "map",
                           "{\"x\": 1, \"y\": \"override\"}"));
    json_decref(expect_key(f, "anchors.copy.y%5B1%5D", "anchors.copy.y[1]", "string", "\"b\""));

    /* Floats that need 15 to 17 digits come back as the same doubles. */
    long long g = dt_generation(f);
    dt_copy_file(CLI_FIXTURES "/floats.yaml", f->conf);
    struct http_resp rr = http_req(f->sock, "POST", "/v1/reload");
    expect_status(&rr, 200, "POST /v1/reload");
    http_resp_free(&rr);
    assert_int_equal(dt_generation(f), g + 1);
    r = http_get(f, "/v1/snapshot");
    want = dump_file(f, f->conf);
    if (!json_equal(json_object_get(expect_json(&r, "snapshot"), "config"), want))
        fail_msg("/v1/snapshot of floats.yaml:\n%s\ndiffers from dump --file:\n%s", r.body,
                 json_dumps(want, JSON_COMPACT));
    json_decref(want);
    http_resp_free(&r);
    json_decref(expect_key(f, "sum", "sum", "float", "0.30000000000000004"));
    json_decref(expect_key(f, "third", "third", "float", "0.3333333333333333"));

    dt_stop(f);
}

/* Keys that URLs make awkward: a literal '%' (decoded once, not twice), a
 * space, non-ASCII, a slash, a quote, brackets and a dot. */
static void test_awkward_keys(void **state)
{
    struct dfx *f = *state;
    live_put_trunc(f->conf, "k:\n"
                            "  \"a%41\": percent\n"
                            "  aA: plain\n"
                            "  my key: spaced\n"
                            "  caf\u00e9: unicode\n"
                            "  x/y: slash\n"
                            "  \"q\\\"uote\": quoted\n"
                            "  \"[0]\": bracket\n"
                            "  \"a.b\": dotted\n"
                            "  plus+sign: plus\n");
    dt_start(f);
    json_decref(expect_key(f, "k.a%2541", "k.a%41", "string", "\"percent\""));
    json_decref(expect_key(f, "k.aA", "k.aA", "string", "\"plain\""));
    json_decref(expect_key(f, "k.my%20key", "k.my key", "string", "\"spaced\""));
    json_decref(expect_key(f, "k.caf%C3%A9", "k.caf\u00e9", "string", "\"unicode\""));
    json_decref(expect_key(f, "k.x%2Fy", "k.x/y", "string", "\"slash\""));
    json_decref(expect_key(f, "k.x/y", "k.x/y", "string", "\"slash\""));
    json_decref(expect_key(f, "k.%22q%5C%22uote%22", "k.\"q\\\"uote\"", "string", "\"quoted\""));
    json_decref(expect_key(f, "k.%22%5B0%5D%22", "k.\"[0]\"", "string", "\"bracket\""));
    json_decref(expect_key(f, "k.%22a.b%22", "k.\"a.b\"", "string", "\"dotted\""));
    json_decref(expect_key(f, "k.plus+sign", "k.plus+sign", "string", "\"plus\""));
    json_decref(expect_key(f, "k.plus%2Bsign", "k.plus+sign", "string", "\"plus\""));

    /* A watch prefix is decoded the same way, and events name the
     * canonical path. */
    struct sse w;
    sse_open(&w, f->sock, "/v1/watch?prefix=k.a%2541");
    sse_wait_connected(&w);
    long long g = dt_generation(f);
    dt_sed_i(f, "s/plain/changed/");
    dt_expect_exactly(f, g + 1);
    dt_sed_i(f, "s/percent/changed/");
    struct sse_event ev;
    json_t *d = sse_expect_change(&w, &ev, "prefix=k.a%2541");
    assert_int_equal(jint(d, "generation"), g + 2);
    assert_non_null(sse_change_at(d, "k.a%41"));
    sse_event_free(&ev);
    sse_close(&w);
    dt_stop(f);
}

/* A config of 1.5 MB (20,000 keys, long and escaped strings): the snapshot
 * and the root are whole and equal to dump --file. */
static void test_big_config(void **state)
{
    struct dfx *f = *state;
    struct dt_buf b = {0};
    char line[256];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(line, sizeof line, "section%d:\n", i);
        dt_buf_add(&b, line, (size_t)n);
        for (int k = 0; k < 100; k++) {
            n = snprintf(line, sizeof line,
                         "  key%d: \"value %d/%d \\t tab \\\" quote \\\\ backslash \\u00e9 "
                         "\\x01 control %040d\"\n",
                         k, i, k, k);
            dt_buf_add(&b, line, (size_t)n);
        }
    }
    live_put_trunc(f->conf, b.p);
    free(b.p);
    dt_start(f);

    json_t *want = dump_file(f, f->conf);
    struct http_resp r = http_get(f, "/v1/snapshot");
    expect_status(&r, 200, "GET /v1/snapshot (big)");
    if (!json_equal(json_object_get(expect_json(&r, "snapshot"), "config"), want))
        fail_msg("the big snapshot (%zu bytes) differs from dump --file", r.len);
    http_resp_free(&r);
    r = http_get(f, "/v1/keys/");
    expect_status(&r, 200, "GET /v1/keys/ (big)");
    assert_true(json_equal(json_object_get(expect_json(&r, "root"), "value"), want));
    http_resp_free(&r);
    json_decref(want);
    json_decref(expect_key(f, "section199.key99", "section199.key99", "string",
                           "\"value 199/99 \\t tab \\\" quote \\\\ backslash \\u00e9 "
                           "\\u0001 control 0000000000000000000000000000000000000099\""));
    char *m = dt_metrics(f);
    assert_true(metric_value(m, "snapconf_snapshot_keys") >= 20000);
    free(m);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* GET /v1/snapshot and /v1/status                                           */

static void test_snapshot(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct http_resp r = http_get(f, "/v1/snapshot");
    expect_status(&r, 200, "GET /v1/snapshot");
    json_t *o = expect_json(&r, "GET /v1/snapshot");
    long long g = jint(o, "generation");
    assert_true(g >= 1);
    assert_int_equal(http_gen_header(&r, "GET /v1/snapshot"), g);
    assert_string_equal(jstr(o, "source"), f->conf);
    const char *hash = jstr(o, "content_hash");
    assert_true(strlen(hash) >= 16);
    json_t *want = dump_file(f, f->conf);
    if (!json_equal(json_object_get(o, "config"), want))
        fail_msg("/v1/snapshot config differs from `snapconf dump --file`:\n%s", r.body);
    json_decref(want);

    /* The status describes the same snapshot. */
    json_t *st = dt_status(f);
    assert_int_equal(jint(st, "generation"), g);
    assert_string_equal(jstr(st, "content_hash"), hash);
    json_decref(st);
    http_resp_free(&r);

    /* After an edit: the new value, a new generation and hash. */
    dt_sed_i(f, "s/port: 8080/port: 9090/");
    dt_expect_exactly(f, g + 1);
    r = http_get(f, "/v1/snapshot");
    expect_status(&r, 200, "GET /v1/snapshot after an edit");
    o = expect_json(&r, "GET /v1/snapshot after an edit");
    assert_int_equal(jint(o, "generation"), g + 1);
    assert_int_equal(http_gen_header(&r, "GET /v1/snapshot"), g + 1);
    json_t *port = json_object_get(json_object_get(json_object_get(o, "config"), "server"), "port");
    assert_true(json_is_integer(port));
    assert_int_equal(json_integer_value(port), 9090);
    want = dump_file(f, f->conf);
    assert_true(json_equal(json_object_get(o, "config"), want));
    json_decref(want);
    http_resp_free(&r);

    /* ?format=yaml: the same generation, rendered as YAML. */
    r = http_get(f, "/v1/snapshot?format=yaml");
    expect_status(&r, 200, "GET /v1/snapshot?format=yaml");
    assert_int_equal(http_gen_header(&r, "GET /v1/snapshot?format=yaml"), g + 1);
    assert_non_null(strstr(r.body, "port: 9090\n"));
    http_resp_free(&r);
    r = http_get(f, "/v1/snapshot?format=json");
    expect_status(&r, 200, "GET /v1/snapshot?format=json");
    http_resp_free(&r);
    r = http_get(f, "/v1/snapshot?format=xml");
    expect_error(&r, 400, "bad_request", "GET /v1/snapshot?format=xml");
    http_resp_free(&r);

    dt_stop(f);
}

static void test_status(void **state)
{
    struct dfx *f = *state;
    time_t before = time(NULL);
    dt_start(f);

    json_t *s = dt_status(f);
    assert_true(jint(s, "generation") >= 1);
    assert_string_equal(jstr(s, "source"), f->conf);
    char hash[128];
    snprintf(hash, sizeof hash, "%s", jstr(s, "content_hash"));
    assert_true(strlen(hash) >= 16);
    for (const char *p = hash; *p; p++)
        assert_true(isxdigit((unsigned char)*p));
    assert_string_equal(jstr(s, "watch"), "inotify");
    assert_true(json_is_string(json_object_get(s, "watch_note")));
    const char *t = jstr(s, "last_load_time");
    /* ISO 8601 UTC: 2026-11-26T17:01:02.123Z */
    assert_true(strlen(t) >= 20);
    assert_true(t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[strlen(t) - 1] == 'Z');
    json_t *unix_time = json_object_get(s, "last_load_time_unix");
    assert_true(json_is_number(unix_time));
    double lt = json_number_value(unix_time);
    assert_true(lt >= (double)before - 2 && lt <= (double)time(NULL) + 2);
    assert_int_equal(jint(s, "reloads"), 0);
    assert_int_equal(jint(s, "failed_reloads"), 0);
    assert_true(json_is_true(json_object_get(s, "last_reload_ok")));
    assert_true(json_is_null(json_object_get(s, "last_error")));
    assert_true(jint(s, "memory_bytes") > 0);
    assert_true(jint(s, "nodes") > 0);
    assert_int_equal(jint(s, "watchers"), 0);
    assert_string_equal(jstr(s, "version"), SNAPCONF_PROJECT_VERSION);
    /* The two load times are the same instant. */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(rest);
    double frac = *rest == '.' ? strtod(rest, NULL) : 0;
    double iso = (double)timegm(&tm) + frac;
    if (iso - lt > 0.002 || lt - iso > 0.002)
        fail_msg("last_load_time %s is not last_load_time_unix %.3f", t, lt);
    long long g = jint(s, "generation");
    long long memory = jint(s, "memory_bytes");
    json_decref(s);

    /* /metrics describes the same snapshot and load. */
    char *m = dt_metrics(f);
    assert_true(metric_value(m, "snapconf_snapshot_bytes") == (double)memory);
    double ts = metric_value(m, "snapconf_last_reload_success_timestamp_seconds");
    if (ts - lt > 0.002 || lt - ts > 0.002)
        fail_msg("snapconf_last_reload_success_timestamp_seconds %.3f, last_load_time_unix %.3f",
                 ts, lt);
    free(m);

    /* One published edit: one more reload, a new hash. */
    dt_sed_i(f, "s/workers: 4/workers: 8/");
    dt_expect_exactly(f, g + 1);
    s = dt_status(f);
    assert_int_equal(jint(s, "reloads"), 1);
    assert_int_equal(jint(s, "failed_reloads"), 0);
    assert_true(json_is_true(json_object_get(s, "last_reload_ok")));
    assert_string_not_equal(jstr(s, "content_hash"), hash);
    assert_true(json_number_value(json_object_get(s, "last_load_time_unix")) > lt);
    json_decref(s);

    /* A watcher is counted. */
    struct sse w;
    sse_open(&w, f->sock, "/v1/watch");
    sse_wait_connected(&w);
    assert_int_equal(dt_wait_watchers(f, 1, DT_WAIT_MS), 1);
    sse_close(&w);

    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* POST /v1/reload                                                           */

static void test_reload(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);

    /* Nothing changed: 200, not published, same generation. */
    struct http_resp r = http_req(f->sock, "POST", "/v1/reload");
    expect_status(&r, 200, "POST /v1/reload (unchanged)");
    json_t *o = expect_json(&r, "POST /v1/reload");
    assert_int_equal(jint(o, "generation"), g);
    assert_true(json_is_false(json_object_get(o, "published")));
    http_resp_free(&r);

    /* A change the watcher cannot see yet: the reload publishes it. */
    int fd = overwrite_unnoticed(f, "port: 8080", "port: 9191");
    live_sleep_ms(DT_SETTLE_MS);
    if (dt_generation(f) != g)
        fail_msg("precondition: the watcher noticed a write without close");
    r = http_req(f->sock, "POST", "/v1/reload");
    expect_status(&r, 200, "POST /v1/reload (changed)");
    o = expect_json(&r, "POST /v1/reload");
    assert_int_equal(jint(o, "generation"), g + 1);
    assert_true(json_is_true(json_object_get(o, "published")));
    http_resp_free(&r);
    assert_int_equal(dt_int_value(f, "server.port"), 9191);

    /* Broken (an unclosed flow sequence) through the same open fd: 422 with
     * the position; the last good snapshot keeps serving. */
    assert_int_equal(pwrite(fd, "[", 1, file_offset(f, "9191")), 1);
    r = http_req(f->sock, "POST", "/v1/reload");
    json_t *e = expect_error(&r, 422, "invalid_config", "POST /v1/reload (invalid)");
    assert_string_equal(jstr(e, "file"), f->conf);
    assert_true(jint(e, "line") >= 12);
    assert_true(jint(e, "column") >= 1);
    if (json_object_get(r.json, "generation"))
        assert_int_equal(jint(r.json, "generation"), g + 1);
    http_resp_free(&r);
    assert_int_equal(dt_int_value(f, "server.port"), 9191);
    assert_int_equal(dt_generation(f), g + 1);
    json_t *s = dt_status(f);
    assert_true(json_is_false(json_object_get(s, "last_reload_ok")));
    assert_true(jint(s, "failed_reloads") >= 1);
    json_decref(s);

    /* Closing the fd lets the watcher see the broken file: still serving. */
    assert_int_equal(close(fd), 0);
    live_sleep_ms(DT_SETTLE_MS);
    assert_int_equal(dt_generation(f), g + 1);

    /* Fixed with sed -i: the watcher or the reload publishes it, once. */
    dt_sed_i(f, "s/port: \\[191/port: 7070/");
    r = http_req(f->sock, "POST", "/v1/reload");
    expect_status(&r, 200, "POST /v1/reload (fixed)");
    assert_int_equal(jint(r.json, "generation"), g + 2);
    http_resp_free(&r);
    dt_expect_exactly(f, g + 2);
    assert_int_equal(dt_int_value(f, "server.port"), 7070);

    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* GET /metrics                                                              */

static void test_metrics(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct http_resp r = http_get(f, "/metrics");
    expect_status(&r, 200, "GET /metrics");
    char ct[256];
    assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
    assert_true(strncmp(ct, "text/plain", 10) == 0);
    const char *names[] = {
        "snapconf_reloads_total",
        "snapconf_reload_failures_total",
        "snapconf_generation",
        "snapconf_last_reload_success_timestamp_seconds",
        "snapconf_last_reload_successful",
        "snapconf_reload_duration_seconds_sum",
        "snapconf_reload_duration_seconds_count",
        "snapconf_reload_duration_seconds_bucket{le=\"+Inf\"}",
        "snapconf_snapshot_bytes",
        "snapconf_snapshot_keys",
        "snapconf_watchers",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        (void)metric_value(r.body, names[i]);
    expect_contains(r.body, "# TYPE snapconf_reloads_total counter", "metrics");
    expect_contains(r.body, "# TYPE snapconf_reload_failures_total counter", "metrics");
    expect_contains(r.body, "# TYPE snapconf_reload_duration_seconds histogram", "metrics");

    long long g = dt_generation(f);
    double reloads = metric_value(r.body, "snapconf_reloads_total");
    double failures = metric_value(r.body, "snapconf_reload_failures_total");
    assert_true(metric_value(r.body, "snapconf_generation") == (double)g);
    assert_true(metric_value(r.body, "snapconf_last_reload_successful") == 1);
    assert_true(metric_value(r.body, "snapconf_snapshot_bytes") > 0);
    assert_true(metric_value(r.body, "snapconf_snapshot_keys") > 0);
    assert_true(metric_value(r.body, "snapconf_watchers") == 0);
    double ts = metric_value(r.body, "snapconf_last_reload_success_timestamp_seconds");
    assert_true(ts > (double)time(NULL) - 60 && ts < (double)time(NULL) + 2);
    /* Buckets are cumulative, and +Inf is the count. */
    double prev = 0;
    int buckets = 0;
    for (const char *line = r.body; line && *line;) {
        if (strncmp(line, "snapconf_reload_duration_seconds_bucket{", 40) == 0) {
            double v = strtod(strchr(line, ' ') + 1, NULL);
            assert_true(v >= prev);
            prev = v;
            buckets++;
        }
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    assert_true(buckets >= 2);
    assert_true(prev == metric_value(r.body, "snapconf_reload_duration_seconds_count"));
    double count = prev;
    http_resp_free(&r);

    /* An edit: reloads_total + 1, the generation follows. */
    dt_sed_i(f, "s/workers: 4/workers: 6/");
    dt_expect_exactly(f, g + 1);
    char *m = dt_metrics(f);
    assert_true(metric_value(m, "snapconf_reloads_total") == reloads + 1);
    assert_true(metric_value(m, "snapconf_generation") == (double)(g + 1));
    assert_true(metric_value(m, "snapconf_reload_duration_seconds_count") >= count + 1);
    assert_true(metric_value(m, "snapconf_reload_failures_total") == failures);
    free(m);

    /* A broken edit: failures + 1, last_reload_successful 0. */
    dt_sed_i(f, "s/workers: 6/workers: [6/");
    assert_int_equal(dt_wait_status_int(f, "failed_reloads", 1, DT_WAIT_MS), 1);
    m = dt_metrics(f);
    assert_true(metric_value(m, "snapconf_reload_failures_total") == failures + 1);
    assert_true(metric_value(m, "snapconf_last_reload_successful") == 0);
    assert_true(metric_value(m, "snapconf_generation") == (double)(g + 1));
    assert_true(metric_value(m, "snapconf_reloads_total") == reloads + 1);
    free(m);

    /* A watcher shows in snapconf_watchers. */
    struct sse w;
    sse_open(&w, f->sock, "/v1/watch");
    sse_wait_connected(&w);
    m = dt_metrics(f);
    assert_true(metric_value(m, "snapconf_watchers") == 1);
    free(m);
    sse_close(&w);

    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* Methods and endpoints                                                      */

static void test_methods_and_endpoints(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct {
        const char *method, *target, *allow;
    } wrong[] = {
        {"POST", "/v1/keys/server.port", "GET"},
        {"PATCH", "/v1/keys/server.port", "GET"},
        {"POST", "/v1/overrides", "GET"},
        {"PUT", "/v1/overrides/server.port", "DELETE"},
        {"PUT", "/v1/snapshot", "GET"},
        {"POST", "/v1/status", "GET"},
        {"GET", "/v1/reload", "POST"},
        {"DELETE", "/v1/reload", "POST"},
        {"POST", "/metrics", "GET"},
        {"POST", "/v1/watch", "GET"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        char what[256];
        snprintf(what, sizeof what, "%s %s", wrong[i].method, wrong[i].target);
        struct http_resp r = http_req(f->sock, wrong[i].method, wrong[i].target);
        expect_error(&r, 405, "method_not_allowed", what);
        char allow[128];
        if (!http_header(&r, "Allow", allow, sizeof allow))
            fail_msg("%s: 405 without an Allow header", what);
        if (!strstr(allow, wrong[i].allow))
            fail_msg("%s: Allow: %s, want %s", what, allow, wrong[i].allow);
        http_resp_free(&r);
    }

    const char *unknown[] = {"/",
                             "/v1",
                             "/v1/",
                             "/v1/nothing",
                             "/v2/keys/server.port",
                             "/v1/snapshots",
                             "/metrics/x",
                             "/v1/keysserver.port"};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        struct http_resp r = http_get(f, unknown[i]);
        expect_error(&r, 404, "no_such_endpoint", unknown[i]);
        http_resp_free(&r);
    }

    /* Dot segments do not escape to files either. */
    struct http_resp r = http_get(f, "/../../../../etc/passwd");
    assert_true(r.status == 400 || r.status == 404);
    assert_null(strstr(r.body, "root:"));
    http_resp_free(&r);

    dt_expect_running(f);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* The real curl binary                                                       */

static void test_curl_unix_socket(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct cmd_result c =
        run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV("/usr/bin/curl", "-sS", "--unix-socket", f->sock,
                            "http://localhost/v1/keys/labels.%22app.kubernetes.io%2Fname%22"));
    expect_code(&c, 0, "curl GET /v1/keys");
    json_t *o = json_loads(c.out, DT_JSON_FLAGS, NULL);
    if (!json_is_object(o))
        fail_msg("curl output is not a JSON object: %s", c.out);
    assert_string_equal(jstr(o, "value"), "checkout");
    assert_string_equal(jstr(o, "type"), "string");
    json_decref(o);
    cmd_result_free(&c);

    /* -f: the HTTP status shows in curl's exit code (22 for >= 400). */
    c = run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV("/usr/bin/curl", "-sf", "--unix-socket", f->sock,
                            "http://localhost/v1/keys/server.prt"));
    expect_code(&c, 22, "curl -f GET a missing key");
    cmd_result_free(&c);

    /* POST with curl, and the headers it sees. */
    c = run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV("/usr/bin/curl", "-sS", "-i", "-X", "POST", "--unix-socket", f->sock,
                            "http://localhost/v1/reload"));
    expect_code(&c, 0, "curl POST /v1/reload");
    expect_contains(c.out, "HTTP/1.1 200", "curl -i POST /v1/reload");
    assert_non_null(strcasestr(c.out, "\r\ncontent-type: application/json"));
    expect_contains(c.out, "\"published\"", "curl POST /v1/reload");
    cmd_result_free(&c);

    c = run_cmd_env(
        f, NULL, DT_WAIT_MS,
        DT_ARGV("/usr/bin/curl", "-sS", "--unix-socket", f->sock, "http://localhost/metrics"));
    expect_code(&c, 0, "curl GET /metrics");
    expect_contains(c.out, "\nsnapconf_generation ", "curl GET /metrics");
    cmd_result_free(&c);

    dt_stop(f);
}

int main(int argc, char **argv)
{
    dt_global_init_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_values, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_keys_collections, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_keys_errors, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_types, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_awkward_keys, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_big_config, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_snapshot, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_status, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_reload, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_metrics, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_methods_and_endpoints, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_curl_unix_socket, dt_setup, dt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
