/*
 * curl_load.h - libcurl, loaded the first time a command talks to the
 * daemon.
 *
 * Debian's libcurl pulls in some thirty libraries (TLS, Kerberos, LDAP,
 * SSH, RTMP...) that the dynamic loader maps and initialises at every
 * start, about 10 ms on the 2-core benchmark machine, against 1.5 ms for
 * the whole of "snapconf get --file".  Loading it with dlopen() only when
 * a request is made keeps the commands that read a file as fast as they
 * were before the tool became a client.
 *
 * The pointers have the exact types of libcurl's functions (__typeof__),
 * so every call is checked against curl.h as a direct call would be.
 */
#ifndef SNAPCONF_CLI_CURL_LOAD_H
#define SNAPCONF_CLI_CURL_LOAD_H

#include <curl/curl.h>

/* curl_easy_header() came with 7.83, CURLOPT_PROTOCOLS_STR with 7.85. */
#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85 or later is needed"
#endif

struct cli_curl_api {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_global_cleanup) *global_cleanup;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_easy_header) *easy_header;
    __typeof__(curl_easy_escape) *easy_escape;
    __typeof__(curl_free) *free;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_perform) *multi_perform;
    __typeof__(curl_multi_poll) *multi_poll;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
};

/* libcurl's functions, valid once cli_curl_load() has succeeded. */
extern struct cli_curl_api cli_curl;

/*
 * Loads libcurl and runs curl_global_init(), once; later calls return at
 * once.  Returns CLI_EXIT_OK, or prints why it failed and returns
 * CLI_EXIT_INTERNAL.  Not thread-safe: the tool calls it from its only
 * thread.
 */
int cli_curl_load(void);

/* curl_global_cleanup() when libcurl was loaded; for the end of main(). */
void cli_curl_unload(void);

#endif /* SNAPCONF_CLI_CURL_LOAD_H */
