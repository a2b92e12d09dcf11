/*
 * bench_files.c - writing a config file the ways editors and tools do.
 */
#include "bench_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int write_all(int fd, const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_to(const char *path, int flags, const char *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0644);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, bytes, len);
    int e = errno;
    if (close(fd) != 0 && rc == 0)
        return -1;
    errno = e;
    return rc;
}

int bench_write_rename(const char *path, const char *bytes, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (write_to(tmp, O_CREAT | O_TRUNC, bytes, len) != 0)
        return -1;
    return rename(tmp, path);
}

int bench_write_inplace(const char *path, const char *bytes, size_t len)
{
    return write_to(path, O_CREAT | O_TRUNC, bytes, len);
}
