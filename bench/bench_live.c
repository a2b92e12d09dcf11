/*
 * snapconf-bench-live - the live handle's figures (issue #3 item 10) and the
 * liburcu flavor comparison behind snapconf's choice of urcu-bp (issue #3
 * item 1); the start of issue #6's read-side matrix.
 *
 *   snapconf-bench-live [--quick] [--out DIR] [--tmp DIR] [--runs N]
 *                       [--only overhead|throughput|latency|flavors]
 *                       [--seconds S] [--edits N] [--strategies a,b,...]
 *                       [--readers N] [--paths N]
 *
 * Sections:
 *   overhead    1 thread: snapconf_snap_begin + lookup + snapconf_snap_end
 *               through libsnapconf.so against the same lookup on an
 *               unpublished snapshot (target: at most 1.3x)
 *   throughput  2 readers, a writer publishing every 1 ms: snapconf against
 *               a pthread_rwlock_t holding the same data (target: 10x)
 *   latency     a 10 KB config edited 200 times: from rename()/close()
 *               returning to a reader seeing the new generation (target:
 *               median at most debounce + 5 ms)
 *   flavors     read-side cost of every liburcu flavor, an uncontended
 *               rwlock and an atomic reference count, 1 and 2 threads
 *
 * This program links libsnapconf.so, not the static library: calls go
 * through the PLT and urcu-bp's thread-local reader through TLS descriptors,
 * as in a service that embeds the library.  Figures go to stdout and to
 * DIR/results-live.csv and DIR/results-live.md.  Targets are PASS or MISS
 * and never change the exit status: 0 when everything was measured, 1 when
 * something failed (a lookup that does not find its path, a lost reload, an
 * unwritable file), 2 on a usage error.
 */
#include "bench_files.h"
#include "bench_paths.h"
#include "bench_report.h"
#include "gen_config.h"
#include "strategy.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <snapconf.h>

#ifndef SNAPCONF_BENCH_URCU_VERSION
#define SNAPCONF_BENCH_URCU_VERSION "unknown"
#endif

/* The targets. */
#define TARGET_READ_RATIO 1.3        /* live read / unpublished read, 1 thread */
#define TARGET_THROUGHPUT_RATIO 10.0 /* snapconf reads/s / rwlock reads/s */
#define TARGET_LATENCY_SLACK_MS 5.0  /* median reload latency - debounce */

#define MAX_RUNS 101
#define DEFAULT_PATHS 1024
#define SMALL_CONFIG_BYTES ((size_t)24 << 10) /* about 1000 keys, 4 levels */
#define LATENCY_CONFIG_BYTES ((size_t)10 << 10)
#define SAMPLE_SEED UINT64_C(0xbe4c4)
#define ORDER_SEED UINT64_C(0x0dd5eed)
#define RANDOM_ORDER_LEN 65536
#define READ_BATCH 256
#define OVERHEAD_SLICES 8
#define WRITER_PERIOD_MS 1.0 /* one publication per millisecond */
#define MAX_THREADS 16
/* snapconf and the rwlock are the target's pair; urcu-bp and urcu-memb show
 * what the flavor costs the writer (grace periods) under the same load. */
#define DEFAULT_TPUT_STRATEGIES "snapconf,rwlock,rwlock-wp,urcu-bp,urcu-memb"
#define MAX_PUBS 200000
#define GEN_KEY "bench_generation: "
#define GEN_DIGITS 12

#define SEC_OVERHEAD "1 thread: live read vs unpublished (#3 item 10)"
#define SEC_LATENCY "reload latency, 10 KB config (#3 item 10)"
#define SEC_FLAVORS "read-side pair cost: RCU flavors (#3 item 1)"

/* Keeps results observable so the compiler cannot drop the loops. */
static volatile uint64_t bench_sink;

typedef struct live_opts {
    const char *out_dir;
    const char *tmp_dir;
    bool quick;
    bool do_overhead, do_tput, do_latency, do_flavors;
    unsigned runs;               /* timed runs of the 1-thread figures */
    size_t iters;                /* lookups per run, overhead section */
    double seconds;              /* per throughput run */
    unsigned tput_runs;          /* throughput runs per strategy */
    unsigned edits;              /* per latency case */
    unsigned readers;            /* throughput reader threads */
    double pair_ms;              /* target duration of one flavor run */
    size_t paths;                /* distinct lookup paths */
    const char *strategies;      /* throughput strategies, comma-separated */
    strategy_lookup tput_lookup; /* what the throughput readers call */
    uint64_t period_ns;          /* between publications */
} live_opts;

typedef struct stats {
    double best, median;
} stats;

/* Everything the sections share: the config, its paths, the work folder. */
typedef struct live_ctx {
    const live_opts *o;
    bench_report *rep;
    char workdir[3072];
    char file[4096];   /* the ~1000-key config the strategies serve */
    gen_buf doc;       /* its content, ending in GEN_KEY + GEN_DIGITS digits */
    size_t gen_offset; /* where those digits start */
    path_set set;      /* 4-segment int paths, compiled */
    uint32_t *seq;     /* 0, 1, 2, ...: the overhead loops cycle in order */
    uint32_t *random;  /* RANDOM_ORDER_LEN random indices: the throughput readers */
} live_ctx;

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    return strategy_now_ns();
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Sorts the samples; best is the minimum (times). */
static stats stats_min(double *samples, size_t n)
{
    qsort(samples, n, sizeof(*samples), cmp_double);
    return (stats){samples[0], median_sorted(samples, n)};
}

/* Sorts the samples; best is the maximum (throughputs). */
static stats stats_max(double *samples, size_t n)
{
    qsort(samples, n, sizeof(*samples), cmp_double);
    return (stats){samples[n - 1], median_sorted(samples, n)};
}

/* Nearest-rank percentile of sorted samples. */
static double percentile_sorted(const double *s, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return s[rank == 0 ? 0 : rank - 1];
}

static int make_dirs(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Generates a service config of about target bytes and appends the
 * generation key whose value each publication changes. */
static int make_doc(size_t target, gen_buf *doc, size_t *gen_offset)
{
    gen_service_params p = {.target_bytes = target, .seed = GEN_DEFAULT_SEED};
    if (gen_service(doc, &p) != 0) {
        fputs("snapconf-bench-live: out of memory generating the config\n", stderr);
        return -1;
    }
    size_t need = doc->len + 2 + sizeof(GEN_KEY) + GEN_DIGITS + 2;
    if (need > doc->cap) {
        char *d = realloc(doc->data, need);
        if (!d) {
            fputs("snapconf-bench-live: out of memory\n", stderr);
            return -1;
        }
        doc->data = d;
        doc->cap = need;
    }
    if (doc->len && doc->data[doc->len - 1] != '\n')
        doc->data[doc->len++] = '\n';
    int n = snprintf(doc->data + doc->len, doc->cap - doc->len, "%s%0*d\n", GEN_KEY, GEN_DIGITS, 0);
    *gen_offset = doc->len + strlen(GEN_KEY);
    doc->len += (size_t)n;
    return 0;
}

/* Writes value into the generation digits in place (same length). */
static void set_generation(char *bytes, size_t offset, uint64_t value)
{
    for (int i = GEN_DIGITS - 1; i >= 0; i--) {
        bytes[offset + (size_t)i] = (char)('0' + value % 10);
        value /= 10;
    }
}

/* ---------------------------------------------------------------------------
 * Set-up shared by the sections
 * ------------------------------------------------------------------------- */

static int ctx_init(live_ctx *c, const live_opts *o, bench_report *rep)
{
    memset(c, 0, sizeof(*c));
    c->o = o;
    c->rep = rep;
    if (snprintf(c->workdir, sizeof(c->workdir), "%s/snapconf-bench-live.XXXXXX", o->tmp_dir) >=
            (int)sizeof(c->workdir) ||
        !mkdtemp(c->workdir)) {
        fprintf(stderr, "snapconf-bench-live: cannot create a folder in %s: %s\n", o->tmp_dir,
                strerror(errno));
        c->workdir[0] = '\0';
        return -1;
    }
    snprintf(c->file, sizeof(c->file), "%s/service-small.yaml", c->workdir);
    if (make_doc(SMALL_CONFIG_BYTES, &c->doc, &c->gen_offset) != 0)
        return -1;
    if (bench_write_rename(c->file, c->doc.data, c->doc.len) != 0) {
        fprintf(stderr, "snapconf-bench-live: cannot write %s: %s\n", c->file, strerror(errno));
        return -1;
    }
    snapconf_snap *snap;
    snapconf_error err;
    if (snapconf_snap_load_buffer(c->doc.data, c->doc.len, c->file, &snap, &err) != 0) {
        fprintf(stderr,
                "snapconf-bench-live: library bug? the generated config does not load: %s\n",
                err.message);
        return -1;
    }
    path_query q = {
        .segments = 4, .want_type = SNAPCONF_TYPE_INT, .max = o->paths, .seed = SAMPLE_SEED};
    int rc = path_set_sample(snapconf_snap_root(snap), &q, &c->set);
    if (rc == 0 && c->set.len == 0) {
        fputs("snapconf-bench-live: no 4-segment int paths in the config\n", stderr);
        rc = -1;
    }
    if (rc == 0 && (rc = path_set_compile(&c->set)) != 0)
        fprintf(stderr, "snapconf-bench-live: compiling paths: %s\n", snapconf_strerror(rc));
    /* Every path must give the value the walk saw, or timing it means nothing. */
    for (size_t i = 0; rc == 0 && i < c->set.len; i++) {
        int64_t v = 0, w = 0;
        int r1 = snapconf_get_int(snap, c->set.paths[i], &v);
        int r2 = snapconf_path_get_int(snap, c->set.compiled[i], &w);
        if (r1 != 0 || r2 != 0 || v != c->set.ints[i] || w != c->set.ints[i]) {
            fprintf(stderr, "snapconf-bench-live: library bug? '%s' gave %s/%s\n", c->set.paths[i],
                    snapconf_err_name(r1), snapconf_err_name(r2));
            rc = -1;
        }
    }
    snapconf_snap_free(snap);
    if (rc != 0)
        return -1;
    c->seq = malloc(c->set.len * sizeof(*c->seq));
    c->random = malloc(RANDOM_ORDER_LEN * sizeof(*c->random));
    if (!c->seq || !c->random) {
        fputs("snapconf-bench-live: out of memory\n", stderr);
        return -1;
    }
    for (size_t i = 0; i < c->set.len; i++)
        c->seq[i] = (uint32_t)i;
    uint64_t rng = ORDER_SEED;
    for (size_t i = 0; i < RANDOM_ORDER_LEN; i++)
        c->random[i] = (uint32_t)(splitmix(&rng) % c->set.len);
    return 0;
}

static void ctx_free(live_ctx *c)
{
    if (c->workdir[0])
        nftw(c->workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    gen_buf_free(&c->doc);
    path_set_free(&c->set);
    free(c->seq);
    free(c->random);
}

static strategy_keys keys_of(const live_ctx *c, bool random)
{
    return (strategy_keys){.paths = c->set.paths,
                           .compiled = c->set.compiled,
                           .order = random ? c->random : c->seq,
                           .norder = random ? RANDOM_ORDER_LEN : c->set.len};
}

static int create(const strategy_ops *ops, const live_ctx *c, void **state)
{
    strategy_env env = {.file = c->file, .bytes = c->doc.data, .len = c->doc.len};
    /* Every strategy starts from the same bytes on disk. */
    if (bench_write_rename(c->file, c->doc.data, c->doc.len) != 0) {
        fprintf(stderr, "snapconf-bench-live: cannot write %s: %s\n", c->file, strerror(errno));
        return -1;
    }
    return ops->create(state, &env);
}

/* ---------------------------------------------------------------------------
 * Section 1: one thread, live read against the unpublished lower bound
 * ------------------------------------------------------------------------- */

static uint64_t time_read(const strategy_ops *ops, void *st, strategy_lookup kind,
                          const strategy_keys *k, strategy_reader *r, size_t n)
{
    uint64_t t0 = now_ns();
    ops->read(st, kind, k, r, n);
    return now_ns() - t0;
}

static uint64_t time_pairs(const strategy_ops *ops, void *st, strategy_reader *r, size_t n)
{
    uint64_t t0 = now_ns();
    ops->pairs(st, r, n);
    return now_ns() - t0;
}

static int overhead_kind(live_ctx *c, const strategy_ops *base_ops, void *base,
                         const strategy_ops *live_ops, void *live, strategy_lookup kind)
{
    const live_opts *o = c->o;
    strategy_keys k = keys_of(c, false);
    double tb[MAX_RUNS], tl[MAX_RUNS], ratio[MAX_RUNS];
    strategy_reader rb = {0}, rl = {0};
    /* Warm-up, then runs that alternate the two sides. */
    base_ops->read(base, kind, &k, &rb, c->set.len * 4);
    live_ops->read(live, kind, &k, &rl, c->set.len * 4);
    /* Within a run the two sides alternate in slices, so that both meet
     * the same machine state even when other work comes and goes. */
    size_t slice = o->iters / OVERHEAD_SLICES ? o->iters / OVERHEAD_SLICES : 1;
    size_t total = slice * OVERHEAD_SLICES;
    for (unsigned r = 0; r < o->runs; r++) {
        uint64_t nb = 0, nl = 0;
        for (unsigned i = 0; i < OVERHEAD_SLICES; i++) {
            nb += time_read(base_ops, base, kind, &k, &rb, slice);
            nl += time_read(live_ops, live, kind, &k, &rl, slice);
        }
        tb[r] = (double)nb / (double)total;
        tl[r] = (double)nl / (double)total;
        ratio[r] = tl[r] / tb[r];
    }
    if (rb.bad || rl.bad || rb.acc != rl.acc) {
        fprintf(stderr,
                "snapconf-bench-live: library bug? %llu/%llu failed lookups, sums %llu/%llu\n",
                (unsigned long long)rb.bad, (unsigned long long)rl.bad, (unsigned long long)rb.acc,
                (unsigned long long)rl.acc);
        return -1;
    }
    bench_sink = rb.acc + rl.acc;
    stats sb = stats_min(tb, o->runs), sl = stats_min(tl, o->runs), sr = stats_min(ratio, o->runs);
    const char *what = kind == STRATEGY_STRING ? "string path (snapconf_get_int)"
                                               : "compiled path (snapconf_path_get_int)";
    char fig[128];
    snprintf(fig, sizeof(fig), "%s, unpublished snapshot", what);
    report_add(c->rep, SEC_OVERHEAD, fig, sb.best, sb.median, "ns", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s, begin + lookup + end", what);
    report_add(c->rep, SEC_OVERHEAD, fig, sl.best, sl.median, "ns", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s: live / unpublished", what);
    report_add(c->rep, SEC_OVERHEAD, fig, sl.best / sb.best, sr.median, "x", BENCH_LE,
               TARGET_READ_RATIO);
    return 0;
}

static int section_overhead(live_ctx *c)
{
    const strategy_ops *base_ops = strategy_find("unsynchronised");
    const strategy_ops *live_ops = strategy_find("snapconf");
    void *base = NULL, *live = NULL;
    int rc = create(base_ops, c, &base);
    rc = rc ? rc : create(live_ops, c, &live);
    rc = rc ? rc : overhead_kind(c, base_ops, base, live_ops, live, STRATEGY_STRING);
    rc = rc ? rc : overhead_kind(c, base_ops, base, live_ops, live, STRATEGY_COMPILED);
    if (rc == 0) {
        /* begin + end alone, and the bare loop for scale. */
        double tp[MAX_RUNS], tu[MAX_RUNS];
        strategy_reader r = {0};
        size_t n = c->o->iters * 4;
        live_ops->pairs(live, &r, n / 8);
        for (unsigned i = 0; i < c->o->runs; i++) {
            tp[i] = (double)time_pairs(live_ops, live, &r, n) / (double)n;
            tu[i] = (double)time_pairs(base_ops, base, &r, n) / (double)n;
        }
        bench_sink = r.acc;
        stats sp = stats_min(tp, c->o->runs), su = stats_min(tu, c->o->runs);
        report_add(c->rep, SEC_OVERHEAD, "snapconf_snap_begin + snapconf_snap_end alone", sp.best,
                   sp.median, "ns", BENCH_INFO, 0);
        report_add(c->rep, SEC_OVERHEAD, "empty loop (for scale)", su.best, su.median, "ns",
                   BENCH_INFO, 0);
        report_add(c->rep, SEC_OVERHEAD, "paths cycled in order (4 segments, int)",
                   (double)c->set.len, NAN, "count", BENCH_INFO, 0);
        report_add(c->rep, SEC_OVERHEAD, "config size", (double)c->doc.len, NAN, "bytes",
                   BENCH_INFO, 0);
    }
    if (live)
        live_ops->destroy(live);
    if (base)
        base_ops->destroy(base);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Section 2: throughput with a writer publishing every millisecond
 * ------------------------------------------------------------------------- */

typedef struct tput_shared {
    const strategy_ops *ops;
    void *state;
    strategy_keys keys;
    strategy_lookup lookup;
    pthread_barrier_t start;
    atomic_bool stop;
    /* writer */
    char *bytes;
    size_t len, gen_offset;
    uint64_t period_ns;
    uint64_t pubs, missed_ticks, pub_failures, writer_cpu_ns;
    double *prepare_us, *publish_us, *exclusive_us; /* per publication */
} tput_shared;

typedef struct tput_reader {
    tput_shared *sh;
    strategy_reader r;
    uint64_t reads, ns, cpu_ns;
} tput_reader;

static void *tput_reader_main(void *arg)
{
    tput_reader *t = arg;
    tput_shared *sh = t->sh;
    if (sh->ops->thread_online)
        sh->ops->thread_online(sh->state);
    pthread_barrier_wait(&sh->start);
    uint64_t t0 = now_ns(), c0 = thread_cpu_ns(), reads = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        sh->ops->read(sh->state, sh->lookup, &sh->keys, &t->r, READ_BATCH);
        reads += READ_BATCH;
    }
    t->ns = now_ns() - t0;
    t->cpu_ns = thread_cpu_ns() - c0;
    t->reads = reads;
    if (sh->ops->thread_offline)
        sh->ops->thread_offline(sh->state);
    return NULL;
}

/* Publishes on a fixed 1 ms grid (absolute deadlines); a publication that
 * overruns its tick makes the writer skip the ticks it missed. */
static void *tput_writer_main(void *arg)
{
    tput_shared *sh = arg;
    pthread_barrier_wait(&sh->start);
    uint64_t next = now_ns(), gen = 1, c0 = thread_cpu_ns();
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        next += sh->period_ns;
        uint64_t now = now_ns();
        if (now > next) {
            sh->missed_ticks += (now - next) / sh->period_ns + 1;
            next = now + sh->period_ns;
        }
        struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
        if (atomic_load_explicit(&sh->stop, memory_order_relaxed))
            break;
        set_generation(sh->bytes, sh->gen_offset, gen++);
        strategy_pub_cost cost = {0};
        if (sh->ops->publish(sh->state, sh->bytes, sh->len, &cost) != 0) {
            sh->pub_failures++;
            continue;
        }
        if (sh->pubs < MAX_PUBS) {
            sh->prepare_us[sh->pubs] = (double)cost.prepare_ns / 1e3;
            sh->publish_us[sh->pubs] = (double)cost.publish_ns / 1e3;
            sh->exclusive_us[sh->pubs] = (double)cost.exclusive_ns / 1e3;
        }
        sh->pubs++;
    }
    sh->writer_cpu_ns = thread_cpu_ns() - c0;
    return NULL;
}

typedef struct tput_run {
    double total, per_thread_min, per_thread_max; /* reads per second */
    double pubs_per_s, missed_ticks;
    double reader_cpu, writer_cpu;               /* CPU time / wall time */
    double prepare_us, publish_us, exclusive_us; /* medians over the run */
    uint64_t bad;
} tput_run;

static int tput_once(live_ctx *c, const strategy_ops *ops, bool with_writer, tput_run *out)
{
    const live_opts *o = c->o;
    tput_shared *sh = calloc(1, sizeof(*sh));
    tput_reader *rd = calloc(o->readers, sizeof(*rd));
    pthread_t th[MAX_THREADS + 1];
    unsigned started = 0;
    int rc = sh && rd ? 0 : -1;
    if (rc == 0) {
        sh->ops = ops;
        sh->keys = keys_of(c, true);
        sh->lookup = o->tput_lookup;
        sh->period_ns = o->period_ns;
        sh->len = c->doc.len;
        sh->gen_offset = c->gen_offset;
        sh->bytes = malloc(c->doc.len);
        sh->prepare_us = malloc(MAX_PUBS * sizeof(double));
        sh->publish_us = malloc(MAX_PUBS * sizeof(double));
        sh->exclusive_us = malloc(MAX_PUBS * sizeof(double));
        rc = sh->bytes && sh->prepare_us && sh->publish_us && sh->exclusive_us ? 0 : -1;
        if (rc)
            fputs("snapconf-bench-live: out of memory\n", stderr);
    }
    rc = rc ? rc : create(ops, c, &sh->state);
    if (rc == 0) {
        memcpy(sh->bytes, c->doc.data, c->doc.len);
        atomic_init(&sh->stop, false);
        pthread_barrier_init(&sh->start, NULL, o->readers + 1 + (with_writer ? 1 : 0));
        for (unsigned i = 0; i < o->readers; i++) {
            rd[i].sh = sh;
            /* Each reader starts at its own place in the random order. */
            rd[i].r.pos = (size_t)i * (RANDOM_ORDER_LEN / MAX_THREADS);
            if (pthread_create(&th[started], NULL, tput_reader_main, &rd[i]) == 0)
                started++;
        }
        if (with_writer && pthread_create(&th[started], NULL, tput_writer_main, sh) == 0)
            started++;
        if (started != o->readers + (with_writer ? 1 : 0)) {
            /* Cannot happen on a sane system; the barrier would hang. */
            fputs("snapconf-bench-live: cannot start threads\n", stderr);
            abort();
        }
        pthread_barrier_wait(&sh->start);
        sleep_ns((uint64_t)(o->seconds * 1e9));
        atomic_store(&sh->stop, true);
        for (unsigned i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&sh->start);
        ops->destroy(sh->state);

        *out = (tput_run){.per_thread_min = INFINITY};
        double secs = 0;
        for (unsigned i = 0; i < o->readers; i++) {
            double rate = (double)rd[i].reads / ((double)rd[i].ns / 1e9);
            out->total += rate;
            out->per_thread_min = fmin(out->per_thread_min, rate);
            out->per_thread_max = fmax(out->per_thread_max, rate);
            out->bad += rd[i].r.bad;
            secs = fmax(secs, (double)rd[i].ns / 1e9);
            out->reader_cpu += (double)rd[i].cpu_ns / 1e9;
            bench_sink += rd[i].r.acc;
        }
        size_t n = sh->pubs < MAX_PUBS ? sh->pubs : MAX_PUBS;
        out->pubs_per_s = (double)sh->pubs / secs;
        out->reader_cpu /= secs;
        out->writer_cpu = (double)sh->writer_cpu_ns / 1e9 / secs;
        out->missed_ticks = (double)sh->missed_ticks;
        if (n) {
            out->prepare_us = stats_min(sh->prepare_us, n).median;
            out->publish_us = stats_min(sh->publish_us, n).median;
            out->exclusive_us = stats_min(sh->exclusive_us, n).median;
        }
        if (out->bad || sh->pub_failures) {
            fprintf(stderr,
                    "snapconf-bench-live: %s: %llu failed lookups, %llu failed "
                    "publications\n",
                    ops->name, (unsigned long long)out->bad, (unsigned long long)sh->pub_failures);
            rc = -1;
        }
    }
    if (sh) {
        free(sh->bytes);
        free(sh->prepare_us);
        free(sh->publish_us);
        free(sh->exclusive_us);
    }
    free(sh);
    free(rd);
    return rc;
}

/* Splits the comma-separated list into strategies that can publish. */
static int parse_strategies(const char *list, const strategy_ops **out, size_t max, size_t *n)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        const strategy_ops *ops = strategy_find(tok);
        if (!ops || !ops->publish || *n == max) {
            fprintf(stderr, "snapconf-bench-live: '%s' is not a strategy with a writer%s\n", tok,
                    *n == max ? " (too many)" : "");
            return -1;
        }
        out[(*n)++] = ops;
    }
    return *n ? 0 : -1;
}

#define MAX_TPUT_STRATEGIES 16

static int section_throughput(live_ctx *c)
{
    const live_opts *o = c->o;
    const strategy_ops *ops[MAX_TPUT_STRATEGIES];
    size_t nops;
    if (parse_strategies(o->strategies, ops, MAX_TPUT_STRATEGIES, &nops) != 0)
        return -1;
    /* The target is for 2 readers and a publication every 1 ms;
     * other settings are reported, not judged. */
    bool judged = o->readers == 2 && o->period_ns == 1000000;
    char sec[48]; /* bench_row's section size */
    if (judged)
        snprintf(sec, sizeof(sec), "2 readers, writer every 1 ms (#3 item 10)");
    else
        snprintf(sec, sizeof(sec), "%u readers, writer every %.4g ms", o->readers % 1000,
                 (double)o->period_ns / 1e6);
    static tput_run runs[MAX_TPUT_STRATEGIES][MAX_RUNS];
    /* Runs alternate between the strategies so that each sees the same
     * mixture of machine states. */
    for (unsigned r = 0; r < o->tput_runs; r++)
        for (size_t s = 0; s < nops; s++)
            if (tput_once(c, ops[s], true, &runs[s][r]) != 0)
                return -1;
    double total[MAX_TPUT_STRATEGIES][MAX_RUNS];
    char fig[128];
    for (size_t s = 0; s < nops; s++) {
        double tot[MAX_RUNS], thr[MAX_RUNS], pubs[MAX_RUNS], prep[MAX_RUNS], publ[MAX_RUNS],
            excl[MAX_RUNS], missed[MAX_RUNS], rcpu[MAX_RUNS], wcpu[MAX_RUNS];
        for (unsigned r = 0; r < o->tput_runs; r++) {
            tput_run *x = &runs[s][r];
            total[s][r] = x->total;
            tot[r] = x->total / 1e6;
            thr[r] = x->total / o->readers / 1e6;
            pubs[r] = x->pubs_per_s;
            prep[r] = x->prepare_us;
            publ[r] = x->publish_us;
            excl[r] = x->exclusive_us;
            missed[r] = x->missed_ticks;
            rcpu[r] = x->reader_cpu;
            wcpu[r] = x->writer_cpu;
        }
        stats st = stats_max(tot, o->tput_runs), sp = stats_max(thr, o->tput_runs);
        snprintf(fig, sizeof(fig), "%s: reads/s, %u readers total (%s paths)", ops[s]->name,
                 o->readers, o->tput_lookup == STRATEGY_STRING ? "string" : "compiled");
        report_add(c->rep, sec, fig, st.best, st.median, "M/s", BENCH_INFO, 0);
        snprintf(fig, sizeof(fig), "%s: reads/s per reader thread", ops[s]->name);
        report_add(c->rep, sec, fig, sp.best, sp.median, "M/s", BENCH_INFO, 0);
        /* Slowest and fastest reader of the median run, to show fairness. */
        double spread[MAX_RUNS];
        for (unsigned r = 0; r < o->tput_runs; r++)
            spread[r] = runs[s][r].per_thread_min / runs[s][r].per_thread_max;
        stats sf = stats_max(spread, o->tput_runs);
        snprintf(fig, sizeof(fig), "%s: slowest / fastest reader", ops[s]->name);
        report_add(c->rep, sec, fig, sf.best, sf.median, "x", BENCH_INFO, 0);
        stats sc = stats_max(rcpu, o->tput_runs);
        snprintf(fig, sizeof(fig), "%s: readers' CPU time / wall time (%u = all on a core)",
                 ops[s]->name, o->readers);
        report_add(c->rep, sec, fig, sc.best, sc.median, "x", BENCH_INFO, 0);
        stats sw = stats_max(wcpu, o->tput_runs);
        snprintf(fig, sizeof(fig), "%s: writer's CPU time / wall time", ops[s]->name);
        report_add(c->rep, sec, fig, sw.best, sw.median, "x", BENCH_INFO, 0);
        stats s1 = stats_max(pubs, o->tput_runs);
        snprintf(fig, sizeof(fig), "%s: publications/s achieved (%.0f asked)", ops[s]->name,
                 1e9 / (double)o->period_ns);
        report_add(c->rep, sec, fig, s1.best, s1.median, "1/s", BENCH_INFO, 0);
        stats s2 = stats_min(missed, o->tput_runs);
        snprintf(fig, sizeof(fig), "%s: writer ticks missed per run", ops[s]->name);
        report_add(c->rep, sec, fig, s2.best, s2.median, "count", BENCH_INFO, 0);
        stats s3 = stats_min(prep, o->tput_runs);
        if (ops[s]->prepare_what) {
            snprintf(fig, sizeof(fig), "%s: writer, %s", ops[s]->name, ops[s]->prepare_what);
            report_add(c->rep, sec, fig, s3.best, s3.median, "us", BENCH_INFO, 0);
        }
        stats s4 = stats_min(publ, o->tput_runs);
        snprintf(fig, sizeof(fig), "%s: writer, publishing (per publication)", ops[s]->name);
        report_add(c->rep, sec, fig, s4.best, s4.median, "us", BENCH_INFO, 0);
        stats s5 = stats_min(excl, o->tput_runs);
        if (s5.median > 0) {
            snprintf(fig, sizeof(fig), "%s: readers locked out per publication", ops[s]->name);
            report_add(c->rep, sec, fig, s5.best, s5.median, "us", BENCH_INFO, 0);
        }
    }
    /* snapconf against each lock-based strategy of the same runs. */
    size_t live = nops;
    for (size_t s = 0; s < nops; s++)
        if (strcmp(ops[s]->name, "snapconf") == 0)
            live = s;
    for (size_t s = 0; live < nops && s < nops; s++) {
        if (s == live || strncmp(ops[s]->name, "rwlock", 6) != 0)
            continue;
        double ratio[MAX_RUNS], inverse[MAX_RUNS], best_live = 0, best_other = 0;
        for (unsigned r = 0; r < o->tput_runs; r++) {
            ratio[r] = total[live][r] / total[s][r];
            inverse[r] = total[s][r] / total[live][r];
            best_live = fmax(best_live, total[live][r]);
            best_other = fmax(best_other, total[s][r]);
        }
        stats sr = stats_max(ratio, o->tput_runs), si = stats_min(inverse, o->tput_runs);
        snprintf(fig, sizeof(fig), "snapconf / %s read throughput", ops[s]->name);
        report_add(c->rep, sec, fig, best_live / best_other, sr.median, "x", BENCH_INFO, 0);
        snprintf(fig, sizeof(fig), "%s / snapconf (target: snapconf >= 10x)", ops[s]->name);
        report_add(c->rep, sec, fig, best_other / best_live, si.median, "x",
                   judged ? BENCH_LE : BENCH_INFO, 1.0 / TARGET_THROUGHPUT_RATIO);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Section 3: reload latency through the watcher
 * ------------------------------------------------------------------------- */

typedef enum edit_kind { EDIT_RENAME, EDIT_INPLACE } edit_kind;

typedef struct lat_shared {
    snapconf *h;
    atomic_bool stop;
    _Atomic uint64_t seen_gen; /* latest generation the reader saw */
    uint64_t *seen_ns;         /* when it first saw each generation */
    size_t max_gen;
} lat_shared;

/* Spins on begin / generation / end, as a reader thread polling its config
 * would, and stamps each new generation as soon as it becomes visible. */
static void *lat_reader_main(void *arg)
{
    lat_shared *sh = arg;
    uint64_t last = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        const snapconf_snap *snap = snapconf_snap_begin(sh->h);
        uint64_t g = snapconf_snap_generation(snap);
        snapconf_snap_end(sh->h, snap);
        if (g == last)
            continue;
        uint64_t t = now_ns();
        last = g;
        if (g < sh->max_gen)
            sh->seen_ns[g] = t;
        atomic_store_explicit(&sh->seen_gen, g, memory_order_release);
    }
    return NULL;
}

typedef struct lat_result {
    double *ms; /* latencies of the edits that were seen */
    size_t n;
    unsigned lost;   /* edits whose generation never showed */
    unsigned extra;  /* generations beyond one per edit */
    unsigned early;  /* visible before the writer's call returned (counted as 0) */
    unsigned unseen; /* published, but the reader saw a later generation first */
} lat_result;

static int latency_case(live_ctx *c, edit_kind kind, unsigned debounce_ms, lat_result *res)
{
    const live_opts *o = c->o;
    gen_buf doc = {0};
    size_t gen_offset;
    char path[4096];
    snprintf(path, sizeof(path), "%s/latency.yaml", c->workdir);
    if (make_doc(LATENCY_CONFIG_BYTES, &doc, &gen_offset) != 0)
        return -1;
    int rc = bench_write_rename(path, doc.data, doc.len);
    if (rc != 0)
        fprintf(stderr, "snapconf-bench-live: cannot write %s: %s\n", path, strerror(errno));
    lat_shared sh = {0};
    pthread_t reader;
    bool reader_started = false;
    memset(res, 0, sizeof(*res));
    sh.max_gen = (size_t)o->edits * 2 + 4;
    sh.seen_ns = calloc(sh.max_gen, sizeof(*sh.seen_ns));
    res->ms = calloc(o->edits ? o->edits : 1, sizeof(*res->ms));
    if (rc == 0 && (!sh.seen_ns || !res->ms)) {
        fputs("snapconf-bench-live: out of memory\n", stderr);
        rc = -1;
    }
    if (rc == 0) {
        snapconf_options opts;
        snapconf_options_init(&opts);
        opts.debounce_ms = debounce_ms;
        snapconf_error err;
        if ((rc = snapconf_open(&sh.h, path, &opts, &err)) != 0)
            fprintf(stderr, "snapconf-bench-live: cannot open %s: %s\n", path, err.message);
    }
    if (rc == 0) {
        snapconf_status_info st;
        snapconf_status(sh.h, &st);
        if (st.watch != SNAPCONF_WATCHING_INOTIFY)
            fprintf(stderr, "snapconf-bench-live: warning: not watching with inotify (%s)\n",
                    st.watch_note);
        atomic_init(&sh.stop, false);
        atomic_init(&sh.seen_gen, 0);
        reader_started = pthread_create(&reader, NULL, lat_reader_main, &sh) == 0;
        rc = reader_started ? 0 : -1;
    }
    uint64_t rng = ORDER_SEED ^ debounce_ms ^ ((uint64_t)kind << 8);
    uint64_t expect = 1; /* generation 1 is the first load */
    uint64_t timeout = (uint64_t)debounce_ms * 1000000u * 20 + 2000000000u;
    while (rc == 0 && atomic_load(&sh.seen_gen) < 1)
        sleep_ns(100000);
    for (unsigned i = 0; rc == 0 && i < o->edits; i++) {
        set_generation(doc.data, gen_offset, i + 1);
        int w = kind == EDIT_RENAME ? bench_write_rename(path, doc.data, doc.len)
                                    : bench_write_inplace(path, doc.data, doc.len);
        uint64_t t0 = now_ns(); /* the writer's last system call has returned */
        if (w != 0) {
            fprintf(stderr, "snapconf-bench-live: cannot write %s: %s\n", path, strerror(errno));
            rc = -1;
            break;
        }
        expect++;
        uint64_t seen;
        while ((seen = atomic_load_explicit(&sh.seen_gen, memory_order_acquire)) < expect &&
               now_ns() - t0 < timeout)
            sleep_ns(50000);
        if (seen < expect) {
            res->lost++;
            expect = seen;
            continue;
        }
        if (expect < sh.max_gen && sh.seen_ns[expect] != 0) {
            /* With no debounce the watcher may publish before the writer
             * is back from its own rename() or close(): latency 0. */
            uint64_t seen_at = sh.seen_ns[expect];
            res->early += seen_at < t0;
            res->ms[res->n++] = seen_at < t0 ? 0.0 : (double)(seen_at - t0) / 1e6;
        } else {
            res->unseen++; /* the reader skipped it: a later one came first */
        }
        /* Let the watcher finish (grace period, free) and any stray second
         * publication show, then pause a little, irregularly, so that edits
         * do not fall on a fixed phase of anything. */
        sleep_ns(3000000 + splitmix(&rng) % 3000000);
        seen = atomic_load_explicit(&sh.seen_gen, memory_order_acquire);
        if (seen > expect) {
            res->extra += (unsigned)(seen - expect);
            expect = seen;
        }
    }
    if (reader_started) {
        atomic_store(&sh.stop, true);
        pthread_join(reader, NULL);
    }
    if (sh.h) {
        snapconf_status_info st;
        snapconf_status(sh.h, &st);
        if (st.failed_reloads) {
            fprintf(stderr, "snapconf-bench-live: %llu failed reloads: %s\n",
                    (unsigned long long)st.failed_reloads, st.last_error.message);
            rc = -1;
        }
        snapconf_close(sh.h);
    }
    free(sh.seen_ns);
    gen_buf_free(&doc);
    return rc;
}

static int section_latency(live_ctx *c)
{
    static const struct {
        edit_kind kind;
        const char *name;
        unsigned debounce;
        bool judged;
    } cases[] = {
        {EDIT_RENAME, "rename over", SNAPCONF_DEFAULT_DEBOUNCE_MS, true},
        {EDIT_INPLACE, "in-place truncate + write", SNAPCONF_DEFAULT_DEBOUNCE_MS, true},
        {EDIT_RENAME, "rename over", 0, false},
        {EDIT_INPLACE, "in-place truncate + write", 0, false},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lat_result res;
        if (latency_case(c, cases[i].kind, cases[i].debounce, &res) != 0) {
            free(res.ms);
            return -1;
        }
        char fig[128];
        double target = cases[i].debounce + TARGET_LATENCY_SLACK_MS;
        if (res.n) {
            qsort(res.ms, res.n, sizeof(double), cmp_double);
            double med = median_sorted(res.ms, res.n);
            snprintf(fig, sizeof(fig), "%s, debounce %u ms: median", cases[i].name,
                     cases[i].debounce);
            report_add(c->rep, SEC_LATENCY, fig, med, NAN, "ms",
                       cases[i].judged ? BENCH_LE : BENCH_INFO, target);
            snprintf(fig, sizeof(fig), "%s, debounce %u ms: p99", cases[i].name, cases[i].debounce);
            report_add(c->rep, SEC_LATENCY, fig, percentile_sorted(res.ms, res.n, 99), NAN, "ms",
                       BENCH_INFO, 0);
            snprintf(fig, sizeof(fig), "%s, debounce %u ms: min / max", cases[i].name,
                     cases[i].debounce);
            report_add(c->rep, SEC_LATENCY, fig, res.ms[0], res.ms[res.n - 1], "ms", BENCH_INFO, 0);
            snprintf(fig, sizeof(fig), "%s, debounce %u ms: median - debounce", cases[i].name,
                     cases[i].debounce);
            report_add(c->rep, SEC_LATENCY, fig, med - cases[i].debounce, NAN, "ms", BENCH_INFO, 0);
        }
        snprintf(fig, sizeof(fig), "%s, debounce %u ms: edits timed", cases[i].name,
                 cases[i].debounce);
        report_add(c->rep, SEC_LATENCY, fig, (double)res.n, NAN, "count", BENCH_INFO, 0);
        if (res.early) {
            snprintf(fig, sizeof(fig), "%s, debounce %u ms: visible before the call returned",
                     cases[i].name, cases[i].debounce);
            report_add(c->rep, SEC_LATENCY, fig, (double)res.early, NAN, "count", BENCH_INFO, 0);
        }
        if (res.lost || res.extra || res.unseen) {
            fprintf(stderr,
                    "snapconf-bench-live: %s, debounce %u ms: %u edits never published, %u "
                    "generations too many, %u not seen by the reader\n",
                    cases[i].name, cases[i].debounce, res.lost, res.extra, res.unseen);
            failed = 1;
        }
        free(res.ms);
    }
    report_add(c->rep, SEC_LATENCY, "config size", (double)LATENCY_CONFIG_BYTES, NAN, "bytes",
               BENCH_INFO, 0);
    return failed ? -1 : 0;
}

/* ---------------------------------------------------------------------------
 * Section 4: read-side pair cost of the liburcu flavors and the locks
 * ------------------------------------------------------------------------- */

typedef struct pair_thread {
    const strategy_ops *ops;
    void *state;
    size_t n;
    unsigned rounds;
    pthread_barrier_t *barrier;
    double ns[MAX_RUNS + 1];     /* wall time per pair */
    uint64_t cpu[MAX_RUNS + 1];  /* CPU time of the round */
    uint64_t wall[MAX_RUNS + 1]; /* wall time of the round */
    strategy_reader r;
} pair_thread;

static void *pair_thread_main(void *arg)
{
    pair_thread *t = arg;
    if (t->ops->thread_online)
        t->ops->thread_online(t->state);
    for (unsigned i = 0; i < t->rounds; i++) {
        pthread_barrier_wait(t->barrier);
        uint64_t c0 = thread_cpu_ns();
        t->wall[i] = time_pairs(t->ops, t->state, &t->r, t->n);
        t->cpu[i] = thread_cpu_ns() - c0;
        t->ns[i] = (double)t->wall[i] / (double)t->n;
    }
    if (t->ops->thread_offline)
        t->ops->thread_offline(t->state);
    return NULL;
}

/* Per-thread ns per pair with threads readers running at once: the mean of
 * the threads in each round; best and median of the rounds in which the
 * threads really ran at the same time (CPU time / wall time at least 90% of
 * the thread count).  On a shared machine another process may hold a core,
 * and threads that take turns on one core measure neither contention nor
 * parallel cost.  *parallel receives the number of such rounds; when there
 * is none, all rounds are used. */
#define PARALLEL_SHARE 0.9

static int pairs_threads(const strategy_ops *ops, void *st, unsigned threads, size_t n,
                         unsigned runs, stats *out, unsigned *parallel)
{
    pair_thread t[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, threads);
    unsigned started = 0;
    for (unsigned i = 0; i < threads; i++) {
        t[i] =
            (pair_thread){.ops = ops, .state = st, .n = n, .rounds = runs + 1, .barrier = &barrier};
        if (pthread_create(&th[i], NULL, pair_thread_main, &t[i]) == 0)
            started++;
    }
    if (started != threads) {
        fputs("snapconf-bench-live: cannot start threads\n", stderr);
        abort();
    }
    for (unsigned i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    double all[MAX_RUNS], kept[MAX_RUNS];
    unsigned nkept = 0;
    for (unsigned r = 1; r <= runs; r++) { /* round 0 was the warm-up */
        double per = 0, cpu = 0, wall = 0;
        for (unsigned i = 0; i < threads; i++) {
            per += t[i].ns[r] / threads;
            cpu += (double)t[i].cpu[r];
            wall = fmax(wall, (double)t[i].wall[r]);
        }
        all[r - 1] = per;
        if (cpu >= PARALLEL_SHARE * threads * wall)
            kept[nkept++] = per;
    }
    for (unsigned i = 0; i < threads; i++)
        bench_sink += t[i].r.acc;
    *parallel = nkept;
    *out = nkept ? stats_min(kept, nkept) : stats_min(all, runs);
    return 0;
}

static int section_flavors(live_ctx *c)
{
    const live_opts *o = c->o;
    stats one[32], two[32];
    unsigned parallel[32];
    const strategy_ops *done[32];
    size_t nd = 0;
    for (size_t i = 0; i < strategy_count && nd < 32; i++) {
        const strategy_ops *ops = strategy_all[i];
        void *st = NULL;
        if (create(ops, c, &st) != 0)
            return -1;
        /* One thread, on the main thread (registered when the flavor needs it). */
        if (ops->thread_online)
            ops->thread_online(st);
        strategy_reader r = {0};
        size_t n = 1u << 16;
        uint64_t t = time_pairs(ops, st, &r, n);
        /* Calibrate: about pair_ms per run. */
        double per = (double)t / (double)n;
        n = (size_t)(o->pair_ms * 1e6 / (per > 0.2 ? per : 0.2));
        n = n < 1000 ? 1000 : n;
        double s1[MAX_RUNS];
        for (unsigned k = 0; k < o->runs; k++)
            s1[k] = (double)time_pairs(ops, st, &r, n) / (double)n;
        if (ops->thread_offline)
            ops->thread_offline(st);
        bench_sink += r.acc;
        one[nd] = stats_min(s1, o->runs);
        pairs_threads(ops, st, 2, n, o->runs, &two[nd], &parallel[nd]);
        ops->destroy(st);
        done[nd++] = ops;
    }
    char fig[128];
    for (size_t i = 0; i < nd; i++) {
        const char *what = strcmp(done[i]->name, "unsynchronised") == 0 ? "no synchronisation "
                                                                          "(loop + pointer load)"
                                                                        : done[i]->name;
        snprintf(fig, sizeof(fig), "%s: 1 thread", what);
        report_add(c->rep, SEC_FLAVORS, fig, one[i].best, one[i].median, "ns", BENCH_INFO, 0);
        if (parallel[i] == o->runs)
            snprintf(fig, sizeof(fig), "%s: 2 threads (per thread)", what);
        else if (parallel[i] > 0)
            snprintf(fig, sizeof(fig), "%s: 2 threads (per thread; %u of %u runs parallel)", what,
                     parallel[i], o->runs);
        else
            snprintf(fig, sizeof(fig), "%s: 2 threads (per thread; NEVER ran in parallel)", what);
        report_add(c->rep, SEC_FLAVORS, fig, two[i].best, two[i].median, "ns", BENCH_INFO, 0);
    }
    /* The comparisons behind snapconf's choice. */
    size_t bp = nd, memb = nd, live = nd;
    for (size_t i = 0; i < nd; i++) {
        if (strcmp(done[i]->name, "urcu-bp") == 0)
            bp = i;
        if (strcmp(done[i]->name, "urcu-memb") == 0)
            memb = i;
        if (strcmp(done[i]->name, "snapconf") == 0)
            live = i;
    }
    if (bp < nd && memb < nd) {
        report_add(c->rep, SEC_FLAVORS, "urcu-bp / urcu-memb, 1 thread",
                   one[bp].best / one[memb].best, one[bp].median / one[memb].median, "x",
                   BENCH_INFO, 0);
        report_add(c->rep, SEC_FLAVORS, "urcu-bp / urcu-memb, 2 threads",
                   two[bp].best / two[memb].best, two[bp].median / two[memb].median, "x",
                   BENCH_INFO, 0);
    }
    if (bp < nd && live < nd)
        report_add(c->rep, SEC_FLAVORS, "snapconf (bp via .so) - urcu-bp inline, 1 thread",
                   one[live].best - one[bp].best, one[live].median - one[bp].median, "ns",
                   BENCH_INFO, 0);
    for (size_t i = 0; i < nd; i++)
        if (done[i]->note) {
            snprintf(fig, sizeof(fig), "%s: %s", done[i]->name, done[i]->note());
            report_add(c->rep, SEC_FLAVORS, fig, NAN, NAN, "", BENCH_INFO, 0);
        }

    /* A compact table for the docs. */
    printf("\nread-side pair (lock + dereference + unlock), ns per pair, best of %u (median):\n",
           o->runs);
    printf("  %-16s %18s %18s\n", "strategy", "1 thread", "2 threads");
    for (size_t i = 0; i < nd; i++)
        printf("  %-16s %8.2f (%7.2f) %8.2f (%7.2f)%s\n", done[i]->name, one[i].best, one[i].median,
               two[i].best, two[i].median,
               parallel[i] == o->runs ? ""
               : parallel[i]          ? "  some runs not parallel"
                                      : "  never parallel");
    return 0;
}

/* ---------------------------------------------------------------------------
 * Command line and output
 * ------------------------------------------------------------------------- */

static void usage(FILE *to)
{
    fputs("usage: snapconf-bench-live [--quick] [--out DIR] [--tmp DIR] [--runs N]\n"
          "                           [--only overhead|throughput|latency|flavors]\n"
          "                           [--seconds S] [--edits N] [--strategies a,b,...]\n"
          "                           [--readers N] [--paths N] [--iters N] [--compiled]\n"
          "                           [--period-ms MS]\n"
          "  --quick       a smoke test of seconds: figures mean nothing\n"
          "  --out         folder for results-live.{csv,md} (default build/bench)\n"
          "  --tmp         where the edited config files live (default $TMPDIR or /tmp)\n"
          "  --runs        timed runs of the 1-thread figures (default 9, quick 2)\n"
          "  --only        one section\n"
          "  --seconds     length of one throughput run (default 1.5, quick 0.15)\n"
          "  --edits       edits per reload-latency case (default 200, quick 5)\n"
          "  --strategies  throughput strategies (default " DEFAULT_TPUT_STRATEGIES ";\n"
          "                any of snapconf urcu-bp urcu-memb urcu-mb urcu-signal urcu-qsbr\n"
          "                rwlock rwlock-wp)\n"
          "  --compiled    throughput readers use compiled paths (default: string paths)\n"
          "  --period-ms   time between the throughput writer's publications (default 1)\n"
          "  --readers     throughput reader threads (default 2)\n"
          "  --paths       distinct lookup paths (default 1024, capped by the config)\n"
          "  --iters       lookups per run in the 1-thread section (default 2000000)\n",
          to);
}

static int parse_only(const char *what, live_opts *o)
{
    o->do_overhead = strcmp(what, "overhead") == 0;
    o->do_tput = strcmp(what, "throughput") == 0;
    o->do_latency = strcmp(what, "latency") == 0;
    o->do_flavors = strcmp(what, "flavors") == 0;
    return o->do_overhead || o->do_tput || o->do_latency || o->do_flavors ? 0 : -1;
}

static int parse_args(int argc, char **argv, live_opts *o)
{
    const char *tmp = getenv("TMPDIR");
    *o = (live_opts){.out_dir = "build/bench",
                     .tmp_dir = tmp && *tmp ? tmp : "/tmp",
                     .do_overhead = true,
                     .do_tput = true,
                     .do_latency = true,
                     .do_flavors = true,
                     .readers = 2,
                     .paths = DEFAULT_PATHS,
                     .strategies = DEFAULT_TPUT_STRATEGIES};
    bool runs_set = false, seconds_set = false, edits_set = false, iters_set = false;
    double period_ms = WRITER_PERIOD_MS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0)
            o->quick = true;
        else if (strcmp(a, "--out") == 0 && v)
            o->out_dir = argv[++i];
        else if (strcmp(a, "--tmp") == 0 && v)
            o->tmp_dir = argv[++i];
        else if (strcmp(a, "--only") == 0 && v && parse_only(argv[++i], o) == 0)
            continue;
        else if (strcmp(a, "--runs") == 0 && v && (o->runs = (unsigned)atoi(argv[++i])) > 0)
            runs_set = true;
        else if (strcmp(a, "--seconds") == 0 && v && (o->seconds = atof(argv[++i])) > 0)
            seconds_set = true;
        else if (strcmp(a, "--edits") == 0 && v && (o->edits = (unsigned)atoi(argv[++i])) > 0)
            edits_set = true;
        else if (strcmp(a, "--strategies") == 0 && v)
            o->strategies = argv[++i];
        else if (strcmp(a, "--readers") == 0 && v && (o->readers = (unsigned)atoi(argv[++i])) > 0)
            continue;
        else if (strcmp(a, "--paths") == 0 && v && gen_parse_size(argv[++i], &o->paths) == 0)
            continue;
        else if (strcmp(a, "--iters") == 0 && v && gen_parse_size(argv[++i], &o->iters) == 0)
            iters_set = true;
        else if (strcmp(a, "--compiled") == 0)
            o->tput_lookup = STRATEGY_COMPILED;
        else if (strcmp(a, "--period-ms") == 0 && v && (period_ms = atof(argv[++i])) > 0)
            continue;
        else
            return -1;
    }
    if (!runs_set)
        o->runs = o->quick ? 2 : 9;
    if (!seconds_set)
        o->seconds = o->quick ? 0.15 : 1.5;
    if (!edits_set)
        o->edits = o->quick ? 5 : 200;
    if (!iters_set)
        o->iters = o->quick ? 50000 : 2000000;
    o->tput_runs = o->quick ? 1 : 3;
    o->period_ns = (uint64_t)(period_ms * 1e6);
    o->pair_ms = o->quick ? 5 : 40;
    return o->runs < MAX_RUNS && o->readers <= MAX_THREADS && o->paths > 0 && o->iters > 0 ? 0 : -1;
}

static int write_results(const bench_report *rep, const char *dir)
{
    char csv[4096], md[4096];
    snprintf(csv, sizeof(csv), "%s/results-live.csv", dir);
    snprintf(md, sizeof(md), "%s/results-live.md", dir);
    if (report_write_csv(rep, csv) != 0 || report_write_md(rep, md) != 0) {
        fprintf(stderr, "snapconf-bench-live: cannot write results in %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    printf("\nwrote %s and %s\n", csv, md);
    return 0;
}

/* The file system the edited files live on: inotify and rename costs vary. */
static const char *fs_name(const char *dir)
{
    struct statfs sf;
    if (statfs(dir, &sf) != 0)
        return "unknown";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53:
        return "ext4";
    case 0x01021994:
        return "tmpfs";
    case 0x9123683E:
        return "btrfs";
    case 0x58465342:
        return "xfs";
    case 0x794c7630:
        return "overlayfs";
    default:
        return "other";
    }
}

int main(int argc, char **argv)
{
    live_opts o;
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (make_dirs(o.out_dir) != 0) {
        fprintf(stderr, "snapconf-bench-live: cannot create %s: %s\n", o.out_dir, strerror(errno));
        return 1;
    }
    bench_report rep;
    char method[1024];
    snprintf(method, sizeof(method),
             "clock_gettime(CLOCK_MONOTONIC); libsnapconf.so (calls through the PLT); "
             "1-thread figures: best (minimum) and median of %u runs of %zu lookups after a "
             "warm-up, the two sides alternating within each run, ratio best = best/best, median "
             "= median of per-run ratios; throughput: %u runs of %.2g s per strategy, "
             "alternating, %u readers on random keys from a fixed list, a writer every %.3g ms, "
             "best = highest; "
             "latency: %u edits per case, a reader spinning on begin/generation/end, edited "
             "files on %s; flavor pairs: best and median of %u runs, 2-thread figures are the "
             "mean per thread over the runs in which both threads were on a CPU (thread CPU "
             "time >= 90%% of wall time)%s",
             o.runs, o.iters, o.tput_runs, o.seconds, o.readers, (double)o.period_ns / 1e6, o.edits,
             fs_name(o.tmp_dir), o.runs, o.quick ? " (--quick: a smoke test, not results)" : "");
    report_init(&rep, method);
    /* bench_meta has no liburcu field: the version rides with the build. */
    size_t bl = strlen(rep.meta.build);
    snprintf(rep.meta.build + bl, sizeof(rep.meta.build) - bl, "; liburcu %s",
             SNAPCONF_BENCH_URCU_VERSION);

    live_ctx ctx;
    int rc = ctx_init(&ctx, &o, &rep);
    if (rc == 0 && o.do_overhead)
        rc = section_overhead(&ctx);
    if (rc == 0 && o.do_tput)
        rc = section_throughput(&ctx);
    if (rc == 0 && o.do_latency)
        rc = section_latency(&ctx);
    if (rc == 0 && o.do_flavors)
        rc = section_flavors(&ctx);
    ctx_free(&ctx);
    printf("\n");
    report_print(&rep, stdout);
    rc = rc ? rc : (rep.failed ? -1 : write_results(&rep, o.out_dir));
    if (rc == 0)
        printf("%zu target(s) missed\n", report_misses(&rep));
    report_free(&rep);
    return rc == 0 ? 0 : 1;
}
