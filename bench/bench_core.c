/*
 * snapconf-bench - load and lookup benchmarks for issue #2 item 8 (and the
 * start of issue #6's suite with --full).
 *
 *   snapconf-bench [--quick] [--full] [--out DIR] [--runs N] [--iters N]
 *                  [--size BYTES[K|M|G]] [--only load|lookup] [--paths N]
 *
 * Everything is measured in one process so that the ratios compare like
 * with like: libyaml's bare event loop and snapconf_snap_load_buffer() run
 * alternately over the same bytes.  Figures go to stdout as a table and to
 * DIR/results.csv and DIR/results.md.  Targets are reported as PASS or MISS
 * and never change the exit status: 0 when every measurement ran, 1 when
 * something failed (a load error, a lookup that does not find a path the
 * snapshot holds, an unwritable file), 2 on a usage error.
 */
#include "bench_paths.h"
#include "bench_report.h"
#include "gen_config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <snapconf.h>
#include <yaml.h>

/* Only for the size of the per-snapshot compiled-path memo, which the
 * memory rows set apart (it is what makes small snapshots large). */
#include "../src/snapshot.h"

/* The targets. */
#define TARGET_LOAD_RATIO 1.5
#define TARGET_MEMORY_RATIO 2.0
#define TARGET_STRING_PATH_NS 50.0
#define TARGET_COMPILED_PATH_NS 15.0

#define MAX_RUNS 101
#define DEFAULT_PATHS 1024
#define SMALL_CONFIG_BYTES ((size_t)24 << 10) /* about 1000 keys */
#define SAMPLE_SEED UINT64_C(0xbe4c4)

/* Keeps lookup results observable so the compiler cannot drop the calls. */
static volatile uint64_t bench_sink;

typedef struct bench_opts {
    const char *out_dir;
    bool quick, full;
    bool do_load, do_lookup; /* --only picks one, for profiling */
    unsigned runs;
    size_t iters;
    size_t size;
    size_t paths; /* distinct paths a lookup loop cycles through */
} bench_opts;

typedef struct stats {
    double best, median;
} stats;

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts the samples in place. */
static stats stats_of(double *samples, unsigned n)
{
    qsort(samples, n, sizeof(*samples), cmp_double);
    double median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    return (stats){samples[0], median};
}

static int write_file(const char *dir, const char *name, const gen_buf *doc)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(doc->data, 1, doc->len, f) == doc->len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "snapconf-bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Bytes malloc has handed out, to cross-check snapconf_snap_memory(). */
static double heap_in_use(void)
{
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
#else
    return NAN;
#endif
}

/* ---------------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------------- */

/* The baseline: libyaml's parser alone, every event fetched and dropped.
 * Returns the number of events, or 0 when libyaml fails. */
static size_t yaml_event_loop(const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t event;
    size_t events = 0;
    if (!yaml_parser_initialize(&parser))
        return 0;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    for (;;) {
        if (!yaml_parser_parse(&parser, &event)) {
            events = 0;
            break;
        }
        events++;
        bool done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        if (done)
            break;
    }
    yaml_parser_delete(&parser);
    return events;
}

static int load_or_report(const gen_buf *doc, const char *name, snapconf_snap **out)
{
    snapconf_error err;
    int rc = snapconf_snap_load_buffer(doc->data, doc->len, name, out, &err);
    if (rc != 0)
        fprintf(stderr, "snapconf-bench: loading %s failed: %s (%s)\n", name, err.message,
                snapconf_err_name(rc));
    return rc;
}

typedef struct load_result {
    stats yaml, load, free_time; /* milliseconds per load */
    stats ratio;                 /* per-run load / libyaml time */
    size_t memory, nodes, events;
    double heap_growth;
} load_result;

/* Small documents load in microseconds, so each sample repeats the work
 * until it covers about 4 MiB of input, and reports the time per load. */
static unsigned reps_for(size_t len)
{
    size_t reps = ((size_t)4 << 20) / (len ? len : 1);
    return reps < 1 ? 1 : reps > 4096 ? 4096 : (unsigned)reps;
}

/* One run: libyaml, then snapconf load, then snapconf free, over reps copies. */
static int load_run(const gen_buf *doc, const char *name, unsigned reps, snapconf_snap **snaps,
                    double t[3])
{
    uint64_t t0 = now_ns();
    for (unsigned r = 0; r < reps; r++)
        if (yaml_event_loop(doc->data, doc->len) == 0)
            return -1;
    uint64_t t1 = now_ns();
    for (unsigned r = 0; r < reps; r++)
        if (load_or_report(doc, name, &snaps[r]) != 0) {
            while (r > 0)
                snapconf_snap_free(snaps[--r]);
            return -1;
        }
    uint64_t t2 = now_ns();
    for (unsigned r = 0; r < reps; r++)
        snapconf_snap_free(snaps[r]);
    uint64_t t3 = now_ns();
    t[0] = (double)(t1 - t0) / reps / 1e6;
    t[1] = (double)(t2 - t1) / reps / 1e6;
    t[2] = (double)(t3 - t2) / reps / 1e6;
    return 0;
}

/* Sizes and memory, from one extra load outside the timed runs. */
static int load_facts(const gen_buf *doc, const char *name, load_result *res)
{
    snapconf_snap *snap;
    res->events = yaml_event_loop(doc->data, doc->len);
    if (res->events == 0) {
        fprintf(stderr, "snapconf-bench: libyaml rejects %s\n", name);
        return -1;
    }
    double before = heap_in_use();
    if (load_or_report(doc, name, &snap) != 0)
        return -1;
    res->heap_growth = heap_in_use() - before;
    res->memory = snapconf_snap_memory(snap);
    res->nodes = snapconf_snap_node_count(snap);
    snapconf_snap_free(snap);
    return 0;
}

static int measure_load(const gen_buf *doc, const char *name, unsigned runs, load_result *res)
{
    double samples[4][MAX_RUNS], t[3];
    unsigned reps = reps_for(doc->len);
    snapconf_snap **snaps = calloc(reps, sizeof(*snaps));
    int rc = snaps ? load_facts(doc, name, res) : -1;
    /* Run 0 is a warm-up: it faults in the heap both sides will reuse. */
    for (unsigned i = 0; rc == 0 && i <= runs; i++) {
        rc = load_run(doc, name, reps, snaps, t);
        for (int k = 0; k < 3 && i > 0; k++)
            samples[k][i - 1] = t[k];
        if (i > 0)
            samples[3][i - 1] = t[1] / t[0];
    }
    free(snaps);
    if (rc != 0)
        return -1;
    res->yaml = stats_of(samples[0], runs);
    res->load = stats_of(samples[1], runs);
    res->free_time = stats_of(samples[2], runs);
    res->ratio = stats_of(samples[3], runs);
    return 0;
}

/* What the load plot shows, one point per judged input (load.dat). */
typedef struct load_point {
    char label[48];
    double ratio, memory, load_ms, yaml_ms;
    size_t order; /* service configs by size first, then the shapes as run */
} load_point;

static load_point load_points[16];
static size_t load_npoints;

static void load_point_add(const char *label, size_t bytes, const load_result *r)
{
    if (load_npoints == sizeof(load_points) / sizeof(load_points[0]))
        return;
    load_point *p = &load_points[load_npoints++];
    snprintf(p->label, sizeof(p->label), "%s", label);
    p->order = strncmp(label, "service", 7) == 0 ? bytes : SIZE_MAX / 2 + load_npoints;
    p->ratio = r->load.best / r->yaml.best;
    p->memory = (double)r->memory / (double)bytes;
    p->load_ms = r->load.best;
    p->yaml_ms = r->yaml.best;
}

static int cmp_point(const void *a, const void *b)
{
    size_t x = ((const load_point *)a)->order, y = ((const load_point *)b)->order;
    return (x > y) - (x < y);
}

static int write_load_dat(const char *dir)
{
    qsort(load_points, load_npoints, sizeof(load_points[0]), cmp_point);
    char path[4096];
    snprintf(path, sizeof(path), "%s/load.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("# input; load / libyaml time (best/best); snapshot bytes / file byte; load ms; "
          "libyaml ms\n",
          f);
    for (size_t i = 0; i < load_npoints; i++)
        fprintf(f, "\"%s\" %.4g %.4g %.4g %.4g\n", load_points[i].label, load_points[i].ratio,
                load_points[i].memory, load_points[i].load_ms, load_points[i].yaml_ms);
    bool bad = ferror(f);
    return fclose(f) != 0 || bad ? -1 : 0;
}

/* The load rows.  The ratio and memory targets apply to the inputs
 * (1 KB, 100 KB, 10 MB, deep, wide, long sequence); for the ~1000-key
 * config of the lookup section the same figures are context. */
static void report_load(bench_report *rep, const char *section, const char *label, size_t bytes,
                        const load_result *r, bool judged)
{
    char fig[96];
    const char *sep = label[0] ? ": " : "";
    double mb = (double)bytes / (1 << 20);
    snprintf(fig, sizeof(fig), "%s%slibyaml bare event loop", label, sep);
    report_add(rep, section, fig, r->yaml.best, r->yaml.median, "ms", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s%ssnapconf_snap_load_buffer", label, sep);
    report_add(rep, section, fig, r->load.best, r->load.median, "ms", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s%sload / libyaml time", label, sep);
    /* Best: the two undisturbed times.  Median: of the ratios within each
     * run, where both sides met the same machine state. */
    report_add(rep, section, fig, r->load.best / r->yaml.best, r->ratio.median, "x",
               judged ? BENCH_LE : BENCH_INFO, TARGET_LOAD_RATIO);
    snprintf(fig, sizeof(fig), "%s%sload throughput", label, sep);
    report_add(rep, section, fig, mb / (r->load.best / 1e3), mb / (r->load.median / 1e3), "MB/s",
               BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s%ssnapshot memory / file size", label, sep);
    report_add(rep, section, fig, (double)r->memory / (double)bytes, NAN, "x",
               judged ? BENCH_LE : BENCH_INFO, TARGET_MEMORY_RATIO);
    /* 1024 compiled-path slots of 8 bytes in every snapshot: most of a
     * small file's snapshot. */
    double memo = (double)sizeof(((snapconf_snap *)NULL)->memo);
    snprintf(fig, sizeof(fig), "%s%ssnapshot memory without the %.0f-byte memo / file size", label,
             sep, memo);
    report_add(rep, section, fig, ((double)r->memory - memo) / (double)bytes, NAN, "x", BENCH_INFO,
               0);
    snprintf(fig, sizeof(fig), "%s%smalloc heap growth / file size", label, sep);
    report_add(rep, section, fig, r->heap_growth / (double)bytes, NAN, "x", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s%ssnapconf_snap_free", label, sep);
    report_add(rep, section, fig, r->free_time.best, r->free_time.median, "ms", BENCH_INFO, 0);
}

/* Mapping entries under node: what "a 1000-key config" counts. */
static size_t count_keys(const snapconf_node *node)
{
    size_t n = snapconf_node_size(node), keys = 0;
    bool is_map = snapconf_node_type(node) == SNAPCONF_TYPE_MAP;
    for (size_t i = 0; i < n; i++)
        keys += (is_map ? 1 : 0) + count_keys(snapconf_node_at(node, i));
    return keys;
}

/* ---------------------------------------------------------------------------
 * Lookups
 *
 * One loop per API so that no branch on the kind sits in the timed loop.
 * Each cycles through the sampled paths; the result feeds an accumulator
 * stored in a volatile at the end, and the calls go into another object file
 * (no LTO), so none of them can be optimised away.
 * ------------------------------------------------------------------------- */

typedef enum lookup_kind {
    LOOKUP_NODE_FIND, /* snapconf_node_find(base, string) */
    LOOKUP_GET_INT,   /* snapconf_get_int(snap, string) */
    LOOKUP_PATH_INT,  /* snapconf_path_get_int(snap, compiled) */
    LOOKUP_FIND_PATH, /* snapconf_find_path(snap, compiled) */
} lookup_kind;

typedef struct lookup_case {
    const snapconf_snap *snap;
    const snapconf_node *base; /* for LOOKUP_NODE_FIND */
    const path_set *set;
    lookup_kind kind;
} lookup_case;

static uint64_t loop_node_find(const lookup_case *c, size_t iters)
{
    uint64_t acc = 0; /* unsigned: wrapping is defined */
    size_t j = 0, n = c->set->len;
    char **paths = c->set->paths;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < iters; i++) {
        const snapconf_node *node = NULL;
        acc += (uint64_t)snapconf_node_find(c->base, paths[j], &node) + (uintptr_t)node;
        j = j + 1 == n ? 0 : j + 1;
    }
    uint64_t t = now_ns() - t0;
    bench_sink = acc;
    return t;
}

static uint64_t loop_get_int(const lookup_case *c, size_t iters)
{
    uint64_t acc = 0; /* unsigned: wrapping is defined */
    size_t j = 0, n = c->set->len;
    char **paths = c->set->paths;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < iters; i++) {
        int64_t v = 0;
        acc += (uint64_t)snapconf_get_int(c->snap, paths[j], &v) + (uint64_t)v;
        j = j + 1 == n ? 0 : j + 1;
    }
    uint64_t t = now_ns() - t0;
    bench_sink = acc;
    return t;
}

static uint64_t loop_path_int(const lookup_case *c, size_t iters)
{
    uint64_t acc = 0; /* unsigned: wrapping is defined */
    size_t j = 0, n = c->set->len;
    snapconf_path **paths = c->set->compiled;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < iters; i++) {
        int64_t v = 0;
        acc += (uint64_t)snapconf_path_get_int(c->snap, paths[j], &v) + (uint64_t)v;
        j = j + 1 == n ? 0 : j + 1;
    }
    uint64_t t = now_ns() - t0;
    bench_sink = acc;
    return t;
}

static uint64_t loop_find_path(const lookup_case *c, size_t iters)
{
    uint64_t acc = 0; /* unsigned: wrapping is defined */
    size_t j = 0, n = c->set->len;
    snapconf_path **paths = c->set->compiled;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < iters; i++) {
        const snapconf_node *node = NULL;
        acc += (uint64_t)snapconf_find_path(c->snap, paths[j], &node) + (uintptr_t)node;
        j = j + 1 == n ? 0 : j + 1;
    }
    uint64_t t = now_ns() - t0;
    bench_sink = acc;
    return t;
}

/* Every sampled path must resolve, to the value the walk saw: a lookup that
 * fails here is a library bug, and timing it would be meaningless. */
static int verify_lookup(const lookup_case *c, size_t i)
{
    const snapconf_node *node = NULL;
    int64_t v = c->set->ints[i];
    int rc;
    switch (c->kind) {
    case LOOKUP_NODE_FIND:
        rc = snapconf_node_find(c->base, c->set->paths[i], &node);
        break;
    case LOOKUP_GET_INT:
        rc = snapconf_get_int(c->snap, c->set->paths[i], &v);
        break;
    case LOOKUP_PATH_INT:
        rc = snapconf_path_get_int(c->snap, c->set->compiled[i], &v);
        break;
    default:
        rc = snapconf_find_path(c->snap, c->set->compiled[i], &node);
        break;
    }
    if (rc == 0 && v == c->set->ints[i])
        return 0;
    fprintf(stderr,
            "snapconf-bench: library bug? lookup kind %d of '%s' gave %s, value %lld "
            "(expected %lld)\n",
            (int)c->kind, c->set->paths[i], snapconf_err_name(rc), (long long)v,
            (long long)c->set->ints[i]);
    return -1;
}

static int measure_lookup(const lookup_case *c, size_t iters, unsigned runs, stats *out)
{
    static uint64_t (*const loops[])(const lookup_case *, size_t) = {loop_node_find, loop_get_int,
                                                                     loop_path_int, loop_find_path};
    double samples[MAX_RUNS];
    if (c->set->len == 0) {
        fprintf(stderr, "snapconf-bench: no paths to look up\n");
        return -1;
    }
    for (size_t i = 0; i < c->set->len; i++)
        if (verify_lookup(c, i) != 0)
            return -1;
    loops[c->kind](c, c->set->len); /* warm the caches and branch predictors */
    for (unsigned r = 0; r < runs; r++)
        samples[r] = (double)loops[c->kind](c, iters) / (double)iters;
    *out = stats_of(samples, runs);
    return 0;
}

/* Samples up to max paths of the given segment count and type below base,
 * and compiles them when asked.  Only sets timed as compiled paths are
 * compiled: a compiled path may hold resources in the library (snapconf
 * gives each a slot in a per-snapshot cache), so idle ones would skew the
 * figures of the others. */
static int sample(const snapconf_node *base, unsigned segments, int type, size_t max, bool compile,
                  path_set *set)
{
    path_query q = {.segments = segments, .want_type = type, .max = max, .seed = SAMPLE_SEED};
    if (path_set_sample(base, &q, set) != 0) {
        fputs("snapconf-bench: out of memory sampling paths\n", stderr);
        return -1;
    }
    if (!compile)
        return 0;
    int rc = path_set_compile(set);
    if (rc != 0)
        fprintf(stderr, "snapconf-bench: compiling sampled paths failed: %s\n",
                snapconf_strerror(rc));
    return rc == 0 ? 0 : -1;
}

/* The issue's own example must work whenever the config has that service. */
static int check_example_path(const snapconf_snap *snap)
{
    const snapconf_node *svc;
    int64_t v;
    if (snapconf_find(snap, "services.svc_123", &svc) != 0)
        return 0;
    int rc = snapconf_get_int(snap, "services.svc_123.upstreams[2].port", &v);
    if (rc == 0)
        return 0;
    fprintf(stderr, "snapconf-bench: services.svc_123.upstreams[2].port: %s\n",
            snapconf_strerror(rc));
    return -1;
}

/* The first lookup of each compiled path in a freshly loaded snapshot: what
 * a reader pays right after a reload, when a library that caches results per
 * snapshot (snapconf does) has nothing cached yet.  Each run loads a fresh
 * snapshot untimed, then times one pass over the paths. */
static int measure_first_lookup(const gen_buf *doc, const path_set *set, unsigned runs, stats *out)
{
    double samples[MAX_RUNS];
    for (unsigned r = 0; r < runs; r++) {
        snapconf_snap *fresh;
        if (load_or_report(doc, "<fresh copy>", &fresh) != 0)
            return -1;
        lookup_case c = {fresh, NULL, set, LOOKUP_PATH_INT};
        samples[r] = (double)loop_path_int(&c, set->len) / (double)set->len;
        snapconf_snap_free(fresh);
    }
    *out = stats_of(samples, runs);
    return 0;
}

/* Compiled paths: the steady state the target is about, then the first
 * lookup after a load. */
static int bench_compiled(bench_report *rep, const char *section, const snapconf_snap *snap,
                          const gen_buf *doc, const path_set *set, const bench_opts *o)
{
    stats s;
    lookup_case c = {snap, NULL, set, LOOKUP_PATH_INT};
    int rc = measure_lookup(&c, o->iters, o->runs, &s);
    if (rc == 0)
        report_add(rep, section, "compiled path, 4 segments (snapconf_path_get_int)", s.best,
                   s.median, "ns", BENCH_LT, TARGET_COMPILED_PATH_NS);
    rc = rc ? rc : measure_first_lookup(doc, set, o->runs, &s);
    if (rc == 0)
        report_add(rep, section, "compiled path, 4 segments, first lookup after a load", s.best,
                   s.median, "ns", BENCH_INFO, 0);
    return rc;
}

/* The lookup rows for one snapshot: one segment through a string path, four
 * through a string path and four through a compiled path. */
static int bench_lookups(bench_report *rep, const char *section, const snapconf_snap *snap,
                         const gen_buf *doc, const bench_opts *o)
{
    const snapconf_node *services;
    path_set one = {0}, four = {0};
    stats s;
    char fig[96];
    int rc = snapconf_find(snap, "services", &services) == 0 ? 0 : -1;
    if (rc != 0)
        fputs("snapconf-bench: library bug? no 'services' in the loaded config\n", stderr);
    rc = rc ? rc : check_example_path(snap);
    rc = rc ? rc : sample(services, 1, -1, o->paths, false, &one);
    rc = rc ? rc : sample(snapconf_snap_root(snap), 4, SNAPCONF_TYPE_INT, o->paths, true, &four);
    lookup_case c1 = {snap, services, &one, LOOKUP_NODE_FIND};
    if (rc == 0 && (rc = measure_lookup(&c1, o->iters, o->runs, &s)) == 0) {
        snprintf(fig, sizeof(fig), "string path, 1 segment (node_find in %zu-key map)",
                 snapconf_node_size(services));
        report_add(rep, section, fig, s.best, s.median, "ns", BENCH_INFO, 0);
    }
    lookup_case c4 = {snap, NULL, &four, LOOKUP_GET_INT};
    if (rc == 0 && (rc = measure_lookup(&c4, o->iters, o->runs, &s)) == 0)
        report_add(rep, section, "string path, 4 segments (snapconf_get_int)", s.best, s.median,
                   "ns", BENCH_LT, TARGET_STRING_PATH_NS);
    rc = rc ? rc : bench_compiled(rep, section, snap, doc, &four, o);
    if (rc == 0) {
        report_add(rep, section, "paths cycled, 1 segment", (double)one.len, NAN, "count",
                   BENCH_INFO, 0);
        snprintf(fig, sizeof(fig), "paths cycled, 4 segments (of %zu int leaves)", four.candidates);
        report_add(rep, section, fig, (double)four.len, NAN, "count", BENCH_INFO, 0);
    }
    path_set_free(&one);
    path_set_free(&four);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------------- */

/* Human names for sizes, used in file names and labels: "10M", "512K". */
static void size_name(char *out, size_t size, size_t bytes)
{
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
        snprintf(out, size, "%zuM", bytes >> 20);
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(out, size, "%zuK", bytes >> 10);
    else
        snprintf(out, size, "%zu", bytes);
}

static int gen_service_doc(size_t target, gen_buf *doc)
{
    gen_service_params p = {.target_bytes = target, .seed = GEN_DEFAULT_SEED};
    if (gen_service(doc, &p) == 0)
        return 0;
    fputs("snapconf-bench: out of memory generating the config\n", stderr);
    return -1;
}

/* Loads doc, reports its load figures, then its lookups. */
static int bench_service(bench_report *rep, const bench_opts *o, const char *section,
                         const char *file, const gen_buf *doc, bool judge_load)
{
    load_result lr = {0};
    snapconf_snap *snap = NULL;
    if (write_file(o->out_dir, file, doc) != 0)
        return -1;
    if (o->do_load && measure_load(doc, file, o->runs, &lr) != 0)
        return -1;
    if (!o->do_load && load_facts(doc, file, &lr) != 0)
        return -1;
    if (o->do_load)
        report_load(rep, section, "", doc->len, &lr, judge_load);
    if (o->do_load && judge_load) {
        char name[32], label[48];
        size_name(name, sizeof(name), o->size);
        snprintf(label, sizeof(label), "service %s", name);
        load_point_add(label, doc->len, &lr);
    }
    if (load_or_report(doc, file, &snap) != 0)
        return -1;
    report_add(rep, section, "file size", (double)doc->len, NAN, "bytes", BENCH_INFO, 0);
    report_add(rep, section, "snapshot memory", (double)lr.memory, NAN, "bytes", BENCH_INFO, 0);
    report_add(rep, section, "nodes (snapconf_snap_node_count)", (double)lr.nodes, NAN, "count",
               BENCH_INFO, 0);
    report_add(rep, section, "keys (mapping entries)", (double)count_keys(snapconf_snap_root(snap)),
               NAN, "count", BENCH_INFO, 0);
    report_add(rep, section, "libyaml events", (double)lr.events, NAN, "count", BENCH_INFO, 0);
    int rc = o->do_lookup ? bench_lookups(rep, section, snap, doc, o) : 0;
    snapconf_snap_free(snap);
    return rc;
}

static int bench_main_config(bench_report *rep, const bench_opts *o)
{
    gen_buf doc = {0};
    char name[32], file[64], section[96];
    size_name(name, sizeof(name), o->size);
    snprintf(file, sizeof(file), "service-%s.yaml", name);
    snprintf(section, sizeof(section), "service config %s (issue #2 targets)", name);
    int rc = gen_service_doc(o->size, &doc);
    rc = rc ? rc : bench_service(rep, o, section, file, &doc, true);
    gen_buf_free(&doc);
    return rc;
}

/* About 1000 keys: small enough to stay in cache, the common hot case. */
static int bench_small_config(bench_report *rep, const bench_opts *o)
{
    gen_buf doc = {0};
    const char *section = "small service config (in cache)";
    int rc = gen_service_doc(SMALL_CONFIG_BYTES, &doc);
    rc = rc ? rc : bench_service(rep, o, section, "service-small.yaml", &doc, false);
    gen_buf_free(&doc);
    return rc;
}

/* ---------------------------------------------------------------------------
 * --full: the shapes issue #6 asks for (context only, no targets yet)
 * ------------------------------------------------------------------------- */

typedef struct full_input {
    const char *shape_name;
    int shape;
    size_t size; /* bytes for service, else depth/keys/items */
    size_t quick_size;
} full_input;

static const full_input full_inputs[] = {
    {"service", GEN_SHAPE_SERVICE, 1 << 10, 1 << 10},
    {"service", GEN_SHAPE_SERVICE, 100 << 10, 100 << 10},
    {"deep", GEN_SHAPE_DEEP, 200, 200},
    {"wide", GEN_SHAPE_WIDE, 100000, 10000},
    {"seq", GEN_SHAPE_SEQ, 1000000, 100000},
};

#define FULL_SECTION "load cost by input (#6 item 3)"

/* String and compiled lookups of sampled paths with the given number of
 * segments; long paths cost more per lookup, so they get fewer iterations. */
static int full_lookups(bench_report *rep, const bench_opts *o, const char *label,
                        const snapconf_snap *snap, unsigned segments)
{
    path_set set = {0};
    stats s;
    char fig[128];
    size_t iters = o->iters / segments > 1000 ? o->iters / segments : 1000;
    int rc = sample(snapconf_snap_root(snap), segments, -1, o->paths, true, &set);
    lookup_case c = {snap, snapconf_snap_root(snap), &set, LOOKUP_NODE_FIND};
    if (rc == 0 && (rc = measure_lookup(&c, iters, o->runs, &s)) == 0) {
        snprintf(fig, sizeof(fig), "%s: string path, %u segment(s) (snapconf_node_find)", label,
                 segments);
        report_add(rep, FULL_SECTION, fig, s.best, s.median, "ns", BENCH_INFO, 0);
    }
    c.kind = LOOKUP_FIND_PATH;
    if (rc == 0 && (rc = measure_lookup(&c, iters, o->runs, &s)) == 0) {
        snprintf(fig, sizeof(fig), "%s: compiled path, %u segment(s) (snapconf_find_path)", label,
                 segments);
        report_add(rep, FULL_SECTION, fig, s.best, s.median, "ns", BENCH_INFO, 0);
    }
    path_set_free(&set);
    return rc;
}

static int gen_full_input(const full_input *in, size_t n, gen_buf *doc)
{
    switch (in->shape) {
    case GEN_SHAPE_SERVICE:
        return gen_service_doc(n, doc);
    case GEN_SHAPE_DEEP:
        return gen_deep(doc, (unsigned)n);
    case GEN_SHAPE_WIDE:
        return gen_wide(doc, n);
    default:
        return gen_seq(doc, n);
    }
}

static int bench_full_one(bench_report *rep, const bench_opts *o, const full_input *in)
{
    gen_buf doc = {0};
    load_result lr;
    char file[80], name[32], label[48];
    size_t n = o->quick ? in->quick_size : in->size;
    if (in->shape == GEN_SHAPE_SERVICE)
        size_name(name, sizeof(name), n);
    else
        snprintf(name, sizeof(name), "%zu", n);
    snprintf(file, sizeof(file), "%s-%s.yaml", in->shape_name, name);
    int rc = gen_full_input(in, n, &doc);
    rc = rc ? rc : write_file(o->out_dir, file, &doc);
    if (rc == 0 && o->do_load)
        rc = measure_load(&doc, file, o->runs, &lr);
    snprintf(label, sizeof(label), "%s %s", in->shape_name, name);
    if (rc == 0 && o->do_load) {
        char with_size[80];
        snprintf(with_size, sizeof(with_size), "%s (%zu bytes)", label, doc.len);
        report_load(rep, FULL_SECTION, with_size, doc.len, &lr, true);
        load_point_add(label, doc.len, &lr);
    }
    /* A random existing path of the shape's natural length: 4 segments in a
     * service config, the whole depth of the deep one, one key or item. */
    if (rc == 0 && o->do_lookup) {
        snapconf_snap *snap = NULL;
        unsigned segments = in->shape == GEN_SHAPE_DEEP      ? (unsigned)n + 1
                            : in->shape == GEN_SHAPE_SERVICE ? 4
                                                             : 1;
        rc = load_or_report(&doc, file, &snap);
        rc = rc ? rc : full_lookups(rep, o, label, snap, segments);
        snapconf_snap_free(snap);
    }
    gen_buf_free(&doc);
    return rc;
}

static int bench_full(bench_report *rep, const bench_opts *o)
{
    for (size_t i = 0; i < sizeof(full_inputs) / sizeof(full_inputs[0]); i++)
        if (bench_full_one(rep, o, &full_inputs[i]) != 0)
            return -1;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Command line and output
 * ------------------------------------------------------------------------- */

static void usage(FILE *to)
{
    fputs("usage: snapconf-bench [--quick] [--full] [--out DIR] [--runs N] [--iters N]\n"
          "                      [--size BYTES[K|M|G]] [--only load|lookup] [--paths N]\n"
          "  --quick   small sizes and few runs: a smoke test of seconds\n"
          "  --full    also the issue #6 shapes (1K/100K service, deep, wide, long seq)\n"
          "  --out     folder for the generated configs and results (default build/bench)\n"
          "  --runs    timed runs per figure (default 7, quick 3; best and median reported)\n"
          "  --iters   lookups per timed run (default 4000000, quick 100000)\n"
          "  --size    size of the main service config (default 10M, quick 512K)\n"
          "  --only    load|lookup: measure only that part (for profiling)\n"
          "  --paths   distinct paths each lookup loop cycles through (default 1024;\n"
          "            a few stay in cache, many spread over the snapshot)\n",
          to);
}

static int parse_only(const char *what, bench_opts *o)
{
    o->do_load = strcmp(what, "load") == 0;
    o->do_lookup = strcmp(what, "lookup") == 0;
    return o->do_load || o->do_lookup ? 0 : -1;
}

static int parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){
        .out_dir = "build/bench", .do_load = true, .do_lookup = true, .paths = DEFAULT_PATHS};
    bool runs_set = false, iters_set = false, size_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0)
            o->quick = true;
        else if (strcmp(a, "--full") == 0)
            o->full = true;
        else if (strcmp(a, "--only") == 0 && v && parse_only(argv[++i], o) == 0)
            continue;
        else if (strcmp(a, "--out") == 0 && v)
            o->out_dir = argv[++i];
        else if (strcmp(a, "--runs") == 0 && v && (o->runs = (unsigned)atoi(argv[++i])) > 0)
            runs_set = true;
        else if (strcmp(a, "--iters") == 0 && v && gen_parse_size(argv[++i], &o->iters) == 0)
            iters_set = true;
        else if (strcmp(a, "--size") == 0 && v && gen_parse_size(argv[++i], &o->size) == 0)
            size_set = true;
        else if (strcmp(a, "--paths") == 0 && v && gen_parse_size(argv[++i], &o->paths) == 0)
            continue;
        else
            return -1;
    }
    if (!runs_set)
        o->runs = o->quick ? 3 : 7;
    if (!iters_set)
        o->iters = o->quick ? 100000 : 4000000;
    if (!size_set)
        o->size = o->quick ? (size_t)512 << 10 : (size_t)10 << 20;
    return o->runs <= MAX_RUNS - 1 && o->iters > 0 && o->size > 0 && o->paths > 0 ? 0 : -1;
}

static int write_results(const bench_report *rep, const char *dir)
{
    char csv[4096], md[4096];
    snprintf(csv, sizeof(csv), "%s/results.csv", dir);
    snprintf(md, sizeof(md), "%s/results.md", dir);
    if (report_write_csv(rep, csv) != 0 || report_write_md(rep, md) != 0) {
        fprintf(stderr, "snapconf-bench: cannot write results in %s: %s\n", dir, strerror(errno));
        return -1;
    }
    printf("\nwrote %s and %s\n", csv, md);
    return 0;
}

static const char method_text[] =
    "clock_gettime(CLOCK_MONOTONIC); every figure is the best (minimum) and the median of "
    "N timed runs after one untimed warm-up; libyaml and snapconf loads alternate within "
    "each run over the same bytes; targets are judged on the best run, the figure least "
    "disturbed by other load on a shared machine; the load ratio's best is best load / best "
    "libyaml, its median the median of the per-run ratios; lookups cycle through existing paths "
    "sampled from the snapshot, ns/op = run time / iterations (loop overhead included)";

int main(int argc, char **argv)
{
    bench_opts o;
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (make_dirs(o.out_dir) != 0) {
        fprintf(stderr, "snapconf-bench: cannot create %s: %s\n", o.out_dir, strerror(errno));
        return 1;
    }
    bench_report rep;
    report_init(&rep, method_text);
    char runs[160];
    snprintf(runs, sizeof(runs), "; N = %u runs, %zu lookups per run over up to %zu paths%s",
             o.runs, o.iters, o.paths,
             o.quick ? " (--quick: figures are a smoke test, not results)" : "");
    strncat(rep.meta.method, runs, sizeof(rep.meta.method) - strlen(rep.meta.method) - 1);
    int rc = bench_main_config(&rep, &o);
    rc = rc ? rc : bench_small_config(&rep, &o);
    rc = rc ? rc : (o.full ? bench_full(&rep, &o) : 0);
    if (rc == 0 && o.do_load && write_load_dat(o.out_dir) != 0) {
        fprintf(stderr, "snapconf-bench: cannot write load.dat: %s\n", strerror(errno));
        rc = -1;
    }
    report_print(&rep, stdout);
    rc = rc ? rc : (rep.failed ? -1 : write_results(&rep, o.out_dir));
    if (rc == 0)
        printf("%zu target(s) missed\n", report_misses(&rep));
    report_free(&rep);
    return rc == 0 ? 0 : 1;
}
