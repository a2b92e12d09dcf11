// cxx_include.cpp - the installed snapconf.h as a C++ program sees it:
// compiled by packaging_downstream with g++ -std=c++11 -Wall -Wextra
// -Werror -pedantic against the staged installation, linked with
// -lsnapconf, and run.  It proves that the header is valid C++11 without
// extensions, that its functions have C linkage (the link), and that the
// library loaded at run time is the version the header describes.
#include <snapconf.h>

#include <cstdio>
#include <cstring>

static_assert(SNAPCONF_VERSION_HEX == ((SNAPCONF_VERSION_MAJOR << 16) |
                                       (SNAPCONF_VERSION_MINOR << 8) | SNAPCONF_VERSION_PATCH),
              "SNAPCONF_VERSION_HEX packs the three version macros");
static_assert(SNAPCONF_ENOTFOUND < 0 && SNAPCONF_ESYS < 0, "error codes are negative");

int main()
{
    static const char doc[] = "server: {port: 8080, host: example.org}\n";
    snapconf_snap *snap = nullptr;
    snapconf_error err;
    if (snapconf_snap_load_buffer(doc, std::strlen(doc), "cxx.yaml", &snap, &err) != 0) {
        std::fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int64_t port = snapconf_get_int_or(snap, "server.port", 0);
    const char *host = snapconf_get_str_or(snap, "server.host", "");
    bool ok = port == 8080 && std::strcmp(host, "example.org") == 0 &&
              snapconf_version() == SNAPCONF_VERSION_HEX;
    std::printf("C++: server.port=%lld server.host=%s libsnapconf %s\n", (long long)port, host,
                snapconf_version_string());
    snapconf_snap_free(snap);
    return ok ? 0 : 1;
}
