/*
 * snapconf-bench-daemon - snapconfd and the snapconf CLI against the
 * contract of the daemon's issue:
 *
 *   - `snapconf get` of one key through the daemon, per call, against
 *     reading the same key with python3 + PyYAML and with yq (Debian's
 *     python3-yaml and yq): at least 10x faster than both, as ratios from
 *     the same run;
 *   - GET /v1/keys/... on the Unix socket with 2 client threads: at least
 *     20,000 requests per second on a 2-core machine, with reloads every
 *     10 ms going on.
 *
 *   snapconf-bench-daemon [--quick] [--out DIR] [--snapconfd PATH]
 *                         [--snapconf PATH] [--config FILE] [--calls N]
 *                         [--seconds S] [--runs N] [--only calls|throughput] ...
 *
 * It runs a snapconfd of its own on a socket in a temporary folder, and
 * always stops it and removes the folder on the way out.  Figures go to
 * stdout and to DIR/results-daemon.csv and DIR/results-daemon.md, in the
 * format of the other benchmarks (bench_report.c).  Targets are PASS or
 * MISS and never change the exit status: 0 when everything was measured;
 * 1 when something failed (a wrong answer, a non-200 answer, a generation
 * that went backwards, a daemon that died) or, without --quick, when
 * python3-yaml or yq is missing, since the contract cannot be judged; 2 on
 * a usage error.
 */
#include "bench_files.h"
#include "bench_http.h"
#include "bench_paths.h"
#include "bench_proc.h"
#include "bench_report.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <snapconf.h>

/* Build facts and default paths from CMake; bare defaults keep a hand
 * build working. */
#ifndef SNAPCONF_BENCH_SNAPCONFD
#define SNAPCONF_BENCH_SNAPCONFD "snapconfd"
#endif
#ifndef SNAPCONF_BENCH_CLI
#define SNAPCONF_BENCH_CLI "snapconf"
#endif
#ifndef SNAPCONF_BENCH_PROBE
#define SNAPCONF_BENCH_PROBE "snapconf-bench-curl-probe"
#endif
#ifndef SNAPCONF_BENCH_EXAMPLE
#define SNAPCONF_BENCH_EXAMPLE "conf/example.yaml"
#endif
#ifndef SNAPCONF_BENCH_MHD_VERSION
#define SNAPCONF_BENCH_MHD_VERSION "unknown"
#endif

/* The targets. */
#define TARGET_CALL_RATIO 10.0 /* python3-yaml or yq per call / snapconf get per call */
#define TARGET_RPS 20000.0     /* GET /v1/keys/... per second, 2 threads, reloads */
#define TARGET_THREADS 2
#define TARGET_PERIOD_MS 10.0

/* The key every tool reads, in each tool's syntax. */
#define KEY_PATH "server.port"
#define PY_PROGRAM "import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))[\"server\"][\"port\"])"
#define YQ_FILTER ".server.port"

/* The top-level key the reloader's two versions of the config differ in. */
#define TICK_KEY "bench_tick"

#define CALL_TIMEOUT_MS 30000
#define DAEMON_READY_MS 10000
#define MAX_TARGETS 24
#define MAX_TPUT_RUNS 21
#define SAMPLE_SEED UINT64_C(0xda3e0)

#define SEC_CALLS "per call: snapconf get vs python3-yaml and yq"
#define SEC_WHERE "where a snapconf get via the daemon goes"
#define SEC_DAEMON "snapconfd itself, after the runs"

typedef struct dopts {
    const char *snapconfd, *snapconf, *probe, *config, *python, *yq;
    const char *out_dir, *tmp_dir;
    bool quick, do_calls, do_tput;
    unsigned calls;   /* timed rounds of the per-call comparison */
    double seconds;   /* per throughput run */
    unsigned runs;    /* throughput runs per mode */
    unsigned threads; /* throughput client threads */
    double period_ms; /* between the reloader's changes */
} dopts;

/* Everything the sections share. */
typedef struct dctx {
    const dopts *o;
    bench_report *rep;
    char workdir[3072];
    char config[4096], socket[4096], log[4096];
    char *versions[2]; /* the config's two contents, TICK_KEY 0 and 1 */
    size_t version_len[2];
    char expected[64]; /* what every tool must print for KEY_PATH */
    daemon_proc daemon;
    char *targets[MAX_TARGETS], *canonical[MAX_TARGETS];
    size_t ntargets;
    unsigned on_disk; /* which version the config file holds */
    int failures;     /* wrong answers and the like: exit status 1 */
    bool missing;     /* python3-yaml or yq could not be run */
    /* For the summary: medians per call (NAN: not measured), and the
     * throughput runs by reload_mode. */
    double daemon_ms, python_ms, yq_ms;
    bool have_tput[3];
    load_result tput[3]; /* the best run of each */
    double tput_median[3];
} dctx;

static volatile int interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Summary of one tool's per-call times, in milliseconds. */
typedef struct call_stats {
    double min, median, p90, mean;
    size_t n;
} call_stats;

static call_stats summarise_ms(double *ms, size_t n)
{
    call_stats s = {NAN, NAN, NAN, NAN, n};
    if (n == 0)
        return s;
    qsort(ms, n, sizeof(*ms), cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ms[i];
    size_t rank90 = (size_t)ceil(0.9 * (double)n);
    s.min = ms[0];
    s.median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    s.p90 = ms[rank90 ? rank90 - 1 : 0];
    s.mean = sum / (double)n;
    return s;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The whole file, with 64 spare bytes at the end for the line each
 * version adds. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && st.st_size >= 0 && (buf = malloc((size_t)st.st_size + 64)))
        *len = fread(buf, 1, (size_t)st.st_size, f);
    if (buf && (ferror(f) || *len != (size_t)st.st_size)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* ---------------------------------------------------------------------------
 * Set-up: the config, its two versions, the daemon, the keys to read
 * ------------------------------------------------------------------------- */

/* Makes the two versions: the file as it is plus one top-level line,
 * TICK_KEY: 0 or 1.  Both must load, and KEY_PATH must be an int. */
static int make_versions(dctx *c)
{
    size_t len;
    char *text = read_file(c->o->config, &len);
    if (!text) {
        fprintf(stderr, "snapconf-bench-daemon: cannot read %s: %s\n", c->o->config,
                strerror(errno));
        return -1;
    }
    for (int v = 0; v < 2; v++) {
        c->versions[v] = malloc(len + 64);
        if (!c->versions[v]) {
            free(text);
            return -1;
        }
        memcpy(c->versions[v], text, len);
        size_t n = len;
        if (n && text[n - 1] != '\n')
            c->versions[v][n++] = '\n';
        n += (size_t)snprintf(c->versions[v] + n, 64, "%s: %d\n", TICK_KEY, v);
        c->version_len[v] = n;
    }
    free(text);
    return 0;
}

/* Checks both versions with the library and records KEY_PATH's value. */
static int check_versions(dctx *c)
{
    for (int v = 0; v < 2; v++) {
        snapconf_snap *snap;
        snapconf_error err;
        int64_t port;
        if (snapconf_snap_load_buffer(c->versions[v], c->version_len[v], c->o->config, &snap,
                                      &err) != 0) {
            fprintf(stderr,
                    "snapconf-bench-daemon: %s with '%s: %d' appended does not load: %s\n"
                    "(the config must be a mapping at the top)\n",
                    c->o->config, TICK_KEY, v, err.message);
            return -1;
        }
        int rc = snapconf_get_int(snap, KEY_PATH, &port);
        snapconf_snap_free(snap);
        if (rc != 0) {
            fprintf(stderr, "snapconf-bench-daemon: %s has no int at %s: %s\n", c->o->config,
                    KEY_PATH, snapconf_strerror(rc));
            return -1;
        }
        snprintf(c->expected, sizeof(c->expected), "%lld", (long long)port);
    }
    return 0;
}

/* Waits until GET /v1/status answers, or the daemon dies, or time runs out. */
static int wait_ready(dctx *c)
{
    http_client hc;
    if (http_client_init(&hc, c->socket) != 0)
        return -1;
    daemon_status st;
    int rc = -1;
    for (int waited = 0; waited < DAEMON_READY_MS && !interrupted; waited += 10) {
        if (!daemon_alive(&c->daemon))
            break;
        if (http_status(&hc, &st) == 0) {
            rc = 0;
            break;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    http_client_free(&hc);
    if (rc != 0) {
        fprintf(stderr, "snapconf-bench-daemon: snapconfd did not answer on %s\n", c->socket);
        daemon_dump_log(&c->daemon);
    }
    return rc;
}

/* Adds one key to read: its request target and the canonical path the
 * answer must carry. */
static int add_target(dctx *c, const char *path)
{
    snapconf_path *p;
    snapconf_error err;
    if (c->ntargets == MAX_TARGETS || snapconf_path_compile(path, &p, &err) != 0)
        return -1;
    char *esc = curl_easy_escape(NULL, path, 0);
    char *target = NULL;
    if (esc && asprintf(&target, "/v1/keys/%s", esc) < 0)
        target = NULL;
    curl_free(esc);
    c->targets[c->ntargets] = target;
    c->canonical[c->ntargets] = strdup(snapconf_path_str(p));
    snapconf_path_free(p);
    if (!c->targets[c->ntargets] || !c->canonical[c->ntargets]) {
        free(c->targets[c->ntargets]);
        free(c->canonical[c->ntargets]);
        return -1;
    }
    c->ntargets++;
    return 0;
}

/* The throughput clients cycle through KEY_PATH, TICK_KEY (the value the
 * reloads change) and 2-segment paths sampled from the config: scalars,
 * maps and lists, quoted keys, list indices. */
static int pick_targets(dctx *c)
{
    snapconf_snap *snap;
    snapconf_error err;
    if (snapconf_snap_load_buffer(c->versions[0], c->version_len[0], c->o->config, &snap, &err))
        return -1;
    path_query q = {.segments = 2, .want_type = -1, .max = MAX_TARGETS - 2, .seed = SAMPLE_SEED};
    path_set set = {0};
    int rc = path_set_sample(snapconf_snap_root(snap), &q, &set);
    rc = rc ? rc : add_target(c, KEY_PATH);
    rc = rc ? rc : add_target(c, TICK_KEY);
    for (size_t i = 0; rc == 0 && i < set.len; i++)
        if (strcmp(set.paths[i], KEY_PATH) != 0)
            rc = add_target(c, set.paths[i]);
    path_set_free(&set);
    snapconf_snap_free(snap);
    if (rc != 0)
        fputs("snapconf-bench-daemon: cannot build the list of keys (out of memory?)\n", stderr);
    return rc;
}

static int ctx_init(dctx *c, const dopts *o, bench_report *rep)
{
    memset(c, 0, sizeof(*c));
    c->o = o;
    c->rep = rep;
    if (snprintf(c->workdir, sizeof(c->workdir), "%s/snapconf-bench-daemon.XXXXXX", o->tmp_dir) >=
            (int)sizeof(c->workdir) ||
        !mkdtemp(c->workdir)) {
        fprintf(stderr, "snapconf-bench-daemon: cannot create a folder in %s: %s\n", o->tmp_dir,
                strerror(errno));
        c->workdir[0] = '\0';
        return -1;
    }
    snprintf(c->config, sizeof(c->config), "%s/config.yaml", c->workdir);
    snprintf(c->socket, sizeof(c->socket), "%s/snapconfd.sock", c->workdir);
    snprintf(c->log, sizeof(c->log), "%s/snapconfd.log", c->workdir);
    if (make_versions(c) != 0 || check_versions(c) != 0 || pick_targets(c) != 0)
        return -1;
    if (bench_write_rename(c->config, c->versions[0], c->version_len[0]) != 0) {
        fprintf(stderr, "snapconf-bench-daemon: cannot write %s: %s\n", c->config, strerror(errno));
        return -1;
    }
    if (daemon_start(&c->daemon, o->snapconfd, c->config, c->socket, c->log) != 0)
        return -1;
    return wait_ready(c);
}

/* Stops the daemon (a non-zero exit after SIGTERM is a failure) and
 * removes the folder; safe after a set-up that stopped half-way. */
static void ctx_free(dctx *c)
{
    if (c->daemon.pid > 0) {
        int status = daemon_stop(&c->daemon);
        size_t lines = daemon_log_lines(&c->daemon);
        if (status != 0) {
            fprintf(stderr, "snapconf-bench-daemon: snapconfd exited with %d on SIGTERM\n", status);
            c->failures++;
        }
        if (status != 0 || lines > 0)
            daemon_dump_log(&c->daemon);
        report_add(c->rep, SEC_DAEMON, "log lines at --log-level warning", (double)lines, NAN,
                   "count", BENCH_INFO, 0);
        report_add(c->rep, SEC_DAEMON, "exit status on SIGTERM (0: clean)", (double)status, NAN,
                   "count", BENCH_INFO, 0);
    }
    if (c->workdir[0])
        nftw(c->workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int v = 0; v < 2; v++)
        free(c->versions[v]);
    for (size_t i = 0; i < c->ntargets; i++) {
        free(c->targets[i]);
        free(c->canonical[i]);
    }
}

/* ---------------------------------------------------------------------------
 * Section 1: one key per call, through each tool
 * ------------------------------------------------------------------------- */

enum tool_id {
    T_DAEMON,     /* snapconf --socket S get server.port */
    T_FILE,       /* snapconf get --file F server.port */
    T_PYTHON,     /* python3 -c 'import sys,yaml; ...' F */
    T_YQ,         /* yq -r .server.port F */
    T_VERSION,    /* snapconf --version: the CLI's start and exit alone */
    T_PROBE_NONE, /* a minimal C program: process creation alone */
    T_PROBE_CURL, /* the same, plus dlopen(libcurl) and curl_global_init */
    T_ONESHOT,    /* in this process: one GET on a new connection */
    T_COUNT
};

typedef struct tool {
    const char *label; /* in the result rows */
    char *argv[8];
    bool available;
    char why_missing[160];
    double *ms; /* one per timed call */
    size_t n;
} tool;

typedef struct probe_samples {
    double *dlopen_ms, *init_ms;
    size_t n;
    unsigned objects; /* shared objects dlopen(libcurl) added */
} probe_samples;

static void tools_init(dctx *c, tool *t)
{
    const dopts *o = c->o;
    static char socket_opt[] = "--socket", file_opt[] = "--file", get[] = "get", key[] = KEY_PATH,
                dash_c[] = "-c", py[] = PY_PROGRAM, raw[] = "-r", filter[] = YQ_FILTER,
                version[] = "--version", none[] = "--none";
    char *cli = (char *)o->snapconf, *file = c->config;
    t[T_DAEMON] = (tool){.label = "snapconf get via snapconfd",
                         .argv = {cli, socket_opt, c->socket, get, key}};
    t[T_FILE] =
        (tool){.label = "snapconf get --file (reference)", .argv = {cli, get, file_opt, file, key}};
    t[T_PYTHON] = (tool){.label = "python3 + PyYAML (python3-yaml)",
                         .argv = {(char *)o->python, dash_c, py, file}};
    t[T_YQ] = (tool){.label = "yq -r (Debian's yq)", .argv = {(char *)o->yq, raw, filter, file}};
    t[T_VERSION] = (tool){.label = "snapconf --version", .argv = {cli, version}};
    t[T_PROBE_NONE] = (tool){.label = "minimal C program", .argv = {(char *)o->probe, none}};
    t[T_PROBE_CURL] =
        (tool){.label = "minimal C program + dlopen(libcurl)", .argv = {(char *)o->probe}};
    t[T_ONESHOT] = (tool){.label = "one GET, new connection (in-process)"};
}

/* How one call of a tool went. */
typedef enum call_outcome {
    CALL_OK,
    CALL_WRONG,     /* it ran and gave a wrong answer: always a failure */
    CALL_CANNOT_RUN /* not there, or exited non-zero: python3-yaml and yq may be missing */
} call_outcome;

/* The probe's output: dlopen and curl_global_init times, objects mapped. */
static call_outcome parse_probe(const char *out, probe_samples *ps)
{
    unsigned long long dl, init;
    unsigned before, after;
    if (sscanf(out, "%llu %llu %u %u", &dl, &init, &before, &after) != 4) {
        fprintf(stderr, "snapconf-bench-daemon: the probe printed '%s'\n", out);
        return CALL_WRONG;
    }
    ps->dlopen_ms[ps->n] = (double)dl / 1e6;
    ps->init_ms[ps->n++] = (double)init / 1e6;
    ps->objects = after - before;
    return CALL_OK;
}

/* Says why a command could not run: the last line of its stderr (a
 * Python traceback ends with what was missing), else what happened. */
static void note_cannot_run(tool *t, const proc_result *r, bool quiet)
{
    const char *last = strrchr(r->err, '\n');
    last = last ? last + 1 : r->err;
    snprintf(t->why_missing, sizeof(t->why_missing), "%.60s: %.90s", t->argv[0],
             r->spawn_error ? strerror(r->status)
             : r->timed_out ? "timed out"
             : last[0]      ? last
                            : "failed");
    if (!quiet)
        fprintf(stderr, "snapconf-bench-daemon: %s exited with %d: %s\n", t->label, r->status,
                r->err);
}

/* Runs one tool once and checks its answer; *ms is its time.  Failures
 * are printed, except a warm-up's cannot-run, which the caller words. */
static call_outcome run_tool(dctx *c, tool *t, enum tool_id id, probe_samples *ps, bool warmup,
                             double *ms)
{
    if (id == T_ONESHOT) {
        uint64_t ns = http_oneshot_ns(c->socket, c->targets[0]);
        if (ns == 0)
            fputs("snapconf-bench-daemon: one-shot GET failed\n", stderr);
        *ms = (double)ns / 1e6;
        return ns ? CALL_OK : CALL_WRONG;
    }
    proc_result r;
    if (proc_run(t->argv, CALL_TIMEOUT_MS, &r) != 0) {
        fprintf(stderr, "snapconf-bench-daemon: cannot run %s: %s\n", t->argv[0], strerror(errno));
        return CALL_WRONG;
    }
    *ms = (double)r.ns / 1e6;
    if (r.spawn_error || r.timed_out || r.status != 0) {
        note_cannot_run(t, &r, warmup);
        return CALL_CANNOT_RUN;
    }
    /* The key readers must print the key's value; the others are timed
     * for the breakdown only. */
    if (id <= T_YQ && strcmp(r.out, c->expected) != 0) {
        fprintf(stderr, "snapconf-bench-daemon: %s printed '%s', expected '%s'\n", t->label, r.out,
                c->expected);
        return CALL_WRONG;
    }
    return id == T_PROBE_CURL && !warmup ? parse_probe(r.out, ps) : CALL_OK;
}

/* One untimed call of each tool: warms the page cache and finds out which
 * tools can run at all.  python3-yaml and yq may be missing; the rest may
 * not, and no tool may give a wrong answer. */
static int warm_up(dctx *c, tool *t)
{
    for (int id = 0; id < T_COUNT; id++) {
        double ms;
        call_outcome out = run_tool(c, &t[id], (enum tool_id)id, NULL, true, &ms);
        t[id].available = out == CALL_OK;
        if (out == CALL_WRONG)
            return -1;
        if (out == CALL_OK)
            continue;
        if (id == T_PYTHON || id == T_YQ) {
            fprintf(stderr,
                    "snapconf-bench-daemon: %s cannot be measured (%s): MISSING; "
                    "apt-get install %s\n",
                    t[id].label, t[id].why_missing, id == T_PYTHON ? "python3-yaml" : "yq");
            c->missing = true;
            continue;
        }
        fprintf(stderr, "snapconf-bench-daemon: %s does not work: %s\n", t[id].label,
                t[id].why_missing);
        return -1;
    }
    return 0;
}

/* Round-robin: each round runs every tool once, starting one further on
 * each time, so that all of them share the machine's noise and no tool
 * always follows the same one. */
static int timed_rounds(dctx *c, tool *t, probe_samples *ps)
{
    for (unsigned round = 0; round < c->o->calls && !interrupted; round++) {
        for (int k = 0; k < T_COUNT; k++) {
            int id = (int)((round + (unsigned)k) % T_COUNT);
            if (!t[id].available)
                continue;
            double ms;
            if (run_tool(c, &t[id], (enum tool_id)id, ps, false, &ms) != CALL_OK)
                return -1;
            t[id].ms[t[id].n++] = ms;
        }
    }
    return interrupted ? -1 : 0;
}

static void add_tool_rows(dctx *c, const tool *t, const call_stats *s)
{
    char fig[128];
    if (!t->available) {
        snprintf(fig, sizeof(fig), "%s: MISSING, not installed or not working", t->label);
        report_add(c->rep, SEC_CALLS, fig, NAN, NAN, "ms", BENCH_INFO, 0);
        return;
    }
    snprintf(fig, sizeof(fig), "%s: per call (fastest, median)", t->label);
    report_add(c->rep, SEC_CALLS, fig, s->min, s->median, "ms", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s: p90", t->label);
    report_add(c->rep, SEC_CALLS, fig, s->p90, NAN, "ms", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "%s: mean", t->label);
    report_add(c->rep, SEC_CALLS, fig, s->mean, NAN, "ms", BENCH_INFO, 0);
}

/* "other / snapconf get" for the reader, and its inverse against the
 * target, since the report judges figures that must stay below one. */
static void add_ratio_rows(dctx *c, const tool *other, const call_stats *so, const call_stats *sd)
{
    char fig[128];
    if (!other->available) {
        snprintf(fig, sizeof(fig), "%s / snapconf get via snapconfd: MISSING", other->label);
        report_add(c->rep, SEC_CALLS, fig, NAN, NAN, "x", BENCH_INFO, 0);
        return;
    }
    snprintf(fig, sizeof(fig), "%s / snapconf get via snapconfd (medians)", other->label);
    report_add(c->rep, SEC_CALLS, fig, so->median / sd->median, NAN, "x", BENCH_INFO, 0);
    snprintf(fig, sizeof(fig), "snapconf get via snapconfd / %s (medians)", other->label);
    report_add(c->rep, SEC_CALLS, fig, sd->median / so->median, NAN, "x", BENCH_LE,
               1.0 / TARGET_CALL_RATIO);
}

/* The breakdown: what the daemon call costs beyond starting a process. */
static void add_where_rows(dctx *c, const call_stats *s, probe_samples *ps)
{
    call_stats dl = summarise_ms(ps->dlopen_ms, ps->n), in = summarise_ms(ps->init_ms, ps->n);
    const call_stats *d = &s[T_DAEMON];
    report_add(c->rep, SEC_WHERE, "process start + exit, minimal C program", s[T_PROBE_NONE].min,
               s[T_PROBE_NONE].median, "ms", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "snapconf --version: the CLI's start + exit, no libcurl",
               s[T_VERSION].min, s[T_VERSION].median, "ms", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "dlopen(\"libcurl.so.4\"), in a fresh process", dl.min, dl.median,
               "ms", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "curl_global_init(CURL_GLOBAL_NOTHING) after it", in.min,
               in.median, "ms", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "minimal C program + that dlopen and init, whole process",
               s[T_PROBE_CURL].min, s[T_PROBE_CURL].median, "ms", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "shared objects that dlopen(libcurl) maps", (double)ps->objects,
               NAN, "count", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "one GET on a new connection, in-process libcurl",
               s[T_ONESHOT].min, s[T_ONESHOT].median, "ms", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "snapconf get via snapconfd, whole call", d->min, d->median, "ms",
               BENCH_INFO, 0);
    double rest = d->median - s[T_VERSION].median - dl.median - in.median - s[T_ONESHOT].median;
    report_add(c->rep, SEC_WHERE, "rest of the call (medians): not start, libcurl or the GET", rest,
               NAN, "ms", BENCH_INFO, 0);
    report_add(c->rep, SEC_WHERE, "dlopen + curl_global_init / whole call (medians)",
               100.0 * (dl.median + in.median) / d->median, NAN, "%", BENCH_INFO, 0);
}

static void add_call_rows(dctx *c, tool *t, probe_samples *ps)
{
    call_stats s[T_COUNT];
    for (int id = 0; id < T_COUNT; id++)
        s[id] = summarise_ms(t[id].ms, t[id].n);
    for (int id = T_DAEMON; id <= T_YQ; id++)
        add_tool_rows(c, &t[id], &s[id]);
    c->daemon_ms = s[T_DAEMON].median;
    c->python_ms = t[T_PYTHON].available ? s[T_PYTHON].median : NAN;
    c->yq_ms = t[T_YQ].available ? s[T_YQ].median : NAN;
    add_ratio_rows(c, &t[T_PYTHON], &s[T_PYTHON], &s[T_DAEMON]);
    add_ratio_rows(c, &t[T_YQ], &s[T_YQ], &s[T_DAEMON]);
    report_add(c->rep, SEC_CALLS, "timed calls per tool, round-robin", (double)s[T_DAEMON].n, NAN,
               "count", BENCH_INFO, 0);
    add_where_rows(c, s, ps);
}

static int section_calls(dctx *c)
{
    tool t[T_COUNT];
    probe_samples ps = {0};
    tools_init(c, t);
    int rc = 0;
    for (int id = 0; id < T_COUNT && rc == 0; id++)
        if (!(t[id].ms = calloc(c->o->calls, sizeof(double))))
            rc = -1;
    ps.dlopen_ms = calloc(c->o->calls, sizeof(double));
    ps.init_ms = calloc(c->o->calls, sizeof(double));
    if (rc != 0 || !ps.dlopen_ms || !ps.init_ms) {
        fputs("snapconf-bench-daemon: out of memory\n", stderr);
        rc = -1;
    } else if ((rc = warm_up(c, t)) == 0 && (rc = timed_rounds(c, t, &ps)) == 0) {
        add_call_rows(c, t, &ps);
    }
    if (rc != 0 && !interrupted)
        c->failures++;
    for (int id = 0; id < T_COUNT; id++)
        free(t[id].ms);
    free(ps.dlopen_ms);
    free(ps.init_ms);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Section 2: throughput of GET /v1/keys/... with reloads going on
 * ------------------------------------------------------------------------- */

/* Lets the last change of a run land (the watcher's 50 ms debounce and
 * the reload), so that the next run's "before" generation is settled. */
static void settle(dctx *c)
{
    http_client hc;
    if (http_client_init(&hc, c->socket) != 0)
        return;
    daemon_status a = {0}, b = {0};
    for (int i = 0; i < 10 && !interrupted; i++) {
        struct timespec ts = {0, 300 * 1000000L};
        nanosleep(&ts, NULL);
        if (http_status(&hc, &b) != 0 || (i > 0 && a.generation == b.generation))
            break;
        a = b;
    }
    http_client_free(&hc);
}

static void tput_section_name(const dopts *o, reload_mode mode, char *sec, size_t size)
{
    if (mode == RELOAD_NONE)
        snprintf(sec, size, "%u threads, no reloads", o->threads);
    else if (mode == RELOAD_FILE)
        snprintf(sec, size, "%u threads, rewrite every %g ms (inotify)", o->threads, o->period_ms);
    else
        snprintf(sec, size, "%u threads, rewrite + POST reload every %g ms", o->threads,
                 o->period_ms);
}

static double rps_of(const load_result *r)
{
    return r->seconds > 0 ? (double)r->requests / r->seconds : 0;
}

/* One mode's rows: requests/s best and median over the runs, the rest
 * from the best run (the one least disturbed by other work). */
static void add_tput_rows(dctx *c, reload_mode mode, const load_result *r, double median_rps,
                          uint64_t failures)
{
    char sec[96], fig[128]; /* the report keeps 47 bytes of sec: the names fit */
    tput_section_name(c->o, mode, sec, sizeof(sec));
    double rps = rps_of(r);
    /* The target is judged where the issue sets it: 2 threads, reloads
     * every 10 ms. */
    bool judged = mode != RELOAD_NONE && c->o->threads == TARGET_THREADS &&
                  c->o->period_ms == TARGET_PERIOD_MS;
    report_add(c->rep, sec, "requests/s, all threads (best and median run)", rps, median_rps, "1/s",
               BENCH_INFO, 0);
    report_add(c->rep, sec, "time per request at that rate (1 / requests per s)",
               rps > 0 ? 1e6 / rps : NAN, median_rps > 0 ? 1e6 / median_rps : NAN, "us",
               judged ? BENCH_LE : BENCH_INFO, 1e6 / TARGET_RPS);
    for (unsigned i = 0; i < c->o->threads; i++) {
        snprintf(fig, sizeof(fig), "best run: requests/s, client thread %u", i + 1);
        report_add(c->rep, sec, fig, r->per_thread_rps[i], NAN, "1/s", BENCH_INFO, 0);
    }
    report_add(c->rep, sec, "best run: request latency p50", r->p50_us, NAN, "us", BENCH_INFO, 0);
    report_add(c->rep, sec, "best run: request latency p99", r->p99_us, NAN, "us", BENCH_INFO, 0);
    report_add(c->rep, sec, "best run: request latency max", r->max_us, NAN, "us", BENCH_INFO, 0);
    report_add(c->rep, sec, "best run: client threads' CPU time / wall time", r->client_cpu, NAN,
               "x", BENCH_INFO, 0);
    if (mode != RELOAD_NONE) {
        report_add(c->rep, sec, "best run: file rewrites (temp + rename)", (double)r->writes, NAN,
                   "count", BENCH_INFO, 0);
        report_add(c->rep, sec, "best run: reloader ticks missed (overran)",
                   (double)r->missed_ticks, NAN, "count", BENCH_INFO, 0);
        report_add(c->rep, sec, "best run: slowest rewrite (write temp + rename)", r->write_ms_max,
                   NAN, "ms", BENCH_INFO, 0);
    }
    if (mode == RELOAD_FORCE) {
        report_add(c->rep, sec, "best run: POST /v1/reload answered 200", (double)r->posts, NAN,
                   "count", BENCH_INFO, 0);
        report_add(c->rep, sec, "best run: slowest POST /v1/reload", r->post_ms_max, NAN, "ms",
                   BENCH_INFO, 0);
    }
    report_add(c->rep, sec, "best run: generations advanced (GET /v1/status)",
               (double)(r->after.generation - r->before.generation), NAN, "count", BENCH_INFO, 0);
    report_add(c->rep, sec, "best run: reloads the daemon counted (GET /v1/status)",
               (double)(r->after.reloads - r->before.reloads), NAN, "count", BENCH_INFO, 0);
    report_add(c->rep, sec, "all runs: failures (bad answers, generation going back)",
               (double)failures, NAN, "count", BENCH_INFO, 0);
}

static int tput_run(dctx *c, reload_mode mode, load_result *r)
{
    load_opts lo = {.socket = c->socket,
                    .config = c->config,
                    .versions = {c->versions[0], c->versions[1]},
                    .version_len = {c->version_len[0], c->version_len[1]},
                    .targets = c->targets,
                    .canonical = c->canonical,
                    .ntargets = c->ntargets,
                    .threads = c->o->threads,
                    .seconds = c->o->seconds,
                    .period_ns = (uint64_t)(c->o->period_ms * 1e6),
                    .mode = mode,
                    .on_disk = c->on_disk,
                    .interrupted = &interrupted};
    settle(c);
    if (load_run(&lo, r) != 0) {
        fputs("snapconf-bench-daemon: the throughput run could not start (daemon gone?)\n", stderr);
        return -1;
    }
    c->on_disk = r->on_disk;
    if (r->failures) {
        fprintf(stderr, "snapconf-bench-daemon: %llu failure(s) in the throughput run; first: %s\n",
                (unsigned long long)r->failures, r->first_failure);
        c->failures++;
    }
    if (!daemon_alive(&c->daemon)) {
        daemon_dump_log(&c->daemon);
        return -1;
    }
    return interrupted ? -1 : 0;
}

/* Keeps the best run of one mode in c->tput and returns the median rate. */
static double best_and_median(dctx *c, reload_mode mode, const load_result *runs, unsigned n,
                              uint64_t *failures)
{
    double rates[MAX_TPUT_RUNS];
    unsigned best = 0;
    *failures = 0;
    for (unsigned i = 0; i < n; i++) {
        rates[i] = rps_of(&runs[i]);
        best = rates[i] > rates[best] ? i : best;
        *failures += runs[i].failures;
    }
    c->tput[mode] = runs[best];
    c->have_tput[mode] = true;
    qsort(rates, n, sizeof(*rates), cmp_double);
    return n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
}

/* Three modes: no changes, for comparison; the file rewritten every 10 ms,
 * which the daemon's watcher picks up (the library documents a 50 ms
 * debounce that would coalesce such changes); each rewrite followed by
 * POST /v1/reload, so that a reload happens every 10 ms whatever the
 * watcher does.  Runs alternate between the modes so that each sees the
 * same mixture of machine states. */
static int section_throughput(dctx *c)
{
    static const reload_mode modes[] = {RELOAD_NONE, RELOAD_FILE, RELOAD_FORCE};
    enum { NMODES = sizeof(modes) / sizeof(modes[0]) };
    static load_result runs[NMODES][MAX_TPUT_RUNS];
    for (unsigned r = 0; r < c->o->runs; r++)
        for (size_t m = 0; m < NMODES; m++)
            if (tput_run(c, modes[m], &runs[m][r]) != 0) {
                if (!interrupted)
                    c->failures++;
                return -1;
            }
    char sec[96];
    tput_section_name(c->o, RELOAD_NONE, sec, sizeof(sec));
    report_add(c->rep, sec, "runs per mode (modes alternating)", (double)c->o->runs, NAN, "count",
               BENCH_INFO, 0);
    for (size_t m = 0; m < NMODES; m++) {
        uint64_t failures;
        c->tput_median[modes[m]] = best_and_median(c, modes[m], runs[m], c->o->runs, &failures);
        add_tput_rows(c, modes[m], &c->tput[modes[m]], c->tput_median[modes[m]], failures);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * The summary, options, main
 * ------------------------------------------------------------------------- */

/* "12.3 ms, 4.5x slower: target 10x: PASS", or why there is no figure. */
static void print_versus(const char *name, double ms, double daemon_ms)
{
    if (isnan(ms)) {
        printf("    %-18s MISSING (not installed or not working): not measured\n", name);
        return;
    }
    double ratio = ms / daemon_ms;
    printf("    %-18s %.2f ms, %.1fx slower: target 10x: %s\n", name, ms, ratio,
           ratio >= TARGET_CALL_RATIO ? "PASS" : "MISS");
}

static void print_summary(const dctx *c)
{
    printf("\nsummary (targets as the issue states them):\n");
    if (!isnan(c->daemon_ms)) {
        printf("  snapconf get %s via snapconfd: %.2f ms per call (median)\n", KEY_PATH,
               c->daemon_ms);
        print_versus("python3 + PyYAML:", c->python_ms, c->daemon_ms);
        print_versus("yq:", c->yq_ms, c->daemon_ms);
    }
    static const char *const what[] = {"no reloads", "file rewritten every 10 ms",
                                       "rewrite + POST /v1/reload every 10 ms"};
    for (int m = 0; m < 3; m++) {
        if (!c->have_tput[m])
            continue;
        const load_result *r = &c->tput[m];
        double rps = rps_of(r);
        const char *verdict = rps >= TARGET_RPS ? ": target 20000: PASS" : ": target 20000: MISS";
        printf("  GET /v1/keys, %u threads, %s: %.0f requests/s (best of %u; median %.0f), "
               "%llu generations%s\n",
               c->o->threads, what[m], rps, c->o->runs, c->tput_median[m],
               (unsigned long long)(r->after.generation - r->before.generation),
               m == RELOAD_NONE ? "" : verdict);
    }
}

static void usage(FILE *to)
{
    fputs("Usage: snapconf-bench-daemon [--quick] [--out DIR] [--snapconfd PATH]\n"
          "         [--snapconf PATH] [--probe PATH] [--config FILE] [--python PATH]\n"
          "         [--yq PATH] [--tmp DIR] [--calls N] [--seconds S] [--threads N]\n"
          "         [--runs N] [--period-ms MS] [--only calls|throughput]\n"
          "  --quick      seconds: a smoke test (10 calls, 0.5 s runs)\n"
          "  --out        where results-daemon.{csv,md} go (default build/bench)\n"
          "  --snapconfd  the daemon to measure (default: the one built with this)\n"
          "  --snapconf   the CLI to measure (default: the one built with this)\n"
          "  --probe      snapconf-bench-curl-probe (default: the one built with this)\n"
          "  --config     the config to serve and read (default conf/example.yaml);\n"
          "               must be a mapping with an int at " KEY_PATH "\n"
          "  --python     python3 with PyYAML (default /usr/bin/python3, Debian's)\n"
          "  --yq         yq (default /usr/bin/yq, Debian's)\n"
          "  --tmp        where the temporary folder goes (/dev/shm, else $TMPDIR or /tmp)\n"
          "  --calls      timed calls per tool (default 200, quick 10)\n"
          "  --seconds    length of each throughput run (default 5, quick 0.5)\n"
          "  --runs       throughput runs per mode, alternating; best counts (3, quick 1)\n"
          "  --threads    throughput client threads (default 2; the target is for 2)\n"
          "  --period-ms  between the reloader's changes (default 10)\n",
          to);
}

/* A Debian package's program where Debian puts it, else whatever PATH
 * finds: a pyenv or virtualenv python3 first in PATH is not python3-yaml. */
static const char *debian_or_path(const char *debian, const char *name)
{
    return access(debian, X_OK) == 0 ? debian : name;
}

/* Where the temporary folder goes by default: a tmpfs, so that the
 * reloader's rewrites time the daemon, not a disk that other work keeps
 * busy (on a shared ext4 a rename-over stalled for up to 1.4 s). */
static const char *default_tmp(void)
{
    const char *tmp = getenv("TMPDIR");
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    return tmp && *tmp ? tmp : "/tmp";
}

static int parse_only(const char *what, dopts *o)
{
    o->do_calls = strcmp(what, "calls") == 0;
    o->do_tput = strcmp(what, "throughput") == 0;
    return o->do_calls || o->do_tput ? 0 : -1;
}

static int parse_args(int argc, char **argv, dopts *o)
{
    *o = (dopts){.snapconfd = SNAPCONF_BENCH_SNAPCONFD,
                 .snapconf = SNAPCONF_BENCH_CLI,
                 .probe = SNAPCONF_BENCH_PROBE,
                 .config = SNAPCONF_BENCH_EXAMPLE,
                 .python = debian_or_path("/usr/bin/python3", "python3"),
                 .yq = debian_or_path("/usr/bin/yq", "yq"),
                 .out_dir = "build/bench",
                 .tmp_dir = default_tmp(),
                 .do_calls = true,
                 .do_tput = true,
                 .threads = TARGET_THREADS,
                 .period_ms = TARGET_PERIOD_MS};
    bool calls_set = false, seconds_set = false, runs_set = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **str = strcmp(a, "--out") == 0         ? &o->out_dir
                           : strcmp(a, "--snapconfd") == 0 ? &o->snapconfd
                           : strcmp(a, "--snapconf") == 0  ? &o->snapconf
                           : strcmp(a, "--probe") == 0     ? &o->probe
                           : strcmp(a, "--config") == 0    ? &o->config
                           : strcmp(a, "--python") == 0    ? &o->python
                           : strcmp(a, "--yq") == 0        ? &o->yq
                           : strcmp(a, "--tmp") == 0       ? &o->tmp_dir
                                                           : NULL;
        if (str && v)
            *str = argv[++i];
        else if (strcmp(a, "--quick") == 0)
            o->quick = true;
        else if (strcmp(a, "--only") == 0 && v && parse_only(argv[++i], o) == 0)
            continue;
        else if (strcmp(a, "--calls") == 0 && v && (o->calls = (unsigned)atoi(argv[++i])) > 0)
            calls_set = true;
        else if (strcmp(a, "--seconds") == 0 && v && (o->seconds = atof(argv[++i])) > 0)
            seconds_set = true;
        else if (strcmp(a, "--runs") == 0 && v && (o->runs = (unsigned)atoi(argv[++i])) > 0)
            runs_set = true;
        else if (strcmp(a, "--threads") == 0 && v && (o->threads = (unsigned)atoi(argv[++i])) > 0)
            continue;
        else if (strcmp(a, "--period-ms") == 0 && v && (o->period_ms = atof(argv[++i])) > 0)
            continue;
        else
            return -1;
    }
    if (!calls_set)
        o->calls = o->quick ? 10 : 200;
    if (!seconds_set)
        o->seconds = o->quick ? 0.5 : 5;
    if (!runs_set)
        o->runs = o->quick ? 1 : 3;
    return o->threads <= LOAD_MAX_THREADS && o->calls <= 100000 && o->runs <= MAX_TPUT_RUNS ? 0
                                                                                            : -1;
}

/* The versions of what the figures depend on besides snapconf: the
 * header lines of the result files. */
static void describe(const dopts *o, bench_report *rep)
{
    size_t bl = strlen(rep->meta.build);
    snprintf(rep->meta.build + bl, sizeof(rep->meta.build) - bl, "; libcurl %s; libmicrohttpd %s",
             curl_version_info(CURLVERSION_NOW)->version, SNAPCONF_BENCH_MHD_VERSION);
    char py[128] = "not installed", yq[128] = "not installed";
    proc_result r;
    char *pyv[] = {(char *)o->python, "-c",
                   "import sys,yaml; print('Python', sys.version.split()[0], '+ PyYAML', "
                   "yaml.__version__)",
                   NULL};
    /* Debian's yq 3.1.0 says "yq 0.0.0" to --version: ask dpkg first. */
    char *yqd[] = {"dpkg-query", "-W", "-f=${Version}", "yq", NULL};
    char *yqv[] = {(char *)o->yq, "--version", NULL};
    if (proc_run(pyv, CALL_TIMEOUT_MS, &r) == 0 && r.status == 0 && !r.spawn_error)
        snprintf(py, sizeof(py), "%.120s", r.out);
    bool debian = strcmp(o->yq, "/usr/bin/yq") == 0;
    if (debian && proc_run(yqd, CALL_TIMEOUT_MS, &r) == 0 && r.status == 0 && !r.spawn_error &&
        r.out[0])
        snprintf(yq, sizeof(yq), "Debian package yq %.100s", r.out);
    else if (proc_run(yqv, CALL_TIMEOUT_MS, &r) == 0 && r.status == 0 && !r.spawn_error)
        snprintf(yq, sizeof(yq), "%.120s", r.out[0] ? r.out : r.err);
    size_t ml = strlen(rep->meta.method);
    snprintf(rep->meta.method + ml, sizeof(rep->meta.method) - ml,
             "; python3: %s (%s); yq: %s (%s)", o->python, py, o->yq, yq);
}

static void make_method(const dopts *o, char *method, size_t size)
{
    snprintf(method, size,
             "clock_gettime(CLOCK_MONOTONIC); a snapconfd of its own on a Unix socket "
             "(--log-level warning); per call: %u timed calls per tool after one untimed call, "
             "round-robin, each a posix_spawn with stdout and stderr on pipes, timed to the "
             "child's reaping, output checked; ratios of medians; throughput: %u libcurl "
             "keep-alive clients, %u runs of %.3g s per mode, modes alternating, best = highest, "
             "keys cycled, every answer checked (200, JSON, path, generation never backwards, "
             "header = body), reloader every %.3g ms (temp file + rename) on %s (%s)%s",
             o->calls, o->threads, o->runs, o->seconds, o->period_ms, o->tmp_dir,
             fs_name(o->tmp_dir), o->quick ? " (--quick: a smoke test, not results)" : "");
}

static int write_results(const bench_report *rep, const char *dir)
{
    char csv[4096], md[4096];
    snprintf(csv, sizeof(csv), "%s/results-daemon.csv", dir);
    snprintf(md, sizeof(md), "%s/results-daemon.md", dir);
    if (report_write_csv(rep, csv) != 0 || report_write_md(rep, md) != 0) {
        fprintf(stderr, "snapconf-bench-daemon: cannot write results in %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    printf("\nwrote %s and %s\n", csv, md);
    return 0;
}

/* ^C or a kill: stop the current loop and clean up on the normal path. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static int run(const dopts *o, bench_report *rep)
{
    dctx ctx;
    int rc = ctx_init(&ctx, o, rep);
    ctx.daemon_ms = ctx.python_ms = ctx.yq_ms = NAN;
    if (rc == 0 && o->do_calls)
        rc = section_calls(&ctx);
    if (rc == 0 && o->do_tput)
        rc = section_throughput(&ctx);
    ctx_free(&ctx);
    printf("\n");
    report_print(rep, stdout);
    print_summary(&ctx);
    fflush(stdout); /* the notes below come after the tables, even in a pipe */
    if (ctx.missing)
        fprintf(stderr,
                "snapconf-bench-daemon: python3-yaml or yq is MISSING: the contract's "
                "ratios were not measured%s\n",
                o->quick ? " (--quick: not an error)" : "");
    if (interrupted)
        fputs("snapconf-bench-daemon: interrupted\n", stderr);
    bool failed = rc != 0 || ctx.failures || interrupted || (ctx.missing && !o->quick);
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    dopts o;
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (make_dirs(o.out_dir) != 0) {
        fprintf(stderr, "snapconf-bench-daemon: cannot create %s: %s\n", o.out_dir,
                strerror(errno));
        return 1;
    }
    catch_signals();
    if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
        fputs("snapconf-bench-daemon: cannot initialise libcurl\n", stderr);
        return 1;
    }
    bench_report rep;
    char method[1024];
    make_method(&o, method, sizeof(method));
    report_init(&rep, method);
    describe(&o, &rep);
    int rc = run(&o, &rep);
    /* The result files are written even after a failure: they say what
     * was measured before it. */
    if (rep.failed || write_results(&rep, o.out_dir) != 0)
        rc = -1;
    if (rc == 0)
        printf("%zu target(s) missed\n", report_misses(&rep));
    report_free(&rep);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
