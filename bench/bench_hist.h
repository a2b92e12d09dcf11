/*
 * bench_hist.h - a log-linear latency histogram, cheap enough to fill from
 * a reader's hot loop: 32 buckets per power of two (about 3% resolution),
 * exact below 32 ticks, any 64-bit value, no allocation after init.
 */
#ifndef SNAPCONF_BENCH_HIST_H
#define SNAPCONF_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_HIST_SUB 32u /* buckets per power of two */
#define BENCH_HIST_BUCKETS (BENCH_HIST_SUB + 59u * BENCH_HIST_SUB)

typedef struct bench_hist {
    uint64_t count;
    uint64_t max;
    uint64_t bucket[BENCH_HIST_BUCKETS];
} bench_hist;

static inline unsigned bench_hist_index(uint64_t v)
{
    if (v < BENCH_HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
    unsigned shift = e - 5u;
    return BENCH_HIST_SUB + shift * BENCH_HIST_SUB + (unsigned)((v >> shift) - BENCH_HIST_SUB);
}

static inline void bench_hist_add(bench_hist *h, uint64_t v)
{
    h->bucket[bench_hist_index(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

/* Adds every sample of from to into. */
void bench_hist_merge(bench_hist *into, const bench_hist *from);

/* The value at percentile p (0-100, nearest rank) as the midpoint of its
 * bucket, in the units added; 0 for an empty histogram. */
double bench_hist_percentile(const bench_hist *h, double p);

#endif /* SNAPCONF_BENCH_HIST_H */
