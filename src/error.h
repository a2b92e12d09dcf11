/* Filling snapconf_error: the one place that formats positions into messages. */
#ifndef SNAPCONF_ERROR_INT_H
#define SNAPCONF_ERROR_INT_H

#include "snapconf.h"

/*
 * Records a failure in err (when err is not NULL) and returns code, so that
 * callers can write `return snapconf__error(...)`.  The message becomes
 * "file:line:column: text" (or "file: text" when line is 0, or just the text
 * when file is NULL or empty).
 */
int snapconf__error(snapconf_error *err, int code, const char *file, unsigned line, unsigned column,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* As snapconf__error(), for an operating-system failure with errno sys. */
int snapconf__error_sys(snapconf_error *err, int sys, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Writes at most max bytes of s into out (size outsize) as a readable quoted
 * excerpt for messages: control characters escaped, cut with "..." when
 * longer.  Returns out.
 */
char *snapconf__excerpt(char *out, size_t outsize, const char *s, size_t len, size_t max);

#endif
