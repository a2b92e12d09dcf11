/*
 * snapconf-bench-live - the live read side (issues #3 and #6): what a read
 * costs, how reads scale against every other way of publishing a config
 * while a writer republishes it, how long an edit takes to reach readers,
 * and the liburcu flavor comparison behind snapconf's choice of urcu-bp.
 *
 *   snapconf-bench-live [--quick] [--out DIR] [--tmp DIR] [--runs N]
 *                       [--only overhead|matrix|throughput|latency|flavors]
 *                       [--cell-seconds S] [--matrix-rounds N]
 *                       [--matrix-strategies a,b,...] [--sample-every N]
 *                       [--seconds S] [--edits N] [--edits0 N]
 *                       [--strategies a,b,...] [--readers N] [--paths N]
 *
 * Sections (all but throughput run by default):
 *   overhead    1 thread: snapconf_snap_begin + lookup + snapconf_snap_end
 *               through libsnapconf.so against the same lookup on an
 *               unpublished snapshot (target: at most 1.3x)
 *   matrix      every strategy x 1, 2, 4 readers x a writer every 1 ms,
 *               10 ms or none: reads/s, read latency percentiles, publish
 *               latency, retired snapshots, peak RSS (bench_matrix.c; the
 *               full results go to matrix.csv and matrix.md)
 *   throughput  --readers readers, a writer every --period-ms: a few
 *               strategies over several runs (issue #3's figure; the
 *               matrix supersedes it, run it with --only throughput)
 *   latency     every edit pattern of the live-reload issue, 200 edits each:
 *               from the editor's last system call to a reader seeing the
 *               new generation (bench_reload.c; target: median at most
 *               debounce + 5 ms)
 *   flavors     read-side cost of every strategy's bare acquire + release,
 *               1 and 2 threads
 *
 * This program links libsnapconf.so, not the static library: calls go
 * through the PLT and urcu-bp's thread-local reader through TLS descriptors,
 * as in a service that embeds the library.  Figures go to stdout and to
 * DIR/results-live.csv and DIR/results-live.md.  Targets are PASS or MISS
 * and never change the exit status: 0 when everything was measured, 1 when
 * something failed (a lookup that does not find its path, a lost reload, an
 * unwritable file), 2 on a usage error.
 */
#include "bench_clock.h"
#include "bench_files.h"
#include "bench_live.h"

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

/* The target. */
#define TARGET_READ_RATIO 1.3 /* live read / unpublished read, 1 thread */

#define DEFAULT_PATHS 1024
#define SMALL_CONFIG_BYTES ((size_t)24 << 10) /* about 1000 keys, 4 levels */
#define SAMPLE_SEED UINT64_C(0xbe4c4)
#define OVERHEAD_SLICES 8
#define WRITER_PERIOD_MS 1.0 /* one publication per millisecond */
/* snapconf and the rwlock are the target's pair; urcu-bp and urcu-memb show
 * what the flavor costs the writer (grace periods) under the same load. */
#define DEFAULT_TPUT_STRATEGIES "snapconf,rwlock,rwlock-wp,urcu-bp,urcu-memb"
/* The matrix: snapconf's read path, the other liburcu flavors, the
 * locks, the reference count, and the lower bound (no writer). */
#define DEFAULT_MATRIX_STRATEGIES                                                                  \
    "unsynchronised,snapconf,urcu-bp,urcu-memb,urcu-mb,urcu-signal,urcu-qsbr,rwlock,mutex,"        \
    "sharded,refcount"

#define SEC_OVERHEAD "1 thread: live read vs unpublished (#3 item 10)"
#define SEC_FLAVORS "read-side pair cost: RCU flavors (#3 item 1)"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

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
    double min_cost;
    bench_clock_cost(&c->clock_cost_ns, &min_cost);
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

strategy_keys keys_of(const live_ctx *c, bool random)
{
    return (strategy_keys){.paths = c->set.paths,
                           .compiled = c->set.compiled,
                           .order = random ? c->random : c->seq,
                           .norder = random ? RANDOM_ORDER_LEN : c->set.len};
}

int create(const strategy_ops *ops, const live_ctx *c, void **state)
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
          "             [--only overhead|matrix|throughput|latency|flavors]\n"
          "             [--cell-seconds S] [--matrix-rounds N] [--matrix-strategies a,b,...]\n"
          "             [--sample-every N] [--seconds S] [--edits N] [--edits0 N]\n"
          "             [--strategies a,b,...] [--readers N] [--paths N] [--iters N]\n"
          "             [--compiled] [--period-ms MS]\n"
          "  --quick       a smoke test of seconds: figures mean nothing\n"
          "  --out         folder for the result files (default build/bench)\n"
          "  --tmp         where the edited config files live (default $TMPDIR or /tmp)\n"
          "  --runs        timed runs of the 1-thread figures (default 9, quick 2)\n"
          "  --only        one section (throughput runs only when asked for)\n"
          "  --cell-seconds       length of one matrix cell (default 0.35, quick 0.03)\n"
          "  --matrix-rounds      runs of each cell, the most reads kept (default 1)\n"
          "  --matrix-strategies  default " DEFAULT_MATRIX_STRATEGIES "\n"
          "  --sample-every       time 1 read in N (default 64)\n"
          "  --seconds     length of one throughput run (default 1.5, quick 0.15)\n"
          "  --edits       edits per pattern, 50 ms debounce (default 200, quick 5)\n"
          "  --edits0      edits per pattern without debounce (default 100, quick 5)\n"
          "  --strategies  throughput strategies (default " DEFAULT_TPUT_STRATEGIES ")\n"
          "  --compiled    throughput and matrix readers use compiled paths (default: string)\n"
          "  --period-ms   time between the throughput writer's publications (default 1)\n"
          "  --readers     throughput reader threads (default 2)\n"
          "  --paths       distinct lookup paths (default 1024, capped by the config)\n"
          "  --iters       lookups per run in the 1-thread section (default 2000000)\n"
          "strategies: unsynchronised snapconf urcu-bp urcu-memb urcu-mb urcu-signal urcu-qsbr\n"
          "            rwlock rwlock-wp mutex sharded refcount\n",
          to);
}

static int parse_only(const char *what, live_opts *o)
{
    o->do_overhead = strcmp(what, "overhead") == 0;
    o->do_matrix = strcmp(what, "matrix") == 0;
    o->do_tput = strcmp(what, "throughput") == 0;
    o->do_latency = strcmp(what, "latency") == 0;
    o->do_flavors = strcmp(what, "flavors") == 0;
    return o->do_overhead || o->do_matrix || o->do_tput || o->do_latency || o->do_flavors ? 0 : -1;
}

/* Options whose defaults depend on --quick: set means given. */
typedef struct set_flags {
    bool runs, seconds, edits, edits0, iters, cell;
    double period_ms;
} set_flags;

static bool positive_uint(const char *v, unsigned *out)
{
    int n = atoi(v);
    *out = n > 0 ? (unsigned)n : 0;
    return n > 0;
}

/* One option with a value; returns false when a is not one of them or the
 * value is bad. */
static bool parse_valued(const char *a, const char *v, live_opts *o, set_flags *f)
{
    if (strcmp(a, "--out") == 0)
        o->out_dir = v;
    else if (strcmp(a, "--tmp") == 0)
        o->tmp_dir = v;
    else if (strcmp(a, "--only") == 0)
        return parse_only(v, o) == 0;
    else if (strcmp(a, "--runs") == 0)
        return (f->runs = positive_uint(v, &o->runs));
    else if (strcmp(a, "--seconds") == 0)
        return (f->seconds = (o->seconds = atof(v)) > 0);
    else if (strcmp(a, "--cell-seconds") == 0)
        return (f->cell = (o->cell_seconds = atof(v)) > 0);
    else if (strcmp(a, "--matrix-rounds") == 0)
        return positive_uint(v, &o->matrix_rounds);
    else if (strcmp(a, "--matrix-strategies") == 0)
        o->matrix_strategies = v;
    else if (strcmp(a, "--sample-every") == 0)
        return positive_uint(v, &o->sample_every) && o->sample_every >= 2;
    else if (strcmp(a, "--edits") == 0)
        return (f->edits = positive_uint(v, &o->edits));
    else if (strcmp(a, "--edits0") == 0)
        return (f->edits0 = positive_uint(v, &o->edits0));
    else if (strcmp(a, "--strategies") == 0)
        o->strategies = v;
    else if (strcmp(a, "--readers") == 0)
        return positive_uint(v, &o->readers);
    else if (strcmp(a, "--paths") == 0)
        return gen_parse_size(v, &o->paths) == 0;
    else if (strcmp(a, "--iters") == 0)
        return (f->iters = gen_parse_size(v, &o->iters) == 0);
    else if (strcmp(a, "--period-ms") == 0)
        return (f->period_ms = atof(v)) > 0;
    else
        return false;
    return true;
}

static void apply_defaults(live_opts *o, const set_flags *f)
{
    if (!f->runs)
        o->runs = o->quick ? 2 : 9;
    if (!f->seconds)
        o->seconds = o->quick ? 0.15 : 1.5;
    if (!f->cell)
        o->cell_seconds = o->quick ? 0.03 : 0.35;
    if (!f->edits)
        o->edits = o->quick ? 5 : 200;
    if (!f->edits0)
        o->edits0 = o->quick ? 5 : 100;
    if (!f->iters)
        o->iters = o->quick ? 50000 : 2000000;
    o->tput_runs = o->quick ? 1 : 3;
    o->period_ns = (uint64_t)(f->period_ms * 1e6);
    o->pair_ms = o->quick ? 5 : 40;
}

static int parse_args(int argc, char **argv, live_opts *o)
{
    const char *tmp = getenv("TMPDIR");
    *o = (live_opts){.out_dir = "build/bench",
                     .tmp_dir = tmp && *tmp ? tmp : "/tmp",
                     .do_overhead = true,
                     .do_matrix = true,
                     .do_latency = true,
                     .do_flavors = true,
                     .readers = 2,
                     .paths = DEFAULT_PATHS,
                     .strategies = DEFAULT_TPUT_STRATEGIES,
                     .matrix_strategies = DEFAULT_MATRIX_STRATEGIES,
                     .matrix_rounds = 1,
                     .sample_every = 64};
    set_flags f = {.period_ms = WRITER_PERIOD_MS};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0)
            o->quick = true;
        else if (strcmp(a, "--compiled") == 0)
            o->tput_lookup = STRATEGY_COMPILED;
        else if (i + 1 >= argc || !parse_valued(a, argv[++i], o, &f))
            return -1;
    }
    apply_defaults(o, &f);
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
    bench_clock_init();
    bench_report rep;
    char method[1536];
    snprintf(method, sizeof(method),
             "clock_gettime(CLOCK_MONOTONIC); libsnapconf.so (calls through the PLT); "
             "1-thread figures: best (minimum) and median of %u runs of %zu lookups after a "
             "warm-up, the two sides alternating within each run, ratio best = best/best, median "
             "= median of per-run ratios; matrix: one %.2g s run per cell (%u round(s), most "
             "reads kept), readers on random keys from a fixed list, 1 read in %u timed with %s, "
             "writer on a grid of absolute deadlines; "
             "latency: %u edits per pattern (%u without debounce), all patterns at once, a "
             "reader polling begin/generation/end every 50 us, edited files on %s; flavor "
             "pairs: best and median of %u runs, 2-thread figures are the mean per thread over "
             "the runs in which both threads were on a CPU (thread CPU time >= 90%% of wall "
             "time)%s",
             o.runs, o.iters, o.cell_seconds, o.matrix_rounds, o.sample_every, bench_clock_name(),
             o.edits, o.edits0, fs_name(o.tmp_dir), o.runs,
             o.quick ? " (--quick: a smoke test, not results)" : "");
    report_init(&rep, method);

    live_ctx ctx;
    int rc = ctx_init(&ctx, &o, &rep);
    if (rc == 0 && o.do_overhead)
        rc = section_overhead(&ctx);
    if (rc == 0 && o.do_matrix)
        rc = section_matrix(&ctx);
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
