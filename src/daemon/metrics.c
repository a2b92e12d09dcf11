/*
 * metrics.c - Prometheus text exposition (format 0.0.4), see metrics.h.
 */
#include "metrics.h"

#include "jsonw.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Upper bounds of the reload duration buckets, in seconds: a small
 * configuration reloads in tens of microseconds, a huge one in seconds. */
static const double bucket_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
#define N_BUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct metrics {
    pthread_mutex_t lock;
    uint64_t buckets[N_BUCKETS]; /* not cumulative; summed when rendered */
    uint64_t count;
    double sum;
    uint64_t keys_generation;
    size_t keys;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));

    if (m != NULL)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

size_t metrics_count_keys(const snapconf_node *node)
{
    snapconf_type type = snapconf_node_type(node);
    size_t n, keys = 0;

    if (type != SNAPCONF_TYPE_MAP && type != SNAPCONF_TYPE_SEQ)
        return 0;
    n = snapconf_node_size(node);
    if (type == SNAPCONF_TYPE_MAP)
        keys += n;
    /* Recursion is bounded by the loader's depth limit. */
    for (size_t i = 0; i < n; i++) {
        const snapconf_node *child = snapconf_node_at(node, i);
        if (child != NULL)
            keys += metrics_count_keys(child);
    }
    return keys;
}

void metrics_count_snapshot(struct metrics *m, const snapconf_snap *snap)
{
    size_t keys = metrics_count_keys(snapconf_snap_root(snap));
    uint64_t generation = snapconf_snap_generation(snap);

    pthread_mutex_lock(&m->lock);
    if (generation >= m->keys_generation) {
        m->keys_generation = generation;
        m->keys = keys;
    }
    pthread_mutex_unlock(&m->lock);
}

void metrics_on_reload(struct metrics *m, snapconf *h, const snapconf_reload_report *report)
{
    double seconds = (double)report->duration_ns / 1e9;
    size_t i;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < N_BUCKETS && seconds > bucket_bounds[i]; i++)
        ;
    if (i < N_BUCKETS)
        m->buckets[i]++;
    m->count++;
    m->sum += seconds;
    pthread_mutex_unlock(&m->lock);

    if (report->published) {
        /* On the writer's thread, the current snapshot is the one just
         * published; reading it is allowed from the callback. */
        const snapconf_snap *snap = snapconf_snap_begin(h);
        metrics_count_snapshot(m, snap);
        snapconf_snap_end(h, snap);
    }
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *metrics_render(struct metrics *m, const snapconf_snap *snap, const snapconf_status_info *st,
                     unsigned watchers, size_t *len)
{
    struct jsonw_buf b;
    uint64_t buckets[N_BUCKETS], count, cumulative = 0;
    double sum;
    size_t keys;

    if (!jsonw_buf_open(&b))
        return NULL;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < N_BUCKETS; i++)
        buckets[i] = m->buckets[i];
    count = m->count;
    sum = m->sum;
    keys = m->keys;
    pthread_mutex_unlock(&m->lock);

    FILE *f = b.f;
    family(f, "snapconf_reloads_total", "counter",
           "Reloads that published a new generation (the first load not included).");
    fprintf(f, "snapconf_reloads_total %" PRIu64 "\n", st->reloads);
    family(f, "snapconf_reload_failures_total", "counter",
           "Reload attempts that failed; the previous generation kept serving.");
    fprintf(f, "snapconf_reload_failures_total %" PRIu64 "\n", st->failed_reloads);
    family(f, "snapconf_generation", "gauge", "Generation of the published snapshot.");
    fprintf(f, "snapconf_generation %" PRIu64 "\n", snapconf_snap_generation(snap));
    family(f, "snapconf_last_reload_success_timestamp_seconds", "gauge",
           "Time of the last successful load (Unix seconds).");
    fprintf(f, "snapconf_last_reload_success_timestamp_seconds %.3f\n",
            (double)st->last_load_time_ns / 1e9);
    family(f, "snapconf_last_reload_successful", "gauge",
           "Whether the last reload attempt succeeded (1) or failed (0).");
    fprintf(f, "snapconf_last_reload_successful %d\n", st->last_reload_ok ? 1 : 0);
    family(f, "snapconf_reload_duration_seconds", "histogram",
           "Duration of reload attempts: reading, building, validating, publishing.");
    for (size_t i = 0; i < N_BUCKETS; i++) {
        cumulative += buckets[i];
        fprintf(f, "snapconf_reload_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                bucket_bounds[i], cumulative);
    }
    fprintf(f, "snapconf_reload_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", count);
    fprintf(f, "snapconf_reload_duration_seconds_sum %.9g\n", sum);
    fprintf(f, "snapconf_reload_duration_seconds_count %" PRIu64 "\n", count);
    family(f, "snapconf_snapshot_bytes", "gauge", "Memory held by the published snapshot.");
    fprintf(f, "snapconf_snapshot_bytes %zu\n", snapconf_snap_memory(snap));
    family(f, "snapconf_snapshot_keys", "gauge",
           "Mapping entries in the published snapshot, aliases expanded.");
    fprintf(f, "snapconf_snapshot_keys %zu\n", keys);
    family(f, "snapconf_layers", "gauge",
           "Layers merged into the published snapshot: the file, drop-ins, environment "
           "variables, runtime overrides.");
    fprintf(f, "snapconf_layers %zu\n", st->layers);
    family(f, "snapconf_runtime_overrides", "gauge", "Runtime overrides in force.");
    fprintf(f, "snapconf_runtime_overrides %zu\n", st->overrides);
    family(f, "snapconf_watchers", "gauge", "Open /v1/watch streams.");
    fprintf(f, "snapconf_watchers %u\n", watchers);
    return jsonw_buf_close(&b, len);
}
