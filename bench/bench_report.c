/*
 * bench_report.c - collecting, judging and writing benchmark figures.
 */
#include "bench_report.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <snapconf.h>
#include <yaml.h>

/* Build facts the CMake file passes in; defaults keep a bare gcc build working. */
#ifndef SNAPCONF_BENCH_CONFIG
#define SNAPCONF_BENCH_CONFIG "unknown"
#endif
#ifndef SNAPCONF_BENCH_SANITIZE
#define SNAPCONF_BENCH_SANITIZE ""
#endif
/* liburcu 0.13's headers carry no version: CMake passes pkg-config's. */
#ifndef SNAPCONF_BENCH_URCU_VERSION
#define SNAPCONF_BENCH_URCU_VERSION "unknown"
#endif

#if defined(__clang__)
#define BENCH_COMPILER "clang " __VERSION__
#elif defined(__GNUC__)
#define BENCH_COMPILER "gcc " __VERSION__
#else
#define BENCH_COMPILER "unknown compiler"
#endif

/* ---------------------------------------------------------------------------
 * Machine description
 * ------------------------------------------------------------------------- */

/* Copies the value of the first "key<spaces>: value" line of a /proc file. */
static void read_proc_field(const char *file, const char *key, char *out, size_t size)
{
    snprintf(out, size, "unknown");
    FILE *f = fopen(file, "r");
    if (!f)
        return;
    char line[512];
    size_t keylen = strlen(key);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, keylen) != 0)
            continue;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        colon += strspn(colon + 1, " \t") + 1;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, size, "%s", colon);
        break;
    }
    fclose(f);
}

static void read_first_line(const char *file, char *out, size_t size)
{
    snprintf(out, size, "unknown");
    FILE *f = fopen(file, "r");
    if (!f)
        return;
    if (fgets(out, (int)size, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

void report_init(bench_report *report, const char *method)
{
    memset(report, 0, sizeof(*report));
    bench_meta *m = &report->meta;
    read_proc_field("/proc/cpuinfo", "model name", m->cpu, sizeof(m->cpu));
    m->cores = sysconf(_SC_NPROCESSORS_ONLN);
    read_first_line("/proc/loadavg", m->loadavg, sizeof(m->loadavg));
    /* Keep the three averages; the run-queue and last-pid fields are noise. */
    char *fourth = m->loadavg;
    for (int field = 0; field < 3 && fourth; field++)
        fourth = strchr(fourth + 1, ' ');
    if (fourth)
        *fourth = '\0';
    snprintf(m->compiler, sizeof(m->compiler), "%s", BENCH_COMPILER);
    snprintf(m->libyaml, sizeof(m->libyaml), "%s", yaml_get_version_string());
    snprintf(m->liburcu, sizeof(m->liburcu), "%s", SNAPCONF_BENCH_URCU_VERSION);
    snprintf(m->snapconf, sizeof(m->snapconf), "%s", snapconf_version_string());
    snprintf(m->build, sizeof(m->build), "%s%s%s", SNAPCONF_BENCH_CONFIG,
             SNAPCONF_BENCH_SANITIZE[0] ? ", sanitize=" : "", SNAPCONF_BENCH_SANITIZE);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(m->date, sizeof(m->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(m->method, sizeof(m->method), "%s", method);
    static const char sanitize[] = SNAPCONF_BENCH_SANITIZE;
    if (strcmp(SNAPCONF_BENCH_CONFIG, "Debug") == 0 || sanitize[0] != '\0')
        snprintf(m->warning, sizeof(m->warning),
                 "unoptimised or sanitizer build: these figures say nothing about speed");
}

void report_free(bench_report *report)
{
    free(report->rows);
    report->rows = NULL;
    report->len = report->cap = 0;
}

/* ---------------------------------------------------------------------------
 * Rows
 * ------------------------------------------------------------------------- */

void report_add(bench_report *report, const char *section, const char *figure, double best,
                double median, const char *unit, bench_cmp cmp, double target)
{
    if (report->len == report->cap) {
        size_t cap = report->cap ? 2 * report->cap : 32;
        bench_row *rows = realloc(report->rows, cap * sizeof(*rows));
        if (!rows) {
            report->failed = 1;
            return;
        }
        report->rows = rows;
        report->cap = cap;
    }
    bench_row *r = &report->rows[report->len++];
    snprintf(r->section, sizeof(r->section), "%s", section);
    snprintf(r->figure, sizeof(r->figure), "%s", figure);
    snprintf(r->unit, sizeof(r->unit), "%s", unit);
    r->best = best;
    r->median = median;
    r->cmp = cmp;
    r->target = target;
}

static bool row_passes(const bench_row *r)
{
    switch (r->cmp) {
    case BENCH_LT:
        return r->best < r->target;
    case BENCH_LE:
        return r->best <= r->target;
    case BENCH_GE:
        return r->best >= r->target;
    default:
        return true;
    }
}

static const char *row_status(const bench_row *r)
{
    if (r->cmp == BENCH_INFO)
        return "";
    return row_passes(r) ? "PASS" : "MISS";
}

size_t report_misses(const bench_report *report)
{
    size_t n = 0;
    for (size_t i = 0; i < report->len; i++)
        n += report->rows[i].cmp != BENCH_INFO && !row_passes(&report->rows[i]);
    return n;
}

/* Three significant digits or so: figures range from microseconds written
 * in milliseconds to millions of bytes. */
static void fmt_value(char *out, size_t size, double v, const char *unit)
{
    bool whole = strcmp(unit, "count") == 0 || strcmp(unit, "bytes") == 0;
    if (isnan(v))
        snprintf(out, size, "-");
    else if (whole || fabs(v) >= 1000)
        snprintf(out, size, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(out, size, "%.1f", v);
    else if (fabs(v) >= 1 || v == 0)
        snprintf(out, size, "%.2f", v);
    else /* three significant digits, so microsecond frees show in ms */
        snprintf(out, size, "%.*f", 2 - (int)floor(log10(fabs(v))), v);
}

static const char *const cmp_text[] = {"", "<", "<=", ">="};

static void fmt_target(char *out, size_t size, const bench_row *r)
{
    char v[32];
    fmt_value(v, sizeof(v), r->target, r->unit);
    if (r->cmp == BENCH_INFO)
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%s %s %s", cmp_text[r->cmp], v, r->unit);
}

/* ---------------------------------------------------------------------------
 * Writers
 * ------------------------------------------------------------------------- */

static void print_meta(const bench_meta *m, FILE *to, const char *prefix)
{
    fprintf(to, "%scpu: %s (%ld cores online)\n", prefix, m->cpu, m->cores);
    fprintf(to, "%sload average at start: %s\n", prefix, m->loadavg);
    fprintf(to, "%scompiler: %s\n", prefix, m->compiler);
    fprintf(to, "%slibyaml: %s\n", prefix, m->libyaml);
    fprintf(to, "%sliburcu: %s\n", prefix, m->liburcu);
    fprintf(to, "%ssnapconf: %s (build: %s)\n", prefix, m->snapconf, m->build);
    fprintf(to, "%sdate: %s\n", prefix, m->date);
    fprintf(to, "%smethod: %s\n", prefix, m->method);
    if (m->warning[0])
        fprintf(to, "%sWARNING: %s\n", prefix, m->warning);
}

void report_print(const bench_report *report, FILE *to)
{
    print_meta(&report->meta, to, "");
    const char *section = "";
    for (size_t i = 0; i < report->len; i++) {
        const bench_row *r = &report->rows[i];
        if (strcmp(section, r->section) != 0) {
            section = r->section;
            fprintf(to, "\n== %s ==\n%-58s %10s %10s %-6s %-14s %s\n", section, "figure", "best",
                    "median", "unit", "target", "status");
        }
        char best[32], median[32], target[48];
        fmt_value(best, sizeof(best), r->best, r->unit);
        fmt_value(median, sizeof(median), r->median, r->unit);
        fmt_target(target, sizeof(target), r);
        fprintf(to, "%-58s %10s %10s %-6s %-14s %s\n", r->figure, best, median, r->unit, target,
                row_status(r));
    }
}

/* Text fields are always quoted, with quotes doubled, as RFC 4180 says. */
static void csv_text(FILE *f, const char *s, const char *sep)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fprintf(f, "\"%s", sep);
}

static void csv_number(FILE *f, double v, const char *sep)
{
    if (!isnan(v))
        fprintf(f, "%.6g", v);
    fputs(sep, f);
}

static int close_checked(FILE *f)
{
    int bad = ferror(f);
    return (fclose(f) != 0 || bad) ? -1 : 0;
}

int report_write_csv(const bench_report *report, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    print_meta(&report->meta, f, "# ");
    /* Each row also names the machine and the versions, so that rows
     * copied out of the file keep saying where they come from. */
    fputs("section,figure,best,median,unit,cmp,target,status,cpu,cores,compiler,liburcu,date\n", f);
    for (size_t i = 0; i < report->len; i++) {
        const bench_row *r = &report->rows[i];
        csv_text(f, r->section, ",");
        csv_text(f, r->figure, ",");
        csv_number(f, r->best, ",");
        csv_number(f, r->median, ",");
        csv_text(f, r->unit, ",");
        csv_text(f, cmp_text[r->cmp], ",");
        csv_number(f, r->cmp == BENCH_INFO ? NAN : r->target, ",");
        csv_text(f, row_status(r), ",");
        csv_text(f, report->meta.cpu, ",");
        fprintf(f, "%ld,", report->meta.cores);
        csv_text(f, report->meta.compiler, ",");
        csv_text(f, report->meta.liburcu, ",");
        csv_text(f, report->meta.date, "\n");
    }
    return close_checked(f);
}

int report_write_md(const bench_report *report, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("# snapconf benchmark results\n\n", f);
    print_meta(&report->meta, f, "- ");
    const char *section = "";
    for (size_t i = 0; i < report->len; i++) {
        const bench_row *r = &report->rows[i];
        if (strcmp(section, r->section) != 0) {
            section = r->section;
            fprintf(f,
                    "\n## %s\n\n| figure | best | median | unit | target | status |\n"
                    "|---|---:|---:|---|---|---|\n",
                    section);
        }
        char best[32], median[32], target[48];
        fmt_value(best, sizeof(best), r->best, r->unit);
        fmt_value(median, sizeof(median), r->median, r->unit);
        fmt_target(target, sizeof(target), r);
        fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", r->figure, best, median, r->unit, target,
                row_status(r));
    }
    return close_checked(f);
}

int make_dirs(const char *dir)
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

const char *fs_name(const char *dir)
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
