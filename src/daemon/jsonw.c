/*
 * jsonw.c - JSON text helpers, see jsonw.h.
 */
#include "jsonw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if the
 * bytes there are not one (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). */
size_t jsonw_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

json_t *jsonw_string(const char *s)
{
    size_t n = strlen(s), i = 0, o = 0;
    char *fixed;
    json_t *j;

    /* The usual case: valid already, no copy. */
    while (i < n) {
        size_t k = jsonw_utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0)
            break;
        i += k;
    }
    if (i == n)
        return json_stringn(s, n);

    /* Each invalid byte becomes U+FFFD (3 bytes). */
    fixed = malloc(3 * n + 1);
    if (fixed == NULL)
        return NULL;
    for (i = 0; i < n;) {
        size_t k = jsonw_utf8_seq((const unsigned char *)s + i, n - i);
        if (k == 0) {
            fixed[o++] = (char)0xef;
            fixed[o++] = (char)0xbf;
            fixed[o++] = (char)0xbd;
            i++;
        } else {
            memcpy(fixed + o, s + i, k);
            o += k;
            i += k;
        }
    }
    j = json_stringn(fixed, o);
    free(fixed);
    return j;
}

int jsonw_put_string(FILE *out, const char *s)
{
    json_t *j = jsonw_string(s);
    int rc;

    if (j == NULL)
        return -1;
    rc = json_dumpf(j, out, JSON_ENCODE_ANY);
    json_decref(j);
    return rc;
}

/*
 * A write-only stream (fopencookie) in front of another one that drops
 * whitespace outside string literals and puts one space after each ',' and
 * ':' instead.  Inside a literal, jansson has escaped every control
 * character, so a raw space or newline outside one is always layout.
 */
struct squeeze {
    FILE *out;
    size_t limit, written;
    bool in_string;
    bool escaped;
};

static ssize_t squeeze_write(void *cookie, const char *buf, size_t size)
{
    struct squeeze *sq = cookie;

    /* Counting the input, layout included, is close enough for a bound. */
    sq->written += size;
    if (sq->limit > 0 && sq->written > sq->limit)
        return -1;
    for (size_t i = 0; i < size; i++) {
        char c = buf[i];

        if (sq->in_string) {
            if (sq->escaped)
                sq->escaped = false;
            else if (c == '\\')
                sq->escaped = true;
            else if (c == '"')
                sq->in_string = false;
            putc(c, sq->out);
            continue;
        }
        switch (c) {
        case ' ':
        case '\n':
        case '\t':
        case '\r':
            break;
        case ',':
        case ':':
            putc(c, sq->out);
            putc(' ', sq->out);
            break;
        case '"':
            sq->in_string = true;
            putc(c, sq->out);
            break;
        default:
            putc(c, sq->out);
            break;
        }
    }
    return ferror(sq->out) ? -1 : (ssize_t)size;
}

int jsonw_put_node(FILE *out, const snapconf_node *node, size_t limit, render_error *err)
{
    struct squeeze sq = {.out = out, .limit = limit};
    cookie_io_functions_t io = {.write = squeeze_write};
    FILE *f = fopencookie(&sq, "w", io);
    int rc;

    err->message[0] = '\0';
    if (f == NULL) {
        snprintf(err->message, sizeof(err->message), "out of memory");
        return -1;
    }
    rc = render_json(f, node, err);
    if (fclose(f) != 0 && rc == 0)
        rc = -1;
    if (rc < 0 && limit > 0 && sq.written > limit)
        snprintf(err->message, sizeof(err->message), "value larger than %zu bytes", limit);
    else if (rc < 0 && err->message[0] == '\0')
        snprintf(err->message, sizeof(err->message), "cannot write JSON output");
    return rc;
}

char *jsonw_dump(json_t *j, size_t flags, size_t *len)
{
    char *text, *line;
    size_t n;

    if (j == NULL)
        return NULL;
    text = json_dumps(j, flags | JSON_ENCODE_ANY);
    json_decref(j);
    if (text == NULL)
        return NULL;
    n = strlen(text);
    line = realloc(text, n + 2);
    if (line == NULL) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

bool jsonw_buf_open(struct jsonw_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->f = open_memstream(&b->data, &b->len);
    return b->f != NULL;
}

char *jsonw_buf_close(struct jsonw_buf *b, size_t *len)
{
    bool failed = ferror(b->f) != 0;

    if (fclose(b->f) != 0)
        failed = true;
    b->f = NULL;
    if (failed) {
        free(b->data);
        b->data = NULL;
        return NULL;
    }
    *len = b->len;
    return b->data;
}
