/* strategy_urcu_signal.c - urcu-signal: readers must register; the writer
 * interrupts every reader with a signal (SIGUSR1) instead of readers paying
 * for fences.  The flavor takes that signal for the whole process, which a
 * library cannot do to its host. */
#define _LGPL_SOURCE
#include <urcu/urcu-signal.h>

#define URCU_OPS strategy_urcu_signal
#define URCU_NAME "urcu-signal"
#define URCU_DESC "urcu_signal_read_lock/unlock (registered threads, writer signals readers)"
#define URCU_READ_LOCK() urcu_signal_read_lock()
#define URCU_READ_UNLOCK() urcu_signal_read_unlock()
#define URCU_QUIESCE() ((void)0)
#define URCU_REGISTER() urcu_signal_register_thread()
#define URCU_UNREGISTER() urcu_signal_unregister_thread()
#define URCU_SYNCHRONIZE() urcu_signal_synchronize_rcu()
#define URCU_NOTE NULL
#include "strategy_urcu.h"
