/*
 * 8 concurrent clients (threads, each with its own kept-alive libcurl
 * handle) issue requests in a loop while the file is edited 200 times
 * (rename over, each edit followed by POST /v1/reload so that every edit is
 * its own generation).  Each edit sets v and every marker a1..a20 to the
 * edit's number, so a complete generation has them all equal.
 *
 * Every answer must come from one complete generation: a snapshot or the
 * root has all markers equal to v; a single key's value is the value of its
 * generation (one value per generation across all clients, and the one the
 * writer published for it); the X-Snapconf-Generation header is the body's
 * generation; and no client ever sees a generation (or a value) go
 * backwards.
 */
#include "dtest.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#define CLIENTS 8
#define EDITS 200
#define MARKERS 20
#define MAX_GEN 4096

static atomic_bool stop_clients;
static atomic_int failures;
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_failure[1024];
/* The value each generation was seen with, -1: not seen. */
static _Atomic long long seen_value[MAX_GEN];
/* The value the writer published at each generation, -1: unknown. */
static long long published_value[MAX_GEN];
static char sock_path[PATH_MAX];

static void client_fail(int id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void client_fail(int id, const char *fmt, ...)
{
    if (atomic_fetch_add(&failures, 1) == 0) {
        pthread_mutex_lock(&failure_lock);
        int n = snprintf(first_failure, sizeof first_failure, "client %d: ", id);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(first_failure + n, sizeof first_failure - (size_t)n, fmt, ap);
        va_end(ap);
        pthread_mutex_unlock(&failure_lock);
    }
}

struct client {
    int id;
    long requests;
    long long first_gen, last_gen, last_value;
};

/* Records gen -> value; a second, different value for one generation is a
 * torn or mixed answer. */
static void observe(struct client *c, long long gen, long long value, const char *what)
{
    if (gen < 1 || gen >= MAX_GEN) {
        client_fail(c->id, "%s: generation %lld out of range", what, gen);
        return;
    }
    long long expected = -1;
    if (!atomic_compare_exchange_strong(&seen_value[gen], &expected, value) && expected != value)
        client_fail(c->id, "%s: generation %lld answered %lld, and %lld elsewhere", what, gen,
                    value, expected);
    if (gen < c->last_gen)
        client_fail(c->id, "%s: generation went back from %lld to %lld", what, c->last_gen, gen);
    if (gen > c->last_gen && value <= c->last_value && c->last_gen > 0)
        client_fail(c->id, "%s: generation %lld -> %lld but value %lld -> %lld", what, c->last_gen,
                    gen, c->last_value, value);
    if (gen == c->last_gen && value != c->last_value)
        client_fail(c->id, "%s: generation %lld with values %lld and %lld", what, gen,
                    c->last_value, value);
    if (c->first_gen == 0)
        c->first_gen = gen;
    c->last_gen = gen;
    c->last_value = value;
}

/* A config object: all markers equal to v; returns v (or -1 after
 * recording a failure). */
static long long complete_value(struct client *c, json_t *config, const char *what)
{
    json_t *v = json_object_get(config, "v");
    if (!json_is_integer(v)) {
        client_fail(c->id, "%s: no integer v", what);
        return -1;
    }
    long long want = json_integer_value(v);
    for (int k = 1; k <= MARKERS; k++) {
        char key[8];
        snprintf(key, sizeof key, "a%d", k);
        json_t *a = json_object_get(config, key);
        if (!json_is_integer(a) || json_integer_value(a) != want) {
            client_fail(c->id, "%s: torn snapshot: v=%lld but %s=%lld", what, want, key,
                        json_is_integer(a) ? (long long)json_integer_value(a) : -999);
            return -1;
        }
    }
    return want;
}

/* The clients loop without pause; niced, they leave the writer (and the
 * daemon) the CPU they need on a busy 2-core machine, so that the 200 edits
 * take seconds, not minutes, while the clients still take every cycle left. */
static void nice_this_thread(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    nice_this_thread();
    CURL *curl = curl_easy_init();
    int mode = c->id % 4;
    int k = 0;
    while (!atomic_load(&stop_clients)) {
        char target[64];
        switch (mode) {
        case 0:
            snprintf(target, sizeof target, "/v1/snapshot");
            break;
        case 1:
            snprintf(target, sizeof target, "/v1/keys/");
            break;
        case 2:
            snprintf(target, sizeof target, "/v1/keys/a%d", k % MARKERS + 1);
            break;
        default:
            snprintf(target, sizeof target, "/v1/keys/v");
            break;
        }
        k++;
        struct http_resp r;
        if (!http_try(curl, &r, sock_path, "GET", target)) {
            client_fail(c->id, "GET %s: %s", target, r.body);
            http_resp_free(&r);
            break;
        }
        c->requests++;
        if (r.status != 200 || !json_is_object(r.json)) {
            client_fail(c->id, "GET %s: HTTP %ld %s", target, r.status, r.body);
            http_resp_free(&r);
            break;
        }
        json_t *gen = json_object_get(r.json, "generation");
        char hv[64];
        long long hgen =
            http_header(&r, "X-Snapconf-Generation", hv, sizeof hv) ? strtoll(hv, NULL, 10) : -1;
        if (!json_is_integer(gen) || json_integer_value(gen) != hgen) {
            client_fail(c->id, "GET %s: header generation %lld, body %s", target, hgen, r.body);
            http_resp_free(&r);
            break;
        }
        long long value = -1;
        if (mode == 0)
            value = complete_value(c, json_object_get(r.json, "config"), target);
        else if (mode == 1)
            value = complete_value(c, json_object_get(r.json, "value"), target);
        else if (json_is_integer(json_object_get(r.json, "value")))
            value = json_integer_value(json_object_get(r.json, "value"));
        else
            client_fail(c->id, "GET %s: value is not an integer: %s", target, r.body);
        if (value >= 0)
            observe(c, json_integer_value(gen), value, target);
        http_resp_free(&r);
        if (atomic_load(&failures) > 0)
            break;
    }
    curl_easy_cleanup(curl);
    return NULL;
}

static char *marker_config(int v)
{
    struct dt_buf b = {0};
    char line[32];
    snprintf(line, sizeof line, "v: %d\n", v);
    dt_buf_add(&b, line, strlen(line));
    for (int k = 1; k <= MARKERS; k++) {
        snprintf(line, sizeof line, "a%d: %d\n", k, v);
        dt_buf_add(&b, line, strlen(line));
    }
    return b.p;
}

static void test_concurrent_clients_during_edits(void **state)
{
    struct dfx *f = *state;
    char *text = marker_config(0);
    live_put_trunc(f->conf, text);
    free(text);
    dt_start(f);
    snprintf(sock_path, sizeof sock_path, "%s", f->sock);
    for (int i = 0; i < MAX_GEN; i++) {
        atomic_store(&seen_value[i], -1);
        published_value[i] = -1;
    }
    long long g0 = dt_generation(f);
    published_value[g0] = 0;

    pthread_t threads[CLIENTS];
    struct client clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        memset(&clients[i], 0, sizeof clients[i]);
        clients[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, client_main, &clients[i]), 0);
    }

    CURL *curl = curl_easy_init();
    char writer_error[1024] = "";
    int64_t worst_reload = 0;
    long long last = g0;
    int64_t t0 = live_now_ms();
    for (int i = 1; i <= EDITS && atomic_load(&failures) == 0; i++) {
        text = marker_config(i);
        live_put_rename(f->conf, text);
        free(text);
        struct http_resp r;
        int64_t r0 = live_now_ms();
        bool ok = http_try(curl, &r, f->sock, "POST", "/v1/reload");
        int64_t rt = live_now_ms() - r0;
        if (rt > worst_reload)
            worst_reload = rt;
        if (!ok || r.status != 200 || !json_is_object(r.json)) {
            snprintf(writer_error, sizeof writer_error, "edit %d: POST /v1/reload: HTTP %ld %s", i,
                     r.status, r.body);
            http_resp_free(&r);
            break;
        }
        long long g = json_integer_value(json_object_get(r.json, "generation"));
        http_resp_free(&r);
        if (g <= last || g >= MAX_GEN) {
            snprintf(writer_error, sizeof writer_error,
                     "edit %d: reload answered generation %lld after %lld", i, g, last);
            break;
        }
        published_value[g] = i;
        last = g;
        live_sleep_ms(1); /* let the clients run between edits */
    }
    int64_t took = live_now_ms() - t0;
    curl_easy_cleanup(curl);
    /* The clients see the last generation too. */
    live_sleep_ms(50);
    atomic_store(&stop_clients, true);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);

    if (writer_error[0])
        fail_msg("%s", writer_error);
    if (atomic_load(&failures) > 0)
        fail_msg("%d failed answers; first: %s", atomic_load(&failures), first_failure);
    long total = 0;
    for (int i = 0; i < CLIENTS; i++) {
        total += clients[i].requests;
        if (clients[i].requests < 20)
            fail_msg("client %d made only %ld requests", i, clients[i].requests);
        if (clients[i].last_gen <= clients[i].first_gen)
            fail_msg("client %d saw no generation change (%lld..%lld)", i, clients[i].first_gen,
                     clients[i].last_gen);
    }
    assert_int_equal(last, g0 + EDITS);
    int seen_gens = 0;
    for (long long g = g0; g <= last; g++) {
        long long v = atomic_load(&seen_value[g]);
        if (v < 0)
            continue;
        seen_gens++;
        if (v != published_value[g])
            fail_msg("generation %lld was answered with %lld, but it published %lld", g, v,
                     published_value[g]);
    }
    print_message("%d edits in %lld ms (slowest reload %lld ms); %ld answers over %d clients, %d "
                  "generations seen\n",
                  EDITS, (long long)took, (long long)worst_reload, total, CLIENTS, seen_gens);
    assert_true(seen_gens >= 10);
    assert_int_equal(dt_int_value(f, "a20"), EDITS);

    dt_expect_running(f);
    dt_stop(f);
}

/* ------------------------------------------------------------------------- */
/* Concurrent reloads                                                         */

#define RELOADERS 8
#define RELOAD_CHANGES 100

struct reloader {
    int id;
    long requests, published, collisions;
    long long last_gen;
    long long published_gens[RELOAD_CHANGES * 2];
};

/* A reload that read the file while a pwrite() changed it is refused
 * (422, SNAPCONF_EIO, "changed while it was being read") rather than
 * risk publishing torn bytes; that is the one failure allowed here. */
static bool is_read_collision(const struct http_resp *resp)
{
    json_t *e = json_object_get(resp->json, "error");
    const char *code = json_string_value(json_object_get(e, "snapconf_code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    return resp->status == 422 && code != NULL && strcmp(code, "SNAPCONF_EIO") == 0 &&
           msg != NULL && strstr(msg, "changed while it was being read") != NULL;
}

static void *reloader_main(void *arg)
{
    struct reloader *r = arg;
    nice_this_thread();
    CURL *curl = curl_easy_init();
    while (!atomic_load(&stop_clients)) {
        struct http_resp resp;
        bool answered = http_try(curl, &resp, sock_path, "POST", "/v1/reload");
        if (answered && is_read_collision(&resp)) {
            r->collisions++;
            http_resp_free(&resp);
            continue;
        }
        if (!answered || resp.status != 200 || !json_is_object(resp.json)) {
            client_fail(r->id, "POST /v1/reload: HTTP %ld %s", resp.status, resp.body);
            http_resp_free(&resp);
            break;
        }
        r->requests++;
        long long g = json_integer_value(json_object_get(resp.json, "generation"));
        json_t *p = json_object_get(resp.json, "published");
        if (!json_is_boolean(p))
            client_fail(r->id, "no boolean \"published\": %s", resp.body);
        if (g < r->last_gen)
            client_fail(r->id, "reload answered generation %lld after %lld", g, r->last_gen);
        r->last_gen = g;
        if (json_is_true(p)) {
            if (r->published < RELOAD_CHANGES * 2)
                r->published_gens[r->published] = g;
            r->published++;
        }
        http_resp_free(&resp);
        if (atomic_load(&failures) > 0)
            break;
    }
    curl_easy_cleanup(curl);
    return NULL;
}

/* 8 clients POST /v1/reload in a loop while the file changes 100 times
 * behind the watcher's back (through an fd kept open: no close-after-write
 * event), so that only their reloads publish: each generation is reported
 * "published": true by exactly one of them. */
static void test_concurrent_reloads(void **state)
{
    struct dfx *f = *state;
    live_put_trunc(f->conf, "v: 0000\n");
    dt_start(f);
    snprintf(sock_path, sizeof sock_path, "%s", f->sock);
    atomic_store(&stop_clients, false);
    atomic_store(&failures, 0);
    long long g0 = dt_generation(f);
    int fd = open(f->conf, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);

    pthread_t threads[RELOADERS];
    struct reloader *rs = calloc(RELOADERS, sizeof *rs);
    assert_non_null(rs);
    for (int i = 0; i < RELOADERS; i++) {
        rs[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, reloader_main, &rs[i]), 0);
    }
    char err[256] = "";
    for (int i = 1; i <= RELOAD_CHANGES && atomic_load(&failures) == 0; i++) {
        char digits[8];
        snprintf(digits, sizeof digits, "%04d", i);
        if (pwrite(fd, digits, 4, 3) != 4) {
            snprintf(err, sizeof err, "pwrite: %s", strerror(errno));
            break;
        }
        int64_t end = live_now_ms() + DT_WAIT_MS;
        long long want = -1;
        while (live_now_ms() < end) {
            struct http_resp r;
            if (http_try(NULL, &r, f->sock, "GET", "/v1/keys/v") && r.status == 200)
                want = json_integer_value(json_object_get(r.json, "value"));
            http_resp_free(&r);
            if (want == i)
                break;
            live_sleep_ms(1);
        }
        if (want != i) {
            snprintf(err, sizeof err, "change %d was not published (v is %lld)", i, want);
            break;
        }
    }
    atomic_store(&stop_clients, true);
    for (int i = 0; i < RELOADERS; i++)
        pthread_join(threads[i], NULL);
    close(fd);
    if (err[0])
        fail_msg("%s", err);
    if (atomic_load(&failures) > 0)
        fail_msg("%d failed answers; first: %s", atomic_load(&failures), first_failure);

    long long g1 = dt_generation(f);
    long published = 0, requests = 0, collisions = 0;
    static char seen[MAX_GEN];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < RELOADERS; i++) {
        requests += rs[i].requests;
        published += rs[i].published;
        collisions += rs[i].collisions;
        for (long k = 0; k < rs[i].published && k < RELOAD_CHANGES * 2; k++) {
            long long g = rs[i].published_gens[k];
            assert_true(g > g0 && g <= g1 && g < MAX_GEN);
            if (seen[g]++)
                fail_msg("generation %lld was reported published twice", g);
        }
    }
    print_message("%ld reloads by %d clients; %ld published, generations %lld..%lld; %ld refused "
                  "for reading during a write\n",
                  requests, RELOADERS, published, g0, g1, collisions);
    if (published != g1 - g0)
        fail_msg("%ld reloads answered \"published\": true, but %lld generations were published",
                 published, g1 - g0);
    assert_true(g1 - g0 >= RELOAD_CHANGES);
    free(rs);
    dt_stop(f);
}

int main(int argc, char **argv)
{
    dt_global_init_args(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_clients_during_edits, dt_setup,
                                        dt_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reloads, dt_setup, dt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
