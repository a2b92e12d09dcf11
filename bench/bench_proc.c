/*
 * bench_proc.c - running and timing commands, and running snapconfd.
 */
#include "bench_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DAEMON_STOP_MS 5000

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int exit_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    return WIFSIGNALED(wstatus) ? 128 + WTERMSIG(wstatus) : -1;
}

static void trim_newlines(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* One captured stream: keeps the first bytes, reads and drops the rest so
 * that a chatty child never blocks on a full pipe. */
typedef struct capture {
    int fd;
    char *buf;
    size_t size, len;
} capture;

/* Reads what is there; returns false at end of file or on an error. */
static bool capture_read(capture *c)
{
    char scratch[4096];
    ssize_t n = read(c->fd, scratch, sizeof(scratch));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    size_t room = c->size - 1 - c->len, take = (size_t)n < room ? (size_t)n : room;
    memcpy(c->buf + c->len, scratch, take);
    c->len += take;
    c->buf[c->len] = '\0';
    return true;
}

/* Reads both pipes until both are closed or the deadline passes. */
static bool capture_until(capture *cs, size_t n, uint64_t deadline)
{
    size_t open = n;
    while (open > 0) {
        uint64_t now = mono_ns();
        if (now >= deadline)
            return false;
        struct pollfd p[2];
        for (size_t i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = cs[i].fd, .events = POLLIN};
        int ms = (int)((deadline - now) / 1000000u) + 1;
        if (poll(p, (nfds_t)n, ms) < 0 && errno != EINTR)
            return false;
        for (size_t i = 0; i < n; i++) {
            if (cs[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!capture_read(&cs[i])) {
                close(cs[i].fd);
                cs[i].fd = -1; /* poll() ignores negative descriptors */
                open--;
            }
        }
    }
    return true;
}

static int spawn_piped(char *const argv[], int out[2], int err[2], pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return ENOMEM;
    /* The pipes are close-on-exec; dup2() gives the child inheritable
     * copies, so it holds no other end and end of file comes when it exits. */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    int rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int proc_run(char *const argv[], int timeout_ms, proc_result *res)
{
    memset(res, 0, sizeof(*res));
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(err, O_CLOEXEC) != 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    pid_t pid;
    uint64_t t0 = mono_ns();
    int rc = spawn_piped(argv, out, err, &pid);
    close(out[1]);
    close(err[1]);
    capture cs[2] = {{out[0], res->out, sizeof(res->out), 0},
                     {err[0], res->err, sizeof(res->err), 0}};
    if (rc != 0) {
        /* glibc reports a failed exec here, not as an exit code. */
        close(out[0]);
        close(err[0]);
        res->spawn_error = true;
        res->status = rc;
        return 0;
    }
    if (!capture_until(cs, 2, t0 + (uint64_t)timeout_ms * 1000000u)) {
        kill(pid, SIGKILL);
        res->timed_out = true;
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    res->ns = mono_ns() - t0;
    res->status = exit_code(wstatus);
    for (size_t i = 0; i < 2; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    trim_newlines(res->out);
    trim_newlines(res->err);
    return 0;
}

bool proc_executable(const char *path)
{
    if (strchr(path, '/'))
        return access(path, X_OK) == 0;
    const char *env = getenv("PATH");
    char dirs[4096], full[4096];
    snprintf(dirs, sizeof(dirs), "%s", env ? env : "/usr/bin:/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (snprintf(full, sizeof(full), "%s/%s", d, path) < (int)sizeof(full) &&
            access(full, X_OK) == 0)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------
 * snapconfd
 * ------------------------------------------------------------------------- */

/* In the child, between fork() and exec: only async-signal-safe calls. */
static void daemon_child(pid_t parent, const char *snapconfd, const char *config,
                         const char *socket, int logfd)
{
    /* If the benchmark dies, even by SIGKILL, the daemon goes with it; the
     * getppid() check closes the race with a parent that died already. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
        _exit(127);
    char *argv[] = {(char *)snapconfd, "--config",    (char *)config, "--socket", (char *)socket,
                    "--foreground",    "--log-level", "warning",      NULL};
    execv(snapconfd, argv);
    _exit(127);
}

int daemon_start(daemon_proc *d, const char *snapconfd, const char *config, const char *socket,
                 const char *log_path)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->log, sizeof(d->log), "%s", log_path);
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        fprintf(stderr, "snapconf-bench-daemon: cannot create %s: %s\n", log_path, strerror(errno));
        return -1;
    }
    /* fork, not posix_spawn: the child must set its parent-death signal. */
    pid_t parent = getpid(), pid = fork();
    if (pid == 0)
        daemon_child(parent, snapconfd, config, socket, logfd);
    close(logfd);
    if (pid < 0) {
        fprintf(stderr, "snapconf-bench-daemon: fork: %s\n", strerror(errno));
        return -1;
    }
    d->pid = pid;
    return 0;
}

bool daemon_alive(daemon_proc *d)
{
    if (d->pid <= 0)
        return false;
    int wstatus;
    if (waitpid(d->pid, &wstatus, WNOHANG) == 0)
        return true;
    fprintf(stderr, "snapconf-bench-daemon: snapconfd (pid %d) exited with status %d\n",
            (int)d->pid, exit_code(wstatus));
    d->pid = 0;
    return false;
}

/* Waits up to ms for the child; returns its status, or -2 if still running. */
static int reap_within(pid_t pid, int ms)
{
    for (int waited = 0; waited <= ms; waited += 10) {
        int wstatus;
        pid_t r = waitpid(pid, &wstatus, WNOHANG);
        if (r == pid)
            return exit_code(wstatus);
        if (r < 0 && errno != EINTR)
            return -1;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -2;
}

int daemon_stop(daemon_proc *d)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, SIGTERM);
    int status = reap_within(d->pid, DAEMON_STOP_MS);
    if (status == -2) {
        fprintf(stderr, "snapconf-bench-daemon: snapconfd ignored SIGTERM for %d ms; killing it\n",
                DAEMON_STOP_MS);
        kill(d->pid, SIGKILL);
        status = reap_within(d->pid, DAEMON_STOP_MS);
    }
    d->pid = 0;
    return status;
}

void daemon_dump_log(const daemon_proc *d)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return;
    char buf[4096];
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > (long)sizeof(buf))
        fseek(f, -(long)sizeof(buf), SEEK_END);
    else
        rewind(f);
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    fprintf(stderr, "--- snapconfd log (%s) ---\n%.*s--- end of log ---\n", d->log, (int)n, buf);
}

size_t daemon_log_lines(const daemon_proc *d)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return 0;
    size_t lines = 0;
    int c;
    while ((c = getc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}
