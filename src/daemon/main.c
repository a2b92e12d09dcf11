/*
 * main.c - snapconfd: serves a live snapconf configuration over HTTP on a
 * Unix socket (and optionally a loopback TCP port).
 *
 * Start-up runs in a fixed order, and shutdown in the reverse one:
 *   1. arguments (--check stops after loading the file once);
 *   2. signals: SIGHUP, SIGTERM, SIGINT, SIGUSR1 blocked and read from a
 *      signalfd, SIGPIPE ignored - before any thread exists, so that every
 *      thread inherits the mask and none takes a signal meant for the loop;
 *      then the log thread (log.c);
 *   3. metrics and the event ring;
 *   4. the live handle (its watcher thread), then its subscription;
 *   5. the listening sockets;
 *   6. the HTTP server;
 *   7. readiness (sd_notify), then the event loop.
 * Signal "handlers" are the loop itself: it reads the signalfd and reloads
 * (SIGHUP, the same path as POST /v1/reload) or leaves (SIGTERM, SIGINT).
 */
#include "api.h"
#include "events.h"
#include "http.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef SNAPCONFD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* Exit codes, documented in --help. */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1, /* socket in use, cannot bind, out of memory */
    EXIT_USAGE = 2,
    EXIT_CONFIG = 4, /* the configuration is invalid or unreadable */
};

#define DEFAULT_SOCKET_DIR "/run/snapconf"
#define SOCKET_NAME "snapconf.sock"
#define MAX_WATCHERS 64
#define MAX_TCP 4
#define MAX_DROPINS 32
#define MAX_ADMINS 64

struct options {
    const char *config;
    const char *socket; /* --socket, else NULL */
    const char *listen[MAX_TCP];
    size_t n_listen;
    const char *dropins[MAX_DROPINS];
    size_t n_dropins;
    const char *env_prefix; /* --env-prefix, else $SNAPCONF_ENV_PREFIX; NULL: none */
    const char *state_file; /* --state-file, else NULL */
    uid_t admin_uids[MAX_ADMINS];
    size_t n_admins;
    snapconf_log_level log_level;
    mode_t socket_mode;
    bool check;
};

struct daemon {
    struct options opt;
    char *config;                   /* absolute */
    char *dropins[MAX_DROPINS + 1]; /* absolute, NULL-terminated */
    char *state_file;               /* absolute, or NULL */
    char *socket_path;
    struct metrics *metrics;
    struct events *events;
    snapconf *h; /* read by the writer's callbacks: atomic */
    struct listener listeners[LISTEN_MAX];
    size_t n_listeners;
    struct api_ctx api;
    struct http *http;
    int sfd, epfd;
};

static const char help_text[] =
    "NAME\n"
    "    snapconfd - serve a live snapconf configuration over a local HTTP API\n"
    "\n"
    "SYNOPSIS\n"
    "    snapconfd --config FILE [--dropin DIR]... [--env-prefix PREFIX]\n"
    "              [--state-file FILE] [--admin-uid USER[,USER]...]...\n"
    "              [--socket PATH] [--listen 127.0.0.1:PORT]\n"
    "              [--socket-mode MODE] [--log-level LEVEL] [--foreground]\n"
    "    snapconfd --check --config FILE [--dropin DIR]... [--env-prefix PREFIX]\n"
    "              [--state-file FILE]\n"
    "    snapconfd --help | --version\n"
    "\n"
    "DESCRIPTION\n"
    "    snapconfd loads the YAML file FILE into an immutable snapshot, watches the\n"
    "    file and publishes a new snapshot (a new generation) each time it changes\n"
    "    and still loads.  An invalid edit is refused and the last good snapshot\n"
    "    keeps serving.  Clients read it with HTTP/1.1 and JSON bodies on a Unix\n"
    "    socket, e.g.\n"
    "        curl --unix-socket /run/snapconf/snapconf.sock \\\n"
    "             http://localhost/v1/keys/server.port\n"
    "    Endpoints: GET /v1/keys/PATH, /v1/snapshot, /v1/status, /v1/watch\n"
    "    (Server-Sent Events), /v1/overrides, /metrics (Prometheus); POST\n"
    "    /v1/reload; for the users of --admin-uid, PUT and DELETE /v1/keys/PATH\n"
    "    and DELETE /v1/overrides[/PATH] (runtime overrides).  See docs/API.md.\n"
    "\n"
    "    snapconfd never forks: it runs in the foreground, logs to stderr and\n"
    "    expects a supervisor such as systemd (Type=notify when built with\n"
    "    libsystemd).\n"
    "\n"
    "OPTIONS\n"
    "    -c, --config FILE     the configuration file to serve (required); with the\n"
    "                          drop-ins and the state file below, the only files\n"
    "                          the daemon ever reads\n"
    "        --dropin DIR      also read the files DIR/*.yaml, in the byte order of\n"
    "                          their names, each over FILE and the ones before it;\n"
    "                          up to 32 times, the directories in the order given;\n"
    "                          watched like FILE (a file added, changed or removed\n"
    "                          reloads)\n"
    "        --env-prefix PREFIX\n"
    "                          environment overrides: with PREFIX APP_, the variable\n"
    "                          APP_SERVER__PORT=9090 sets server.port to 9090\n"
    "                          (default: $SNAPCONF_ENV_PREFIX; '' for none)\n"
    "        --state-file FILE keep the runtime overrides in FILE, written\n"
    "                          atomically, and apply them again at start-up\n"
    "                          (default: none, they are lost at exit; the usual\n"
    "                          place is /var/lib/snapconf/overrides.yaml)\n"
    "        --admin-uid USER  let USER (a uid or a user name) change values at run\n"
    "                          time: PUT and DELETE on the Unix socket; repeatable\n"
    "                          and comma-separated (default: nobody may; TCP\n"
    "                          clients never may)\n"
    "    -s, --socket PATH     the Unix socket to listen on (default below); its\n"
    "                          directory is created with mode 0750 if missing\n"
    "        --socket-mode MODE\n"
    "                          octal file mode of the socket (default 0660): who may\n"
    "                          connect, hence read the configuration\n"
    "    -l, --listen ADDR:PORT\n"
    "                          also listen on a loopback TCP address (127.0.0.0/8,\n"
    "                          [::1] or localhost; others are refused); up to 4 times\n"
    "        --log-level LEVEL error, warning, info (default) or debug\n"
    "    -f, --foreground      accepted for compatibility: snapconfd always runs in\n"
    "                          the foreground\n"
    "    -t, --check           load FILE once (with its drop-ins, environment and\n"
    "                          state file, as it would be served), report the\n"
    "                          first error as FILE:LINE:COLUMN: MESSAGE and exit\n"
    "                          (0 valid, 4 not)\n"
    "    -h, --help            show this help and exit\n"
    "    -V, --version         show the version and exit\n"
    "\n"
    "LAYERS\n"
    "    The configuration served is merged from, lowest first: FILE; the\n"
    "    drop-ins; the environment variables of PREFIX; the runtime overrides\n"
    "    (snapconf set, unset; PUT and DELETE /v1/keys/PATH), which stay above\n"
    "    every file across reloads until reverted (snapconf revert).  Mappings\n"
    "    merge key by key, later layers winning; sequences and scalars are\n"
    "    replaced whole; a null in a drop-in or the environment deletes the key.\n"
    "    'snapconf get --explain PATH' says which layer set a value.\n"
    "\n"
    "SIGNALS\n"
    "    SIGHUP          reload FILE now (as POST /v1/reload does)\n"
    "    SIGTERM, SIGINT stop: close connections, remove the socket, exit 0\n"
    "    SIGUSR1         log one line of status\n"
    "\n"
    "ENVIRONMENT\n"
    "    SNAPCONF_SOCKET    the socket path when --socket is not given\n"
    "    RUNTIME_DIRECTORY  set by systemd (RuntimeDirectory=); without\n"
    "                       SNAPCONF_SOCKET, the socket is\n"
    "                       $RUNTIME_DIRECTORY/" SOCKET_NAME "\n"
    "    LISTEN_FDS         systemd socket activation: the passed sockets are\n"
    "                       served instead of creating the Unix socket\n"
    "    SNAPCONF_ENV_PREFIX the prefix of environment overrides when\n"
    "                       --env-prefix is not given\n"
    "    The default socket is " DEFAULT_SOCKET_DIR "/" SOCKET_NAME ".\n"
    "\n"
    "LOGGING\n"
    "    One line per event on stderr: \"LEVEL snapconfd: MESSAGE\", LEVEL being\n"
    "    error, warning, info or debug.  When stderr is the systemd journal\n"
    "    ($JOURNAL_STREAM), lines start with the priority prefix <3>, <4>, <6>\n"
    "    or <7> instead.  --log-level debug also logs every request.\n"
    "\n"
    "LIMITS\n"
    "    256 connections per socket, 64 watch streams, 30 s of inactivity per\n"
    "    connection, 8 KiB request targets, 64 KiB request heads, 1 MiB values\n"
    "    in a PUT.\n"
    "\n"
    "EXIT STATUS\n"
    "    0  stopped by SIGTERM or SIGINT; --check: the file is valid\n"
    "    1  runtime error: the socket is in use by another process, cannot be\n"
    "       created or bound, out of memory\n"
    "    2  usage error\n"
    "    4  the configuration is invalid or unreadable (at start-up or --check)\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("snapconfd: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'snapconfd --help'.\n", stderr);
    return EXIT_USAGE;
}

/* ---- arguments ---------------------------------------------------------- */

enum {
    OPT_LOG_LEVEL = 256,
    OPT_SOCKET_MODE,
    OPT_DROPIN,
    OPT_ENV_PREFIX,
    OPT_STATE_FILE,
    OPT_ADMIN_UID
};

/* One user of --admin-uid: decimal digits are a uid, anything else a user
 * name, looked up now (the daemon may later lose access to the user
 * database, and a typo should stop it at once).  Returns -1 or the exit
 * code. */
static int add_admin(struct options *opt, const char *text, size_t len)
{
    char name[256];
    uid_t uid;

    if (len == 0 || len >= sizeof(name))
        return usage_error("--admin-uid: '%.*s' is not a uid or a user name", (int)len, text);
    memcpy(name, text, len);
    name[len] = '\0';
    if (strspn(name, "0123456789") == len) {
        errno = 0;
        unsigned long long v = strtoull(name, NULL, 10);
        /* (uid_t)-1 means "no user" to the kernel. */
        if (errno != 0 || v >= (unsigned long long)(uid_t)-1)
            return usage_error("--admin-uid: %s is not a valid uid", name);
        uid = (uid_t)v;
    } else {
        struct passwd *pw = getpwnam(name);
        if (pw == NULL)
            return usage_error("--admin-uid: no user named '%s'", name);
        uid = pw->pw_uid;
    }
    for (size_t i = 0; i < opt->n_admins; i++) {
        if (opt->admin_uids[i] == uid)
            return -1;
    }
    if (opt->n_admins == MAX_ADMINS)
        return usage_error("--admin-uid: at most %d users", MAX_ADMINS);
    opt->admin_uids[opt->n_admins++] = uid;
    return -1;
}

/* "0,alice, 1001": users separated by commas, spaces around them ignored. */
static int add_admins(struct options *opt, const char *list)
{
    const char *p = list;

    for (;;) {
        size_t len = strcspn(p, ",");
        const char *start = p, *end = p + len;
        while (start < end && isspace((unsigned char)*start))
            start++;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        int rc = add_admin(opt, start, (size_t)(end - start));
        if (rc >= 0)
            return rc;
        if (p[len] == '\0')
            return -1;
        p += len + 1;
    }
}

/* The options that change what is loaded: drop-ins, environment, state. */
static int parse_layer_option(int c, struct options *opt)
{
    switch (c) {
    case OPT_DROPIN:
        if (optarg[0] == '\0')
            return usage_error("--dropin: empty directory name");
        if (opt->n_dropins == MAX_DROPINS)
            return usage_error("--dropin: at most %d directories", MAX_DROPINS);
        opt->dropins[opt->n_dropins++] = optarg;
        return -1;
    case OPT_ENV_PREFIX:
        opt->env_prefix = optarg;
        return -1;
    case OPT_STATE_FILE:
        if (optarg[0] == '\0')
            return usage_error("--state-file: empty file name");
        opt->state_file = optarg;
        return -1;
    default:
        return -1;
    }
}

/* Returns -1 to go on, else the exit code (help, version, usage error). */
static int parse_args(int argc, char **argv, struct options *opt)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"socket", required_argument, NULL, 's'},
        {"listen", required_argument, NULL, 'l'},
        {"foreground", no_argument, NULL, 'f'},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
        {"dropin", required_argument, NULL, OPT_DROPIN},
        {"env-prefix", required_argument, NULL, OPT_ENV_PREFIX},
        {"state-file", required_argument, NULL, OPT_STATE_FILE},
        {"admin-uid", required_argument, NULL, OPT_ADMIN_UID},
        {"check", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static char prog[] = "snapconfd";
    char err[512];
    int c;

    /* getopt's messages start with argv[0]: the bare name reads better
     * than whatever path the daemon was started by. */
    argv[0] = prog;
    memset(opt, 0, sizeof(*opt));
    opt->log_level = SNAPCONF_LOG_INFO;
    opt->socket_mode = 0660;
    opt->env_prefix = getenv("SNAPCONF_ENV_PREFIX");
    while ((c = getopt_long(argc, argv, "c:s:l:fthV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt->config = optarg;
            break;
        case 's':
            opt->socket = optarg;
            break;
        case 'l': {
            struct sockaddr_storage ss;
            socklen_t len;
            if (opt->n_listen == MAX_TCP)
                return usage_error("--listen: at most %d addresses", MAX_TCP);
            if (listen_parse_tcp(optarg, &ss, &len, err, sizeof(err)) < 0)
                return usage_error("%s", err);
            opt->listen[opt->n_listen++] = optarg;
            break;
        }
        case 'f':
            break; /* always in the foreground */
        case OPT_LOG_LEVEL:
            if (!dlog_parse_level(optarg, &opt->log_level))
                return usage_error("--log-level: '%s' is not one of error, warning, info, debug",
                                   optarg);
            break;
        case OPT_SOCKET_MODE: {
            char *end;
            errno = 0;
            unsigned long mode = strtoul(optarg, &end, 8);
            if (optarg[0] < '0' || optarg[0] > '7' || *end != '\0' || errno != 0 || mode > 0777)
                return usage_error("--socket-mode: '%s' is not an octal file mode such as 0660",
                                   optarg);
            opt->socket_mode = (mode_t)mode;
            break;
        }
        case OPT_DROPIN:
        case OPT_ENV_PREFIX:
        case OPT_STATE_FILE: {
            int rc = parse_layer_option(c, opt);
            if (rc >= 0)
                return rc;
            break;
        }
        case OPT_ADMIN_UID: {
            int rc = add_admins(opt, optarg);
            if (rc >= 0)
                return rc;
            break;
        }
        case 't':
            opt->check = true;
            break;
        case 'h':
            fputs(help_text, stdout);
            return EXIT_OK;
        case 'V':
            printf("snapconfd %s\n", snapconf_version_string());
            return EXIT_OK;
        default:
            fputs("Try 'snapconfd --help'.\n", stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (opt->config == NULL)
        return usage_error("--config FILE is required");
    if (opt->config[0] == '\0')
        return usage_error("--config: empty file name");
    return -1;
}

static char *absolute_path(const char *path)
{
    char cwd[PATH_MAX];
    char *abs;

    if (path[0] == '/')
        return strdup(path);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    if (asprintf(&abs, "%s/%s", cwd, path) < 0)
        return NULL;
    return abs;
}

/* --socket, else $SNAPCONF_SOCKET, else $RUNTIME_DIRECTORY/snapconf.sock
 * (its first entry: systemd separates several with ':'), else the
 * default. */
static char *socket_path(const struct options *opt)
{
    const char *env;
    char *path;

    if (opt->socket != NULL)
        return strdup(opt->socket);
    env = getenv("SNAPCONF_SOCKET");
    if (env != NULL && env[0] != '\0')
        return strdup(env);
    env = getenv("RUNTIME_DIRECTORY");
    if (env != NULL && env[0] != '\0') {
        size_t len = strcspn(env, ":");
        if (asprintf(&path, "%.*s/%s", (int)len, env, SOCKET_NAME) < 0)
            return NULL;
        return path;
    }
    return strdup(DEFAULT_SOCKET_DIR "/" SOCKET_NAME);
}

/* ---- layers ------------------------------------------------------------- */

/* The drop-in directories and the state file as absolute paths, so that
 * what the API and the log name is unambiguous.  False when out of memory
 * or the working directory is gone. */
static bool resolve_layers(struct daemon *d)
{
    for (size_t i = 0; i < d->opt.n_dropins; i++) {
        d->dropins[i] = absolute_path(d->opt.dropins[i]);
        if (d->dropins[i] == NULL)
            return false;
    }
    if (d->opt.state_file != NULL && (d->state_file = absolute_path(d->opt.state_file)) == NULL)
        return false;
    return true;
}

/* Fills the layer fields of opts from d (which must outlive opts). */
static void layer_options(const struct daemon *d, snapconf_options *opts)
{
    if (d->opt.n_dropins > 0)
        opts->dropin_dirs = (const char *const *)d->dropins;
    if (d->opt.env_prefix != NULL && d->opt.env_prefix[0] != '\0')
        opts->env_prefix = d->opt.env_prefix;
    opts->state_file = d->state_file;
}

static bool has_layers(const snapconf_options *opts)
{
    return opts->dropin_dirs != NULL || opts->env_prefix != NULL || opts->state_file != NULL;
}

/* ---- --check -------------------------------------------------------------- */

static int check_config(const struct daemon *d)
{
    const char *file = d->opt.config;
    snapconf_snap *snap = NULL;
    snapconf_options opts;
    snapconf_error err;
    int rc;

    snapconf_options_init(&opts);
    layer_options(d, &opts);
    memset(&err, 0, sizeof(err));
    if (has_layers(&opts))
        rc = snapconf_snap_load_layered(file, &opts, &snap, &err);
    else
        rc = snapconf_snap_load_file(file, &snap, &err);
    if (rc != 0) {
        if (err.message[0] != '\0')
            fprintf(stderr, "%s\n", err.message);
        else
            fprintf(stderr, "%s: %s\n", file, snapconf_strerror(rc));
        fprintf(stderr, "snapconfd: configuration file %s test failed\n", file);
        return rc == SNAPCONF_ENOMEM ? EXIT_RUNTIME : EXIT_CONFIG;
    }
    printf("snapconfd: configuration file %s is valid (%zu nodes, content hash %s)\n", file,
           snapconf_snap_node_count(snap), snapconf_snap_content_hash(snap));
    snapconf_snap_free(snap);
    return EXIT_OK;
}

/* ---- callbacks from the handle ---------------------------------------------- */

/* After every reload attempt, on the writer's thread (the watcher's, the
 * HTTP thread of a POST /v1/reload, or the main loop's on SIGHUP). */
static void on_reload(void *userdata, const snapconf_reload_report *report)
{
    struct daemon *d = userdata;
    snapconf *h = __atomic_load_n(&d->h, __ATOMIC_ACQUIRE);

    if (h != NULL)
        metrics_on_reload(d->metrics, h, report);
    events_on_reload(d->events, report);
    api_on_reload(report);
}

/* ---- readiness --------------------------------------------------------------- */

static void notify(const char *state)
{
#ifdef SNAPCONFD_HAVE_SYSTEMD
    sd_notify(0, state);
#else
    (void)state;
#endif
}

static void notify_status(struct daemon *d, bool ready)
{
#ifdef SNAPCONFD_HAVE_SYSTEMD
    const snapconf_snap *snap = snapconf_snap_hold(d->h);
    uint64_t generation = snapconf_snap_generation(snap);

    snapconf_snap_release(snap);
    sd_notifyf(0, "%sSTATUS=Serving generation %" PRIu64 " of %s", ready ? "READY=1\n" : "",
               generation, d->config);
#else
    (void)d;
    (void)ready;
#endif
}

/* ---- start-up and shutdown, in that order and the reverse ------------------ */

static int block_signals(struct daemon *d)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        dlog(SNAPCONF_LOG_ERROR, "cannot set up signals: %s", strerror(errno));
        return -1;
    }
    d->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = d->sfd};
    if (d->sfd < 0 || d->epfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sfd, &ev) < 0) {
        dlog(SNAPCONF_LOG_ERROR, "cannot set up the event loop: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int open_config(struct daemon *d)
{
    snapconf_options opts;
    snapconf_error err;
    snapconf *h = NULL;
    int rc;

    snapconf_options_init(&opts);
    opts.log = dlog_library;
    opts.log_level = d->opt.log_level;
    opts.on_reload = on_reload;
    opts.on_reload_userdata = d;
    layer_options(d, &opts);
    memset(&err, 0, sizeof(err));
    rc = snapconf_open(&h, d->config, &opts, &err);
    if (rc != 0) {
        dlog(SNAPCONF_LOG_ERROR, "%s",
             err.message[0] != '\0' ? err.message : snapconf_strerror(rc));
        return rc == SNAPCONF_ENOMEM || rc == SNAPCONF_ESYS ? EXIT_RUNTIME : EXIT_CONFIG;
    }
    __atomic_store_n(&d->h, h, __ATOMIC_RELEASE);

    rc = events_attach(d->events, h);
    if (rc != 0) {
        dlog(SNAPCONF_LOG_ERROR, "cannot subscribe to changes: %s", snapconf_strerror(rc));
        return EXIT_RUNTIME;
    }
    /* The first load has no reload report: count its keys here. */
    const snapconf_snap *snap = snapconf_snap_hold(h);
    metrics_count_snapshot(d->metrics, snap);
    snapconf_snap_release(snap);
    return EXIT_OK;
}

static int open_listeners(struct daemon *d)
{
    char err[512];
    int n;

    n = listen_activated(d->listeners, LISTEN_MAX - d->opt.n_listen, err, sizeof(err));
    if (n < 0) {
        dlog(SNAPCONF_LOG_ERROR, "%s", err);
        return EXIT_RUNTIME;
    }
    d->n_listeners = (size_t)n;
    for (size_t i = 0; i < d->n_listeners; i++)
        dlog(SNAPCONF_LOG_INFO, "using %s from systemd socket activation", d->listeners[i].name);
    if (n == 0) {
        d->socket_path = socket_path(&d->opt);
        if (d->socket_path == NULL) {
            dlog(SNAPCONF_LOG_ERROR, "out of memory");
            return EXIT_RUNTIME;
        }
        /* finish() frees d->socket_path, out of the analyzer's sight. */
        /* NOLINTBEGIN(clang-analyzer-unix.Malloc) */
        int rc =
            listen_unix(&d->listeners[0], d->socket_path, d->opt.socket_mode, err, sizeof(err));
        if (rc != 0) {
            dlog(SNAPCONF_LOG_ERROR, "%s", err);
            return EXIT_RUNTIME;
        }
        /* NOLINTEND(clang-analyzer-unix.Malloc) */
        d->n_listeners = 1;
    } else if (d->opt.socket != NULL) {
        dlog(SNAPCONF_LOG_WARNING, "--socket %s ignored: systemd passed the sockets",
             d->opt.socket);
    }
    for (size_t i = 0; i < d->opt.n_listen; i++) {
        if (listen_tcp(&d->listeners[d->n_listeners], d->opt.listen[i], err, sizeof(err)) != 0) {
            dlog(SNAPCONF_LOG_ERROR, "%s", err);
            return EXIT_RUNTIME;
        }
        d->n_listeners++;
    }
    return EXIT_OK;
}

static int start_http(struct daemon *d)
{
    struct http_listener hl[LISTEN_MAX];
    char err[256];

    d->api.h = d->h;
    d->api.events = d->events;
    d->api.metrics = d->metrics;
    d->api.admin_uids = d->opt.admin_uids;
    d->api.n_admin_uids = d->opt.n_admins;
    for (size_t i = 0; i < d->n_listeners; i++) {
        hl[i].fd = d->listeners[i].fd;
        hl[i].tcp = d->listeners[i].tcp;
        hl[i].name = d->listeners[i].name;
    }
    if (http_start(&d->api, hl, d->n_listeners, &d->http, err, sizeof(err)) != 0) {
        dlog(SNAPCONF_LOG_ERROR, "%s", err);
        return EXIT_RUNTIME;
    }
    /* The server closes the sockets from now on. */
    for (size_t i = 0; i < d->n_listeners; i++)
        d->listeners[i].fd = -1;
    for (size_t i = 0; i < d->n_listeners; i++)
        dlog(SNAPCONF_LOG_INFO, "listening on %s", d->listeners[i].name);
    return EXIT_OK;
}

static int start(struct daemon *d)
{
    int rc;

    d->sfd = d->epfd = -1;
    if (block_signals(d) < 0)
        return EXIT_RUNTIME;
    if (dlog_start() < 0)
        dlog(SNAPCONF_LOG_WARNING, "cannot start the log thread; logging directly");
    d->metrics = metrics_new();
    d->events = events_new(MAX_WATCHERS, 0);
    if (d->metrics == NULL || d->events == NULL) {
        dlog(SNAPCONF_LOG_ERROR, "out of memory");
        return EXIT_RUNTIME;
    }
    if ((rc = open_config(d)) != EXIT_OK)
        return rc;
    if ((rc = open_listeners(d)) != EXIT_OK)
        return rc;
    return start_http(d);
}

static void free_paths(struct daemon *d)
{
    for (size_t i = 0; i < d->opt.n_dropins; i++)
        free(d->dropins[i]);
    free(d->state_file);
    free(d->config);
}

/* Everything start() set up, in the reverse order; copes with a start that
 * stopped half-way. */
static void finish(struct daemon *d)
{
    if (d->events != NULL)
        events_shutdown(d->events); /* wakes the watch streams */
    http_stop(d->http);
    for (size_t i = 0; i < d->n_listeners; i++)
        listener_close(&d->listeners[i]);
    if (d->events != NULL)
        events_detach(d->events);
    snapconf_close(d->h);
    events_free(d->events);
    metrics_free(d->metrics);
    if (d->epfd >= 0)
        close(d->epfd);
    if (d->sfd >= 0)
        close(d->sfd);
    free(d->socket_path);
    free_paths(d);
}

/* ---- the event loop ------------------------------------------------------------ */

static void reload_on_signal(struct daemon *d)
{
    snapconf_reload_report report;
    snapconf_error err;
    struct timespec ts;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &ts);
#ifdef SNAPCONFD_HAVE_SYSTEMD
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
               (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
#endif
    dlog(SNAPCONF_LOG_INFO, "SIGHUP: reloading %s", d->config);
    rc = api_reload(&d->api, &report, &err);
    if (rc == 0)
        dlog(SNAPCONF_LOG_INFO, "SIGHUP: generation %" PRIu64 " is live (%s)", report.generation,
             report.published ? "published" : "unchanged");
    else
        dlog(SNAPCONF_LOG_ERROR, "SIGHUP: reload failed, generation %" PRIu64 " keeps serving: %s",
             report.generation, err.message);
    notify_status(d, true);
}

static void log_status(struct daemon *d)
{
    snapconf_status_info *st = malloc(sizeof(*st));

    if (st == NULL)
        return;
    snapconf_status(d->h, st);
    dlog(SNAPCONF_LOG_INFO,
         "status: generation %" PRIu64 ", %" PRIu64 " reloads, %" PRIu64
         " failed, last reload %s, %u watchers, %zu bytes",
         st->generation, st->reloads, st->failed_reloads, st->last_reload_ok ? "ok" : "failed",
         events_watchers(d->events), st->memory);
    free(st);
}

/* Returns the signal that asked to stop. */
static int run_loop(struct daemon *d)
{
    int timeout_ms = -1;

#ifdef SNAPCONFD_HAVE_SYSTEMD
    uint64_t watchdog_usec = 0;
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0)
        timeout_ms = (int)(watchdog_usec / 2000) > 0 ? (int)(watchdog_usec / 2000) : 1;
#endif
    for (;;) {
        struct epoll_event ev;
        int n = epoll_wait(d->epfd, &ev, 1, timeout_ms);

        if (n < 0 && errno != EINTR) {
            dlog(SNAPCONF_LOG_ERROR, "epoll_wait: %s", strerror(errno));
            return SIGTERM;
        }
        if (timeout_ms >= 0)
            notify("WATCHDOG=1");
        if (n <= 0)
            continue;
        struct signalfd_siginfo si;
        while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            switch (si.ssi_signo) {
            case SIGHUP:
                reload_on_signal(d);
                break;
            case SIGUSR1:
                log_status(d);
                break;
            case SIGTERM:
            case SIGINT:
                return (int)si.ssi_signo;
            default:
                break;
            }
        }
    }
}

/* Who may change the configuration, by uid and, where known, name. */
static void log_admins(const struct options *opt)
{
    char list[1024];
    size_t len = 0;

    if (opt->n_admins == 0) {
        dlog(SNAPCONF_LOG_INFO, "runtime changes (PUT, DELETE) are disabled: no --admin-uid");
        return;
    }
    list[0] = '\0';
    for (size_t i = 0; i < opt->n_admins && len < sizeof(list); i++) {
        struct passwd *pw = getpwuid(opt->admin_uids[i]);
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u%s%s%s", i > 0 ? ", " : "",
                                (unsigned)opt->admin_uids[i], pw != NULL ? " (" : "",
                                pw != NULL ? pw->pw_name : "", pw != NULL ? ")" : "");
    }
    dlog(SNAPCONF_LOG_INFO, "runtime changes (PUT, DELETE) allowed on the Unix socket for uid %s",
         list);
}

/* What is served, from which layers, and who may change it. */
static void log_started(struct daemon *d)
{
    snapconf_status_info *st = malloc(sizeof(*st));

    if (st == NULL)
        return;
    snapconf_status(d->h, st);
    dlog(SNAPCONF_LOG_INFO,
         "snapconfd %s serving generation %" PRIu64 " of %s (layers: %zu, runtime overrides: %zu)",
         snapconf_version_string(), st->generation, d->config, st->layers, st->overrides);
    free(st);
    for (size_t i = 0; i < d->opt.n_dropins; i++)
        dlog(SNAPCONF_LOG_INFO, "drop-ins: %s/*.yaml", d->dropins[i]);
    if (d->opt.env_prefix != NULL && d->opt.env_prefix[0] != '\0')
        dlog(SNAPCONF_LOG_INFO, "environment overrides: %s*", d->opt.env_prefix);
    if (d->state_file != NULL)
        dlog(SNAPCONF_LOG_INFO, "runtime overrides persist in %s", d->state_file);
    else
        dlog(SNAPCONF_LOG_INFO, "runtime overrides are kept in memory only (no --state-file)");
    log_admins(&d->opt);
}

int main(int argc, char **argv)
{
    struct daemon d;
    int rc;

    memset(&d, 0, sizeof(d));
    rc = parse_args(argc, argv, &d.opt);
    if (rc >= 0)
        return rc;
    dlog_init(d.opt.log_level);
    d.config = absolute_path(d.opt.config);
    if (d.config == NULL || !resolve_layers(&d)) {
        dlog(SNAPCONF_LOG_ERROR, "cannot resolve %s: %s", d.opt.config, strerror(errno));
        free_paths(&d);
        return EXIT_RUNTIME;
    }
    if (d.opt.check) {
        rc = check_config(&d);
        free_paths(&d);
        return rc;
    }
    rc = start(&d);
    if (rc == EXIT_OK) {
        log_started(&d);
        notify_status(&d, true);

        int sig = run_loop(&d);
        dlog(SNAPCONF_LOG_INFO, "%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
        notify("STOPPING=1");
    }
    finish(&d);
    if (rc == EXIT_OK)
        dlog(SNAPCONF_LOG_INFO, "stopped");
    dlog_stop();
    return rc;
}
