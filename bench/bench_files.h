/*
 * bench_files.h - the two ways the live benchmarks change a config file.
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

#endif /* SNAPCONF_BENCH_FILES_H */
