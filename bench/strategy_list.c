/*
 * strategy_list.c - every publication strategy, in report order.  A new
 * strategy is a file and a line here.
 */
#include "strategy.h"

#include <string.h>
#include <time.h>

extern const strategy_ops strategy_unsync, strategy_snapconf, strategy_urcu_bp, strategy_urcu_memb,
    strategy_urcu_mb, strategy_urcu_signal, strategy_urcu_qsbr, strategy_rwlock, strategy_rwlock_wp,
    strategy_mutex, strategy_sharded, strategy_refcount;

const strategy_ops *const strategy_all[] = {
    &strategy_unsync,    &strategy_snapconf,    &strategy_urcu_bp,   &strategy_urcu_memb,
    &strategy_urcu_mb,   &strategy_urcu_signal, &strategy_urcu_qsbr, &strategy_rwlock,
    &strategy_rwlock_wp, &strategy_mutex,       &strategy_sharded,   &strategy_refcount,
};
const size_t strategy_count = sizeof(strategy_all) / sizeof(strategy_all[0]);

const strategy_ops *strategy_find(const char *name)
{
    for (size_t i = 0; i < strategy_count; i++)
        if (strcmp(strategy_all[i]->name, name) == 0)
            return strategy_all[i];
    return NULL;
}

uint64_t strategy_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
