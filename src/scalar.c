/*
 * The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1023-core-schema):
 *
 *   null   ~ | null | Null | NULL | (empty)
 *   bool   true | True | TRUE | false | False | FALSE
 *   int    [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
 *   float  [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 *          | [-+]?(\.inf|\.Inf|\.INF) | \.nan|\.NaN|\.NAN
 *
 * Everything else is a string.  YAML 1.1's yes/no/on/off are strings here,
 * which is what keeps "country: NO" a country.
 */
#include "scalar.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* s is one of the three spellings the core schema allows for a word.
 * Inline with a constant length, so that the compares become a few loads. */
#define IS_WORD(s, len, lower, cap, upper)                                                         \
    ((len) == sizeof(lower) - 1 &&                                                                 \
     (memcmp((s), lower, sizeof(lower) - 1) == 0 || memcmp((s), cap, sizeof(cap) - 1) == 0 ||      \
      memcmp((s), upper, sizeof(upper) - 1) == 0))

static bool match_null(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') || IS_WORD(s, len, "null", "Null", "NULL");
}

static int match_bool(const char *s, size_t len)
{
    if (IS_WORD(s, len, "true", "True", "TRUE"))
        return 1;
    if (IS_WORD(s, len, "false", "False", "FALSE"))
        return 0;
    return -1;
}

/* Accumulates digits of the given base into an unsigned magnitude. */
static int digits_to_u64(const char *s, size_t len, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return SNAPCONF_ETYPE;
    for (size_t i = 0; i < len; i++) {
        int d = hex_value(s[i]);
        if (d < 0 || (unsigned)d >= base)
            return SNAPCONF_ETYPE;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return SNAPCONF_ERANGE;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Returns 0 and the value, SNAPCONF_ETYPE when s is no core-schema int,
 * SNAPCONF_ERANGE when it is one but does not fit in int64_t. */
static int match_int(const char *s, size_t len, int64_t *out)
{
    uint64_t mag;
    int rc;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        rc = digits_to_u64(s + 2, len - 2, s[1] == 'x' ? 16 : 8, &mag);
        if (rc == 0 && mag > INT64_MAX)
            rc = SNAPCONF_ERANGE;
        if (rc == 0)
            *out = (int64_t)mag;
        return rc;
    }
    bool neg = len > 0 && s[0] == '-';
    size_t skip = len > 0 && (s[0] == '-' || s[0] == '+');
    rc = digits_to_u64(s + skip, len - skip, 10, &mag);
    if (rc)
        return rc;
    if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > INT64_MAX)
        return SNAPCONF_ERANGE;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

static size_t skip_digits(const char *s, size_t i, size_t len)
{
    while (i < len && is_digit(s[i]))
        i++;
    return i;
}

/* Checks s against the float regex above (finite forms). */
static bool float_syntax(const char *s, size_t len)
{
    size_t i = (len > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    size_t int_start = i;
    i = skip_digits(s, i, len);
    size_t int_digits = i - int_start;
    size_t frac_digits = 0;
    if (i < len && s[i] == '.') {
        size_t f = i + 1;
        i = skip_digits(s, f, len);
        frac_digits = i - f;
    }
    /* "[0-9]+(\.[0-9]*)?" or "\.[0-9]+" */
    if (int_digits == 0 && frac_digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t e = i;
        i = skip_digits(s, i, len);
        if (i == e)
            return false;
    }
    return i == len;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_make(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod in the C locale whatever the host application set, so that "1.5"
 * never depends on the user's LC_NUMERIC.  0, or SNAPCONF_ENOMEM when a
 * long text cannot be copied. */
static int parse_double(const char *s, size_t len, double *out)
{
    char buf[128];
    char *heap = NULL, *text = buf;
    if (len >= sizeof buf) {
        heap = malloc(len + 1);
        if (!heap)
            return SNAPCONF_ENOMEM;
        text = heap;
    }
    memcpy(text, s, len);
    text[len] = '\0';
    pthread_once(&c_locale_once, c_locale_make);
    *out = c_locale ? strtod_l(text, NULL, c_locale) : strtod(text, NULL);
    free(heap);
    return 0;
}

static bool match_special_float(const char *s, size_t len, double *out)
{
    size_t skip = (len > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (IS_WORD(s + skip, len - skip, ".inf", ".Inf", ".INF")) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (skip == 0 && IS_WORD(s, len, ".nan", ".NaN", ".NAN")) {
        *out = NAN;
        return true;
    }
    return false;
}

/* 0 and the value, SNAPCONF_ETYPE when s is no core-schema float,
 * SNAPCONF_ERANGE when it is one too large for a double (1e400): silently
 * turning it into infinity would be a conversion nobody asked for. */
static int match_float(const char *s, size_t len, double *out)
{
    if (match_special_float(s, len, out))
        return 0;
    if (!float_syntax(s, len))
        return SNAPCONF_ETYPE;
    int rc = parse_double(s, len, out);
    if (rc)
        return rc;
    return isinf(*out) ? SNAPCONF_ERANGE : 0;
}

/* Only text starting with one of these can be anything but a string. */
static bool may_be_typed(char c)
{
    return is_digit(c) || c == '-' || c == '+' || c == '.' || c == '~' || c == 'n' || c == 'N' ||
           c == 't' || c == 'T' || c == 'f' || c == 'F';
}

int snapconf__resolve_plain(const char *s, size_t len, struct snapconf__scalar *out)
{
    out->type = SNAPCONF_TYPE_STRING;
    if (len == 0 || match_null(s, len)) {
        out->type = SNAPCONF_TYPE_NULL;
        return 0;
    }
    if (!may_be_typed(s[0]))
        return 0;
    int b = match_bool(s, len);
    if (b >= 0) {
        out->type = SNAPCONF_TYPE_BOOL;
        out->v.b = b;
        return 0;
    }
    int rc = match_int(s, len, &out->v.i);
    if (rc == 0) {
        out->type = SNAPCONF_TYPE_INT;
        return 0;
    }
    if (rc == SNAPCONF_ERANGE)
        return rc; /* out->type says which kind overflowed: still STRING here, so INT */
    rc = match_float(s, len, &out->v.d);
    if (rc == SNAPCONF_ETYPE)
        return 0;
    out->type = SNAPCONF_TYPE_FLOAT;
    return rc;
}

int snapconf__parse_as(snapconf_type type, const char *s, size_t len, struct snapconf__scalar *out)
{
    int rc;
    switch (type) {
    case SNAPCONF_TYPE_NULL:
        if (!match_null(s, len))
            return SNAPCONF_ETYPE;
        break;
    case SNAPCONF_TYPE_BOOL:
        if ((rc = match_bool(s, len)) < 0)
            return SNAPCONF_ETYPE;
        out->v.b = rc;
        break;
    case SNAPCONF_TYPE_INT:
        if ((rc = match_int(s, len, &out->v.i)) != 0)
            return rc;
        break;
    case SNAPCONF_TYPE_FLOAT: {
        int64_t i;
        if ((rc = match_float(s, len, &out->v.d)) != SNAPCONF_ETYPE) {
            if (rc)
                return rc;
            break;
        }
        if ((rc = match_int(s, len, &i)) == 0)
            out->v.d = (double)i;
        else if (rc != SNAPCONF_ERANGE)
            return SNAPCONF_ETYPE;
        else if ((rc = parse_double(s, len, &out->v.d)) != 0)
            return rc;
        break;
    }
    default:
        return SNAPCONF_ETYPE;
    }
    out->type = type;
    return 0;
}
