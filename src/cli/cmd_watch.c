/*
 * cmd_watch.c - "snapconf watch": prints snapconfd's change events as they
 * come, one line per changed path, until interrupted.
 *
 * The stream (GET /v1/watch, Server-Sent Events) is read with libcurl's
 * multi interface so that the wait for data can include a signalfd:
 * SIGINT and SIGTERM end the command at once, cleanly, with status 0,
 * instead of killing it in the middle of a line.
 */
#include "cli.h"
#include "client.h"
#include "sse.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* snapconfd sends a keepalive comment every 15 s; three missed ones mean
 * the daemon or the connection is gone. */
#define WATCH_SILENCE_S 45

/* The most of a non-stream (error) answer kept for its message. */
#define WATCH_MAX_ERROR_BODY ((size_t)64 << 10)

struct watch {
    const char *socket;
    bool json;
    CURL *curl;
    bool checked;               /* status and content type looked at */
    bool streaming;             /* 200 with text/event-stream: the body is events */
    struct cli_response answer; /* a non-stream answer, for its error */
    size_t answer_cap;
    struct sse_parser sse;
    int failure; /* the exit code when a callback stopped the transfer */
    time_t last_data;
};

static time_t now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* ---- events ------------------------------------------------------------- */

/* A change's old or new side: compact JSON, or "(absent)". */
static int print_side(const snapconf_node *value)
{
    if (value == NULL) {
        fputs("(absent)", stdout);
        return 0;
    }
    return cli_print_compact(stdout, value);
}

/* "GENERATION PATH OLD -> NEW" for each change of one event. */
static int print_changes(struct watch *w, const char *data, size_t len)
{
    snapconf_snap *snap = NULL;
    snapconf_error err;
    const snapconf_node *root, *changes;
    int64_t generation;
    int rc = 0;

    memset(&err, 0, sizeof(err));
    if (cli_json_load(data, len, "event", &snap, &err) != 0) {
        cli_error("unexpected event from snapconfd at %s: %s", w->socket, err.message);
        return CLI_EXIT_INTERNAL;
    }
    root = snapconf_snap_root(snap);
    changes = cli_member(root, "changes");
    if (!cli_member_int(root, "generation", &generation) || changes == NULL ||
        snapconf_node_type(changes) != SNAPCONF_TYPE_SEQ) {
        cli_error("unexpected event from snapconfd at %s: no generation or changes", w->socket);
        snapconf_snap_free(snap);
        return CLI_EXIT_INTERNAL;
    }
    for (size_t i = 0; i < snapconf_node_size(changes) && rc == 0; i++) {
        const snapconf_node *change = snapconf_node_at(changes, i);
        const char *path = cli_member_str(change, "path");

        if (path == NULL) {
            cli_error("unexpected event from snapconfd at %s: a change without a path", w->socket);
            rc = CLI_EXIT_INTERNAL;
            break;
        }
        printf("%" PRId64 " %s ", generation, path);
        if (print_side(cli_member(change, "old")) < 0 || fputs(" -> ", stdout) < 0 ||
            print_side(cli_member(change, "new")) < 0) {
            cli_error("cannot print a value of generation %" PRId64, generation);
            rc = CLI_EXIT_INTERNAL;
        }
        putchar('\n');
    }
    snapconf_snap_free(snap);
    return rc;
}

/* --json: the event's data object as the daemon sent it, on one line (the
 * lines of a multi-line data field are joined by spaces, which JSON
 * allows between tokens). */
static void print_data_line(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        putchar(data[i] == '\n' ? ' ' : data[i]);
    putchar('\n');
}

static void print_resync(struct watch *w, const char *data, size_t len)
{
    snapconf_snap *snap = NULL;
    snapconf_error err;
    int64_t generation = -1;
    const char *reason = NULL;

    if (cli_json_load(data, len, "event", &snap, &err) == 0) {
        cli_member_int(snapconf_snap_root(snap), "generation", &generation);
        reason = cli_member_str(snapconf_snap_root(snap), "reason");
    }
    cli_error("snapconfd at %s cannot replay every change missed (%s); it serves generation "
              "%" PRId64 " now: re-read the configuration, e.g. with 'snapconf dump'",
              w->socket, reason != NULL ? reason : "no reason given", generation);
    snapconf_snap_free(snap);
}

static int on_event(void *userdata, const char *type, const char *data, size_t len, const char *id)
{
    struct watch *w = userdata;
    int rc = 0;

    (void)id;
    /* Types this version does not know are skipped: the stream may grow. */
    if (strcmp(type, "change") == 0) {
        if (w->json)
            print_data_line(data, len);
        else
            rc = print_changes(w, data, len);
    } else if (strcmp(type, "resync") == 0) {
        if (w->json)
            print_data_line(data, len);
        else
            print_resync(w, data, len);
    }
    /* Each event reaches a pipe as soon as it happens. */
    if (fflush(stdout) != 0 || ferror(stdout))
        rc = rc ? rc : CLI_EXIT_INTERNAL;
    if (rc != 0)
        w->failure = rc;
    return rc;
}

/* ---- transfer ----------------------------------------------------------- */

/* Looks at the answer's status and type when its first bytes arrive. */
static void check_answer(struct watch *w)
{
    const char *type = NULL;

    w->checked = true;
    cli_curl.easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &w->answer.status);
    cli_curl.easy_getinfo(w->curl, CURLINFO_CONTENT_TYPE, &type);
    w->streaming =
        w->answer.status == 200 && type != NULL && strncasecmp(type, "text/event-stream", 17) == 0;
}

static int keep_answer(struct watch *w, const char *ptr, size_t n)
{
    if (w->answer.len + n > WATCH_MAX_ERROR_BODY)
        return 0; /* the start of an error answer says it all */
    if (w->answer.len + n + 1 > w->answer_cap) {
        size_t cap = w->answer.len + n + 1 + 1024;
        char *body = realloc(w->answer.body, cap);
        if (body == NULL)
            return -1;
        w->answer.body = body;
        w->answer_cap = cap;
    }
    memcpy(w->answer.body + w->answer.len, ptr, n);
    w->answer.len += n;
    w->answer.body[w->answer.len] = '\0';
    return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct watch *w = userdata;
    size_t n = size * nmemb;
    int rc;

    w->last_data = now_s();
    if (!w->checked)
        check_answer(w);
    if (!w->streaming)
        return keep_answer(w, ptr, n) == 0 ? n : CURL_WRITEFUNC_ERROR;
    rc = sse_feed(&w->sse, ptr, n);
    if (rc == -1) {
        cli_error("unexpected stream from snapconfd at %s: a line too long, or out of memory",
                  w->socket);
        w->failure = CLI_EXIT_INTERNAL;
    }
    return rc == 0 ? n : CURL_WRITEFUNC_ERROR;
}

/* Blocks SIGINT and SIGTERM and returns a signalfd that reads them, or -1
 * (then the signals keep their default action and end the process).  The
 * signals stay blocked for the rest of the process's life. */
static int signal_fd(void)
{
    sigset_t old;
    sigset_t set;
    int fd;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, &old) != 0)
        return -1;
    fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        sigprocmask(SIG_SETMASK, &old, NULL);
    return fd;
}

/*
 * Runs the transfer until it ends, a callback stops it, a signal arrives
 * (*interrupted) or the daemon stays silent too long (*silent).  Returns
 * libcurl's result for the transfer.
 */
static CURLcode run_transfer(struct watch *w, int sfd, bool *interrupted, bool *silent)
{
    CURLM *multi = cli_curl.multi_init();
    CURLcode result = CURLE_OUT_OF_MEMORY;
    CURLMsg *msg;
    int left;

    if (multi == NULL || cli_curl.multi_add_handle(multi, w->curl) != CURLM_OK) {
        cli_curl.multi_cleanup(multi);
        return CURLE_OUT_OF_MEMORY;
    }
    w->last_data = now_s();
    for (;;) {
        struct curl_waitfd wfd = {.fd = sfd, .events = CURL_WAIT_POLLIN, .revents = 0};
        int running = 0;

        if (cli_curl.multi_perform(multi, &running) != CURLM_OK || running == 0)
            break;
        if (cli_curl.multi_poll(multi, &wfd, sfd >= 0 ? 1 : 0, 1000, NULL) != CURLM_OK)
            break;
        if (wfd.revents & CURL_WAIT_POLLIN) {
            *interrupted = true;
            break;
        }
        if (now_s() - w->last_data > WATCH_SILENCE_S) {
            *silent = true;
            break;
        }
    }
    while ((msg = cli_curl.multi_info_read(multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE)
            result = msg->data.result;
    }
    cli_curl.multi_remove_handle(multi, w->curl);
    cli_curl.multi_cleanup(multi);
    return result;
}

/* The exit code and message once the transfer is over. */
static int watch_outcome(struct watch *w, CURLcode result, const char *errbuf)
{
    if (w->failure != 0)
        return w->failure;
    if (w->checked && !w->streaming && w->answer.status != 200) {
        if (w->answer.body == NULL)
            w->answer.body = calloc(1, 1);
        if (w->answer.body == NULL)
            return CLI_EXIT_INTERNAL;
        return cli_report_answer(&w->answer, w->socket, "GET /v1/watch");
    }
    if (w->checked && !w->streaming) {
        cli_error("unexpected answer from snapconfd at %s to GET /v1/watch: not an event stream",
                  w->socket);
        return CLI_EXIT_INTERNAL;
    }
    if (result != CURLE_OK)
        return cli_report_transfer(w->curl, result, w->socket, errbuf, false);
    cli_error("lost connection to snapconfd at %s: it closed the watch stream", w->socket);
    return CLI_EXIT_UNREACHABLE;
}

static int watch(const char *socket, const char *target, bool json)
{
    char errbuf[CURL_ERROR_SIZE];
    struct watch w = {.socket = socket, .json = json};
    bool interrupted = false, silent = false;
    CURLcode result;
    int sfd, rc;

    rc = cli_check_socket_path(socket, false);
    if (rc != CLI_EXIT_OK)
        return rc;
    w.answer.generation = -1;
    sse_init(&w.sse, on_event, NULL, &w);
    w.curl = cli_curl_new(socket, "GET", target, CLI_TIMEOUT_DEFAULT, errbuf);
    if (w.curl == NULL)
        return CLI_EXIT_INTERNAL;
    if (cli_curl.easy_setopt(w.curl, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
        cli_curl.easy_setopt(w.curl, CURLOPT_WRITEDATA, &w) != CURLE_OK ||
        /* Silence is judged by WATCH_SILENCE_S instead: a stream is quiet
         * between changes. */
        cli_curl.easy_setopt(w.curl, CURLOPT_LOW_SPEED_TIME, 0L) != CURLE_OK) {
        cli_curl.easy_cleanup(w.curl);
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    sfd = signal_fd();
    result = run_transfer(&w, sfd, &interrupted, &silent);
    if (interrupted) {
        rc = CLI_EXIT_OK;
    } else if (silent) {
        cli_error("lost connection to snapconfd at %s: nothing received for %d s", socket,
                  WATCH_SILENCE_S);
        rc = CLI_EXIT_UNREACHABLE;
    } else {
        rc = watch_outcome(&w, result, errbuf);
    }
    if (sfd >= 0) {
        /* The signals stay blocked: the process ends right after, and
         * unblocking would let a pending one (timeout(1) sends its signal
         * and then SIGCONT; an impatient user presses Ctrl-C twice) kill it
         * with that signal's status instead of 0. */
        close(sfd);
    }
    cli_curl.easy_cleanup(w.curl);
    sse_free(&w.sse);
    free(w.answer.body);
    return rc;
}

/* ---- command ------------------------------------------------------------ */

/* Whether s is a generation: decimal digits that fit in 63 bits. */
static bool valid_generation(const char *s)
{
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno == 0 && *end == '\0' && v >= 0;
}

static int cmd_watch(const struct cli_command *cmd, int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_SOCKET, {"since", required_argument, NULL, CLI_OPT_SINCE},
        CLI_OPTION_JSON,   CLI_OPTION_HELP,
        CLI_OPTION_END,
    };
    struct cli_args args;
    snapconf_path *path = NULL;
    char *escaped = NULL, *target = NULL;
    int rc = cli_parse_args(cmd, argc, argv, options, &args);

    if (rc != CLI_PARSE_GO_ON)
        return rc;
    if (args.n_operands > 1)
        return cli_usage_error(cmd, "too many arguments");
    if (args.since != NULL && !valid_generation(args.since))
        return cli_usage_error(cmd, "--since needs a generation number, not '%s'", args.since);
    if (args.operand != NULL && args.operand[0] != '\0') {
        rc = cli_compile_path(cmd, args.operand, &path);
        snapconf_path_free(path);
        if (rc != CLI_EXIT_OK)
            return rc;
        escaped = cli_escape(args.operand);
        if (escaped == NULL)
            return CLI_EXIT_INTERNAL;
    }
    rc =
        asprintf(&target, "/v1/watch%s%s%s%s", escaped ? "?prefix=" : "", escaped ? escaped : "",
                 args.since ? (escaped ? "&since=" : "?since=") : "", args.since ? args.since : "");
    if (escaped != NULL)
        cli_curl.free(escaped);
    if (rc < 0) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    rc = watch(cli_socket_path(args.socket), target, args.json);
    free(target);
    return rc;
}

const struct cli_command cli_cmd_watch = {
    .name = "watch",
    .run = cmd_watch,
    .summary = "Print each change of the configuration as it happens",
    .help = "Usage: snapconf watch [--socket SOCKET] [--since GENERATION] [--json] [PREFIX]\n"
            "\n"
            "Prints every change snapconfd publishes, as it happens, one line per\n"
            "changed path:\n"
            "\n"
            "  GENERATION PATH OLD -> NEW\n"
            "\n"
            "OLD and NEW are compact JSON, \"(absent)\" for the side of an added or a\n"
            "removed value.  With PREFIX, only the changes at, under or above that path.\n"
            "Runs until interrupted (SIGINT or SIGTERM: exit status 0).\n"
            "\n"
            "With --since, the changes published after GENERATION come first, so that\n"
            "nothing between a read and the start of the watch is missed; when the\n"
            "daemon no longer remembers them all, a message on stderr says to re-read\n"
            "the configuration.\n"
            "\n"
            "Options:\n"
            "      --socket SOCKET       snapconfd's socket (see 'snapconf --help')\n"
            "      --since GENERATION    replay the changes after GENERATION first\n"
            "      --json                print each event's JSON object as the daemon sends\n"
            "                            it, one per line: {\"generation\", \"changes\": [{\n"
            "                            \"kind\", \"path\", \"old\", \"new\"}]}, or for a resync\n"
            "                            {\"generation\", \"reason\"}\n"
            "  -h, --help                show this help and exit\n"
            "\n"
            "Exit status: 0 interrupted, 2 usage error, 3 snapconfd unreachable, the\n"
            "connection dropped or the daemon refused another watcher, 5 internal error.\n",
};
