/*
 * sse.c - incremental Server-Sent Events parsing, following the "event
 * stream interpretation" steps of the WHATWG HTML standard.
 */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

#define SSE_DEFAULT_MAX_LINE ((size_t)16 << 20)

void sse_init(struct sse_parser *p, sse_event_fn *on_event, sse_comment_fn *on_comment,
              void *userdata)
{
    memset(p, 0, sizeof(*p));
    p->on_event = on_event;
    p->on_comment = on_comment;
    p->userdata = userdata;
}

void sse_free(struct sse_parser *p)
{
    free(p->line);
    free(p->data);
    p->line = p->data = NULL;
    p->line_len = p->line_cap = p->data_len = p->data_cap = 0;
}

static size_t max_line(const struct sse_parser *p)
{
    return p->max_line ? p->max_line : SSE_DEFAULT_MAX_LINE;
}

/* Makes room for need more bytes plus a NUL in *buf. */
static int reserve(char **buf, size_t *cap, size_t len, size_t need)
{
    if (len + need + 1 <= *cap)
        return 0;
    size_t n = *cap ? *cap : 256;
    while (n < len + need + 1)
        n *= 2;
    char *b = realloc(*buf, n);
    if (b == NULL)
        return -1;
    *buf = b;
    *cap = n;
    return 0;
}

/* Copies value into a fixed field, cutting it if it is too long. */
static void set_field(char *field, size_t size, const char *value, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(field, value, len);
    field[len] = '\0';
}

static int dispatch(struct sse_parser *p)
{
    int rc = 0;

    /* No data line: nothing to dispatch, and the type is forgotten. */
    if (p->has_data) {
        if (p->data_len > 0 && p->data[p->data_len - 1] == '\n')
            p->data_len--;
        p->data[p->data_len] = '\0';
        rc =
            p->on_event(p->userdata, p->type[0] ? p->type : "message", p->data, p->data_len, p->id);
    }
    p->has_data = false;
    p->data_len = 0;
    p->type[0] = '\0';
    return rc;
}

/* Handles one complete line (line_len bytes in p->line, NUL-terminated). */
static int process_line(struct sse_parser *p)
{
    char *line = p->line;
    size_t len = p->line_len;
    char *colon;
    const char *value;
    size_t vlen, flen;

    if (len == 0)
        return dispatch(p);
    if (line[0] == ':')
        return p->on_comment ? p->on_comment(p->userdata, line + 1) : 0;
    colon = memchr(line, ':', len);
    if (colon != NULL) {
        flen = (size_t)(colon - line);
        value = colon + 1;
        vlen = len - flen - 1;
        if (vlen > 0 && value[0] == ' ') {
            value++;
            vlen--;
        }
    } else {
        flen = len;
        value = "";
        vlen = 0;
    }
    if (flen == 5 && memcmp(line, "event", 5) == 0) {
        set_field(p->type, sizeof(p->type), value, vlen);
    } else if (flen == 4 && memcmp(line, "data", 4) == 0) {
        if (p->data_len + vlen > max_line(p) ||
            reserve(&p->data, &p->data_cap, p->data_len, vlen + 1) < 0)
            return -1;
        memcpy(p->data + p->data_len, value, vlen);
        p->data_len += vlen;
        p->data[p->data_len++] = '\n';
        p->has_data = true;
    } else if (flen == 2 && memcmp(line, "id", 2) == 0) {
        /* An id holding NUL is ignored, says the standard. */
        if (memchr(value, '\0', vlen) == NULL)
            set_field(p->id, sizeof(p->id), value, vlen);
    }
    return 0;
}

int sse_feed(struct sse_parser *p, const char *buf, size_t len)
{
    size_t i = 0;

    if (!p->bom_done && len > 0) {
        /* A UTF-8 BOM may open the stream; it may even come split, but a
         * server writing one at all is rare enough to accept only whole. */
        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
            i = 3;
        p->bom_done = true;
    }
    while (i < len) {
        char c = buf[i];

        if (p->after_cr) {
            p->after_cr = false;
            if (c == '\n') {
                i++;
                continue;
            }
        }
        if (c == '\r' || c == '\n') {
            p->after_cr = c == '\r';
            if (reserve(&p->line, &p->line_cap, p->line_len, 0) < 0)
                return -1;
            p->line[p->line_len] = '\0';
            int rc = process_line(p);
            p->line_len = 0;
            if (rc != 0)
                return rc;
            i++;
            continue;
        }
        /* Copy up to the next line end at once. */
        size_t j = i;
        while (j < len && buf[j] != '\r' && buf[j] != '\n')
            j++;
        if (p->line_len + (j - i) > max_line(p) ||
            reserve(&p->line, &p->line_cap, p->line_len, j - i) < 0)
            return -1;
        memcpy(p->line + p->line_len, buf + i, j - i);
        p->line_len += j - i;
        i = j;
    }
    return 0;
}
