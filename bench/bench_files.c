/*
 * bench_files.c - writing a config file the ways editors and tools do.
 */
#include "bench_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
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

int bench_write_vim(const char *path, const char *bytes, size_t len)
{
    char backup[4096];
    if (snprintf(backup, sizeof(backup), "%s~", path) >= (int)sizeof(backup)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (rename(path, backup) != 0)
        return -1;
    if (write_to(path, O_CREAT | O_EXCL, bytes, len) != 0)
        return -1;
    return unlink(backup);
}

int bench_write_recreate(const char *path, const char *bytes, size_t len)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return -1;
    return write_to(path, O_CREAT | O_EXCL, bytes, len);
}

static int k8s_path(char *out, size_t size, const char *dir, const char *what, unsigned version,
                    const char *name)
{
    int n = name ? snprintf(out, size, "%s/%s%u/%s", dir, what, version, name)
                 : snprintf(out, size, "%s/%s%u", dir, what, version);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* ..v<version>/name holding bytes. */
static int k8s_version(const char *dir, const char *name, unsigned version, const char *bytes,
                       size_t len)
{
    char folder[4096], file[4096];
    if (k8s_path(folder, sizeof(folder), dir, "..v", version, NULL) != 0 ||
        k8s_path(file, sizeof(file), dir, "..v", version, name) != 0)
        return -1;
    if (mkdir(folder, 0755) != 0)
        return -1;
    return write_to(file, O_CREAT | O_EXCL, bytes, len);
}

int bench_k8s_init(const char *dir, const char *name, const char *bytes, size_t len)
{
    char data[4096], link[4096], target[4096];
    if (k8s_version(dir, name, 0, bytes, len) != 0)
        return -1;
    snprintf(data, sizeof(data), "%s/..data", dir);
    snprintf(link, sizeof(link), "%s/%s", dir, name);
    snprintf(target, sizeof(target), "..data/%s", name);
    if (symlink("..v0", data) != 0)
        return -1;
    return symlink(target, link);
}

int bench_k8s_update(const char *dir, const char *name, unsigned version, const char *bytes,
                     size_t len)
{
    char tmp[4096], data[4096], target[64], old_file[4096], old_folder[4096];
    if (version == 0 || k8s_version(dir, name, version, bytes, len) != 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s/..data_tmp", dir);
    snprintf(data, sizeof(data), "%s/..data", dir);
    snprintf(target, sizeof(target), "..v%u", version);
    if (symlink(target, tmp) != 0 || rename(tmp, data) != 0)
        return -1;
    if (k8s_path(old_file, sizeof(old_file), dir, "..v", version - 1, name) != 0 ||
        k8s_path(old_folder, sizeof(old_folder), dir, "..v", version - 1, NULL) != 0)
        return -1;
    if (unlink(old_file) != 0)
        return -1;
    return rmdir(old_folder);
}
