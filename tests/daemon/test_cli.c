/*
 * The snapconf CLI against a running snapconfd: get, dump, status, reload,
 * watch and check, with their exit codes (0 ok, 1 not found, 2 usage,
 * 3 daemon unreachable, 4 config invalid).  The CLI finds the daemon
 * through $SNAPCONF_SOCKET (run_cli), through --socket, or through the
 * default under $RUNTIME_DIRECTORY.
 */
#include "dtest.h"

/* `snapconf get PATH` through the daemon prints exactly what
 * `snapconf get --file FILE PATH` prints. */
static void expect_get_like_file(const struct dfx *f, const char *path, bool json)
{
    struct cmd_result d =
        json ? run_cli(f, "get", "--json", (char *)path) : run_cli(f, "get", (char *)path);
    char what[256];
    snprintf(what, sizeof what, "snapconf get %s%s (daemon)", json ? "--json " : "", path);
    expect_code(&d, 0, what);
    struct cmd_result file =
        json ? run_cli(f, "get", "--json", "--file", (char *)f->conf, (char *)path)
             : run_cli(f, "get", "--file", (char *)f->conf, (char *)path);
    expect_code(&file, 0, "snapconf get --file");
    if (strcmp(d.out, file.out) != 0)
        fail_msg("%s printed:\n%s\nbut get --file printed:\n%s", what, d.out, file.out);
    if (d.err[0])
        fail_msg("%s wrote to stderr: %s", what, d.err);
    cmd_result_free(&d);
    cmd_result_free(&file);
}

static void test_get(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct cmd_result r = run_cli(f, "get", "server.port");
    expect_code(&r, 0, "snapconf get server.port");
    assert_string_equal(r.out, "8080\n");
    cmd_result_free(&r);

    const char *paths[] = {"service.name",
                           "service.version",
                           "database.primary.connect_timeout_s",
                           "logging.sample_rate",
                           "server.tls.enabled",
                           "features.beta_testers",
                           "features.recommendations",
                           "server.max_body_bytes",
                           "database.replica.port",
                           "labels.\"app.kubernetes.io/name\"",
                           "upstreams[1].name",
                           "motd",
                           "server.tls",
                           "logging.outputs",
                           "upstreams[0]",
                           ""};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        expect_get_like_file(f, paths[i], false);
        expect_get_like_file(f, paths[i], true);
    }

    /* It follows edits. */
    long long g = dt_generation(f);
    dt_sed_i(f, "s/port: 8080/port: 9090/");
    dt_expect_exactly(f, g + 1);
    r = run_cli(f, "get", "server.port");
    expect_code(&r, 0, "snapconf get server.port after an edit");
    assert_string_equal(r.out, "9090\n");
    cmd_result_free(&r);

    /* --socket instead of the environment. */
    r = run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV((char *)dt_cli(), "get", "--socket", f->sock, "server.workers"));
    expect_code(&r, 0, "snapconf get --socket SOCK");
    assert_string_equal(r.out, "4\n");
    cmd_result_free(&r);

    dt_stop(f);
}

/* Every kind of value prints the same through the daemon as from the file
 * (the daemon hands the CLI JSON; the file path renders nodes). */
static void test_get_types(void **state)
{
    struct dfx *f = *state;
    char *types = live_slurp(CLI_FIXTURES "/types.yaml", NULL);
    char *floats = live_slurp(CLI_FIXTURES "/floats.yaml", NULL);
    char *both = NULL;
    assert_true(asprintf(&both, "%sfloats:\n  %s", types, floats) > 0);
    /* floats.yaml indented under "floats:". */
    struct dt_buf b = {0};
    for (const char *p = both; *p; p++) {
        dt_buf_add(&b, p, 1);
        if (*p == '\n' && p > both + strlen(types) && p[1])
            dt_buf_add(&b, "  ", 2);
    }
    live_put_trunc(f->conf, b.p);
    free(b.p);
    free(both);
    free(types);
    free(floats);
    dt_start(f);

    const char *paths[] = {"strings.port_text",
                           "strings.bool_text",
                           "strings.null_text",
                           "strings.tilde_text",
                           "strings.empty",
                           "strings.inf_text",
                           "strings.hex_text",
                           "strings.on_plain",
                           "strings.nul_byte",
                           "strings.leading_space",
                           "strings.unicode",
                           "strings.multiline",
                           "strings.no_trailing_newline",
                           "strings.tagged",
                           "strings",
                           "numbers.zero",
                           "numbers.big",
                           "numbers.small",
                           "numbers.octal",
                           "numbers.three",
                           "numbers.tenth",
                           "numbers.huge",
                           "numbers.neg_zero",
                           "numbers.inf",
                           "numbers.neg_inf",
                           "numbers.nan",
                           "numbers",
                           "others.nothing",
                           "others.empty_map",
                           "others.empty_seq",
                           "others.nested",
                           "others",
                           "keys.\"a.b\"",
                           "keys.\"\"",
                           "keys.\"8080\"",
                           "anchors.merged",
                           "anchors",
                           "floats.third",
                           "floats.sum",
                           "floats.neg_zero",
                           "floats"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        expect_get_like_file(f, paths[i], false);
        expect_get_like_file(f, paths[i], true);
    }
    dt_stop(f);
}

static void test_get_errors(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    /* 1: not found, with the path named and a suggestion. */
    struct cmd_result r = run_cli(f, "get", "server.prt");
    expect_code(&r, 1, "snapconf get server.prt");
    assert_string_equal(r.out, "");
    expect_contains(r.err, "server.prt", "get server.prt stderr");
    cmd_result_free(&r);
    r = run_cli(f, "get", "upstreams[7].name");
    expect_code(&r, 1, "snapconf get upstreams[7].name");
    cmd_result_free(&r);

    /* 2: a malformed path, with its column. */
    r = run_cli(f, "get", "server..port");
    expect_code(&r, 2, "snapconf get server..port");
    assert_string_equal(r.out, "");
    expect_contains(r.err, "column", "get server..port stderr");
    cmd_result_free(&r);
    r = run_cli(f, "get", "labels.\"app");
    expect_code(&r, 2, "snapconf get labels.\"app");
    cmd_result_free(&r);

    /* 2: usage errors. */
    r = run_cli(f, "get");
    expect_code(&r, 2, "snapconf get (no PATH)");
    cmd_result_free(&r);
    r = run_cli(f, "get", "--bogus", "server.port");
    expect_code(&r, 2, "snapconf get --bogus");
    cmd_result_free(&r);

    dt_expect_running(f);
    dt_stop(f);
}

static void test_dump(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct cmd_result d = run_cli(f, "dump");
    expect_code(&d, 0, "snapconf dump");
    struct cmd_result file = run_cli(f, "dump", "--file", f->conf);
    expect_code(&file, 0, "snapconf dump --file");
    json_t *a = json_loads(d.out, DT_JSON_FLAGS, NULL);
    json_t *b = json_loads(file.out, DT_JSON_FLAGS, NULL);
    if (!a || !json_equal(a, b))
        fail_msg("snapconf dump printed:\n%s\nwhich is not the config:\n%s", d.out, file.out);
    json_decref(a);
    cmd_result_free(&d);

    d = run_cli(f, "dump", "--format", "json");
    expect_code(&d, 0, "snapconf dump --format json");
    a = json_loads(d.out, DT_JSON_FLAGS, NULL);
    assert_true(a && json_equal(a, b));
    json_decref(a);
    cmd_result_free(&d);

    /* YAML: byte for byte what dump --file prints, and it loads back
     * (with dump --file) to the same config. */
    d = run_cli(f, "dump", "--format", "yaml");
    expect_code(&d, 0, "snapconf dump --format yaml");
    struct cmd_result file_yaml = run_cli(f, "dump", "--format", "yaml", "--file", f->conf);
    expect_code(&file_yaml, 0, "snapconf dump --format yaml --file");
    if (strcmp(d.out, file_yaml.out) != 0)
        fail_msg("dump --format yaml printed:\n%s\nbut with --file:\n%s", d.out, file_yaml.out);
    cmd_result_free(&file_yaml);
    char yaml[PATH_MAX];
    dt_path(yaml, f, "dumped.yaml");
    live_put_trunc(yaml, d.out);
    cmd_result_free(&d);
    d = run_cli(f, "dump", "--file", yaml);
    expect_code(&d, 0, "snapconf dump --file dumped.yaml");
    a = json_loads(d.out, DT_JSON_FLAGS, NULL);
    if (!a || !json_equal(a, b))
        fail_msg("the YAML dump reads back as:\n%s\nnot as the config:\n%s", d.out, file.out);
    json_decref(a);
    cmd_result_free(&d);
    json_decref(b);
    cmd_result_free(&file);

    d = run_cli(f, "dump", "--format", "xml");
    expect_code(&d, 2, "snapconf dump --format xml");
    cmd_result_free(&d);

    /* What JSON cannot carry (tags, .inf, .nan) survives a YAML dump
     * through the daemon as it does from the file. */
    long long g = dt_generation(f);
    live_put_rename(f->conf, "a: .inf\nb: -.inf\nc: .nan\nd: !custom tagged\ne: !!str 12\n"
                             "f: [1, '2', ~]\n");
    dt_expect_exactly(f, g + 1);
    d = run_cli(f, "dump", "--format", "yaml");
    expect_code(&d, 0, "snapconf dump --format yaml (tags and .inf)");
    file_yaml = run_cli(f, "dump", "--format", "yaml", "--file", f->conf);
    expect_code(&file_yaml, 0, "snapconf dump --format yaml --file (tags and .inf)");
    assert_non_null(strstr(file_yaml.out, "!custom"));
    if (strcmp(d.out, file_yaml.out) != 0)
        fail_msg("dump --format yaml printed:\n%s\nbut with --file:\n%s", d.out, file_yaml.out);
    cmd_result_free(&file_yaml);
    cmd_result_free(&d);

    dt_stop(f);
}

static void test_status(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    json_t *s = dt_status(f);
    long long g = jint(s, "generation");
    json_decref(s);

    struct cmd_result r = run_cli(f, "status");
    expect_code(&r, 0, "snapconf status");
    char gen[32];
    snprintf(gen, sizeof gen, "%lld", g);
    expect_contains(r.out, f->conf, "snapconf status names the config");
    expect_contains(r.out, gen, "snapconf status shows the generation");
    cmd_result_free(&r);

    r = run_cli(f, "status", "--json");
    expect_code(&r, 0, "snapconf status --json");
    json_t *j = json_loads(r.out, DT_JSON_FLAGS, NULL);
    if (!json_is_object(j))
        fail_msg("snapconf status --json is not a JSON object: %s", r.out);
    assert_int_equal(jint(j, "generation"), g);
    assert_string_equal(jstr(j, "source"), f->conf);
    assert_true(json_is_true(json_object_get(j, "last_reload_ok")));
    json_decref(j);
    cmd_result_free(&r);

    /* A failed reload shows, with its position. */
    int lines = dt_count_lines(f->conf);
    live_put_append(f->conf, "service:\n  name: dup\n"); /* duplicate key */
    assert_int_equal(dt_wait_status_int(f, "failed_reloads", 1, DT_WAIT_MS), 1);
    r = run_cli(f, "status", "--json");
    expect_code(&r, 0, "snapconf status --json after a failed reload");
    j = json_loads(r.out, DT_JSON_FLAGS, NULL);
    assert_true(json_is_object(j));
    assert_true(json_is_false(json_object_get(j, "last_reload_ok")));
    assert_int_equal(jint(json_object_get(j, "last_error"), "line"), lines + 1);
    json_decref(j);
    cmd_result_free(&r);
    r = run_cli(f, "status");
    expect_code(&r, 0, "snapconf status after a failed reload");
    char pos[64];
    snprintf(pos, sizeof pos, ":%d:1", lines + 1);
    expect_contains(r.out, pos, "snapconf status shows the error's position");
    cmd_result_free(&r);
    /* The old config still serves. */
    r = run_cli(f, "get", "service.name");
    expect_code(&r, 0, "snapconf get after a failed reload");
    assert_string_equal(r.out, "checkout\n");
    cmd_result_free(&r);

    dt_stop(f);
}

static void test_reload(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);

    /* Unchanged, then changed (the watcher cannot see the open-fd write). */
    struct cmd_result r = run_cli(f, "reload");
    expect_code(&r, 0, "snapconf reload (unchanged)");
    cmd_result_free(&r);
    int fd = overwrite_unnoticed(f, "workers: 4", "workers: 7");
    r = run_cli(f, "reload");
    expect_code(&r, 0, "snapconf reload (changed)");
    char gen[32];
    snprintf(gen, sizeof gen, "%lld", g + 1);
    expect_contains(r.out, gen, "snapconf reload prints the new generation");
    cmd_result_free(&r);
    assert_int_equal(dt_int_value(f, "server.workers"), 7);

    r = run_cli(f, "reload", "--json");
    expect_code(&r, 0, "snapconf reload --json");
    json_t *j = json_loads(r.out, DT_JSON_FLAGS, NULL);
    if (!json_is_object(j))
        fail_msg("snapconf reload --json is not a JSON object: %s", r.out);
    assert_int_equal(jint(j, "generation"), g + 1);
    json_decref(j);
    cmd_result_free(&r);

    /* 4: invalid, with FILE:LINE:COLUMN; the old config keeps serving. */
    assert_int_equal(close(fd), 0);
    int lines = dt_count_lines(f->conf);
    fd = open(f->conf, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    const char dup[] = "server:\n  port: 1\n";
    assert_int_equal(write(fd, dup, sizeof dup - 1), (ssize_t)(sizeof dup - 1));
    r = run_cli(f, "reload");
    expect_code(&r, 4, "snapconf reload (invalid)");
    char pos[PATH_MAX + 32];
    snprintf(pos, sizeof pos, "%s:%d:1", f->conf, lines + 1);
    expect_contains(r.err, pos, "snapconf reload names the error's position");
    cmd_result_free(&r);
    assert_int_equal(dt_int_value(f, "server.workers"), 7);
    assert_int_equal(close(fd), 0);

    /* 4 when the file is gone, naming it. */
    assert_int_equal(unlink(f->conf), 0);
    r = run_cli(f, "reload");
    expect_code(&r, 4, "snapconf reload (file deleted)");
    expect_contains(r.err, f->conf, "snapconf reload (file deleted)");
    cmd_result_free(&r);
    assert_int_equal(dt_int_value(f, "server.workers"), 7);

    dt_stop(f);
}

/* Reads the file at path until it holds needle (or the timeout passes);
 * returns its content. */
static char *wait_file_contains(const char *path, const char *needle, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    for (;;) {
        char *text = live_slurp(path, NULL);
        if (strstr(text, needle) || live_now_ms() >= end)
            return text;
        free(text);
        live_sleep_ms(5);
    }
}

/* The first line of text that contains needle, into out; false if none. */
static bool line_with(const char *text, const char *needle, char *out, size_t size)
{
    const char *hit = strstr(text, needle);
    if (!hit)
        return false;
    const char *bol = hit;
    while (bol > text && bol[-1] != '\n')
        bol--;
    const char *eol = strchr(hit, '\n');
    size_t len = eol ? (size_t)(eol - bol) : strlen(bol);
    snprintf(out, size, "%.*s", (int)len, bol);
    return true;
}

static void stop_watch(pid_t pid, const char *what)
{
    assert_int_equal(kill(pid, SIGINT), 0);
    int st;
    if (!dt_wait_exit(pid, &st, DT_WAIT_MS)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("%s did not stop on SIGINT", what);
    }
    /* Interrupted is how watch ends: exit 0 ('snapconf watch --help'). */
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char buf[64];
        fail_msg("%s after SIGINT: %s", what, dt_describe_status(buf, sizeof buf, st));
    }
}

static void test_watch(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);

    char out[PATH_MAX], err[PATH_MAX], pout[PATH_MAX], perr[PATH_MAX];
    dt_path(out, f, "watch.out");
    dt_path(err, f, "watch.err");
    dt_path(pout, f, "watch-prefix.out");
    dt_path(perr, f, "watch-prefix.err");
    char var[PATH_MAX + 32];
    snprintf(var, sizeof var, "SNAPCONF_SOCKET=%s", f->sock);
    const char *env[] = {var, NULL};
    pid_t all = dt_spawn(DT_ARGV((char *)dt_cli(), "watch"), env, out, err);
    pid_t logging = dt_spawn(DT_ARGV((char *)dt_cli(), "watch", "logging"), env, pout, perr);
    if (dt_wait_watchers(f, 2, DT_WAIT_MS) != 2)
        fail_msg("two snapconf watch did not connect; stderr: %s", live_slurp(err, NULL));

    dt_sed_i(f, "s/port: 8080/port: 9090/");
    dt_expect_exactly(f, g + 1);
    dt_sed_i(f, "s/level: info/level: debug/");
    dt_expect_exactly(f, g + 2);

    /* One line per changed path: generation, path, old -> new. */
    char *text = wait_file_contains(out, "logging.level", DT_WAIT_MS);
    char l[512], want_gen[32];
    if (!line_with(text, "server.port", l, sizeof l))
        fail_msg("snapconf watch printed no line for server.port:\n%s\nstderr: %s", text,
                 live_slurp(err, NULL));
    expect_contains(l, "8080 -> 9090", "the watch line for server.port");
    snprintf(want_gen, sizeof want_gen, "%lld", g + 1);
    expect_contains(l, want_gen, "the watch line for server.port");
    if (!line_with(text, "logging.level", l, sizeof l))
        fail_msg("snapconf watch printed no line for logging.level:\n%s", text);
    expect_contains(l, "info", "the watch line for logging.level");
    expect_contains(l, " -> ", "the watch line for logging.level");
    expect_contains(strstr(l, " -> "), "debug", "the watch line for logging.level");
    snprintf(want_gen, sizeof want_gen, "%lld", g + 2);
    expect_contains(l, want_gen, "the watch line for logging.level");
    /* In order. */
    assert_true(strstr(text, "server.port") < strstr(text, "logging.level"));
    free(text);

    /* The prefixed watch saw only logging. */
    text = wait_file_contains(pout, "logging.level", DT_WAIT_MS);
    expect_contains(text, "logging.level", "snapconf watch logging");
    if (strstr(text, "server.port"))
        fail_msg("snapconf watch logging printed a server.port change:\n%s", text);
    free(text);

    /* Usage errors: a malformed prefix, a bad --since. */
    struct cmd_result u = run_cli(f, "watch", "server..port");
    expect_code(&u, 2, "snapconf watch server..port");
    cmd_result_free(&u);
    u = run_cli(f, "watch", "--since", "abc");
    expect_code(&u, 2, "snapconf watch --since abc");
    cmd_result_free(&u);

    stop_watch(all, "snapconf watch");
    stop_watch(logging, "snapconf watch logging");
    assert_int_equal(dt_wait_watchers(f, 0, DT_WAIT_MS), 0);

    /* --since replays what came after a generation. */
    char sout[PATH_MAX], since[32];
    dt_path(sout, f, "watch-since.out");
    snprintf(since, sizeof since, "%lld", g);
    pid_t replay = dt_spawn(DT_ARGV((char *)dt_cli(), "watch", "--since", since), env, sout, err);
    text = wait_file_contains(sout, "logging.level", DT_WAIT_MS);
    expect_contains(text, "server.port", "snapconf watch --since");
    expect_contains(text, "logging.level", "snapconf watch --since");
    free(text);
    stop_watch(replay, "snapconf watch --since");
    dt_stop(f);
}

/* The watch ends with exit 3 when the daemon goes away, naming it; --json
 * prints the daemon's events as JSON lines. */
static void test_watch_daemon_stops(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);
    char out[PATH_MAX], err[PATH_MAX], var[PATH_MAX + 32];
    dt_path(out, f, "watch.out");
    dt_path(err, f, "watch.err");
    snprintf(var, sizeof var, "SNAPCONF_SOCKET=%s", f->sock);
    const char *env[] = {var, NULL};
    pid_t pid = dt_spawn(DT_ARGV((char *)dt_cli(), "watch", "--json"), env, out, err);
    assert_int_equal(dt_wait_watchers(f, 1, DT_WAIT_MS), 1);
    dt_sed_i(f, "s/port: 8080/port: 9090/");
    char *text = wait_file_contains(out, "\n", DT_WAIT_MS);
    json_t *j = json_loads(text, JSON_DISABLE_EOF_CHECK | DT_JSON_FLAGS, NULL);
    if (!json_is_object(j))
        fail_msg("snapconf watch --json printed no JSON object: %s", text);
    assert_int_equal(jint(j, "generation"), g + 1);
    assert_non_null(sse_change_at(j, "server.port"));
    json_decref(j);
    free(text);

    dt_stop(f);
    int st;
    if (!dt_wait_exit(pid, &st, DT_WAIT_MS)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("snapconf watch did not end when the daemon stopped");
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 3) {
        char buf[64];
        fail_msg("snapconf watch when the daemon stopped: %s, want exit 3",
                 dt_describe_status(buf, sizeof buf, st));
    }
    text = live_slurp(err, NULL);
    expect_contains(text, f->sock, "snapconf watch names the socket when the daemon stops");
    free(text);
}

/* snapconf watch --since a generation the daemon no longer remembers says
 * on stderr to re-read the configuration, and goes on watching. */
static void test_watch_since_resync(void **state)
{
    struct dfx *f = *state;
    live_put_trunc(f->conf, "v: 0\n");
    dt_start(f);
    long long g0 = dt_generation(f);
    for (int i = 1; i <= 270; i++) {
        char text[32];
        snprintf(text, sizeof text, "v: %d\n", i);
        live_put_rename(f->conf, text);
        struct http_resp r = http_req(f->sock, "POST", "/v1/reload");
        expect_status(&r, 200, "POST /v1/reload");
        http_resp_free(&r);
    }
    char out[PATH_MAX], err[PATH_MAX], var[PATH_MAX + 32], since[32];
    dt_path(out, f, "watch.out");
    dt_path(err, f, "watch.err");
    snprintf(var, sizeof var, "SNAPCONF_SOCKET=%s", f->sock);
    snprintf(since, sizeof since, "%lld", g0);
    const char *env[] = {var, NULL};
    pid_t pid = dt_spawn(DT_ARGV((char *)dt_cli(), "watch", "--since", since), env, out, err);
    assert_int_equal(dt_wait_watchers(f, 1, DT_WAIT_MS), 1);
    char *text = wait_file_contains(err, "re-read", DT_WAIT_MS);
    if (!strstr(text, "re-read"))
        fail_msg("snapconf watch --since %s (270 publications ago) said nothing of a resync on "
                 "stderr: %s",
                 since, text);
    free(text);
    live_put_rename(f->conf, "v: 1000\n");
    text = wait_file_contains(out, "1000", DT_WAIT_MS);
    expect_contains(text, "270 -> 1000", "snapconf watch after a resync");
    free(text);
    stop_watch(pid, "snapconf watch --since");
    dt_stop(f);
}

/* The completion helper lists the same paths from the daemon as from the
 * file. */
static void test_paths(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    struct cmd_result d = run_cli(f, "paths");
    expect_code(&d, 0, "snapconf paths");
    struct cmd_result file = run_cli(f, "paths", "--file", (char *)f->conf);
    expect_code(&file, 0, "snapconf paths --file");
    if (strcmp(d.out, file.out) != 0)
        fail_msg("snapconf paths printed:\n%s\nbut paths --file printed:\n%s", d.out, file.out);
    expect_contains(d.out, "labels.\"app.kubernetes.io/name\"\n", "snapconf paths");
    cmd_result_free(&d);
    cmd_result_free(&file);
    d = run_cli(f, "paths", "--complete", "server.t");
    expect_code(&d, 0, "snapconf paths --complete server.t");
    assert_string_equal(d.out, "server.tls.\n");
    cmd_result_free(&d);
    dt_stop(f);
}

static void test_check(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct cmd_result r = run_cli(f, "check", f->conf);
    expect_code(&r, 0, "snapconf check FILE");
    expect_contains(r.out, "OK", "snapconf check FILE");
    cmd_result_free(&r);

    char bad[PATH_MAX];
    dt_path(bad, f, "bad.yaml");
    live_put_trunc(bad, "a: 1\nb: [2, 3\n");
    r = run_cli(f, "check", bad);
    expect_code(&r, 4, "snapconf check BAD");
    char want[PATH_MAX + 8];
    snprintf(want, sizeof want, "%s:", bad);
    expect_contains(r.err, want, "snapconf check BAD names the file");
    cmd_result_free(&r);

    r = run_cli(f, "check", "--file", f->conf);
    expect_code(&r, 0, "snapconf check --file FILE");
    cmd_result_free(&r);

    /* Without FILE: whether the daemon's latest load succeeded. */
    r = run_cli(f, "check");
    expect_code(&r, 0, "snapconf check (daemon, valid)");
    expect_contains(r.out, f->conf, "snapconf check (daemon, valid)");
    cmd_result_free(&r);
    int lines = dt_count_lines(f->conf);
    live_put_append(f->conf, "server:\n  port: 1\n");
    assert_int_equal(dt_wait_status_int(f, "failed_reloads", 1, DT_WAIT_MS), 1);
    r = run_cli(f, "check");
    expect_code(&r, 4, "snapconf check (daemon, failed load)");
    char pos[PATH_MAX + 32];
    snprintf(pos, sizeof pos, "%s:%d:1", f->conf, lines + 1);
    expect_contains(r.err, pos, "snapconf check (daemon, failed load)");
    cmd_result_free(&r);
    r = run_cli(f, "check", "--json");
    expect_code(&r, 4, "snapconf check --json (daemon, failed load)");
    json_t *j = json_loads(r.out, DT_JSON_FLAGS, NULL);
    if (!json_is_object(j))
        fail_msg("snapconf check --json is not a JSON object: %s", r.out);
    assert_true(json_is_false(json_object_get(j, "valid")));
    assert_int_equal(jint(json_object_get(j, "error"), "line"), lines + 1);
    json_decref(j);
    cmd_result_free(&r);

    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* No daemon                                                                  */

static void expect_unreachable(const struct dfx *f, const char *sock, char *const argv[],
                               const char *what)
{
    struct cmd_result r = run_cli_env(f, sock, argv);
    expect_code(&r, 3, what);
    expect_contains(r.err, sock, what);
    assert_string_equal(r.out, "");
    cmd_result_free(&r);
}

static void test_unreachable(void **state)
{
    struct dfx *f = *state;
    char none[PATH_MAX], stale[PATH_MAX];
    dt_path(none, f, "none.sock");
    /* A socket file nobody listens on (bound, then closed). */
    dt_path(stale, f, "stale.sock");
    dt_make_dead_socket(stale);

    const char *socks[] = {none, stale};
    for (int i = 0; i < 2; i++) {
        const char *s = socks[i];
        expect_unreachable(f, s, DT_ARGV((char *)dt_cli(), "get", "server.port"), "get");
        expect_unreachable(f, s, DT_ARGV((char *)dt_cli(), "dump"), "dump");
        expect_unreachable(f, s, DT_ARGV((char *)dt_cli(), "status"), "status");
        expect_unreachable(f, s, DT_ARGV((char *)dt_cli(), "reload"), "reload");
        expect_unreachable(f, s, DT_ARGV((char *)dt_cli(), "watch"), "watch");
        expect_unreachable(f, s, DT_ARGV((char *)dt_cli(), "check"), "check");
    }

    /* A path too long for a socket, and a regular file: unreachable too. */
    char longpath[300], regular[PATH_MAX];
    memset(longpath, 'x', sizeof longpath);
    memcpy(longpath, "/tmp/", 5);
    memcpy(longpath + sizeof longpath - 6, ".sock", 6);
    expect_unreachable(f, longpath, DT_ARGV((char *)dt_cli(), "get", "server.port"),
                       "get with a socket path too long");
    dt_path(regular, f, "regular");
    live_put_trunc(regular, "not a socket\n");
    expect_unreachable(f, regular, DT_ARGV((char *)dt_cli(), "status"), "status on a file");

    /* --socket names it too. */
    struct cmd_result r =
        run_cmd_env(f, NULL, DT_WAIT_MS, DT_ARGV((char *)dt_cli(), "status", "--socket", none));
    expect_code(&r, 3, "status --socket NONE");
    expect_contains(r.err, none, "status --socket NONE");
    cmd_result_free(&r);

    /* The default socket under $RUNTIME_DIRECTORY. */
    char var[PATH_MAX + 32], want[PATH_MAX];
    snprintf(var, sizeof var, "RUNTIME_DIRECTORY=%s", f->dir);
    dt_path(want, f, "snapconf.sock");
    const char *env[] = {var, "SNAPCONF_SOCKET", NULL};
    r = run_cmd_env(f, env, DT_WAIT_MS, DT_ARGV((char *)dt_cli(), "get", "server.port"));
    expect_code(&r, 3, "get with the default socket");
    expect_contains(r.err, want, "get with the default socket");
    cmd_result_free(&r);

    /* The file commands need no daemon. */
    r = run_cli_env(f, none, DT_ARGV((char *)dt_cli(), "get", "--file", f->conf, "server.port"));
    expect_code(&r, 0, "get --file without a daemon");
    assert_string_equal(r.out, "8080\n");
    cmd_result_free(&r);
    r = run_cli_env(f, none, DT_ARGV((char *)dt_cli(), "dump", "--file", f->conf));
    expect_code(&r, 0, "dump --file without a daemon");
    cmd_result_free(&r);
    r = run_cli_env(f, none, DT_ARGV((char *)dt_cli(), "check", f->conf));
    expect_code(&r, 0, "check without a daemon");
    cmd_result_free(&r);
}

/* The daemon and the CLI agree on the default socket. */
static void test_default_socket(void **state)
{
    struct dfx *f = *state;
    char var[PATH_MAX + 32], sock[PATH_MAX];
    snprintf(var, sizeof var, "RUNTIME_DIRECTORY=%s", f->dir);
    dt_path(sock, f, "snapconf.sock");
    const char *env[] = {var, "SNAPCONF_SOCKET", NULL};
    dt_start_opts(f, NULL, env, sock, false);

    struct cmd_result r =
        run_cmd_env(f, env, DT_WAIT_MS, DT_ARGV((char *)dt_cli(), "get", "server.port"));
    expect_code(&r, 0, "get through the default socket");
    assert_string_equal(r.out, "8080\n");
    cmd_result_free(&r);

    dt_stop_sig(f, SIGTERM, sock);
}

int main(int argc, char **argv)
{
    dt_global_init_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_get_types, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_get_errors, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_dump, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_status, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_reload, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_watch, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_daemon_stops, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_watch_since_resync, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_paths, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_check, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_unreachable, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_default_socket, dt_setup, dt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
