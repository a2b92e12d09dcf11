/*
 * bench_matrix.c - reader threads against a writer.
 *
 * One runner, cell_run(), starts R reader threads that look up random keys
 * from a fixed list through a strategy, and optionally a writer that
 * republishes a fresh copy of the config on a grid of W ms, for a fixed
 * time.  It measures reads per second, read latency (one read in
 * sample_every timed with bench_ticks(), into a histogram per thread), the
 * writer's publications and their cost, the most retired snapshots that
 * waited for reclamation at once, and the process's peak RSS.
 *
 * Two sections use it: "throughput" (issue #3 item 10: 2 readers, a writer
 * every 1 ms, a few strategies, several runs) and "matrix" (issue #6 item 2:
 * every strategy x R = 1, 2, 4 readers x W = no writer, 10 ms, 1 ms), whose
 * full results go to matrix.csv / matrix.md and gnuplot data files.
 */
#include "bench_clock.h"
#include "bench_hist.h"
#include "bench_live.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The targets. */
#define TARGET_THROUGHPUT_RATIO 10.0 /* snapconf reads/s / rwlock reads/s, #3 item 10 */
#define TARGET_VS_OTHERS 3.0         /* snapconf / sharded and / refcount, #6 item 6 */
#define TARGET_TAIL_RATIO 2.0        /* p99.9 with W = 1 ms / without a writer */
#define TARGET_RETIRED 4.0           /* retired snapshots awaiting reclamation, W = 1 ms */

#define MAX_PUBS 200000
#define MAX_TPUT_STRATEGIES 16

/* ---------------------------------------------------------------------------
 * Peak RSS of one cell
 * ------------------------------------------------------------------------- */

/* Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS
 * (Linux 4.0+), so each cell can report its own peak.  Returns false when
 * the kernel refuses: the peak is then the process's so far. */
static bool rss_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

static long rss_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* ---------------------------------------------------------------------------
 * One cell: R readers, an optional writer, a fixed time
 * ------------------------------------------------------------------------- */

typedef struct cell_spec {
    const strategy_ops *ops;
    unsigned readers;
    uint64_t period_ns; /* between publications; 0: no writer */
    double seconds;
    strategy_lookup lookup;
    unsigned sample_every;
} cell_spec;

typedef struct cell_result {
    double total, per_thread_min, per_thread_max; /* reads per second */
    double pubs_per_s, missed_ticks;
    double reader_cpu, writer_cpu;               /* CPU time / wall time */
    double prepare_us, publish_us, exclusive_us; /* medians over the run */
    double publish_p99_us, publish_max_us;
    double lat_p50, lat_p99, lat_p999, lat_max; /* ns, clock cost subtracted */
    uint64_t samples;
    double retired_peak; /* NAN: the strategy retires nothing */
    long peak_rss_kb;
    bool rss_per_cell;
    bool done;
} cell_result;

typedef struct cell_shared {
    const strategy_ops *ops;
    void *state;
    strategy_keys keys;
    strategy_lookup lookup;
    unsigned sample_every;
    pthread_barrier_t start;
    atomic_bool stop;
    /* writer */
    char *bytes;
    size_t len, gen_offset;
    uint64_t period_ns;
    uint64_t pubs, missed_ticks, pub_failures, writer_cpu_ns;
    double *prepare_us, *publish_us, *exclusive_us; /* per publication */
} cell_shared;

typedef struct cell_reader {
    cell_shared *sh;
    strategy_reader r;
    uint64_t reads, ns, cpu_ns;
    bench_hist hist; /* ticks per timed read */
} cell_reader;

/* Reads until told to stop: sample_every - 1 untimed reads, then one timed
 * read, so the clock costs little and the reads stay in their loop. */
static void *reader_main(void *arg)
{
    cell_reader *t = arg;
    cell_shared *sh = t->sh;
    const strategy_ops *ops = sh->ops;
    size_t batch = sh->sample_every - 1;
    if (ops->thread_online)
        ops->thread_online(sh->state);
    pthread_barrier_wait(&sh->start);
    uint64_t t0 = now_ns(), c0 = thread_cpu_ns(), reads = 0;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        ops->read(sh->state, sh->lookup, &sh->keys, &t->r, batch);
        bench_hist_add(&t->hist, ops->read_timed(sh->state, sh->lookup, &sh->keys, &t->r));
        reads += batch + 1;
    }
    t->ns = now_ns() - t0;
    t->cpu_ns = thread_cpu_ns() - c0;
    t->reads = reads;
    if (ops->thread_offline)
        ops->thread_offline(sh->state);
    return NULL;
}

/* Waits for the next tick of the writer's grid (absolute deadlines); a
 * publication that overran its tick makes the writer skip the ticks it
 * missed, which are counted. */
static void writer_wait(cell_shared *sh, uint64_t *next)
{
    *next += sh->period_ns;
    uint64_t now = now_ns();
    if (now > *next) {
        sh->missed_ticks += (now - *next) / sh->period_ns + 1;
        *next = now + sh->period_ns;
    }
    struct timespec ts = {(time_t)(*next / 1000000000u), (long)(*next % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void *writer_main(void *arg)
{
    cell_shared *sh = arg;
    pthread_barrier_wait(&sh->start);
    uint64_t next = now_ns(), gen = 1, c0 = thread_cpu_ns();
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        writer_wait(sh, &next);
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

static void shared_free(cell_shared *sh)
{
    if (!sh)
        return;
    free(sh->bytes);
    free(sh->prepare_us);
    free(sh->publish_us);
    free(sh->exclusive_us);
    free(sh);
}

static cell_shared *shared_new(const live_ctx *c, const cell_spec *spec)
{
    cell_shared *sh = calloc(1, sizeof(*sh));
    if (!sh)
        return NULL;
    sh->ops = spec->ops;
    sh->keys = keys_of(c, true);
    sh->lookup = spec->lookup;
    sh->sample_every = spec->sample_every < 2 ? 2 : spec->sample_every;
    sh->period_ns = spec->period_ns;
    sh->len = c->doc.len;
    sh->gen_offset = c->gen_offset;
    sh->bytes = malloc(c->doc.len);
    sh->prepare_us = malloc(MAX_PUBS * sizeof(double));
    sh->publish_us = malloc(MAX_PUBS * sizeof(double));
    sh->exclusive_us = malloc(MAX_PUBS * sizeof(double));
    if (!sh->bytes || !sh->prepare_us || !sh->publish_us || !sh->exclusive_us) {
        shared_free(sh);
        return NULL;
    }
    memcpy(sh->bytes, c->doc.data, c->doc.len);
    atomic_init(&sh->stop, false);
    return sh;
}

/* Starts the readers and the writer, lets them run, stops and joins them. */
static void run_threads(cell_shared *sh, cell_reader *rd, const cell_spec *spec)
{
    pthread_t th[MAX_THREADS + 1];
    unsigned started = 0, want = spec->readers + (spec->period_ns ? 1 : 0);
    pthread_barrier_init(&sh->start, NULL, want + 1);
    for (unsigned i = 0; i < spec->readers; i++) {
        rd[i].sh = sh;
        /* Each reader starts at its own place in the random order. */
        rd[i].r.pos = (size_t)i * (RANDOM_ORDER_LEN / MAX_THREADS);
        if (pthread_create(&th[started], NULL, reader_main, &rd[i]) == 0)
            started++;
    }
    if (spec->period_ns && pthread_create(&th[started], NULL, writer_main, sh) == 0)
        started++;
    if (started != want) {
        /* Cannot happen on a sane system; the barrier would hang. */
        fputs("snapconf-bench-live: cannot start threads\n", stderr);
        abort();
    }
    pthread_barrier_wait(&sh->start);
    sleep_ns((uint64_t)(spec->seconds * 1e9));
    atomic_store(&sh->stop, true);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&sh->start);
}

/* Ticks to nanoseconds, less what the clock itself costs. */
static double lat_ns(const live_ctx *c, double ticks)
{
    double ns = ticks / bench_clock_ticks_per_ns() - c->clock_cost_ns;
    return ns > 0 ? ns : 0;
}

static void collect_readers(const live_ctx *c, const cell_spec *spec, cell_reader *rd,
                            cell_result *out, double *secs)
{
    bench_hist *all = calloc(1, sizeof(*all));
    *secs = 0;
    out->per_thread_min = INFINITY;
    for (unsigned i = 0; i < spec->readers; i++) {
        double rate = (double)rd[i].reads / ((double)rd[i].ns / 1e9);
        out->total += rate;
        out->per_thread_min = fmin(out->per_thread_min, rate);
        out->per_thread_max = fmax(out->per_thread_max, rate);
        *secs = fmax(*secs, (double)rd[i].ns / 1e9);
        out->reader_cpu += (double)rd[i].cpu_ns / 1e9;
        bench_sink += rd[i].r.acc;
        if (all)
            bench_hist_merge(all, &rd[i].hist);
    }
    out->reader_cpu /= *secs;
    if (all) {
        out->samples = all->count;
        out->lat_p50 = lat_ns(c, bench_hist_percentile(all, 50));
        out->lat_p99 = lat_ns(c, bench_hist_percentile(all, 99));
        out->lat_p999 = lat_ns(c, bench_hist_percentile(all, 99.9));
        out->lat_max = lat_ns(c, (double)all->max);
    }
    free(all);
}

static void collect_writer(cell_shared *sh, double secs, cell_result *out)
{
    size_t n = sh->pubs < MAX_PUBS ? sh->pubs : MAX_PUBS;
    out->pubs_per_s = (double)sh->pubs / secs;
    out->writer_cpu = (double)sh->writer_cpu_ns / 1e9 / secs;
    out->missed_ticks = (double)sh->missed_ticks;
    if (n == 0)
        return;
    out->prepare_us = stats_min(sh->prepare_us, n).median;
    out->exclusive_us = stats_min(sh->exclusive_us, n).median;
    out->publish_us = stats_min(sh->publish_us, n).median; /* sorts publish_us */
    out->publish_p99_us = percentile_sorted(sh->publish_us, n, 99);
    out->publish_max_us = sh->publish_us[n - 1];
}

static int cell_run(live_ctx *c, const cell_spec *spec, cell_result *out)
{
    cell_shared *sh = shared_new(c, spec);
    cell_reader *rd = calloc(spec->readers, sizeof(*rd));
    *out = (cell_result){.retired_peak = NAN};
    if (!sh || !rd) {
        fputs("snapconf-bench-live: out of memory\n", stderr);
        shared_free(sh);
        free(rd);
        return -1;
    }
    int rc = create(spec->ops, c, &sh->state);
    if (rc == 0) {
        out->rss_per_cell = rss_reset();
        run_threads(sh, rd, spec);
        out->peak_rss_kb = rss_peak_kb();
        if (spec->ops->retired_peak && spec->period_ns)
            out->retired_peak = (double)spec->ops->retired_peak(sh->state);
        spec->ops->destroy(sh->state);
        double secs;
        collect_readers(c, spec, rd, out, &secs);
        collect_writer(sh, secs, out);
        uint64_t bad = 0;
        for (unsigned i = 0; i < spec->readers; i++)
            bad += rd[i].r.bad;
        if (bad || sh->pub_failures) {
            fprintf(stderr,
                    "snapconf-bench-live: %s: %llu failed lookups, %llu failed publications\n",
                    spec->ops->name, (unsigned long long)bad, (unsigned long long)sh->pub_failures);
            rc = -1;
        }
        out->done = rc == 0;
    }
    shared_free(sh);
    free(rd);
    return rc;
}

/* Splits the comma-separated list into strategies; with writer, only those
 * that can publish. */
static int parse_strategies(const char *list, bool writer, const strategy_ops **out, size_t max,
                            size_t *n)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", list);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        const strategy_ops *ops = strategy_find(tok);
        if (!ops || (writer && !ops->publish) || *n == max) {
            fprintf(stderr, "snapconf-bench-live: '%s' is not a strategy%s%s\n", tok,
                    writer ? " with a writer" : "", *n == max ? " (too many)" : "");
            return -1;
        }
        out[(*n)++] = ops;
    }
    return *n ? 0 : -1;
}

/* ---------------------------------------------------------------------------
 * Section "throughput" (issue #3 item 10): a few strategies, --readers
 * readers, a writer every --period-ms, --runs runs each
 * ------------------------------------------------------------------------- */

int section_throughput(live_ctx *c)
{
    const live_opts *o = c->o;
    const strategy_ops *ops[MAX_TPUT_STRATEGIES];
    size_t nops;
    if (parse_strategies(o->strategies, true, ops, MAX_TPUT_STRATEGIES, &nops) != 0)
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
    static cell_result runs[MAX_TPUT_STRATEGIES][MAX_RUNS];
    /* Runs alternate between the strategies so that each sees the same
     * mixture of machine states. */
    for (unsigned r = 0; r < o->tput_runs; r++)
        for (size_t s = 0; s < nops; s++) {
            cell_spec spec = {ops[s],     o->readers,     o->period_ns,
                              o->seconds, o->tput_lookup, o->sample_every};
            if (cell_run(c, &spec, &runs[s][r]) != 0)
                return -1;
        }
    double total[MAX_TPUT_STRATEGIES][MAX_RUNS];
    char fig[128];
    for (size_t s = 0; s < nops; s++) {
        double tot[MAX_RUNS], thr[MAX_RUNS], pubs[MAX_RUNS], prep[MAX_RUNS], publ[MAX_RUNS],
            excl[MAX_RUNS], missed[MAX_RUNS], rcpu[MAX_RUNS], wcpu[MAX_RUNS];
        for (unsigned r = 0; r < o->tput_runs; r++) {
            cell_result *x = &runs[s][r];
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
 * Section "matrix" (issue #6 item 2): every strategy x R readers x a writer
 * every W ms, the lower bound without a writer only
 * ------------------------------------------------------------------------- */

#define SEC_MATRIX "read-side matrix (#6 item 2)"
#define MATRIX_MAX 16
#define NW 3
#define NR 3

static const double matrix_period_ms[NW] = {0, 10, 1}; /* 0: no writer */
static const unsigned matrix_readers[NR] = {1, 2, 4};

typedef struct matrix {
    const strategy_ops *ops[MATRIX_MAX];
    size_t n;
    size_t lower, rwlock, live; /* indices, n when absent */
    cell_result cell[NW][NR][MATRIX_MAX];
} matrix;

static bool cell_applies(const strategy_ops *ops, unsigned w)
{
    return matrix_period_ms[w] == 0 || ops->publish != NULL;
}

static size_t find_ops(const matrix *m, const char *name)
{
    for (size_t s = 0; s < m->n; s++)
        if (strcmp(m->ops[s]->name, name) == 0)
            return s;
    return m->n;
}

/* One pass over every cell: reader count outermost, then the writer
 * period, then the strategies, so that the cells compared with each other
 * run close together in time (same R and W back to back; one strategy's
 * cells with and without a writer a few seconds apart), meeting the same
 * mixture of other work on a shared machine.  With several rounds a cell
 * keeps its run with the most reads, the least disturbed one. */
static int matrix_round(live_ctx *c, matrix *m)
{
    const live_opts *o = c->o;
    for (unsigned r = 0; r < NR; r++)
        for (unsigned w = 0; w < NW; w++)
            for (size_t s = 0; s < m->n; s++) {
                if (!cell_applies(m->ops[s], w))
                    continue;
                cell_spec spec = {
                    m->ops[s],       matrix_readers[r], (uint64_t)(matrix_period_ms[w] * 1e6),
                    o->cell_seconds, o->tput_lookup,    o->sample_every};
                cell_result res;
                if (cell_run(c, &spec, &res) != 0)
                    return -1;
                cell_result *keep = &m->cell[w][r][s];
                if (!keep->done || res.total > keep->total)
                    *keep = res;
            }
    return 0;
}

static double ratio_to(const matrix *m, unsigned w, unsigned r, size_t s, size_t base, bool lower)
{
    if (base == m->n)
        return NAN;
    const cell_result *b = lower ? &m->cell[0][r][base] : &m->cell[w][r][base];
    return b->done ? m->cell[w][r][s].total / b->total : NAN;
}

static void w_name(char *out, size_t size, unsigned w)
{
    if (matrix_period_ms[w] == 0)
        snprintf(out, size, "none");
    else
        snprintf(out, size, "%g", matrix_period_ms[w]);
}

/* ---- matrix.csv: one line per cell, each naming the machine ---- */

static void csv_cell(FILE *f, const live_ctx *c, const matrix *m, unsigned w, unsigned r, size_t s)
{
    const cell_result *x = &m->cell[w][r][s];
    const bench_meta *meta = &c->rep->meta;
    char wn[16];
    w_name(wn, sizeof(wn), w);
    fprintf(f, "%s,%u,%s,%.6g,%.6g,%.6g,%.6g,%.4g,%.4g,%.4g,%.4g,%llu,", m->ops[s]->name,
            matrix_readers[r], wn, x->total, x->total / matrix_readers[r],
            ratio_to(m, w, r, s, m->lower, true), ratio_to(m, w, r, s, m->rwlock, false),
            x->lat_p50, x->lat_p99, x->lat_p999, x->lat_max, (unsigned long long)x->samples);
    fprintf(f, "%.4g,%.4g,%.4g,%.4g,%.4g,", x->pubs_per_s, x->publish_us, x->publish_p99_us,
            x->publish_max_us, x->exclusive_us);
    if (isnan(x->retired_peak))
        fputs(",", f);
    else
        fprintf(f, "%.0f,", x->retired_peak);
    fprintf(f, "%ld,%.3g,%.3g,\"%s\",%ld,\"%s\",\"%s\",%s\n", x->peak_rss_kb, x->reader_cpu,
            x->writer_cpu, meta->cpu, meta->cores, meta->compiler, meta->liburcu, meta->date);
}

static int write_matrix_csv(const live_ctx *c, const matrix *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "# %s\n# clock: %s; empty timed interval %.1f ns (subtracted); 1 read in %u "
            "timed\n",
            "snapconf-bench-live read-side matrix (issue #6 item 2)", bench_clock_name(),
            c->clock_cost_ns, c->o->sample_every);
    fputs("strategy,readers,writer_ms,reads_per_s,reads_per_s_per_thread,x_lower_bound,x_rwlock,"
          "p50_ns,p99_ns,p999_ns,max_ns,latency_samples,publications_per_s,publish_p50_us,"
          "publish_p99_us,publish_max_us,locked_out_us,retired_peak,peak_rss_kb,reader_cpu,"
          "writer_cpu,cpu,cores,compiler,liburcu,date\n",
          f);
    for (unsigned w = 0; w < NW; w++)
        for (unsigned r = 0; r < NR; r++)
            for (size_t s = 0; s < m->n; s++)
                if (m->cell[w][r][s].done)
                    csv_cell(f, c, m, w, r, s);
    bool bad = ferror(f);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* ---- matrix.md: the same as tables ---- */

/* Three significant digits, "-" for a missing figure. */
static const char *fmt3(char *buf, size_t size, double v)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else if (fabs(v) >= 100)
        snprintf(buf, size, "%.0f", v);
    else if (fabs(v) >= 10)
        snprintf(buf, size, "%.1f", v);
    else
        snprintf(buf, size, "%.2f", v);
    return buf;
}

static void md_header(FILE *f, const live_ctx *c, const char *title)
{
    const bench_meta *m = &c->rep->meta;
    fprintf(f, "# %s\n\n- cpu: %s (%ld cores online)\n- compiler: %s\n- liburcu: %s\n", title,
            m->cpu, m->cores, m->compiler, m->liburcu);
    fprintf(f, "- snapconf: %s (build: %s)\n- date: %s\n- load average at start: %s\n", m->snapconf,
            m->build, m->date, m->loadavg);
    fprintf(f,
            "- %.2g s per cell, %u round(s); readers look up random keys (%s paths) of a "
            "~1000-key config; latency: 1 read in %u timed with %s, the clock's own %.1f ns "
            "subtracted\n",
            c->o->cell_seconds, c->o->matrix_rounds,
            c->o->tput_lookup == STRATEGY_STRING ? "string" : "compiled", c->o->sample_every,
            bench_clock_name(), c->clock_cost_ns);
    if (m->warning[0])
        fprintf(f, "- WARNING: %s\n", m->warning);
}

static void md_reads(FILE *f, const matrix *m, unsigned w)
{
    char a[16], b[16], d[16], e[16];
    fputs("\n| strategy | R=1 M/s | x lower | x rwlock | R=2 M/s (per thread) | x lower | x rwlock "
          "| R=4 M/s (per thread) | x lower | x rwlock |\n|---|---:|---:|---:|---:|---:|---:|---:|"
          "---:|---:|\n",
          f);
    for (size_t s = 0; s < m->n; s++) {
        if (!cell_applies(m->ops[s], w))
            continue;
        fprintf(f, "| %s |", m->ops[s]->name);
        for (unsigned r = 0; r < NR; r++) {
            const cell_result *x = &m->cell[w][r][s];
            fmt3(a, sizeof(a), x->total / 1e6);
            fmt3(b, sizeof(b), x->total / matrix_readers[r] / 1e6);
            if (r == 0)
                fprintf(f, " %s |", a);
            else
                fprintf(f, " %s (%s) |", a, b);
            fprintf(f, " %s | %s |", fmt3(d, sizeof(d), ratio_to(m, w, r, s, m->lower, true)),
                    fmt3(e, sizeof(e), ratio_to(m, w, r, s, m->rwlock, false)));
        }
        fputs("\n", f);
    }
}

static void md_latency(FILE *f, const matrix *m, unsigned w)
{
    char a[16], b[16], d[16];
    fputs("\n| strategy | R=1 p50 / p99 / p99.9 ns | R=2 | R=4 |\n|---|---:|---:|---:|\n", f);
    for (size_t s = 0; s < m->n; s++) {
        if (!cell_applies(m->ops[s], w))
            continue;
        fprintf(f, "| %s |", m->ops[s]->name);
        for (unsigned r = 0; r < NR; r++) {
            const cell_result *x = &m->cell[w][r][s];
            fprintf(f, " %s / %s / %s |", fmt3(a, sizeof(a), x->lat_p50),
                    fmt3(b, sizeof(b), x->lat_p99), fmt3(d, sizeof(d), x->lat_p999));
        }
        fputs("\n", f);
    }
}

static void md_writer(FILE *f, const matrix *m, unsigned w)
{
    char a[16], b[16], d[16], e[16];
    fputs("\n| strategy | R=1: publications/s, publish p50 / p99 us, retired peak, peak RSS MB "
          "| R=2 | R=4 |\n|---|---|---|---|\n",
          f);
    for (size_t s = 0; s < m->n; s++) {
        if (!cell_applies(m->ops[s], w))
            continue;
        fprintf(f, "| %s |", m->ops[s]->name);
        for (unsigned r = 0; r < NR; r++) {
            const cell_result *x = &m->cell[w][r][s];
            fprintf(f, " %.0f/s, %s / %s us, %s, %s MB |", x->pubs_per_s,
                    fmt3(a, sizeof(a), x->publish_us), fmt3(b, sizeof(b), x->publish_p99_us),
                    isnan(x->retired_peak) ? "-" : fmt3(d, sizeof(d), x->retired_peak),
                    fmt3(e, sizeof(e), (double)x->peak_rss_kb / 1024));
        }
        fputs("\n", f);
    }
}

/* How much CPU the readers got: R when each had a core to itself, less when
 * the writer, the reclaimer or other work on the machine took its turn. */
static void md_cpu(FILE *f, const matrix *m)
{
    fputs("\n| strategy | none R=1 | R=2 | R=4 | 10 ms R=1 | R=2 | R=4 | 1 ms R=1 | R=2 | R=4 "
          "|\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
          f);
    for (size_t s = 0; s < m->n; s++) {
        fprintf(f, "| %s |", m->ops[s]->name);
        for (unsigned w = 0; w < NW; w++)
            for (unsigned r = 0; r < NR; r++) {
                const cell_result *x = &m->cell[w][r][s];
                if (x->done)
                    fprintf(f, " %.2f |", x->reader_cpu);
                else
                    fputs(" - |", f);
            }
        fputs("\n", f);
    }
}

static int write_matrix_md(const live_ctx *c, const matrix *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    md_header(f, c, "snapconf read-side matrix");
    char wn[16];
    for (unsigned w = 0; w < NW; w++) {
        w_name(wn, sizeof(wn), w);
        fprintf(f, "\n## Reads per second, writer: %s%s\n", wn, w ? " ms" : "");
        md_reads(f, m, w);
    }
    for (unsigned w = 0; w < NW; w++) {
        w_name(wn, sizeof(wn), w);
        fprintf(f, "\n## Read latency, writer: %s%s\n", wn, w ? " ms" : "");
        md_latency(f, m, w);
    }
    for (unsigned w = 1; w < NW; w++) {
        w_name(wn, sizeof(wn), w);
        fprintf(f, "\n## Writer every %s ms\n", wn);
        md_writer(f, m, w);
    }
    fputs("\n## Readers' CPU time / wall time (R when every reader had a core)\n", f);
    md_cpu(f, m);
    bool bad = ferror(f);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* ---- matrix-summary.md: the README's table, 2 readers ---- */

/* "2.0 / 1.7": CPU time the readers got / wall time, no writer and 1 ms. */
static void summary_cpu(FILE *f, const cell_result *none, const cell_result *x, bool writer)
{
    if (writer)
        fprintf(f, "%.2f / %.2f |\n", none->reader_cpu, x->reader_cpu);
    else
        fprintf(f, "%.2f / - |\n", none->reader_cpu);
}

static void summary_row(FILE *f, const matrix *m, size_t s)
{
    const unsigned r = 1, w = NW - 1; /* 2 readers; writer every 1 ms */
    const cell_result *none = &m->cell[0][r][s], *x = &m->cell[w][r][s];
    char v[8][16];
    bool writer = cell_applies(m->ops[s], w) && x->done;
    fprintf(f, "| %s | %s | %s | %s | %s | %s | ", m->ops[s]->name,
            fmt3(v[0], 16, none->total / 1e6), writer ? fmt3(v[1], 16, x->total / 1e6) : "-",
            writer ? fmt3(v[2], 16, ratio_to(m, w, r, s, m->lower, true)) : "-",
            writer ? fmt3(v[3], 16, ratio_to(m, w, r, s, m->rwlock, false)) : "-",
            fmt3(v[4], 16, none->lat_p999));
    if (!writer) {
        fputs("- | - | - | ", f);
    } else {
        fprintf(f, "%s / %s / %s | %.0f/s, %s / %s | %s | ", fmt3(v[5], 16, x->lat_p50),
                fmt3(v[6], 16, x->lat_p99), fmt3(v[7], 16, x->lat_p999), x->pubs_per_s,
                fmt3(v[0], 16, x->publish_us), fmt3(v[1], 16, x->publish_p99_us),
                isnan(x->retired_peak) ? "-" : fmt3(v[2], 16, x->retired_peak));
    }
    fprintf(f, "%s | ", fmt3(v[3], 16, (double)(writer ? x : none)->peak_rss_kb / 1024));
    summary_cpu(f, none, x, writer);
}

static int write_matrix_summary(const live_ctx *c, const matrix *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const bench_meta *meta = &c->rep->meta;
    fprintf(f,
            "2 reader threads (%s paths, random keys of a ~1000-key config), %s, %ld cores, "
            "%s, liburcu %s, %s:\n\n",
            c->o->tput_lookup == STRATEGY_STRING ? "string" : "compiled", meta->cpu, meta->cores,
            meta->compiler, meta->liburcu, meta->date);
    fputs("| strategy | M reads/s, no writer | M reads/s, writer every 1 ms | x lower bound | "
          "x rwlock | p99.9 ns, no writer | p50 / p99 / p99.9 ns, writer 1 ms | publications, "
          "publish p50 / p99 us | retired peak | peak RSS MB | readers' CPU, no writer / 1 ms "
          "(2 = both on a core) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n",
          f);
    for (size_t s = 0; s < m->n; s++)
        summary_row(f, m, s);
    bool bad = ferror(f);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* ---- gnuplot data: reads per strategy and R, one block per W; tails ---- */

static int write_matrix_dat(const matrix *m, const char *reads_path, const char *lat_path)
{
    FILE *f = fopen(reads_path, "w"), *g = fopen(lat_path, "w");
    if (!f || !g) {
        if (f)
            fclose(f);
        if (g)
            fclose(g);
        return -1;
    }
    for (unsigned w = 0; w < NW; w++) {
        fprintf(f, "%s# writer %g ms (0: none); strategy, M reads/s for R = 1 2 4\n",
                w ? "\n\n" : "", matrix_period_ms[w]);
        for (size_t s = 0; s < m->n; s++) {
            if (!cell_applies(m->ops[s], w))
                continue;
            fprintf(f, "%s", m->ops[s]->name);
            for (unsigned r = 0; r < NR; r++)
                fprintf(f, " %.4g", m->cell[w][r][s].total / 1e6);
            fputs("\n", f);
        }
    }
    fputs("# 2 readers: strategy, p99.9 ns with no writer, 10 ms, 1 ms; then p50 the same\n", g);
    for (size_t s = 0; s < m->n; s++) {
        fprintf(g, "%s", m->ops[s]->name);
        for (int pass = 0; pass < 2; pass++)
            for (unsigned w = 0; w < NW; w++) {
                const cell_result *x = &m->cell[w][1][s];
                fprintf(g, x->done ? " %.4g" : " -", pass ? x->lat_p50 : x->lat_p999);
            }
        fputs("\n", g);
    }
    bool bad = ferror(f) || ferror(g);
    bad |= fclose(f) != 0;
    bad |= fclose(g) != 0;
    return bad ? -1 : 0;
}

/* ---- the targets, judged on the matrix ---- */

static void target_vs(live_ctx *c, const matrix *m, const char *other, double target)
{
    const unsigned r = 1, w = NW - 1; /* 2 readers, writer every 1 ms */
    size_t o = find_ops(m, other);
    if (m->live == m->n || o == m->n || !m->cell[w][r][o].done)
        return;
    const cell_result *a = &m->cell[w][r][m->live], *b = &m->cell[w][r][o];
    char fig[128];
    /* The readers' CPU shares say whether both sides had both cores. */
    snprintf(fig, sizeof(fig),
             "snapconf / %s reads, 2 readers, writer 1 ms (readers' CPU %.2f / %.2f)", other,
             a->reader_cpu, b->reader_cpu);
    report_add(c->rep, SEC_MATRIX, fig, a->total / b->total, NAN, "x", BENCH_GE, target);
}

static void target_tails(live_ctx *c, const matrix *m)
{
    char fig[128];
    for (unsigned r = 0; r < NR; r++) {
        const cell_result *none = &m->cell[0][r][m->live], *w1 = &m->cell[NW - 1][r][m->live];
        snprintf(fig, sizeof(fig),
                 "snapconf p99.9, %u reader(s): writer 1 ms / none (%.0f / %.0f ns)",
                 matrix_readers[r], w1->lat_p999, none->lat_p999);
        report_add(c->rep, SEC_MATRIX, fig, w1->lat_p999 / none->lat_p999, NAN, "x", BENCH_LE,
                   TARGET_TAIL_RATIO);
    }
    for (unsigned r = 0; r < NR; r++) {
        snprintf(fig, sizeof(fig),
                 "snapconf retired snapshots awaiting reclamation, peak, %u "
                 "reader(s), writer 1 ms",
                 matrix_readers[r]);
        report_add(c->rep, SEC_MATRIX, fig, m->cell[NW - 1][r][m->live].retired_peak, NAN, "count",
                   BENCH_LE, TARGET_RETIRED);
    }
}

static void matrix_targets(live_ctx *c, const matrix *m)
{
    if (m->live == m->n)
        return;
    if (m->lower < m->n)
        report_add(c->rep, SEC_MATRIX, "lower bound / snapconf reads, 1 reader, no writer",
                   m->cell[0][0][m->lower].total / m->cell[0][0][m->live].total, NAN, "x", BENCH_LE,
                   1.3);
    target_vs(c, m, "rwlock", TARGET_THROUGHPUT_RATIO);
    target_vs(c, m, "sharded", TARGET_VS_OTHERS);
    target_vs(c, m, "refcount", TARGET_VS_OTHERS);
    target_tails(c, m);
    const cell_result *x = &m->cell[NW - 1][1][m->live];
    report_add(c->rep, SEC_MATRIX, "snapconf publications/s achieved, 2 readers, asked 1000",
               x->pubs_per_s, NAN, "1/s", BENCH_INFO, 0);
    report_add(c->rep, SEC_MATRIX, "snapconf publish (snapconf_reload) p50, 2 readers, 1 ms",
               x->publish_us, NAN, "us", BENCH_INFO, 0);
    report_add(c->rep, SEC_MATRIX, "clock: empty timed interval (subtracted from latencies)",
               c->clock_cost_ns, NAN, "ns", BENCH_INFO, 0);
    report_add(c->rep, SEC_MATRIX, "peak RSS per cell (clear_refs works: 1, else lifetime peak)",
               x->rss_per_cell ? 1 : 0, NAN, "count", BENCH_INFO, 0);
}

/* The throughput targets' cells again with compiled paths: a lookup of a few
 * nanoseconds instead of ~50 shows what the synchronisation itself costs,
 * which a string lookup's cost hides (context for the targets, not judged). */
static int compiled_context(live_ctx *c, const matrix *m)
{
    static const char *const others[] = {"rwlock", "sharded", "refcount"};
    const live_opts *o = c->o;
    cell_result live, other;
    cell_spec spec = {m->ops[m->live], 2, 1000000, o->cell_seconds, STRATEGY_COMPILED,
                      o->sample_every};
    if (o->tput_lookup == STRATEGY_COMPILED || cell_run(c, &spec, &live) != 0)
        return o->tput_lookup == STRATEGY_COMPILED ? 0 : -1;
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        size_t k = find_ops(m, others[i]);
        if (k == m->n)
            continue;
        spec.ops = m->ops[k];
        if (cell_run(c, &spec, &other) != 0)
            return -1;
        char fig[128];
        snprintf(
            fig, sizeof(fig),
            "compiled paths: snapconf / %s reads, 2 readers, 1 ms (%.3g / %.3g M/s, CPU %.2f / "
            "%.2f)",
            others[i], live.total / 1e6, other.total / 1e6, live.reader_cpu, other.reader_cpu);
        report_add(c->rep, SEC_MATRIX, fig, live.total / other.total, NAN, "x", BENCH_INFO, 0);
    }
    return 0;
}

static int write_matrix_files(const live_ctx *c, const matrix *m)
{
    char p1[4096], p2[4096], p3[4096], p4[4096], p5[4096];
    const char *d = c->o->out_dir;
    snprintf(p1, sizeof(p1), "%s/matrix.csv", d);
    snprintf(p2, sizeof(p2), "%s/matrix.md", d);
    snprintf(p3, sizeof(p3), "%s/matrix-summary.md", d);
    snprintf(p4, sizeof(p4), "%s/matrix-reads.dat", d);
    snprintf(p5, sizeof(p5), "%s/matrix-latency.dat", d);
    if (write_matrix_csv(c, m, p1) != 0 || write_matrix_md(c, m, p2) != 0 ||
        write_matrix_summary(c, m, p3) != 0 || write_matrix_dat(m, p4, p5) != 0) {
        fprintf(stderr, "snapconf-bench-live: cannot write the matrix files in %s: %s\n", d,
                strerror(errno));
        return -1;
    }
    printf("wrote %s, %s, %s\n", p1, p2, p3);
    return 0;
}

int section_matrix(live_ctx *c)
{
    const live_opts *o = c->o;
    matrix *m = calloc(1, sizeof(*m));
    if (!m) {
        fputs("snapconf-bench-live: out of memory\n", stderr);
        return -1;
    }
    int rc = parse_strategies(o->matrix_strategies, false, m->ops, MATRIX_MAX, &m->n);
    if (rc == 0) {
        m->lower = find_ops(m, "unsynchronised");
        m->rwlock = find_ops(m, "rwlock");
        m->live = find_ops(m, "snapconf");
        printf("read-side matrix: %zu strategies x R = 1, 2, 4 x W = none, 10, 1 ms, %.2g s each\n",
               m->n, o->cell_seconds);
        fflush(stdout);
    }
    for (unsigned round = 0; rc == 0 && round < o->matrix_rounds; round++)
        rc = matrix_round(c, m);
    if (rc == 0) {
        matrix_targets(c, m);
        rc = m->live < m->n ? compiled_context(c, m) : 0;
    }
    rc = rc ? rc : write_matrix_files(c, m);
    free(m);
    return rc;
}
