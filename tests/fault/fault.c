/*
 * fault.c - the injection layer behind fault.h.
 *
 * Built in one of two allocation modes (see fault.h and CMakeLists.txt):
 *   FAULT_ALLOC_INTERPOSE  malloc & co. defined here, over glibc's
 *   FAULT_ALLOC_WRAP       __wrap_malloc & co., for -Wl,--wrap (sanitizers)
 * The system-call wrappers are always of the --wrap kind.
 *
 * The allocation wrappers run before main, on every thread, and inside
 * glibc: they use nothing but atomics and pthread_self() on that path, and
 * never allocate.
 */
#include "fault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(FAULT_ALLOC_INTERPOSE) == defined(FAULT_ALLOC_WRAP)
#error "define exactly one of FAULT_ALLOC_INTERPOSE and FAULT_ALLOC_WRAP"
#endif

/* ------------------------------------------------------------------------- */
/* Allocation accounting                                                      */

static atomic_ulong alloc_nth;  /* 0: disarmed */
static atomic_ulong alloc_seen; /* allocations counted since arming */
static atomic_bool alloc_fired;
static atomic_int alloc_scope;
static pthread_t alloc_armer;
static atomic_long alloc_live;

/* True when this allocation is the one to fail. */
static bool alloc_should_fail(void)
{
    unsigned long nth = atomic_load_explicit(&alloc_nth, memory_order_acquire);
    if (nth == 0)
        return false;
    if (atomic_load_explicit(&alloc_scope, memory_order_relaxed) == FAULT_THIS_THREAD &&
        !pthread_equal(pthread_self(), alloc_armer))
        return false;
    if (atomic_fetch_add(&alloc_seen, 1) + 1 != nth)
        return false;
    atomic_store(&alloc_fired, true);
    return true;
}

static void *counted(void *p)
{
    if (p)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return p;
}

static void uncounted(void *p)
{
    if (p)
        atomic_fetch_sub_explicit(&alloc_live, 1, memory_order_relaxed);
}

void fault_alloc_arm(unsigned long nth, enum fault_scope scope)
{
    alloc_armer = pthread_self();
    atomic_store(&alloc_scope, (int)scope);
    atomic_store(&alloc_seen, 0);
    atomic_store(&alloc_fired, false);
    atomic_store_explicit(&alloc_nth, nth, memory_order_release);
}

bool fault_alloc_disarm(void)
{
    atomic_store(&alloc_nth, 0);
    return atomic_load(&alloc_fired);
}

unsigned long fault_alloc_seen(void)
{
    return atomic_load(&alloc_seen);
}

long fault_alloc_live(void)
{
    return atomic_load(&alloc_live);
}

#ifdef FAULT_ALLOC_INTERPOSE

/* glibc's own allocator under its exported internal names. */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void __libc_free(void *p);
void *__libc_memalign(size_t align, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);

/* Declared here: glibc's headers hide some of them without _GNU_SOURCE
 * variants, and -Wmissing-prototypes wants every definition declared. */
void *memalign(size_t align, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);

const char *fault_alloc_mechanism(void)
{
    return "interposition";
}

bool fault_alloc_sees_libyaml(void)
{
    return true;
}

static void *nomem(void)
{
    errno = ENOMEM;
    return NULL;
}

void *malloc(size_t size)
{
    return alloc_should_fail() ? nomem() : counted(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
    return alloc_should_fail() ? nomem() : counted(__libc_calloc(n, size));
}

void *realloc(void *p, size_t size)
{
    if (!p)
        return malloc(size);
    if (size == 0) {
        /* glibc frees the block and returns NULL. */
        uncounted(p);
        return __libc_realloc(p, 0);
    }
    return alloc_should_fail() ? nomem() : __libc_realloc(p, size);
}

void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return nomem();
    return realloc(p, n * size);
}

void free(void *p)
{
    uncounted(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t size)
{
    return alloc_should_fail() ? nomem() : counted(__libc_memalign(align, size));
}

void *aligned_alloc(size_t align, size_t size)
{
    return memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    void *p = memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    return alloc_should_fail() ? nomem() : counted(__libc_valloc(size));
}

void *pvalloc(size_t size)
{
    return alloc_should_fail() ? nomem() : counted(__libc_pvalloc(size));
}

#else /* FAULT_ALLOC_WRAP */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

const char *fault_alloc_mechanism(void)
{
    return "--wrap";
}

bool fault_alloc_sees_libyaml(void)
{
    return false;
}

static void *nomem(void)
{
    errno = ENOMEM;
    return NULL;
}

void *__wrap_malloc(size_t size)
{
    return alloc_should_fail() ? nomem() : counted(__real_malloc(size));
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_should_fail() ? nomem() : counted(__real_calloc(n, size));
}

void *__wrap_realloc(void *p, size_t size)
{
    if (!p)
        return __wrap_malloc(size);
    if (size == 0) {
        uncounted(p);
        return __real_realloc(p, 0);
    }
    return alloc_should_fail() ? nomem() : __real_realloc(p, size);
}

void __wrap_free(void *p)
{
    uncounted(p);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = __wrap_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = __wrap_malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

#endif

/* ------------------------------------------------------------------------- */
/* The config file's open, fstat and read                                     */

int __real_open(const char *path, int flags, ...);
int __real_fstat(int fd, struct stat *st);
ssize_t __real_read(int fd, void *buf, size_t n);
int __real_inotify_init1(int flags);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_open(const char *path, int flags, ...);
int __wrap_fstat(int fd, struct stat *st);
ssize_t __wrap_read(int fd, void *buf, size_t n);
int __wrap_inotify_init1(int flags);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

static struct {
    pthread_mutex_t lock;
    bool armed, fired;
    enum fault_io kind;
    long arg;
    char path[PATH_MAX];
    int fd;         /* the armed path's descriptor, once opened */
    long remaining; /* FAULT_READ_EOF_AFTER */
} io = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

void fault_io_arm(const char *path, enum fault_io kind, long arg)
{
    pthread_mutex_lock(&io.lock);
    io.armed = true;
    io.fired = false;
    io.kind = kind;
    io.arg = arg;
    io.remaining = arg;
    io.fd = -1;
    snprintf(io.path, sizeof io.path, "%s", path);
    pthread_mutex_unlock(&io.lock);
}

bool fault_io_disarm(void)
{
    pthread_mutex_lock(&io.lock);
    bool fired = io.fired;
    io.armed = false;
    io.fd = -1;
    pthread_mutex_unlock(&io.lock);
    return fired;
}

int __wrap_open(const char *path, int flags, ...)
{
    int mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, int);
        va_end(ap);
    }
    pthread_mutex_lock(&io.lock);
    bool ours = io.armed && !io.fired && io.fd < 0 && (flags & O_ACCMODE) == O_RDONLY &&
                strcmp(path, io.path) == 0;
    if (ours && io.kind == FAULT_OPEN_ERRNO) {
        io.fired = true;
        pthread_mutex_unlock(&io.lock);
        errno = (int)io.arg;
        return -1;
    }
    int fd = __real_open(path, flags, mode);
    if (ours && fd >= 0)
        io.fd = fd;
    pthread_mutex_unlock(&io.lock);
    return fd;
}

int __wrap_fstat(int fd, struct stat *st)
{
    pthread_mutex_lock(&io.lock);
    if (!io.armed || io.fired || fd != io.fd) {
        pthread_mutex_unlock(&io.lock);
        return __real_fstat(fd, st);
    }
    int rc = 0, e = 0;
    switch (io.kind) {
    case FAULT_FSTAT_ERRNO:
        io.fired = true;
        rc = -1;
        e = (int)io.arg;
        break;
    case FAULT_FSTAT_TRUNCATE:
        rc = __real_fstat(fd, st);
        e = errno;
        io.fired = truncate(io.path, (off_t)io.arg) == 0;
        break;
    case FAULT_FSTAT_UNLINK:
        rc = __real_fstat(fd, st);
        e = errno;
        io.fired = unlink(io.path) == 0;
        break;
    default:
        rc = __real_fstat(fd, st);
        e = errno;
        break;
    }
    pthread_mutex_unlock(&io.lock);
    errno = e;
    return rc;
}

/* ------------------------------------------------------------------------- */
/* inotify                                                                    */

enum { INOTIFY_REAL, INOTIFY_DROP, INOTIFY_OVERFLOW };
static atomic_int inotify_mode;
static atomic_bool overflow_delivered;
static atomic_size_t inotify_dropped;
static atomic_int init_errno; /* 0: disarmed */
static atomic_bool init_fired;

void fault_inotify_drop_arm(void)
{
    atomic_store(&overflow_delivered, false);
    atomic_store(&inotify_dropped, 0);
    atomic_store(&inotify_mode, INOTIFY_DROP);
}

void fault_inotify_overflow_arm(void)
{
    atomic_store(&overflow_delivered, false);
    atomic_store(&inotify_mode, INOTIFY_OVERFLOW);
}

size_t fault_inotify_disarm(bool *delivered)
{
    atomic_store(&inotify_mode, INOTIFY_REAL);
    if (delivered)
        *delivered = atomic_load(&overflow_delivered);
    return atomic_load(&inotify_dropped);
}

size_t fault_inotify_dropped(void)
{
    return atomic_load(&inotify_dropped);
}

void fault_inotify_init_arm(int e)
{
    atomic_store(&init_fired, false);
    atomic_store(&init_errno, e);
}

bool fault_inotify_init_disarm(void)
{
    atomic_store(&init_errno, 0);
    return atomic_load(&init_fired);
}

int __wrap_inotify_init1(int flags)
{
    int e = atomic_exchange(&init_errno, 0);
    if (e) {
        atomic_store(&init_fired, true);
        errno = e;
        return -1;
    }
    return __real_inotify_init1(flags);
}

/* Asks the kernel what fd is: inotify descriptors are "anon_inode:inotify".
 * (A table of the descriptors inotify_init1 returned would go stale when
 * they are closed and their numbers reused.) */
static bool is_inotify_fd(int fd)
{
    char link[64], target[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return false;
    target[n] = '\0';
    return strcmp(target, "anon_inode:inotify") == 0;
}

/* Throws away every event queued on the (non-blocking) descriptor. */
static void drain_inotify(int fd, void *buf, size_t n)
{
    ssize_t r;
    while ((r = __real_read(fd, buf, n)) > 0) {
        for (char *p = buf; p < (char *)buf + r;) {
            const struct inotify_event *e = (const struct inotify_event *)(void *)p;
            atomic_fetch_add(&inotify_dropped, 1);
            p += sizeof *e + e->len;
        }
    }
}

/* Drains the queue, then either reports it empty (events lost) or, once,
 * hands out an IN_Q_OVERFLOW event, as the kernel does after a full queue
 * dropped events. */
static ssize_t fake_inotify_read(int fd, void *buf, size_t n)
{
    struct inotify_event ev = {.wd = -1, .mask = IN_Q_OVERFLOW, .cookie = 0, .len = 0};
    if (n < sizeof ev) {
        errno = EINVAL;
        return -1;
    }
    drain_inotify(fd, buf, n);
    int overflow = INOTIFY_OVERFLOW;
    if (atomic_compare_exchange_strong(&inotify_mode, &overflow, INOTIFY_REAL)) {
        memcpy(buf, &ev, sizeof ev);
        atomic_store(&overflow_delivered, true);
        return (ssize_t)sizeof ev;
    }
    errno = EAGAIN;
    return -1;
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (atomic_load(&inotify_mode) != INOTIFY_REAL && is_inotify_fd(fd))
        return fake_inotify_read(fd, buf, n);
    pthread_mutex_lock(&io.lock);
    if (!io.armed || io.fired || fd != io.fd) {
        pthread_mutex_unlock(&io.lock);
        return __real_read(fd, buf, n);
    }
    ssize_t r;
    int e = 0;
    switch (io.kind) {
    case FAULT_READ_ERRNO:
    case FAULT_READ_EINTR:
        io.fired = true;
        r = -1;
        e = io.kind == FAULT_READ_EINTR ? EINTR : (int)io.arg;
        break;
    case FAULT_READ_EOF_AFTER:
        if (io.remaining == 0) {
            io.fired = true;
            r = 0;
            break;
        }
        r = __real_read(fd, buf, n < (size_t)io.remaining ? n : (size_t)io.remaining);
        e = errno;
        if (r > 0)
            io.remaining -= r;
        break;
    default:
        r = __real_read(fd, buf, n);
        e = errno;
        break;
    }
    pthread_mutex_unlock(&io.lock);
    errno = e;
    return r;
}

/* ------------------------------------------------------------------------- */
/* Threads                                                                    */

static atomic_uint thread_nth, thread_seen;
static atomic_int thread_errno;
static atomic_bool thread_fired;

void fault_thread_arm(unsigned nth, int e)
{
    atomic_store(&thread_seen, 0);
    atomic_store(&thread_fired, false);
    atomic_store(&thread_errno, e);
    atomic_store(&thread_nth, nth);
}

bool fault_thread_disarm(void)
{
    atomic_store(&thread_nth, 0);
    return atomic_load(&thread_fired);
}

unsigned fault_thread_seen(void)
{
    return atomic_load(&thread_seen);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    unsigned nth = atomic_load(&thread_nth);
    if (nth && atomic_fetch_add(&thread_seen, 1) + 1 == nth) {
        atomic_store(&thread_fired, true);
        return atomic_load(&thread_errno);
    }
    return __real_pthread_create(t, attr, fn, arg);
}

/* ------------------------------------------------------------------------- */
/* Process resources                                                          */

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int fault_count_fds(void)
{
    /* Less the descriptor opendir itself holds while counting. */
    return count_entries("/proc/self/fd") - 1;
}

int fault_count_threads(void)
{
    return count_entries("/proc/self/task");
}

int fault_wait_threads(int n, int timeout_ms)
{
    int cur = fault_count_threads();
    for (int waited = 0; cur != n && waited < timeout_ms; waited++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        cur = fault_count_threads();
    }
    return cur;
}
