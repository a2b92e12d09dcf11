/*
 * live_demo: a program embedding libsnapconf, for `make demo`.
 *
 * Two reader threads print server.port and the generation they see about
 * twice a second, lock-free, while something else edits the file; the new values
 * appear without a restart, and a broken edit is reported while the old
 * values keep serving.  Runs for the number of seconds given (default 6).
 *
 *     live_demo CONFIG [SECONDS]
 */
#include <snapconf.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_bool stop;

struct reader {
    snapconf *h;
    int id;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void *reader_main(void *arg)
{
    const struct reader *r = arg;
    while (!atomic_load(&stop)) {
        /* One consistent snapshot for the whole read, however many reloads. */
        const snapconf_snap *s = snapconf_snap_begin(r->h);
        int64_t port = snapconf_get_int_or(s, "server.port", -1);
        const char *level = snapconf_get_str_or(s, "logging.level", "?");
        uint64_t gen = snapconf_snap_generation(s);
        snapconf_snap_end(r->h, s);
        printf("  reader %d: generation %" PRIu64 ": server.port=%" PRId64 " logging.level=%s\n",
               r->id, gen, port, level);
        fflush(stdout);
        sleep_ms(400 + 60 * r->id);
    }
    return NULL;
}

static void on_change(void *userdata, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                      const snapconf_change *changes, size_t count)
{
    (void)userdata;
    printf("  [change] generation %" PRIu64 " -> %" PRIu64 ":", snapconf_snap_generation(old_snap),
           snapconf_snap_generation(new_snap));
    for (size_t i = 0; i < count; i++)
        printf(" %s%s", changes[i].kind == SNAPCONF_CHANGE_ADDED     ? "+"
                        : changes[i].kind == SNAPCONF_CHANGE_REMOVED ? "-"
                                                                     : "~",
               changes[i].path);
    printf("\n");
    fflush(stdout);
}

static void on_log(void *userdata, snapconf_log_level level, const char *message)
{
    (void)userdata;
    if (level <= SNAPCONF_LOG_WARNING)
        printf("  [snapconf] %s\n", message);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CONFIG [SECONDS]\n", argv[0]);
        return 2;
    }
    int seconds = argc > 2 ? atoi(argv[2]) : 6;
    snapconf_options opts;
    snapconf_options_init(&opts);
    opts.log = on_log;
    snapconf *h;
    snapconf_error err;
    if (snapconf_open(&h, argv[1], &opts, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return 4;
    }
    snapconf_subscribe(h, "", on_change, NULL);

    pthread_t threads[2];
    struct reader readers[2] = {{h, 1}, {h, 2}};
    for (int i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, reader_main, &readers[i]);
    sleep_ms(seconds * 1000L);
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    snapconf_close(h);
    return 0;
}
