/*
 * metrics.h - the Prometheus text of GET /metrics.
 *
 * Counters and gauges that the library already keeps (reloads, failures,
 * generation, times) are read from snapconf_status() at scrape time, so
 * /metrics and /v1/status never disagree.  What the library does not keep
 * lives here: the reload duration histogram, fed by the on_reload report,
 * and the number of keys of the published snapshot, counted once per
 * publication rather than per scrape.
 */
#ifndef SNAPCONFD_METRICS_H
#define SNAPCONFD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <snapconf.h>

struct metrics;

/* NULL when out of memory. */
struct metrics *metrics_new(void);

/* NULL is ignored. */
void metrics_free(struct metrics *m);

/* Records one reload attempt (the on_reload report).  When it published,
 * also counts the keys of h's new snapshot.  Writer's thread. */
void metrics_on_reload(struct metrics *m, snapconf *h, const snapconf_reload_report *report);

/* Counts the keys of snap and remembers them for its generation (for the
 * first load, which has no report). */
void metrics_count_snapshot(struct metrics *m, const snapconf_snap *snap);

/* Number of mapping entries in the tree under node, every alias and merge
 * expansion included. */
size_t metrics_count_keys(const snapconf_node *node);

/*
 * The exposition text, for the pinned snapshot snap, the handle's status
 * st and the number of open watch streams.  malloc'd, length in *len; NULL
 * when out of memory.
 */
char *metrics_render(struct metrics *m, const snapconf_snap *snap, const snapconf_status_info *st,
                     unsigned watchers, size_t *len);

#endif /* SNAPCONFD_METRICS_H */
