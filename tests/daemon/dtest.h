/*
 * dtest.h - helpers shared by the snapconfd integration tests (cmocka,
 * the real daemon on a Unix socket in a mkdtemp directory).
 *
 * Each test starts its own "snapconfd --config DIR/app.yaml --socket
 * DIR/s.sock --foreground" (app.yaml a copy of conf/example.yaml unless
 * the test writes its own), waits until the socket answers, and stops it
 * with SIGTERM at the end, asserting that it exits 0 and removed its socket.
 * The daemon's stderr goes to DIR/daemon.log, printed when a test fails
 * with the daemon still running (the teardown finds it alive).
 *
 * Clients:
 *   - http_req(): one request through libcurl (CURLOPT_UNIX_SOCKET_PATH),
 *     the body parsed as JSON when it is JSON;
 *   - sse_*(): a Server-Sent Events stream through the libcurl multi
 *     interface, so the test's own thread pumps it with timeouts;
 *   - raw_*(): bytes over AF_UNIX, for requests no HTTP client would send;
 *   - run_cmd(): a program (the CLI, curl, a second snapconfd) with its
 *     stdout, stderr and exit status.
 *
 * Binary paths come from CMake (SNAPCONFD_PATH, SNAPCONF_CLI_PATH); the
 * environment variables SNAPCONFD and SNAPCONF_CLI override them, to run a
 * test program by hand against other builds.
 *
 * Waiting is polling with a generous timeout (DT_WAIT_MS), which only a
 * failing test reaches; "nothing more happens" waits DT_SETTLE_MS, the
 * library's default debounce (50 ms) plus a margin.  Timing assertions use
 * DT_PROMPT_MS.
 */
#ifndef SNAPCONF_TESTS_DAEMON_DTEST_H
#define SNAPCONF_TESTS_DAEMON_DTEST_H

#include "live.h" /* cmocka, time, temp dirs, writing files like tools do */

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#ifndef SNAPCONFD_PATH
#define SNAPCONFD_PATH "snapconfd"
#endif
#ifndef SNAPCONF_CLI_PATH
#define SNAPCONF_CLI_PATH "snapconf"
#endif
#ifndef EXAMPLE_YAML
#define EXAMPLE_YAML "conf/example.yaml"
#endif
#ifndef CLI_FIXTURES
#define CLI_FIXTURES "tests/cli"
#endif
#ifndef SNAPCONF_PROJECT_VERSION
#define SNAPCONF_PROJECT_VERSION "0.1.0"
#endif

#define DT_WAIT_MS 10000
/* Every JSON the tests parse: any value at the top, NUL bytes in strings
 * (a YAML string may hold one). */
#define DT_JSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define DT_SETTLE_MS 250u
/* What "promptly" means for a request, a reload or a shutdown that must not
 * be held back (by a stuck client, say): far above the milliseconds they
 * take, far below the daemon's 30 s connection timeout, so that a loaded
 * machine does not fail the test and a blocked daemon does. */
#define DT_PROMPT_MS 5000

extern char **environ;

/* The working directory of the children started next, "" for the test's
 * own (reset by dt_setup). */
static char dt_child_cwd[PATH_MAX];

static inline const char *dt_snapconfd(void)
{
    const char *p = getenv("SNAPCONFD");
    return p && *p ? p : SNAPCONFD_PATH;
}

static inline const char *dt_cli(void)
{
    const char *p = getenv("SNAPCONF_CLI");
    return p && *p ? p : SNAPCONF_CLI_PATH;
}

static inline bool dt_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* ------------------------------------------------------------------------- */
/* Fixture                                                                    */

struct dfx {
    char dir[256];
    char conf[PATH_MAX]; /* DIR/app.yaml */
    char sock[PATH_MAX]; /* DIR/s.sock */
    char log[PATH_MAX];  /* DIR/daemon.log: the daemon's stdout and stderr */
    pid_t pid;           /* the running daemon, 0 when none */
};

static inline void dt_copy_file(const char *from, const char *to)
{
    char *text = live_slurp(from, NULL);
    live_put_trunc(to, text);
    free(text);
}

static inline int dt_setup(void **state)
{
    struct dfx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/snapconfd-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->conf, sizeof f->conf, "%s/app.yaml", f->dir);
    snprintf(f->sock, sizeof f->sock, "%s/s.sock", f->dir);
    snprintf(f->log, sizeof f->log, "%s/daemon.log", f->dir);
    dt_copy_file(EXAMPLE_YAML, f->conf);
    dt_child_cwd[0] = '\0';
    *state = f;
    return 0;
}

static inline void dt_print_log(const struct dfx *f)
{
    FILE *fp = fopen(f->log, "r");
    if (!fp)
        return;
    fprintf(stderr, "---- %s (last 40 lines) ----\n", f->log);
    char *lines[40] = {0};
    size_t n = 0;
    char buf[1024];
    while (fgets(buf, sizeof buf, fp)) {
        free(lines[n % 40]);
        lines[n % 40] = strdup(buf);
        n++;
    }
    for (size_t i = n > 40 ? n - 40 : 0; i < n; i++) {
        fputs(lines[i % 40], stderr);
        free(lines[i % 40]);
        lines[i % 40] = NULL;
    }
    fprintf(stderr, "---- end of daemon log ----\n");
    fclose(fp);
}

static inline int dt_teardown(void **state)
{
    struct dfx *f = *state;
    if (f->pid > 0) {
        /* The test failed with the daemon running: show what it said. */
        kill(f->pid, SIGKILL);
        waitpid(f->pid, NULL, 0);
        dt_print_log(f);
    }
    live_rm_rf(f->dir);
    free(f);
    return 0;
}

/* DIR/name into out (PATH_MAX bytes). */
static inline char *dt_path(char *out, const struct dfx *f, const char *name)
{
    return live_join(out, f->dir, name);
}

/* ------------------------------------------------------------------------- */
/* Processes                                                                  */

/*
 * An environment for a child: the current one, with each "NAME=VALUE" of
 * changes set and each bare "NAME" removed.  The array and its strings are
 * malloc'd; free with dt_env_free().
 */
static inline char **dt_env(const char *const *changes)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    while (changes && changes[k])
        k++;
    char **env = calloc(n + k + 1, sizeof *env);
    assert_non_null(env);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool overridden = false;
        for (size_t j = 0; j < k; j++) {
            const char *ceq = strchr(changes[j], '=');
            size_t clen = ceq ? (size_t)(ceq - changes[j]) : strlen(changes[j]);
            if (clen == len && strncmp(changes[j], environ[i], len) == 0)
                overridden = true;
        }
        if (!overridden)
            env[out++] = strdup(environ[i]);
    }
    for (size_t j = 0; j < k; j++) {
        if (strchr(changes[j], '='))
            env[out++] = strdup(changes[j]);
    }
    env[out] = NULL;
    return env;
}

static inline void dt_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/*
 * Starts argv[0] with stdin from /dev/null, stdout and stderr to the given
 * files (appended; NULL: /dev/null) and the environment changed by env
 * (see dt_env; NULL: unchanged).  Returns the pid.
 */
static inline pid_t dt_spawn(char *const argv[], const char *const *env, const char *out_path,
                             const char *err_path)
{
    char **envp = dt_env(env);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out =
        open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int err =
        open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    assert_true(in >= 0 && out >= 0 && err >= 0);
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Only async-signal-safe calls from here to exec. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        /* Killed with the test program if that dies without its teardown
         * (an abort, say), so that no daemon outlives a failed run. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(125);
        if (dt_child_cwd[0] && chdir(dt_child_cwd) != 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(in);
    close(out);
    close(err);
    dt_env_free(envp);
    return pid;
}

/* Waits for pid to exit for up to timeout_ms; returns true and its wait
 * status in *status when it did. */
static inline bool dt_wait_exit(pid_t pid, int *status, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return true;
        assert_int_equal(r, 0);
        if (live_now_ms() >= end)
            return false;
        live_sleep_ms(1);
    }
}

static inline char *dt_describe_status(char *buf, size_t size, int status)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "wait status 0x%x", status);
    return buf;
}

struct cmd_result {
    int status; /* wait status */
    int code;   /* exit code, or -1 when it did not exit normally */
    char *out;
    char *err;
};

static inline void cmd_result_free(struct cmd_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/*
 * Runs argv (NULL-terminated) with the environment changes env and waits
 * for it (failing the test after timeout_ms).  Output is captured through
 * files in the fixture's directory.
 */
static inline struct cmd_result run_cmd_env(const struct dfx *f, const char *const *env,
                                            int timeout_ms, char *const argv[])
{
    char out_path[PATH_MAX], err_path[PATH_MAX];
    dt_path(out_path, f, "cmd.out");
    dt_path(err_path, f, "cmd.err");
    unlink(out_path);
    unlink(err_path);
    pid_t pid = dt_spawn(argv, env, out_path, err_path);
    struct cmd_result r;
    memset(&r, 0, sizeof r);
    if (!dt_wait_exit(pid, &r.status, timeout_ms)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("%s %s did not finish within %d ms", argv[0], argv[1] ? argv[1] : "", timeout_ms);
    }
    r.code = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
    r.out = live_slurp(out_path, NULL);
    r.err = live_slurp(err_path, NULL);
    return r;
}

#define DT_ARGV(...) ((char *const[]){__VA_ARGS__, NULL})

/* The CLI with SNAPCONF_SOCKET set to the fixture's socket. */
#define run_cli(f, ...) run_cli_env((f), (f)->sock, DT_ARGV((char *)dt_cli(), __VA_ARGS__))

static inline struct cmd_result run_cli_env(const struct dfx *f, const char *sock,
                                            char *const argv[])
{
    char var[PATH_MAX + 32];
    snprintf(var, sizeof var, "SNAPCONF_SOCKET=%s", sock);
    const char *env[] = {var, NULL};
    return run_cmd_env(f, env, DT_WAIT_MS, argv);
}

/* Fails with the command's output unless it exited with code. */
static inline void expect_code(const struct cmd_result *r, int code, const char *what)
{
    if (r->code != code) {
        char buf[64];
        fail_msg("%s: %s, want exit %d\nstdout: %s\nstderr: %s", what,
                 dt_describe_status(buf, sizeof buf, r->status), code, r->out, r->err);
    }
}

static inline void expect_contains(const char *haystack, const char *needle, const char *what)
{
    if (!strstr(haystack, needle))
        fail_msg("%s: \"%s\" not found in:\n%s", what, needle, haystack);
}

/* ------------------------------------------------------------------------- */
/* Raw AF_UNIX                                                                */

/* A connected stream socket to path, or -1 with errno set.  Non-blocking
 * connect when nonblock (EAGAIN: the listen backlog is full). */
static inline int raw_connect_opt(const char *path, bool nonblock)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    assert_true(fd >= 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* A socket file at path that nobody listens on (bound, then closed), as a
 * killed daemon leaves behind. */
static inline void dt_make_dead_socket(const char *path)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof a.sun_path);
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    close(fd);
}

static inline int raw_connect(const char *path)
{
    int fd = raw_connect_opt(path, false);
    if (fd < 0)
        fail_msg("connect %s: %s", path, strerror(errno));
    return fd;
}

/* Writes everything, or fails; MSG_NOSIGNAL so a dropped connection is an
 * error (returned as false), not a SIGPIPE. */
static inline bool raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/*
 * Reads until the peer closes, or until the bytes read hold a complete
 * response head and (when it has one) a Content-Length body, or until
 * timeout_ms passes.  Returns the bytes (NUL-ended, malloc'd); *closed says
 * whether the peer closed the connection.
 */
static inline char *raw_recv_response(int fd, int timeout_ms, size_t *len, bool *closed)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    int64_t end = live_now_ms() + timeout_ms;
    *closed = false;
    for (;;) {
        buf[n] = '\0';
        char *head_end = strstr(buf, "\r\n\r\n");
        if (head_end) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            if (cl && cl < head_end) {
                size_t want = (size_t)(head_end + 4 - buf) + strtoul(cl + 17, NULL, 10);
                if (n >= want)
                    break;
            }
        }
        int left = (int)(end - live_now_ms());
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r <= 0)
            continue;
        if (n + 4096 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t got = recv(fd, buf + n, cap - n - 1, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            *closed = true;
            break;
        }
        n += (size_t)got;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The status code of a response's status line ("HTTP/1.1 400 ..."), or 0. */
static inline int raw_status(const char *resp)
{
    if (strncmp(resp, "HTTP/1.", 7) != 0 || strlen(resp) < 12)
        return 0;
    return atoi(resp + 9);
}

/* Waits up to timeout_ms for the peer to close fd (reading and discarding
 * what it sends); true when it closed. */
static inline bool raw_wait_closed(int fd, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    char buf[4096];
    for (;;) {
        int left = (int)(end - live_now_ms());
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
            return true;
    }
}

/* ------------------------------------------------------------------------- */
/* HTTP through libcurl                                                       */

struct http_resp {
    long status;
    char *body;
    size_t len;
    char *headers; /* every header line of the response, as received */
    size_t hlen;
    json_t *json; /* the body parsed, NULL when it is not JSON */
};

struct dt_buf {
    char *p;
    size_t len, cap;
};

static inline void dt_buf_add(struct dt_buf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline size_t dt_curl_write(char *data, size_t size, size_t n, void *user)
{
    dt_buf_add(user, data, size * n);
    return size * n;
}

static inline void http_resp_free(struct http_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/*
 * One request on the easy handle c (reused by callers that loop, so that
 * connections are kept alive; NULL: a fresh one).  target is the request
 * target as sent ("/v1/keys/server.port"); body NULL sends none.  Returns
 * false (with the curl error in r->body) when no response arrived; never
 * asserts, so threads may call it.
 */
static inline bool http_try_url(CURL *c, struct http_resp *r, const char *sock, const char *method,
                                const char *url, struct curl_slist *headers);

static inline bool http_try(CURL *c, struct http_resp *r, const char *sock, const char *method,
                            const char *target)
{
    char url[16384];
    snprintf(url, sizeof url, "http://localhost%s", target);
    return http_try_url(c, r, sock, method, url, NULL);
}

static inline bool http_try_full(CURL *c, struct http_resp *r, const char *sock, const char *method,
                                 const char *url, struct curl_slist *headers, const char *req_body,
                                 size_t req_len);

/* The same with a whole URL, over TCP when sock is NULL, with extra
 * request headers. */
static inline bool http_try_url(CURL *c, struct http_resp *r, const char *sock, const char *method,
                                const char *url, struct curl_slist *headers)
{
    return http_try_full(c, r, sock, method, url, headers, NULL, 0);
}

/* The same with a request body (NULL: none), sent whatever the method
 * (PUT /v1/keys/PATH takes a value's YAML text). */
static inline bool http_try_full(CURL *c, struct http_resp *r, const char *sock, const char *method,
                                 const char *url, struct curl_slist *headers, const char *req_body,
                                 size_t req_len)
{
    memset(r, 0, sizeof *r);
    bool own = c == NULL;
    if (own)
        c = curl_easy_init();
    if (!c)
        return false;
    struct dt_buf body = {0}, hdr = {0};
    curl_easy_reset(c);
    if (sock)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
    if (headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)DT_WAIT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dt_curl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, dt_curl_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    if (req_body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req_body);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        free(body.p);
        free(hdr.p);
        r->body = strdup(curl_easy_strerror(rc));
        if (own)
            curl_easy_cleanup(c);
        return false;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (own)
        curl_easy_cleanup(c);
    r->body = body.p ? body.p : strdup("");
    r->len = body.len;
    r->headers = hdr.p ? hdr.p : strdup("");
    r->hlen = hdr.len;
    r->json = json_loadb(r->body, r->len, DT_JSON_FLAGS, NULL);
    return true;
}

static inline struct http_resp http_req(const char *sock, const char *method, const char *target)
{
    struct http_resp r;
    if (!http_try(NULL, &r, sock, method, target))
        fail_msg("%s %s on %s: no response: %s", method, target, sock, r.body);
    return r;
}

static inline struct http_resp http_get(const struct dfx *f, const char *target)
{
    return http_req(f->sock, "GET", target);
}

/* METHOD target with body (a NUL-terminated string) on the fixture's
 * socket; fails the test when no response arrives. */
static inline struct http_resp http_send(const struct dfx *f, const char *method,
                                         const char *target, const char *body)
{
    char url[16384];
    struct http_resp r;
    snprintf(url, sizeof url, "http://localhost%s", target);
    if (!http_try_full(NULL, &r, f->sock, method, url, NULL, body, strlen(body)))
        fail_msg("%s %s: no response: %s", method, target, r.body);
    return r;
}

/*
 * The value of the last header named name (case-insensitive), copied into
 * out (size bytes, trailing spaces removed); NULL when absent.
 */
static inline char *http_header(const struct http_resp *r, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    char *found = NULL;
    const char *line = r->headers;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t llen = eol ? (size_t)(eol - line) : strlen(line);
        if (llen > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vlen = llen - (size_t)(v - line);
            while (vlen && isspace((unsigned char)v[vlen - 1]))
                vlen--;
            if (vlen >= size)
                vlen = size - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            found = out;
        }
        line = eol ? eol + 1 : NULL;
    }
    return found;
}

static inline void expect_status(const struct http_resp *r, long status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: HTTP %ld, want %ld; body: %s", what, r->status, status, r->body);
}

/* The body is a JSON object (and its Content-Type says JSON). */
static inline json_t *expect_json(const struct http_resp *r, const char *what)
{
    if (!json_is_object(r->json))
        fail_msg("%s: body is not a JSON object: %s", what, r->body);
    char ct[256];
    if (!http_header(r, "Content-Type", ct, sizeof ct) || !strstr(ct, "application/json"))
        fail_msg("%s: Content-Type is %s, want application/json", what,
                 http_header(r, "Content-Type", ct, sizeof ct) ? ct : "(none)");
    return r->json;
}

/* The integer member key of obj (fails if absent or not an integer). */
static inline json_int_t jint(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) {
        char *s = json_dumps(obj, JSON_COMPACT);
        fail_msg("member \"%s\" is not an integer in %s", key, s ? s : "(null)");
    }
    return json_integer_value(v);
}

static inline const char *jstr(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v)) {
        char *s = json_dumps(obj, JSON_COMPACT);
        fail_msg("member \"%s\" is not a string in %s", key, s ? s : "(null)");
    }
    return json_string_value(v);
}

/* The X-Snapconf-Generation header as a number (fails when absent). */
static inline long long http_gen_header(const struct http_resp *r, const char *what)
{
    char v[64];
    if (!http_header(r, "X-Snapconf-Generation", v, sizeof v))
        fail_msg("%s: no X-Snapconf-Generation header; headers:\n%s", what, r->headers);
    char *end;
    long long g = strtoll(v, &end, 10);
    if (end == v || *end)
        fail_msg("%s: X-Snapconf-Generation is \"%s\"", what, v);
    return g;
}

/*
 * An error response: the status, a JSON body {"error": {"code": code,
 * "message": "..."}, ...}; returns the "error" object (owned by r).
 */
static inline json_t *expect_error(const struct http_resp *r, long status, const char *code,
                                   const char *what)
{
    expect_status(r, status, what);
    json_t *o = expect_json(r, what);
    json_t *e = json_object_get(o, "error");
    if (!json_is_object(e))
        fail_msg("%s: no \"error\" object in %s", what, r->body);
    if (strcmp(jstr(e, "code"), code) != 0)
        fail_msg("%s: error code \"%s\", want \"%s\"; body %s", what, jstr(e, "code"), code,
                 r->body);
    if (jstr(e, "message")[0] == '\0')
        fail_msg("%s: empty error message", what);
    return e;
}

/* GET /v1/status as JSON (the caller frees it with json_decref). */
static inline json_t *dt_status(const struct dfx *f)
{
    struct http_resp r = http_get(f, "/v1/status");
    expect_status(&r, 200, "GET /v1/status");
    json_t *j = json_incref(expect_json(&r, "GET /v1/status"));
    http_resp_free(&r);
    return j;
}

static inline long long dt_generation(const struct dfx *f)
{
    json_t *s = dt_status(f);
    long long g = jint(s, "generation");
    json_decref(s);
    return g;
}

/* Polls /v1/status until generation >= g; returns the last one seen. */
static inline long long dt_wait_generation(const struct dfx *f, long long g, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    long long cur;
    while ((cur = dt_generation(f)) < g && live_now_ms() < end)
        live_sleep_ms(2);
    return cur;
}

/* Asserts that the generation reaches g and then stays there for the
 * settle time (one change, one generation). */
static inline void dt_expect_exactly(const struct dfx *f, long long g)
{
    long long got = dt_wait_generation(f, g, DT_WAIT_MS);
    if (got != g)
        fail_msg("expected generation %lld, got %lld", g, got);
    live_sleep_ms(DT_SETTLE_MS);
    got = dt_generation(f);
    if (got != g)
        fail_msg("expected exactly generation %lld after settling, got %lld", g, got);
}

/* Polls /v1/status until the integer member key is >= n; returns it. */
static inline long long dt_wait_status_int(const struct dfx *f, const char *key, long long n,
                                           int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    for (;;) {
        json_t *s = dt_status(f);
        long long v = jint(s, key);
        json_decref(s);
        if (v >= n || live_now_ms() >= end)
            return v;
        live_sleep_ms(2);
    }
}

/* Polls /v1/status until "watchers" equals n; returns the last count. */
static inline long long dt_wait_watchers(const struct dfx *f, long long n, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    for (;;) {
        json_t *s = dt_status(f);
        long long v = jint(s, "watchers");
        json_decref(s);
        if (v == n || live_now_ms() >= end)
            return v;
        live_sleep_ms(2);
    }
}

/* GET /v1/keys/target's value (owned by the caller); asserts 200. */
static inline json_t *dt_value(const struct dfx *f, const char *encoded_path)
{
    char target[4096];
    snprintf(target, sizeof target, "/v1/keys/%s", encoded_path);
    struct http_resp r = http_get(f, target);
    expect_status(&r, 200, target);
    json_t *v = json_object_get(expect_json(&r, target), "value");
    if (!v)
        fail_msg("GET %s: no \"value\" in %s", target, r.body);
    json_incref(v);
    http_resp_free(&r);
    return v;
}

static inline long long dt_int_value(const struct dfx *f, const char *encoded_path)
{
    json_t *v = dt_value(f, encoded_path);
    if (!json_is_integer(v))
        fail_msg("value at %s is not an integer", encoded_path);
    long long n = json_integer_value(v);
    json_decref(v);
    return n;
}

/* ------------------------------------------------------------------------- */
/* The daemon                                                                 */

/* True when GET /v1/status answers 200 on sock. */
static inline bool dt_answers(const char *sock)
{
    struct http_resp r;
    bool ok = http_try(NULL, &r, sock, "GET", "/v1/status") && r.status == 200;
    http_resp_free(&r);
    return ok;
}

/*
 * Starts snapconfd with extra arguments (NULL-terminated, may be NULL) and
 * environment changes env, its output to f->log, and waits until wait_sock
 * (NULL: f->sock) answers.  Fails with the log if it exits first.
 */
static inline void dt_start_opts(struct dfx *f, const char *const *extra, const char *const *env,
                                 const char *wait_sock, bool with_socket_arg)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)dt_snapconfd();
    argv[n++] = (char *)"--config";
    argv[n++] = f->conf;
    if (with_socket_arg) {
        argv[n++] = (char *)"--socket";
        argv[n++] = f->sock;
    }
    argv[n++] = (char *)"--foreground";
    for (size_t i = 0; extra && extra[i]; i++) {
        assert_true(n < 31);
        argv[n++] = (char *)extra[i];
    }
    argv[n] = NULL;
    f->pid = dt_spawn(argv, env, f->log, f->log);
    const char *sock = wait_sock ? wait_sock : f->sock;
    int64_t end = live_now_ms() + DT_WAIT_MS;
    for (;;) {
        int st;
        pid_t r = waitpid(f->pid, &st, WNOHANG);
        if (r == f->pid) {
            char buf[64];
            f->pid = 0;
            dt_print_log(f);
            fail_msg("snapconfd exited before answering on %s: %s", sock,
                     dt_describe_status(buf, sizeof buf, st));
        }
        if (dt_exists(sock) && dt_answers(sock))
            return;
        if (live_now_ms() >= end)
            fail_msg("snapconfd did not answer on %s within %d ms", sock, DT_WAIT_MS);
        live_sleep_ms(2);
    }
}

static inline void dt_start(struct dfx *f)
{
    dt_start_opts(f, NULL, NULL, NULL, true);
}

/*
 * Stops the daemon with sig (SIGTERM or SIGINT) and asserts a clean exit:
 * status 0 within the timeout, and sock (NULL: f->sock) removed.
 */
static inline void dt_stop_sig(struct dfx *f, int sig, const char *sock)
{
    assert_true(f->pid > 0);
    assert_int_equal(kill(f->pid, sig), 0);
    int st;
    if (!dt_wait_exit(f->pid, &st, DT_WAIT_MS))
        fail_msg("snapconfd did not exit within %d ms of %s", DT_WAIT_MS, strsignal(sig));
    f->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char buf[64];
        dt_print_log(f);
        fail_msg("snapconfd stopped by %s: %s, want exit 0", strsignal(sig),
                 dt_describe_status(buf, sizeof buf, st));
    }
    const char *s = sock ? sock : f->sock;
    if (dt_exists(s))
        fail_msg("snapconfd left its socket %s behind after %s", s, strsignal(sig));
}

static inline void dt_stop(struct dfx *f)
{
    dt_stop_sig(f, SIGTERM, NULL);
}

/* Fails unless the daemon is still running. */
static inline void dt_expect_running(struct dfx *f)
{
    int st;
    pid_t r = waitpid(f->pid, &st, WNOHANG);
    if (r == f->pid) {
        char buf[64];
        f->pid = 0;
        dt_print_log(f);
        fail_msg("snapconfd died: %s", dt_describe_status(buf, sizeof buf, st));
    }
}

/* ------------------------------------------------------------------------- */
/* Editing the config                                                        */

/* The example config with every occurrence of from replaced by to. */
static inline char *dt_example_with(const char *from, const char *to)
{
    char *text = live_slurp(EXAMPLE_YAML, NULL);
    size_t flen = strlen(from), tlen = strlen(to);
    struct dt_buf b = {0};
    const char *p = text, *hit;
    while ((hit = strstr(p, from)) != NULL) {
        dt_buf_add(&b, p, (size_t)(hit - p));
        dt_buf_add(&b, to, tlen);
        p = hit + flen;
    }
    dt_buf_add(&b, p, strlen(p));
    free(text);
    return b.p;
}

/* Number of lines in a file. */
static inline int dt_count_lines(const char *path)
{
    char *text = live_slurp(path, NULL);
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

/* Runs sed -i EXPR FILE (the real tool: temp file, rename over). */
static inline void dt_sed_i(const struct dfx *f, const char *expr)
{
    struct cmd_result r =
        run_cmd_env(f, NULL, DT_WAIT_MS,
                    DT_ARGV((char *)"/bin/sed", (char *)"-i", (char *)expr, (char *)f->conf));
    expect_code(&r, 0, "sed -i");
    cmd_result_free(&r);
}

/* Overwrites the bytes at the first occurrence of from (same length) through
 * an fd that stays open: no close-after-write, so the inotify watcher does
 * not notice, and only an explicit reload can pick the change up.  Returns
 * the fd (close it to let the watcher see the write). */
static inline off_t file_offset(const struct dfx *f, const char *needle)
{
    char *text = live_slurp(f->conf, NULL);
    char *hit = strstr(text, needle);
    assert_non_null(hit);
    off_t off = hit - text;
    free(text);
    return off;
}

static inline int overwrite_unnoticed(const struct dfx *f, const char *from, const char *to)
{
    assert_int_equal(strlen(from), strlen(to));
    off_t off = file_offset(f, from);
    int fd = open(f->conf, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, to, strlen(to), off), (ssize_t)strlen(to));
    return fd;
}

/* ------------------------------------------------------------------------- */
/* Server-Sent Events                                                         */

struct sse_event {
    char id[64];
    char type[64]; /* "message" when the event has no "event:" field */
    char *data;    /* data lines joined with '\n' */
    json_t *json;  /* data parsed, NULL when not JSON */
};

static inline void sse_event_free(struct sse_event *e)
{
    free(e->data);
    json_decref(e->json);
    memset(e, 0, sizeof *e);
}

struct sse {
    CURLM *m;
    CURL *e;
    struct dt_buf in; /* bytes of the body received */
    size_t pos;       /* first byte not parsed */
    bool head_done;   /* the response head arrived */
    long status;      /* the response's status, 0 before the head */
    bool done;        /* the transfer ended */
    CURLcode result;
    long long connected_gen; /* from ": connected generation N", -1 before */
    int comments;
    int keepalives; /* ": keepalive" comments */
    /* the event being parsed */
    bool has_field;
    char id[64], type[64];
    struct dt_buf data;
    bool has_data;
};

static inline void sse_pump(struct sse *s, int timeout_ms)
{
    int running = 0;
    curl_multi_perform(s->m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->m, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            s->done = true;
            s->result = msg->data.result;
        }
    }
    if (!s->done && timeout_ms > 0) {
        curl_multi_poll(s->m, NULL, 0, timeout_ms, NULL);
        curl_multi_perform(s->m, &running);
        while ((msg = curl_multi_info_read(s->m, &left)) != NULL) {
            if (msg->msg == CURLMSG_DONE) {
                s->done = true;
                s->result = msg->data.result;
            }
        }
    }
}

static inline size_t sse_header_cb(char *data, size_t size, size_t n, void *user)
{
    struct sse *s = user;
    if (size * n == 2 && data[0] == '\r' && data[1] == '\n')
        s->head_done = true;
    return size * n;
}

/* Opens GET target as a stream and waits for the response head; s->status
 * is its status (0: none came).  A refused stream's body ends in s->in. */
static inline void sse_open_any(struct sse *s, const char *sock, const char *target);

/* Opens GET target as a stream; asserts 200 and text/event-stream once the
 * head arrived. */
static inline void sse_open(struct sse *s, const char *sock, const char *target)
{
    sse_open_any(s, sock, target);
    if (s->status != 200)
        fail_msg("GET %s: HTTP %ld (transfer %s), want a 200 stream; body: %s", target, s->status,
                 s->done ? curl_easy_strerror(s->result) : "running", s->in.p ? s->in.p : "");
    char *ct = NULL;
    curl_easy_getinfo(s->e, CURLINFO_CONTENT_TYPE, &ct);
    if (!ct || strncmp(ct, "text/event-stream", 17) != 0)
        fail_msg("GET %s: Content-Type %s, want text/event-stream", target, ct ? ct : "(none)");
}

static inline void sse_open_any(struct sse *s, const char *sock, const char *target)
{
    memset(s, 0, sizeof *s);
    s->connected_gen = -1;
    s->m = curl_multi_init();
    s->e = curl_easy_init();
    assert_non_null(s->m);
    assert_non_null(s->e);
    char url[4096];
    snprintf(url, sizeof url, "http://localhost%s", target);
    curl_easy_setopt(s->e, CURLOPT_UNIX_SOCKET_PATH, sock);
    curl_easy_setopt(s->e, CURLOPT_URL, url);
    curl_easy_setopt(s->e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, dt_curl_write);
    curl_easy_setopt(s->e, CURLOPT_WRITEDATA, &s->in);
    curl_easy_setopt(s->e, CURLOPT_HEADERFUNCTION, sse_header_cb);
    curl_easy_setopt(s->e, CURLOPT_HEADERDATA, s);
    curl_multi_add_handle(s->m, s->e);
    int64_t end = live_now_ms() + DT_WAIT_MS;
    long code = 0;
    while (!s->done && !s->head_done && live_now_ms() < end)
        sse_pump(s, 5);
    curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &code);
    s->status = code;
    /* A refusal is short: let its body arrive. */
    while (code != 200 && !s->done && live_now_ms() < end)
        sse_pump(s, 5);
}

static inline void sse_close(struct sse *s)
{
    if (s->m) {
        curl_multi_remove_handle(s->m, s->e);
        curl_easy_cleanup(s->e);
        curl_multi_cleanup(s->m);
    }
    free(s->in.p);
    free(s->data.p);
    memset(s, 0, sizeof *s);
}

/* Parses complete lines; returns true with *ev when an event completed. */
static inline bool sse_parse(struct sse *s, struct sse_event *ev)
{
    while (s->in.p && s->pos < s->in.len) {
        char *line = s->in.p + s->pos;
        char *nl = memchr(line, '\n', s->in.len - s->pos);
        if (!nl)
            return false;
        size_t llen = (size_t)(nl - line);
        s->pos += llen + 1;
        if (llen && line[llen - 1] == '\r')
            llen--;
        if (llen == 0) {
            if (!s->has_field)
                continue;
            memset(ev, 0, sizeof *ev);
            snprintf(ev->id, sizeof ev->id, "%s", s->id);
            snprintf(ev->type, sizeof ev->type, "%s", s->type[0] ? s->type : "message");
            ev->data = strdup(s->data.p ? s->data.p : "");
            ev->json = json_loads(ev->data, DT_JSON_FLAGS, NULL);
            s->has_field = s->has_data = false;
            s->id[0] = s->type[0] = '\0';
            s->data.len = 0;
            if (s->data.p)
                s->data.p[0] = '\0';
            return true;
        }
        if (line[0] == ':') {
            s->comments++;
            static const char conn[] = ": connected generation ";
            if (llen > sizeof conn - 1 && strncmp(line, conn, sizeof conn - 1) == 0)
                s->connected_gen = strtoll(line + sizeof conn - 1, NULL, 10);
            if (llen == 11 && strncmp(line, ": keepalive", 11) == 0)
                s->keepalives++;
            continue;
        }
        char field[16];
        size_t flen = 0;
        while (flen < llen && line[flen] != ':' && flen < sizeof field - 1) {
            field[flen] = line[flen];
            flen++;
        }
        field[flen] = '\0';
        const char *v = line + flen;
        size_t vlen = llen - flen;
        if (vlen && *v == ':') {
            v++;
            vlen--;
        }
        if (vlen && *v == ' ') {
            v++;
            vlen--;
        }
        s->has_field = true;
        if (strcmp(field, "id") == 0) {
            snprintf(s->id, sizeof s->id, "%.*s", (int)vlen, v);
        } else if (strcmp(field, "event") == 0) {
            snprintf(s->type, sizeof s->type, "%.*s", (int)vlen, v);
        } else if (strcmp(field, "data") == 0) {
            if (s->has_data)
                dt_buf_add(&s->data, "\n", 1);
            dt_buf_add(&s->data, v, vlen);
            s->has_data = true;
        }
    }
    return false;
}

/* The next event within timeout_ms; false when none came (or the stream
 * ended). */
static inline bool sse_next(struct sse *s, struct sse_event *ev, int timeout_ms)
{
    int64_t end = live_now_ms() + timeout_ms;
    for (;;) {
        if (sse_parse(s, ev))
            return true;
        if (s->done)
            return false;
        int64_t left = end - live_now_ms();
        sse_pump(s, left > 5 ? 5 : left > 0 ? (int)left : 0);
        if (sse_parse(s, ev))
            return true;
        if (live_now_ms() >= end)
            return false;
    }
}

/* Waits for the ": connected generation N" comment; returns N. */
static inline long long sse_wait_connected(struct sse *s)
{
    int64_t end = live_now_ms() + DT_WAIT_MS;
    struct sse_event ev;
    while (s->connected_gen < 0 && !s->done && live_now_ms() < end) {
        if (sse_parse(s, &ev))
            fail_msg("an event (%s: %s) came before \": connected generation N\"", ev.type,
                     ev.data);
        sse_pump(s, 5);
    }
    if (s->connected_gen < 0)
        fail_msg("no \": connected generation N\" line; stream so far: %s", s->in.p ? s->in.p : "");
    return s->connected_gen;
}

/* The next event, which must be a "change"; returns its data (owned by
 * ev). */
static inline json_t *sse_expect_change(struct sse *s, struct sse_event *ev, const char *what)
{
    if (!sse_next(s, ev, DT_WAIT_MS))
        fail_msg("%s: no event within %d ms; stream so far:\n%s", what, DT_WAIT_MS,
                 s->in.p ? s->in.p : "");
    if (strcmp(ev->type, "change") != 0)
        fail_msg("%s: event \"%s\" (%s), want \"change\"", what, ev->type, ev->data);
    if (!json_is_object(ev->json))
        fail_msg("%s: data is not a JSON object: %s", what, ev->data);
    if (strtoll(ev->id, NULL, 10) != jint(ev->json, "generation"))
        fail_msg("%s: id %s is not the event's generation: %s", what, ev->id, ev->data);
    return ev->json;
}

/* The change at path in an event's "changes" (NULL when absent). */
static inline json_t *sse_change_at(json_t *data, const char *path)
{
    json_t *changes = json_object_get(data, "changes");
    if (!json_is_array(changes))
        fail_msg("no \"changes\" array in %s", json_dumps(data, JSON_COMPACT));
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        json_t *p = json_object_get(c, "path");
        if (json_is_string(p) && strcmp(json_string_value(p), path) == 0)
            return c;
    }
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Metrics                                                                    */

/* The value of the sample whose name (with labels, exactly as printed) is
 * name; fails when absent. */
static inline double metric_value(const char *text, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, name, nlen) == 0 && line[nlen] == ' ')
            return strtod(line + nlen + 1, NULL);
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    fail_msg("metric %s not found in:\n%s", name, text);
    return 0;
}

static inline char *dt_metrics(const struct dfx *f)
{
    struct http_resp r = http_get(f, "/metrics");
    expect_status(&r, 200, "GET /metrics");
    char *text = strdup(r.body);
    http_resp_free(&r);
    return text;
}

/* ------------------------------------------------------------------------- */
/* main                                                                       */

static inline void dt_global_init(void)
{
    /* A test that writes to a connection the daemon closed gets EPIPE, not
     * a signal. */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Tests may set these for the daemon or the CLI; inherited values from
     * the caller's environment would change what is tested. */
    unsetenv("SNAPCONF_SOCKET");
    unsetenv("SNAPCONF_ENV_PREFIX");
    unsetenv("RUNTIME_DIRECTORY");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_PID");
    unsetenv("NOTIFY_SOCKET");
}

/*
 * Call first in main: "--only=GLOB" runs only the tests whose names match
 * GLOB, "--skip=GLOB" skips those that match (ctest splits slow tests off
 * this way).
 */
static inline void dt_global_init_args(int argc, char **argv)
{
    dt_global_init();
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--only=", 7) == 0) {
            cmocka_set_test_filter(argv[i] + 7);
        } else if (strncmp(argv[i], "--skip=", 7) == 0) {
            cmocka_set_skip_filter(argv[i] + 7);
        } else {
            fprintf(stderr, "usage: %s [--only=GLOB] [--skip=GLOB]\n", argv[0]);
            exit(2);
        }
    }
}

#endif
