/*
 * sse.h - an incremental parser of Server-Sent Events streams (the
 * text/event-stream format of the WHATWG HTML standard), fed whatever
 * chunks the network delivers.
 *
 * Lines end with CRLF, LF or CR, even when the two bytes of a CRLF come in
 * different chunks.  "event:", "data:" (several join with '\n'), "id:" and
 * comment lines (": text") are handled; "retry:" and unknown fields are
 * ignored, as the standard says.  An empty line dispatches the event.
 */
#ifndef SNAPCONF_CLI_SSE_H
#define SNAPCONF_CLI_SSE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Called for each complete event: its type ("message" when the stream gave
 * none), its data (NUL-terminated, len bytes, without the final '\n') and
 * the last event id seen on the stream ("" before any).  All three are
 * borrowed for the call.  A nonzero return stops the parser, and
 * sse_feed() returns that value.
 */
typedef int sse_event_fn(void *userdata, const char *type, const char *data, size_t len,
                         const char *id);

/* Called for each comment line with the text after the ':' (borrowed). */
typedef int sse_comment_fn(void *userdata, const char *text);

struct sse_parser {
    sse_event_fn *on_event;
    sse_comment_fn *on_comment; /* may be NULL */
    void *userdata;
    size_t max_line; /* longest line accepted, and longest data; 0: 16 MiB */

    /* Private. */
    char *line;
    size_t line_len, line_cap;
    char *data;
    size_t data_len, data_cap;
    bool has_data;
    bool after_cr; /* the last byte seen was a CR: skip an LF next */
    bool bom_done; /* the optional byte order mark is behind us */
    char type[64];
    char id[256];
};

/* Sets p up; on_event is required. */
void sse_init(struct sse_parser *p, sse_event_fn *on_event, sse_comment_fn *on_comment,
              void *userdata);

/*
 * Parses len more bytes of the stream.  Returns 0, a callback's nonzero
 * value (then the parser must not be fed again), or -1 when out of memory
 * or a line exceeds max_line.
 */
int sse_feed(struct sse_parser *p, const char *buf, size_t len);

/* Frees what p holds; an event without its closing empty line is dropped,
 * as the standard says. */
void sse_free(struct sse_parser *p);

#endif /* SNAPCONF_CLI_SSE_H */
