/*
 * Layers: making them, and reading the file layers of one reload (the main
 * file, the drop-ins, the environment).  The merge is in merge.c.
 */
#include "layer.h"
#include "build.h"
#include "error.h"
#include "hash.h"
#include "loader.h"
#include "mtree.h"
#include "path.h"
#include "scalar.h"
#include "snapshot.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

extern char **environ;

struct snapconf__layer *snapconf__layer_new(snapconf_layer_kind kind, const char *name,
                                            snapconf_snap *snap)
{
    struct snapconf__layer *l = calloc(1, sizeof *l);
    if (l && !(l->name = strdup(name))) {
        free(l);
        l = NULL;
    }
    if (!l)
        return NULL;
    atomic_init(&l->refs, 1);
    l->kind = kind;
    l->snap = snap;
    return l;
}

struct snapconf__layer *snapconf__layer_ref(struct snapconf__layer *l)
{
    atomic_fetch_add_explicit(&l->refs, 1, memory_order_relaxed);
    return l;
}

void snapconf__layer_unref(struct snapconf__layer *l)
{
    if (!l || atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (l->release)
        l->release(l->snap);
    else
        snapconf_snap_free(l->snap);
    for (size_t i = 0; i < l->env_count; i++)
        free(l->env_names[i]);
    free(l->env_names);
    free(l->op_path);
    free(l->op_value);
    free(l->name);
    free(l);
}

/* ------------------------------------------------------------------------- */
/* Runtime overrides                                                          */

static int canonical_path(const char *path, char **out, snapconf_error *err)
{
    snapconf_path *p;
    int rc = snapconf_path_compile(path ? path : "", &p, err);
    if (rc)
        return rc;
    *out = strdup(snapconf_path_str(p));
    snapconf_path_free(p);
    return *out ? 0 : snapconf__error(err, SNAPCONF_ENOMEM, NULL, 0, 0, "out of memory");
}

int snapconf__layer_override(const char *path, const char *yaml_value, const snapconf_options *opts,
                             struct snapconf__layer **out, snapconf_error *err)
{
    char *canon = NULL;
    int rc = canonical_path(path, &canon, err);
    if (rc)
        return rc;
    if (canon[0] == '\0') {
        free(canon);
        return snapconf__error(err, SNAPCONF_EPATH, NULL, 0, 0,
                               "a runtime override needs a path below the root (\"\" is the "
                               "whole configuration)");
    }
    snapconf_snap *value = NULL;
    if (yaml_value) {
        char name[160];
        snprintf(name, sizeof name, "<value for %.120s>", canon);
        rc = snapconf_snap_load(name, yaml_value, strlen(yaml_value), opts, &value, err);
    }
    struct snapconf__layer *l = NULL;
    if (rc == 0 && !(l = snapconf__layer_new(SNAPCONF_LAYER_RUNTIME, "runtime", value))) {
        snapconf_snap_free(value);
        rc = snapconf__error(err, SNAPCONF_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (rc == 0 && yaml_value && !(l->op_value = strdup(yaml_value)))
        rc = snapconf__error(err, SNAPCONF_ENOMEM, NULL, 0, 0, "out of memory");
    if (rc) {
        snapconf__layer_unref(l);
        free(canon);
        return rc;
    }
    l->unset = yaml_value == NULL;
    l->op_path = canon;
    *out = l;
    return 0;
}

int snapconf__layers_from_state(const char *file, const snapconf_options *opts,
                                struct snapconf__layer ***out, size_t *n, snapconf_error *err)
{
    struct snapconf__override *ov = NULL;
    size_t count = 0, made = 0;
    *out = NULL;
    *n = 0;
    int rc = snapconf__state_load(file, opts, &ov, &count, err);
    if (rc || count == 0)
        return rc;
    struct snapconf__layer **layers = calloc(count, sizeof(struct snapconf__layer *));
    if (!layers) {
        snapconf__overrides_free(ov, count);
        snapconf__error(err, SNAPCONF_ENOMEM, file, 0, 0, "out of memory");
        return SNAPCONF_ENOMEM;
    }
    for (; rc == 0 && made < count; made += rc == 0) {
        rc = snapconf__layer_override(ov[made].path, ov[made].unset ? NULL : ov[made].value, opts,
                                      &layers[made], err);
        if (rc && rc != SNAPCONF_ENOMEM) {
            char why[SNAPCONF_ERROR_MESSAGE_MAX];
            snprintf(why, sizeof why, "%s", err->message);
            snapconf__error(err, rc, file, 0, 0,
                            "saved override of %s: %s; fix or delete the state file", ov[made].path,
                            why);
        }
    }
    snapconf__overrides_free(ov, count);
    if (rc) {
        for (size_t i = 0; i < made; i++)
            snapconf__layer_unref(layers[i]);
        free(layers);
        return rc;
    }
    *out = layers;
    *n = count;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* Layer sets                                                                 */

void snapconf__layer_set_free(struct snapconf__layer_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        snapconf__layer_unref(set->items[i]);
    free(set->items);
    free(set);
}

static int set_push(struct snapconf__layer_set *set, size_t *cap, struct snapconf__layer *l)
{
    if (set->n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct snapconf__layer **p = realloc(set->items, c * sizeof(struct snapconf__layer *));
        if (!p) {
            snapconf__layer_unref(l);
            return SNAPCONF_ENOMEM;
        }
        set->items = p;
        *cap = c;
    }
    set->items[set->n++] = l;
    return 0;
}

static int load_layer(snapconf_layer_kind kind, const char *path, const snapconf_options *opts,
                      struct snapconf__layer **out, snapconf_error *err)
{
    snapconf_snap *snap = NULL;
    int rc = snapconf_snap_load(path, NULL, 0, opts, &snap, err);
    if (rc == SNAPCONF_EIO && kind == SNAPCONF_LAYER_FILE && opts->allow_missing &&
        err->sys_errno == ENOENT)
        rc = snapconf_snap_load(path, "{}", 2, opts, &snap, err);
    if (rc)
        return rc;
    const struct snapconf_node *root = snap->root;
    if (snapconf__type(root) != SNAPCONF_TYPE_MAP) {
        snapconf__error(err, SNAPCONF_EPARSE, path, root->line, snapconf_node_column(root),
                        "a layered configuration needs a mapping (key: value lines) at the "
                        "top of every file; this one holds a %s",
                        snapconf_type_name(snapconf__type(root)));
        snapconf_snap_free(snap);
        return SNAPCONF_EPARSE;
    }
    if (!(*out = snapconf__layer_new(kind, path, snap))) {
        snapconf_snap_free(snap);
        return snapconf__error(err, SNAPCONF_ENOMEM, path, 0, 0, "out of memory");
    }
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dropin_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The drop-in file names of dir, sorted.  A missing directory has none. */
static int list_dropins(const char *dir, char ***out, size_t *count, snapconf_error *err)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d && errno == ENOENT)
        return 0;
    if (!d && errno == ENOMEM)
        return snapconf__error(err, SNAPCONF_ENOMEM, dir, 0, 0, "out of memory");
    if (!d)
        return snapconf__error_sys(err, errno, dir, "cannot read the drop-in directory: %s",
                                   strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!is_dropin_name(e->d_name))
            continue;
        if (n == SNAPCONF__MAX_DROPINS) {
            rc = snapconf__error(err, SNAPCONF_ELIMIT, dir, 0, 0,
                                 "more than %d drop-in files; merge some of them",
                                 SNAPCONF__MAX_DROPINS);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                rc = SNAPCONF_ENOMEM;
                break;
            }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name)))
            rc = SNAPCONF_ENOMEM;
        else
            n++;
    }
    closedir(d);
    if (rc == SNAPCONF_ENOMEM)
        snapconf__error(err, rc, dir, 0, 0, "out of memory");
    if (rc) {
        names_free(names, n);
        return rc;
    }
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    *out = names;
    *count = n;
    return 0;
}

/* A name that is no regular file (a directory named x.yaml, a dangling
 * symlink) is skipped, as systemd skips what it cannot read as a unit. */
static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int load_dropins(struct snapconf__layer_set *set, size_t *cap, const char *dir,
                        const snapconf_options *opts, snapconf_error *err)
{
    char **names;
    size_t n;
    int rc = list_dropins(dir, &names, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = snapconf__error(err, SNAPCONF_ENOMEM, dir, 0, 0, "out of memory");
            break;
        }
        snprintf(path, len, "%s/%s", dir, names[i]);
        struct snapconf__layer *l = NULL;
        if (is_regular_file(path) &&
            (rc = load_layer(SNAPCONF_LAYER_DROPIN, path, opts, &l, err)) == 0 &&
            (rc = set_push(set, cap, l)) != 0)
            snapconf__error(err, rc, path, 0, 0, "out of memory");
        free(path);
    }
    names_free(names, n);
    return rc;
}

/* The set's hash covers which layers there are and what each holds. */
static void set_hash(struct snapconf__layer_set *set)
{
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    for (size_t i = 0; i < set->n; i++) {
        const struct snapconf__layer *l = set->items[i];
        XXH3_128bits_update(&st, l->name, strlen(l->name) + 1);
        XXH3_128bits_update(&st, l->snap->content_hash, sizeof l->snap->content_hash);
    }
    snapconf__hash_hex(XXH3_128bits_digest(&st), set->hash);
}

int snapconf__layers_load(const char *path, const char *const *dropin_dirs, const char *env_prefix,
                          const snapconf_options *opts, struct snapconf__layer *main,
                          struct snapconf__layer_set **out, snapconf_error *err)
{
    struct snapconf__layer_set *set = calloc(1, sizeof *set);
    if (!set)
        return snapconf__error(err, SNAPCONF_ENOMEM, path, 0, 0, "out of memory");
    size_t cap = 0;
    struct snapconf__layer *l = main ? snapconf__layer_ref(main) : NULL;
    int rc = l ? 0 : load_layer(SNAPCONF_LAYER_FILE, path, opts, &l, err);
    if (rc == 0 && (rc = set_push(set, &cap, l)) != 0)
        snapconf__error(err, rc, path, 0, 0, "out of memory");
    for (size_t i = 0; rc == 0 && dropin_dirs && dropin_dirs[i]; i++)
        rc = load_dropins(set, &cap, dropin_dirs[i], opts, err);
    if (rc == 0 && env_prefix && *env_prefix) {
        l = NULL;
        rc = snapconf__env_layer(env_prefix, set->items, set->n, opts, &l, err);
        if (rc == 0 && l && (rc = set_push(set, &cap, l)) != 0)
            snapconf__error(err, rc, "environment", 0, 0, "out of memory");
    }
    if (rc) {
        snapconf__layer_set_free(set);
        return rc;
    }
    set_hash(set);
    *out = set;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The environment                                                            */

struct env_var {
    const char *name;  /* NAME=VALUE, from environ */
    size_t name_len;   /* of NAME */
    const char *value; /* after the '=' */
};

static int env_cmp(const void *a, const void *b)
{
    return strcmp(((const struct env_var *)a)->name, ((const struct env_var *)b)->name);
}

/* The variables with the prefix and something after it, sorted by name. */
static int env_collect(const char *prefix, struct env_var **out, size_t *count)
{
    size_t plen = strlen(prefix), n = 0, cap = 0;
    struct env_var *vars = NULL;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncmp(*e, prefix, plen) != 0 || (size_t)(eq - *e) <= plen)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct env_var *p = realloc(vars, cap * sizeof *p);
            if (!p) {
                free(vars);
                return SNAPCONF_ENOMEM;
            }
            vars = p;
        }
        vars[n++] = (struct env_var){*e, (size_t)(eq - *e), eq + 1};
    }
    if (n)
        qsort(vars, n, sizeof *vars, env_cmp);
    *out = vars;
    *count = n;
    return 0;
}

/* The key a segment names: the one existing key (in any file layer, at
 * this level) equal to it but for case, else the segment in lowercase. */
static const char *env_key(struct snapconf__mtree *t, const struct snapconf_node **level,
                           size_t nlevel, const char *seg, size_t len)
{
    const char *found = NULL;
    size_t found_len = 0;
    for (size_t i = 0; i < nlevel; i++) {
        const struct snapconf_node *c = snapconf__children(level[i]);
        for (uint32_t j = 0; j < level[i]->v.c.count; j++) {
            const char *k = snapconf__at(&c[j], c[j].key);
            size_t klen = snapconf__key_len(k);
            if (klen != len || strncasecmp(k, seg, len) != 0 || memchr(k, '\0', klen))
                continue;
            if (found && (found_len != klen || memcmp(found, k, klen) != 0))
                return NULL; /* ambiguous: lowercase below */
            found = k;
            found_len = klen;
        }
    }
    if (found)
        return snapconf__mtree_strdup(t, found, found_len);
    char *low = (char *)snapconf__mtree_strdup(t, seg, len);
    for (size_t i = 0; low && i < len; i++)
        low[i] = (char)((low[i] >= 'A' && low[i] <= 'Z') ? low[i] - 'A' + 'a' : low[i]);
    return low;
}

/* Narrows the file layers' nodes at this level to their mappings under key. */
static size_t env_descend(const struct snapconf_node **level, size_t nlevel, const char *key)
{
    struct snapconf__seg s = {.key = key, .len = (uint32_t)strlen(key)};
    s.hash = snapconf__key_hash(s.key, s.len);
    size_t m = 0;
    for (size_t i = 0; i < nlevel; i++) {
        const struct snapconf_node *c = snapconf__step(level[i], &s);
        if (c && snapconf__type(c) == SNAPCONF_TYPE_MAP)
            level[m++] = c;
    }
    return m;
}

/* Sets one variable's value in the tree; a variable that names no key
 * (an empty segment, as in APP___X or APP_X__) is skipped. */
static bool env_name_ok(const char *p, const char *end)
{
    for (;;) {
        const char *sep = strstr(p, "__");
        if (!sep || sep >= end)
            return p < end;
        if (sep == p)
            return false;
        p = sep + 2;
    }
}

static int env_put(struct snapconf__mtree *t, struct snapconf__mnode *root,
                   struct snapconf__layer *const *files, size_t nfiles,
                   const struct snapconf_node **level, const struct env_var *v, size_t plen,
                   unsigned line)
{
    const char *p = v->name + plen, *end = v->name + v->name_len;
    if (!env_name_ok(p, end))
        return 0;
    for (size_t i = 0; i < nfiles; i++)
        level[i] = files[i]->snap->root;
    size_t nlevel = nfiles;
    struct snapconf__mnode *cur = root;
    while (p < end) {
        const char *sep = strstr(p, "__");
        const char *seg_end = sep && sep < end ? sep : end;
        const char *key = env_key(t, level, nlevel, p, (size_t)(seg_end - p));
        if (!key)
            return SNAPCONF_ENOMEM;
        uint32_t len = (uint32_t)strlen(key), h = snapconf__key_hash(key, len);
        struct snapconf__mentry *e = snapconf__mtree_find(cur, key, len, h);
        if (!e && !(e = snapconf__mtree_append(t, cur, key, len, h, NULL)))
            return SNAPCONF_ENOMEM;
        if (seg_end == end) {
            struct snapconf__scalar val;
            size_t vlen = strlen(v->value);
            int rc = snapconf__resolve_plain(v->value, vlen, &val);
            if (rc == SNAPCONF_ENOMEM)
                return rc;
            if (rc) /* too large for its type: kept as the text it is */
                val.type = SNAPCONF_TYPE_STRING;
            e->val = snapconf__mtree_scalar(t, &val, v->value, vlen, line);
            return e->val ? 0 : SNAPCONF_ENOMEM;
        }
        if (!e->val || e->val->kind != SNAPCONF__M_MAP)
            e->val = snapconf__mtree_map(t, 0, 0);
        if (!e->val)
            return SNAPCONF_ENOMEM;
        cur = e->val;
        nlevel = env_descend(level, nlevel, key);
        p = seg_end + 2;
    }
    return 0;
}

static void env_hash(const struct env_var *vars, size_t n, char out[33])
{
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    for (size_t i = 0; i < n; i++)
        XXH3_128bits_update(&st, vars[i].name, strlen(vars[i].name) + 1);
    snapconf__hash_hex(XXH3_128bits_digest(&st), out);
}

static int env_names(struct snapconf__layer *l, const struct env_var *vars, size_t n)
{
    if (!(l->env_names = calloc(n, sizeof *l->env_names)))
        return SNAPCONF_ENOMEM;
    for (; l->env_count < n; l->env_count++)
        if (!(l->env_names[l->env_count] =
                  strndup(vars[l->env_count].name, vars[l->env_count].name_len)))
            return SNAPCONF_ENOMEM;
    return 0;
}

static int env_build(const struct env_var *vars, size_t n, struct snapconf__layer *const *files,
                     size_t nfiles, const snapconf_options *opts, snapconf_snap **out,
                     snapconf_error *err)
{
    struct snapconf__mtree t;
    snapconf__mtree_init(&t);
    struct snapconf__mnode *root = snapconf__mtree_map(&t, 0, 0);
    const struct snapconf_node **level =
        malloc((nfiles + 1) * sizeof(const struct snapconf_node *));
    int rc = root && level ? 0 : SNAPCONF_ENOMEM;
    size_t plen = strlen(opts->env_prefix);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = env_put(&t, root, files, nfiles, level, &vars[i], plen, (unsigned)i + 1);
    free(level);
    if (rc) {
        snapconf__mtree_fini(&t);
        return snapconf__error(err, rc, "environment", 0, 0, "out of memory");
    }
    char hash[33];
    env_hash(vars, n, hash);
    snapconf__builder b;
    snapconf__builder_init(&b, "environment", opts, err);
    rc = snapconf__mtree_emit(&b, root);
    if (rc == 0)
        rc = snapconf__build_finish(&b, hash, out);
    snapconf__builder_fini(&b);
    snapconf__mtree_fini(&t);
    return rc;
}

int snapconf__env_layer(const char *prefix, struct snapconf__layer *const *files, size_t n,
                        const snapconf_options *opts, struct snapconf__layer **out,
                        snapconf_error *err)
{
    struct env_var *vars = NULL;
    size_t count = 0;
    *out = NULL;
    if (env_collect(prefix, &vars, &count) != 0)
        return snapconf__error(err, SNAPCONF_ENOMEM, "environment", 0, 0, "out of memory");
    if (count == 0) {
        free(vars);
        return 0;
    }
    snapconf_options o = *opts;
    o.env_prefix = prefix;
    snapconf_snap *snap = NULL;
    int rc = env_build(vars, count, files, n, &o, &snap, err);
    struct snapconf__layer *l = NULL;
    if (rc == 0) {
        l = snapconf__layer_new(SNAPCONF_LAYER_ENV, "environment", snap);
        if (!l)
            snapconf_snap_free(snap);
        if (!l || env_names(l, vars, count) != 0) {
            snapconf__layer_unref(l);
            snapconf__error(err, SNAPCONF_ENOMEM, "environment", 0, 0, "out of memory");
            free(vars);
            return SNAPCONF_ENOMEM;
        }
        *out = l;
    }
    free(vars);
    return rc;
}
