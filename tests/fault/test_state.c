/*
 * The state file's atomic write under faults (src/state.c):
 *
 *  - crashes: a child saves list B over list A and is killed with SIGKILL
 *    right after each system call of the write (temporary file created,
 *    its mode set, each write, fsync, close, rename, the directory's fsync
 *    and close); the parent then reads exactly A (killed before the rename)
 *    or exactly B (after it), never an error or a mix, finds the temporary
 *    file only between its creation and the rename, and its next save
 *    succeeds and leaves no temporary file behind;
 *  - failures: each system call fails in turn (ENOSPC on write, EIO on
 *    fsync, EXDEV on rename, ...): SNAPCONF_EIO naming the file, the step
 *    and the errno, the old state intact, no temporary file, no leaked
 *    block or descriptor; interrupted and short writes are carried on;
 *  - allocation failures, every N, for the save and the load.
 *
 * The system calls are wrapped here with -Wl,--wrap (see CMakeLists.txt),
 * on top of fault.c's open (the directory) and allocations; a wrapper acts
 * only while armed, around the call under test.
 */
#include "fault_test.h"

#include "state.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------------- */
/* The wrapped system calls                                                   */

enum sc_kind { SC_MKOSTEMP, SC_FCHMOD, SC_WRITE, SC_FSYNC, SC_CLOSE, SC_RENAME, SC_KINDS };
static const char *const sc_names[SC_KINDS] = {"mkostemp", "fchmod", "write",
                                               "fsync",    "close",  "rename"};

#define SC_TRACE_MAX 512

static struct {
    bool armed;
    /* Crashes: SIGKILL right after call number kill_after (1-based). */
    int kill_after;
    int steps;
    enum sc_kind trace[SC_TRACE_MAX];
    /* Failures: call number fail_nth of kind fail_kind fails with
     * fail_errno (a write with 0: it writes nothing and returns 0). */
    enum sc_kind fail_kind;
    int fail_nth, fail_errno, kind_seen;
    bool fired;
    size_t write_cap; /* writes are cut to this many bytes; 0: whole */
    int eintr_writes; /* this many writes are interrupted first */
    int eintr_closes; /* this many closes report EINTR (having closed) */
} sc;

static void sc_arm(void)
{
    memset(&sc, 0, sizeof sc);
    sc.fail_kind = SC_KINDS;
    sc.armed = true;
}

static void sc_step(enum sc_kind kind)
{
    if (sc.steps < SC_TRACE_MAX)
        sc.trace[sc.steps] = kind;
    if (++sc.steps == sc.kill_after)
        raise(SIGKILL);
}

static bool sc_inject(enum sc_kind kind)
{
    if (kind != sc.fail_kind || ++sc.kind_seen != sc.fail_nth)
        return false;
    sc.fired = true;
    return true;
}

int __real_mkostemp(char *tmpl, int flags);
int __real_fchmod(int fd, mode_t mode);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_close(int fd);
int __real_rename(const char *from, const char *to);
int __wrap_mkostemp(char *tmpl, int flags);
int __wrap_fchmod(int fd, mode_t mode);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_close(int fd);
int __wrap_rename(const char *from, const char *to);

int __wrap_mkostemp(char *tmpl, int flags)
{
    if (!sc.armed)
        return __real_mkostemp(tmpl, flags);
    if (sc_inject(SC_MKOSTEMP)) {
        errno = sc.fail_errno;
        return -1;
    }
    int fd = __real_mkostemp(tmpl, flags);
    sc_step(SC_MKOSTEMP);
    return fd;
}

int __wrap_fchmod(int fd, mode_t mode)
{
    if (!sc.armed)
        return __real_fchmod(fd, mode);
    if (sc_inject(SC_FCHMOD)) {
        errno = sc.fail_errno;
        return -1;
    }
    int rc = __real_fchmod(fd, mode);
    sc_step(SC_FCHMOD);
    return rc;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (!sc.armed)
        return __real_write(fd, buf, n);
    if (sc.eintr_writes > 0) {
        sc.eintr_writes--;
        errno = EINTR;
        return -1;
    }
    if (sc_inject(SC_WRITE)) {
        errno = sc.fail_errno;
        return sc.fail_errno ? -1 : 0;
    }
    ssize_t r = __real_write(fd, buf, sc.write_cap && n > sc.write_cap ? sc.write_cap : n);
    sc_step(SC_WRITE);
    return r;
}

int __wrap_fsync(int fd)
{
    if (!sc.armed)
        return __real_fsync(fd);
    if (sc_inject(SC_FSYNC)) {
        errno = sc.fail_errno;
        return -1;
    }
    int rc = __real_fsync(fd);
    sc_step(SC_FSYNC);
    return rc;
}

/* A failed close still releases the descriptor, as Linux's does. */
int __wrap_close(int fd)
{
    if (!sc.armed)
        return __real_close(fd);
    int rc = __real_close(fd);
    if (sc.eintr_closes > 0) {
        sc.eintr_closes--;
        errno = EINTR;
        return -1;
    }
    if (sc_inject(SC_CLOSE)) {
        errno = sc.fail_errno;
        return -1;
    }
    sc_step(SC_CLOSE);
    return rc;
}

int __wrap_rename(const char *from, const char *to)
{
    if (!sc.armed)
        return __real_rename(from, to);
    if (sc_inject(SC_RENAME)) {
        errno = sc.fail_errno;
        return -1;
    }
    int rc = __real_rename(from, to);
    sc_step(SC_RENAME);
    return rc;
}

/* The step number (1-based) of the first call of kind in the trace. */
static int sc_first(enum sc_kind kind)
{
    for (int i = 0; i < sc.steps && i < SC_TRACE_MAX; i++)
        if (sc.trace[i] == kind)
            return i + 1;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Lists and files                                                            */

struct list {
    const struct snapconf__override *ov;
    size_t n;
};

static const struct snapconf__override list_a[] = {
    {false, "server.port", "8080"},
    {true, "feature.old", NULL},
};

static char long_value[1400];

static const struct snapconf__override list_b[] = {
    {false, "server.port", "9090"},
    {false, "server.name", long_value},
    {true, "feature.beta", NULL},
    {false, "labels.\"app.kubernetes.io/name\"", "web \"front\"\n\t\xe2\x9c\x93"},
};

static const struct snapconf__override list_c[] = {{false, "after.crash", "1"}};

#define LIST(a) ((struct list){(a), sizeof(a) / sizeof((a)[0])})
#define NO_LIST ((struct list){NULL, 0})

static void make_long_value(void)
{
    static const char pattern[] = "long value: \"quoted\" \\ text\n";
    for (size_t i = 0; i + 1 < sizeof long_value; i++)
        long_value[i] = pattern[i % (sizeof pattern - 1)];
}

static bool same_list(struct list want, const struct snapconf__override *got, size_t n)
{
    if (n != want.n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct snapconf__override *w = &want.ov[i];
        if (got[i].unset != w->unset || strcmp(got[i].path, w->path) != 0)
            return false;
        if (w->unset ? got[i].value != NULL : strcmp(got[i].value, w->value) != 0)
            return false;
    }
    return true;
}

/* Fails unless the state file loads, as exactly want. */
static void expect_state(const char *what, long n, const char *file, struct list want)
{
    struct snapconf__override *got = NULL;
    size_t count = 0;
    snapconf_error err;
    int rc = snapconf__state_load(file, NULL, &got, &count, &err);
    if (rc != 0)
        fail_msg("%s %ld: the state file does not load: %s", what, n, err.message);
    bool same = same_list(want, got, count);
    snapconf__overrides_free(got, count);
    if (!same)
        fail_msg("%s %ld: the state file holds %zu overrides, not the %zu expected", what, n, count,
                 want.n);
}

static void save_ok(const char *file, struct list l)
{
    snapconf_error err;
    int rc = snapconf__state_save(file, l.ov, l.n, &err);
    if (rc != 0)
        fail_msg("save: %s", err.message);
}

/* The temporary files of dir/state.yaml. */
static int temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, ".state.yaml.", 12) == 0;
    closedir(d);
    return n;
}

static void reset_dir(const struct live_fx *f, struct list a, mode_t mode)
{
    live_rm_rf(f->dir);
    assert_int_equal(mkdir(f->dir, 0700), 0);
    if (!a.ov)
        return;
    save_ok(f->path, a);
    assert_int_equal(chmod(f->path, mode), 0);
}

static int setup(void **state)
{
    int rc = live_setup(state);
    if (rc == 0) {
        struct live_fx *f = *state;
        snprintf(f->path, sizeof f->path, "%s/state.yaml", f->dir);
    }
    make_long_value();
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Crashes                                                                    */

/* Saves B in a child killed right after call number k; fails unless it
 * died of exactly that. */
static void crash_at(const struct live_fx *f, int k)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sc_arm();
        sc.kill_after = k;
        sc.write_cap = 100; /* many writes, so a kill lands mid-file */
        snapconf_error err;
        int rc = snapconf__state_save(f->path, list_b, LIST(list_b).n, &err);
        _exit(rc == 0 ? 10 : 11);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("step %d: the writer was not killed (%s %d)", k,
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* The save's calls, counted in a dry run: returns their number, with the
 * steps of the temporary file's creation and of the rename. */
static int dry_run(const struct live_fx *f, struct list a, mode_t mode, int *made, int *renamed)
{
    reset_dir(f, a, mode);
    sc_arm();
    sc.write_cap = 100;
    snapconf_error err;
    int rc = snapconf__state_save(f->path, list_b, LIST(list_b).n, &err);
    sc.armed = false;
    if (rc != 0)
        fail_msg("dry run: %s", err.message);
    *made = sc_first(SC_MKOSTEMP);
    *renamed = sc_first(SC_RENAME);
    assert_true(*made > 0 && *renamed > *made);
    assert_true(sc.steps < SC_TRACE_MAX);
    return sc.steps;
}

/* One kill: the state is A before the rename and B from it on, the
 * temporary file exists only in between, and the next save cleans up. */
static void check_crash(const struct live_fx *f, struct list a, mode_t mode, int k, int made,
                        int renamed)
{
    reset_dir(f, a, mode);
    crash_at(f, k);
    int temps = temp_files(f->dir);
    if (temps != (k >= made && k < renamed))
        fail_msg("step %d (after %s): %d temporary file(s)", k, sc_names[sc.trace[k - 1]], temps);
    expect_state("killed after step", k, f->path, k < renamed ? a : LIST(list_b));
    struct stat st;
    if (k >= renamed) {
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 0777, a.ov ? mode : 0600);
    }
    save_ok(f->path, LIST(list_c));
    assert_int_equal(temp_files(f->dir), 0);
    expect_state("saved after the kill at step", k, f->path, LIST(list_c));
}

static void crash_every_step(const struct live_fx *f, struct list a, mode_t mode, const char *what)
{
    int made = 0, renamed = 0;
    int steps = dry_run(f, a, mode, &made, &renamed);
    int writes = 0;
    for (int i = 0; i < steps; i++)
        writes += sc.trace[i] == SC_WRITE;
    if (writes < 10)
        fail_msg("only %d writes in %d calls", writes, steps);
    /* The children's calls are counted in their own copies of sc: the
     * parent's keeps the dry run's trace, for the messages. */
    for (int k = 1; k <= steps; k++)
        check_crash(f, a, mode, k, made, renamed);
    print_message("    %s: killed after each of %d calls (%d writes); the old state up to "
                  "call %d, the new one from the rename (call %d) on\n",
                  what, steps, writes, renamed - 1, renamed);
}

static void test_crash_over_existing(void **state)
{
    crash_every_step(*state, LIST(list_a), 0600, "over an existing file");
}

/* The old file's mode is kept, through every step. */
static void test_crash_over_existing_mode(void **state)
{
    crash_every_step(*state, LIST(list_a), 0640, "over a file of mode 0640");
}

/* No state file yet: before the rename there is still none (no overrides). */
static void test_crash_first_save(void **state)
{
    crash_every_step(*state, NO_LIST, 0600, "first save");
}

/* ------------------------------------------------------------------------- */
/* System calls that fail                                                     */

struct sys_fault {
    const char *what;
    enum sc_kind kind; /* SC_KINDS: the directory's open() (fault.c) */
    int nth, sys;
    const char *says;
    bool new_in_place; /* failed after the rename: B is the state */
};

static const struct sys_fault sys_faults[] = {
    {"directory open fails (EMFILE)", SC_KINDS, 1, EMFILE, "cannot open the directory", false},
    {"mkostemp fails (ENOSPC)", SC_MKOSTEMP, 1, ENOSPC, "cannot create a temporary file in", false},
    {"mkostemp fails (EACCES)", SC_MKOSTEMP, 1, EACCES, "cannot create a temporary file in", false},
    {"fchmod fails (EPERM)", SC_FCHMOD, 1, EPERM, "cannot set the mode of", false},
    {"first write fails (ENOSPC)", SC_WRITE, 1, ENOSPC, "cannot write", false},
    {"fifth write fails (ENOSPC), after four short ones", SC_WRITE, 5, ENOSPC, "cannot write",
     false},
    {"write fails (EIO)", SC_WRITE, 3, EIO, "cannot write", false},
    {"write writes nothing", SC_WRITE, 2, 0, "cannot write", false},
    {"fsync fails (EIO)", SC_FSYNC, 1, EIO, "cannot fsync", false},
    {"fsync fails (ENOSPC)", SC_FSYNC, 1, ENOSPC, "cannot fsync", false},
    {"close fails (EIO)", SC_CLOSE, 1, EIO, "cannot close", false},
    {"rename fails (EXDEV)", SC_RENAME, 1, EXDEV, "cannot rename", false},
    {"rename fails (EACCES)", SC_RENAME, 1, EACCES, "cannot rename", false},
    {"directory fsync fails (EIO)", SC_FSYNC, 2, EIO, "cannot fsync the directory", true},
};

/* Arms f's fault; returns whether it fired after the save, which it runs. */
static bool run_with_fault(const struct live_fx *f, const struct sys_fault *fx, int *rc,
                           snapconf_error *err)
{
    sc_arm();
    sc.write_cap = 100;
    sc.fail_kind = fx->kind;
    sc.fail_nth = fx->nth;
    sc.fail_errno = fx->sys;
    if (fx->kind == SC_KINDS)
        fault_io_arm(f->dir, FAULT_OPEN_ERRNO, fx->sys);
    *rc = snapconf__state_save(f->path, list_b, LIST(list_b).n, err);
    sc.armed = false;
    return fx->kind == SC_KINDS ? fault_io_disarm() : sc.fired;
}

static void test_sys_failures(void **state)
{
    struct live_fx *f = *state;
    for (size_t i = 0; i < sizeof sys_faults / sizeof sys_faults[0]; i++) {
        const struct sys_fault *fx = &sys_faults[i];
        reset_dir(f, LIST(list_a), 0640);
        struct fault_resources res = fault_resources_now();
        snapconf_error err;
        fault_poison(&err);
        int rc = 0;
        if (!run_with_fault(f, fx, &rc, &err))
            fail_msg("%s: the fault was never injected", fx->what);
        fault_expect_error(fx->what, 1, rc, SNAPCONF_EIO, &err, f->path, fx->says);
        int sys = fx->sys ? fx->sys : EIO;
        if (err.sys_errno != sys || !strstr(err.message, strerror(sys)))
            fail_msg("%s: sys_errno %d, wanted %d (%s): %s", fx->what, err.sys_errno, sys,
                     strerror(sys), err.message);
        fault_expect_resources(fx->what, 1, &res);
        assert_int_equal(temp_files(f->dir), 0);
        expect_state(fx->what, 1, f->path, fx->new_in_place ? LIST(list_b) : LIST(list_a));
        save_ok(f->path, LIST(list_c));
        expect_state(fx->what, 2, f->path, LIST(list_c));
    }
}

/* Interrupted writes and short writes are carried on; an interrupted
 * close (the descriptor is gone all the same on Linux) and a directory
 * that cannot be synced (EINVAL: the file system does not do it) are no
 * failure. */
static void test_sys_carried_on(void **state)
{
    struct live_fx *f = *state;
    for (int round = 0; round < 3; round++) {
        reset_dir(f, LIST(list_a), 0600);
        struct fault_resources res = fault_resources_now();
        sc_arm();
        sc.write_cap = 7;
        sc.eintr_writes = round == 0 ? 3 : 0;
        sc.eintr_closes = round == 1 ? 1 : 0;
        if (round == 2) {
            sc.fail_kind = SC_FSYNC;
            sc.fail_nth = 2;
            sc.fail_errno = EINVAL;
        }
        snapconf_error err;
        int rc = snapconf__state_save(f->path, list_b, LIST(list_b).n, &err);
        sc.armed = false;
        if (rc != 0)
            fail_msg("round %d: %s", round, err.message);
        assert_true(round != 2 || sc.fired);
        assert_int_equal(sc.eintr_writes + sc.eintr_closes, 0);
        fault_expect_resources("carried on", (unsigned long)round, &res);
        assert_int_equal(temp_files(f->dir), 0);
        expect_state("carried on", round, f->path, LIST(list_b));
    }
}

/* ------------------------------------------------------------------------- */
/* Allocations that fail                                                      */

static void test_alloc_save(void **state)
{
    struct live_fx *f = *state;
    unsigned long n, failed = 0;
    for (n = 1;; n++) {
        reset_dir(f, LIST(list_a), 0640);
        struct fault_resources res = fault_resources_now();
        snapconf_error err;
        fault_poison(&err);
        fault_alloc_arm(n, FAULT_THIS_THREAD);
        int rc = snapconf__state_save(f->path, list_b, LIST(list_b).n, &err);
        bool fired = fault_alloc_disarm();
        if (!fired) {
            assert_int_equal(rc, 0);
            expect_state("save, clean run", (long)n, f->path, LIST(list_b));
            break;
        }
        fault_expect_resources("save", n, &res);
        assert_int_equal(temp_files(f->dir), 0);
        if (rc == 0) {
            /* Only the clean-up of stale temporary files, after the rename,
             * may lose an allocation without failing: it is best effort. */
            expect_state("save, clean-up without memory", (long)n, f->path, LIST(list_b));
            continue;
        }
        fault_expect_error("save", n, rc, SNAPCONF_ENOMEM, &err, f->path, "out of memory");
        expect_state("save", (long)n, f->path, LIST(list_a));
        failed++;
    }
    print_message("    save: %lu allocations (%s), %lu failed cleanly\n", n - 1,
                  fault_alloc_mechanism(), failed);
    assert_true(failed >= 3);
}

static void test_alloc_load(void **state)
{
    struct live_fx *f = *state;
    reset_dir(f, LIST(list_b), 0600);
    unsigned long n;
    for (n = 1;; n++) {
        struct fault_resources res = fault_resources_now();
        struct snapconf__override *ov = (struct snapconf__override *)(void *)&fault_sentinel_;
        size_t count = 99;
        snapconf_error err;
        fault_poison(&err);
        fault_alloc_arm(n, FAULT_THIS_THREAD);
        int rc = snapconf__state_load(f->path, NULL, &ov, &count, &err);
        bool fired = fault_alloc_disarm();
        if (!fired) {
            assert_int_equal(rc, 0);
            bool same = same_list(LIST(list_b), ov, count);
            snapconf__overrides_free(ov, count);
            assert_true(same);
            break;
        }
        if (rc == 0)
            snapconf__overrides_free(ov, count);
        fault_expect_error("load", n, rc, SNAPCONF_ENOMEM, &err, f->path, "memory");
        assert_ptr_equal(ov, &fault_sentinel_);
        assert_int_equal(count, 99);
        fault_expect_resources("load", n, &res);
    }
    print_message("    load: %lu allocations (%s), each failed cleanly\n", n - 1,
                  fault_alloc_mechanism());
    assert_true(n > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crash_over_existing, setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_crash_over_existing_mode, setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_crash_first_save, setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_sys_failures, setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_sys_carried_on, setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_save, setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_load, setup, live_teardown),
    };
    return cmocka_run_group_tests_name("fault_state", tests, NULL, NULL);
}
