/*
 * Change notification: snapconf_diff() and subscriptions report exactly the
 * changed paths, in canonical form, filtered by prefix; unsubscribe stops
 * callbacks; failed reloads and identical content fire nothing; the calls
 * that would deadlock (reload from a callback or a read-side section) are
 * refused with SNAPCONF_EDEADLK.
 *
 * Most tests publish with snapconf_reload() on a handle without a watcher,
 * so that every publication is exactly one step of the test.
 */
#include "live.h"

/* ------------------------------------------------------------------------- */
/* Recording changes                                                          */

#define MAX_CHANGES 64
#define MAX_CALLS 16

struct change {
    snapconf_change_kind kind;
    char path[128];
    bool has_old, has_new;
    snapconf_type old_type, new_type;
};

struct call {
    uint64_t old_gen, new_gen;
    size_t count;
};

struct rec {
    struct change ch[MAX_CHANGES];
    size_t n;
    struct call calls[MAX_CALLS];
    size_t ncalls;
    bool overflow;
};

static void rec_add(struct rec *r, const snapconf_change *c)
{
    if (r->n == MAX_CHANGES) {
        r->overflow = true;
        return;
    }
    struct change *d = &r->ch[r->n++];
    d->kind = c->kind;
    snprintf(d->path, sizeof d->path, "%s", c->path);
    d->has_old = c->old_node != NULL;
    d->has_new = c->new_node != NULL;
    d->old_type = c->old_node ? snapconf_node_type(c->old_node) : SNAPCONF_TYPE_NULL;
    d->new_type = c->new_node ? snapconf_node_type(c->new_node) : SNAPCONF_TYPE_NULL;
}

static int diff_cb(void *ud, const snapconf_change *c)
{
    rec_add(ud, c);
    return 0;
}

static void sub_cb(void *ud, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                   const snapconf_change *changes, size_t count)
{
    struct rec *r = ud;
    if (r->ncalls < MAX_CALLS)
        r->calls[r->ncalls] = (struct call){snapconf_snap_generation(old_snap),
                                            snapconf_snap_generation(new_snap), count};
    r->ncalls++;
    for (size_t i = 0; i < count; i++)
        rec_add(r, &changes[i]);
}

static const char *kind_name(snapconf_change_kind k)
{
    return k == SNAPCONF_CHANGE_ADDED     ? "ADDED"
           : k == SNAPCONF_CHANGE_REMOVED ? "REMOVED"
                                          : "MODIFIED";
}

/* Checks that r holds exactly the expected changes, given as a string of
 * "KIND path" lines, in any order; with old/new node presence matching the
 * kind. */
static void expect_changes(const struct rec *r, const char *const *want, size_t nwant)
{
    char got[4096] = "";
    size_t off = 0;
    for (size_t i = 0; i < r->n; i++)
        off += (size_t)snprintf(got + off, sizeof got - off, "  %s %s\n", kind_name(r->ch[i].kind),
                                r->ch[i].path);
    assert_false(r->overflow);
    bool used[MAX_CHANGES] = {false};
    bool ok = r->n == nwant;
    for (size_t w = 0; ok && w < nwant; w++) {
        bool found = false;
        for (size_t i = 0; i < r->n && !found; i++) {
            char line[200];
            snprintf(line, sizeof line, "%s %s", kind_name(r->ch[i].kind), r->ch[i].path);
            if (!used[i] && strcmp(line, want[w]) == 0)
                found = used[i] = true;
        }
        ok = found;
    }
    if (!ok) {
        char exp[4096] = "";
        size_t o = 0;
        for (size_t w = 0; w < nwant; w++)
            o += (size_t)snprintf(exp + o, sizeof exp - o, "  %s\n", want[w]);
        fail_msg("changes differ.\nexpected:\n%sgot:\n%s", exp, got);
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct change *c = &r->ch[i];
        switch (c->kind) {
        case SNAPCONF_CHANGE_ADDED:
            assert_false(c->has_old);
            assert_true(c->has_new);
            break;
        case SNAPCONF_CHANGE_REMOVED:
            assert_true(c->has_old);
            assert_false(c->has_new);
            break;
        case SNAPCONF_CHANGE_MODIFIED:
            assert_true(c->has_old);
            assert_true(c->has_new);
            break;
        }
    }
}

#define EXPECT(r, ...)                                                                             \
    do {                                                                                           \
        const char *const want_[] = {__VA_ARGS__};                                                 \
        expect_changes((r), want_, sizeof want_ / sizeof want_[0]);                                \
    } while (0)
#define EXPECT_NONE(r) expect_changes((r), NULL, 0)

static snapconf_snap *load(const char *yaml)
{
    snapconf_snap *s = NULL;
    snapconf_error err;
    if (snapconf_snap_load_buffer(yaml, strlen(yaml), "t.yaml", &s, &err) != 0)
        fail_msg("load: %s", err.message);
    return s;
}

/* Diffs two documents into r (reset first). */
static void diff_docs(struct rec *r, const char *a, const char *b)
{
    memset(r, 0, sizeof *r);
    snapconf_snap *sa = a ? load(a) : NULL, *sb = b ? load(b) : NULL;
    assert_int_equal(snapconf_diff(sa, sb, diff_cb, r), 0);
    snapconf_snap_free(sa);
    snapconf_snap_free(sb);
}

static const struct change *find_change(const struct rec *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->ch[i].path, path) == 0)
            return &r->ch[i];
    fail_msg("no change at %s", path);
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* snapconf_diff                                                             */

static void test_diff_added_removed_modified(void **state)
{
    (void)state;
    struct rec r;
    diff_docs(&r, "a: 1\nb: 2\nc: 3\nd: {x: 1, y: 2}\n",
              "a: 1\nb: 20\nd: {x: 1, y: 3, z: 4}\ne: 5\n");
    EXPECT(&r, "MODIFIED b", "REMOVED c", "MODIFIED d.y", "ADDED d.z", "ADDED e");
    const struct change *b = find_change(&r, "b");
    assert_int_equal(b->old_type, SNAPCONF_TYPE_INT);
    assert_int_equal(b->new_type, SNAPCONF_TYPE_INT);

    /* Identical documents: nothing. */
    diff_docs(&r, "a: 1\nb: [1, {c: d}]\n", "a: 1\nb: [1, {c: d}]\n");
    EXPECT_NONE(&r);
    /* Same values written differently: nothing (values, not text). */
    diff_docs(&r, "a: 0x10\nb: 'x'\nc: ~\nd: .nan\n", "a: 16\nb: \"x\"\nc: null\nd: .NaN\n");
    EXPECT_NONE(&r);
}

/* The old and new nodes of a change are the values on each side. */
static int check_nodes_cb(void *ud, const snapconf_change *c)
{
    int *seen = ud;
    int64_t a, b;
    if (strcmp(c->path, "port") == 0) {
        assert_int_equal(snapconf_node_int(c->old_node, &a), 0);
        assert_int_equal(snapconf_node_int(c->new_node, &b), 0);
        assert_int_equal(a, 80);
        assert_int_equal(b, 443);
        ++*seen;
    }
    return 0;
}

static void test_diff_old_and_new_nodes(void **state)
{
    (void)state;
    snapconf_snap *a = load("port: 80\n"), *b = load("port: 443\n");
    int seen = 0;
    assert_int_equal(snapconf_diff(a, b, check_nodes_cb, &seen), 0);
    assert_int_equal(seen, 1);
    snapconf_snap_free(a);
    snapconf_snap_free(b);
}

static void test_diff_type_change_is_one_modified(void **state)
{
    (void)state;
    struct rec r;
    diff_docs(&r, "a: 1\n", "a: {x: 1, y: 2}\n");
    EXPECT(&r, "MODIFIED a");
    assert_int_equal(r.ch[0].old_type, SNAPCONF_TYPE_INT);
    assert_int_equal(r.ch[0].new_type, SNAPCONF_TYPE_MAP);
    diff_docs(&r, "a: [1, 2]\n", "a: {x: 1}\n");
    EXPECT(&r, "MODIFIED a");
    assert_int_equal(r.ch[0].old_type, SNAPCONF_TYPE_SEQ);
    assert_int_equal(r.ch[0].new_type, SNAPCONF_TYPE_MAP);
    diff_docs(&r, "a: 1\n", "a: \"1\"\n");
    EXPECT(&r, "MODIFIED a");
    assert_int_equal(r.ch[0].new_type, SNAPCONF_TYPE_STRING);
    diff_docs(&r, "a: {b: 1}\n", "a: {b: ~}\n");
    EXPECT(&r, "MODIFIED a.b");
    assert_int_equal(r.ch[0].new_type, SNAPCONF_TYPE_NULL);
}

static void test_diff_removed_subtree_is_one_change(void **state)
{
    (void)state;
    struct rec r;
    diff_docs(&r,
              "keep: 1\ndatabase:\n  host: h\n  port: 5432\n  pool: {min: 1, max: 9}\n"
              "  replicas: [a, b]\n",
              "keep: 1\n");
    EXPECT(&r, "REMOVED database");
    assert_int_equal(r.ch[0].old_type, SNAPCONF_TYPE_MAP);
    diff_docs(&r, "keep: 1\n", "keep: 1\nnew: {a: {b: [1, 2]}}\n");
    EXPECT(&r, "ADDED new");
    assert_int_equal(r.ch[0].new_type, SNAPCONF_TYPE_MAP);
}

static void test_diff_sequences(void **state)
{
    (void)state;
    struct rec r;
    diff_docs(&r, "s: [1, 2]\n", "s: [1, 2, 3, 4]\n");
    EXPECT(&r, "ADDED s[2]", "ADDED s[3]");
    diff_docs(&r, "s: [1, 2, 3, 4]\n", "s: [1, 2]\n");
    EXPECT(&r, "REMOVED s[2]", "REMOVED s[3]");
    diff_docs(&r, "s: [1, 2, 3]\n", "s: [9, 2]\n");
    EXPECT(&r, "MODIFIED s[0]", "REMOVED s[2]");
    diff_docs(&r, "s: [{name: a, port: 1}, {name: b, port: 2}]\n",
              "s: [{name: a, port: 1}, {name: b, port: 3}]\n");
    EXPECT(&r, "MODIFIED s[1].port");
    diff_docs(&r, "m: [[1, 2], [3]]\n", "m: [[1, 2], [3, 4]]\n");
    EXPECT(&r, "ADDED m[1][1]");
    diff_docs(&r, "s: []\n", "s: [x]\n");
    EXPECT(&r, "ADDED s[0]");
}

static void test_diff_quoted_keys_canonical(void **state)
{
    (void)state;
    struct rec r;
    diff_docs(&r, "labels:\n  app.kubernetes.io/name: web\n  tier: front\n",
              "labels:\n  app.kubernetes.io/name: api\n  tier: front\n  \"a[0]\": 1\n");
    EXPECT(&r, "MODIFIED labels.\"app.kubernetes.io/name\"", "ADDED labels.\"a[0]\"");
    diff_docs(&r, "'say \"hi\"': 1\n\"\": 2\n", "'say \"hi\"': 2\n\"\": 3\n");
    EXPECT(&r, "MODIFIED \"say \\\"hi\\\"\"", "MODIFIED \"\"");
    /* Keys with spaces, slashes or colons need no quotes. */
    diff_docs(&r, "a b/c:d: 1\n", "a b/c:d: 2\n");
    EXPECT(&r, "MODIFIED a b/c:d");
}

static void test_diff_null_sides(void **state)
{
    (void)state;
    struct rec r;
    diff_docs(&r, NULL, "a: 1\nb: {c: 2}\n");
    EXPECT(&r, "ADDED a", "ADDED b");
    diff_docs(&r, "a: 1\nb: {c: 2}\n", NULL);
    EXPECT(&r, "REMOVED a", "REMOVED b");
    diff_docs(&r, NULL, NULL);
    EXPECT_NONE(&r);
}

/* Removals come in old's order, additions in new's order. */
static void test_diff_order(void **state)
{
    (void)state;
    struct rec r;
    diff_docs(&r, "z: 1\ny: 2\nx: 3\n", "c: 1\nb: 2\na: 3\n");
    assert_int_equal(r.n, 6);
    const char *removed[3], *added[3];
    size_t nr = 0, na = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (r.ch[i].kind == SNAPCONF_CHANGE_REMOVED)
            removed[nr++] = r.ch[i].path;
        else if (r.ch[i].kind == SNAPCONF_CHANGE_ADDED)
            added[na++] = r.ch[i].path;
    }
    assert_int_equal(nr, 3);
    assert_int_equal(na, 3);
    assert_string_equal(removed[0], "z");
    assert_string_equal(removed[1], "y");
    assert_string_equal(removed[2], "x");
    assert_string_equal(added[0], "c");
    assert_string_equal(added[1], "b");
    assert_string_equal(added[2], "a");
}

static int stop_after_one(void *ud, const snapconf_change *c)
{
    (void)c;
    ++*(int *)ud;
    return 42;
}

static void test_diff_callback_stops(void **state)
{
    (void)state;
    snapconf_snap *a = load("a: 1\nb: 2\nc: 3\n"), *b = load("a: 2\nb: 3\nc: 4\n");
    int calls = 0;
    assert_int_equal(snapconf_diff(a, b, stop_after_one, &calls), 42);
    assert_int_equal(calls, 1);
    assert_int_equal(snapconf_diff(a, b, NULL, NULL), SNAPCONF_EINVAL);
    snapconf_snap_free(a);
    snapconf_snap_free(b);
}

/* ------------------------------------------------------------------------- */
/* Subscriptions                                                              */

static snapconf *open_manual(struct live_fx *f, const char *content)
{
    live_put_trunc(f->path, content);
    snapconf_options o = live_opts(SNAPCONF_WATCH_NONE);
    f->h = live_open(f->path, &o);
    return f->h;
}

/* Writes content and reloads; asserts the reload succeeded. */
static void publish(struct live_fx *f, const char *content)
{
    snapconf_error err;
    live_put_rename(f->path, content);
    int rc = snapconf_reload(f->h, &err);
    if (rc)
        fail_msg("reload failed: %s", err.message);
}

#define DOC0                                                                                       \
    "database:\n  host: db1\n  port: 5432\n  pool: {min: 1, max: 5}\n"                             \
    "databases: [x]\ncache:\n  ttl: 10\nservers:\n  - {name: a, port: 1}\n"                        \
    "  - {name: b, port: 2}\nlabels:\n  app.kubernetes.io/name: web\n"

static void test_subscribe_all(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, DOC0);
    static struct rec r;
    memset(&r, 0, sizeof r);
    assert_true(snapconf_subscribe(h, "", sub_cb, &r) > 0);
    publish(f, "database:\n  host: db2\n  port: 5432\n  pool: {min: 1, max: 5}\n"
               "databases: [x]\ncache:\n  ttl: 10\nservers:\n  - {name: a, port: 1}\n"
               "  - {name: b, port: 2}\n  - {name: c, port: 3}\nlabels:\n"
               "  app.kubernetes.io/name: api\n");
    assert_int_equal(r.ncalls, 1);
    assert_int_equal(r.calls[0].old_gen, 1);
    assert_int_equal(r.calls[0].new_gen, 2);
    assert_int_equal(r.calls[0].count, 3);
    EXPECT(&r, "MODIFIED database.host", "ADDED servers[2]",
           "MODIFIED labels.\"app.kubernetes.io/name\"");
}

static void test_prefix_filtering(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, DOC0);
    static struct rec db, host, srv1, lbl, all;
    memset(&db, 0, sizeof db);
    memset(&host, 0, sizeof host);
    memset(&srv1, 0, sizeof srv1);
    memset(&lbl, 0, sizeof lbl);
    memset(&all, 0, sizeof all);
    assert_true(snapconf_subscribe(h, "database", sub_cb, &db) > 0);
    assert_true(snapconf_subscribe(h, "database.host", sub_cb, &host) > 0);
    assert_true(snapconf_subscribe(h, "servers[1]", sub_cb, &srv1) > 0);
    /* Written with needless quotes: canonicalized before matching. */
    assert_true(snapconf_subscribe(h, "\"labels\".\"app.kubernetes.io/name\"", sub_cb, &lbl) > 0);
    assert_true(snapconf_subscribe(h, NULL, sub_cb, &all) > 0);

    /* 1. Changes outside database - including the sibling "databases",
     *    whose name starts with "database" - reach neither database
     *    subscriber. */
    publish(f, "database:\n  host: db1\n  port: 5432\n  pool: {min: 1, max: 5}\n"
               "databases: [x, y]\ncache:\n  ttl: 20\nservers:\n  - {name: a, port: 9}\n"
               "  - {name: b, port: 2}\nlabels:\n  app.kubernetes.io/name: web\n");
    assert_int_equal(db.ncalls, 0);
    assert_int_equal(host.ncalls, 0);
    assert_int_equal(srv1.ncalls, 0);
    assert_int_equal(lbl.ncalls, 0);
    assert_int_equal(all.ncalls, 1);
    EXPECT(&all, "ADDED databases[1]", "MODIFIED cache.ttl", "MODIFIED servers[0].port");

    /* 2. database.port and servers[1].port change. */
    memset(&all, 0, sizeof all);
    publish(f, "database:\n  host: db1\n  port: 6432\n  pool: {min: 1, max: 5}\n"
               "databases: [x, y]\ncache:\n  ttl: 20\nservers:\n  - {name: a, port: 9}\n"
               "  - {name: b, port: 3}\nlabels:\n  app.kubernetes.io/name: web\n");
    assert_int_equal(db.ncalls, 1);
    EXPECT(&db, "MODIFIED database.port");
    assert_int_equal(host.ncalls, 0); /* a sibling of host, not host */
    assert_int_equal(srv1.ncalls, 1);
    EXPECT(&srv1, "MODIFIED servers[1].port");
    assert_int_equal(lbl.ncalls, 0);
    EXPECT(&all, "MODIFIED database.port", "MODIFIED servers[1].port");

    /* 3. The quoted key changes. */
    publish(f, "database:\n  host: db1\n  port: 6432\n  pool: {min: 1, max: 5}\n"
               "databases: [x, y]\ncache:\n  ttl: 20\nservers:\n  - {name: a, port: 9}\n"
               "  - {name: b, port: 3}\nlabels:\n  app.kubernetes.io/name: api\n");
    assert_int_equal(lbl.ncalls, 1);
    EXPECT(&lbl, "MODIFIED labels.\"app.kubernetes.io/name\"");
    assert_int_equal(db.ncalls, 1);

    /* 4. The whole database map goes: an ancestor change reaches both the
     *    database and the database.host subscribers; servers shrinks to one
     *    item, which removes servers[1]. */
    memset(&db, 0, sizeof db);
    memset(&srv1, 0, sizeof srv1);
    publish(f, "databases: [x, y]\ncache:\n  ttl: 20\nservers:\n  - {name: a, port: 9}\n"
               "labels:\n  app.kubernetes.io/name: api\n");
    assert_int_equal(db.ncalls, 1);
    EXPECT(&db, "REMOVED database");
    assert_int_equal(host.ncalls, 1);
    EXPECT(&host, "REMOVED database");
    assert_int_equal(srv1.ncalls, 1);
    EXPECT(&srv1, "REMOVED servers[1]");

    /* 5. database comes back as a scalar: ADDED at the ancestor. */
    memset(&host, 0, sizeof host);
    publish(f, "database: none\ndatabases: [x, y]\ncache:\n  ttl: 20\nservers:\n"
               "  - {name: a, port: 9}\nlabels:\n  app.kubernetes.io/name: api\n");
    assert_int_equal(host.ncalls, 1);
    EXPECT(&host, "ADDED database");
    /* 6. And turns into a map again: one MODIFIED at database. */
    memset(&host, 0, sizeof host);
    publish(f, "database: {host: db3}\ndatabases: [x, y]\ncache:\n  ttl: 20\nservers:\n"
               "  - {name: a, port: 9}\nlabels:\n  app.kubernetes.io/name: api\n");
    assert_int_equal(host.ncalls, 1);
    EXPECT(&host, "MODIFIED database");
    assert_int_equal(lbl.ncalls, 1);
}

static void test_subscribe_bad_prefix_and_args(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, "a: 1\n");
    struct rec r;
    assert_int_equal(snapconf_subscribe(h, "a..b", sub_cb, &r), SNAPCONF_EPATH);
    assert_int_equal(snapconf_subscribe(h, "a[x]", sub_cb, &r), SNAPCONF_EPATH);
    assert_int_equal(snapconf_subscribe(h, "a", NULL, &r), SNAPCONF_EINVAL);
    assert_int_equal(snapconf_subscribe(NULL, "a", sub_cb, &r), SNAPCONF_EINVAL);
    int a = snapconf_subscribe(h, "a", sub_cb, &r), b = snapconf_subscribe(h, "a", sub_cb, &r);
    assert_true(a > 0);
    assert_true(b > 0);
    assert_int_not_equal(a, b);
}

static void test_unsubscribe_stops_callbacks(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, "a: 1\n");
    static struct rec r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    int id1 = snapconf_subscribe(h, "", sub_cb, &r1);
    int id2 = snapconf_subscribe(h, "a", sub_cb, &r2);
    assert_true(id1 > 0 && id2 > 0);
    publish(f, "a: 2\n");
    assert_int_equal(r1.ncalls, 1);
    assert_int_equal(r2.ncalls, 1);
    assert_int_equal(snapconf_unsubscribe(h, id1), 0);
    publish(f, "a: 3\n");
    assert_int_equal(r1.ncalls, 1);
    assert_int_equal(r2.ncalls, 2);
    assert_int_equal(snapconf_unsubscribe(h, id1), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_unsubscribe(h, 12345), SNAPCONF_ENOTFOUND);
    assert_int_equal(snapconf_unsubscribe(h, id2), 0);
    publish(f, "a: 4\n");
    assert_int_equal(r1.ncalls, 1);
    assert_int_equal(r2.ncalls, 2);
    assert_int_equal(live_int_or(h, "a", -1), 4);
}

static void test_failed_reload_fires_nothing(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, "a: 1\n");
    static struct rec r;
    memset(&r, 0, sizeof r);
    assert_true(snapconf_subscribe(h, "", sub_cb, &r) > 0);
    live_put_rename(f->path, "a: [1\n");
    assert_int_equal(snapconf_reload(h, NULL), SNAPCONF_EPARSE);
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(snapconf_reload(h, NULL), SNAPCONF_EIO);
    assert_int_equal(r.ncalls, 0);
    assert_int_equal(live_gen(h), 1);
    assert_int_equal(live_status(h).failed_reloads, 2);
    /* Recovery fires, with the change from the last good snapshot. */
    publish(f, "a: 2\n");
    assert_int_equal(r.ncalls, 1);
    assert_int_equal(r.calls[0].old_gen, 1);
    assert_int_equal(r.calls[0].new_gen, 2);
    EXPECT(&r, "MODIFIED a");
}

static void test_identical_content_fires_nothing(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, "a: 1\nb: [1, 2]\n");
    static struct rec r;
    memset(&r, 0, sizeof r);
    assert_true(snapconf_subscribe(h, "", sub_cb, &r) > 0);
    snapconf_status_info before = live_status(h);
    publish(f, "a: 1\nb: [1, 2]\n"); /* same bytes, new inode */
    assert_int_equal(live_gen(h), 1);
    assert_int_equal(r.ncalls, 0);
    snapconf_status_info after = live_status(h);
    assert_int_equal(after.reloads, 0);
    assert_true(after.last_reload_ok);
    assert_string_equal(after.content_hash, before.content_hash);

    /* Different bytes, same values: published (it is new content), but the
     * diff is empty, so no callback. */
    publish(f, "a: 1\nb: [1, 2]  # comment\n");
    assert_int_equal(live_gen(h), 2);
    assert_int_equal(r.ncalls, 0);
}

/* With the watcher thread: same bytes rewritten publish and fire nothing. */
static void test_identical_content_watcher(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "a: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(f->path, &o);
    static struct rec r;
    memset(&r, 0, sizeof r);
    int id = snapconf_subscribe(f->h, "", sub_cb, &r);
    assert_true(id > 0);
    snapconf_status_info st = live_status(f->h);
    live_put_trunc(f->path, "a: 1\n");
    wait_attempt(f->h, st.last_attempt_time_ns, (int)LIVE_SETTLE_MS + 100);
    live_sleep_ms(LIVE_SETTLE_MS);
    assert_int_equal(live_gen(f->h), 1);
    live_put_trunc(f->path, "a: 2\n");
    expect_exactly(f->h, 2);
    /* The callback ran on the watcher thread; unsubscribing waits for it. */
    assert_int_equal(snapconf_unsubscribe(f->h, id), 0);
    assert_int_equal(r.ncalls, 1);
    EXPECT(&r, "MODIFIED a");
}

/* ------------------------------------------------------------------------- */
/* Calls that would deadlock                                                  */

struct reentry {
    snapconf *h;
    atomic_int id; /* written after subscribe returns, read by the callback */
    int reload_rc, subscribe_rc, unsubscribe_rc, status_rc;
    uint64_t begin_gen, new_gen, status_gen;
    bool old_valid;
    int calls;
};

static void reentrant_cb(void *ud, const snapconf_snap *old_snap, const snapconf_snap *new_snap,
                         const snapconf_change *changes, size_t count)
{
    (void)changes;
    (void)count;
    struct reentry *e = ud;
    e->calls++;
    snapconf_error err;
    e->reload_rc = snapconf_reload(e->h, &err);
    e->subscribe_rc = snapconf_subscribe(e->h, "", reentrant_cb, e);
    e->unsubscribe_rc = snapconf_unsubscribe(e->h, e->id);
    snapconf_status_info st;
    e->status_rc = snapconf_status(e->h, &st);
    e->status_gen = st.generation;
    /* Reading is fine, and sees the new snapshot; the old one is still
     * valid. */
    const snapconf_snap *s = snapconf_snap_begin(e->h);
    e->begin_gen = snapconf_snap_generation(s);
    snapconf_snap_end(e->h, s);
    e->new_gen = snapconf_snap_generation(new_snap);
    e->old_valid = snapconf_get_int_or(old_snap, "a", -1) == 1;
}

static void test_reload_from_callback_edeadlk(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, "a: 1\n");
    static struct reentry e;
    memset(&e, 0, sizeof e);
    e.h = h;
    e.id = snapconf_subscribe(h, "", reentrant_cb, &e);
    assert_true(e.id > 0);
    publish(f, "a: 2\n");
    assert_int_equal(e.calls, 1);
    assert_int_equal(e.reload_rc, SNAPCONF_EDEADLK);
    assert_int_equal(e.subscribe_rc, SNAPCONF_EDEADLK);
    assert_int_equal(e.unsubscribe_rc, SNAPCONF_EDEADLK);
    assert_int_equal(e.status_rc, 0);
    assert_int_equal(e.status_gen, 2);
    assert_int_equal(e.begin_gen, 2);
    assert_int_equal(e.new_gen, 2);
    assert_true(e.old_valid);
    assert_int_equal(live_gen(h), 2);
    /* The subscription is still there (the unsubscribe was refused). */
    publish(f, "a: 3\n");
    assert_int_equal(e.calls, 2);
    assert_int_equal(snapconf_unsubscribe(h, e.id), 0);
}

/* The same from the watcher thread's callbacks. */
static void test_reload_from_watcher_callback_edeadlk(void **state)
{
    struct live_fx *f = *state;
    live_put_trunc(f->path, "a: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_THREAD);
    f->h = live_open(f->path, &o);
    static struct reentry e;
    memset(&e, 0, sizeof e);
    e.h = f->h;
    e.id = snapconf_subscribe(f->h, "", reentrant_cb, &e);
    assert_true(e.id > 0);
    live_put_rename(f->path, "a: 2\n");
    expect_exactly(f->h, 2);
    assert_int_equal(snapconf_unsubscribe(f->h, e.id), 0);
    assert_int_equal(e.calls, 1);
    assert_int_equal(e.reload_rc, SNAPCONF_EDEADLK);
    assert_int_equal(e.begin_gen, 2);
}

static void test_reload_inside_read_section_edeadlk(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, "a: 1\n");
    live_put_rename(f->path, "a: 2\n");
    const snapconf_snap *s = snapconf_snap_begin(h);
    snapconf_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(snapconf_reload(h, &err), SNAPCONF_EDEADLK);
    assert_int_equal(err.code, SNAPCONF_EDEADLK);
    assert_true(strlen(err.message) > 0);
    /* Nested: still refused. */
    const snapconf_snap *s2 = snapconf_snap_begin(h);
    assert_int_equal(snapconf_reload(h, NULL), SNAPCONF_EDEADLK);
    snapconf_snap_end(h, s2);
    assert_int_equal(snapconf_reload(h, NULL), SNAPCONF_EDEADLK);
    /* Nothing happened. */
    assert_int_equal(snapconf_snap_generation(s), 1);
    assert_int_equal(snapconf_get_int_or(s, "a", -1), 1);
    snapconf_snap_end(h, s);
    assert_int_equal(live_gen(h), 1);
    snapconf_status_info st = live_status(h);
    assert_int_equal(st.generation, 1);
    /* Outside the section it works. */
    assert_int_equal(snapconf_reload(h, NULL), 0);
    assert_int_equal(live_gen(h), 2);
    assert_int_equal(live_int_or(h, "a", -1), 2);
}

/* A section of another handle is still a read-side section: reloading
 * would wait for this thread's own reader. */
static void test_reload_inside_other_handles_section(void **state)
{
    struct live_fx *f = *state;
    snapconf *h = open_manual(f, "a: 1\n");
    char other_path[PATH_MAX];
    live_join(other_path, f->dir, "other.yaml");
    live_put_trunc(other_path, "b: 1\n");
    snapconf_options o = live_opts(SNAPCONF_WATCH_NONE);
    snapconf *other = live_open(other_path, &o);
    live_put_rename(f->path, "a: 2\n");
    const snapconf_snap *s = snapconf_snap_begin(other);
    int rc = snapconf_reload(h, NULL);
    snapconf_snap_end(other, s);
    snapconf_close(other);
    assert_int_equal(rc, SNAPCONF_EDEADLK);
    assert_int_equal(live_gen(h), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_added_removed_modified),
        cmocka_unit_test(test_diff_old_and_new_nodes),
        cmocka_unit_test(test_diff_type_change_is_one_modified),
        cmocka_unit_test(test_diff_removed_subtree_is_one_change),
        cmocka_unit_test(test_diff_sequences),
        cmocka_unit_test(test_diff_quoted_keys_canonical),
        cmocka_unit_test(test_diff_null_sides),
        cmocka_unit_test(test_diff_order),
        cmocka_unit_test(test_diff_callback_stops),
        cmocka_unit_test_setup_teardown(test_subscribe_all, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_prefix_filtering, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_bad_prefix_and_args, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe_stops_callbacks, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_failed_reload_fires_nothing, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_identical_content_fires_nothing, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_identical_content_watcher, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_reload_from_callback_edeadlk, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_reload_from_watcher_callback_edeadlk, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_reload_inside_read_section_edeadlk, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_reload_inside_other_handles_section, live_setup,
                                        live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
