/*
 * conformance.c - runs the YAML test suite through the snapconf CLI.
 *
 *   conformance-runner --suite DIR --snapconf BIN --skip FILE
 *                      [--timeout SECONDS] [--only ID]... [--verbose]
 *                      [--allow-stale-skips]
 *
 * Every case of the suite (a folder with an in.yaml, e.g. 229Q or DK95/00)
 * is loaded with `BIN dump --format json --file DIR/ID/in.yaml`, and:
 *
 *  - an error case (it has an `error` file) must be rejected: exit code 4;
 *  - a case whose in.json holds exactly one JSON document must load (exit 0)
 *    and print JSON equal to it: same types, same values, same keys in any
 *    order;
 *  - every other case (several documents, an empty stream, no in.json) has
 *    nothing snapconf can be held to, and must be listed in the skip file.
 *
 * The skip file lists cases that are out of scope, one per line:
 *
 *   ID[/VARIANT]  category  reason
 *
 * Skipped cases are still run, and each category says how a skipped case
 * must behave (see the categories[] table): a multi-document stream must be
 * rejected, a case libyaml 0.2.5 wrongly accepts must still be accepted, and
 * so on.  A skipped case that no longer behaves as its entry claims fails
 * the test, just like a failing case: an entry that stopped being true hides
 * either a fixed limitation (which should count in the score again) or a
 * changed behaviour nobody looked at, and the only way to keep a skip list
 * honest is to make stale entries impossible to ignore.  --allow-stale-skips
 * turns that into a warning for local experiments (say, with a newer
 * libyaml); CI never passes it.
 *
 * Exit status: 0 when every case passed, 1 when any failed, 2 when the test
 * could not run at all (suite or binary missing, bad skip file, bad usage).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The exit code the CLI documents for an invalid configuration. */
#define CLI_EXIT_INVALID 4
/* Output beyond this is a runaway child, not a configuration dump. */
#define OUTPUT_MAX ((size_t)64 << 20)
/* How much of an input, a JSON value or stderr a failure report shows. */
#define SHOW_MAX 1500

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

struct buf {
    char *data;
    size_t len, cap;
};

static void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static bool buf_append(struct buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "conformance: out of memory\n");
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static char *path_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static bool is_file(const char *dir, const char *name)
{
    char *p = path_join(dir, name);
    struct stat st;
    bool ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads a whole file; false (with errno set) when it cannot. */
static bool read_file(const char *path, struct buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        if (!buf_append(out, chunk, (size_t)n)) {
            errno = ENOMEM;
            n = -1;
            break;
        }
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (n == 0 && !out->data)
        buf_append(out, "", 0);
    return n == 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints text indented, with control characters made visible, cut short
 * after SHOW_MAX bytes, so that a failure report shows tabs and trailing
 * spaces (which matter in YAML) and stays readable. */
static void show_text(const char *label, const char *text, size_t len)
{
    printf("    %-9s", label);
    if (len == 0) {
        printf("(empty)\n");
        return;
    }
    printf("| ");
    for (size_t i = 0; i < len && i < SHOW_MAX; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' && i + 1 < len)
            printf("$\n             | ");
        else if (c == '\n')
            printf("$");
        else if (c == '\t')
            printf("\\t");
        else if (c == '\r')
            printf("\\r");
        else if (c < 0x20 || c == 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    if (len > SHOW_MAX)
        printf("... (%zu bytes in all)", len);
    putchar('\n');
}

/* Shows a JSON value in compact form with sorted keys, so that expected and
 * actual values line up for a reader whatever order the keys came in. */
static void show_json(const char *label, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s) {
        printf("    %-9s(cannot print)\n", label);
        return;
    }
    show_text(label, s, strlen(s));
    free(s);
}

/* ---------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------- */

/*
 * Parses in.json, which holds zero or more JSON documents one after another
 * (one per YAML document).  Returns the number of documents, or -1 with a
 * message when the file is not such a sequence; *first receives the first
 * document (a new reference) when there is one.
 */
static int parse_json_stream(const char *text, size_t len, json_t **first, char *msg,
                             size_t msgsize)
{
    size_t off = 0;
    int count = 0;
    *first = NULL;
    for (;;) {
        while (off < len && strchr(" \t\r\n", text[off]))
            off++;
        if (off >= len)
            return count;
        json_error_t err;
        json_t *v = json_loadb(text + off, len - off,
                               JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err);
        if (!v) {
            snprintf(msg, msgsize, "document %d: line %d: %s", count + 1, err.line, err.text);
            json_decref(*first);
            *first = NULL;
            return -1;
        }
        /* With JSON_DISABLE_EOF_CHECK, position is the number of bytes the
         * document took, so the next one starts right after it. */
        off += (size_t)err.position;
        if (count++ == 0)
            *first = v;
        else
            json_decref(v);
    }
}

/*
 * An integer and a real that denote the same number.
 *
 * JSON has one number type, and the suite's in.json files are written by an
 * emitter that drops a zero fraction: UGM3 has "price: 450.00", a YAML 1.2
 * core-schema float, and its in.json says 450.  jansson, though, reads 450 as
 * an integer and 450.0 as a real, and json_equal() calls them different.  So
 * an integer and a real are equal here when the real is exactly that integer
 * (in data-2022-01-17 only UGM3 needs this; --verbose marks such cases).
 * The price is that a YAML int wrongly loaded as an integral float ("450" as
 * 450.0) would pass too; int-versus-float typing is the unit tests' job
 * (test_scalar.c), and a non-integral float must still match exactly.
 */
static bool same_number(const json_t *a, const json_t *b)
{
    if (json_is_real(a))
        return same_number(b, a);
    if (!json_is_integer(a) || !json_is_real(b))
        return false;
    double r = json_real_value(b);
    /* 2^63 as a double: the first value outside json_int_t's range. */
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
        return false;
    return (double)(json_int_t)r == r && (json_int_t)r == json_integer_value(a);
}

/*
 * Semantic equality of two JSON values: objects compare as sets of keys
 * (key order never matters), arrays item by item, numbers by value (see
 * same_number()), everything else as json_equal() does, which for strings
 * includes embedded NUL bytes.  *by_value is set when some pair of numbers
 * was equal only by value.
 */
static bool json_same(const json_t *a, const json_t *b, bool *by_value)
{
    if (json_is_number(a) && json_is_number(b) && json_typeof(a) != json_typeof(b)) {
        bool eq = same_number(a, b);
        *by_value |= eq;
        return eq;
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!json_same(json_array_get(a, i), json_array_get(b, i), by_value))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *key;
        size_t keylen;
        json_t *va;
        json_object_keylen_foreach((json_t *)a, key, keylen, va)
        {
            json_t *vb = json_object_getn(b, key, keylen);
            if (!vb || !json_same(va, vb, by_value))
                return false;
        }
        return true;
    }
    return json_equal(a, b);
}

/* ---------------------------------------------------------------------------
 * The skip file
 * ------------------------------------------------------------------------- */

/* How a skipped case must still behave for its entry to be true. */
enum expect {
    EXPECT_REJECTED,  /* exit 4 */
    EXPECT_ACCEPTED,  /* exit 0 (the output cannot be checked) */
    EXPECT_DIFFERENT, /* exit 0 and the output differs from in.json */
};

static const struct category {
    const char *name;
    enum expect expect;
    const char *meaning;
} categories[] = {
    {"multi-doc", EXPECT_REJECTED, "snapconf loads exactly one document, so it must reject this"},
    {"complex-key", EXPECT_REJECTED, "snapconf rejects non-scalar mapping keys"},
    {"libyaml-refuses-valid", EXPECT_REJECTED,
     "valid YAML that libyaml 0.2.5 refuses, so snapconf rejects it"},
    {"libyaml-accepts-invalid", EXPECT_ACCEPTED,
     "invalid YAML that libyaml 0.2.5 accepts, so snapconf loads it"},
    {"libyaml-misreads-valid", EXPECT_DIFFERENT,
     "valid YAML that libyaml 0.2.5 reads as different data, so snapconf's output differs"},
    {"empty-stream", EXPECT_REJECTED,
     "a stream without documents; snapconf refuses it by design (an empty config is {})"},
    {"no-json", EXPECT_ACCEPTED,
     "valid YAML the suite gives no in.json for; snapconf must load it"},
};

#define N_CATEGORIES (sizeof categories / sizeof categories[0])

struct skip {
    char *id;
    const struct category *cat;
    char *reason;
    int line;
    bool matched;
};

struct skiplist {
    struct skip *v;
    size_t n;
};

static const struct category *find_category(const char *name)
{
    for (size_t i = 0; i < N_CATEGORIES; i++)
        if (strcmp(categories[i].name, name) == 0)
            return &categories[i];
    return NULL;
}

/* Splits off the next whitespace-separated word of *p, NUL-terminating it. */
static char *next_word(char **p)
{
    char *s = *p + strspn(*p, " \t");
    if (*s == '\0')
        return NULL;
    char *e = s + strcspn(s, " \t");
    if (*e != '\0')
        *e++ = '\0';
    *p = e;
    return s;
}

/* Parses one non-comment line into *sk; false with a message when it is
 * malformed. */
static bool parse_skip_line(char *line, struct skip *sk, char *msg, size_t msgsize)
{
    char *p = line;
    char *id = next_word(&p);
    char *cat = next_word(&p);
    char *reason = p + strspn(p, " \t");
    size_t rlen = strlen(reason);
    while (rlen > 0 && strchr(" \t\r", reason[rlen - 1]))
        reason[--rlen] = '\0';
    if (!id || !cat || rlen == 0) {
        snprintf(msg, msgsize, "expected 'ID  category  reason'");
        return false;
    }
    sk->cat = find_category(cat);
    if (!sk->cat) {
        int n = snprintf(msg, msgsize, "unknown category '%s' (known:", cat);
        for (size_t i = 0; i < N_CATEGORIES && n > 0 && (size_t)n < msgsize; i++)
            n += snprintf(msg + n, msgsize - (size_t)n, " %s", categories[i].name);
        if (n > 0 && (size_t)n < msgsize)
            snprintf(msg + n, msgsize - (size_t)n, ")");
        return false;
    }
    sk->id = xstrdup(id);
    sk->reason = xstrdup(reason);
    sk->matched = false;
    return true;
}

/* Loads the skip file; false (after printing why) when it cannot be used. */
static bool load_skips(const char *path, struct skiplist *out)
{
    struct buf text = {0};
    if (!read_file(path, &text)) {
        fprintf(stderr, "conformance: cannot read skip file %s: %s\n", path, strerror(errno));
        buf_free(&text);
        return false;
    }
    bool ok = true;
    int lineno = 0;
    char *save = NULL;
    size_t lines = 1;
    for (size_t i = 0; i < text.len; i++)
        lines += text.data[i] == '\n';
    out->v = xmalloc(sizeof *out->v * lines);
    out->n = 0;
    for (char *line = text.data; line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = '\0';
        lineno++;
        char *s = line + strspn(line, " \t\r");
        if (*s == '\0' || *s == '#')
            continue;
        struct skip sk = {.line = lineno};
        char msg[512];
        if (!parse_skip_line(s, &sk, msg, sizeof msg)) {
            fprintf(stderr, "conformance: %s:%d: %s\n", path, lineno, msg);
            ok = false;
            continue;
        }
        for (size_t i = 0; i < out->n; i++) {
            if (strcmp(out->v[i].id, sk.id) == 0) {
                fprintf(stderr, "conformance: %s:%d: %s is already listed at line %d\n", path,
                        lineno, sk.id, out->v[i].line);
                ok = false;
            }
        }
        out->v[out->n++] = sk;
    }
    buf_free(&text);
    return ok;
}

static struct skip *find_skip(struct skiplist *skips, const char *id)
{
    for (size_t i = 0; i < skips->n; i++)
        if (strcmp(skips->v[i].id, id) == 0)
            return &skips->v[i];
    return NULL;
}

/* ---------------------------------------------------------------------------
 * The suite
 * ------------------------------------------------------------------------- */

enum kind {
    KIND_ERROR,     /* has an `error` file: must be rejected */
    KIND_ONE_DOC,   /* in.json with one document: must load and be equal */
    KIND_MULTI_DOC, /* in.json with several documents */
    KIND_EMPTY,     /* in.json with no document: an empty stream */
    KIND_NO_JSON,   /* valid, but no in.json */
    KIND_BAD_JSON,  /* in.json that does not parse: a broken suite copy */
};

struct test_case {
    char *id;  /* "229Q" or "DK95/00" */
    char *dir; /* the folder holding in.yaml */
    char *name;
    enum kind kind;
    int json_docs;
    json_t *expected; /* the first in.json document, or NULL */
    char json_error[256];
};

struct caselist {
    struct test_case *v;
    size_t n, cap;
};

static void read_case(struct test_case *c)
{
    struct buf b = {0};
    char *p = path_join(c->dir, "===");
    if (read_file(p, &b)) {
        while (b.len > 0 && strchr("\r\n ", b.data[b.len - 1]))
            b.data[--b.len] = '\0';
        c->name = xstrdup(b.data);
    } else {
        c->name = xstrdup("(unnamed)");
    }
    free(p);
    buf_free(&b);

    /* Three cases carry `error` beside an in.json left over from another
     * variant; the suite says `error` wins. */
    c->json_docs = -1;
    if (is_file(c->dir, "error")) {
        c->kind = KIND_ERROR;
        return;
    }
    if (!is_file(c->dir, "in.json")) {
        c->kind = KIND_NO_JSON;
        return;
    }
    p = path_join(c->dir, "in.json");
    if (!read_file(p, &b)) {
        snprintf(c->json_error, sizeof c->json_error, "cannot read: %s", strerror(errno));
        c->kind = KIND_BAD_JSON;
    } else {
        c->json_docs =
            parse_json_stream(b.data, b.len, &c->expected, c->json_error, sizeof c->json_error);
        c->kind = c->json_docs < 0    ? KIND_BAD_JSON
                  : c->json_docs == 0 ? KIND_EMPTY
                  : c->json_docs == 1 ? KIND_ONE_DOC
                                      : KIND_MULTI_DOC;
    }
    free(p);
    buf_free(&b);
}

static void add_case(struct caselist *cases, const char *id, const char *dir)
{
    if (cases->n == cases->cap) {
        cases->cap = cases->cap ? cases->cap * 2 : 512;
        cases->v = realloc(cases->v, sizeof *cases->v * cases->cap);
        if (!cases->v) {
            fprintf(stderr, "conformance: out of memory\n");
            exit(2);
        }
    }
    struct test_case *c = &cases->v[cases->n++];
    memset(c, 0, sizeof *c);
    c->id = xstrdup(id);
    c->dir = xstrdup(dir);
    read_case(c);
}

/* Calls fn(name) for each visible subfolder of dir, in no particular order. */
static void each_subdir(const char *dir, void (*fn)(const char *dir, const char *name, void *ctx),
                        void *ctx)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = path_join(dir, e->d_name);
        if (is_dir(p))
            fn(dir, e->d_name, ctx);
        free(p);
    }
    closedir(d);
}

struct walk {
    struct caselist *cases;
    const char *id; /* the parent id while walking variants */
};

static void add_variant(const char *dir, const char *name, void *ctx)
{
    struct walk *w = ctx;
    char *p = path_join(dir, name);
    if (is_file(p, "in.yaml")) {
        char *id = path_join(w->id, name);
        add_case(w->cases, id, p);
        free(id);
    }
    free(p);
}

/* A test is either a case itself (229Q/in.yaml) or a folder of variants
 * (DK95/00/in.yaml, DK95/01/in.yaml, ...). */
static void add_test(const char *dir, const char *name, void *ctx)
{
    struct walk *w = ctx;
    char *p = path_join(dir, name);
    if (is_file(p, "in.yaml")) {
        add_case(w->cases, name, p);
    } else {
        struct walk sub = {w->cases, name};
        each_subdir(p, add_variant, &sub);
    }
    free(p);
}

static int compare_cases(const void *a, const void *b)
{
    return strcmp(((const struct test_case *)a)->id, ((const struct test_case *)b)->id);
}

static void load_suite(const char *suite, struct caselist *cases)
{
    struct walk w = {cases, NULL};
    each_subdir(suite, add_test, &w);
    if (cases->n > 0)
        qsort(cases->v, cases->n, sizeof *cases->v, compare_cases);
}

/* ---------------------------------------------------------------------------
 * Running the CLI
 * ------------------------------------------------------------------------- */

struct run {
    bool spawned; /* false: posix_spawn failed, see spawn_errno */
    int spawn_errno;
    bool timed_out; /* killed after the timeout */
    bool too_much;  /* killed for writing more than OUTPUT_MAX */
    int status;     /* from waitpid() */
    struct buf out, err;
};

static void run_free(struct run *r)
{
    buf_free(&r->out);
    buf_free(&r->err);
}

/* Reads what is ready on one pipe; closes it (fd = -1) at end of file. */
static void drain(int *fd, struct buf *b, struct run *r)
{
    char chunk[65536];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n > 0) {
        if (r->out.len + r->err.len + (size_t)n > OUTPUT_MAX || !buf_append(b, chunk, (size_t)n))
            r->too_much = true;
    } else if (n == 0 || errno != EINTR) {
        close(*fd);
        *fd = -1;
    }
}

/* Collects the child's output until both pipes close, the deadline passes
 * or it writes too much; true when it finished in time. */
static bool collect(int fds[2], struct run *r, double deadline)
{
    while ((fds[0] >= 0 || fds[1] >= 0) && !r->too_much) {
        double left = deadline - now_seconds();
        if (left <= 0)
            return false;
        if (left > 60)
            left = 60;
        struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        int n = poll(p, 2, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR)
            return false;
        for (int i = 0; i < 2 && n > 0; i++)
            if (fds[i] >= 0 && p[i].revents)
                drain(&fds[i], i == 0 ? &r->out : &r->err, r);
    }
    return !r->too_much;
}

/* Waits for the child until the deadline; kills it when it is not done by
 * then (a child may close its output and still hang). */
static void reap(pid_t pid, struct run *r, double deadline, bool kill_now)
{
    while (!kill_now) {
        pid_t w = waitpid(pid, &r->status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            return;
        if (now_seconds() >= deadline)
            break;
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    }
    if (!r->too_much)
        r->timed_out = true;
    kill(pid, SIGKILL);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
        ;
}

/* Runs `bin dump --format json --file file` with stdin from /dev/null. */
static void run_cli(const char *bin, const char *file, double timeout, struct run *r)
{
    memset(r, 0, sizeof *r);
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        r->spawn_errno = errno;
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    char *argv[] = {(char *)bin, "dump", "--format", "json", "--file", (char *)file, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        r->spawn_errno = rc;
        close(out[0]);
        close(err[0]);
        return;
    }
    r->spawned = true;
    double deadline = now_seconds() + timeout;
    int fds[2] = {out[0], err[0]};
    bool done = collect(fds, r, deadline);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    reap(pid, r, deadline, !done);
}

static bool exited_with(const struct run *r, int code)
{
    return r->spawned && !r->timed_out && !r->too_much && WIFEXITED(r->status) &&
           WEXITSTATUS(r->status) == code;
}

/* Describes how the child ended, for failure reports. */
static void describe_end(const struct run *r, char *s, size_t n)
{
    if (!r->spawned)
        snprintf(s, n, "could not start: %s", strerror(r->spawn_errno));
    else if (r->timed_out)
        snprintf(s, n, "killed after the timeout");
    else if (r->too_much)
        snprintf(s, n, "killed for writing over %zu bytes", OUTPUT_MAX);
    else if (WIFSIGNALED(r->status))
        snprintf(s, n, "killed by signal %d (%s)", WTERMSIG(r->status),
                 strsignal(WTERMSIG(r->status)));
    else
        snprintf(s, n, "exit %d", WEXITSTATUS(r->status));
}

/* ---------------------------------------------------------------------------
 * Judging a case
 * ------------------------------------------------------------------------- */

struct verdict {
    bool ok;
    char why[512];  /* for failures */
    json_t *actual; /* the parsed output, when there was one */
    bool by_value;  /* some numbers were equal by value only */
};

/* Parses the CLI's stdout: exactly one JSON value (whitespace around it is
 * fine, anything else is not). */
static json_t *parse_output(const struct run *r, char *msg, size_t n)
{
    json_error_t e;
    json_t *v = json_loadb(r->out.data ? r->out.data : "", r->out.len,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v)
        snprintf(msg, n, "stdout is not one JSON document: line %d column %d: %s", e.line, e.column,
                 e.text);
    return v;
}

/* The suite's own verdict: does the case pass as if it were not skipped? */
static void judge_suite(const struct test_case *c, const struct run *r, struct verdict *v)
{
    char end[128];
    describe_end(r, end, sizeof end);
    if (c->kind == KIND_ERROR) {
        v->ok = exited_with(r, CLI_EXIT_INVALID);
        if (!v->ok)
            snprintf(v->why, sizeof v->why, "invalid YAML not rejected: %s, expected exit %d", end,
                     CLI_EXIT_INVALID);
        return;
    }
    if (c->kind != KIND_ONE_DOC) {
        snprintf(v->why, sizeof v->why, "nothing to compare against");
        return;
    }
    if (!exited_with(r, 0)) {
        snprintf(v->why, sizeof v->why, "valid YAML not loaded: %s, expected exit 0", end);
        return;
    }
    v->actual = parse_output(r, v->why, sizeof v->why);
    if (!v->actual)
        return;
    v->ok = json_same(c->expected, v->actual, &v->by_value);
    if (!v->ok)
        snprintf(v->why, sizeof v->why, "output differs from in.json");
}

/* What each expectation looks like, for reports. */
static const char *expect_text(enum expect e)
{
    switch (e) {
    case EXPECT_REJECTED:
        return "exit 4";
    case EXPECT_ACCEPTED:
        return "exit 0";
    case EXPECT_DIFFERENT:
        return "exit 0 and output that differs from in.json";
    }
    return "?";
}

/* Does a skipped case still behave as its category claims?  suite is the
 * case's verdict as if it were not skipped. */
static void judge_skip(const struct skip *sk, const struct run *r, const struct verdict *suite,
                       struct verdict *v)
{
    char got[400];
    describe_end(r, got, sizeof got);
    switch (sk->cat->expect) {
    case EXPECT_REJECTED:
        v->ok = exited_with(r, CLI_EXIT_INVALID);
        break;
    case EXPECT_ACCEPTED:
        v->ok = exited_with(r, 0);
        break;
    case EXPECT_DIFFERENT:
        v->ok = exited_with(r, 0) && suite->actual && !suite->ok;
        if (exited_with(r, 0) && !v->ok)
            snprintf(got, sizeof got, "exit 0 and %.300s",
                     suite->ok ? "output equal to in.json" : suite->why);
        break;
    }
    if (!v->ok)
        snprintf(v->why, sizeof v->why, "the entry expects %s, got %.400s",
                 expect_text(sk->cat->expect), got);
}

/* ---------------------------------------------------------------------------
 * Reporting
 * ------------------------------------------------------------------------- */

struct options {
    const char *suite, *bin, *skip;
    double timeout;
    const char **only;
    size_t n_only;
    bool verbose, allow_stale;
};

struct score {
    size_t valid_total, valid_ok;
    size_t error_total, error_ok;
    size_t skipped, stale, unlisted, broken;
    size_t per_category[N_CATEGORIES];
};

static void show_case_input(const struct test_case *c)
{
    struct buf in = {0};
    char *p = path_join(c->dir, "in.yaml");
    if (read_file(p, &in))
        show_text("input", in.data, in.len);
    free(p);
    buf_free(&in);
}

static void show_details(const struct test_case *c, const struct run *r, const struct verdict *v)
{
    show_case_input(c);
    if (c->expected && c->kind == KIND_ONE_DOC)
        show_json("expected", c->expected);
    if (v->actual)
        show_json("actual", v->actual);
    else if (r->out.len > 0)
        show_text("stdout", r->out.data, r->out.len);
    if (r->err.len > 0)
        show_text("stderr", r->err.data, r->err.len);
}

/* Checks a skipped case against its entry; false when the entry no longer
 * holds (and stale entries are not allowed). */
static bool check_skipped(const struct test_case *c, struct skip *sk, const struct run *r,
                          const struct verdict *suite, struct score *sc, const struct options *o)
{
    struct verdict claim = {0};
    sk->matched = true;
    sc->skipped++;
    sc->per_category[sk->cat - categories]++;
    judge_skip(sk, r, suite, &claim);
    bool holds = claim.ok && !suite->ok;
    if (holds) {
        if (o->verbose)
            printf("skip %s: %s: %s\n", c->id, sk->cat->name, sk->reason);
    } else {
        sc->stale++;
        printf("%s %s (%s): skip entry no longer holds (%s:%d, %s: %s)\n",
               o->allow_stale ? "WARN" : "FAIL", c->id, c->name, o->skip, sk->line, sk->cat->name,
               sk->cat->meaning);
        if (suite->ok)
            printf("    it now passes the suite's check: remove it from the skip file\n");
        else
            printf("    %s\n", claim.why);
        show_details(c, r, claim.actual ? &claim : suite);
    }
    json_decref(claim.actual);
    return holds || o->allow_stale;
}

/* Checks a case the suite gives an expectation for and the skip file does
 * not list. */
static bool check_listed(const struct test_case *c, const struct run *r,
                         const struct verdict *suite, struct score *sc, const struct options *o)
{
    bool valid = c->kind == KIND_ONE_DOC;
    *(valid ? &sc->valid_total : &sc->error_total) += 1;
    if (!suite->ok) {
        printf("FAIL %s (%s): %s\n", c->id, c->name, suite->why);
        show_details(c, r, suite);
        return false;
    }
    *(valid ? &sc->valid_ok : &sc->error_ok) += 1;
    if (o->verbose)
        printf("ok   %s%s\n", c->id,
               suite->by_value ? " (an int in in.json equals a float by value)" : "");
    return true;
}

/* Judges one case, prints what a reader needs when it fails, and counts it.
 * Returns false when the case fails the test. */
static bool check_case(const struct test_case *c, struct skip *sk, const struct run *r,
                       struct score *sc, const struct options *o)
{
    struct verdict suite = {0};
    judge_suite(c, r, &suite);
    bool ok = false;
    if (sk) {
        ok = check_skipped(c, sk, r, &suite, sc, o);
    } else if (c->kind == KIND_ERROR || c->kind == KIND_ONE_DOC) {
        ok = check_listed(c, r, &suite, sc, o);
    } else if (c->kind == KIND_BAD_JSON) {
        sc->broken++;
        printf("FAIL %s (%s): the suite's in.json does not parse: %s\n", c->id, c->name,
               c->json_error);
    } else {
        sc->unlisted++;
        printf("FAIL %s (%s): %s, and the skip file does not list it; add it with a "
               "category and reason\n",
               c->id, c->name,
               c->kind == KIND_MULTI_DOC ? "several documents"
               : c->kind == KIND_EMPTY   ? "an empty stream"
                                         : "no in.json and no error file");
    }
    json_decref(suite.actual);
    return ok;
}

static void print_score(const struct score *sc, const char *skip_path)
{
    printf("conformance: %zu/%zu valid cases equal, %zu/%zu error cases rejected, %zu skipped "
           "(see %s)\n",
           sc->valid_ok, sc->valid_total, sc->error_ok, sc->error_total, sc->skipped, skip_path);
    printf("skipped by category:");
    for (size_t i = 0; i < N_CATEGORIES; i++)
        printf(" %s %zu%s", categories[i].name, sc->per_category[i],
               i + 1 < N_CATEGORIES ? "," : "\n");
    if (sc->stale)
        printf("skip entries that no longer hold: %zu\n", sc->stale);
    if (sc->unlisted)
        printf("cases neither testable nor listed in the skip file: %zu\n", sc->unlisted);
    if (sc->broken)
        printf("cases with an unreadable in.json: %zu\n", sc->broken);
}

/* ---------------------------------------------------------------------------
 * Main
 * ------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: conformance-runner --suite DIR --snapconf BIN --skip FILE\n"
               "                          [--timeout SECONDS] [--only ID]... [--verbose]\n"
               "                          [--allow-stale-skips]\n");
}

/* Returns the value of an option that takes one, or NULL (after saying
 * so) when it is missing. */
static const char *option_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "conformance: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static bool parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.timeout = 10.0};
    o->only = xmalloc(sizeof *o->only * (size_t)argc);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dest = strcmp(a, "--suite") == 0      ? &o->suite
                            : strcmp(a, "--snapconf") == 0 ? &o->bin
                            : strcmp(a, "--skip") == 0     ? &o->skip
                            : strcmp(a, "--only") == 0     ? &o->only[o->n_only]
                                                           : NULL;
        if (dest) {
            if (!(*dest = option_value(argc, argv, &i)))
                return false;
            o->n_only += dest == &o->only[o->n_only];
        } else if (strcmp(a, "--timeout") == 0) {
            const char *v = option_value(argc, argv, &i);
            if (!v)
                return false;
            o->timeout = strtod(v, NULL);
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--allow-stale-skips") == 0) {
            o->allow_stale = true;
        } else {
            fprintf(stderr, "conformance: unknown argument '%s'\n", a);
            return false;
        }
    }
    if (!o->suite || !o->bin || !o->skip) {
        fprintf(stderr, "conformance: --suite, --snapconf and --skip are required\n");
        return false;
    }
    if (!(o->timeout > 0 && o->timeout <= 3600)) {
        fprintf(stderr, "conformance: --timeout wants seconds, more than 0 and at most 3600\n");
        return false;
    }
    return true;
}

/* Selected by --only: an exact id, or a test id selecting all its variants. */
static bool selected(const struct options *o, const char *id)
{
    if (o->n_only == 0)
        return true;
    for (size_t i = 0; i < o->n_only; i++) {
        size_t n = strlen(o->only[i]);
        if (strncmp(id, o->only[i], n) == 0 && (id[n] == '\0' || id[n] == '/'))
            return true;
    }
    return false;
}

/* Checks that the suite and the binary are there; a missing suite is a
 * failure, never a quiet skip, since a test that passes without running
 * anything protects nothing. */
static bool check_inputs(const struct options *o)
{
    struct stat st;
    const char *why = stat(o->suite, &st) != 0 ? strerror(errno)
                      : !S_ISDIR(st.st_mode)   ? "not a folder"
                                               : NULL;
    if (why) {
        fprintf(stderr,
                "conformance: FAIL: the YAML test suite is not at %s (%s).\n"
                "  Put the suite's data there (shared/yaml-test-suite beside the repository),\n"
                "  or point the build at it:\n"
                "    cmake -DSNAPCONF_YAML_TEST_SUITE=/path/to/yaml-test-suite ...\n",
                o->suite, why);
        return false;
    }
    if (access(o->bin, X_OK) != 0) {
        fprintf(stderr, "conformance: FAIL: cannot run the snapconf CLI at %s: %s\n", o->bin,
                strerror(errno));
        return false;
    }
    return true;
}

static void free_cases(struct caselist *cases)
{
    for (size_t i = 0; i < cases->n; i++) {
        free(cases->v[i].id);
        free(cases->v[i].dir);
        free(cases->v[i].name);
        json_decref(cases->v[i].expected);
    }
    free(cases->v);
}

static void free_skips(struct skiplist *skips)
{
    for (size_t i = 0; i < skips->n; i++) {
        free(skips->v[i].id);
        free(skips->v[i].reason);
    }
    free(skips->v);
}

/* Runs every selected case; false when any failed. */
static bool run_all(const struct options *o, const struct caselist *cases, struct skiplist *skips,
                    struct score *sc, size_t *ran)
{
    bool all_ok = true;
    for (size_t i = 0; i < cases->n; i++) {
        const struct test_case *c = &cases->v[i];
        if (!selected(o, c->id))
            continue;
        char *in = path_join(c->dir, "in.yaml");
        struct run r;
        run_cli(o->bin, in, o->timeout, &r);
        all_ok &= check_case(c, find_skip(skips, c->id), &r, sc, o);
        run_free(&r);
        free(in);
        ++*ran;
    }
    /* An entry naming no case means the skip file and the suite disagree,
     * e.g. after a suite update renamed a case; the entry protects nothing. */
    for (size_t i = 0; i < skips->n && o->n_only == 0; i++) {
        if (!skips->v[i].matched) {
            printf("FAIL %s:%d: %s names no case in %s\n", o->skip, skips->v[i].line,
                   skips->v[i].id, o->suite);
            all_ok = false;
        }
    }
    return all_ok;
}

int main(int argc, char **argv)
{
    struct options o;
    struct skiplist skips = {0};
    struct caselist cases = {0};
    int status = 2;

    if (!parse_args(argc, argv, &o)) {
        usage(stderr);
        goto out;
    }
    if (!check_inputs(&o) || !load_skips(o.skip, &skips))
        goto out;
    load_suite(o.suite, &cases);
    if (cases.n == 0) {
        fprintf(stderr,
                "conformance: FAIL: no test cases (folders with an in.yaml) under %s; is "
                "SNAPCONF_YAML_TEST_SUITE pointing at the suite's data?\n",
                o.suite);
        goto out;
    }

    struct score sc = {0};
    size_t ran = 0;
    bool all_ok = run_all(&o, &cases, &skips, &sc, &ran);
    if (ran == 0) {
        fprintf(stderr, "conformance: FAIL: --only selected no case\n");
        goto out;
    }
    print_score(&sc, o.skip);
    printf("conformance: %s\n", all_ok ? "PASS" : "FAIL");
    status = all_ok ? 0 : 1;
out:
    free_cases(&cases);
    free_skips(&skips);
    free(o.only);
    return status;
}
