/*
 * fault.h - fault injection for the fault tests, by interposition in the
 * test executable: nothing in the library knows about it.
 *
 * Allocations.  In a normal build, fault.c defines malloc, calloc, realloc,
 * free and the aligned allocators itself, forwarding to glibc's
 * __libc_malloc and friends; the executable's definitions win over libc's
 * for every caller in the process, so the library, libyaml, liburcu and
 * glibc's own strdup all allocate through them.  Under a sanitizer, whose
 * runtime owns malloc, fault.c instead provides __wrap_malloc and friends
 * and the test is linked with -Wl,--wrap=malloc,...: that catches the
 * calls made by the library's own objects (linked from the static library)
 * but not libyaml's (a shared library).  fault_alloc_mechanism() says which
 * one a program was built with.
 *
 * System calls.  open, fstat and read (of the config file and of inotify
 * descriptors), inotify_init1 and pthread_create are always wrapped with
 * -Wl,--wrap, so only the library's calls (and the test's own, which pass
 * through untouched while nothing is armed) are seen.
 *
 * Every injection is armed, fires at most once, and is disarmed by the test,
 * which learns whether it fired.
 */
#ifndef SNAPCONF_TESTS_FAULT_H
#define SNAPCONF_TESTS_FAULT_H

#include <stdbool.h>
#include <stddef.h>

/* ------------------------------------------------------------------------- */
/* Allocations                                                                */

enum fault_scope {
    FAULT_THIS_THREAD, /* count only the arming thread's allocations */
    FAULT_ANY_THREAD,  /* count every thread's */
};

/* Makes the nth allocation (1-based, counted from now, in scope) fail with
 * ENOMEM; only that one: later allocations succeed again. */
void fault_alloc_arm(unsigned long nth, enum fault_scope scope);

/* Stops counting; returns true when the armed failure happened. */
bool fault_alloc_disarm(void);

/* Allocations counted since the last fault_alloc_arm(). */
unsigned long fault_alloc_seen(void);

/* Blocks handed out minus blocks freed, process-wide, as far as the
 * mechanism sees them.  Equal before and after an operation: no leak. */
long fault_alloc_live(void);

/* "interposition" or "--wrap". */
const char *fault_alloc_mechanism(void);

/* True when libyaml's own allocations are seen (interposition only). */
bool fault_alloc_sees_libyaml(void);

/* ------------------------------------------------------------------------- */
/* Reading the config file                                                    */

enum fault_io {
    FAULT_OPEN_ERRNO,     /* open() of the path fails with arg as errno */
    FAULT_FSTAT_ERRNO,    /* fstat() of its descriptor fails with arg as errno */
    FAULT_FSTAT_TRUNCATE, /* after the real fstat(), the file is truncated to arg bytes */
    FAULT_FSTAT_UNLINK,   /* after the real fstat(), the file is unlinked */
    FAULT_READ_ERRNO,     /* the first read() fails with arg as errno */
    FAULT_READ_EOF_AFTER, /* read() reports end of file after arg bytes */
    FAULT_READ_EINTR,     /* the first read() is interrupted (EINTR), once */
};

/* Arms one fault for the next read-only open() of path and its descriptor. */
void fault_io_arm(const char *path, enum fault_io kind, long arg);

/* Disarms; returns true when the fault happened. */
bool fault_io_disarm(void);

/* ------------------------------------------------------------------------- */
/* inotify                                                                    */

/* From now on, every read() of an inotify descriptor drains what the kernel
 * queued, throws it away and reports EAGAIN: those events are lost, as the
 * events that do not fit a full queue are. */
void fault_inotify_drop_arm(void);

/* The next read() of an inotify descriptor drains the queue (lost too) and
 * returns a single IN_Q_OVERFLOW event, as the kernel does once its queue
 * has room again; reads are real after that. */
void fault_inotify_overflow_arm(void);

/* Back to real reads.  Returns the number of real events thrown away;
 * *delivered (may be NULL) says whether the overflow event was read. */
size_t fault_inotify_disarm(bool *delivered);

/* Real events thrown away since the last arming. */
size_t fault_inotify_dropped(void);

/* The next inotify_init1() fails with errno e (e.g. EMFILE). */
void fault_inotify_init_arm(int e);
bool fault_inotify_init_disarm(void);

/* ------------------------------------------------------------------------- */
/* Threads                                                                    */

/* The nth pthread_create() from now (1-based) fails, returning e. */
void fault_thread_arm(unsigned nth, int e);

/* Disarms; returns true when the failure happened. */
bool fault_thread_disarm(void);

/* pthread_create() calls since the last fault_thread_arm(). */
unsigned fault_thread_seen(void);

/* ------------------------------------------------------------------------- */
/* Process resources                                                          */

/* Open file descriptors and threads of this process (/proc/self). */
int fault_count_fds(void);
int fault_count_threads(void);

/* Waits up to timeout_ms for the thread count to come down to n (a joined
 * thread can linger in /proc for a moment); returns the count last seen. */
int fault_wait_threads(int n, int timeout_ms);

#endif
