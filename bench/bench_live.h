/*
 * bench_live.h - what the parts of snapconf-bench-live share: options, the
 * context every section runs in, and small helpers.
 *
 *   bench_live.c    command line, set-up, the 1-thread overhead and the
 *                   read-side pair (flavor) sections
 *   bench_matrix.c  reader threads against a writer: the throughput section
 *                   and the read-side matrix (strategies x readers x writer)
 *   bench_reload.c  reload latency through the watcher, per edit pattern
 */
#ifndef SNAPCONF_BENCH_LIVE_H
#define SNAPCONF_BENCH_LIVE_H

#include "bench_report.h"
#include "bench_paths.h"
#include "gen_config.h"
#include "strategy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_RUNS 101
#define MAX_THREADS 16
#define RANDOM_ORDER_LEN 65536
#define ORDER_SEED UINT64_C(0x0dd5eed)
#define GEN_KEY "bench_generation: "
#define GEN_DIGITS 12

typedef struct live_opts {
    const char *out_dir;
    const char *tmp_dir;
    bool quick;
    bool do_overhead, do_tput, do_matrix, do_latency, do_flavors;
    unsigned runs;                 /* timed runs of the 1-thread figures */
    size_t iters;                  /* lookups per run, overhead section */
    double seconds;                /* per throughput run */
    unsigned tput_runs;            /* throughput runs per strategy */
    unsigned edits;                /* per latency case, debounce 50 ms */
    unsigned edits0;               /* per latency case, debounce 0 */
    unsigned readers;              /* throughput reader threads */
    double pair_ms;                /* target duration of one flavor run */
    size_t paths;                  /* distinct lookup paths */
    const char *strategies;        /* throughput strategies, comma-separated */
    strategy_lookup tput_lookup;   /* what the throughput and matrix readers call */
    uint64_t period_ns;            /* between publications, throughput section */
    const char *matrix_strategies; /* matrix strategies, comma-separated */
    double cell_seconds;           /* per matrix cell */
    unsigned matrix_rounds;        /* runs of each cell; best reads/s is kept */
    unsigned sample_every;         /* 1 read in this many is timed */
} live_opts;

typedef struct stats {
    double best, median;
} stats;

/* Everything the sections share: the config, its paths, the work folder. */
typedef struct live_ctx {
    const live_opts *o;
    bench_report *rep;
    char workdir[3072];
    char file[4096];      /* the ~1000-key config the strategies serve */
    gen_buf doc;          /* its content, ending in GEN_KEY + GEN_DIGITS digits */
    size_t gen_offset;    /* where those digits start */
    path_set set;         /* 4-segment int paths, compiled */
    uint32_t *seq;        /* 0, 1, 2, ...: the overhead loops cycle in order */
    uint32_t *random;     /* RANDOM_ORDER_LEN random indices: the throughput readers */
    double clock_cost_ns; /* median cost of an empty timed interval */
} live_ctx;

/* Keeps results observable so the compiler cannot drop the loops. */
extern volatile uint64_t bench_sink;

uint64_t now_ns(void);
uint64_t thread_cpu_ns(void);
void sleep_ns(uint64_t ns);
uint64_t splitmix(uint64_t *state);
int cmp_double(const void *a, const void *b);
double median_sorted(const double *s, size_t n);
/* Sort the samples; best is the minimum (times) or the maximum (rates). */
stats stats_min(double *samples, size_t n);
stats stats_max(double *samples, size_t n);
/* Nearest-rank percentile of sorted samples. */
double percentile_sorted(const double *s, size_t n, double p);

/* Generates a service config of about target bytes and appends the
 * generation key whose value each publication changes. */
int make_doc(size_t target, gen_buf *doc, size_t *gen_offset);
/* Writes value into the generation digits in place (same length). */
void set_generation(char *bytes, size_t offset, uint64_t value);

strategy_keys keys_of(const live_ctx *c, bool random);
/* Writes the config to c->file and creates the strategy from it. */
int create(const strategy_ops *ops, const live_ctx *c, void **state);

int section_throughput(live_ctx *c);
int section_matrix(live_ctx *c);
int section_latency(live_ctx *c);

#endif /* SNAPCONF_BENCH_LIVE_H */
