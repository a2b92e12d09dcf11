/*
 * fuzz.h - what the libFuzzer targets share: their entry points and a check
 * that turns a broken promise of the library into a crash.
 *
 * Sanitizers find memory and undefined-behaviour errors on their own; the
 * targets add FUZZ_CHECK() for answers that are wrong without being unsafe
 * (a lookup that finds another node, an error without a message).  A failed
 * check aborts, which libFuzzer reports and saves like any crash.
 */
#ifndef SNAPCONF_FUZZ_H
#define SNAPCONF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snapconf.h>

/* libFuzzer's entry points (declared here for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A copy of the input as a C string: it ends at the first NUL byte, if
 * any, as a string from a C caller would.  Aborts when out of memory. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    FUZZ_CHECK(s != NULL, "out of memory");
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* True when the len bytes at s hold a NUL-terminated string. */
static inline int fuzz_terminated(const char *s, size_t len)
{
    return memchr(s, '\0', len) != NULL;
}

#endif
