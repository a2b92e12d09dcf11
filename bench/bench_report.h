/*
 * bench_report.h - the benchmark's results: a list of rows, judged against
 * targets and written as a table (stdout), CSV and Markdown.
 */
#ifndef SNAPCONF_BENCH_REPORT_H
#define SNAPCONF_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How a figure is compared with its target. */
typedef enum bench_cmp {
    BENCH_INFO, /* no target: printed for context */
    BENCH_LT,   /* must be below the target */
    BENCH_LE,   /* must be at most the target */
    BENCH_GE,   /* must be at least the target */
} bench_cmp;

typedef struct bench_row {
    char section[48];
    char figure[128];
    double best;   /* the judged figure: best (minimum) of the runs */
    double median; /* NAN when the figure is a single measurement */
    char unit[12];
    bench_cmp cmp;
    double target;
} bench_row;

/* The environment a run happened in, printed at the top of every file. */
typedef struct bench_meta {
    char cpu[128];
    long cores;
    char loadavg[64];
    char compiler[128];
    char libyaml[32];
    char liburcu[32]; /* from pkg-config at build time (SNAPCONF_BENCH_URCU_VERSION) */
    char snapconf[32];
    char build[96];
    char date[32];
    char method[1536];
    char warning[128]; /* set when the build makes the figures meaningless */
} bench_meta;

typedef struct bench_report {
    bench_meta meta;
    bench_row *rows;
    size_t len, cap;
    int failed; /* sticky out-of-memory flag */
} bench_report;

/* Fills report->meta from /proc, the compiler and both libraries. */
void report_init(bench_report *report, const char *method);
void report_free(bench_report *report);

/* Appends one figure; median may be NAN.  Rows keep the order added. */
void report_add(bench_report *report, const char *section, const char *figure, double best,
                double median, const char *unit, bench_cmp cmp, double target);

/* Counts the rows that have a target and miss it. */
size_t report_misses(const bench_report *report);

/* Writers.  The file writers return 0, or -1 with errno set. */
void report_print(const bench_report *report, FILE *to);
int report_write_csv(const bench_report *report, const char *path);
int report_write_md(const bench_report *report, const char *path);

/* mkdir -p for the output folder, which is nested and may not exist yet.
 * Returns 0, or -1 with errno set. */
int make_dirs(const char *dir);

/* The name of the file system dir is on ("tmpfs", "ext4", ...), for the
 * method line: rename and inotify costs depend on it. */
const char *fs_name(const char *dir);

#endif /* SNAPCONF_BENCH_REPORT_H */
