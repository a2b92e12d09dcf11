/* strategy_urcu_memb.c - liburcu's default flavor, urcu-memb: readers must
 * register; with membarrier(2) the read side has no fence. */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

static const char *memb_note(void)
{
    return urcu_memb_has_sys_membarrier ? "membarrier(2) in use: read side without fences"
                                        : "NO membarrier(2): read side falls back to fences";
}

#define URCU_OPS strategy_urcu_memb
#define URCU_NAME "urcu-memb"
#define URCU_DESC "urcu_memb_read_lock/unlock (registered threads)"
#define URCU_READ_LOCK() urcu_memb_read_lock()
#define URCU_READ_UNLOCK() urcu_memb_read_unlock()
#define URCU_QUIESCE() ((void)0)
#define URCU_REGISTER() urcu_memb_register_thread()
#define URCU_UNREGISTER() urcu_memb_unregister_thread()
#define URCU_SYNCHRONIZE() urcu_memb_synchronize_rcu()
#define URCU_NOTE memb_note
#include "strategy_urcu.h"
