/*
 * bench_clock.h - a low-overhead clock for sampling single reads.
 *
 * A read takes tens of nanoseconds, so the clock around it must cost about
 * as little: on x86 with an invariant TSC (constant_tsc and nonstop_tsc in
 * /proc/cpuinfo) that is rdtsc fenced on both sides, so that the read
 * neither starts before the first stamp nor ends after the second; anywhere
 * else clock_gettime(CLOCK_MONOTONIC), which the vDSO serves without a
 * system call.  bench_clock_init() decides once and calibrates ticks per
 * nanosecond against CLOCK_MONOTONIC; bench_clock_cost() measures what an
 * empty timed interval costs, which callers subtract and report.
 */
#ifndef SNAPCONF_BENCH_CLOCK_H
#define SNAPCONF_BENCH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Set by bench_clock_init(): whether bench_ticks() reads the TSC. */
extern bool bench_clock_tsc;

static inline uint64_t bench_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (bench_clock_tsc) {
        uint32_t lo, hi;
        __asm__ __volatile__("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
        return ((uint64_t)hi << 32) | lo;
    }
#endif
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Chooses the clock and calibrates it (about 20 ms).  Call once, before
 * any thread samples. */
void bench_clock_init(void);

/* Ticks per nanosecond (1 for clock_gettime). */
double bench_clock_ticks_per_ns(void);

/* "rdtsc (2.45 GHz, invariant)" or "clock_gettime(CLOCK_MONOTONIC)". */
const char *bench_clock_name(void);

/* The cost of an empty timed interval (two back-to-back stamps), in ns:
 * the median and the minimum of many. */
void bench_clock_cost(double *median_ns, double *min_ns);

#endif /* SNAPCONF_BENCH_CLOCK_H */
