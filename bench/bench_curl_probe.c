/*
 * snapconf-bench-curl-probe - a helper of snapconf-bench-daemon: times, in
 * a fresh process, what the snapconf CLI does before its first request to
 * the daemon, so that the benchmark can say where a `snapconf get` goes.
 *
 *   snapconf-bench-curl-probe          prints "DLOPEN_NS INIT_NS OBJS_BEFORE OBJS_AFTER"
 *   snapconf-bench-curl-probe --none   prints "0 0 N N": process start and exit alone
 *
 * DLOPEN_NS is dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL) and the dlsym
 * of curl_global_init, as src/cli/curl_load.c does; INIT_NS is
 * curl_global_init(CURL_GLOBAL_NOTHING); OBJS_* count the shared objects
 * mapped before and after (libcurl brings its TLS, HTTP/2, SSH, LDAP,
 * Kerberos... dependencies along).  It must not link libcurl itself, or
 * the dlopen would find it loaded already: hence a separate program.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int count_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)info;
    (void)size;
    ++*(unsigned *)data;
    return 0;
}

static unsigned mapped_objects(void)
{
    unsigned n = 0;
    dl_iterate_phdr(count_object, &n);
    return n;
}

int main(int argc, char **argv)
{
    unsigned before = mapped_objects();
    if (argc > 1 && strcmp(argv[1], "--none") == 0) {
        printf("0 0 %u %u\n", before, before);
        return 0;
    }
    uint64_t t0 = mono_ns();
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    void *sym = lib ? dlsym(lib, "curl_global_init") : NULL;
    uint64_t t1 = mono_ns();
    if (!sym) {
        fprintf(stderr, "snapconf-bench-curl-probe: %s\n", dlerror());
        return 1;
    }
    CURLcode (*global_init)(long);
    /* POSIX guarantees a function pointer survives the trip through void *. */
    memcpy(&global_init, &sym, sizeof(sym));
    CURLcode rc = global_init(CURL_GLOBAL_NOTHING);
    uint64_t t2 = mono_ns();
    if (rc != CURLE_OK) {
        fputs("snapconf-bench-curl-probe: curl_global_init failed\n", stderr);
        return 1;
    }
    printf("%llu %llu %u %u\n", (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
           before, mapped_objects());
    return 0;
}
