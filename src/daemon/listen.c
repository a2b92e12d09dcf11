/*
 * listen.c - Unix, TCP and socket-activated listeners, see listen.h.
 */
#include "listen.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef SNAPCONFD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define BACKLOG SOMAXCONN

static void init_listener(struct listener *l)
{
    memset(l, 0, sizeof(*l));
    l->fd = -1;
}

/* ---- Unix socket ------------------------------------------------------------ */

/* Creates dir and any missing parents with mode 0750 (whatever the umask
 * says); existing directories are left as they are. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;
    size_t len = strlen(dir);

    if (len == 0 || stat(dir, &st) == 0)
        return 0;
    if (len >= sizeof(path)) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0750) == 0) {
            /* The umask may have taken bits away; the mode is the point. */
            if (chmod(path, 0750) < 0) {
                snprintf(err, errlen, "cannot set the mode of %s: %s", path, strerror(errno));
                return -1;
            }
            dlog(SNAPCONF_LOG_INFO, "created directory %s (mode 0750)", path);
        } else if (errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s: %s", path, strerror(errno));
            return -1;
        }
        path[i] = saved;
    }
    return 0;
}

static void unix_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, strlen(path) + 1);
}

/*
 * Decides what to do with an existing file at path: 0 when there is none
 * or it was a stale socket (now removed), else LISTEN_IN_USE / LISTEN_ERR.
 */
static int clear_stale(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    struct stat st;
    int fd, rc, e;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot check %s: %s", path, strerror(errno));
        return LISTEN_ERR;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", path);
        return LISTEN_ERR;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return LISTEN_ERR;
    }
    unix_addr(&sa, path);
    rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    e = errno;
    close(fd);
    /* EAGAIN: the listener is there, its queue is just full. */
    if (rc == 0 || e == EAGAIN) {
        snprintf(err, errlen,
                 "%s is in use: another process (a running snapconfd?) accepts connections "
                 "on it; stop it or choose another --socket",
                 path);
        return LISTEN_IN_USE;
    }
    if (e != ECONNREFUSED) {
        snprintf(err, errlen, "cannot check whether %s is in use: %s", path, strerror(e));
        return LISTEN_ERR;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(errno));
        return LISTEN_ERR;
    }
    dlog(SNAPCONF_LOG_INFO, "removed the stale socket %s (no process was listening)", path);
    return 0;
}

/* Binds fd to path with the given mode: the umask is set for the bind so
 * that the socket never exists with looser permissions, then chmod makes
 * the mode exact. */
static int bind_unix(int fd, const char *path, mode_t mode, char *err, size_t errlen)
{
    struct sockaddr_un sa;
    mode_t old;
    int rc, e;

    unix_addr(&sa, path);
    old = umask(~mode & 0777);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    e = errno;
    umask(old);
    if (rc < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", path, strerror(e));
        return -1;
    }
    if (chmod(path, mode) < 0) {
        snprintf(err, errlen, "cannot set the mode of %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

static int unix_locked(struct listener *out, const char *path, mode_t mode, char *err,
                       size_t errlen)
{
    struct stat st;
    int rc = clear_stale(path, err, errlen);

    if (rc != 0)
        return rc;
    out->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (out->fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return LISTEN_ERR;
    }
    if (bind_unix(out->fd, path, mode, err, errlen) < 0)
        goto fail;
    if (listen(out->fd, BACKLOG) < 0 || stat(path, &st) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    out->path = strdup(path);
    if (out->path == NULL) {
        snprintf(err, errlen, "out of memory");
        unlink(path);
        goto fail;
    }
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    return 0;
fail:
    close(out->fd);
    out->fd = -1;
    return LISTEN_ERR;
}

int listen_unix(struct listener *out, const char *path, mode_t mode, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *slash;
    int dirfd, rc;

    init_listener(out);
    snprintf(out->name, sizeof(out->name), "%s", path);
    if (path[0] == '\0' || strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        snprintf(err, errlen, "socket path '%s' is empty or too long (at most %zu bytes)", path,
                 sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
        return LISTEN_ERR;
    }
    slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (make_dirs(dir, err, errlen) < 0)
        return LISTEN_ERR;

    /* Serialize "is it stale? replace it" between daemons starting at
     * once: both would otherwise remove the other's fresh socket. */
    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd >= 0 && flock(dirfd, LOCK_EX) < 0) {
        close(dirfd);
        dirfd = -1;
    }
    rc = unix_locked(out, path, mode, err, errlen);
    if (dirfd >= 0)
        close(dirfd); /* releases the lock */
    return rc;
}

/* ---- TCP -------------------------------------------------------------------- */

static bool is_loopback(const struct sockaddr_storage *ss);

int listen_parse_tcp(const char *spec, struct sockaddr_storage *addr, socklen_t *len, char *err,
                     size_t errlen)
{
    char host[INET6_ADDRSTRLEN + 8];
    const char *colon, *port_text;
    size_t host_len;
    char *end;

    memset(addr, 0, sizeof(*addr));
    if (spec[0] == '[') {
        const char *close_bracket = strchr(spec, ']');
        if (close_bracket == NULL || close_bracket[1] != ':')
            goto syntax;
        host_len = (size_t)(close_bracket - spec - 1);
        if (host_len >= sizeof(host))
            goto syntax;
        memcpy(host, spec + 1, host_len);
        port_text = close_bracket + 2;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL)
            goto syntax;
        host_len = (size_t)(colon - spec);
        if (host_len >= sizeof(host))
            goto syntax;
        memcpy(host, spec, host_len);
        port_text = colon + 1;
    }
    host[host_len] = '\0';
    errno = 0;
    unsigned long port = strtoul(port_text, &end, 10);
    if (port_text[0] < '0' || port_text[0] > '9' || *end != '\0' || errno != 0 || port > 65535)
        goto syntax;

    struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
    if (strcasecmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        if (!is_loopback(addr))
            goto not_loopback;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof(*in4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        if (!is_loopback(addr))
            goto not_loopback;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return 0;
    }
    snprintf(err, errlen,
             "--listen %s: '%s' is not a numeric IP address (use 127.0.0.1, [::1] or localhost)",
             spec, host);
    return -1;
syntax:
    snprintf(err, errlen, "--listen %s: expected ADDRESS:PORT, e.g. 127.0.0.1:8080 or [::1]:8080",
             spec);
    return -1;
not_loopback:
    snprintf(err, errlen,
             "--listen %s: not a loopback address; snapconfd listens on TCP only on "
             "127.0.0.0/8 and ::1, so that the configuration never leaves the machine",
             spec);
    return -1;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

static void describe(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "%s:%u", host, ntohs(in4->sin_port));
    }
}

int listen_tcp(struct listener *out, const char *spec, char *err, size_t errlen)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int one = 1;

    init_listener(out);
    out->tcp = true;
    if (listen_parse_tcp(spec, &ss, &len, err, errlen) < 0)
        return LISTEN_ERR;
    out->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (out->fd < 0) {
        snprintf(err, errlen, "--listen %s: socket: %s", spec, strerror(errno));
        return LISTEN_ERR;
    }
    setsockopt(out->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(out->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(out->fd, (struct sockaddr *)&ss, len) < 0 || listen(out->fd, BACKLOG) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
        close(out->fd);
        out->fd = -1;
        return LISTEN_ERR;
    }
    /* With port 0 the kernel chose one: name the real one. */
    len = sizeof(ss);
    if (getsockname(out->fd, (struct sockaddr *)&ss, &len) == 0)
        describe(&ss, out->name, sizeof(out->name));
    else
        snprintf(out->name, sizeof(out->name), "%s", spec);
    return 0;
}

/* ---- systemd socket activation --------------------------------------------- */

#ifdef SNAPCONFD_HAVE_SYSTEMD
int listen_activated(struct listener *out, size_t max, char *err, size_t errlen)
{
    int n = sd_listen_fds(1);

    if (n < 0) {
        snprintf(err, errlen, "socket activation: %s", strerror(-n));
        return LISTEN_ERR;
    }
    if ((size_t)n > max) {
        snprintf(err, errlen, "socket activation: %d sockets passed, at most %zu supported", n,
                 max);
        return LISTEN_ERR;
    }
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        struct listener *l = &out[i];
        struct sockaddr_storage ss = {0};
        socklen_t len = sizeof(ss);

        init_listener(l);
        l->fd = fd;
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0) {
            struct sockaddr_un *sa = (struct sockaddr_un *)&ss;
            if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && sa->sun_path[0] != '\0')
                snprintf(l->name, sizeof(l->name), "%.*s", (int)sizeof(sa->sun_path), sa->sun_path);
            else
                snprintf(l->name, sizeof(l->name), "systemd socket (fd %d)", fd);
        } else if (sd_is_socket_inet(fd, 0, SOCK_STREAM, 1, 0) > 0) {
            l->tcp = true;
            if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || !is_loopback(&ss)) {
                snprintf(err, errlen,
                         "socket activation: fd %d is not bound to a loopback address; "
                         "snapconfd serves TCP only on 127.0.0.0/8 and ::1",
                         fd);
                return LISTEN_ERR;
            }
            describe(&ss, l->name, sizeof(l->name));
        } else {
            snprintf(err, errlen,
                     "socket activation: fd %d is not a listening stream socket (check "
                     "ListenStream= in the .socket unit)",
                     fd);
            return LISTEN_ERR;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    return n;
}
#else
int listen_activated(struct listener *out, size_t max, char *err, size_t errlen)
{
    (void)out;
    (void)max;
    (void)err;
    (void)errlen;
    return 0;
}
#endif

/* ---- closing ------------------------------------------------------------------ */

void listener_close(struct listener *l)
{
    struct stat st;

    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
    if (l->path != NULL) {
        /* Remove the file only if it is still ours: another daemon may
         * have replaced it (it would have found ours stale). */
        if (lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
            unlink(l->path);
        free(l->path);
        l->path = NULL;
    }
}
