/*
 * api_int.h - what the parts of the HTTP API share: api.c (routing and the
 * read endpoints) and api_write.c (runtime changes: PUT and DELETE).
 * Not for anything outside the API.
 */
#ifndef SNAPCONFD_API_INT_H
#define SNAPCONFD_API_INT_H

#include "api.h"

#include <jansson.h>

#define CT_JSON "application/json"

/* Adds a response header (ignored past API_MAX_HEADERS). */
void api_add_header(struct api_response *out, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds X-Snapconf-Generation. */
void api_add_generation(struct api_response *out, uint64_t generation);

/* Sets the status and the body (taken over; NULL means out of memory, and
 * makes the response a fixed 500). */
void api_set_body(struct api_response *out, unsigned status, const char *content_type, char *body,
                  size_t len);

/* An error response; extra (released here, may be NULL) holds more fields
 * of the "error" object.  Returns the status actually set. */
unsigned api_error_response(struct api_response *out, unsigned status, const char *code,
                            const char *message, bool has_generation, uint64_t generation,
                            json_t *extra);

/* api_error_response() with a printf-style message and no generation. */
unsigned api_error_fmt(struct api_response *out, unsigned status, const char *code, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

/* Compiles a path from a client; on failure fills out with bad_path (or
 * internal) and returns false. */
bool api_compile_path(struct api_response *out, const char *text, bool has_generation,
                      uint64_t generation, snapconf_path **path);

/*
 * The answer of GET /v1/keys/{path} for node at path in snap: path, value,
 * type, generation, source and origin.  Returns the status.
 */
unsigned api_key_body(struct api_response *out, const snapconf_snap *snap,
                      const snapconf_path *path, const snapconf_node *node);

/*
 * Runs a runtime change (snapconf_set(), snapconf_unset() or
 * snapconf_revert() in fn) as api_reload() runs a reload: *report receives
 * the generation the change published (its error pointer NULL), *err the
 * failure.  Returns fn's result.
 */
int api_run_write(struct api_ctx *ctx,
                  int (*fn)(snapconf *h, const char *path, snapconf_error *err, void *arg),
                  const char *path, void *arg, snapconf_reload_report *report, snapconf_error *err);

/* The write endpoints (api_write.c): each checks that the client may
 * write, then does it.  key is the path text after the endpoint's prefix
 * (percent-decoded, as every path the API gets). */
unsigned api_put_key(struct api_ctx *ctx, const struct api_request *req, const char *key,
                     struct api_response *out);
unsigned api_delete_key(struct api_ctx *ctx, const struct api_request *req, const char *key,
                        struct api_response *out);
unsigned api_get_overrides(struct api_ctx *ctx, const char *prefix, struct api_response *out);
unsigned api_delete_overrides(struct api_ctx *ctx, const struct api_request *req,
                              const char *prefix, struct api_response *out);

#endif /* SNAPCONFD_API_INT_H */
