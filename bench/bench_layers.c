/*
 * snapconf-bench-layers: what layering costs (issue #7 item 6).
 *
 *   snapconf-bench-layers [--quick] [--out DIR]
 *
 * - A runtime override (snapconf_set) on a 10,000-key configuration, timed
 *   from the call to its return, by which the new generation is published:
 *   in memory, with a state file (written and fsync'd before publishing),
 *   and on a handle with ten drop-ins and an environment layer.
 * - The read path on a merged snapshot against the same content loaded
 *   from one file: the same lookups over the same 1,024 paths.
 *
 * Results: DIR/results-layers.{csv,md}, with the machine header.
 */
#include "bench_report.h"

#include "snapconf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SECTIONS 100
#define KEYS_PER_SECTION 100
#define DROPINS 10
#define PATHS 1024

struct opts {
    bool quick;
    const char *out_dir;
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)ceil(p * (double)n); /* nearest rank, 1-based */
    return v[rank == 0 ? 0 : (rank > n ? n : rank) - 1];
}

/* Sections first..last of the 10,000-key config: "s_000: {k_000: 0, ...}". */
static int write_sections(const char *path, unsigned first, unsigned last, int bump)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    for (unsigned s = first; s < last; s++) {
        fprintf(fp, "s_%03u:\n", s);
        for (unsigned k = 0; k < KEYS_PER_SECTION; k++)
            fprintf(fp, "  k_%03u: %u\n", k, s * KEYS_PER_SECTION + k + (unsigned)bump);
    }
    return fclose(fp);
}

static snapconf *open_handle(const char *path, const char *const *dropins, const char *env,
                             const char *state)
{
    snapconf_options o;
    snapconf_options_init(&o);
    o.watch = SNAPCONF_WATCH_NONE;
    o.dropin_dirs = dropins;
    o.env_prefix = env;
    o.state_file = state;
    snapconf *h = NULL;
    snapconf_error err;
    if (snapconf_open(&h, path, &o, &err) != 0) {
        fprintf(stderr, "snapconf-bench-layers: %s\n", err.message);
        return NULL;
    }
    return h;
}

/* Times `sets` overrides on random keys; returns 0 or -1. */
static int time_sets(snapconf *h, unsigned sets, double *median, double *p99)
{
    double *t = malloc(sets * sizeof *t);
    if (!t)
        return -1;
    unsigned seed = 12345;
    for (unsigned i = 0; i < sets; i++) {
        char path[32], value[24];
        unsigned r = rand_r(&seed);
        snprintf(path, sizeof path, "s_%03u.k_%03u", r % SECTIONS,
                 (r / SECTIONS) % KEYS_PER_SECTION);
        snprintf(value, sizeof value, "%u", i);
        snapconf_error err;
        double t0 = now_ns();
        int rc = snapconf_set(h, path, value, &err);
        t[i] = (now_ns() - t0) / 1e6;
        if (rc) {
            fprintf(stderr, "snapconf-bench-layers: set %s: %s\n", path, err.message);
            free(t);
            return -1;
        }
    }
    *p99 = percentile(t, sets, 0.99);
    *median = percentile(t, sets, 0.5);
    free(t);
    return 0;
}

/* Three runs of `sets` each; the figures are the best and median of the
 * runs' medians and p99s. */
static int bench_set(bench_report *rep, const char *label, snapconf *h, unsigned sets,
                     double target)
{
    double med[3], p99[3];
    for (int r = 0; r < 3; r++)
        if (time_sets(h, sets, &med[r], &p99[r]) != 0)
            return -1;
    char fig[128];
    snprintf(fig, sizeof fig, "snapconf_set, %s: median per call", label);
    report_add(rep, "runtime override, 10,000 keys", fig, percentile(med, 3, 0.0),
               percentile(med, 3, 0.5), "ms", target > 0 ? BENCH_LE : BENCH_INFO, target);
    snprintf(fig, sizeof fig, "snapconf_set, %s: p99 per call", label);
    report_add(rep, "runtime override, 10,000 keys", fig, percentile(p99, 3, 0.0),
               percentile(p99, 3, 0.5), "ms", target > 0 ? BENCH_LE : BENCH_INFO, target);
    return 0;
}

static double read_ns(snapconf *h, char paths[][32], unsigned iters)
{
    int64_t sum = 0;
    double t0 = now_ns();
    for (unsigned i = 0; i < iters; i++) {
        const snapconf_snap *s = snapconf_snap_begin(h);
        sum += snapconf_get_int_or(s, paths[i % PATHS], 0);
        snapconf_snap_end(h, s);
    }
    double ns = (now_ns() - t0) / iters;
    return sum == 42 ? ns + 1e-9 : ns; /* keeps the loop */
}

static int bench_reads(bench_report *rep, snapconf *plain, snapconf *layered, bool quick)
{
    static char paths[PATHS][32];
    unsigned seed = 777;
    for (unsigned i = 0; i < PATHS; i++) {
        unsigned r = rand_r(&seed);
        snprintf(paths[i], sizeof paths[i], "s_%03u.k_%03u", r % SECTIONS,
                 (r / SECTIONS) % KEYS_PER_SECTION);
    }
    unsigned iters = quick ? 200000 : 4000000;
    double p[7], l[7], ratio[7];
    for (int r = 0; r < 7; r++) {
        p[r] = read_ns(plain, paths, iters);
        l[r] = read_ns(layered, paths, iters);
        ratio[r] = l[r] / p[r];
    }
    const char *sec = "read path, merged vs one file";
    report_add(rep, sec, "begin + snapconf_get_int + end, one file", percentile(p, 7, 0.0),
               percentile(p, 7, 0.5), "ns", BENCH_INFO, 0);
    report_add(rep, sec, "the same, main file + 10 drop-ins + environment", percentile(l, 7, 0.0),
               percentile(l, 7, 0.5), "ns", BENCH_INFO, 0);
    report_add(rep, sec, "merged / one file (best / best)",
               percentile(l, 7, 0.0) / percentile(p, 7, 0.0), percentile(ratio, 7, 0.5), "x",
               BENCH_LE, 1.05);
    snapconf_status_info a, b;
    snapconf_status(plain, &a);
    snapconf_status(layered, &b);
    report_add(rep, sec, "snapshot memory, one file", (double)a.memory, NAN, "bytes", BENCH_INFO,
               0);
    report_add(rep, sec, "snapshot memory, merged", (double)b.memory, NAN, "bytes", BENCH_INFO, 0);
    return 0;
}

static int write_results(const bench_report *rep, const char *dir)
{
    char csv[4096], md[4096];
    snprintf(csv, sizeof csv, "%s/results-layers.csv", dir);
    snprintf(md, sizeof md, "%s/results-layers.md", dir);
    if (report_write_csv(rep, csv) != 0 || report_write_md(rep, md) != 0) {
        fprintf(stderr, "snapconf-bench-layers: cannot write results: %s\n", strerror(errno));
        return -1;
    }
    printf("wrote %s, %s\n", csv, md);
    return 0;
}

/* The same 10,000 keys as one file, and as a main file holding the first
 * half plus ten drop-ins holding the rest (and an environment layer). */
static int make_configs(const char *dir, char *one, char *main, char *dropins, size_t n)
{
    snprintf(one, n, "%s/one.yaml", dir);
    snprintf(main, n, "%s/main.yaml", dir);
    snprintf(dropins, n, "%s/conf.d", dir);
    if (write_sections(one, 0, SECTIONS, 0) || write_sections(main, 0, SECTIONS / 2, 0) ||
        mkdir(dropins, 0755) != 0)
        return -1;
    unsigned per = SECTIONS / 2 / DROPINS;
    for (unsigned d = 0; d < DROPINS; d++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%02u.yaml", dropins, d);
        unsigned first = SECTIONS / 2 + d * per;
        if (write_sections(p, first, first + per, 0))
            return -1;
    }
    return setenv("BENCHLAYERS_UNUSED__KEY", "1", 1);
}

static int run(bench_report *rep, const struct opts *o, const char *dir)
{
    char one[4096], main[4096], dropins[4096], state[4200];
    if (make_configs(dir, one, main, dropins, sizeof one) != 0)
        return -1;
    snprintf(state, sizeof state, "%s/state.yaml", dir);
    const char *dirs[] = {dropins, NULL};
    unsigned sets = o->quick ? 20 : 200;
    snapconf *plain = open_handle(one, NULL, NULL, NULL);
    snapconf *layered = open_handle(main, dirs, "BENCHLAYERS_", NULL);
    int rc = plain && layered ? bench_reads(rep, plain, layered, o->quick) : -1;
    if (rc == 0)
        rc = bench_set(rep, "one file, in memory", plain, sets, 5.0);
    if (rc == 0)
        rc = bench_set(rep, "10 drop-ins + environment, in memory", layered, sets, 0);
    snapconf_close(plain);
    snapconf_close(layered);
    snapconf *saved = rc == 0 ? open_handle(one, NULL, NULL, state) : NULL;
    if (rc == 0 && !saved)
        rc = -1;
    if (rc == 0) {
        char label[96];
        snprintf(label, sizeof label, "one file, state file on %s (fsync)", fs_name(dir));
        rc = bench_set(rep, label, saved, o->quick ? 10 : 50, 0);
    }
    snapconf_close(saved);
    return rc;
}

static void cleanup(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "snapconf-bench-layers: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    struct opts o = {false, "build/bench"};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o.quick = true;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            o.out_dir = argv[++i];
        } else {
            fputs("usage: snapconf-bench-layers [--quick] [--out DIR]\n", stderr);
            return 2;
        }
    }
    if (make_dirs(o.out_dir) != 0) {
        fprintf(stderr, "snapconf-bench-layers: cannot create %s: %s\n", o.out_dir,
                strerror(errno));
        return 1;
    }
    char dir[] = "/tmp/snapconf-bench-layers-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("snapconf-bench-layers: mkdtemp");
        return 1;
    }
    bench_report rep;
    char method[512];
    snprintf(method, sizeof method,
             "clock_gettime(CLOCK_MONOTONIC); a 10,000-key config (100 sections of 100 ints); "
             "set: 3 runs of %u snapconf_set calls on random keys, each timed from call to "
             "return (published), best and median of the runs' medians and p99s; reads: 7 "
             "alternating runs of %u begin/get/end over the same 1,024 random paths; handles "
             "with SNAPCONF_WATCH_NONE; files in %s (%s)%s",
             o.quick ? 20u : 200u, o.quick ? 200000u : 4000000u, dir, fs_name(dir),
             o.quick ? "; --quick: a smoke test, not results" : "");
    report_init(&rep, method);
    int rc = run(&rep, &o, dir);
    cleanup(dir);
    if (rc == 0) {
        report_print(&rep, stdout);
        rc = rep.failed ? -1 : write_results(&rep, o.out_dir);
        printf("%zu target(s) missed\n", report_misses(&rep));
    }
    report_free(&rep);
    return rc == 0 ? 0 : 1;
}
