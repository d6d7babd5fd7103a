/* assign.h - the master's shares of the load (master/assign.c): ASSIGN messages for the current plan. */
#ifndef LOADCTL_ASSIGN_H
#define LOADCTL_ASSIGN_H

#include <stdbool.h>

#include "master/master_internal.h"

/* Send up to a tick's budget of due shares of the current plan (the rest go on the next ticks). */
void assign_send_due(master *m);

/* Queue the shares: for all active workers, or (resend) only those whose assign is unanswered. */
void assign_send_plan(master *m, bool only_unready);

/* A new plan after workers came or went (why, when non-NULL, is logged). */
void assign_rebalance(master *m, const char *why);

#endif
