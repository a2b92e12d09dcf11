/*
 * Crashing the state file's writer: a child process saves list B over list
 * A and is killed with SIGKILL right after each system call of the atomic
 * write (temporary file created, written, fsync'd, closed, renamed over,
 * directory opened, fsync'd).  Whatever step the kill lands on, the state
 * file must then hold exactly A (killed before the rename) or exactly B
 * (after it), never an error or a mix, and the next save must succeed.
 *
 * The calls are intercepted with -Wl,--wrap in this program only (the
 * library is linked statically), counting only while the child is armed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"

static int armed_step = -1; /* kill after this many intercepted calls */
static int calls;

static void step_done(void)
{
    if (armed_step >= 0 && ++calls == armed_step)
        raise(SIGKILL);
}

int __real_mkostemp(char *tmpl, int flags);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_close(int fd);
int __real_rename(const char *from, const char *to);
int __real_open(const char *path, int flags, ...);

int __wrap_mkostemp(char *tmpl, int flags);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_close(int fd);
int __wrap_rename(const char *from, const char *to);
int __wrap_open(const char *path, int flags, ...);

int __wrap_mkostemp(char *tmpl, int flags)
{
    int fd = __real_mkostemp(tmpl, flags);
    step_done();
    return fd;
}

/* Writes one byte at a time while armed, so a kill can land mid-file. */
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    ssize_t r = __real_write(fd, buf, armed_step >= 0 && n > 1 ? 1 : n);
    step_done();
    return r;
}

int __wrap_fsync(int fd)
{
    int r = __real_fsync(fd);
    step_done();
    return r;
}

int __wrap_close(int fd)
{
    int r = __real_close(fd);
    step_done();
    return r;
}

int __wrap_rename(const char *from, const char *to)
{
    int r = __real_rename(from, to);
    step_done();
    return r;
}

int __wrap_open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & O_CREAT) ? (mode_t)va_arg(ap, int) : 0;
    va_end(ap);
    int fd = __real_open(path, flags, mode);
    step_done();
    return fd;
}

/* ------------------------------------------------------------------------- */

static char dir[64], file[128];

static struct snapconf__override list_a[] = {
    {false, "server.port", "8080"},
    {true, "feature.old", NULL},
};
static struct snapconf__override list_b[] = {
    {false, "server.port", "9090"},
    {false, "server.name", "a longer value, so that the file grows: \"quoted\"\nand two lines"},
    {true, "feature.beta", NULL},
};

static void expect_list(const struct snapconf__override *want, size_t n,
                        const struct snapconf__override *got, size_t m, int step)
{
    if (m != n)
        fail_msg("step %d: %zu overrides read back, wanted %zu", step, m, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i].unset, want[i].unset);
        assert_string_equal(got[i].path, want[i].path);
        if (!want[i].unset)
            assert_string_equal(got[i].value, want[i].value);
    }
}

/* Runs the save of B in a child killed after `step` calls; returns true
 * when the child was killed (false: it finished before that step). */
static bool crash_at(int step)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        calls = 0;
        armed_step = step;
        snapconf_error err;
        _exit(snapconf__state_save(file, list_b, 3, &err) == 0 ? 0 : 3);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        assert_int_equal(WTERMSIG(status), SIGKILL);
        return true;
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return false;
}

static void remove_temporaries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, ".overrides.yaml.", 16) == 0) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            assert_int_equal(unlink(p), 0);
        }
    }
    closedir(d);
}

static void kill_at_every_step(void **state)
{
    (void)state;
    snapconf_error err;
    int steps = 0, seen_a = 0, seen_b = 0;
    for (int step = 1; step < 100000; step++) {
        assert_int_equal(snapconf__state_save(file, list_a, 2, &err), 0);
        bool killed = crash_at(step);
        struct snapconf__override *got = NULL;
        size_t m = 0;
        int rc = snapconf__state_load(file, NULL, &got, &m, &err);
        if (rc != 0)
            fail_msg("step %d: the state file does not load: %s", step, err.message);
        /* Old or new, whole: which one is told by its first value. */
        bool is_b = m && strcmp(got[0].value, "9090") == 0;
        if (is_b)
            expect_list(list_b, 3, got, m, step);
        else
            expect_list(list_a, 2, got, m, step);
        seen_a += !is_b;
        seen_b += is_b;
        snapconf__overrides_free(got, m);
        /* A stale temporary file does not stop the next save. */
        assert_int_equal(snapconf__state_save(file, list_b, 3, &err), 0);
        remove_temporaries();
        if (!killed) {
            steps = step - 1;
            assert_true(is_b);
            break;
        }
    }
    print_message("    killed the writer at each of %d steps: old file %d times, new file %d "
                  "times, never torn\n",
                  steps, seen_a, seen_b);
    assert_true(steps >= 7);
    assert_true(seen_a >= 1 && seen_b >= 1);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/snapconf-crash-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(file, sizeof file, "%s/overrides.yaml", dir);
    const struct CMUnitTest tests[] = {cmocka_unit_test(kill_at_every_step)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(file);
    rmdir(dir);
    return rc;
}
