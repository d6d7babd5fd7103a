/* corrinline.h - a lock taken inline, seen from wall-clock and CPU profiles alone (Python: `with
 * self._lock:` on a threading.Lock/RLock parks in C, with no frame of its own): requests pile up parked at
 * one line of one function (wall time, no CPU) in the seconds when another thread runs beneath that same
 * function (the holder, doing CPU work or I/O under the lock), and not in the other seconds. Thresholds
 * CORRELATE_INLINE_* and CORRELATE_LOCK_* in correlate.h; the rule is in docs/report.md "How findings are
 * made". corrlock.c calls it when a run has wall-clock profiles and no contention profile names a lock;
 * corrinline_writer (Go) when readers queue in a sync.RWMutex's RLock behind a writer no profile shows. */
#ifndef LOADCTL_CORRINLINE_H
#define LOADCTL_CORRINLINE_H

#include "master/profile/correlate.h"
#include "master/profile/corrlock.h"
#include "master/profile/corrstack.h"

/* The holder of a lock taken inline, from the "wall" windows of win (labelled samples: requests) and its
 * "cpu" windows (how much of the parked time was CPU), cpu (the run's CPU samples, for the path and the
 * names) and req_ms (the requests' time at the run's typical pace, corrlat_request_ms; < 0 unknown). 1 and
 * *out filled (fn, request, share, base, x, ncont, p_value, path, delay_ms, waited, evidence) when a holder
 * passes the thresholds, else 0. */
int corrinline_find(const correlate_window *win, size_t nw, const corrstack *cpu, double req_ms,
                    corrlock_result *out);

/* Go: readers blocked in sync.(*RWMutex).RLock (block windows, >= MIN_SAMPLES contentions, >= LOCK_LATENCY of
 * the requests' time) queue behind a writer; a writer computing under the lock blocks nowhere, so no
 * contention profile shows it. The function taking the write side (its Lock/Unlock seen in any profile)
 * whose CPU samples rise with the readers' delay (block windows where its CPU is above the median window's:
 * delay per second >= INLINE_RISE x the others', binomial z test p < ALPHA) is the holder. 1 and *out
 * filled, else 0. */
int corrinline_writer(const correlate_window *win, size_t nw, const corrstack *cpu, double req_ms,
                      corrlock_result *out);

#endif
