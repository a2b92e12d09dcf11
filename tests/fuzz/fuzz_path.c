/*
 * fuzz_path.c - libFuzzer target for the path syntax and lookups.
 *
 * The input, as a C string, is looked up in a fixed snapshot every way the
 * API allows: snapconf_find(), snapconf_node_find() from the root, a
 * compiled path (twice: once walking, once through its memo) and the typed
 * getters.  They must all agree: the same node or the same error, and a
 * malformed path is SNAPCONF_EPATH for both the lookups and
 * snapconf_path_compile(), whose error must point into the path.  A path
 * that compiles has a canonical text that compiles again to itself and
 * finds the same node (the round trip).
 *
 * The snapshot has what paths can reach: nested mappings and sequences,
 * a mapping large enough to be indexed, keys that need quotes (dots,
 * brackets, quotes, backslashes, the empty key, a space), keys that look
 * like numbers, and a quoted key longer than the lookups' unescape buffer.
 */
#include "fuzz.h"

#include <stdbool.h>

/* Longer than SNAPCONF__SEGMENT_BUF (1024), with a quote in it, so that a
 * string lookup of it takes the compiled fallback. */
#define LONG_KEY_LEN 1100

static const char doc_head[] = "a:\n"
                               "  b:\n"
                               "    c: 1\n"
                               "servers:\n"
                               "  - host: h0\n"
                               "    port: 80\n"
                               "  - {host: h1, port: 81, tls: true}\n"
                               "matrix: [[1, 2, 3], [4.5, null, [x]]]\n"
                               "labels:\n"
                               "  app.kubernetes.io/name: web\n"
                               "  \"a\\\"b\": quote\n"
                               "  \"a\\\\b\": backslash\n"
                               "  \"x[0]\": brackets\n"
                               "  \"\": empty\n"
                               "  \"with space\": sp\n"
                               "  \"\\u00fcn\\u00efcode\": unicode\n"
                               "  c\\d: bare backslash\n"
                               "big: {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7,\n"
                               "      k8: 8, k9: 9, k10: 10, k11: {deep: [d]}, \"0\": zero}\n"
                               "\"0\": zero-key\n"
                               "\"[1]\": bracket-key\n"
                               "base: &base {x: 1, y: 2}\n"
                               "merged: {<<: *base, y: 3}\n"
                               "empty_map: {}\n"
                               "empty_seq: []\n"
                               "long:\n";

static snapconf_snap *snap;

/* The document above plus a mapping under "long" whose one key is
 * LONG_KEY_LEN bytes with a quote in the middle. */
static char *make_doc(size_t *len)
{
    size_t head = sizeof(doc_head) - 1;
    char *doc = malloc(head + LONG_KEY_LEN + 32);

    FUZZ_CHECK(doc != NULL, "out of memory");
    memcpy(doc, doc_head, head);
    char *p = doc + head;
    /* YAML allows implicit keys of up to 1024 characters: this one is an
     * explicit key ("? "). */
    p += sprintf(p, "  ? \"");
    for (size_t i = 0; i < LONG_KEY_LEN; i++)
        *p++ = i == LONG_KEY_LEN / 2 ? '\'' : 'k';
    p[-1] = '"';
    p[-2] = '\\'; /* ...k\" : the key ends with a quote character */
    p += sprintf(p, "\"\n  : long\n");
    *len = (size_t)(p - doc);
    return doc;
}

static const snapconf_snap *fixture(void)
{
    if (snap == NULL) {
        snapconf_error err;
        size_t len;
        char *doc = make_doc(&len);
        int rc = snapconf_snap_load_buffer(doc, len, "fixture.yaml", &snap, &err);
        FUZZ_CHECK(rc == 0, "the fixture does not load: %s", err.message);
        free(doc);
    }
    return snap;
}

/* snapconf_path_compile() failed: its error must say where. */
static void check_compile_error(const char *path, int rc, const snapconf_error *err)
{
    FUZZ_CHECK(rc == SNAPCONF_EPATH, "compile: %s", snapconf_err_name(rc));
    FUZZ_CHECK(err->code == rc, "err.code %d", err->code);
    FUZZ_CHECK(fuzz_terminated(err->message, sizeof(err->message)) && err->message[0] != '\0',
               "no message");
    FUZZ_CHECK(err->line == 1, "line %d", err->line);
    FUZZ_CHECK(err->column >= 1 && (size_t)err->column <= strlen(path) + 1, "column %d of %zu",
               err->column, strlen(path));
}

/* The typed getters agree with the node's type, for both kinds of path. */
static void check_getters(const char *path, const snapconf_path *cp, const snapconf_node *node)
{
    /* -1: nothing found, so every getter must fail. */
    int t = node != NULL ? (int)snapconf_node_type(node) : -1;
    const char *s1 = NULL, *s2 = NULL;
    int64_t i1 = 0, i2 = 0;
    double d1 = 0, d2 = 0;
    bool b1 = false, b2 = false;

    FUZZ_CHECK((snapconf_get_str(snap, path, &s1) == 0) == (t == SNAPCONF_TYPE_STRING), "str");
    FUZZ_CHECK((snapconf_path_get_str(snap, cp, &s2) == 0) == (t == SNAPCONF_TYPE_STRING), "str");
    FUZZ_CHECK(s1 == s2, "get_str and path_get_str differ");
    FUZZ_CHECK((snapconf_get_int(snap, path, &i1) == 0) == (t == SNAPCONF_TYPE_INT), "int");
    FUZZ_CHECK((snapconf_path_get_int(snap, cp, &i2) == 0) == (t == SNAPCONF_TYPE_INT), "int");
    FUZZ_CHECK(i1 == i2, "get_int and path_get_int differ");
    bool num = t == SNAPCONF_TYPE_INT || t == SNAPCONF_TYPE_FLOAT;
    FUZZ_CHECK((snapconf_get_double(snap, path, &d1) == 0) == num, "double");
    FUZZ_CHECK((snapconf_path_get_double(snap, cp, &d2) == 0) == num, "double");
    FUZZ_CHECK(d1 == d2, "get_double and path_get_double differ"); /* the fixture has no NaN */
    FUZZ_CHECK((snapconf_get_bool(snap, path, &b1) == 0) == (t == SNAPCONF_TYPE_BOOL), "bool");
    FUZZ_CHECK((snapconf_path_get_bool(snap, cp, &b2) == 0) == (t == SNAPCONF_TYPE_BOOL), "bool");
    FUZZ_CHECK(b1 == b2, "get_bool and path_get_bool differ");
    FUZZ_CHECK(snapconf_get_int_or(snap, path, -7) == (t == SNAPCONF_TYPE_INT ? i1 : -7), "int_or");
}

/* A compiled path finds what the string found, walking and from the memo. */
static void check_compiled(const snapconf_path *cp, int want_rc, const snapconf_node *want)
{
    for (int pass = 0; pass < 2; pass++) {
        const snapconf_node *node = NULL;
        int rc = snapconf_find_path(snap, cp, &node);
        FUZZ_CHECK(rc == want_rc && node == want, "compiled '%s' pass %d: %s, string lookup %s",
                   snapconf_path_str(cp), pass, snapconf_err_name(rc), snapconf_err_name(want_rc));
    }
}

/* The canonical text compiles to itself and finds the same node. */
static void check_round_trip(const snapconf_path *cp, int want_rc, const snapconf_node *want)
{
    const char *canonical = snapconf_path_str(cp);
    const snapconf_node *node = NULL;
    snapconf_path *again = NULL;
    snapconf_error err;
    int rc = snapconf_path_compile(canonical, &again, &err);

    FUZZ_CHECK(rc == 0, "canonical '%s' does not compile: %s", canonical, err.message);
    FUZZ_CHECK(strcmp(snapconf_path_str(again), canonical) == 0, "canonical '%s' became '%s'",
               canonical, snapconf_path_str(again));
    rc = snapconf_find(snap, canonical, &node);
    FUZZ_CHECK(rc == want_rc && node == want, "canonical '%s': %s, original %s", canonical,
               snapconf_err_name(rc), snapconf_err_name(want_rc));
    check_compiled(again, want_rc, want);
    snapconf_path_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_cstring(data, size);
    const snapconf_node *found = NULL, *from_root = NULL;
    snapconf_path *cp = NULL;
    snapconf_error err;

    fixture();
    int rc = snapconf_find(snap, path, &found);
    FUZZ_CHECK(rc == 0 || rc == SNAPCONF_ENOTFOUND || rc == SNAPCONF_EPATH, "find: %s",
               snapconf_err_name(rc));
    FUZZ_CHECK(snapconf_node_find(snapconf_snap_root(snap), path, &from_root) == rc &&
                   from_root == found,
               "snapconf_node_find from the root differs");
    memset(&err, 0, sizeof(err));
    int crc = snapconf_path_compile(path, &cp, &err);
    if (crc != 0) {
        check_compile_error(path, crc, &err);
        FUZZ_CHECK(rc == SNAPCONF_EPATH, "compile says EPATH, find says %s", snapconf_err_name(rc));
    } else {
        FUZZ_CHECK(rc != SNAPCONF_EPATH, "find says EPATH, but the path compiles");
        check_compiled(cp, rc, found);
        check_round_trip(cp, rc, found);
        check_getters(path, cp, found);
        snapconf_path_free(cp);
    }
    free(path);
    return 0;
}
