/* nstimer.c - nanosecond one-shot timer for the open model's arrival clock: a CLOCK_MONOTONIC timerfd
 * watched by uv_poll, with a uv_timer fallback in whole ms where timerfd is not available. */
#include "worker/nstimer.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/clock.h"

/* Linux rounds a sleeping thread's timers up by its timer slack (50 us by default); 1 us keeps the
 * arrival clock within a few us of its schedule. */
#define SLACK_NS 1000

struct nstimer {
  uv_loop_t *loop;
  void (*cb)(void *ud);
  void *ud;
  int fd; /* -1: fallback on timer */
  int polling, slack_set, closing;
  int64_t period_ns; /* > 0: firing every period_ns (nstimer_every) */
  uv_poll_t poll;
  uv_timer_t timer;
};

static void on_readable(uv_poll_t *p, int status, int events) {
  nstimer *t = p->data;
  uint64_t expirations;
  (void)events;
  if (status < 0 || t->closing) return;
  if (read(t->fd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations) return; /* re-armed */
  t->cb(t->ud);
}

static void on_timer(uv_timer_t *timer) {
  nstimer *t = timer->data;
  if (!t->closing) t->cb(t->ud);
}

int nstimer_create(uv_loop_t *loop, void (*cb)(void *ud), void *ud, nstimer **out) {
  nstimer *t;
  int rc;
  if (!loop || !cb || !out) return -EINVAL;
  if (!(t = calloc(1, sizeof *t))) return -ENOMEM;
  t->loop = loop;
  t->cb = cb;
  t->ud = ud;
  t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (t->fd >= 0 && uv_poll_init(loop, &t->poll, t->fd) != 0) {
    close(t->fd);
    t->fd = -1;
  }
  if (t->fd < 0 && (rc = uv_timer_init(loop, &t->timer)) != 0) {
    free(t);
    return rc;
  }
  t->poll.data = t->timer.data = t;
  *out = t;
  return 0;
}

static int arm(nstimer *t, int64_t first_ns, int64_t period_ns) {
  if (!t->slack_set) {
    prctl(PR_SET_TIMERSLACK, SLACK_NS, 0, 0, 0); /* the loop's thread: that is where the timer sleeps */
    t->slack_set = 1;
  }
  if (first_ns < 1) first_ns = 1; /* it_value 0 would disarm */
  struct itimerspec when = {
      .it_value = {.tv_sec = first_ns / CLOCK_NS_PER_S, .tv_nsec = first_ns % CLOCK_NS_PER_S},
      .it_interval = {.tv_sec = period_ns / CLOCK_NS_PER_S, .tv_nsec = period_ns % CLOCK_NS_PER_S}};
  if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &when, NULL) != 0) return -errno;
  t->period_ns = period_ns;
  if (!t->polling) {
    int rc = uv_poll_start(&t->poll, UV_READABLE, on_readable);
    if (rc != 0) return rc;
    t->polling = 1;
  }
  return 0;
}

int nstimer_start_at(nstimer *t, int64_t mono_ns) {
  if (t->fd < 0) {
    int64_t left = mono_ns - clock_mono_ns();
    return uv_timer_start(&t->timer, on_timer,
                          left > 0 ? (uint64_t)clock_ns_to_ms(left + CLOCK_NS_PER_MS - 1) : 0, 0);
  }
  return arm(t, mono_ns, 0);
}

int nstimer_every(nstimer *t, int64_t period_ns) {
  if (period_ns <= 0) return -EINVAL;
  if (t->fd < 0) {
    uint64_t ms = (uint64_t)clock_ns_to_ms(period_ns + CLOCK_NS_PER_MS - 1);
    return uv_timer_start(&t->timer, on_timer, ms, ms);
  }
  if (t->polling && t->period_ns == period_ns) return 0; /* already ticking: no syscall */
  return arm(t, clock_mono_ns() + period_ns, period_ns);
}

void nstimer_stop(nstimer *t) {
  if (t->fd < 0) {
    uv_timer_stop(&t->timer);
    return;
  }
  struct itimerspec off = {{0, 0}, {0, 0}};
  timerfd_settime(t->fd, 0, &off, NULL);
  if (t->polling) uv_poll_stop(&t->poll);
  t->polling = 0;
  t->period_ns = 0;
}

static void on_closed(uv_handle_t *h) {
  nstimer *t = h->data;
  if (t->fd >= 0) close(t->fd);
  free(t);
}

void nstimer_close(nstimer *t) {
  if (!t || t->closing) return;
  nstimer_stop(t);
  t->closing = 1;
  uv_close(t->fd >= 0 ? (uv_handle_t *)&t->poll : (uv_handle_t *)&t->timer, on_closed);
}

int nstimer_precise(const nstimer *t) {
  return t->fd >= 0;
}
