// test_cxx.cpp - proves that snapconf.h compiles as C++ (extern "C", no C-only
// constructs) and that a C++ program can load a buffer and read values.
#include "snapconf.h"

#include <cstdio>
#include <cstring>

static int failures = 0;

static void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        failures++;
    }
}

int main()
{
    static const char doc[] = "server:\n  port: 8080\n  host: example.org\n";
    snapconf_snap *snap = nullptr;
    snapconf_error err;
    int rc = snapconf_snap_load_buffer(doc, std::strlen(doc), "t.yaml", &snap, &err);

    check(rc == 0, "load");
    if (rc != 0) {
        std::fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int64_t port = 0;
    check(snapconf_get_int(snap, "server.port", &port) == 0 && port == 8080, "get_int");
    const char *host = nullptr;
    check(snapconf_get_str(snap, "server.host", &host) == 0 &&
              std::strcmp(host, "example.org") == 0,
          "get_str");
    const snapconf_node *server = nullptr;
    check(snapconf_find(snap, "server", &server) == 0 &&
              snapconf_node_type(server) == SNAPCONF_TYPE_MAP && snapconf_node_size(server) == 2,
          "find");
    check(snapconf_get_int_or(snap, "server.missing", 7) == 7, "get_int_or");
    check(std::strcmp(snapconf_err_name(SNAPCONF_ENOTFOUND), "SNAPCONF_ENOTFOUND") == 0,
          "err_name");
    check(snapconf_version() == SNAPCONF_VERSION_HEX, "version");

    snapconf_options opts;
    snapconf_options_init(&opts);
    check(opts.max_depth == SNAPCONF_DEFAULT_MAX_DEPTH, "options");

    snapconf_path *path = nullptr;
    check(snapconf_path_compile("server.port", &path, nullptr) == 0, "path_compile");
    port = 0;
    check(snapconf_path_get_int(snap, path, &port) == 0 && port == 8080, "path_get_int");
    snapconf_path_free(path);
    snapconf_snap_free(snap);
    return failures == 0 ? 0 : 1;
}
