/*
 * log.c - one line per event on stderr, see log.h.
 *
 * Once dlog_start() has run, lines go through a buffer to a thread of
 * their own: the library logs from its writer with locks held, and a
 * stderr that blocks (a journal that lags, a paused terminal, a disk that
 * stalls) must not hold back reloads or requests.  When the buffer is
 * full, lines are dropped and counted, and the count is logged once there
 * is room again.
 */
#include "log.h"

#include "jsonw.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bytes of lines waiting for the log thread. */
#define LOG_BUFFER ((size_t)256 * 1024)
/* How long dlog_stop() waits for the last lines to be written. */
#define LOG_STOP_WAIT_MS 2000

static snapconf_log_level max_level = SNAPCONF_LOG_INFO;
static bool to_journal;

/* The buffer: a byte ring of whole lines, guarded by lock. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* lines to write, or stop */
    pthread_cond_t done; /* the thread has exited */
    char data[LOG_BUFFER];
    size_t head, len; /* oldest byte at data[head] */
    uint64_t dropped;
    bool running, stop, finished;
    pthread_t thread;
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const char *const level_prefixes[] = {"<3>", "<4>", "<6>", "<7>"};

/* systemd's convention: $JOURNAL_STREAM is "DEV:INO" of the stream that
 * stderr was connected to; if stderr still is that stream, the journal
 * reads our lines. */
static bool stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    uintmax_t dev, ino;
    struct stat st;
    char *end;

    if (env == NULL)
        return false;
    errno = 0;
    dev = strtoumax(env, &end, 10);
    if (errno != 0 || end == env || *end != ':')
        return false;
    env = end + 1;
    ino = strtoumax(env, &end, 10);
    if (errno != 0 || end == env || *end != '\0')
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void dlog_init(snapconf_log_level level)
{
    max_level = level;
    to_journal = stderr_is_journal();
}

bool dlog_enabled(snapconf_log_level level)
{
    return level <= max_level;
}

bool dlog_parse_level(const char *text, snapconf_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *out = (snapconf_log_level)i;
            return true;
        }
    }
    /* "warn" is what most people type. */
    if (strcmp(text, "warn") == 0) {
        *out = SNAPCONF_LOG_WARNING;
        return true;
    }
    return false;
}

/* Writes the whole line or gives up: there is nowhere to report a failure
 * to write to stderr. */
static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

/* Hands a line to the log thread, or writes it here when there is none. */
static void enqueue_or_write(const char *line, size_t n)
{
    pthread_mutex_lock(&ring.lock);
    if (!ring.running) {
        pthread_mutex_unlock(&ring.lock);
        write_all(line, n);
        return;
    }
    if (LOG_BUFFER - ring.len < n) {
        ring.dropped++;
    } else {
        size_t tail = (ring.head + ring.len) % LOG_BUFFER;
        size_t first = n < LOG_BUFFER - tail ? n : LOG_BUFFER - tail;
        memcpy(ring.data + tail, line, first);
        memcpy(ring.data, line + first, n - first);
        ring.len += n;
        pthread_cond_signal(&ring.wake);
    }
    pthread_mutex_unlock(&ring.lock);
}

static void *log_thread(void *arg)
{
    static char chunk[LOG_BUFFER];
    uint64_t dropped = 0;

    (void)arg;
    pthread_mutex_lock(&ring.lock);
    for (;;) {
        while (ring.len == 0 && ring.dropped == 0 && !ring.stop)
            pthread_cond_wait(&ring.wake, &ring.lock);
        if (ring.len == 0 && ring.dropped == 0)
            break; /* stop, and everything is written */
        size_t n = ring.len, first = n < LOG_BUFFER - ring.head ? n : LOG_BUFFER - ring.head;
        memcpy(chunk, ring.data + ring.head, first);
        memcpy(chunk + first, ring.data, n - first);
        ring.head = (ring.head + n) % LOG_BUFFER;
        ring.len = 0;
        dropped = ring.dropped;
        ring.dropped = 0;
        pthread_mutex_unlock(&ring.lock);

        write_all(chunk, n);
        if (dropped > 0) {
            char note[160];
            int w =
                snprintf(note, sizeof(note),
                         "%ssnapconfd: %" PRIu64 " log lines dropped: stderr is too slow\n",
                         to_journal ? level_prefixes[SNAPCONF_LOG_WARNING] : "warning ", dropped);
            write_all(note, (size_t)w);
        }
        pthread_mutex_lock(&ring.lock);
    }
    ring.finished = true;
    pthread_cond_broadcast(&ring.done);
    pthread_mutex_unlock(&ring.lock);
    return NULL;
}

int dlog_start(void)
{
    int rc = pthread_create(&ring.thread, NULL, log_thread, NULL);

    if (rc == 0) {
        pthread_mutex_lock(&ring.lock);
        ring.running = true;
        pthread_mutex_unlock(&ring.lock);
    }
    return -rc;
}

void dlog_stop(void)
{
    struct timespec deadline;
    bool finished;

    pthread_mutex_lock(&ring.lock);
    if (!ring.running) {
        pthread_mutex_unlock(&ring.lock);
        return;
    }
    ring.stop = true;
    pthread_cond_signal(&ring.wake);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += LOG_STOP_WAIT_MS / 1000;
    while (!ring.finished) {
        if (pthread_cond_timedwait(&ring.done, &ring.lock, &deadline) == ETIMEDOUT)
            break;
    }
    finished = ring.finished;
    ring.running = false;
    pthread_mutex_unlock(&ring.lock);
    /* A thread still stuck in write() after the wait is left behind: the
     * process is about to exit, and everything it uses is static. */
    if (finished)
        pthread_join(ring.thread, NULL);
    else
        pthread_detach(ring.thread);
}

static void vlog(snapconf_log_level level, const char *fmt, va_list ap)
{
    char line[2048];
    size_t n, max = sizeof(line) - 1; /* room for the newline */
    int w;

    if (level > SNAPCONF_LOG_DEBUG)
        level = SNAPCONF_LOG_DEBUG;
    if (to_journal)
        w = snprintf(line, max, "%ssnapconfd: ", level_prefixes[level]);
    else
        w = snprintf(line, max, "%s snapconfd: ", level_names[level]);
    n = w > 0 ? (size_t)w : 0;
    w = vsnprintf(line + n, max - n, fmt, ap);
    if (w > 0)
        n += (size_t)w < max - n ? (size_t)w : max - n - 1;
    /* One event, one line: a message with a newline inside (a path, a
     * client's URL) must not forge a second entry, nor an escape sequence
     * play with the operator's terminal. */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)line[i];
        size_t k = jsonw_utf8_seq((const unsigned char *)line + i, n - i);
        if (c == '\n' || c == '\r')
            line[i] = ' ';
        else if ((c < 0x20 && c != '\t') || c == 0x7f || k == 0)
            line[i] = '?'; /* invalid UTF-8 too: the journal wants text */
        i += k > 0 ? k : 1;
    }
    line[n++] = '\n';
    enqueue_or_write(line, n);
}

void dlog(snapconf_log_level level, const char *fmt, ...)
{
    va_list ap;

    if (!dlog_enabled(level))
        return;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void dlog_library(void *userdata, snapconf_log_level level, const char *message)
{
    (void)userdata;
    dlog(level, "%s", message);
}
