/*
 * render.h - turning a snapshot node into text: plain, JSON or YAML.
 *
 * jansson encodes every JSON scalar and key, and libyaml's emitter writes
 * YAML, so quoting and escaping are always theirs, never ours.  Output is
 * streamed: memory stays proportional to the depth, not to the size of the
 * document with its aliases expanded.  Keys keep document order.  Aliases
 * are written out in full (JSON has none; for YAML it keeps the output
 * independent of how the source was written).
 */
#ifndef SNAPCONF_RENDER_H
#define SNAPCONF_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include <snapconf.h>

/* Why rendering failed, complete enough to show to a person as is. */
typedef struct render_error {
    char message[256];
} render_error;

/* Enough for any double in the shortest round-trip form, plus NUL. */
#define RENDER_DOUBLE_MAX 32

/*
 * Writes v to buf in the shortest of %.15g, %.16g and %.17g that reads back
 * as the same double, or as ".inf", "-.inf", ".nan", which is how YAML
 * writes them.  Returns the precision used, 0 for those three.
 */
int render_double(double v, char buf[RENDER_DOUBLE_MAX]);

/*
 * Writes node followed by a newline: a scalar as plain text (a string raw,
 * without quotes, NUL bytes included; null, true, false; an int in decimal;
 * a float as render_double() gives it), a mapping or a sequence as
 * render_json() does.  Returns 0, or -1 with err filled in.
 */
int render_text(FILE *out, const snapconf_node *node, render_error *err);

/*
 * Writes node as JSON indented by two spaces (jansson's JSON_INDENT(2)
 * layout), followed by a newline.  Each float has its shortest round-trip
 * form; infinities and NaN, which JSON cannot hold, become the strings
 * ".inf", "-.inf", ".nan".
 * Returns 0, or -1 with err filled in.
 */
int render_json(FILE *out, const snapconf_node *node, render_error *err);

/*
 * Writes node as a YAML document that loads back to the same values and
 * types: strings that would read as another type ("8080", "true", "") are
 * quoted, floats always look like floats.  Returns 0, or -1 with err filled
 * in.  One thing it refuses, with an error, rather than write YAML that does
 * not load: a tag starting with '!' that holds ',', '[' or ']' (written in
 * the source as !<!a,b> or !!a%2Cb), which libyaml's emitter cannot write
 * so that it reads back.
 */
int render_yaml(FILE *out, const snapconf_node *node, render_error *err);

#endif /* SNAPCONF_RENDER_H */
