/* strategy_urcu_mb.c - urcu-mb: readers must register; a full memory
 * barrier on each read-side lock and unlock, no signals, no membarrier. */
#define _LGPL_SOURCE
#include <urcu/urcu-mb.h>

#define URCU_OPS strategy_urcu_mb
#define URCU_NAME "urcu-mb"
#define URCU_DESC "urcu_mb_read_lock/unlock (registered threads, fences on the read side)"
#define URCU_READ_LOCK() urcu_mb_read_lock()
#define URCU_READ_UNLOCK() urcu_mb_read_unlock()
#define URCU_QUIESCE() ((void)0)
#define URCU_REGISTER() urcu_mb_register_thread()
#define URCU_UNREGISTER() urcu_mb_unregister_thread()
#define URCU_SYNCHRONIZE() urcu_mb_synchronize_rcu()
#define URCU_NOTE NULL
#include "strategy_urcu.h"
