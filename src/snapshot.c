/* Reading an immutable snapshot: node accessors and the per-mapping lookup. */
#include "hash.h"
#include "snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t snapconf__hash_seed;
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void hash_seed_draw(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        /* Early boot without entropy: still differ between processes. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 16);
    }
    snapconf__hash_seed = seed;
}

void snapconf__hash_init(void)
{
    pthread_once(&hash_once, hash_seed_draw);
}

void snapconf_options_init(snapconf_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->max_file_size = SNAPCONF_DEFAULT_MAX_FILE_SIZE;
    opts->max_depth = SNAPCONF_DEFAULT_MAX_DEPTH;
    opts->max_nodes = SNAPCONF_DEFAULT_MAX_NODES;
    opts->watch = SNAPCONF_WATCH_THREAD;
    opts->debounce_ms = SNAPCONF_DEFAULT_DEBOUNCE_MS;
    opts->log_level = SNAPCONF_LOG_INFO;
}

void snapconf_snap_free(snapconf_snap *snap)
{
    if (snap && snap->layers)
        snap->layers_free(snap->layers);
    free(snap);
}

uint64_t snapconf_snap_generation(const snapconf_snap *snap)
{
    return snap ? snap->generation : 0;
}

const char *snapconf_snap_source(const snapconf_snap *snap)
{
    return snap ? snap->source : NULL;
}

const char *snapconf_snap_content_hash(const snapconf_snap *snap)
{
    return snap ? snap->content_hash : NULL;
}

size_t snapconf_snap_memory(const snapconf_snap *snap)
{
    return snap ? snap->memory : 0;
}

size_t snapconf_snap_node_count(const snapconf_snap *snap)
{
    return snap ? snap->node_count : 0;
}

const snapconf_node *snapconf_snap_root(const snapconf_snap *snap)
{
    return snap ? snap->root : NULL;
}

snapconf_type snapconf_node_type(const snapconf_node *node)
{
    return snapconf__type(node);
}

const char *snapconf_type_name(snapconf_type type)
{
    static const char *const names[] = {
        [SNAPCONF_TYPE_NULL] = "null",     [SNAPCONF_TYPE_BOOL] = "bool",
        [SNAPCONF_TYPE_INT] = "int",       [SNAPCONF_TYPE_FLOAT] = "float",
        [SNAPCONF_TYPE_STRING] = "string", [SNAPCONF_TYPE_MAP] = "map",
        [SNAPCONF_TYPE_SEQ] = "seq",
    };
    if ((unsigned)type >= sizeof names / sizeof names[0])
        return "unknown";
    return names[type];
}

int snapconf_node_str(const snapconf_node *node, const char **out, size_t *len)
{
    if (!node || !out)
        return SNAPCONF_EINVAL;
    if (snapconf__type(node) != SNAPCONF_TYPE_STRING)
        return SNAPCONF_ETYPE;
    *out = snapconf__at(node, node->v.s.off);
    if (len)
        *len = node->v.s.len;
    return 0;
}

int snapconf_node_int(const snapconf_node *node, int64_t *out)
{
    if (!node || !out)
        return SNAPCONF_EINVAL;
    if (snapconf__type(node) != SNAPCONF_TYPE_INT)
        return SNAPCONF_ETYPE;
    *out = node->v.i;
    return 0;
}

int snapconf_node_double(const snapconf_node *node, double *out)
{
    if (!node || !out)
        return SNAPCONF_EINVAL;
    switch (snapconf__type(node)) {
    case SNAPCONF_TYPE_FLOAT:
        *out = node->v.d;
        return 0;
    case SNAPCONF_TYPE_INT:
        *out = (double)node->v.i;
        return 0;
    default:
        return SNAPCONF_ETYPE;
    }
}

int snapconf_node_bool(const snapconf_node *node, bool *out)
{
    if (!node || !out)
        return SNAPCONF_EINVAL;
    if (snapconf__type(node) != SNAPCONF_TYPE_BOOL)
        return SNAPCONF_ETYPE;
    *out = node->v.b != 0;
    return 0;
}

size_t snapconf_node_size(const snapconf_node *node)
{
    return snapconf__is_container(node) ? node->v.c.count : 0;
}

const snapconf_node *snapconf_node_at(const snapconf_node *node, size_t i)
{
    if (!snapconf__is_container(node) || i >= node->v.c.count)
        return NULL;
    return snapconf__children(node) + i;
}

const char *snapconf_node_key(const snapconf_node *node, size_t *len)
{
    if (!node || node->key == 0)
        return NULL;
    const char *key = snapconf__at(node, node->key);
    if (len)
        *len = snapconf__key_len(key);
    return key;
}

unsigned snapconf_node_line(const snapconf_node *node)
{
    return node->line;
}

unsigned snapconf_node_column(const snapconf_node *node)
{
    return node->meta & SNAPCONF__COL_MAX;
}

const char *snapconf_node_tag(const snapconf_node *node)
{
    if (snapconf__type(node) != SNAPCONF_TYPE_STRING ||
        !(snapconf__flags(node) & SNAPCONF__F_TAGGED))
        return NULL;
    return snapconf__at(node, node->v.s.off) + node->v.s.len + 1;
}

bool snapconf_node_quoted(const snapconf_node *node)
{
    return (snapconf__flags(node) & SNAPCONF__F_QUOTED) != 0;
}

int snapconf_node_child(const snapconf_node *node, const char *key, size_t keylen,
                        const snapconf_node **out)
{
    if (!node || (!key && keylen) || !out)
        return SNAPCONF_EINVAL;
    if (snapconf__type(node) != SNAPCONF_TYPE_MAP)
        return SNAPCONF_ENOTFOUND;
    const struct snapconf_node *c =
        snapconf__map_get(node, key ? key : "", keylen, snapconf__key_hash(key ? key : "", keylen));
    if (!c)
        return SNAPCONF_ENOTFOUND;
    *out = c;
    return 0;
}
