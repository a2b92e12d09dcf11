/*
 * strategy_map.h - the "mutable map" of the lock-based strategies (rwlock,
 * mutex): one shared copy of the config that the writer overwrites in place,
 * under the write lock, with a deep copy of a freshly built snapshot.
 *
 * The copy is of a snapconf snapshot so that readers run exactly the same
 * lookup as every other strategy.  A snapshot is one block whose nodes and
 * strings refer to each other by relative offsets; only three pointers in
 * its header point into the block.  A deep copy is therefore one memcpy of
 * the block plus those three pointers moved: the cheapest deep copy a
 * mutable map can have, which keeps the writer's lock hold (what the
 * readers wait for) as short as the design allows.  It knows the layout of
 * src/snapshot.h, on purpose and only here.
 */
#ifndef SNAPCONF_BENCH_STRATEGY_MAP_H
#define SNAPCONF_BENCH_STRATEGY_MAP_H

#include <stddef.h>

#include <snapconf.h>

typedef struct strategy_map {
    snapconf_snap *snap; /* the shared copy, owned by the map */
    size_t cap;          /* bytes allocated for it */
} strategy_map;

/* Makes map a deep copy of src.  Returns 0, or -1 when memory runs out. */
int strategy_map_init(strategy_map *map, const snapconf_snap *src);

/* Overwrites the map with a deep copy of src, reusing its memory when src
 * fits (the usual case: a config of the same size).  Call with readers
 * excluded.  Returns 0, or -1 when memory runs out (the map is unchanged). */
int strategy_map_assign(strategy_map *map, const snapconf_snap *src);

void strategy_map_free(strategy_map *map);

#endif /* SNAPCONF_BENCH_STRATEGY_MAP_H */
