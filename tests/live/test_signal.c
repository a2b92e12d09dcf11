/*
 * The watcher thread never takes a signal meant for the host.
 *
 * The handle is opened while SIGUSR1 is still unblocked in the main thread
 * (so the watcher would inherit an open mask if the library did not block
 * signals itself); only then does the host block SIGUSR1 and read it from
 * a signalfd, as a daemon with an epoll loop does.  A process-directed
 * SIGUSR1 goes to any thread that does not block it: if the watcher thread
 * accepted it, its default action would kill the process, and the
 * signalfd would not see it.  Every signal sent must arrive at the
 * signalfd, while reloads keep happening.
 */
#include "live.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#define ROUNDS 20

static void wait_value(snapconf *h, int v)
{
    int64_t end = live_now_ms() + LIVE_WAIT_MS;
    while (live_int_or(h, "v", -1) != v && live_now_ms() < end)
        live_sleep_ms(1);
    assert_int_equal(live_int_or(h, "v", -1), v);
}

static void test_watcher_does_not_take_signals(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "v: 0\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    /* Two handles: an inotify watcher and a polling one. */
    char path2[PATH_MAX];
    live_join(path2, f->dir, "poll.yaml");
    live_put_trunc(path2, "v: 0\n");
    f->h = live_open(f->path, &o);
    snapconf_options po = o;
    po.poll_ms = 10;
    snapconf *h2 = live_open(path2, &po);

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    assert_true(sfd >= 0);

    int received = 0;
    for (int i = 1; i <= ROUNDS; i++) {
        /* Keep the watchers busy too. */
        char buf[32];
        snprintf(buf, sizeof buf, "v: %d\n", i);
        live_put_rename(f->path, buf);
        live_put_rename(path2, buf);
        int sig = i % 2 ? SIGUSR1 : SIGUSR2;
        assert_int_equal(kill(getpid(), sig), 0);
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        assert_int_equal(poll(&p, 1, LIVE_WAIT_MS), 1);
        struct signalfd_siginfo si;
        assert_int_equal(read(sfd, &si, sizeof si), sizeof si);
        assert_int_equal(si.ssi_signo, sig);
        assert_int_equal(si.ssi_pid, getpid());
        received++;
        if (i % 5 == 0) {
            wait_value(f->h, i);
            wait_value(h2, i);
        }
    }
    assert_int_equal(received, ROUNDS);
    assert_int_equal(live_int_or(f->h, "v", -1), ROUNDS);

    /* A reload on this thread (synchronize_rcu and all) leaves signals
     * alone too. */
    live_put_rename(f->path, "v: 100\n");
    assert_int_equal(snapconf_reload(f->h, NULL), 0);
    assert_int_equal(kill(getpid(), SIGUSR1), 0);
    struct pollfd p = {.fd = sfd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, LIVE_WAIT_MS), 1);
    struct signalfd_siginfo si;
    assert_int_equal(read(sfd, &si, sizeof si), sizeof si);
    assert_int_equal(si.ssi_signo, SIGUSR1);

    snapconf_close(h2);
    snapconf_close(f->h);
    f->h = NULL;
    /* Nothing is left pending for the host's old mask to take. */
    sigset_t pending;
    assert_int_equal(sigpending(&pending), 0);
    assert_false(sigismember(&pending, SIGUSR1));
    assert_false(sigismember(&pending, SIGUSR2));
    close(sfd);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/* The library installs no signal handlers: the dispositions the host had
 * before open are the dispositions it has after. */
static void test_no_signal_handlers_installed(void **state)
{
    struct live_fx *f = *state;
    struct sigaction before[NSIG], after;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, NULL, &before[s]);
    live_put_trunc(f->path, "v: 0\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(f->path, &o);
    live_put_rename(f->path, "v: 1\n");
    expect_exactly(f->h, 2);
    assert_int_equal(snapconf_reload(f->h, NULL), 0);
    snapconf_close(f->h);
    f->h = NULL;
    for (int s = 1; s < NSIG; s++) {
        if (sigaction(s, NULL, &after) < 0)
            continue;
        if (after.sa_handler != before[s].sa_handler)
            fail_msg("signal %d (%s) has a new handler", s, strsignal(s));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_watcher_does_not_take_signals, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_no_signal_handlers_installed, live_setup,
                                        live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
