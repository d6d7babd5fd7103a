/* perfsplit.h - cut the `perf script` text of one long `perf record` into profile windows by sample time.
 *
 * A perf command window lasts as long as `perf record -- sleep W` plus `perf script` (seconds with DWARF
 * call graphs), far longer than the seconds correlation wants to contrast. Each event header of perf script
 * carries its sample time ("comm 1234/1235 [000] 16975.432091: 1 cycles:"), so the events are grouped
 * into windows of bucket_ms by that time, mapped onto the wall clock:
 *   - times inside the command's CLOCK_MONOTONIC span (+- PERFSPLIT_SLACK_MS; `perf record -k
 *     CLOCK_MONOTONIC`, and on most Linux machines perf's default clock too) become wall time through the
 *     offset wall - monotonic measured by the caller;
 *   - other clocks (`-k realtime` gives wall time directly and is recognised as such; anything else) are
 *     anchored so that the first sample falls at the command's start.
 * Buckets are aligned to whole bucket_ms of wall time (so windows of separate commands never overlap)
 * and clipped to the command's span. Events without a time keep the whole span as one window.
 *
 * Off CPU: with `-e sched:sched_switch` (and `--switch-events`) in the recording, a thread's switch-out to
 * wait (prev_state not R) carries the stack it waits in; it lasts until the thread's next event that shows it
 * running (its switch-in record, a sample, its next switch-out), or to the span's end. Its time is counted in
 * ticks of PERFSPLIT_OFFCPU_TICK_MS on the wall clock (the grid instants it holds: what polling every thread
 * at that rate would see waiting there), and the event goes into every window it overlaps with its header
 * marked " offcpu_ticks=N" (folded.h folds those apart from the CPU samples). Preemptions (prev_state R, CPU
 * contention) and the switch records are dropped. A wait still going on when a streamed piece is cut (about
 * once a second) is carried into the next piece, timed at the cut (an idle thread's wait of many seconds
 * counts in every window it spans); at the final cut, and in perfsplit_split, it ends at the span's end. */
#ifndef LOADCTL_PERFSPLIT_H
#define LOADCTL_PERFSPLIT_H

#include <stddef.h>
#include <stdint.h>

#define PERFSPLIT_SLACK_MS \
  2000 /* sample times this far outside the command's span still count as its clock */
#define PERFSPLIT_OFFCPU_TICK_MS \
  10.0 /* off-CPU time in ticks of this many ms: about one CPU sample of `perf record -F 99` */
#define PERFSPLIT_MAX_WINDOWS 4096 /* longer recordings are refused (-E2BIG), never cut silently */

typedef struct perfsplit_window {
  int64_t start_ms, end_ms; /* wall clock ms */
  char *text;               /* perf script text of this window's events (malloc'd, NUL-terminated) */
  size_t len;
  size_t events;
} perfsplit_window;

/* The span of the command that printed the text: wall ms and the same instants in CLOCK_MONOTONIC ms. */
typedef struct perfsplit_span {
  int64_t start_ms, end_ms;           /* wall */
  int64_t mono_start_ms, mono_end_ms; /* monotonic */
} perfsplit_span;

/* Split text (perf script output) into windows of bucket_ms (> 0), in time order; empty buckets are left
 * out. *out is malloc'd (free with perfsplit_free), *n windows. 0, -EINVAL (bucket_ms <= 0), -ENOMEM, -E2BIG.
 */
int perfsplit_split(const char *text, size_t len, const perfsplit_span *span, int64_t bucket_ms,
                    perfsplit_window **out, size_t *n);

/* Streaming: a command that records for the whole run (`perf record -o - | perf script -i -`) is cut as its
 * output comes, so the recording has no gaps. span is the command's (start, and end_ms/mono_end_ms = now,
 * updated by the caller); from_ms is the wall time up to which windows were cut off already. */
typedef struct perfsplit_stream {
  perfsplit_span span;
  int64_t from_ms;
  char *open; /* the waits still going on at from_ms: their events timed at from_ms, put before the next piece
               */
  size_t open_len;
} perfsplit_stream;

/* Free what a stream carries between cuts (open waits). */
void perfsplit_stream_free(perfsplit_stream *s);

/* Cut windows off the front of text (the output so far): not final, the events before the bucket one bucket
 * behind the newest sample (perf script prints in time order, a round at a time), and only while the sample
 * times are CLOCK_MONOTONIC or wall time (an unknown clock is anchored once, at the end); final, all of it up
 * to span.end_ms. *used: the bytes of text those windows hold (the caller drops them); s->from_ms moves on.
 * *out and *n as perfsplit_split (nothing cut: *n = 0, *used = 0). 0, -EINVAL, -ENOMEM, -E2BIG. */
int perfsplit_stream_cut(perfsplit_stream *s, const char *text, size_t len, int64_t bucket_ms, int final,
                         perfsplit_window **out, size_t *n, size_t *used);

/* The sample time of a perf script event header in ms (1 when found), 0 when the line has none. */
int perfsplit_header_ms(const char *line, size_t len, double *ms);

void perfsplit_free(perfsplit_window *w, size_t n);

#endif
