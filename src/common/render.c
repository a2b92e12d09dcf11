/*
 * render.c - plain text, JSON (jansson) and YAML (libyaml emitter) output
 * of snapshot nodes.
 *
 * The three renderers recurse over the tree.  That is safe because the
 * loader bounds the depth (256 by default) and shares alias subtrees rather
 * than copying them, so the tree is finite and shallow.
 */
#include "render.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <yaml.h>

/* One scalar's value, read through the typed node getters. */
struct scalar {
    snapconf_type type;
    bool b;
    int64_t i;
    double d;
    const char *s; /* strings: may hold NUL bytes, so always use len */
    size_t len;
};

static int render_fail(render_error *err, const snapconf_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills err with "line L, column C: MESSAGE" (no position when node is
 * NULL) and returns -1. */
static int render_fail(render_error *err, const snapconf_node *node, const char *fmt, ...)
{
    size_t n = 0;
    va_list ap;

    if (node != NULL) {
        int w =
            snprintf(err->message, sizeof(err->message),
                     "line %u, column %u: ", snapconf_node_line(node), snapconf_node_column(node));
        n = w > 0 ? (size_t)w : 0;
        if (n >= sizeof(err->message))
            n = sizeof(err->message) - 1;
    }
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * Reads a scalar node.  The getters can only fail here if the library
 * contradicts its own snapconf_node_type(), which we report rather than
 * print a wrong value.
 */
static int read_scalar(const snapconf_node *node, struct scalar *sc, render_error *err)
{
    int rc = 0;

    memset(sc, 0, sizeof(*sc));
    sc->type = snapconf_node_type(node);
    switch (sc->type) {
    case SNAPCONF_TYPE_NULL:
        break;
    case SNAPCONF_TYPE_BOOL:
        rc = snapconf_node_bool(node, &sc->b);
        break;
    case SNAPCONF_TYPE_INT:
        rc = snapconf_node_int(node, &sc->i);
        break;
    case SNAPCONF_TYPE_FLOAT:
        rc = snapconf_node_double(node, &sc->d);
        break;
    case SNAPCONF_TYPE_STRING:
        rc = snapconf_node_str(node, &sc->s, &sc->len);
        if (rc == 0 && sc->s == NULL)
            rc = SNAPCONF_EINVAL; /* the getter broke its contract */
        break;
    default:
        return render_fail(err, node, "not a scalar (type %d)", (int)sc->type);
    }
    if (rc < 0)
        return render_fail(err, node, "cannot read %s value: %s", snapconf_type_name(sc->type),
                           snapconf_strerror(rc));
    return 0;
}

static bool is_collection(const snapconf_node *node)
{
    snapconf_type type = snapconf_node_type(node);

    return type == SNAPCONF_TYPE_MAP || type == SNAPCONF_TYPE_SEQ;
}

int render_double(double v, char buf[RENDER_DOUBLE_MAX])
{
    if (isnan(v)) {
        snprintf(buf, RENDER_DOUBLE_MAX, ".nan");
        return 0;
    }
    if (isinf(v)) {
        snprintf(buf, RENDER_DOUBLE_MAX, "%s", v < 0 ? "-.inf" : ".inf");
        return 0;
    }
    /* The C locale is in force (we never call setlocale), so strtod reads
     * back exactly what snprintf wrote. */
    for (int prec = 15; prec < 17; prec++) {
        snprintf(buf, RENDER_DOUBLE_MAX, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return prec;
    }
    snprintf(buf, RENDER_DOUBLE_MAX, "%.17g", v);
    return 17;
}

/* ---- plain text --------------------------------------------------------- */

int render_text(FILE *out, const snapconf_node *node, render_error *err)
{
    struct scalar sc;
    char num[RENDER_DOUBLE_MAX];

    if (is_collection(node))
        return render_json(out, node, err);
    if (read_scalar(node, &sc, err) < 0)
        return -1;
    switch (sc.type) {
    case SNAPCONF_TYPE_NULL:
        fputs("null", out);
        break;
    case SNAPCONF_TYPE_BOOL:
        fputs(sc.b ? "true" : "false", out);
        break;
    case SNAPCONF_TYPE_INT:
        fprintf(out, "%" PRId64, sc.i);
        break;
    case SNAPCONF_TYPE_FLOAT:
        render_double(sc.d, num);
        fputs(num, out);
        break;
    default:
        fwrite(sc.s, 1, sc.len, out);
        break;
    }
    fputc('\n', out);
    return 0;
}

/* ---- JSON --------------------------------------------------------------- */

/*
 * JSON is streamed: jansson encodes each scalar and each key (all escaping
 * and number formatting stay jansson's), and only the brackets, commas and
 * indentation are written here, in the layout of jansson's JSON_INDENT(2).
 * Building one jansson tree instead would cost memory in proportion to the
 * expanded document (aliases multiply it: a 1 KiB file can expand to
 * millions of nodes) and would print every float with one precision.
 */

#define JSON_INDENT_WIDTH 2

/* Writes one jansson value, which this function releases. */
static int dump_json_value(FILE *out, json_t *json, const snapconf_node *node, size_t flags,
                           render_error *err)
{
    int rc;

    if (json == NULL)
        return render_fail(err, node, "cannot convert to JSON (out of memory or invalid UTF-8)");
    rc = json_dumpf(json, out, JSON_ENCODE_ANY | flags);
    json_decref(json);
    if (rc < 0)
        return render_fail(err, NULL, "cannot write JSON output");
    return 0;
}

static int scalar_json(FILE *out, const snapconf_node *node, render_error *err)
{
    struct scalar sc;
    char num[RENDER_DOUBLE_MAX];
    int prec;

    if (read_scalar(node, &sc, err) < 0)
        return -1;
    switch (sc.type) {
    case SNAPCONF_TYPE_NULL:
        return dump_json_value(out, json_null(), node, 0, err);
    case SNAPCONF_TYPE_BOOL:
        return dump_json_value(out, json_boolean(sc.b), node, 0, err);
    case SNAPCONF_TYPE_INT:
        return dump_json_value(out, json_integer((json_int_t)sc.i), node, 0, err);
    case SNAPCONF_TYPE_FLOAT:
        prec = render_double(sc.d, num);
        /* JSON has no infinities or NaN; their YAML spelling as a string is
         * the least surprising stand-in. */
        if (prec == 0)
            return dump_json_value(out, json_string(num), node, 0, err);
        return dump_json_value(out, json_real(sc.d), node, JSON_REAL_PRECISION(prec), err);
    default:
        /* The length keeps NUL bytes, which jansson writes as \u0000. */
        return dump_json_value(out, json_stringn(sc.s, sc.len), node, 0, err);
    }
}

static void json_newline(FILE *out, unsigned depth)
{
    fprintf(out, "\n%*s", (int)(depth * JSON_INDENT_WIDTH), "");
}

static int node_json(FILE *out, const snapconf_node *node, unsigned depth, render_error *err);

/* Writes item i of a mapping (with its key) or of a sequence. */
static int item_json(FILE *out, const snapconf_node *parent, size_t i, bool is_map, unsigned depth,
                     render_error *err)
{
    const snapconf_node *child = snapconf_node_at(parent, i);
    size_t keylen = 0;
    const char *key = NULL;

    if (child == NULL)
        return render_fail(err, parent, "item %zu is missing", i);
    if (is_map) {
        key = snapconf_node_key(child, &keylen);
        if (key == NULL)
            return render_fail(err, parent, "mapping entry %zu has no key", i);
        if (dump_json_value(out, json_stringn(key, keylen), child, 0, err) < 0)
            return -1;
        fputs(": ", out);
    }
    return node_json(out, child, depth, err);
}

static int collection_json(FILE *out, const snapconf_node *node, bool is_map, unsigned depth,
                           render_error *err)
{
    size_t n = snapconf_node_size(node);

    if (n == 0) {
        fputs(is_map ? "{}" : "[]", out);
        return 0;
    }
    fputc(is_map ? '{' : '[', out);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            fputc(',', out);
        json_newline(out, depth + 1);
        if (item_json(out, node, i, is_map, depth + 1, err) < 0)
            return -1;
        /* Stop early on a full disk rather than render the rest for
         * nothing. */
        if (ferror(out))
            return render_fail(err, NULL, "cannot write JSON output");
    }
    json_newline(out, depth);
    fputc(is_map ? '}' : ']', out);
    return 0;
}

static int node_json(FILE *out, const snapconf_node *node, unsigned depth, render_error *err)
{
    switch (snapconf_node_type(node)) {
    case SNAPCONF_TYPE_MAP:
        return collection_json(out, node, true, depth, err);
    case SNAPCONF_TYPE_SEQ:
        return collection_json(out, node, false, depth, err);
    default:
        return scalar_json(out, node, err);
    }
}

int render_json(FILE *out, const snapconf_node *node, render_error *err)
{
    if (node_json(out, node, 0, err) < 0)
        return -1;
    fputc('\n', out);
    return 0;
}

/* ---- YAML --------------------------------------------------------------- */

/*
 * Whether a string written as a plain scalar could read back as something
 * other than that string: a null, bool, int or float of the YAML 1.2 core
 * schema, a YAML 1.1 bool such as "on" (for readers still on 1.1), or the
 * merge key "<<".  Deliberately broad: quoting a string that did not need
 * it costs two characters, missing one changes a type.
 */
static bool plain_is_ambiguous(const char *s, size_t len)
{
    static const char *const words[] = {"null", "~",   "true", "false", "yes", "no",
                                        "on",   "off", "y",    "n",     "<<",  "="};

    if (len == 0 || isdigit((unsigned char)s[0]) || s[0] == '.')
        return true;
    if ((s[0] == '-' || s[0] == '+') && len > 1 && (isdigit((unsigned char)s[1]) || s[1] == '.'))
        return true;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
            return true;
    }
    return false;
}

/* The style to ask libyaml for; it still falls back to a quoted style on
 * its own when the text cannot be written plain or as a literal block. */
static yaml_scalar_style_t string_style(const char *s, size_t len)
{
    if (memchr(s, '\n', len) != NULL)
        return YAML_LITERAL_SCALAR_STYLE;
    if (plain_is_ambiguous(s, len))
        return YAML_SINGLE_QUOTED_SCALAR_STYLE;
    return YAML_ANY_SCALAR_STYLE;
}

/* render_double()'s text, made to read back as a float: "3" would be an
 * int, so it becomes "3.0", and "1e+100" becomes "1.0e+100", which YAML 1.1
 * readers also take for a float. */
#define YAML_FLOAT_MAX ((size_t)2 * RENDER_DOUBLE_MAX)

static void yaml_float_text(double d, char buf[YAML_FLOAT_MAX])
{
    char num[RENDER_DOUBLE_MAX];

    if (render_double(d, num) == 0 || strchr(num, '.') != NULL) {
        snprintf(buf, YAML_FLOAT_MAX, "%s", num);
        return;
    }
    char *e = strchr(num, 'e');
    if (e == NULL) {
        snprintf(buf, YAML_FLOAT_MAX, "%s.0", num);
        return;
    }
    *e = '\0';
    snprintf(buf, YAML_FLOAT_MAX, "%s.0e%s", num, e + 1);
}

struct yaml_ctx {
    yaml_emitter_t emitter;
    render_error *err;
};

/* Emits ev, which libyaml owns from here on, failed or not. */
static int emit(struct yaml_ctx *ctx, yaml_event_t *ev, const snapconf_node *node)
{
    if (yaml_emitter_emit(&ctx->emitter, ev))
        return 0;
    if (ctx->emitter.error == YAML_WRITER_ERROR)
        return render_fail(ctx->err, NULL, "cannot write YAML output");
    return render_fail(ctx->err, node, "YAML emitter: %s",
                       ctx->emitter.problem != NULL ? ctx->emitter.problem : "out of memory");
}

/* Emits one scalar event; tag may be NULL (then the type is implicit). */
static int emit_scalar(struct yaml_ctx *ctx, const snapconf_node *node, const char *tag,
                       const char *text, size_t len, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    int implicit = tag == NULL;

    if (len > INT_MAX)
        return render_fail(ctx->err, node, "string too long for the YAML emitter");
    if (!yaml_scalar_event_initialize(&ev, NULL, (const yaml_char_t *)tag,
                                      (const yaml_char_t *)text, (int)len, implicit, implicit,
                                      style))
        return render_fail(ctx->err, node, "cannot emit scalar (out of memory or invalid UTF-8)");
    return emit(ctx, &ev, node);
}

static int emit_plain(struct yaml_ctx *ctx, const snapconf_node *node, const char *text)
{
    return emit_scalar(ctx, node, NULL, text, strlen(text), YAML_PLAIN_SCALAR_STYLE);
}

/*
 * libyaml's emitter writes a tag that starts with '!' as a shorthand (the
 * "!" handle and the rest as its suffix) with ',', '[' and ']' left
 * unescaped, and its parser, as YAML requires, takes those for the end of
 * the tag.  The emitter offers no other form for such a tag (it writes the
 * verbatim !<...> only when no handle matches), so it is refused instead.
 */
static bool tag_writable(const char *tag)
{
    return tag[0] != '!' || strpbrk(tag + 1, ",[]") == NULL;
}

static int emit_string(struct yaml_ctx *ctx, const snapconf_node *node, const struct scalar *sc)
{
    /* An application tag ("!color") is kept, so the string reloads with
     * the same tag. */
    const char *tag = snapconf_node_tag(node);

    if (tag != NULL && !tag_writable(tag))
        return render_fail(ctx->err, node,
                           "the tag '%s' cannot be written as YAML (libyaml cannot write ',', "
                           "'[' or ']' in a tag that starts with '!')",
                           tag);
    return emit_scalar(ctx, node, tag, sc->s, sc->len, string_style(sc->s, sc->len));
}

static int emit_scalar_node(struct yaml_ctx *ctx, const snapconf_node *node)
{
    struct scalar sc;
    char buf[YAML_FLOAT_MAX];

    if (read_scalar(node, &sc, ctx->err) < 0)
        return -1;
    switch (sc.type) {
    case SNAPCONF_TYPE_NULL:
        return emit_plain(ctx, node, "null");
    case SNAPCONF_TYPE_BOOL:
        return emit_plain(ctx, node, sc.b ? "true" : "false");
    case SNAPCONF_TYPE_INT:
        snprintf(buf, sizeof(buf), "%" PRId64, sc.i);
        return emit_plain(ctx, node, buf);
    case SNAPCONF_TYPE_FLOAT:
        yaml_float_text(sc.d, buf);
        return emit_plain(ctx, node, buf);
    case SNAPCONF_TYPE_STRING:
        return emit_string(ctx, node, &sc);
    default:
        return render_fail(ctx->err, node, "not a scalar (type %d)", (int)sc.type);
    }
}

static int emit_node(struct yaml_ctx *ctx, const snapconf_node *node);

static int emit_map(struct yaml_ctx *ctx, const snapconf_node *node)
{
    size_t n = snapconf_node_size(node);
    yaml_event_t ev;

    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (emit(ctx, &ev, node) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const snapconf_node *child = snapconf_node_at(node, i);
        size_t keylen = 0;
        const char *key = child != NULL ? snapconf_node_key(child, &keylen) : NULL;

        if (key == NULL)
            return render_fail(ctx->err, node, "mapping entry %zu has no key", i);
        if (emit_scalar(ctx, child, NULL, key, keylen, string_style(key, keylen)) < 0 ||
            emit_node(ctx, child) < 0)
            return -1;
    }
    yaml_mapping_end_event_initialize(&ev);
    return emit(ctx, &ev, node);
}

static int emit_seq(struct yaml_ctx *ctx, const snapconf_node *node)
{
    size_t n = snapconf_node_size(node);
    yaml_event_t ev;

    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    if (emit(ctx, &ev, node) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const snapconf_node *child = snapconf_node_at(node, i);

        if (child == NULL)
            return render_fail(ctx->err, node, "sequence item %zu is missing", i);
        if (emit_node(ctx, child) < 0)
            return -1;
    }
    yaml_sequence_end_event_initialize(&ev);
    return emit(ctx, &ev, node);
}

static int emit_node(struct yaml_ctx *ctx, const snapconf_node *node)
{
    switch (snapconf_node_type(node)) {
    case SNAPCONF_TYPE_MAP:
        return emit_map(ctx, node);
    case SNAPCONF_TYPE_SEQ:
        return emit_seq(ctx, node);
    default:
        return emit_scalar_node(ctx, node);
    }
}

static int emit_document(struct yaml_ctx *ctx, const snapconf_node *node)
{
    yaml_event_t ev;

    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    if (emit(ctx, &ev, NULL) < 0)
        return -1;
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    if (emit(ctx, &ev, NULL) < 0 || emit_node(ctx, node) < 0)
        return -1;
    yaml_document_end_event_initialize(&ev, 1);
    if (emit(ctx, &ev, NULL) < 0)
        return -1;
    yaml_stream_end_event_initialize(&ev);
    return emit(ctx, &ev, NULL);
}

int render_yaml(FILE *out, const snapconf_node *node, render_error *err)
{
    struct yaml_ctx ctx = {.err = err};
    int rc;

    if (!yaml_emitter_initialize(&ctx.emitter))
        return render_fail(err, NULL, "out of memory");
    yaml_emitter_set_output_file(&ctx.emitter, out);
    yaml_emitter_set_unicode(&ctx.emitter, 1);
    /* No line folding: long values stay on one line, easier to grep. */
    yaml_emitter_set_width(&ctx.emitter, -1);
    rc = emit_document(&ctx, node);
    yaml_emitter_delete(&ctx.emitter);
    return rc;
}
