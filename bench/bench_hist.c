/*
 * bench_hist.c - merging and reading latency histograms.
 */
#include "bench_hist.h"

#include <math.h>

void bench_hist_merge(bench_hist *into, const bench_hist *from)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    if (from->max > into->max)
        into->max = from->max;
}

/* The smallest value of bucket i and the bucket's width. */
static void bucket_range(unsigned i, double *low, double *width)
{
    if (i < BENCH_HIST_SUB) {
        *low = i;
        *width = 1;
        return;
    }
    unsigned shift = (i - BENCH_HIST_SUB) / BENCH_HIST_SUB;
    unsigned sub = (i - BENCH_HIST_SUB) % BENCH_HIST_SUB;
    *width = ldexp(1.0, (int)shift);
    *low = (double)(BENCH_HIST_SUB + sub) * *width;
}

double bench_hist_percentile(const bench_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    rank = rank == 0 ? 1 : rank;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen < rank)
            continue;
        double low, width;
        bucket_range(i, &low, &width);
        double mid = low + (width - 1) / 2;
        return mid > (double)h->max ? (double)h->max : mid;
    }
    return (double)h->max;
}
