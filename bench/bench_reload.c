/*
 * bench_reload.c - reload latency through the watcher (issue #6 item 4,
 * issue #3 item 10): for each edit pattern of the live-reload issue, the
 * time from the editing program's last system call returning to the new
 * generation being visible to a reader thread.
 *
 * Each pattern edits its own 10 KB config in its own folder, watched by its
 * own handle with the default watcher thread, so the five patterns run at
 * the same time (one at a time, 200 edits at a 50 ms debounce would take a
 * minute): a writer thread edits, then waits until its reader thread has
 * seen the new generation, then pauses 3-6 ms (pseudo-random) so that edits
 * never coalesce.  The reader polls begin / snapconf_snap_generation / end
 * every POLL_NS with a 1 us timer slack and stamps each generation the
 * first time it sees it: figures are late by at most the poll interval plus
 * a wake-up, against a 5 ms target slack.  Polling instead of spinning
 * keeps five readers from taking the two cores the watchers need.
 *
 * The patterns run once with the default 50 ms debounce (judged) and once
 * with none, which shows the intrinsic cost, and so the debounce window's
 * share of the first.
 */
#include "bench_files.h"
#include "bench_live.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include <snapconf.h>

#define TARGET_LATENCY_SLACK_MS 5.0 /* median reload latency - debounce */
#define LATENCY_CONFIG_BYTES ((size_t)10 << 10)
#define POLL_NS 50000u
#define SEC_LATENCY "reload latency, 10 KB config (#6 item 4)"
#define K8S_NAME "config.yaml"

typedef enum edit_kind {
    EDIT_INPLACE,
    EDIT_RENAME,
    EDIT_VIM,
    EDIT_RECREATE,
    EDIT_K8S,
    EDIT_KINDS
} edit_kind;

static const char *const edit_names[EDIT_KINDS] = {"in-place write", "rename over",
                                                   "vim backup rename", "delete + recreate",
                                                   "Kubernetes symlink swap"};

typedef struct lat_result {
    double *ms; /* latencies of the edits that were seen */
    size_t n;
    unsigned lost;   /* edits whose generation never showed */
    unsigned extra;  /* generations beyond one per edit */
    unsigned early;  /* visible before the writer's call returned (counted as 0) */
    unsigned unseen; /* published, but the reader saw a later generation first */
    uint64_t failed_reloads;
} lat_result;

typedef struct lat_case {
    edit_kind kind;
    unsigned debounce_ms, edits;
    char dir[3200], path[3300];
    gen_buf doc;
    size_t gen_offset;
    snapconf *h;
    atomic_bool stop;
    _Atomic uint64_t seen_gen; /* latest generation the reader saw */
    uint64_t *seen_ns;         /* when it first saw each generation */
    size_t max_gen;
    pthread_t reader, writer;
    bool reader_started, writer_started;
    lat_result res;
    int rc;
} lat_case;

/* ---------------------------------------------------------------------------
 * The two threads of a case
 * ------------------------------------------------------------------------- */

/* Polls as a reader thread checking its config would, and stamps each new
 * generation when it first becomes visible. */
static void *reader_main(void *arg)
{
    lat_case *lc = arg;
    uint64_t last = 0;
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    while (!atomic_load_explicit(&lc->stop, memory_order_relaxed)) {
        const snapconf_snap *snap = snapconf_snap_begin(lc->h);
        uint64_t g = snapconf_snap_generation(snap);
        snapconf_snap_end(lc->h, snap);
        if (g != last) {
            uint64_t t = now_ns();
            last = g;
            if (g < lc->max_gen)
                lc->seen_ns[g] = t;
            atomic_store_explicit(&lc->seen_gen, g, memory_order_release);
        }
        sleep_ns(POLL_NS);
    }
    return NULL;
}

static int do_edit(lat_case *lc, unsigned i)
{
    const char *b = lc->doc.data;
    size_t n = lc->doc.len;
    switch (lc->kind) {
    case EDIT_INPLACE:
        return bench_write_inplace(lc->path, b, n);
    case EDIT_RENAME:
        return bench_write_rename(lc->path, b, n);
    case EDIT_VIM:
        return bench_write_vim(lc->path, b, n);
    case EDIT_RECREATE:
        return bench_write_recreate(lc->path, b, n);
    default:
        return bench_k8s_update(lc->dir, K8S_NAME, i, b, n);
    }
}

/* Waits for generation expect (or a timeout); records the latency from t0. */
static void await_generation(lat_case *lc, uint64_t *expect, uint64_t t0)
{
    uint64_t timeout = (uint64_t)lc->debounce_ms * 1000000u * 20 + 2000000000u, seen;
    while ((seen = atomic_load_explicit(&lc->seen_gen, memory_order_acquire)) < *expect &&
           now_ns() - t0 < timeout)
        sleep_ns(POLL_NS);
    if (seen < *expect) {
        lc->res.lost++;
        *expect = seen;
        return;
    }
    if (*expect < lc->max_gen && lc->seen_ns[*expect] != 0) {
        /* With no debounce the watcher may publish before the writer is
         * back from its own system call: latency 0. */
        uint64_t seen_at = lc->seen_ns[*expect];
        lc->res.early += seen_at < t0;
        lc->res.ms[lc->res.n++] = seen_at < t0 ? 0.0 : (double)(seen_at - t0) / 1e6;
    } else {
        lc->res.unseen++; /* the reader skipped it: a later one came first */
    }
}

static void *writer_main(void *arg)
{
    lat_case *lc = arg;
    uint64_t rng = ORDER_SEED ^ lc->debounce_ms ^ ((uint64_t)lc->kind << 8);
    uint64_t expect = 1; /* generation 1 is the first load */
    while (atomic_load(&lc->seen_gen) < 1)
        sleep_ns(POLL_NS);
    for (unsigned i = 1; i <= lc->edits; i++) {
        set_generation(lc->doc.data, lc->gen_offset, i);
        int w = do_edit(lc, i);
        uint64_t t0 = now_ns(); /* the writer's last system call has returned */
        if (w != 0) {
            fprintf(stderr, "snapconf-bench-live: %s: cannot edit %s: %s\n", edit_names[lc->kind],
                    lc->path, strerror(errno));
            lc->rc = -1;
            break;
        }
        expect++;
        await_generation(lc, &expect, t0);
        /* Let the watcher finish and any stray second publication show,
         * then pause irregularly, so that edits fall on no fixed phase. */
        sleep_ns(3000000 + splitmix(&rng) % 3000000);
        uint64_t seen = atomic_load_explicit(&lc->seen_gen, memory_order_acquire);
        if (seen > expect) {
            lc->res.extra += (unsigned)(seen - expect);
            expect = seen;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Setting a case up and tearing it down
 * ------------------------------------------------------------------------- */

static int case_files(lat_case *lc)
{
    if (mkdir(lc->dir, 0755) != 0)
        return -1;
    if (lc->kind == EDIT_K8S) {
        snprintf(lc->path, sizeof(lc->path), "%s/%s", lc->dir, K8S_NAME);
        return bench_k8s_init(lc->dir, K8S_NAME, lc->doc.data, lc->doc.len);
    }
    snprintf(lc->path, sizeof(lc->path), "%s/config.yaml", lc->dir);
    return bench_write_rename(lc->path, lc->doc.data, lc->doc.len);
}

static int case_open(lat_case *lc)
{
    snapconf_options opts;
    snapconf_options_init(&opts);
    opts.debounce_ms = lc->debounce_ms;
    snapconf_error err;
    if (snapconf_open(&lc->h, lc->path, &opts, &err) != 0) {
        fprintf(stderr, "snapconf-bench-live: cannot open %s: %s\n", lc->path, err.message);
        lc->h = NULL;
        return -1;
    }
    snapconf_status_info st;
    snapconf_status(lc->h, &st);
    if (st.watch != SNAPCONF_WATCHING_INOTIFY)
        fprintf(stderr, "snapconf-bench-live: warning: not watching with inotify (%s)\n",
                st.watch_note);
    return 0;
}

static int case_setup(const live_ctx *c, lat_case *lc, edit_kind kind, unsigned debounce,
                      unsigned edits)
{
    lc->kind = kind;
    lc->debounce_ms = debounce;
    lc->edits = edits;
    snprintf(lc->dir, sizeof(lc->dir), "%s/reload-%d-%u", c->workdir, (int)kind, debounce);
    if (make_doc(LATENCY_CONFIG_BYTES, &lc->doc, &lc->gen_offset) != 0)
        return -1;
    if (case_files(lc) != 0) {
        fprintf(stderr, "snapconf-bench-live: cannot write %s: %s\n", lc->dir, strerror(errno));
        return -1;
    }
    lc->max_gen = (size_t)edits * 2 + 4;
    lc->seen_ns = calloc(lc->max_gen, sizeof(*lc->seen_ns));
    lc->res.ms = calloc(edits ? edits : 1, sizeof(*lc->res.ms));
    if (!lc->seen_ns || !lc->res.ms) {
        fputs("snapconf-bench-live: out of memory\n", stderr);
        return -1;
    }
    atomic_init(&lc->stop, false);
    atomic_init(&lc->seen_gen, 0);
    return case_open(lc);
}

static void case_start(lat_case *lc)
{
    lc->reader_started = pthread_create(&lc->reader, NULL, reader_main, lc) == 0;
    lc->writer_started =
        lc->reader_started && pthread_create(&lc->writer, NULL, writer_main, lc) == 0;
    if (!lc->writer_started) {
        fputs("snapconf-bench-live: cannot start threads\n", stderr);
        lc->rc = -1;
    }
}

static void case_finish(lat_case *lc)
{
    if (lc->writer_started)
        pthread_join(lc->writer, NULL);
    atomic_store(&lc->stop, true);
    if (lc->reader_started)
        pthread_join(lc->reader, NULL);
    if (lc->h) {
        snapconf_status_info st;
        snapconf_status(lc->h, &st);
        lc->res.failed_reloads = st.failed_reloads;
        snapconf_close(lc->h);
        lc->h = NULL;
    }
    free(lc->seen_ns);
    lc->seen_ns = NULL;
    gen_buf_free(&lc->doc);
}

/* Every edit pattern at once, each in its own folder with its own handle. */
static int run_cases(const live_ctx *c, unsigned debounce, unsigned edits, lat_case *cases)
{
    int rc = 0;
    for (int k = 0; k < EDIT_KINDS && rc == 0; k++)
        rc = case_setup(c, &cases[k], (edit_kind)k, debounce, edits);
    for (int k = 0; k < EDIT_KINDS && rc == 0; k++)
        case_start(&cases[k]);
    for (int k = 0; k < EDIT_KINDS; k++) {
        case_finish(&cases[k]);
        rc = rc ? rc : cases[k].rc;
    }
    return rc;
}

/* ---------------------------------------------------------------------------
 * Figures
 * ------------------------------------------------------------------------- */

typedef struct lat_stats {
    double median, p99, max;
} lat_stats;

static lat_stats lat_stats_of(lat_result *r)
{
    if (r->n == 0)
        return (lat_stats){NAN, NAN, NAN};
    qsort(r->ms, r->n, sizeof(double), cmp_double);
    return (lat_stats){median_sorted(r->ms, r->n), percentile_sorted(r->ms, r->n, 99),
                       r->ms[r->n - 1]};
}

static void add_row(live_ctx *c, const char *name, const char *what, double v, const char *unit,
                    bench_cmp cmp, double target)
{
    char fig[256]; /* report_add keeps what fits */
    snprintf(fig, sizeof(fig), "%s: %s", name, what);
    report_add(c->rep, SEC_LATENCY, fig, v, NAN, unit, cmp, target);
}

/* Anything but one visible generation per edit: fatal with the debounce
 * (the watcher must coalesce an edit's events), expected without it, where
 * the first event of an edit can trigger a reload before the edit is done. */
static int check_case(live_ctx *c, const lat_case *lc, const char *name)
{
    const lat_result *r = &lc->res;
    bool odd = r->extra || r->unseen || r->failed_reloads;
    if (r->lost || (odd && lc->debounce_ms)) {
        fprintf(stderr,
                "snapconf-bench-live: %s: %u edits never published, %u generations too many, "
                "%u not seen by the reader, %llu failed reloads\n",
                name, r->lost, r->extra, r->unseen, (unsigned long long)r->failed_reloads);
        return -1;
    }
    if (odd) {
        add_row(c, name, "generations beyond one per edit", r->extra, "count", BENCH_INFO, 0);
        add_row(c, name, "reloads that found the file missing or half-written",
                (double)r->failed_reloads, "count", BENCH_INFO, 0);
    }
    return 0;
}

static int report_case(live_ctx *c, lat_case *lc, lat_stats *out)
{
    char name[96];
    snprintf(name, sizeof(name), "%s, debounce %u ms", edit_names[lc->kind], lc->debounce_ms);
    lat_stats s = lat_stats_of(&lc->res);
    *out = s;
    bool judged = lc->debounce_ms == SNAPCONF_DEFAULT_DEBOUNCE_MS;
    add_row(c, name, "median", s.median, "ms", judged ? BENCH_LE : BENCH_INFO,
            lc->debounce_ms + TARGET_LATENCY_SLACK_MS);
    add_row(c, name, "p99", s.p99, "ms", BENCH_INFO, 0);
    add_row(c, name, "max", s.max, "ms", BENCH_INFO, 0);
    if (lc->debounce_ms)
        add_row(c, name, "debounce window's share of the median",
                100.0 * lc->debounce_ms / s.median, "%", BENCH_INFO, 0);
    add_row(c, name, "edits timed", (double)lc->res.n, "count", BENCH_INFO, 0);
    if (lc->res.early)
        add_row(c, name, "visible before the call returned", lc->res.early, "count", BENCH_INFO, 0);
    return check_case(c, lc, name);
}

/* reload.dat for gnuplot: pattern, median, p99, max (debounce 50 ms),
 * median without debounce. */
static int write_reload_dat(const live_ctx *c, const lat_stats *deb, const lat_stats *none)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/reload.dat", c->o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("# pattern; median, p99, max ms with the 50 ms debounce; median ms without\n", f);
    for (int k = 0; k < EDIT_KINDS; k++)
        fprintf(f, "\"%s\" %.4g %.4g %.4g %.4g\n", edit_names[k], deb[k].median, deb[k].p99,
                deb[k].max, none[k].median);
    bool bad = ferror(f);
    return fclose(f) != 0 || bad ? -1 : 0;
}

int section_latency(live_ctx *c)
{
    const live_opts *o = c->o;
    lat_case *deb = calloc(EDIT_KINDS, sizeof(*deb)), *none = calloc(EDIT_KINDS, sizeof(*none));
    lat_stats sd[EDIT_KINDS], sn[EDIT_KINDS];
    int rc = deb && none ? 0 : -1;
    printf("reload latency: %d edit patterns at once, %u edits each at the %u ms debounce, %u "
           "without\n",
           EDIT_KINDS, o->edits, SNAPCONF_DEFAULT_DEBOUNCE_MS, o->edits0);
    fflush(stdout);
    rc = rc ? rc : run_cases(c, SNAPCONF_DEFAULT_DEBOUNCE_MS, o->edits, deb);
    rc = rc ? rc : run_cases(c, 0, o->edits0, none);
    for (int k = 0; rc == 0 && k < EDIT_KINDS; k++)
        rc = report_case(c, &deb[k], &sd[k]);
    for (int k = 0; rc == 0 && k < EDIT_KINDS; k++)
        rc = report_case(c, &none[k], &sn[k]);
    if (rc == 0) {
        report_add(c->rep, SEC_LATENCY, "config size", (double)LATENCY_CONFIG_BYTES, NAN, "bytes",
                   BENCH_INFO, 0);
        report_add(c->rep, SEC_LATENCY, "reader's poll interval (figures late by up to this)",
                   POLL_NS / 1e6, NAN, "ms", BENCH_INFO, 0);
        if (write_reload_dat(c, sd, sn) != 0) {
            fprintf(stderr, "snapconf-bench-live: cannot write reload.dat: %s\n", strerror(errno));
            rc = -1;
        }
    }
    for (int k = 0; deb && none && k < EDIT_KINDS; k++) {
        free(deb[k].res.ms);
        free(none[k].res.ms);
    }
    free(deb);
    free(none);
    return rc;
}
