/* tally.h - the master's side of "nothing measured is lost": its own clock for judging workers (stalls
 * left out), which workers the end of a run still waits for, asking workers again for stats the transport
 * dropped, and saying in run.json, summary.json, the log and the exit status what could not be counted.
 * Works on master.c's private state (master_internal.h). */
#ifndef LOADCTL_TALLY_H
#define LOADCTL_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "master/master_internal.h"

/* A missing worker that was running load is waited for (its stats and its quit may still come) until it
 * has been silent this long on tally_awake_ns's clock; then it is lost and the run can end without it. */
#define TALLY_LOST_NS (10 * CLOCK_NS_PER_S)
#define TALLY_RESEND_PER_BEAT 16 /* stats numbers asked for again per worker and heartbeat */

/* Monotonic ns less the time the master's loop stood still (m->stalled_ns): the clock worker silence is
 * judged on, so a worker is not silent for what the master did not read. */
int64_t tally_awake_ns(const master *m);

/* Workers still running load as far as the master knows: live ones that have not quit, and missing ones
 * silent for less than TALLY_LOST_NS. */
size_t tally_unfinished(master *m);

/* Send MSG_RESEND for each worker's numbered stats that did not arrive (up to TALLY_RESEND_PER_BEAT
 * each) when it has reported its highest number sent since it was last asked (aggregate_ask_due);
 * called once a heartbeat, before the heartbeat itself, while a run goes or drains. */
void tally_ask_resends(master *m);

/* Acknowledge to each worker the stats merged since the last acknowledgement (a MSG_HEARTBEAT to it alone
 * with stats_no = n: its 1..n are merged; the worker keeps sent stats until then). Once a heartbeat. */
void tally_ack(master *m);

/* At the end of a run: "stats_lost" (stats intervals sent and never merged) and "workers_lost" (ids of
 * workers that never reported the end of their load) into the run info, with a log line for each kind
 * of loss. Returns EXIT_RUNTIME when counts are known to be missing (stats lost, or no worker finished),
 * else 0 (a worker lost mid-run, e.g. killed, had its share given to the others). */
int tally_losses(master *m);

#endif
