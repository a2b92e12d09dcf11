/*
 * The watcher: notices that the file behind a handle, or a file in one of
 * its drop-in directories, may have changed and calls the publication
 * layer's reload after a quiet period.  inotify on the directories along
 * the paths' symlink chains and in the drop-in directories, or
 * stat-and-hash polling.
 */
#ifndef SNAPCONF_WATCH_H
#define SNAPCONF_WATCH_H

#include "publish.h"

/* Starts watching as h->opts.watch says (a thread, external, or nothing). */
int snapconf__watch_start(snapconf *h, snapconf_error *err);

/* Stops the thread, if any, and frees the watcher.  Safe when not started. */
void snapconf__watch_stop(snapconf *h);

/* See snapconf_fd() and snapconf_process(). */
int snapconf__watch_fd(const snapconf *h);
int snapconf__watch_process(snapconf *h);

#endif
