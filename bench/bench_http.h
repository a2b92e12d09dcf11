/*
 * bench_http.h - snapconf-bench-daemon's HTTP side: a libcurl client for
 * snapconfd's Unix socket, and the throughput run (client threads reading
 * keys while a reloader thread rewrites the config every 10 ms).
 */
#ifndef SNAPCONF_BENCH_HTTP_H
#define SNAPCONF_BENCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

/* One keep-alive connection to the daemon: an easy handle and its body. */
typedef struct http_client {
    CURL *curl;
    char *body;
    size_t len, cap;
    char error[CURL_ERROR_SIZE];
} http_client;

/* Returns 0, or -1 when out of memory. */
int http_client_init(http_client *c, const char *socket);
void http_client_free(http_client *c);

/*
 * GET (or POST, with an empty body) http://localhost<target>; the body is
 * in c->body (NUL-terminated), the status in *status.  Returns 0, or -1 on
 * a transfer error (c->error says which).
 */
int http_request(http_client *c, const char *method, const char *target, long *status);

/* What GET /v1/status says. */
typedef struct daemon_status {
    uint64_t generation, reloads, failed_reloads;
} daemon_status;

/* Returns 0, or -1 when the daemon did not answer 200 with those fields. */
int http_status(http_client *c, daemon_status *st);

/*
 * One GET of target on a connection of its own (new handle, connect,
 * request, close): what a one-shot client such as the CLI pays for the
 * request itself.  Returns the time in ns, 0 when the answer was not 200.
 */
uint64_t http_oneshot_ns(const char *socket, const char *target);

/* How the throughput run changes the configuration meanwhile. */
typedef enum reload_mode {
    RELOAD_NONE,  /* no changes: the baseline */
    RELOAD_FILE,  /* rewrite the file (temp + rename); inotify notices */
    RELOAD_FORCE, /* rewrite it and POST /v1/reload: one reload per tick */
} reload_mode;

#define LOAD_MAX_THREADS 8

typedef struct load_opts {
    const char *socket;
    const char *config;      /* the file the daemon serves */
    const char *versions[2]; /* its two contents the reloader alternates */
    size_t version_len[2];
    char *const *targets;   /* request targets, e.g. /v1/keys/server.port */
    char *const *canonical; /* the "path" each answer must carry */
    size_t ntargets;
    unsigned threads;   /* client threads, one connection each */
    double seconds;     /* length of the timed run */
    uint64_t period_ns; /* between the reloader's changes */
    reload_mode mode;
    unsigned on_disk;                /* which version the file holds now (0 or 1) */
    volatile const int *interrupted; /* set by a signal handler: stop early */
} load_opts;

typedef struct load_result {
    uint64_t requests; /* answered, all threads */
    double seconds;    /* longest thread's timed run */
    double per_thread_rps[LOAD_MAX_THREADS];
    double p50_us, p99_us, max_us; /* request latency, all threads */
    uint64_t failures;             /* bad answers or transfers */
    char first_failure[256];
    uint64_t writes, posts, post_failures, missed_ticks;
    double write_ms_max, post_ms_max; /* the slowest rewrite, POST /v1/reload */
    daemon_status before, after;      /* /v1/status around the run */
    double client_cpu;                /* client threads' CPU / wall time */
    unsigned on_disk;                 /* which version the file holds after the run */
} load_result;

/* Runs the threads for o->seconds.  Returns 0 when the run took place
 * (failures are counted in r), -1 when it could not be set up. */
int load_run(const load_opts *o, load_result *r);

#endif /* SNAPCONF_BENCH_HTTP_H */
