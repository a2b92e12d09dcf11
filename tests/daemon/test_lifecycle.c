/*
 * The daemon's life: start-up (the socket's mode and directory, the
 * default and $SNAPCONF_SOCKET), signals (SIGHUP reloads; SIGTERM and
 * SIGINT shut down cleanly, also with clients connected), a second instance
 * on a live socket refused, a stale socket from a killed daemon replaced,
 * and --check.
 */
#include "dtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static void expect_socket_mode(const char *path, mode_t mode)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    assert_true(S_ISSOCK(st.st_mode));
    if ((st.st_mode & 07777) != mode)
        fail_msg("%s has mode %04o, want %04o", path, (unsigned)(st.st_mode & 07777),
                 (unsigned)mode);
}

static void test_sigterm_clean_shutdown(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    expect_socket_mode(f->sock, 0660);
    dt_stop_sig(f, SIGTERM, NULL); /* exit 0, socket removed */
    /* Nothing else was left in the directory: only our files. */
    assert_true(dt_exists(f->conf));
    assert_false(dt_exists(f->sock));
}

static void test_sigint_clean_shutdown(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    dt_stop_sig(f, SIGINT, NULL);
}

/* SIGTERM while a watch stream, a kept-alive connection and an incomplete
 * request are open: still a prompt exit 0, and the socket removed. */
static void test_shutdown_with_clients(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    struct sse w1, w2;
    sse_open(&w1, f->sock, "/v1/watch");
    sse_open(&w2, f->sock, "/v1/watch?prefix=server");
    sse_wait_connected(&w1);
    sse_wait_connected(&w2);
    int partial = raw_connect(f->sock);
    assert_true(raw_send(partial, "GET /v1/status HTTP/1.1\r\n", 25));
    int stuck = raw_connect(f->sock);
    const char req[] = "GET /v1/watch HTTP/1.1\r\nHost: localhost\r\n\r\n";
    assert_true(raw_send(stuck, req, sizeof req - 1));
    assert_int_equal(dt_wait_watchers(f, 3, DT_WAIT_MS), 3);

    int64_t t0 = live_now_ms();
    dt_stop(f);
    int64_t took = live_now_ms() - t0;
    if (took > DT_PROMPT_MS)
        fail_msg("shutdown with clients connected took %lld ms", (long long)took);
    /* The streams ended. */
    struct sse_event ev;
    assert_false(sse_next(&w1, &ev, DT_WAIT_MS));
    assert_true(w1.done);
    assert_true(raw_wait_closed(stuck, DT_WAIT_MS));
    sse_close(&w1);
    sse_close(&w2);
    close(partial);
    close(stuck);
}

/* SIGHUP reloads.  The change is written through an fd that stays open, so
 * the inotify watcher (which reacts to close-after-write and renames) does
 * not see it: only the SIGHUP can have published it. */
static void test_sighup_reloads(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);

    int fd = overwrite_unnoticed(f, "port: 8080", "port: 9292");
    live_sleep_ms(DT_SETTLE_MS);
    if (dt_generation(f) != g)
        fail_msg("precondition: the watcher noticed a write without close");
    assert_int_equal(kill(f->pid, SIGHUP), 0);
    dt_expect_exactly(f, g + 1);
    assert_int_equal(dt_int_value(f, "server.port"), 9292);

    /* Once per change: another SIGHUP, and the watcher seeing the close,
     * publish nothing more. */
    assert_int_equal(kill(f->pid, SIGHUP), 0);
    assert_int_equal(close(fd), 0);
    dt_expect_exactly(f, g + 1);
    json_t *s = dt_status(f);
    assert_true(json_is_true(json_object_get(s, "last_reload_ok")));
    json_decref(s);

    /* sed -i and SIGHUP at once: one generation. */
    dt_sed_i(f, "s/port: 9292/port: 9393/");
    assert_int_equal(kill(f->pid, SIGHUP), 0);
    dt_expect_exactly(f, g + 2);
    assert_int_equal(dt_int_value(f, "server.port"), 9393);

    /* A SIGHUP on a broken file: counted as failed, old config serves, and
     * the daemon lives on. */
    fd = overwrite_unnoticed(f, "port: 9393", "port: [939");
    assert_int_equal(kill(f->pid, SIGHUP), 0);
    assert_int_equal(dt_wait_status_int(f, "failed_reloads", 1, DT_WAIT_MS), 1);
    assert_int_equal(dt_int_value(f, "server.port"), 9393);
    assert_int_equal(close(fd), 0);

    /* Many SIGHUPs in a burst: the daemon survives them. */
    for (int i = 0; i < 50; i++)
        assert_int_equal(kill(f->pid, SIGHUP), 0);
    live_sleep_ms(50);
    dt_expect_running(f);
    assert_int_equal(dt_int_value(f, "server.port"), 9393);
    assert_int_equal(dt_generation(f), g + 2);

    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* The socket                                                                 */

static void test_second_instance_refused(void **state)
{
    struct dfx *f = *state;
    dt_start(f);

    struct cmd_result r = run_cmd_env(
        f, NULL, DT_WAIT_MS,
        DT_ARGV((char *)dt_snapconfd(), "--config", f->conf, "--socket", f->sock, "--foreground"));
    if (r.code == 0 || r.code == -1) {
        char buf[64];
        fail_msg("a second snapconfd on a live socket: %s, want a non-zero exit\nstderr: %s",
                 dt_describe_status(buf, sizeof buf, r.status), r.err);
    }
    expect_contains(r.err, f->sock, "the second instance's message names the socket");
    cmd_result_free(&r);

    /* The first one still owns the socket and serves. */
    expect_socket_mode(f->sock, 0660);
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    dt_expect_running(f);
    dt_stop(f);
}

static void test_stale_socket_replaced(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    assert_int_equal(kill(f->pid, SIGKILL), 0);
    assert_int_equal(waitpid(f->pid, NULL, 0), f->pid);
    f->pid = 0;
    assert_true(dt_exists(f->sock)); /* a killed daemon leaves it */
    assert_false(dt_answers(f->sock));

    dt_start(f);
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    expect_socket_mode(f->sock, 0660);
    dt_stop(f);

    /* A socket file nobody ever listened on is stale too. */
    dt_make_dead_socket(f->sock);
    dt_start(f);
    assert_int_equal(dt_int_value(f, "server.port"), 8080);
    dt_stop(f);
}

/* A regular file at the socket's path is not a stale socket: the daemon
 * refuses to start and leaves the file alone. */
static void test_regular_file_at_socket_path(void **state)
{
    struct dfx *f = *state;
    live_put_trunc(f->sock, "not a socket\n");
    struct cmd_result r = run_cmd_env(
        f, NULL, DT_WAIT_MS,
        DT_ARGV((char *)dt_snapconfd(), "--config", f->conf, "--socket", f->sock, "--foreground"));
    if (r.code == 0 || r.code == -1)
        fail_msg("snapconfd with a regular file at its socket path: exit %d, want non-zero",
                 r.code);
    expect_contains(r.err, f->sock, "the message names the socket");
    cmd_result_free(&r);
    char *text = live_slurp(f->sock, NULL);
    assert_string_equal(text, "not a socket\n");
    free(text);
}

static void test_socket_directory_created(void **state)
{
    struct dfx *f = *state;
    char dir[PATH_MAX];
    dt_path(dir, f, "run");
    dt_path(f->sock, f, "run/snapconf.sock");
    dt_start(f);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    if ((st.st_mode & 07777) != 0750)
        fail_msg("the socket's directory has mode %04o, want 0750", (unsigned)(st.st_mode & 07777));
    expect_socket_mode(f->sock, 0660);
    dt_stop(f);
}

static void test_socket_from_environment(void **state)
{
    struct dfx *f = *state;
    char sock[PATH_MAX], var[PATH_MAX + 32];
    dt_path(sock, f, "env.sock");
    snprintf(var, sizeof var, "SNAPCONF_SOCKET=%s", sock);
    const char *env[] = {var, NULL};
    dt_start_opts(f, NULL, env, sock, false);
    assert_false(dt_exists(f->sock));
    dt_stop_sig(f, SIGTERM, sock);

    /* $RUNTIME_DIRECTORY/snapconf.sock by default. */
    char rt[PATH_MAX];
    snprintf(var, sizeof var, "RUNTIME_DIRECTORY=%s", f->dir);
    dt_path(rt, f, "snapconf.sock");
    const char *env2[] = {var, NULL};
    dt_start_opts(f, NULL, env2, rt, false);
    dt_stop_sig(f, SIGTERM, rt);
}

static void test_socket_mode_option(void **state)
{
    struct dfx *f = *state;
    const char *extra[] = {"--socket-mode", "0600", NULL};
    dt_start_opts(f, extra, NULL, NULL, true);
    expect_socket_mode(f->sock, 0600);
    dt_stop(f);
}

/* Relative --config and --socket, from the directory the daemon was
 * started in: reloads still read the file, and the socket is removed at
 * exit (even if the daemon changed directory meanwhile). */
static void test_relative_paths(void **state)
{
    struct dfx *f = *state;
    snprintf(dt_child_cwd, sizeof dt_child_cwd, "%s", f->dir);
    f->pid = dt_spawn(DT_ARGV((char *)dt_snapconfd(), "--config", "app.yaml", "--socket", "s.sock"),
                      NULL, f->log, f->log);
    int64_t end = live_now_ms() + DT_WAIT_MS;
    while (!dt_answers(f->sock) && live_now_ms() < end) {
        dt_expect_running(f);
        live_sleep_ms(5);
    }
    if (!dt_answers(f->sock))
        fail_msg("snapconfd --socket s.sock (relative) does not answer on %s", f->sock);
    long long g = dt_generation(f);
    dt_sed_i(f, "s/port: 8080/port: 9090/");
    dt_expect_exactly(f, g + 1);
    assert_int_equal(dt_int_value(f, "server.port"), 9090);
    kill(f->pid, SIGHUP);
    struct http_resp r = http_req(f->sock, "POST", "/v1/reload");
    expect_status(&r, 200, "POST /v1/reload (relative config)");
    http_resp_free(&r);
    dt_stop(f);

    /* --check with a relative path names it as given. */
    struct cmd_result c = run_cmd_env(
        f, NULL, DT_WAIT_MS, DT_ARGV((char *)dt_snapconfd(), "--check", "--config", "app.yaml"));
    expect_code(&c, 0, "snapconfd --check --config app.yaml (relative)");
    cmd_result_free(&c);
}

/* Logs: stderr, one line per event, each with its level; a failed reload
 * is logged with its position; --log-level warning drops the info lines. */
static void test_log_lines(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    long long g = dt_generation(f);
    dt_sed_i(f, "s/port: 8080/port: 9090/");
    dt_expect_exactly(f, g + 1);
    int lines = dt_count_lines(f->conf);
    live_put_append(f->conf, "server:\n  port: 1\n");
    assert_int_equal(dt_wait_status_int(f, "failed_reloads", 1, DT_WAIT_MS), 1);
    dt_stop(f);

    char *log = live_slurp(f->log, NULL);
    int n = 0;
    for (char *line = log; line && *line;) {
        char *nl = strchr(line, '\n');
        if (!nl)
            fail_msg("the log's last line is not ended: %s", line);
        *nl = '\0';
        if (strncmp(line, "error ", 6) != 0 && strncmp(line, "warning ", 8) != 0 &&
            strncmp(line, "info ", 5) != 0 && strncmp(line, "debug ", 6) != 0)
            fail_msg("log line without a level: \"%s\"", line);
        *nl = '\n';
        line = nl + 1;
        n++;
    }
    assert_true(n >= 3);
    char pos[PATH_MAX + 32];
    snprintf(pos, sizeof pos, "%s:%d:1", f->conf, lines + 1);
    expect_contains(log, pos, "the log of a failed reload");
    free(log);

    /* Quieter. */
    assert_int_equal(truncate(f->log, 0), 0);
    char *good = dt_example_with("port: 8080", "port: 7070");
    live_put_rename(f->conf, good);
    free(good);
    const char *extra[] = {"--log-level", "warning", NULL};
    dt_start_opts(f, extra, NULL, NULL, true);
    g = dt_generation(f);
    dt_sed_i(f, "s/port: 7070/port: 7171/");
    dt_expect_exactly(f, g + 1);
    dt_stop(f);
    log = live_slurp(f->log, NULL);
    if (strstr(log, "info ") == log || strstr(log, "\ninfo "))
        fail_msg("--log-level warning still logs info lines:\n%s", log);
    free(log);
}

/* ------------------------------------------------------------------------- */
/* Loopback TCP                                                               */

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

static void test_listen_loopback_tcp(void **state)
{
    struct dfx *f = *state;
    int port = free_port();
    char listen[64], url[128];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    const char *extra[] = {"--listen", listen, NULL};
    dt_start_opts(f, extra, NULL, NULL, true);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/keys/server.port", port);
    struct http_resp r;
    if (!http_try_url(NULL, &r, NULL, "GET", url, NULL))
        fail_msg("GET %s: %s", url, r.body);
    expect_status(&r, 200, url);
    assert_int_equal(jint(expect_json(&r, url), "value"), 8080);
    http_resp_free(&r);
    /* The Unix socket serves as well. */
    assert_int_equal(dt_int_value(f, "server.port"), 8080);

    /* A page whose own name resolves to 127.0.0.1 (DNS rebinding) cannot
     * read the configuration. */
    struct curl_slist *h = curl_slist_append(NULL, "Host: attacker.example");
    assert_true(http_try_url(NULL, &r, NULL, "GET", url, h));
    curl_slist_free_all(h);
    if (r.status < 400 || r.status > 499)
        fail_msg("GET with Host: attacker.example over TCP: HTTP %ld, want 4xx", r.status);
    assert_null(strstr(r.body, "8080"));
    http_resp_free(&r);

    dt_stop(f);
    /* The port is closed. */
    assert_false(http_try_url(NULL, &r, NULL, "GET", url, NULL));
    http_resp_free(&r);

    /* Only loopback addresses. */
    snprintf(listen, sizeof listen, "0.0.0.0:%d", port);
    struct cmd_result c = run_cmd_env(f, NULL, DT_WAIT_MS,
                                      DT_ARGV((char *)dt_snapconfd(), "--config", f->conf,
                                              "--socket", f->sock, "--listen", listen));
    if (c.code <= 0)
        fail_msg("snapconfd --listen %s: exit %d, want a refusal", listen, c.code);
    expect_contains(c.err, "0.0.0.0", "the refusal names the address");
    assert_false(dt_exists(f->sock));
    cmd_result_free(&c);
}

/* ------------------------------------------------------------------------- */
/* Under load                                                                 */

static atomic_bool load_stop;
static char load_sock[PATH_MAX];

static void *load_client(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    while (!atomic_load(&load_stop)) {
        struct http_resp r;
        http_try(c, &r, load_sock, "GET", "/v1/snapshot");
        http_resp_free(&r);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* SIGTERM while clients hammer the daemon, watchers stream and the file
 * is being edited: a prompt exit 0 and no socket left. */
static void test_shutdown_under_load(void **state)
{
    struct dfx *f = *state;
    dt_start(f);
    snprintf(load_sock, sizeof load_sock, "%s", f->sock);
    atomic_store(&load_stop, false);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, load_client, NULL), 0);
    struct sse w[3];
    for (int i = 0; i < 3; i++) {
        sse_open(&w[i], f->sock, "/v1/watch");
        sse_wait_connected(&w[i]);
    }
    for (int i = 0; i < 30; i++) {
        char *text = dt_example_with("port: 8080", i % 2 ? "port: 9090" : "port: 9191");
        live_put_rename(f->conf, text);
        free(text);
        if (i % 3 == 0)
            kill(f->pid, SIGHUP);
        live_sleep_ms(3);
    }
    int64_t t0 = live_now_ms();
    pid_t pid = f->pid;
    assert_int_equal(kill(pid, SIGTERM), 0);
    int st;
    bool exited = dt_wait_exit(pid, &st, DT_WAIT_MS);
    int64_t took = live_now_ms() - t0;
    atomic_store(&load_stop, true);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++)
        sse_close(&w[i]);
    if (!exited)
        fail_msg("snapconfd did not exit within %d ms of SIGTERM under load", DT_WAIT_MS);
    f->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char buf[64];
        dt_print_log(f);
        fail_msg("snapconfd under load after SIGTERM: %s, want exit 0",
                 dt_describe_status(buf, sizeof buf, st));
    }
    if (took > DT_PROMPT_MS)
        fail_msg("shutdown under load took %lld ms", (long long)took);
    assert_false(dt_exists(f->sock));
}

/* ------------------------------------------------------------------------- */
/* systemd                                                                    */

#ifdef DT_HAVE_SYSTEMD
/* Type=notify: READY=1 comes once the socket answers, not before. */
static void test_sd_notify_ready(void **state)
{
    struct dfx *f = *state;
    char path[PATH_MAX], var[PATH_MAX + 32];
    dt_path(path, f, "notify.sock");
    int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(nfd, (struct sockaddr *)&a, sizeof a), 0);
    snprintf(var, sizeof var, "NOTIFY_SOCKET=%s", path);
    const char *env[] = {var, NULL};
    f->pid = dt_spawn(DT_ARGV((char *)dt_snapconfd(), "--config", f->conf, "--socket", f->sock),
                      env, f->log, f->log);

    struct dt_buf got = {0};
    int64_t end = live_now_ms() + DT_WAIT_MS;
    while (!(got.p && strstr(got.p, "READY=1")) && live_now_ms() < end) {
        struct pollfd p = {.fd = nfd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        char buf[4096];
        ssize_t n = recv(nfd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            dt_buf_add(&got, buf, (size_t)n);
            dt_buf_add(&got, "\n", 1);
        }
    }
    if (!got.p || !strstr(got.p, "READY=1"))
        fail_msg("no READY=1 on NOTIFY_SOCKET; got: %s", got.p ? got.p : "(nothing)");
    /* Ready means serving. */
    if (!dt_answers(f->sock))
        fail_msg("READY=1 was sent before the socket answered");
    free(got.p);
    dt_stop(f);
    close(nfd);
}

/* Socket activation: a listening socket passed as fd 3 with LISTEN_FDS=1
 * and LISTEN_PID is served; no socket of its own is created; the passed
 * one belongs to systemd and is left in place at exit. */
static void test_socket_activation(void **state)
{
    struct dfx *f = *state;
    char path[PATH_MAX], rt[PATH_MAX], var[PATH_MAX + 32];
    dt_path(path, f, "activated.sock");
    dt_path(rt, f, "snapconf.sock");
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 64), 0);

    snprintf(var, sizeof var, "RUNTIME_DIRECTORY=%s", f->dir);
    const char *changes[] = {var, "LISTEN_FDS=1", "LISTEN_PID=0000000000", NULL};
    char **envp = dt_env(changes);
    char *pidvar = NULL;
    for (size_t i = 0; envp[i]; i++)
        if (strncmp(envp[i], "LISTEN_PID=", 11) == 0)
            pidvar = envp[i] + 11;
    assert_non_null(pidvar);
    int out = open(f->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    char *const argv[] = {(char *)dt_snapconfd(), (char *)"--config", f->conf, NULL};
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* LISTEN_PID is this process's pid: written in place, digits only. */
        pid_t me = getpid();
        char digits[16];
        int n = 0;
        do {
            digits[n++] = (char)('0' + me % 10);
            me /= 10;
        } while (me > 0);
        for (int i = 0; i < n; i++)
            pidvar[i] = digits[n - 1 - i];
        pidvar[n] = '\0';
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (lfd != 3) {
            dup2(lfd, 3);
            close(lfd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out, 1);
        dup2(out, 2);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    f->pid = pid;
    close(out);
    dt_env_free(envp);
    close(lfd);

    int64_t end = live_now_ms() + DT_WAIT_MS;
    while (!dt_answers(path) && live_now_ms() < end) {
        dt_expect_running(f);
        live_sleep_ms(5);
    }
    if (!dt_answers(path))
        fail_msg("snapconfd does not serve the socket passed by socket activation");
    struct http_resp r = http_req(path, "GET", "/v1/keys/server.port");
    expect_status(&r, 200, "GET over the activated socket");
    http_resp_free(&r);
    if (dt_exists(rt))
        fail_msg("with a socket passed by systemd, snapconfd created %s too", rt);
    dt_stop_sig(f, SIGTERM, rt);
    if (!dt_exists(path))
        fail_msg("snapconfd removed the socket systemd passed it");
}
#endif

/* ------------------------------------------------------------------------- */
/* Start-up failures and --check                                             */

static void test_check(void **state)
{
    struct dfx *f = *state;
    struct cmd_result r = run_cmd_env(
        f, NULL, DT_WAIT_MS, DT_ARGV((char *)dt_snapconfd(), "--check", "--config", f->conf));
    expect_code(&r, 0, "snapconfd --check GOOD");
    cmd_result_free(&r);
    assert_false(dt_exists(f->sock));

    /* Broken: exit 4 and FILE:LINE:COLUMN. */
    int lines = dt_count_lines(f->conf);
    live_put_append(f->conf, "server:\n  port: 1\n");
    r = run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV((char *)dt_snapconfd(), "--check", "--config", f->conf));
    expect_code(&r, 4, "snapconfd --check BROKEN");
    char pos[PATH_MAX + 32];
    snprintf(pos, sizeof pos, "%s:%d:1", f->conf, lines + 1);
    if (!strstr(r.err, pos) && !strstr(r.out, pos))
        fail_msg("snapconfd --check BROKEN does not print %s:\nstdout: %s\nstderr: %s", pos, r.out,
                 r.err);
    cmd_result_free(&r);

    /* Missing: 4 too, naming the file. */
    char missing[PATH_MAX];
    dt_path(missing, f, "missing.yaml");
    r = run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV((char *)dt_snapconfd(), "--check", "--config", missing));
    expect_code(&r, 4, "snapconfd --check MISSING");
    if (!strstr(r.err, missing) && !strstr(r.out, missing))
        fail_msg("snapconfd --check MISSING does not name the file: %s", r.err);
    cmd_result_free(&r);
}

static void test_start_with_invalid_config(void **state)
{
    struct dfx *f = *state;
    live_put_trunc(f->conf, "a: 1\nb: [2, 3\n");
    struct cmd_result r = run_cmd_env(
        f, NULL, DT_WAIT_MS,
        DT_ARGV((char *)dt_snapconfd(), "--config", f->conf, "--socket", f->sock, "--foreground"));
    if (r.code == 0 || r.code == -1) {
        char buf[64];
        fail_msg("snapconfd on an invalid config: %s, want a non-zero exit",
                 dt_describe_status(buf, sizeof buf, r.status));
    }
    char want[PATH_MAX + 8];
    snprintf(want, sizeof want, "%s:", f->conf);
    expect_contains(r.err, want, "snapconfd on an invalid config names the file");
    assert_false(dt_exists(f->sock));
    cmd_result_free(&r);

    /* A missing config: the same. */
    char missing[PATH_MAX];
    dt_path(missing, f, "missing.yaml");
    r = run_cmd_env(
        f, NULL, DT_WAIT_MS,
        DT_ARGV((char *)dt_snapconfd(), "--config", missing, "--socket", f->sock, "--foreground"));
    assert_true(r.code > 0);
    expect_contains(r.err, missing, "snapconfd on a missing config names the file");
    assert_false(dt_exists(f->sock));
    cmd_result_free(&r);
}

int main(int argc, char **argv)
{
    dt_global_init_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigterm_clean_shutdown, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_sigint_clean_shutdown, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_with_clients, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_reloads, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_second_instance_refused, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_stale_socket_replaced, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_regular_file_at_socket_path, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_socket_directory_created, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_socket_from_environment, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_socket_mode_option, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_relative_paths, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_log_lines, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_listen_loopback_tcp, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_under_load, dt_setup, dt_teardown),
#ifdef DT_HAVE_SYSTEMD
        cmocka_unit_test_setup_teardown(test_sd_notify_ready, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_socket_activation, dt_setup, dt_teardown),
#endif
        cmocka_unit_test_setup_teardown(test_check, dt_setup, dt_teardown),
        cmocka_unit_test_setup_teardown(test_start_with_invalid_config, dt_setup, dt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
