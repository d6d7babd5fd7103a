/* control.c - the stages after a users/rate change made while the run goes (see control.h). */
#include "master/control.h"

#include <errno.h>
#include <math.h>

#include "common/clock.h"
#include "common/executor.h"

/* Copy the stages that end at or before at_ns, and the one running at at_ns cut there. */
static size_t keep_past(const options_stage *st, size_t n, int64_t at_ns, double now_target,
                        options_stage *out) {
  int64_t start = 0;
  size_t k = 0;

  for (size_t i = 0; i < n && start < at_ns; i++) {
    int64_t end = start + st[i].duration_ns;
    if (end <= at_ns) {
      out[k++] = st[i];
    } else {
      out[k++] = (options_stage){.duration_ns = at_ns - start, .target = now_target};
    }
    start = end;
  }
  return k;
}

int control_override(const options_stage *st, size_t n, int64_t at_ns, double target, double ramp_per_s,
                     options_stage *out, size_t *nout) {
  int64_t total = executor_total_ns(st, n), left, ramp_ns = 0;
  double now_target, reached = target;
  size_t k;

  if (!(target >= 0) || ramp_per_s < 0) return -EINVAL;
  if (at_ns < 0) at_ns = 0;
  if (at_ns >= total) return -ERANGE;
  now_target = executor_target_at(st, n, at_ns);
  if (n + 3 > OPTIONS_MAX_STAGES) return -ENOSPC;
  k = keep_past(st, n, at_ns, now_target, out);
  left = total - at_ns;
  if (ramp_per_s > 0) {
    double secs = fabs(target - now_target) / ramp_per_s;
    ramp_ns =
        secs * (double)CLOCK_NS_PER_S < (double)left ? (int64_t)llround(secs * (double)CLOCK_NS_PER_S) : left;
    if (ramp_ns == left && secs * (double)CLOCK_NS_PER_S > (double)left)
      reached = now_target + (target > now_target ? 1 : -1) * ramp_per_s * clock_ns_to_s(left);
  }
  out[k++] = (options_stage){.duration_ns = ramp_ns, .target = reached};
  if (left - ramp_ns > 0) out[k++] = (options_stage){.duration_ns = left - ramp_ns, .target = reached};
  *nout = k;
  return 0;
}
