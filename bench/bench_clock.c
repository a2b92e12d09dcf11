/*
 * bench_clock.c - choosing and calibrating the sampling clock.
 */
#include "bench_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bench_clock_tsc;
static double ticks_per_ns = 1.0;
static char clock_name[96] = "clock_gettime(CLOCK_MONOTONIC)";

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The TSC is only a clock when it ticks at a constant rate through
 * frequency changes and idle states; the kernel says so in the flags. */
static bool tsc_is_invariant(void)
{
#if defined(__x86_64__) || defined(__i386__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        if (strncmp(line, "flags", 5) == 0)
            found = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
    fclose(f);
    return found;
#else
    return false;
#endif
}

void bench_clock_init(void)
{
    bench_clock_tsc = tsc_is_invariant();
    if (!bench_clock_tsc)
        return;
    uint64_t n0 = mono_ns(), t0 = bench_ticks();
    struct timespec pause = {0, 20000000};
    nanosleep(&pause, NULL);
    uint64_t n1 = mono_ns(), t1 = bench_ticks();
    ticks_per_ns = (double)(t1 - t0) / (double)(n1 - n0);
    snprintf(clock_name, sizeof(clock_name), "rdtsc between lfences (%.3f GHz, invariant TSC)",
             ticks_per_ns);
}

double bench_clock_ticks_per_ns(void)
{
    return ticks_per_ns;
}

const char *bench_clock_name(void)
{
    return clock_name;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

#define COST_SAMPLES 100001

void bench_clock_cost(double *median_ns, double *min_ns)
{
    uint64_t *d = malloc(COST_SAMPLES * sizeof(*d));
    if (!d) {
        *median_ns = *min_ns = 0;
        return;
    }
    for (size_t i = 0; i < COST_SAMPLES; i++) {
        uint64_t t0 = bench_ticks();
        d[i] = bench_ticks() - t0;
    }
    qsort(d, COST_SAMPLES, sizeof(*d), cmp_u64);
    *median_ns = (double)d[COST_SAMPLES / 2] / ticks_per_ns;
    *min_ns = (double)d[0] / ticks_per_ns;
    free(d);
}
