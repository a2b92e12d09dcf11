/* Error codes in words, and the formatting of snapconf_error. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages are cut to fit snapconf_error by design; gcc cannot know that. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

const char *snapconf_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define SNAPCONF_STRERROR_CASE_(name, value, text)                                                 \
    case value:                                                                                    \
        return text;
        SNAPCONF_ERRNO_MAP(SNAPCONF_STRERROR_CASE_)
#undef SNAPCONF_STRERROR_CASE_
    }
    return "unknown error";
}

const char *snapconf_err_name(int code)
{
    switch (code) {
    case 0:
        return "SNAPCONF_OK";
#define SNAPCONF_ERR_NAME_CASE_(name, value, text)                                                 \
    case value:                                                                                    \
        return "SNAPCONF_" #name;
        SNAPCONF_ERRNO_MAP(SNAPCONF_ERR_NAME_CASE_)
#undef SNAPCONF_ERR_NAME_CASE_
    }
    return "SNAPCONF_EUNKNOWN";
}

static void error_vset(snapconf_error *err, int code, const char *file, unsigned line,
                       unsigned column, const char *fmt, va_list ap)
{
    char text[SNAPCONF_ERROR_MESSAGE_MAX];
    vsnprintf(text, sizeof text, fmt, ap);

    memset(err, 0, sizeof *err);
    err->code = code;
    err->line = (int)line;
    err->column = (int)column;
    if (file)
        snprintf(err->file, sizeof err->file, "%s", file);

    if (!file || !*file)
        snprintf(err->message, sizeof err->message, "%s", text);
    else if (line == 0)
        snprintf(err->message, sizeof err->message, "%s: %s", file, text);
    else
        snprintf(err->message, sizeof err->message, "%s:%u:%u: %s", file, line, column, text);
}

int snapconf__error(snapconf_error *err, int code, const char *file, unsigned line, unsigned column,
                    const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, file, line, column, fmt, ap);
    va_end(ap);
    return code;
}

int snapconf__error_sys(snapconf_error *err, int sys, const char *file, const char *fmt, ...)
{
    if (!err)
        return SNAPCONF_EIO;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, SNAPCONF_EIO, file, 0, 0, fmt, ap);
    va_end(ap);
    err->sys_errno = sys;
    return SNAPCONF_EIO;
}

char *snapconf__excerpt(char *out, size_t outsize, const char *s, size_t len, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < max && o + 5 < outsize; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (len > max && o + 4 < outsize) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o < outsize ? o : outsize - 1] = '\0';
    return out;
}
