/*
 * listen.h - the listening sockets of snapconfd.
 *
 * The Unix socket is the daemon's main door: its file mode (0660 by
 * default) and its directory's (0750 when the daemon creates it) decide
 * who may read the configuration.  A socket file left by a daemon that
 * died (connect() is refused) is replaced; one that answers belongs to a
 * running daemon and is never touched.  The check and the bind happen
 * under a lock on the directory, so two daemons starting at once cannot
 * both decide that the socket is stale.
 *
 * The optional TCP listener binds only loopback addresses.  Under systemd
 * socket activation the sockets come ready-made from systemd instead.
 */
#ifndef SNAPCONFD_LISTEN_H
#define SNAPCONFD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Most listening sockets the daemon handles (activated ones included). */
#define LISTEN_MAX 8

struct listener {
    int fd; /* -1 once handed over (to the HTTP server) or closed */
    bool tcp;
    char name[128]; /* the socket's path or address, for messages */
    /* The socket file this daemon created, removed by listener_close() if
     * it is still the same file; NULL for TCP and activated sockets. */
    char *path;
    dev_t dev;
    ino_t ino;
};

/* Error results: the message is in err. */
enum {
    LISTEN_ERR = -1,    /* cannot create, bind, ... */
    LISTEN_IN_USE = -2, /* another process serves the socket */
};

/*
 * Checks that spec is "ADDRESS:PORT" with a loopback ADDRESS (127.0.0.0/8,
 * "localhost", "[::1]") and fills *addr, *len.  Returns 0, or -1 with a
 * message in err.
 */
int listen_parse_tcp(const char *spec, struct sockaddr_storage *addr, socklen_t *len, char *err,
                     size_t errlen);

/* Creates, binds and listens on the Unix socket at path with the given
 * file mode.  Returns 0 or LISTEN_ERR / LISTEN_IN_USE. */
int listen_unix(struct listener *out, const char *path, mode_t mode, char *err, size_t errlen);

/* Binds and listens on the loopback TCP address spec.  Returns 0 or
 * LISTEN_ERR. */
int listen_tcp(struct listener *out, const char *spec, char *err, size_t errlen);

/*
 * The sockets passed by systemd socket activation ($LISTEN_FDS), at most
 * max.  Returns their number (0 without activation, or when built without
 * libsystemd), or LISTEN_ERR.
 */
int listen_activated(struct listener *out, size_t max, char *err, size_t errlen);

/* Closes the fd if still held and removes the socket file this daemon
 * created, if it is still there. */
void listener_close(struct listener *l);

#endif /* SNAPCONFD_LISTEN_H */
