/*
 * curl_load.c - dlopen() of libcurl on first use (curl_load.h says why).
 */
#include "curl_load.h"

#include "cli.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

/* The library the tool was built against: ABI 4, unchanged since 2006. */
#define CLI_CURL_SONAME "libcurl.so.4"

struct cli_curl_api cli_curl;

static void *handle;
static bool initialised;

/* Each pointer of cli_curl with the symbol it takes. */
#define CURL_SYMBOL(field, name)                                                                   \
    {                                                                                              \
        offsetof(struct cli_curl_api, field), name                                                 \
    }
static const struct {
    size_t offset;
    const char *name;
} symbols[] = {
    CURL_SYMBOL(global_init, "curl_global_init"),
    CURL_SYMBOL(global_cleanup, "curl_global_cleanup"),
    CURL_SYMBOL(easy_init, "curl_easy_init"),
    CURL_SYMBOL(easy_setopt, "curl_easy_setopt"),
    CURL_SYMBOL(easy_perform, "curl_easy_perform"),
    CURL_SYMBOL(easy_getinfo, "curl_easy_getinfo"),
    CURL_SYMBOL(easy_cleanup, "curl_easy_cleanup"),
    CURL_SYMBOL(easy_strerror, "curl_easy_strerror"),
    CURL_SYMBOL(easy_header, "curl_easy_header"),
    CURL_SYMBOL(easy_escape, "curl_easy_escape"),
    CURL_SYMBOL(free, "curl_free"),
    CURL_SYMBOL(slist_append, "curl_slist_append"),
    CURL_SYMBOL(slist_free_all, "curl_slist_free_all"),
    CURL_SYMBOL(multi_init, "curl_multi_init"),
    CURL_SYMBOL(multi_add_handle, "curl_multi_add_handle"),
    CURL_SYMBOL(multi_remove_handle, "curl_multi_remove_handle"),
    CURL_SYMBOL(multi_perform, "curl_multi_perform"),
    CURL_SYMBOL(multi_poll, "curl_multi_poll"),
    CURL_SYMBOL(multi_info_read, "curl_multi_info_read"),
    CURL_SYMBOL(multi_cleanup, "curl_multi_cleanup"),
};

int cli_curl_load(void)
{
    if (initialised)
        return CLI_EXIT_OK;
    if (handle == NULL) {
        handle = dlopen(CLI_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (handle == NULL) {
            cli_error("cannot load libcurl, needed to talk to snapconfd: %s", dlerror());
            return CLI_EXIT_INTERNAL;
        }
    }
    for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        void *sym = dlsym(handle, symbols[i].name);

        if (sym == NULL) {
            cli_error("%s has no %s: libcurl 7.85 or later is needed", CLI_CURL_SONAME,
                      symbols[i].name);
            return CLI_EXIT_INTERNAL;
        }
        /* POSIX guarantees that a function pointer survives the trip
         * through void *, which is how dlsym() returns it. */
        *(void **)((char *)&cli_curl + symbols[i].offset) = sym;
    }
    /* Nothing of curl's but plain HTTP over a socket is used, so no TLS
     * set-up either. */
    if (cli_curl.global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
        cli_error("cannot initialise libcurl");
        return CLI_EXIT_INTERNAL;
    }
    initialised = true;
    return CLI_EXIT_OK;
}

void cli_curl_unload(void)
{
    /* The library stays mapped: the process is about to end, and
     * unmapping code that registered atexit handlers would be unsafe. */
    if (initialised)
        cli_curl.global_cleanup();
    initialised = false;
}
