/* strategy_urcu_bp.c - urcu-bp ("bulletproof"), the flavor snapconf uses,
 * called directly with the inline fast path: no registration (the first
 * read-side lock of a thread registers it).  Compare with the "snapconf"
 * strategy, which is the same flavor behind libsnapconf.so's PLT and TLS
 * descriptors. */
#define _LGPL_SOURCE
#include <urcu/urcu-bp.h>

static const char *bp_note(void)
{
    return urcu_bp_has_sys_membarrier ? "membarrier(2) in use: read side without fences"
                                      : "NO membarrier(2): read side falls back to fences";
}

#define URCU_OPS strategy_urcu_bp
#define URCU_NAME "urcu-bp"
#define URCU_DESC "urcu_bp_read_lock/unlock, inline, no registration"
#define URCU_READ_LOCK() urcu_bp_read_lock()
#define URCU_READ_UNLOCK() urcu_bp_read_unlock()
#define URCU_QUIESCE() ((void)0)
#define URCU_REGISTER() ((void)0)
#define URCU_UNREGISTER() ((void)0)
#define URCU_SYNCHRONIZE() urcu_bp_synchronize_rcu()
#define URCU_NOTE bp_note
#include "strategy_urcu.h"
