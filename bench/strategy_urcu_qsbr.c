/* strategy_urcu_qsbr.c - urcu-qsbr: read-side lock and unlock are empty;
 * instead each registered reader must announce quiescent states, here
 * urcu_qsbr_quiescent_state() after every read-side section (what a server
 * that calls it once per request pays; calling it less often is cheaper). */
#define _LGPL_SOURCE
#include <urcu/urcu-qsbr.h>

#define URCU_OPS strategy_urcu_qsbr
#define URCU_NAME "urcu-qsbr"
#define URCU_DESC "urcu_qsbr_read_lock/unlock + urcu_qsbr_quiescent_state each time (registered)"
#define URCU_READ_LOCK() urcu_qsbr_read_lock()
#define URCU_READ_UNLOCK() urcu_qsbr_read_unlock()
#define URCU_QUIESCE() urcu_qsbr_quiescent_state()
#define URCU_REGISTER() urcu_qsbr_register_thread()
#define URCU_UNREGISTER() urcu_qsbr_unregister_thread()
#define URCU_SYNCHRONIZE() urcu_qsbr_synchronize_rcu()
#define URCU_NOTE NULL
#include "strategy_urcu.h"
