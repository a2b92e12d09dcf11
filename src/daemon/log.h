/*
 * log.h - snapconfd's logging: one line per event on stderr, with a level.
 *
 * The daemon runs in the foreground under a supervisor (systemd, a
 * container runtime, a terminal), which collects stderr; there is no log
 * file and no syslog connection.  Each line is written with one write(2),
 * so lines from different threads never interleave.
 *
 * Format: "LEVEL snapconfd: MESSAGE", LEVEL being error, warning, info or
 * debug.  When stderr is connected to the journal (systemd sets
 * $JOURNAL_STREAM to its device and inode), the line starts instead with
 * the sd-daemon priority prefix "<N>" (3 error, 4 warning, 6 info,
 * 7 debug), which journald turns into the entry's priority.
 */
#ifndef SNAPCONFD_LOG_H
#define SNAPCONFD_LOG_H

#include <stdbool.h>

#include <snapconf.h>

/* Sets the most verbose level written (default SNAPCONF_LOG_INFO) and
 * looks at $JOURNAL_STREAM.  Call once, before any thread starts. */
void dlog_init(snapconf_log_level max_level);

/*
 * Starts the log thread: from now on lines are buffered and written by it,
 * so that a slow stderr never blocks the caller.  Call after the signals
 * are blocked (the thread inherits the mask).  Returns 0 or a negative
 * errno; without the thread, lines are written directly.
 */
int dlog_start(void);

/* Writes what is buffered (waiting at most 2 s for a blocked stderr) and
 * stops the thread; later lines are written directly. */
void dlog_stop(void);

/* Whether a message at level would be written. */
bool dlog_enabled(snapconf_log_level level);

/* Writes one line at level.  Any thread. */
void dlog(snapconf_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The library's log callback (snapconf_options.log): passes message on. */
void dlog_library(void *userdata, snapconf_log_level level, const char *message);

/* Parses "error", "warning", "info" or "debug"; false for anything else. */
bool dlog_parse_level(const char *text, snapconf_log_level *out);

#endif /* SNAPCONFD_LOG_H */
