/* nstimer.h - a one-shot timer on a uv loop that fires at a CLOCK_MONOTONIC nanosecond, not at libuv's
 * whole millisecond: the open model's arrival clock, so arrivals go out spread over the millisecond
 * instead of in one burst per tick. A timerfd watched by uv_poll (timer slack 1 us on the thread that
 * creates it); where timerfd is missing it falls back to a uv_timer rounded up to the next ms. */
#ifndef LOADCTL_NSTIMER_H
#define LOADCTL_NSTIMER_H

#include <stdint.h>
#include <uv.h>

typedef struct nstimer nstimer;

/* Create a stopped timer on loop; cb(ud) runs on the loop thread when it fires. *out is owned by the
 * caller and released with nstimer_close (asynchronous: the loop must run once more). 0 or -errno. */
int nstimer_create(uv_loop_t *loop, void (*cb)(void *ud), void *ud, nstimer **out);
/* Fire once at mono_ns (clock_mono_ns time; a time already past fires on the next loop pass),
 * replacing any earlier setting. 0 or -errno. */
int nstimer_start_at(nstimer *t, int64_t mono_ns);
/* Fire every period_ns from now on until stopped or set again; setting the same period again costs no
 * syscall (reprogramming a timer is expensive under a hypervisor; a periodic one re-arms in the
 * kernel). 0 or -errno. */
int nstimer_every(nstimer *t, int64_t period_ns);
void nstimer_stop(nstimer *t);
/* Stop, then free once the loop has closed the handle; the callback never runs after this. */
void nstimer_close(nstimer *t);
/* 1 when the timer has nanosecond resolution (timerfd), 0 on the ms fallback. */
int nstimer_precise(const nstimer *t);

#endif
