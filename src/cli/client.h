/*
 * client.h - the CLI's side of the snapconfd HTTP API (docs/API.md): which
 * socket to use, one request with libcurl, decoding the JSON answers and
 * turning the daemon's errors into messages and exit codes.
 *
 * JSON from the daemon is decoded with libsnapconf's own loader (JSON is
 * YAML), not with jansson: the values come back as snapconf nodes, so the
 * renderers that print a file's values print the daemon's too, byte for
 * byte, with document order, every float's own precision and keys holding
 * NUL bytes (which jansson's decoder refuses) all kept.
 */
#ifndef SNAPCONF_CLI_CLIENT_H
#define SNAPCONF_CLI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <snapconf.h>

#include "curl_load.h"

/* The socket snapconfd listens on when nothing says otherwise. */
#define CLI_DEFAULT_SOCKET "/run/snapconf/snapconf.sock"

/*
 * The socket to use: opt (--socket) when not NULL, else $SNAPCONF_SOCKET,
 * else $RUNTIME_DIRECTORY/snapconf.sock (the first directory when systemd
 * lists several), else CLI_DEFAULT_SOCKET, as snapconfd itself decides.
 * The result is static or from the environment: valid until the next call.
 */
const char *cli_socket_path(const char *opt);

/* One answer of the daemon. */
struct cli_response {
    long status;        /* the HTTP status */
    char *body;         /* NUL-terminated (the body may hold NULs too); owned */
    size_t len;         /* bytes in body, without the terminator */
    int64_t generation; /* X-Snapconf-Generation, or -1 when absent */
};

/* Releases what resp owns; resp may then be reused. */
void cli_response_free(struct cli_response *resp);

/* Timeouts of cli_http(): how long the daemon may stay silent. */
#define CLI_TIMEOUT_DEFAULT 30L
#define CLI_TIMEOUT_QUICK 3L /* for shell completion, which must not hang */

/*
 * Sends "METHOD http://localhost TARGET" (target starts with '/' and is
 * already percent-encoded) to the daemon on socket and reads the whole
 * answer into *resp.  Returns CLI_EXIT_OK whenever an HTTP answer arrived,
 * whatever its status; CLI_EXIT_UNREACHABLE when the socket cannot be
 * reached, the connection broke or the daemon stayed silent for
 * silence_s seconds; CLI_EXIT_INTERNAL (out of memory).  Prints the reason
 * for anything but CLI_EXIT_OK, unless quiet.
 */
int cli_http(const char *socket, const char *method, const char *target, long silence_s, bool quiet,
             struct cli_response *resp);

/* As cli_http(), sending body (len bytes, Content-Type: application/yaml)
 * as the request's body: PUT /v1/keys/PATH. */
int cli_http_send(const char *socket, const char *method, const char *target, const char *body,
                  size_t len, struct cli_response *resp);

/* CLI_EXIT_OK when socket fits in a sockaddr_un, else says so (unless
 * quiet) and returns CLI_EXIT_UNREACHABLE: curl would only say "couldn't
 * connect". */
int cli_check_socket_path(const char *socket, bool quiet);

/*
 * A libcurl handle set up as cli_http() sets one up (socket, URL, no proxy,
 * timeouts), for callers that drive the transfer themselves; loads libcurl
 * first if need be.  errbuf must hold CURL_ERROR_SIZE bytes and live as
 * long as the handle.  NULL when out of memory or libcurl cannot be loaded
 * (reported).
 */
CURL *cli_curl_new(const char *socket, const char *method, const char *target, long silence_s,
                   char *errbuf);

/*
 * Reports a failed transfer (rc from libcurl, on the handle curl) as
 * "cannot reach snapconfd at SOCKET: ..." or "lost connection to ...", and
 * returns the exit code: CLI_EXIT_UNREACHABLE, or CLI_EXIT_INTERNAL when
 * out of memory.
 */
int cli_report_transfer(CURL *curl, CURLcode rc, const char *socket, const char *errbuf,
                        bool quiet);

/*
 * Percent-encodes every byte of s but the unreserved ones (letters,
 * digits, '-', '.', '_', '~'): "labels.\"a/b\"" becomes
 * "labels.%22a%2Fb%22".  Returns a string to free with cli_curl.free(), or
 * NULL (reported) when out of memory or libcurl cannot be loaded.
 */
char *cli_escape(const char *s);

/*
 * Decodes len bytes of JSON from the daemon into a snapshot whose root is
 * the JSON document, for the caller to free with snapconf_snap_free().
 * name labels positions in err.  Returns 0 or a negative SNAPCONF_E* code
 * with err filled in.
 */
int cli_json_load(const char *buf, size_t len, const char *name, snapconf_snap **out,
                  snapconf_error *err);

/*
 * Decodes resp's body.  When it is not the JSON object the API promises,
 * says so ("unexpected answer from snapconfd at SOCKET") and returns
 * CLI_EXIT_INTERNAL; else CLI_EXIT_OK with *out set.
 */
int cli_response_json(const struct cli_response *resp, const char *socket, snapconf_snap **out);

/* Member key of the mapping node, or NULL when node is not a mapping or
 * has no such key. */
const snapconf_node *cli_member(const snapconf_node *node, const char *key);

/* Member key as a string, an int, a number or a bool; NULL or false when
 * it is absent or of another type. */
const char *cli_member_str(const snapconf_node *node, const char *key);
bool cli_member_int(const snapconf_node *node, const char *key, int64_t *out);
bool cli_member_double(const snapconf_node *node, const char *key, double *out);
bool cli_member_bool(const snapconf_node *node, const char *key, bool *out);

/* Whether resp carries an error whose error.code is code. */
bool cli_answer_is(const struct cli_response *resp, const char *code);

/*
 * Prints the error carried by an answer that is not 2xx ("snapconf:
 * MESSAGE", from the body's error.message, or the HTTP status when there
 * is no JSON body) and returns the exit code it stands for: 1 not_found,
 * 2 bad_path, bad_request, bad_value and payload_too_large, 3
 * too_many_watchers (the daemon refused the connection), 4 invalid_config
 * and conflict, 6 forbidden, 5 anything else.  what names the request for
 * the messages that need it ("GET /v1/status").
 */
int cli_report_answer(const struct cli_response *resp, const char *socket, const char *what);

/*
 * Writes an error object of the API (with "message" and optionally "file",
 * "line", "column") to stderr as "FILE:LINE:COLUMN: MESSAGE", the way the
 * loader and compilers write positions, without repeating a position the
 * message already starts with.
 */
void cli_print_positioned(FILE *out, const snapconf_node *error);

/* The body written to stdout as it came, with a final newline; for --json. */
int cli_print_body(const struct cli_response *resp);

#endif /* SNAPCONF_CLI_CLIENT_H */
