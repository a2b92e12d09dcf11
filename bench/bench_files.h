/*
 * bench_files.h - the ways the live benchmarks change a config file: the
 * edit patterns of the live-reload issue.
 */
#ifndef SNAPCONF_BENCH_FILES_H
#define SNAPCONF_BENCH_FILES_H

#include <stddef.h>

/* Writes bytes to "<path>.tmp" beside path, then rename()s it over path:
 * what vim, sed -i and most deploy tools do.  No fsync: the benchmarks time
 * the library, not the disk.  Returns 0, or -1 with errno set. */
int bench_write_rename(const char *path, const char *bytes, size_t len);

/* Opens path with O_TRUNC, writes bytes, closes: an in-place save (nano,
 * "> file" in a shell).  Returns 0, or -1 with errno set. */
int bench_write_inplace(const char *path, const char *bytes, size_t len);

/* vim's default save ('writebackup', 'backupcopy=auto'): renames path to
 * "<path>~", writes a new file at path, closes it, deletes the backup.
 * Returns 0, or -1 with errno set. */
int bench_write_vim(const char *path, const char *bytes, size_t len);

/* Deletes path, then creates it anew and writes it (rm, then cat > file).
 * Returns 0, or -1 with errno set. */
int bench_write_recreate(const char *path, const char *bytes, size_t len);

/* A Kubernetes ConfigMap volume as kubelet's AtomicWriter lays it out:
 * dir/name is a symlink to ..data/name, dir/..data a symlink to the folder
 * ..v0 holding the file.  Returns 0, or -1 with errno set. */
int bench_k8s_init(const char *dir, const char *name, const char *bytes, size_t len);

/* One ConfigMap update, as kubelet does it: a new folder ..v<version> with
 * the file, a symlink ..data_tmp to it renamed over ..data, then the folder
 * of version - 1 removed.  Returns 0, or -1 with errno set. */
int bench_k8s_update(const char *dir, const char *name, unsigned version, const char *bytes,
                     size_t len);

#endif /* SNAPCONF_BENCH_FILES_H */
