/*
 * strategy_map.c - deep copies of a snapshot into a mutable map.
 */
#include "strategy_map.h"

#include "../src/snapshot.h"

#include <stdlib.h>
#include <string.h>

/* Copies src's block over dst (which has room) and moves the header's
 * pointers into the copy.  The memo comes along: empty, since src is always
 * freshly built. */
static void copy_block(snapconf_snap *dst, const snapconf_snap *src)
{
    size_t bytes = src->memory;
    memcpy((void *)dst, (const void *)src, bytes);
    const char *from = (const char *)src;
    char *to = (char *)dst;
    dst->root = (const struct snapconf_node *)(const void *)(to + ((const char *)src->root - from));
    dst->nodes =
        (const struct snapconf_node *)(const void *)(to + ((const char *)src->nodes - from));
    dst->source = to + (src->source - from);
}

int strategy_map_init(strategy_map *map, const snapconf_snap *src)
{
    map->cap = src->memory;
    map->snap = malloc(map->cap);
    if (!map->snap)
        return -1;
    copy_block(map->snap, src);
    return 0;
}

int strategy_map_assign(strategy_map *map, const snapconf_snap *src)
{
    if (src->memory > map->cap) {
        snapconf_snap *bigger = malloc(src->memory);
        if (!bigger)
            return -1;
        free(map->snap);
        map->snap = bigger;
        map->cap = src->memory;
    }
    copy_block(map->snap, src);
    return 0;
}

void strategy_map_free(strategy_map *map)
{
    free(map->snap);
    map->snap = NULL;
    map->cap = 0;
}
