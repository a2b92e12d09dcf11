/*
 * snapconf.h - configuration snapshots with hot reload.
 *
 * libsnapconf loads a YAML document into an immutable snapshot: a read-only
 * tree of mappings, sequences and typed scalars that is built once, never
 * changed, and freed in one go.  Values are addressed by paths such as
 * "server.port", "upstreams[0].host" or 'labels."app.kubernetes.io/name"'.
 *
 * Conventions that hold for every function below unless its comment says
 * otherwise:
 *
 *  - Functions that can fail return 0 on success and a negative SNAPCONF_E*
 *    code on failure; snapconf_strerror() turns a code into words.
 *  - Output parameters come last and are written only on success.  An error
 *    struct, where a function takes one, is written only on failure and may
 *    be NULL when the caller does not want the details.
 *  - Every "const char *" or "const snapconf_node *" handed out by a
 *    snapshot is borrowed: it points into the snapshot, is never freed by the
 *    caller, and stays valid exactly as long as the snapshot does.
 *  - A snapshot is immutable, so any number of threads may read the same
 *    snapshot at once without locking.  Freeing it while another thread still
 *    reads it is the caller's bug; the live handle (see the live-reload API)
 *    exists to make that impossible.
 *  - The library never prints, never exits and installs no signal handlers.
 */
#ifndef SNAPCONF_H
#define SNAPCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SNAPCONF_VERSION_MAJOR 0
#define SNAPCONF_VERSION_MINOR 1
#define SNAPCONF_VERSION_PATCH 0
/* The version as one comparable number: 0xMMmmpp. */
#define SNAPCONF_VERSION_HEX                                                                       \
    ((SNAPCONF_VERSION_MAJOR << 16) | (SNAPCONF_VERSION_MINOR << 8) | SNAPCONF_VERSION_PATCH)

#if defined(SNAPCONF_BUILDING) && defined(__GNUC__)
#define SNAPCONF_API __attribute__((visibility("default")))
#else
#define SNAPCONF_API
#endif

/* ---------------------------------------------------------------------------
 * Error codes
 *
 * Each failure has its own stable negative code.  The list is one X-macro so
 * that the enum, snapconf_strerror() and snapconf_err_name() never disagree.
 * ------------------------------------------------------------------------- */
#define SNAPCONF_ERRNO_MAP(XX)                                                                     \
    XX(ENOTFOUND, -1, "no value at that path")                                                     \
    XX(ETYPE, -2, "value has a different type")                                                    \
    XX(ERANGE, -3, "value out of range")                                                           \
    XX(EPATH, -4, "invalid path syntax")                                                           \
    XX(EPARSE, -5, "invalid configuration")                                                        \
    XX(ELIMIT, -6, "configured limit exceeded")                                                    \
    XX(EIO, -7, "input/output error")                                                              \
    XX(ENOMEM, -8, "out of memory")                                                                \
    XX(EINVAL, -9, "invalid argument")                                                             \
    XX(EDEADLK, -10, "would deadlock: called from a read-side section or a callback")              \
    XX(EVALIDATE, -11, "rejected by the validator")                                                \
    XX(ESYS, -12, "system call failed")

typedef enum snapconf_errno {
#define SNAPCONF_ERRNO_ENUM_(name, value, text) SNAPCONF_##name = (value),
    SNAPCONF_ERRNO_MAP(SNAPCONF_ERRNO_ENUM_)
#undef SNAPCONF_ERRNO_ENUM_
} snapconf_errno;

/*
 * Returns a static, human-readable description of an error code, or
 * "unknown error" for a code this version does not know.  Never NULL; any
 * thread.
 */
SNAPCONF_API const char *snapconf_strerror(int code);

/*
 * Returns the symbolic name of an error code ("SNAPCONF_ENOTFOUND"), or
 * "SNAPCONF_EUNKNOWN".  Never NULL; any thread.
 */
SNAPCONF_API const char *snapconf_err_name(int code);

#define SNAPCONF_ERROR_FILE_MAX 512
#define SNAPCONF_ERROR_MESSAGE_MAX 512

/*
 * Details of a failure, filled in by the functions that take one, and only
 * when they fail.  The caller owns the struct (it usually lives on the
 * stack); nothing in it needs freeing.
 *
 * message is complete on its own and meant to be shown to a person as is:
 * it starts with "file:line:column: " when a position is known, then says
 * what is wrong and, where it helps, what to do about it, e.g.
 *   "config.yaml:12:3: duplicate key 'port' (first defined at line 8)"
 * line and column are 1-based and 0 when no position applies; sys_errno is
 * the operating system's errno for I/O failures and 0 otherwise.
 */
typedef struct snapconf_error {
    int code;                           /* a SNAPCONF_E* code */
    char file[SNAPCONF_ERROR_FILE_MAX]; /* source name, "" when none */
    int line, column;                   /* 1-based position, 0 when none */
    char message[SNAPCONF_ERROR_MESSAGE_MAX];
    int sys_errno; /* errno behind an EIO, else 0 */
} snapconf_error;

/* ---------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------- */

/* An immutable, fully built configuration.  Opaque. */
typedef struct snapconf_snap snapconf_snap;

/* One value inside a snapshot: a scalar, a mapping or a sequence.  Opaque;
 * always handled as a borrowed "const snapconf_node *". */
typedef struct snapconf_node snapconf_node;

/* How a live handle notices changes to its file (see snapconf_open()). */
typedef enum snapconf_watch_mode {
    SNAPCONF_WATCH_THREAD = 0, /* a background thread watches (default) */
    SNAPCONF_WATCH_EXTERNAL,   /* no thread: the host polls snapconf_fd() and calls
                                  snapconf_process() from its own event loop */
    SNAPCONF_WATCH_NONE,       /* no watching: only snapconf_reload() reloads */
} snapconf_watch_mode;

typedef enum snapconf_log_level {
    SNAPCONF_LOG_ERROR = 0,
    SNAPCONF_LOG_WARNING,
    SNAPCONF_LOG_INFO,
    SNAPCONF_LOG_DEBUG,
} snapconf_log_level;

/*
 * A user validator: called on the writer's thread with a fully built
 * candidate snapshot (and the current one, NULL at the first load) before
 * it is published.  Return 0 to accept it; anything else rejects it, and
 * the message written to err (use snapconf_error_at()) is recorded as the
 * reload's error while the current snapshot keeps serving.  The candidate is
 * borrowed for the call only.  The validator must not call snapconf_reload()
 * or snapconf_close() on the handle.
 */
typedef int (*snapconf_validate_fn)(void *userdata, const snapconf_snap *candidate,
                                    const snapconf_snap *current, snapconf_error *err);

/*
 * A log callback: one line of text (no trailing newline) per event.  Called
 * from the thread that did the work, usually the watcher's; it must not
 * block for long and must not call back into the handle's writer functions.
 */
typedef void (*snapconf_log_fn)(void *userdata, snapconf_log_level level, const char *message);

/* What one reload attempt of a live handle did, for metrics. */
typedef struct snapconf_reload_report {
    int code;                    /* 0, or the failure's SNAPCONF_E* code */
    bool published;              /* a new generation went live */
    uint64_t generation;         /* the live generation after the attempt */
    int64_t duration_ns;         /* reading, building, validating and publishing */
    const snapconf_error *error; /* the failure, NULL on success */
} snapconf_reload_report;

/*
 * Called after every reload attempt (success, unchanged content, or
 * failure) and after every runtime override that publishes (snapconf_set()
 * and the others), on the writer's thread, with a report borrowed for the
 * call.  A refused runtime override is not reported: its error goes to its
 * caller only, and never counts as a failed reload in the status.  Same
 * rules as the log callback.
 */
typedef void (*snapconf_reload_fn)(void *userdata, const snapconf_reload_report *report);

/*
 * Limits and settings for loading and for live handles.  Always start from
 * snapconf_options_init() so that fields added by later versions get their
 * defaults; then change the fields you care about.  The library copies what
 * it needs, so the struct may be discarded after the call it was passed to.
 */
typedef struct snapconf_options {
    size_t max_file_size; /* bytes; default 64 MiB */
    unsigned max_depth;   /* nesting of mappings and sequences; default 256 */
    size_t max_nodes;     /* nodes after alias and merge expansion; default 16 Mi */

    /* Live handles only (snapconf_open()). */
    snapconf_watch_mode watch; /* default SNAPCONF_WATCH_THREAD */
    unsigned debounce_ms;      /* quiet time before reloading after a change; default 50 */
    unsigned poll_ms;          /* 0: inotify (default); N: poll with stat and hash every N ms */
    bool allow_missing;        /* open on a missing file with an empty snapshot; default false */
    snapconf_validate_fn validate; /* NULL: built-in checks only */
    void *validate_userdata;
    snapconf_log_fn log; /* NULL: the library is silent */
    void *log_userdata;
    snapconf_log_level log_level; /* most verbose level passed to log; default INFO */
    snapconf_reload_fn on_reload; /* NULL: no reports */
    void *on_reload_userdata;

    /* Layers (see "Layered configuration" below); all off by default. */
    const char *const *dropin_dirs; /* NULL-terminated list of drop-in directories whose
                                     *.yaml files are read after the main file */
    const char *env_prefix;         /* e.g. "APP_": environment overrides; NULL or "": none */
    const char *state_file;         /* where runtime overrides persist; NULL: in memory only */

    uint64_t reserved_[6]; /* for fields added later; keep zero */
} snapconf_options;

#define SNAPCONF_DEFAULT_MAX_FILE_SIZE ((size_t)64 << 20)
#define SNAPCONF_DEFAULT_MAX_DEPTH 256u
#define SNAPCONF_DEFAULT_MAX_NODES ((size_t)16 << 20)
#define SNAPCONF_DEFAULT_DEBOUNCE_MS 50u

/* Fills *opts with the defaults.  Any thread. */
SNAPCONF_API void snapconf_options_init(snapconf_options *opts);

/* ---------------------------------------------------------------------------
 * Snapshots
 * ------------------------------------------------------------------------- */

/*
 * Loads the YAML file at path into a new snapshot.
 *
 * On success *out receives a snapshot the caller owns and must release with
 * snapconf_snap_free().  On failure nothing is allocated, *out is untouched
 * and err (when not NULL) says what went wrong and where.  Loading is
 * self-contained, so any number of threads may load at once.
 *
 * The file must hold exactly one YAML document in UTF-8.  An empty file, or
 * one with only comments, is an error (SNAPCONF_EPARSE at 1:1), so that a
 * file emptied by accident never replaces a live configuration; an empty
 * configuration is written {}.  A file that changes
 * while it is read (truncated or rewritten in place) fails with
 * SNAPCONF_EIO and sys_errno EAGAIN: try again once its writer is done.
 */
SNAPCONF_API int snapconf_snap_load_file(const char *path, snapconf_snap **out,
                                         snapconf_error *err);

/*
 * As snapconf_snap_load_file(), reading len bytes from buf instead.  name is
 * used in positions and error messages (NULL means "<buffer>").  The buffer
 * may contain NUL bytes (which YAML rejects, with an error) and need not be
 * NUL-terminated; it is not referenced after the call returns.
 */
SNAPCONF_API int snapconf_snap_load_buffer(const char *buf, size_t len, const char *name,
                                           snapconf_snap **out, snapconf_error *err);

/*
 * As the two loaders above, with limits from opts (NULL means defaults).
 * Exactly one of path and buf is used: buf when it is not NULL.
 */
SNAPCONF_API int snapconf_snap_load(const char *path, const char *buf, size_t len,
                                    const snapconf_options *opts, snapconf_snap **out,
                                    snapconf_error *err);

/*
 * Frees a snapshot the caller loaded, with every string and node in it.
 * NULL is accepted and ignored.  No thread may use the snapshot, or anything
 * borrowed from it, during or after this call.
 */
SNAPCONF_API void snapconf_snap_free(snapconf_snap *snap);

/*
 * The snapshot's generation: 0 for a snapshot loaded directly; for one
 * published by a live handle, 1 for the first publication and one more for
 * each after it.  Any thread.
 */
SNAPCONF_API uint64_t snapconf_snap_generation(const snapconf_snap *snap);

/* The name the snapshot was loaded from (file path or buffer name).
 * Borrowed from the snapshot. */
SNAPCONF_API const char *snapconf_snap_source(const snapconf_snap *snap);

/*
 * A 128-bit hash of the bytes the snapshot was loaded from (XXH3-128), as
 * 32 lowercase hex digits plus NUL.  Two loads of identical bytes have equal
 * hashes.  Borrowed from the snapshot.
 */
SNAPCONF_API const char *snapconf_snap_content_hash(const snapconf_snap *snap);

/* Bytes of memory the snapshot occupies, all blocks included. */
SNAPCONF_API size_t snapconf_snap_memory(const snapconf_snap *snap);

/* Number of nodes reachable from the root, counting every alias and merge
 * expansion (the figure checked against max_nodes). */
SNAPCONF_API size_t snapconf_snap_node_count(const snapconf_snap *snap);

/* The root node: a mapping for every usual config, never NULL. */
SNAPCONF_API const snapconf_node *snapconf_snap_root(const snapconf_snap *snap);

/* ---------------------------------------------------------------------------
 * Paths and lookups
 *
 * Path syntax: segments separated by '.', where a segment is a mapping key,
 * and "[N]" selects item N (from 0) of a sequence.  A key containing '.',
 * '[', ']' or '"' is written in double quotes, with \" and \\ as escapes:
 *     server.port   upstreams[0].host   matrix[1][2]
 *     labels."app.kubernetes.io/name"
 * The empty path "" is the root.  A bare key such as 0 is always a mapping
 * key, never an index.
 *
 * Lookups allocate nothing (except for a quoted key with escapes longer than
 * 1 KiB, which is compiled on the fly) and take expected O(1) time per
 * segment.  They
 * return SNAPCONF_ENOTFOUND when no value exists at the path (including
 * when the path walks into a scalar), SNAPCONF_EPATH for a malformed path.
 * ------------------------------------------------------------------------- */

/* Finds the node at path.  *out is borrowed from snap.  Any thread. */
SNAPCONF_API int snapconf_find(const snapconf_snap *snap, const char *path,
                               const snapconf_node **out);

/*
 * Typed getters.  They never convert: a string "8080" asked for as an int
 * is SNAPCONF_ETYPE.  The one exception is snapconf_get_double(), which also
 * accepts an int (converted exactly when |value| <= 2^53, else rounded).
 * Strings are borrowed from snap and NUL-terminated; a string that holds a
 * NUL byte (written as "\0" in YAML) is cut short there - use
 * snapconf_node_str() to get its full length.  Any thread.
 */
SNAPCONF_API int snapconf_get_str(const snapconf_snap *snap, const char *path, const char **out);
SNAPCONF_API int snapconf_get_int(const snapconf_snap *snap, const char *path, int64_t *out);
SNAPCONF_API int snapconf_get_double(const snapconf_snap *snap, const char *path, double *out);
SNAPCONF_API int snapconf_get_bool(const snapconf_snap *snap, const char *path, bool *out);

/*
 * The same, returning def when the value is missing, has another type, or
 * the path is malformed - for the common case of an optional setting with a
 * default.  The string variant's result is borrowed from snap (or is def).
 */
SNAPCONF_API const char *snapconf_get_str_or(const snapconf_snap *snap, const char *path,
                                             const char *def);
SNAPCONF_API int64_t snapconf_get_int_or(const snapconf_snap *snap, const char *path, int64_t def);
SNAPCONF_API double snapconf_get_double_or(const snapconf_snap *snap, const char *path, double def);
SNAPCONF_API bool snapconf_get_bool_or(const snapconf_snap *snap, const char *path, bool def);

/*
 * A precompiled path: parsed and hashed once, then looked up in any number
 * of snapshots at the lowest cost.  Compile hot paths at start-up.
 */
typedef struct snapconf_path snapconf_path;

/*
 * Compiles path.  On success *out is owned by the caller and released with
 * snapconf_path_free().  A compiled path is immutable: any number of threads
 * may use it at once, with any snapshot.  Errors: SNAPCONF_EPATH (err says
 * at which column), SNAPCONF_ENOMEM.
 */
SNAPCONF_API int snapconf_path_compile(const char *path, snapconf_path **out, snapconf_error *err);

/* Frees a compiled path; NULL is ignored. */
SNAPCONF_API void snapconf_path_free(snapconf_path *path);

/* The path's text in canonical form (quotes only where needed).  Borrowed
 * from the compiled path. */
SNAPCONF_API const char *snapconf_path_str(const snapconf_path *path);

/* snapconf_find() and the typed getters, for a compiled path. */
SNAPCONF_API int snapconf_find_path(const snapconf_snap *snap, const snapconf_path *path,
                                    const snapconf_node **out);
SNAPCONF_API int snapconf_path_get_str(const snapconf_snap *snap, const snapconf_path *path,
                                       const char **out);
SNAPCONF_API int snapconf_path_get_int(const snapconf_snap *snap, const snapconf_path *path,
                                       int64_t *out);
SNAPCONF_API int snapconf_path_get_double(const snapconf_snap *snap, const snapconf_path *path,
                                          double *out);
SNAPCONF_API int snapconf_path_get_bool(const snapconf_snap *snap, const snapconf_path *path,
                                        bool *out);

/* ---------------------------------------------------------------------------
 * Nodes
 *
 * Every function here takes a node borrowed from a snapshot and is valid
 * only while that snapshot is.  Any thread.  NULL nodes are not accepted.
 * ------------------------------------------------------------------------- */

typedef enum snapconf_type {
    SNAPCONF_TYPE_NULL = 0,
    SNAPCONF_TYPE_BOOL,
    SNAPCONF_TYPE_INT,
    SNAPCONF_TYPE_FLOAT,
    SNAPCONF_TYPE_STRING,
    SNAPCONF_TYPE_MAP,
    SNAPCONF_TYPE_SEQ,
} snapconf_type;

/* The node's type, resolved by the YAML 1.2 core schema (and explicit tags). */
SNAPCONF_API snapconf_type snapconf_node_type(const snapconf_node *node);

/* "null", "bool", "int", "float", "string", "map", "seq"; "unknown" else. */
SNAPCONF_API const char *snapconf_type_name(snapconf_type type);

/* Scalar values.  SNAPCONF_ETYPE when the node holds another type;
 * snapconf_node_double() accepts an int as snapconf_get_double() does.
 * For strings, *len (when len is not NULL) receives the length in bytes. */
SNAPCONF_API int snapconf_node_str(const snapconf_node *node, const char **out, size_t *len);
SNAPCONF_API int snapconf_node_int(const snapconf_node *node, int64_t *out);
SNAPCONF_API int snapconf_node_double(const snapconf_node *node, double *out);
SNAPCONF_API int snapconf_node_bool(const snapconf_node *node, bool *out);

/* Number of entries of a mapping or items of a sequence; 0 for a scalar. */
SNAPCONF_API size_t snapconf_node_size(const snapconf_node *node);

/*
 * Entry or item number i (from 0, in document order) of a mapping or a
 * sequence, or NULL when i is out of range or node is a scalar.  For a
 * mapping, snapconf_node_key() of the result is the entry's key.  Entries
 * brought in by a merge key ("<<: *defaults") stand where the "<<" stood,
 * in their own order, minus those the mapping sets explicitly, which keep
 * their own places.
 */
SNAPCONF_API const snapconf_node *snapconf_node_at(const snapconf_node *node, size_t i);

/* The key under which node sits in its mapping, NUL-terminated, with its
 * length in *len when len is not NULL; NULL for the root and for sequence
 * items. */
SNAPCONF_API const char *snapconf_node_key(const snapconf_node *node, size_t *len);

/* The value under key in the mapping node (key of keylen bytes, which may
 * hold any byte).  SNAPCONF_ENOTFOUND when absent or node is no mapping. */
SNAPCONF_API int snapconf_node_child(const snapconf_node *node, const char *key, size_t keylen,
                                     const snapconf_node **out);

/* Finds path relative to node, as snapconf_find() does from the root. */
SNAPCONF_API int snapconf_node_find(const snapconf_node *node, const char *path,
                                    const snapconf_node **out);

/* Where the value was written: 1-based line and column in the snapshot's
 * source.  Columns beyond 16,777,215 are reported as that number. */
SNAPCONF_API unsigned snapconf_node_line(const snapconf_node *node);
SNAPCONF_API unsigned snapconf_node_column(const snapconf_node *node);

/*
 * The explicit tag of a scalar whose tag snapconf does not interpret
 * ("!color", "tag:example.com,2024:x"); such a scalar is a string.  NULL
 * when the scalar had no tag or a core tag (!!str, !!int, ...), and for
 * mappings and sequences (their tags are not kept).
 */
SNAPCONF_API const char *snapconf_node_tag(const snapconf_node *node);

/* True when the scalar was written quoted or as a block scalar (| or >). */
SNAPCONF_API bool snapconf_node_quoted(const snapconf_node *node);

/* ---------------------------------------------------------------------------
 * Live handles: RCU publication and hot reload
 *
 * A handle loads a file, publishes the snapshot to any number of reader
 * threads, and - when the file changes - builds a complete new snapshot off
 * to the side, validates it and swaps it in with one atomic pointer
 * exchange.  The old snapshot is freed only after every reader that could
 * see it has finished (an RCU grace period, liburcu's "bulletproof" flavor),
 * by a reclaimer thread of the handle's that blocks every signal.
 *
 * Readers never wait, never see a half-built config and never touch freed
 * memory.  Threads need no registration: any thread may read, including
 * threads the library has never seen.
 *
 * There is one writer at a time: the watcher (a background thread, or the
 * host's own loop through snapconf_process()) or a caller of
 * snapconf_reload(); they are serialized inside the handle.
 * ------------------------------------------------------------------------- */

/* A live, hot-reloading configuration.  Opaque. */
typedef struct snapconf snapconf;

/*
 * Opens path, loads it and publishes it as generation 1, then starts
 * watching it as opts->watch says (NULL opts: defaults, a watcher thread).
 * Fails, returning no handle, when the first load fails - unless
 * opts->allow_missing is set and the file does not exist, in which case the
 * handle starts with an empty mapping and loads the file when it appears.
 * On success *out is owned by the caller and released with snapconf_close().
 * The watcher thread, if any, blocks every signal, so it never takes a
 * signal meant for the host (signalfd and sigwait keep working).
 */
SNAPCONF_API int snapconf_open(snapconf **out, const char *path, const snapconf_options *opts,
                               snapconf_error *err);

/*
 * Stops the watcher, waits for pending reclamation and frees every snapshot
 * the handle still owns.  NULL is ignored.  Call it once, from a thread that
 * is not inside a read-side section of this handle, after every other
 * thread has stopped using the handle (snapshots still held with
 * snapconf_snap_hold() stay valid until released).  Never from a callback.
 */
SNAPCONF_API void snapconf_close(snapconf *h);

/*
 * Pins the current snapshot and starts a read-side section.  Until the
 * matching snapconf_snap_end() the returned snapshot, and everything
 * borrowed from it, stays valid and unchanged, however many reloads happen.
 * Lock-free and wait-free: no lock, no atomic read-modify-write, no
 * allocation, no system call.  Sections nest.  Any thread.  Do not block
 * for long inside a section: a reload waits for it to end before freeing the
 * snapshot it replaced (readers never wait for reloads, only reloads for
 * readers).  Never NULL for an open handle.
 */
SNAPCONF_API const snapconf_snap *snapconf_snap_begin(snapconf *h);

/* Ends the read-side section begun by snapconf_snap_begin() on the same
 * thread; snap is what it returned, and must not be used afterwards. */
SNAPCONF_API void snapconf_snap_end(snapconf *h, const snapconf_snap *snap);

/*
 * Takes a counted reference to the current snapshot, for a reader that keeps
 * it for long (a transfer, a batch job) and so must not hold a read-side
 * section.  Costs one atomic increment.  Release it with
 * snapconf_snap_release(), from any thread, even after snapconf_close().
 * Call it outside any read-side section.  NULL only if h is NULL.
 */
SNAPCONF_API const snapconf_snap *snapconf_snap_hold(snapconf *h);

/* Drops a reference taken by snapconf_snap_hold(); the snapshot is freed
 * when it is neither published nor held.  NULL is ignored.  Any thread. */
SNAPCONF_API void snapconf_snap_release(const snapconf_snap *snap);

/*
 * Reloads the file now, synchronously, on the calling thread: read, build,
 * validate, publish (unless the bytes are identical to the current
 * snapshot's, which publishes nothing) and notify subscribers.  The old
 * snapshot is freed after a grace period by the handle's reclaimer thread
 * (with SNAPCONF_WATCH_EXTERNAL, which wants no hidden thread, by this call,
 * which then waits for the grace period); at most 4 wait at a time, beyond
 * which this call waits for the reclaimer.  Returns 0 when the file is live
 * (newly published or unchanged), else the load's error, also recorded in
 * the status; the current snapshot then keeps serving.  Returns
 * SNAPCONF_EDEADLK, doing nothing, when called from inside a read-side
 * section or from a callback of this handle.
 */
SNAPCONF_API int snapconf_reload(snapconf *h, snapconf_error *err);

/*
 * For hosts with their own event loop (opts->watch ==
 * SNAPCONF_WATCH_EXTERNAL): a descriptor that becomes readable when the
 * watcher has work.  Poll it for reading and call snapconf_process() when it
 * is ready.  Owned by the handle.  -1 for other watch modes.
 */
SNAPCONF_API int snapconf_fd(snapconf *h);

/*
 * Handles whatever is ready on snapconf_fd() without blocking: file events,
 * the debounce timer, polling.  A reload it triggers runs on the calling
 * thread, subscribers included.  Returns 0 or a negative code for a watcher
 * failure (a reload's own failure is recorded in the status, not returned).
 * Only for SNAPCONF_WATCH_EXTERNAL handles; one thread at a time.
 */
SNAPCONF_API int snapconf_process(snapconf *h);

/* ---------------------------------------------------------------------------
 * Changes
 * ------------------------------------------------------------------------- */

typedef enum snapconf_change_kind {
    SNAPCONF_CHANGE_ADDED = 0,
    SNAPCONF_CHANGE_REMOVED,
    SNAPCONF_CHANGE_MODIFIED,
} snapconf_change_kind;

/*
 * One changed path between two snapshots.  A whole mapping or sequence that
 * appears or disappears is one change at its own path; a value whose type
 * changes is one MODIFIED change.  path is in canonical form (quotes only
 * where needed).  old_node is NULL for ADDED, new_node for REMOVED.  All
 * pointers are borrowed for the duration of the callback.
 */
typedef struct snapconf_change {
    snapconf_change_kind kind;
    const char *path;
    const snapconf_node *old_node;
    const snapconf_node *new_node;
} snapconf_change;

/* Called once per change by snapconf_diff(); return 0 to go on, anything
 * else to stop (snapconf_diff() then returns that value). */
typedef int (*snapconf_diff_fn)(void *userdata, const snapconf_change *change);

/*
 * Compares two snapshots and reports each change in document order (old's
 * order for removals, new's for additions).  Either may be NULL, meaning an
 * empty mapping.  Returns 0, the callback's non-zero value, or
 * SNAPCONF_ENOMEM.  Any thread; both snapshots must stay valid throughout.
 */
SNAPCONF_API int snapconf_diff(const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                               snapconf_diff_fn cb, void *userdata);

/*
 * Called after each publication that changes something under the
 * subscription's prefix, with the old and new snapshots and the changes
 * that touch the prefix (at, under, or above it).  Runs on the writer's
 * thread (the watcher's, or the caller of snapconf_reload()), after the new
 * snapshot is published and before the old one is freed; both stay valid
 * during the call.  It must not block for long, and must not call
 * snapconf_reload(), snapconf_close() or snapconf_unsubscribe() on this
 * handle; reading (snapconf_snap_begin() and the getters) is fine.
 */
typedef void (*snapconf_change_fn)(void *userdata, const snapconf_snap *old_snap,
                                   const snapconf_snap *new_snap, const snapconf_change *changes,
                                   size_t count);

/*
 * Registers cb for changes under prefix (a path; "" or NULL for all).
 * Returns a positive subscription id, SNAPCONF_EPATH for a malformed prefix,
 * or SNAPCONF_ENOMEM.  Any thread, but not from a callback.
 */
SNAPCONF_API int snapconf_subscribe(snapconf *h, const char *prefix, snapconf_change_fn cb,
                                    void *userdata);

/* Removes a subscription; once it returns, the callback is not running and
 * will not run again.  SNAPCONF_ENOTFOUND for an unknown id.  Any thread,
 * but not from a callback. */
SNAPCONF_API int snapconf_unsubscribe(snapconf *h, int id);

/* ---------------------------------------------------------------------------
 * Layered configuration
 *
 * A live handle (and snapconf_snap_load_layered()) can publish one snapshot
 * merged from several layers, lowest first:
 *
 *   1. the main file;
 *   2. drop-ins: the files named *.yaml in each of opts->dropin_dirs, the
 *      directories in the order given and the files of each in lexical
 *      (byte) order of their names, as systemd and nginx read conf.d;
 *      names starting with '.' are skipped;
 *   3. the environment, when opts->env_prefix is set: APP_DATABASE__PORT=5433
 *      with prefix "APP_" sets database.port to the int 5433.  "__" separates
 *      segments; each segment matches an existing key case-insensitively
 *      when exactly one does, else it is lowercased.  The value is typed as
 *      a plain YAML scalar by the core schema (5433 an int, true a bool,
 *      "" and ~ a null, anything else - a number too large included - a
 *      string).  Variables are applied in the byte order of their names;
 *      a name with an empty segment (APP___X, APP_X__) is skipped;
 *   4. runtime overrides, from snapconf_set() and snapconf_unset(), in the
 *      order they were made.
 *
 * Merge rules, each later layer over what the earlier ones built: mappings
 * merge key by key, recursively, later values winning; sequences and
 * scalars replace the earlier value whole; a mapping replaces a scalar or
 * sequence whole; and a null in a drop-in or the environment deletes the
 * key (a null in the main file is a null value).  A runtime set replaces
 * the value at its path whole, mapping or not, creating missing parent
 * mappings; a runtime unset deletes it.
 *
 * The merged snapshot is as flat as a single file's: reads cost the same.
 * Every drop-in directory is watched like the main file (files added,
 * changed, renamed or removed), and the environment is read again at each
 * reload.  A layer that fails to load fails the whole reload: the error
 * names that layer's file and position and the last good snapshot keeps
 * serving.  Runtime overrides sit above every file and survive reloads:
 * they are applied again on top of each newly loaded set of files; if one
 * no longer applies (its parent became a scalar), the reload fails naming
 * it.  Node positions (snapconf_node_line()) are in the layer the value
 * came from; snapconf_explain() says which.
 *
 * Every file of a layered configuration must hold a mapping at its top.
 * Names in a drop-in directory that are not *.yaml, or not regular files
 * (directories, dangling symlinks), are skipped, at most 4096 per
 * directory.  A merged snapshot holds copies of what aliases share in a
 * file, counted against max_nodes, and nests at most 4096 levels.  A
 * merged snapshot's content hash covers every layer, and its source is
 * the main file.
 * ------------------------------------------------------------------------- */

/*
 * Loads path with the layers opts asks for (dropin_dirs, env_prefix, and
 * the overrides saved in state_file) into one merged snapshot, as a live
 * handle would publish it, but once and without a handle.  Ownership and
 * errors as snapconf_snap_load().  Any thread (it reads the environment:
 * not while another thread calls setenv()).
 */
SNAPCONF_API int snapconf_snap_load_layered(const char *path, const snapconf_options *opts,
                                            snapconf_snap **out, snapconf_error *err);

/*
 * Runtime overrides: sets the value at path to yaml_value (YAML text for
 * any value: "9090", "true", "[a, b]", "{host: x, port: 1}"; "null" sets a
 * null), or deletes it.  Each call builds a new snapshot from the current
 * files and overrides plus this change, validates it and publishes it as
 * one new generation, through the same single writer as a reload (so
 * subscribers hear of it); the change then stays above every file layer,
 * across reloads, until snapconf_revert().  With opts->state_file set, the
 * overrides are written there atomically before the publication (a crash
 * leaves the old or the new list, never a torn file) and applied again by
 * the next snapconf_open() with that state file.
 *
 * Errors (nothing published, err says why): SNAPCONF_EPATH; SNAPCONF_EPARSE
 * for a yaml_value that does not parse; SNAPCONF_ETYPE when a parent on the
 * path is a scalar, or an index segment meets no sequence; SNAPCONF_ENOTFOUND
 * for snapconf_unset() of a path with no value, or an index past a
 * sequence's end; SNAPCONF_EVALIDATE; SNAPCONF_EIO when the state file
 * cannot be written; SNAPCONF_EDEADLK as snapconf_reload().  Any thread
 * outside a read-side section and the handle's callbacks.
 */
SNAPCONF_API int snapconf_set(snapconf *h, const char *path, const char *yaml_value,
                              snapconf_error *err);
SNAPCONF_API int snapconf_unset(snapconf *h, const char *path, snapconf_error *err);

/*
 * Drops the runtime overrides made at path or below it ("" or NULL: all of
 * them), so the file layers show again, and publishes the result as one new
 * generation.  SNAPCONF_ENOTFOUND when there was none.  Otherwise as
 * snapconf_set().
 */
SNAPCONF_API int snapconf_revert(snapconf *h, const char *path, snapconf_error *err);

/* Where a layer's values come from. */
typedef enum snapconf_layer_kind {
    SNAPCONF_LAYER_FILE = 0, /* the main file */
    SNAPCONF_LAYER_DROPIN,   /* a file from a drop-in directory */
    SNAPCONF_LAYER_ENV,      /* an environment variable */
    SNAPCONF_LAYER_RUNTIME,  /* a runtime override (snapconf_set(), snapconf_unset()) */
} snapconf_layer_kind;

/* What a layer did to the value at the path asked about. */
typedef enum snapconf_origin_role {
    SNAPCONF_ORIGIN_VALUE = 0,  /* set the live value (nothing later changed it) */
    SNAPCONF_ORIGIN_MERGED,     /* gave entries to the live mapping, merged with others */
    SNAPCONF_ORIGIN_OVERRIDDEN, /* set a value a later layer replaced or deleted */
    SNAPCONF_ORIGIN_DELETED,    /* deleted the value: a null, an unset, or a scalar
                                   or sequence replacing a parent mapping */
} snapconf_origin_role;

/*
 * One layer's say about a path.  name and node are borrowed from the
 * snapshot given to snapconf_explain() and valid as long as it is; path is
 * valid during the callback only (copy it to keep it).
 */
typedef struct snapconf_origin {
    snapconf_layer_kind kind;
    snapconf_origin_role role;
    const char *name;          /* file path, variable name ("APP_DATABASE__PORT"), or
                                  "runtime" */
    const char *path;          /* the path this layer set: the one asked about, or for a
                                  deletion through a parent, that parent's */
    unsigned line, column;     /* position in the file; 0 for env and runtime layers */
    const snapconf_node *node; /* the layer's value at path; NULL for an unset */
} snapconf_origin;
/* An environment layer merged into a mapping is named "environment"; one
 * that set a scalar is named after its variable. */

/* Called by snapconf_explain() once per origin; non-zero stops it. */
typedef int (*snapconf_origin_fn)(void *userdata, const snapconf_origin *origin);

/*
 * Says where the value at path in snap came from, like `git config
 * --show-origin`: calls cb for every layer that set, merged or deleted it,
 * lowest layer first, each with its role; the live value's own layer is
 * the last one whose role is VALUE or MERGED.  A snapshot loaded without
 * layers has one layer, its file.  Returns 0 (after at least one call), the
 * callback's non-zero value, SNAPCONF_ENOTFOUND when no layer ever set
 * the path, or SNAPCONF_EPATH.  Any thread, while snap is valid.
 */
SNAPCONF_API int snapconf_explain(const snapconf_snap *snap, const char *path,
                                  snapconf_origin_fn cb, void *userdata);

/* "file", "dropin", "env", "runtime"; "unknown" else.  A static string,
 * never NULL; any thread. */
SNAPCONF_API const char *snapconf_layer_kind_name(snapconf_layer_kind kind);

/* "value", "merged", "overridden", "deleted"; "unknown" else.  A static
 * string, never NULL; any thread. */
SNAPCONF_API const char *snapconf_origin_role_name(snapconf_origin_role role);

/* ---------------------------------------------------------------------------
 * Status
 * ------------------------------------------------------------------------- */

typedef enum snapconf_watch_state {
    SNAPCONF_WATCHING_NONE = 0, /* not watching (SNAPCONF_WATCH_NONE) */
    SNAPCONF_WATCHING_INOTIFY,
    SNAPCONF_WATCHING_POLL, /* asked for, or fallen back to when inotify failed */
} snapconf_watch_state;

#define SNAPCONF_STATUS_PATH_MAX 4096

/* A copy of the handle's state; the caller owns it, nothing to free. */
typedef struct snapconf_status_info {
    uint64_t generation;                   /* of the published snapshot */
    char source[SNAPCONF_STATUS_PATH_MAX]; /* the path as opened */
    char content_hash[33];                 /* of the published snapshot */
    snapconf_watch_state watch;
    char watch_note[256];         /* e.g. why polling replaced inotify */
    int64_t last_load_time_ns;    /* CLOCK_REALTIME of the last successful load, 0: none */
    int64_t last_attempt_time_ns; /* CLOCK_REALTIME of the last reload attempt */
    uint64_t reloads;             /* publications after the first load */
    uint64_t failed_reloads;
    bool last_reload_ok;       /* the most recent attempt succeeded */
    snapconf_error last_error; /* of the most recent failure; code 0: none */
    size_t memory;             /* bytes of the published snapshot */
    size_t nodes;              /* its expanded node count */
    size_t retired;            /* replaced snapshots waiting for a grace period now */
    size_t retired_peak;       /* the most that ever waited at once: at most 4; a writer
                                  that would retire a fifth waits (back-pressure) */
    size_t layers;             /* layers merged into the published snapshot (1: the file) */
    size_t overrides;          /* runtime overrides in force */
} snapconf_status_info;

/* Fills *st with the handle's state.  Any thread, including callbacks. */
SNAPCONF_API int snapconf_status(snapconf *h, snapconf_status_info *st);

/*
 * For validators: records a failure in err at node's position in snap (node
 * may be NULL for no position), with a printf-style message, and returns
 * SNAPCONF_EVALIDATE so that a validator can `return snapconf_error_at(...)`.
 */
SNAPCONF_API int snapconf_error_at(snapconf_error *err, const snapconf_snap *snap,
                                   const snapconf_node *node, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------- */

/* The library's version as "MAJOR.MINOR.PATCH", and as SNAPCONF_VERSION_HEX
 * would give it; both describe the library actually loaded at run time. */
SNAPCONF_API const char *snapconf_version_string(void);
SNAPCONF_API unsigned snapconf_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SNAPCONF_H */
