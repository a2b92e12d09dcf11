/*
 * bench_util.c - helpers shared by snapconf-bench-live and
 * snapconf-bench-instr (declared in bench_live.h).
 */
#include "bench_live.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

volatile uint64_t bench_sink;

uint64_t now_ns(void)
{
    return strategy_now_ns();
}

uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median_sorted(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

stats stats_min(double *samples, size_t n)
{
    qsort(samples, n, sizeof(*samples), cmp_double);
    return (stats){samples[0], median_sorted(samples, n)};
}

stats stats_max(double *samples, size_t n)
{
    qsort(samples, n, sizeof(*samples), cmp_double);
    return (stats){samples[n - 1], median_sorted(samples, n)};
}

double percentile_sorted(const double *s, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return s[rank == 0 ? 0 : rank - 1];
}

int make_doc(size_t target, gen_buf *doc, size_t *gen_offset)
{
    gen_service_params p = {.target_bytes = target, .seed = GEN_DEFAULT_SEED};
    if (gen_service(doc, &p) != 0) {
        fputs("snapconf-bench-live: out of memory generating the config\n", stderr);
        return -1;
    }
    size_t need = doc->len + 2 + sizeof(GEN_KEY) + GEN_DIGITS + 2;
    if (need > doc->cap) {
        char *d = realloc(doc->data, need);
        if (!d) {
            fputs("snapconf-bench-live: out of memory\n", stderr);
            return -1;
        }
        doc->data = d;
        doc->cap = need;
    }
    if (doc->len && doc->data[doc->len - 1] != '\n')
        doc->data[doc->len++] = '\n';
    int n = snprintf(doc->data + doc->len, doc->cap - doc->len, "%s%0*d\n", GEN_KEY, GEN_DIGITS, 0);
    *gen_offset = doc->len + strlen(GEN_KEY);
    doc->len += (size_t)n;
    return 0;
}

void set_generation(char *bytes, size_t offset, uint64_t value)
{
    for (int i = GEN_DIGITS - 1; i >= 0; i--) {
        bytes[offset + (size_t)i] = (char)('0' + value % 10);
        value /= 10;
    }
}

/* ---------------------------------------------------------------------------
 * Set-up shared by the sections
 * ------------------------------------------------------------------------- */
