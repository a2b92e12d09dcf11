/*
 * service.c - a small service embedding libsnapconf, built the way a
 * downstream project builds it: against the installed library, with
 * pkg-config (Makefile) or CMake's find_package (CMakeLists.txt).
 *
 *     snapconf-example-service CONFIG [WORKERS]
 *
 * A pool of WORKERS threads (default 4) serves simulated requests; each
 * request reads a few keys from one pinned snapshot (snapconf_snap_begin /
 * snapconf_snap_end), so it sees one consistent configuration however many
 * reloads happen meanwhile.  A worker prints a line when the settings it
 * serves with change.  A subscription logs every change the library
 * publishes.  Edit CONFIG while it runs: valid edits go live, broken ones
 * are logged and the last good configuration keeps serving.
 *
 * Signals are handled the way a service should with libsnapconf's threads
 * around: blocked in every thread before any thread starts, then taken
 * synchronously with sigwait() in main.  SIGHUP reloads now; SIGTERM and
 * SIGINT stop the workers, close the handle and exit 0.
 *
 * Exit status: 0 after SIGTERM or SIGINT, 2 usage error, 4 the
 * configuration could not be loaded at start-up, 1 anything else.
 */
#define _POSIX_C_SOURCE 200809L

#include <snapconf.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WORKERS 64

/* The keys each request reads, compiled once: a compiled path is immutable
 * and shared by every worker, and its lookups are the cheapest. */
enum { KEY_NAME, KEY_PORT, KEY_TIMEOUT, KEY_FLOW, KEY_COUNT };
static const char *const key_text[KEY_COUNT] = {
    "service.name",
    "server.port",
    "server.read_timeout_ms",
    "features.new_checkout_flow",
};

struct service {
    snapconf *h;
    snapconf_path *keys[KEY_COUNT];
    atomic_bool stop;
    atomic_uint_fast64_t requests;
};

struct worker {
    struct service *svc;
    int id;
    pthread_t thread;
};

/* What one request was served with: copied out of the snapshot, since its
 * strings are borrowed and end with the read-side section. */
struct settings {
    char name[64];
    int64_t port;
    int64_t timeout_ms;
    bool new_flow;
    uint64_t generation;
};

static void read_settings(struct service *svc, struct settings *out)
{
    const snapconf_snap *s = snapconf_snap_begin(svc->h);
    const char *name = "unnamed";
    int64_t port = 80, timeout = 1000;
    bool flow = false;

    /* Missing or mistyped keys keep the defaults above. */
    snapconf_path_get_str(s, svc->keys[KEY_NAME], &name);
    snapconf_path_get_int(s, svc->keys[KEY_PORT], &port);
    snapconf_path_get_int(s, svc->keys[KEY_TIMEOUT], &timeout);
    snapconf_path_get_bool(s, svc->keys[KEY_FLOW], &flow);
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->port = port;
    out->timeout_ms = timeout;
    out->new_flow = flow;
    out->generation = snapconf_snap_generation(s);
    snapconf_snap_end(svc->h, s);
}

static bool same_settings(const struct settings *a, const struct settings *b)
{
    return strcmp(a->name, b->name) == 0 && a->port == b->port && a->timeout_ms == b->timeout_ms &&
           a->new_flow == b->new_flow;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct settings last = {.port = -1};

    while (!atomic_load(&w->svc->stop)) {
        struct settings cur;
        read_settings(w->svc, &cur);
        if (!same_settings(&cur, &last)) {
            printf("worker %d: generation %" PRIu64 ": service.name=%s server.port=%" PRId64
                   " server.read_timeout_ms=%" PRId64 " features.new_checkout_flow=%s\n",
                   w->id, cur.generation, cur.name, cur.port, cur.timeout_ms,
                   cur.new_flow ? "true" : "false");
            last = cur;
        }
        atomic_fetch_add(&w->svc->requests, 1);
        /* The request's own work would go here, outside the read-side
         * section: a section is kept short, since a reload waits for it. */
        sleep_ms(5);
    }
    return NULL;
}

/* Writes a short rendering of a node (scalars as YAML would show them,
 * collections by size) into buf. */
static void render(const snapconf_node *node, char *buf, size_t size)
{
    const char *str;
    int64_t i;
    double d;
    bool b;

    if (node == NULL) {
        snprintf(buf, size, "(absent)");
        return;
    }
    switch (snapconf_node_type(node)) {
    case SNAPCONF_TYPE_NULL:
        snprintf(buf, size, "null");
        break;
    case SNAPCONF_TYPE_BOOL:
        snapconf_node_bool(node, &b);
        snprintf(buf, size, "%s", b ? "true" : "false");
        break;
    case SNAPCONF_TYPE_INT:
        snapconf_node_int(node, &i);
        snprintf(buf, size, "%" PRId64, i);
        break;
    case SNAPCONF_TYPE_FLOAT:
        snapconf_node_double(node, &d);
        snprintf(buf, size, "%g", d);
        break;
    case SNAPCONF_TYPE_STRING:
        snapconf_node_str(node, &str, NULL);
        snprintf(buf, size, "\"%s\"", str);
        break;
    default:
        snprintf(buf, size, "(%s of %zu)", snapconf_type_name(snapconf_node_type(node)),
                 snapconf_node_size(node));
        break;
    }
}

/* The subscription: runs on the writer's thread after each publication,
 * while both snapshots are valid.  It only reads and prints. */
static void on_change(void *userdata, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                      const snapconf_change *changes, size_t count)
{
    (void)userdata;
    for (size_t i = 0; i < count; i++) {
        char before[128], after[128];
        render(changes[i].old_node, before, sizeof(before));
        render(changes[i].new_node, after, sizeof(after));
        printf("change: generation %" PRIu64 " -> %" PRIu64 ": %s: %s -> %s\n",
               snapconf_snap_generation(old_snap), snapconf_snap_generation(new_snap),
               changes[i].path, before, after);
    }
}

static void on_log(void *userdata, snapconf_log_level level, const char *message)
{
    (void)userdata;
    if (level <= SNAPCONF_LOG_WARNING)
        fprintf(stderr, "snapconf: %s\n", message);
}

static int parse_workers(const char *text, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || n < 1 || n > MAX_WORKERS)
        return -1;
    *out = (int)n;
    return 0;
}

/* Takes SIGHUP, SIGTERM and SIGINT until one of the last two arrives. */
static void serve_signals(struct service *svc, const sigset_t *set)
{
    for (;;) {
        int sig;
        if (sigwait(set, &sig) != 0)
            continue;
        if (sig != SIGHUP) {
            printf("signal %d: stopping\n", sig);
            return;
        }
        snapconf_error err;
        if (snapconf_reload(svc->h, &err) != 0)
            fprintf(stderr, "reload refused, still serving the last good configuration: %s\n",
                    err.message);
    }
}

static void close_service(struct service *svc)
{
    snapconf_close(svc->h);
    for (int k = 0; k < KEY_COUNT; k++)
        snapconf_path_free(svc->keys[k]);
}

int main(int argc, char **argv)
{
    static struct service svc;
    static struct worker workers[MAX_WORKERS];
    int nworkers = 4, started = 0, status = 0;

    if (argc < 2 || argc > 3 || (argc == 3 && parse_workers(argv[2], &nworkers) != 0)) {
        fprintf(stderr, "usage: %s CONFIG [WORKERS (1-%d)]\n", argv[0], MAX_WORKERS);
        return 2;
    }
    /* One line per write, so that a log follower sees whole lines. */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Blocked before any thread exists, so every thread inherits the mask
     * and the signals wait for sigwait() below. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    snapconf_error err;
    for (int k = 0; k < KEY_COUNT; k++) {
        if (snapconf_path_compile(key_text[k], &svc.keys[k], &err) != 0) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
    }
    snapconf_options opts;
    snapconf_options_init(&opts);
    opts.log = on_log;
    opts.log_level = SNAPCONF_LOG_WARNING;
    if (snapconf_open(&svc.h, argv[1], &opts, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        close_service(&svc);
        return 4;
    }
    int sub = snapconf_subscribe(svc.h, "", on_change, NULL);
    if (sub < 0) {
        fprintf(stderr, "subscribe: %s\n", snapconf_strerror(sub));
        close_service(&svc);
        return 1;
    }

    for (; started < nworkers; started++) {
        workers[started].svc = &svc;
        workers[started].id = started + 1;
        int rc = pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            status = 1;
            break;
        }
    }
    if (status == 0) {
        printf("ready: %s, %d workers, libsnapconf %s\n", argv[1], nworkers,
               snapconf_version_string());
        serve_signals(&svc, &set);
    }

    /* Clean shutdown: workers first (they read through the handle), then
     * the subscription, then the handle itself. */
    atomic_store(&svc.stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    snapconf_unsubscribe(svc.h, sub);
    close_service(&svc);
    printf("stopped: %" PRIu64 " requests served\n", (uint64_t)atomic_load(&svc.requests));
    return status;
}
