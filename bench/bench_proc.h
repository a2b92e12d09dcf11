/*
 * bench_proc.h - child processes for snapconf-bench-daemon: commands run
 * and timed with their output captured, and the snapconfd it measures.
 */
#ifndef SNAPCONF_BENCH_PROC_H
#define SNAPCONF_BENCH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What one run of a command gave. */
typedef struct proc_result {
    uint64_t ns;      /* from before the spawn to after the child is reaped */
    int status;       /* exit code, or 128 + signal */
    bool timed_out;   /* killed after the time limit */
    char out[256];    /* the first bytes of stdout, trailing newlines cut */
    char err[256];    /* the first bytes of stderr, trailing newlines cut */
    bool spawn_error; /* the command could not be started at all (errno in status) */
} proc_result;

/*
 * Runs argv[0] (a path, or a name looked up in PATH) with stdin from
 * /dev/null and stdout and stderr captured, and waits for it, killing it
 * after timeout_ms.  The environment is the caller's.  Returns 0 when the
 * child ran (whatever its exit code), -1 when it could not be set up.
 */
int proc_run(char *const argv[], int timeout_ms, proc_result *res);

/* Whether path names an executable file (a name without '/' is looked up
 * in PATH). */
bool proc_executable(const char *path);

/* A running snapconfd. */
typedef struct daemon_proc {
    pid_t pid; /* 0 when none */
    char log[4096];
} daemon_proc;

/*
 * Starts snapconfd --config config --socket socket --foreground
 * --log-level warning, its stdout and stderr going to log_path.  The child
 * asks the kernel for SIGTERM when this process dies, so that even a crash
 * of the benchmark does not leave it behind.  Returns 0 or -1 (message
 * printed).
 */
int daemon_start(daemon_proc *d, const char *snapconfd, const char *config, const char *socket,
                 const char *log_path);

/* Whether the daemon is still running; reaps it (and says so) if not. */
bool daemon_alive(daemon_proc *d);

/*
 * Stops the daemon: SIGTERM, up to 5 s for it to exit, then SIGKILL.
 * Safe to call with no daemon.  Returns its exit status (0 is a clean stop
 * on SIGTERM), 128 + signal if it died of one, or -1 when there was none.
 */
int daemon_stop(daemon_proc *d);

/* Prints the daemon's log (its last 4 KiB) to stderr, for failure reports. */
void daemon_dump_log(const daemon_proc *d);

/* Lines in the daemon's log: it runs at --log-level warning, so each one is
 * something that went wrong. */
size_t daemon_log_lines(const daemon_proc *d);

#endif /* SNAPCONF_BENCH_PROC_H */
