/*
 * Publication: the live handle's current snapshot, its RCU read side, and
 * the single writer that replaces it.  The watcher (watch.c) sits on top and
 * calls snapconf__reload(); nothing here knows about files changing.
 */
#ifndef SNAPCONF_PUBLISH_H
#define SNAPCONF_PUBLISH_H

#include "reclaim.h"
#include "snapconf.h"

#include <pthread.h>
#include <stdbool.h>

struct snapconf__watch;
struct snapconf__sub;

struct snapconf {
    snapconf_snap *current; /* RCU-protected: read with rcu_dereference */
    char *path;             /* absolute */
    snapconf_options opts;  /* its dropin_dirs, env_prefix and state_file point into
                               the handle's own copies below */

    /* Layers (layer.h).  The drop-in directories, absolute, NULL-terminated;
     * NULL when there are none.  Fixed at open. */
    char **dropin_dirs;
    size_t ndropin_dirs;
    char *env_prefix;
    char *state_file;
    /* Writer only: the file layers the published snapshot was merged from
     * (NULL while the handle publishes its main file's snapshot as is), and
     * the runtime overrides, oldest first. */
    struct snapconf__layer_set *files;
    struct snapconf__layer **overrides;
    size_t noverrides;

    pthread_mutex_t writer; /* one reload at a time */
    uint64_t generation;    /* of the last publication; writer only */

    pthread_mutex_t status_lock; /* guards status */
    snapconf_status_info status;

    pthread_mutex_t subs_lock; /* guards subs; held while callbacks run */
    struct snapconf__sub *subs;
    size_t nsubs, subs_cap;
    int next_sub_id;

    struct snapconf__watch *watch;
    struct snapconf__reclaim reclaim;
};

/* Sets up the publication side of a handle (no snapshot yet). */
int snapconf__publish_init(snapconf *h, const char *path, const snapconf_options *opts,
                           snapconf_error *err);

/* Unpublishes and frees the current snapshot, after a grace period, and
 * everything publish_init set up. */
void snapconf__publish_fini(snapconf *h);

/* Publishes snap (taking ownership) without reading any file: the first
 * load, or an empty snapshot for a missing file. */
void snapconf__publish_initial(snapconf *h, snapconf_snap *snap);

/* Runs the user's validator, if any, on a candidate; fills e on rejection. */
int snapconf__validate(snapconf *h, const snapconf_snap *next, snapconf_error *e);

/* A writer's work, run by snapconf__write() with the writer lock held:
 * builds and publishes (snapconf__publish()) or fails, filling e. */
typedef int (*snapconf__write_fn)(snapconf *h, void *arg, snapconf_error *e);

/* What a write is, for the status: a reload's failure is a failed reload
 * (status, on_reload); a refused runtime change is only its caller's error. */
enum snapconf__write_kind { SNAPCONF__WRITE_RELOAD, SNAPCONF__WRITE_OVERRIDE };

/* Runs fn as the handle's one writer: serialized with every other writer;
 * a reload's failure recorded in the status; on_reload told of every
 * reload attempt and of every publication. */
int snapconf__write(snapconf *h, enum snapconf__write_kind kind, snapconf__write_fn fn, void *arg,
                    snapconf_error *err);

/* SNAPCONF_EINVAL or SNAPCONF_EDEADLK (err saying why, what naming the
 * caller) when this thread must not write to h now; else 0. */
int snapconf__writer_check(snapconf *h, const char *what, snapconf_error *err);

/* Swaps snap in (taking it), tells subscribers, retires the old snapshot.
 * Writer lock held.  Fails, keeping snap the caller's, only when out of
 * memory for the changes. */
int snapconf__publish(snapconf *h, snapconf_snap *snap, snapconf_error *e);

/* Records a reload that found nothing new.  Writer lock held. */
void snapconf__record_unchanged(snapconf *h);

/* The writer path (reload.c): read, build, validate, publish, notify,
 * reclaim. */
int snapconf__reload(snapconf *h, snapconf_error *err);

/* Records the watcher's mode in the status. */
void snapconf__status_watch(snapconf *h, snapconf_watch_state state, const char *note);

/* Formats and passes a line to the host's log callback, if any. */
void snapconf__log(snapconf *h, snapconf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
