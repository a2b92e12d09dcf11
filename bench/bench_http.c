/*
 * bench_http.c - a libcurl client for snapconfd's socket and the
 * throughput run with a reloader thread.  See bench_http.h.
 */
#include "bench_http.h"

#include "bench_files.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------------
 * The client
 * ------------------------------------------------------------------------- */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    http_client *c = userdata;
    size_t n = size * nmemb;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *body = realloc(c->body, cap);
        if (!body)
            return CURL_WRITEFUNC_ERROR;
        c->body = body;
        c->cap = cap;
    }
    memcpy(c->body + c->len, ptr, n);
    c->len += n;
    c->body[c->len] = '\0';
    return n;
}

/* The options every handle gets: the socket, no proxy from the environment
 * (a local socket's requests must not be diverted), no signals (threads). */
static bool setup_handle(CURL *curl, const char *socket, char *errbuf)
{
    return curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket) == CURLE_OK &&
           curl_easy_setopt(curl, CURLOPT_PROXY, "") == CURLE_OK &&
           curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
           curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
           curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L) == CURLE_OK;
}

int http_client_init(http_client *c, const char *socket)
{
    memset(c, 0, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl || !setup_handle(c->curl, socket, c->error) ||
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c) != CURLE_OK) {
        http_client_free(c);
        return -1;
    }
    return 0;
}

void http_client_free(http_client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->body);
    memset(c, 0, sizeof(*c));
}

int http_request(http_client *c, const char *method, const char *target, long *status)
{
    char url[2048];
    snprintf(url, sizeof(url), "http://localhost%s", target);
    bool post = strcmp(method, "POST") == 0;
    c->len = 0;
    c->error[0] = '\0';
    *status = 0;
    /* The handle keeps its connection between requests: keep-alive. */
    if (curl_easy_setopt(c->curl, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(c->curl, CURLOPT_POST, post ? 1L : 0L) != CURLE_OK ||
        (post && curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "") != CURLE_OK) ||
        (!post && curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK))
        return -1;
    CURLcode rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        if (!c->error[0])
            snprintf(c->error, sizeof(c->error), "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    if (!c->body)
        collect("", 1, 0, c); /* an empty body is still a string */
    return c->body ? 0 : -1;
}

static bool get_u64(json_t *obj, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

int http_status(http_client *c, daemon_status *st)
{
    long status;
    if (http_request(c, "GET", "/v1/status", &status) != 0 || status != 200)
        return -1;
    json_t *root = json_loadb(c->body, c->len, 0, NULL);
    bool ok = root && get_u64(root, "generation", &st->generation) &&
              get_u64(root, "reloads", &st->reloads) &&
              get_u64(root, "failed_reloads", &st->failed_reloads);
    json_decref(root);
    return ok ? 0 : -1;
}

uint64_t http_oneshot_ns(const char *socket, const char *target)
{
    char url[2048], errbuf[CURL_ERROR_SIZE];
    snprintf(url, sizeof(url), "http://localhost%s", target);
    http_client sink = {0};
    uint64_t t0 = mono_ns();
    CURL *curl = curl_easy_init();
    long status = 0;
    if (curl && setup_handle(curl, socket, errbuf) &&
        curl_easy_setopt(curl, CURLOPT_URL, url) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect) == CURLE_OK &&
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink) == CURLE_OK &&
        curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (curl)
        curl_easy_cleanup(curl);
    uint64_t ns = mono_ns() - t0;
    free(sink.body);
    return status == 200 ? ns : 0;
}

/* ---------------------------------------------------------------------------
 * The throughput run
 * ------------------------------------------------------------------------- */

typedef struct load_shared {
    const load_opts *o;
    pthread_barrier_t start;
    atomic_bool stop;
} load_shared;

typedef struct client_thread {
    load_shared *sh;
    unsigned index;
    http_client c;
    uint64_t requests, failures, ns, cpu_ns;
    uint64_t last_generation;
    float *lat_us; /* one per request */
    size_t nlat, caplat;
    bool oom;
    char first_failure[256];
} client_thread;

typedef struct reloader_thread {
    load_shared *sh;
    http_client c;
    uint64_t writes, posts, failures, missed_ticks;
    uint64_t write_ns_max, post_ns_max; /* the slowest rewrite and POST */
    unsigned version;                   /* the one on disk */
    char first_failure[256];
} reloader_thread;

static void fail(uint64_t *count, char *first, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Counts a failure and keeps the first one's description. */
static void fail(uint64_t *count, char *first, size_t size, const char *fmt, ...)
{
    if ((*count)++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(first, size, fmt, ap);
        va_end(ap);
    }
}

static void record_latency(client_thread *t, uint64_t ns)
{
    if (t->nlat == t->caplat) {
        size_t cap = t->caplat ? 2 * t->caplat : 65536;
        float *l = realloc(t->lat_us, cap * sizeof(*l));
        if (!l) {
            t->oom = true;
            return;
        }
        t->lat_us = l;
        t->caplat = cap;
    }
    t->lat_us[t->nlat++] = (float)((double)ns / 1e3);
}

/* The X-Snapconf-Generation header, which must match the body's. */
static bool header_generation(CURL *curl, uint64_t *out)
{
    struct curl_header *h;
    if (curl_easy_header(curl, "X-Snapconf-Generation", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return false;
    char *end;
    unsigned long long v = strtoull(h->value, &end, 10);
    *out = v;
    return end != h->value && *end == '\0';
}

/* The answer to GET target: 200, JSON, the canonical path, a generation
 * that never goes backwards on this thread and equals the header's. */
static void check_answer(client_thread *t, size_t i, long status)
{
    const load_opts *o = t->sh->o;
    char *ff = t->first_failure;
    size_t fs = sizeof(t->first_failure);
    if (status != 200) {
        fail(&t->failures, ff, fs, "%s: status %ld: %.120s", o->targets[i], status, t->c.body);
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(t->c.body, t->c.len, 0, &jerr);
    uint64_t gen = 0, hgen = 0;
    const char *path = json_string_value(json_object_get(root, "path"));
    if (!root)
        fail(&t->failures, ff, fs, "%s: not JSON (%s): %.120s", o->targets[i], jerr.text,
             t->c.body);
    else if (!get_u64(root, "generation", &gen))
        fail(&t->failures, ff, fs, "%s: no generation: %.120s", o->targets[i], t->c.body);
    else if (gen < t->last_generation)
        fail(&t->failures, ff, fs, "%s: generation went back from %" PRIu64 " to %" PRIu64,
             o->targets[i], t->last_generation, gen);
    else if (!path || strcmp(path, o->canonical[i]) != 0)
        fail(&t->failures, ff, fs, "%s: path %s, expected %s", o->targets[i],
             path ? path : "(none)", o->canonical[i]);
    else if (!header_generation(t->c.curl, &hgen) || hgen != gen)
        fail(&t->failures, ff, fs, "%s: X-Snapconf-Generation %" PRIu64 " but body %" PRIu64,
             o->targets[i], hgen, gen);
    if (gen > t->last_generation)
        t->last_generation = gen;
    json_decref(root);
}

static void one_request(client_thread *t, size_t i, bool timed)
{
    long status;
    uint64_t t0 = mono_ns();
    int rc = http_request(&t->c, "GET", t->sh->o->targets[i], &status);
    uint64_t ns = mono_ns() - t0;
    if (rc != 0) {
        fail(&t->failures, t->first_failure, sizeof(t->first_failure), "%s: %s",
             t->sh->o->targets[i], t->c.error);
        return;
    }
    if (timed) {
        t->requests++;
        record_latency(t, ns);
    }
    check_answer(t, i, status);
}

static void *client_main(void *arg)
{
    client_thread *t = arg;
    const load_opts *o = t->sh->o;
    /* Each thread starts at its own key; the first request opens the
     * connection, which the timed run then keeps. */
    size_t i = t->index % o->ntargets;
    one_request(t, i, false);
    pthread_barrier_wait(&t->sh->start);
    uint64_t t0 = mono_ns(), c0 = thread_cpu_ns();
    while (!atomic_load_explicit(&t->sh->stop, memory_order_relaxed)) {
        i = i + 1 == o->ntargets ? 0 : i + 1;
        one_request(t, i, true);
    }
    t->ns = mono_ns() - t0;
    t->cpu_ns = thread_cpu_ns() - c0;
    return NULL;
}

static void sleep_until(uint64_t deadline)
{
    struct timespec ts = {(time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* One change: the other version of the file, renamed over it as editors
 * do, then (RELOAD_FORCE) a reload request so that every tick reloads. */
static void reload_once(reloader_thread *r, unsigned version)
{
    const load_opts *o = r->sh->o;
    char *ff = r->first_failure;
    size_t fs = sizeof(r->first_failure);
    uint64_t t0 = mono_ns();
    int rc = bench_write_rename(o->config, o->versions[version], o->version_len[version]);
    uint64_t t1 = mono_ns();
    if (rc != 0) {
        fail(&r->failures, ff, fs, "rewriting %s: %s", o->config, strerror(errno));
        return;
    }
    r->writes++;
    r->write_ns_max = t1 - t0 > r->write_ns_max ? t1 - t0 : r->write_ns_max;
    if (o->mode != RELOAD_FORCE)
        return;
    long status;
    rc = http_request(&r->c, "POST", "/v1/reload", &status);
    uint64_t t2 = mono_ns();
    r->post_ns_max = t2 - t1 > r->post_ns_max ? t2 - t1 : r->post_ns_max;
    if (rc != 0)
        fail(&r->failures, ff, fs, "POST /v1/reload: %s", r->c.error);
    else if (status != 200)
        fail(&r->failures, ff, fs, "POST /v1/reload: status %ld: %.120s", status, r->c.body);
    else
        r->posts++;
}

/* Changes the file on a fixed grid of absolute deadlines; a change that
 * overruns its tick makes the reloader skip the ticks it missed. */
static void *reloader_main(void *arg)
{
    reloader_thread *r = arg;
    const load_opts *o = r->sh->o;
    pthread_barrier_wait(&r->sh->start);
    uint64_t next = mono_ns();
    while (!atomic_load_explicit(&r->sh->stop, memory_order_relaxed)) {
        next += o->period_ns;
        uint64_t now = mono_ns();
        if (now > next) {
            r->missed_ticks += (now - next) / o->period_ns + 1;
            next = now + o->period_ns;
        }
        sleep_until(next);
        if (atomic_load_explicit(&r->sh->stop, memory_order_relaxed))
            break;
        /* Always the other version: identical content publishes nothing. */
        r->version ^= 1;
        reload_once(r, r->version);
    }
    /* A change still under way when the run ended overran ticks too. */
    uint64_t now = mono_ns();
    if (now > next)
        r->missed_ticks += (now - next) / o->period_ns;
    return NULL;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double pct(const float *s, size_t n, double p)
{
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    return n ? s[rank == 0 ? 0 : rank - 1] : 0;
}

/* Merges the threads' figures into r; returns -1 when out of memory. */
static int summarise(client_thread *ct, unsigned n, reloader_thread *rt, load_result *r)
{
    size_t total = 0;
    double cpu = 0;
    for (unsigned i = 0; i < n; i++) {
        r->requests += ct[i].requests;
        r->failures += ct[i].failures;
        double secs = (double)ct[i].ns / 1e9;
        r->per_thread_rps[i] = secs > 0 ? (double)ct[i].requests / secs : 0;
        r->seconds = secs > r->seconds ? secs : r->seconds;
        cpu += (double)ct[i].cpu_ns / 1e9;
        total += ct[i].nlat;
        if (ct[i].failures && !r->first_failure[0])
            snprintf(r->first_failure, sizeof(r->first_failure), "%s", ct[i].first_failure);
        if (ct[i].oom)
            return -1;
    }
    r->client_cpu = r->seconds > 0 ? cpu / r->seconds : 0;
    r->writes = rt->writes;
    r->posts = rt->posts;
    r->post_failures = rt->failures;
    r->missed_ticks = rt->missed_ticks;
    r->on_disk = rt->version;
    r->write_ms_max = (double)rt->write_ns_max / 1e6;
    r->post_ms_max = (double)rt->post_ns_max / 1e6;
    if (rt->failures && !r->first_failure[0])
        snprintf(r->first_failure, sizeof(r->first_failure), "%s", rt->first_failure);
    float *all = malloc((total ? total : 1) * sizeof(*all));
    if (!all)
        return -1;
    size_t k = 0;
    for (unsigned i = 0; i < n; i++) {
        memcpy(all + k, ct[i].lat_us, ct[i].nlat * sizeof(*all));
        k += ct[i].nlat;
    }
    qsort(all, total, sizeof(*all), cmp_float);
    r->p50_us = pct(all, total, 50);
    r->p99_us = pct(all, total, 99);
    r->max_us = total ? all[total - 1] : 0;
    free(all);
    return 0;
}

/* Sleeps for the run's length, a little at a time so that ^C stops it. */
static void run_for(const load_opts *o)
{
    uint64_t end = mono_ns() + (uint64_t)(o->seconds * 1e9);
    for (uint64_t now = mono_ns(); now < end && !*o->interrupted; now = mono_ns()) {
        uint64_t step = end - now < 50000000u ? end - now : 50000000u;
        sleep_until(now + step);
    }
}

/* One connection per client thread, and the reloader's for its POSTs. */
static int open_clients(const load_opts *o, client_thread *ct, reloader_thread *rt)
{
    for (unsigned i = 0; i < o->threads; i++)
        if (http_client_init(&ct[i].c, o->socket) != 0)
            return -1;
    return o->mode == RELOAD_FORCE ? http_client_init(&rt->c, o->socket) : 0;
}

static int start_threads(load_shared *sh, client_thread *ct, reloader_thread *rt, pthread_t *th,
                         unsigned *started)
{
    const load_opts *o = sh->o;
    for (unsigned i = 0; i < o->threads; i++) {
        ct[i].sh = sh;
        /* Spread the threads' starting keys over the list. */
        ct[i].index = i * (unsigned)(o->ntargets / o->threads + 1);
        if (pthread_create(&th[(*started)++], NULL, client_main, &ct[i]) != 0)
            return -1;
    }
    rt->sh = sh;
    rt->version = o->on_disk;
    if (o->mode != RELOAD_NONE && pthread_create(&th[(*started)++], NULL, reloader_main, rt) != 0)
        return -1;
    return 0;
}

int load_run(const load_opts *o, load_result *r)
{
    memset(r, 0, sizeof(*r));
    if (o->threads == 0 || o->threads > LOAD_MAX_THREADS || o->ntargets == 0)
        return -1;
    load_shared sh = {.o = o};
    atomic_init(&sh.stop, false);
    client_thread ct[LOAD_MAX_THREADS] = {0};
    reloader_thread rt = {0};
    pthread_t th[LOAD_MAX_THREADS + 1];
    unsigned started = 0, parties = o->threads + 1 + (o->mode != RELOAD_NONE);
    http_client status = {0};
    int rc = http_client_init(&status, o->socket) == 0 && open_clients(o, ct, &rt) == 0 &&
                     http_status(&status, &r->before) == 0
                 ? 0
                 : -1;
    if (rc == 0)
        pthread_barrier_init(&sh.start, NULL, parties);
    if (rc == 0 && start_threads(&sh, ct, &rt, th, &started) != 0) {
        /* Cannot happen on a sane system, and the barrier would hang. */
        fputs("snapconf-bench-daemon: cannot start the client threads\n", stderr);
        abort();
    }
    if (rc == 0) {
        pthread_barrier_wait(&sh.start);
        run_for(o);
        atomic_store(&sh.stop, true);
        for (unsigned i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&sh.start);
        if (http_status(&status, &r->after) != 0)
            fail(&r->failures, r->first_failure, sizeof(r->first_failure),
                 "GET /v1/status after the run failed");
        rc = summarise(ct, o->threads, &rt, r);
        r->failures += rt.failures;
    }
    for (unsigned i = 0; i < o->threads; i++) {
        http_client_free(&ct[i].c);
        free(ct[i].lat_us);
    }
    http_client_free(&rt.c);
    http_client_free(&status);
    return rc;
}
