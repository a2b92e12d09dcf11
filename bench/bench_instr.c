/*
 * snapconf-bench-instr - instruction counts (issue #6 item 5): figures that
 * stay put on a noisy shared machine, where timings do not.
 *
 *   snapconf-bench-instr [--quick] [--out DIR] [--valgrind PATH]
 *
 * The program runs itself under `valgrind --tool=callgrind` with
 * instrumentation off, and the child switches it on around each phase
 * (CALLGRIND_START_INSTRUMENTATION / STOP, then CALLGRIND_DUMP_STATS_AT with
 * the phase's name and unit count), so that set-up, generation and warm-up
 * are not counted.  Phases:
 *
 *   read <kind> <strategy> K   K lookups through each strategy's read loop
 *                              (the same loop snapconf-bench-live times),
 *                              string and compiled paths, one thread
 *   load libyaml|snapconf B    libyaml's bare event loop and
 *                              snapconf_snap_load_buffer over the same
 *                              generated B-byte service config
 *   free snapconf B            snapconf_snap_free of that snapshot
 *
 * The parent then reads each dump's "totals:" line and writes instructions
 * per read and per loaded byte to DIR/results-instructions.{csv,md}, next to
 * the ratios the timing targets are about.  Instruction counts ignore cache
 * misses, atomic operations' latency and contention, so they are a stable
 * check of code-path length, not a replacement for the timings.  The read
 * loop's own bookkeeping (about 6 instructions per read) is included on
 * both sides of every ratio.
 *
 * Exit status: 0 when everything was measured, 1 when something failed
 * (valgrind missing or failing, a dump missing), 2 on a usage error.
 */
#include "bench_live.h"

#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <valgrind/callgrind.h>
#include <yaml.h>

#define TARGET_READ_RATIO 1.3
#define TARGET_LOAD_RATIO 1.5
#define SMALL_CONFIG_BYTES ((size_t)24 << 10)
#define SAMPLE_SEED UINT64_C(0xbe4c4)
#define MAX_PHASES 64
#define SEC_READ "instructions per read, 1 thread (callgrind)"
#define SEC_LOAD "instructions per loaded byte (callgrind)"

extern char **environ;

typedef struct instr_opts {
    const char *out_dir;
    const char *valgrind;
    const char *child_dir; /* set in the child */
    bool quick;
    size_t reads, load_bytes;
} instr_opts;

/* ---------------------------------------------------------------------------
 * The child: phases under callgrind
 * ------------------------------------------------------------------------- */

/* Starts counting; phase_end() stops and dumps under "name count". */
static void phase_begin(void)
{
    CALLGRIND_ZERO_STATS;
    CALLGRIND_START_INSTRUMENTATION;
}

static void phase_end(const char *name, size_t count)
{
    CALLGRIND_STOP_INSTRUMENTATION;
    char label[128];
    snprintf(label, sizeof(label), "%s %zu", name, count);
    CALLGRIND_DUMP_STATS_AT(label);
}

typedef struct read_setup {
    gen_buf doc;
    path_set set;
    uint32_t *order;
    char file[4096];
} read_setup;

/* The ~1000-key config and its 4-segment int paths, as snapconf-bench-live
 * uses them, written to dir for the strategies that load a file. */
static int read_setup_init(read_setup *rs, const char *dir)
{
    size_t gen_offset;
    snapconf_snap *snap = NULL;
    snprintf(rs->file, sizeof(rs->file), "%s/instr-small.yaml", dir);
    FILE *f =
        make_doc(SMALL_CONFIG_BYTES, &rs->doc, &gen_offset) == 0 ? fopen(rs->file, "w") : NULL;
    bool ok = f && fwrite(rs->doc.data, 1, rs->doc.len, f) == rs->doc.len;
    ok = (f && fclose(f) == 0) && ok;
    ok = ok && snapconf_snap_load_buffer(rs->doc.data, rs->doc.len, rs->file, &snap, NULL) == 0;
    path_query q = {
        .segments = 4, .want_type = SNAPCONF_TYPE_INT, .max = 1024, .seed = SAMPLE_SEED};
    ok = ok && path_set_sample(snapconf_snap_root(snap), &q, &rs->set) == 0 && rs->set.len > 0;
    ok = ok && path_set_compile(&rs->set) == 0;
    snapconf_snap_free(snap);
    rs->order = ok ? malloc(RANDOM_ORDER_LEN * sizeof(*rs->order)) : NULL;
    if (!rs->order)
        return -1;
    uint64_t rng = ORDER_SEED;
    for (size_t i = 0; i < RANDOM_ORDER_LEN; i++)
        rs->order[i] = (uint32_t)(splitmix(&rng) % rs->set.len);
    return 0;
}

static int read_phases(const instr_opts *o, const read_setup *rs, const strategy_ops *ops)
{
    strategy_env env = {.file = rs->file, .bytes = rs->doc.data, .len = rs->doc.len};
    strategy_keys keys = {rs->set.paths, rs->set.compiled, rs->order, RANDOM_ORDER_LEN};
    void *st;
    if (ops->create(&st, &env) != 0)
        return -1;
    if (ops->thread_online)
        ops->thread_online(st);
    static const char *const kinds[] = {"string", "compiled"};
    strategy_reader r = {0};
    char name[96];
    for (int k = 0; k < 2; k++) {
        /* Warm-up: caches, and the compiled paths' memo in this snapshot. */
        ops->read(st, (strategy_lookup)k, &keys, &r, RANDOM_ORDER_LEN);
        snprintf(name, sizeof(name), "read %s %s", kinds[k], ops->name);
        phase_begin();
        ops->read(st, (strategy_lookup)k, &keys, &r, o->reads);
        phase_end(name, o->reads);
    }
    if (ops->thread_offline)
        ops->thread_offline(st);
    ops->destroy(st);
    bench_sink += r.acc;
    return r.bad ? -1 : 0;
}

/* libyaml's parser alone, every event fetched and dropped (as
 * snapconf-bench's baseline). */
static int yaml_event_loop(const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t event;
    int rc = 0;
    if (!yaml_parser_initialize(&parser))
        return -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    for (bool done = false; !done;) {
        if (!yaml_parser_parse(&parser, &event)) {
            rc = -1;
            break;
        }
        done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    return rc;
}

static int load_phases(const instr_opts *o)
{
    gen_buf doc = {0};
    gen_service_params p = {.target_bytes = o->load_bytes, .seed = GEN_DEFAULT_SEED};
    snapconf_snap *snap = NULL;
    int rc = gen_service(&doc, &p);
    /* Warm-up of both, so that neither pays for the other's first faults. */
    rc = rc ? rc : yaml_event_loop(doc.data, doc.len);
    rc = rc ? rc : snapconf_snap_load_buffer(doc.data, doc.len, "instr", &snap, NULL);
    snapconf_snap_free(snap);
    if (rc == 0) {
        phase_begin();
        rc = yaml_event_loop(doc.data, doc.len);
        phase_end("load libyaml", doc.len);
        phase_begin();
        rc = rc ? rc : snapconf_snap_load_buffer(doc.data, doc.len, "instr", &snap, NULL);
        phase_end("load snapconf", doc.len);
        phase_begin();
        snapconf_snap_free(snap);
        phase_end("free snapconf", doc.len);
    }
    gen_buf_free(&doc);
    return rc ? -1 : 0;
}

static int run_child(const instr_opts *o)
{
    read_setup rs = {0};
    int rc = read_setup_init(&rs, o->child_dir);
    for (size_t i = 0; rc == 0 && i < strategy_count; i++)
        rc = read_phases(o, &rs, strategy_all[i]);
    rc = rc ? rc : load_phases(o);
    gen_buf_free(&rs.doc);
    path_set_free(&rs.set);
    free(rs.order);
    if (rc)
        fputs("snapconf-bench-instr: a phase failed under valgrind\n", stderr);
    return rc ? 1 : 0;
}

/* ---------------------------------------------------------------------------
 * The parent: valgrind, then the dumps
 * ------------------------------------------------------------------------- */

typedef struct phase {
    char kind[16], what[32], name[48]; /* "read" "string" "snapconf" */
    size_t units;
    double instructions;
} phase;

static int run_valgrind(const instr_opts *o, const char *self)
{
    char out_file[4096], dir_arg[4096];
    snprintf(out_file, sizeof(out_file), "--callgrind-out-file=%s/callgrind.out", o->out_dir);
    snprintf(dir_arg, sizeof(dir_arg), "%s", o->out_dir);
    char *argv[] = {(char *)o->valgrind,
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    "--quiet",
                    out_file,
                    (char *)self,
                    "--child",
                    dir_arg,
                    o->quick ? "--quick" : NULL,
                    NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, o->valgrind, NULL, NULL, argv, environ);
    if (rc != 0) {
        fprintf(stderr,
                "snapconf-bench-instr: cannot run %s: %s (install valgrind: "
                "packaging/debian-build-deps.txt)\n",
                o->valgrind, strerror(rc));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "snapconf-bench-instr: the run under valgrind failed\n");
        return -1;
    }
    return 0;
}

/* Reads one dump: its trigger names the phase, "totals:" its instructions.
 * Returns 1 for a phase, 0 for another dump (program termination), -1 when
 * the file cannot be read. */
static int read_dump(const char *path, phase *p)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    bool named = false, counted = false;
    const char *trigger = "desc: Trigger: Client Request: ";
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, trigger, strlen(trigger)) == 0)
            named = sscanf(line + strlen(trigger), "%15s %31s %47s %zu", p->kind, p->what, p->name,
                           &p->units) >= 3;
        else if (strncmp(line, "totals:", 7) == 0)
            counted = sscanf(line + 7, "%lf", &p->instructions) == 1;
    }
    fclose(f);
    if (named && strcmp(p->kind, "read") != 0) { /* "load snapconf B": no strategy */
        p->units = strtoull(p->name, NULL, 10);
        p->name[0] = '\0';
    }
    return named && counted ? 1 : 0;
}

static int read_dumps(const instr_opts *o, phase *phases, size_t *n)
{
    *n = 0;
    for (unsigned part = 1; part <= MAX_PHASES; part++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/callgrind.out.%u", o->out_dir, part);
        phase p = {0};
        int rc = read_dump(path, &p);
        if (rc < 0)
            break;
        if (rc == 1 && p.units > 0)
            phases[(*n)++] = p;
        remove(path);
    }
    char last[4096];
    snprintf(last, sizeof(last), "%s/callgrind.out", o->out_dir);
    remove(last);
    if (*n == 0)
        fprintf(stderr, "snapconf-bench-instr: no callgrind dumps in %s\n", o->out_dir);
    return *n ? 0 : -1;
}

static const phase *find_phase(const phase *ph, size_t n, const char *kind, const char *what,
                               const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ph[i].kind, kind) == 0 && strcmp(ph[i].what, what) == 0 &&
            strcmp(ph[i].name, name) == 0)
            return &ph[i];
    return NULL;
}

static double per_unit(const phase *p)
{
    return p ? p->instructions / (double)p->units : NAN;
}

static void report_reads(bench_report *rep, const phase *ph, size_t n)
{
    char fig[128];
    for (size_t i = 0; i < n; i++)
        if (strcmp(ph[i].kind, "read") == 0) {
            snprintf(fig, sizeof(fig), "%s, %s path", ph[i].name, ph[i].what);
            report_add(rep, SEC_READ, fig, per_unit(&ph[i]), NAN, "instr", BENCH_INFO, 0);
        }
    static const char *const kinds[] = {"string", "compiled"};
    for (int k = 0; k < 2; k++) {
        double live = per_unit(find_phase(ph, n, "read", kinds[k], "snapconf"));
        double base = per_unit(find_phase(ph, n, "read", kinds[k], "unsynchronised"));
        snprintf(fig, sizeof(fig), "snapconf / unsynchronised, %s path", kinds[k]);
        report_add(rep, SEC_READ, fig, live / base, NAN, "x", BENCH_LE, TARGET_READ_RATIO);
    }
}

static void report_loads(bench_report *rep, const phase *ph, size_t n)
{
    const phase *y = find_phase(ph, n, "load", "libyaml", "");
    const phase *l = find_phase(ph, n, "load", "snapconf", "");
    const phase *f = find_phase(ph, n, "free", "snapconf", "");
    report_add(rep, SEC_LOAD, "libyaml bare event loop", per_unit(y), NAN, "instr", BENCH_INFO, 0);
    report_add(rep, SEC_LOAD, "snapconf_snap_load_buffer", per_unit(l), NAN, "instr", BENCH_INFO,
               0);
    report_add(rep, SEC_LOAD, "snapconf_snap_free", per_unit(f), NAN, "instr", BENCH_INFO, 0);
    report_add(rep, SEC_LOAD, "load / libyaml", per_unit(l) / per_unit(y), NAN, "x", BENCH_LE,
               TARGET_LOAD_RATIO);
    report_add(rep, SEC_LOAD, "bytes loaded (generated service config)", y ? (double)y->units : NAN,
               NAN, "bytes", BENCH_INFO, 0);
}

static int write_results(const bench_report *rep, const char *dir)
{
    char csv[4096], md[4096];
    snprintf(csv, sizeof(csv), "%s/results-instructions.csv", dir);
    snprintf(md, sizeof(md), "%s/results-instructions.md", dir);
    if (report_write_csv(rep, csv) != 0 || report_write_md(rep, md) != 0) {
        fprintf(stderr, "snapconf-bench-instr: cannot write results in %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    printf("\nwrote %s and %s\n", csv, md);
    return 0;
}

static int run_parent(const instr_opts *o, const char *self)
{
    if (make_dirs(o->out_dir) != 0) {
        fprintf(stderr, "snapconf-bench-instr: cannot create %s: %s\n", o->out_dir,
                strerror(errno));
        return 1;
    }
    phase *ph = calloc(MAX_PHASES, sizeof(*ph));
    size_t n = 0;
    int rc = ph ? run_valgrind(o, self) : -1;
    rc = rc ? rc : read_dumps(o, ph, &n);
    if (rc == 0) {
        bench_report rep;
        char method[512];
        snprintf(method, sizeof(method),
                 "valgrind --tool=callgrind, instrumentation on only around each phase; %zu "
                 "lookups per read phase after a warm-up (random 4-segment int paths of a "
                 "~1000-key config, read loop included), one load of a %zu-byte generated "
                 "config%s",
                 o->reads, o->load_bytes, o->quick ? " (--quick: a smoke test)" : "");
        report_init(&rep, method);
        report_reads(&rep, ph, n);
        report_loads(&rep, ph, n);
        report_print(&rep, stdout);
        rc = rep.failed ? -1 : write_results(&rep, o->out_dir);
        report_free(&rep);
    }
    free(ph);
    return rc == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, instr_opts *o)
{
    *o = (instr_opts){.out_dir = "build/bench", .valgrind = "valgrind"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0)
            o->quick = true;
        else if (strcmp(a, "--out") == 0 && v)
            o->out_dir = argv[++i];
        else if (strcmp(a, "--valgrind") == 0 && v)
            o->valgrind = argv[++i];
        else if (strcmp(a, "--child") == 0 && v)
            o->child_dir = argv[++i];
        else
            return -1;
    }
    o->reads = o->quick ? 2000 : 20000;
    o->load_bytes = o->quick ? (size_t)64 << 10 : (size_t)1 << 20;
    return 0;
}

int main(int argc, char **argv)
{
    instr_opts o;
    if (parse_args(argc, argv, &o) != 0) {
        fputs("usage: snapconf-bench-instr [--quick] [--out DIR] [--valgrind PATH]\n", stderr);
        return 2;
    }
    if (o.child_dir)
        return run_child(&o);
    /* The child must be this very program: /proc/self/exe, not argv[0]. */
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0) {
        fprintf(stderr, "snapconf-bench-instr: cannot find my own path: %s\n", strerror(errno));
        return 1;
    }
    self[len] = '\0';
    return run_parent(&o, self);
}
