/* folded.h - folded stacks ("root;mid;leaf 123" per line, Brendan Gregg's format, what flamegraph.pl,
 * py-spy --format raw, Pyroscope and speedscope exchange) to and from the pprof.h structure, and
 * folding of `perf script` output by our own code (so `perf record -g` needs no external scripts). */
#ifndef LOADCTL_FOLDED_H
#define LOADCTL_FOLDED_H

#include <stddef.h>

#include "master/profile/pprof.h"

#define FOLDED_MAX_LINE ((size_t)1 << 20) /* bytes per line accepted */

/* Parse folded text (len bytes, need not be NUL-terminated) into a new profile with one sample type
 * type/unit (NULL: "samples"/"count"). Each non-empty line is "frame;frame;...;frame <count>", root first;
 * the count is a non-negative integer after the last space; empty frames are skipped; equal stacks add
 * up; '\r' before '\n' is ignored. On error returns -EINVAL with "line N: what" in err (or -E2BIG,
 * -ENOMEM) and *out is NULL. *out is owned by the caller (pprof_free). */
int folded_parse(const char *text, size_t len, const char *type, const char *unit, pprof_profile **out,
                 char *err, size_t errlen);

/* Fold `perf script` text (default fields, recorded with -g) into a new profile "samples"/"count": one
 * event per blank-line-separated block; the header line gives the command (the root frame, as
 * stackcollapse-perf does), frame lines "addr symbol+0xoff (dso)" are leaf first; "+0x.." offsets are
 * dropped; an unknown symbol becomes "[dso basename]". Events without frames count as just the command.
 * Returns 0, -EINVAL (nothing that looks like perf script; message in err), -ENOMEM. */
int folded_from_perf_script(const char *text, size_t len, pprof_profile **out, char *err, size_t errlen);

/* perf script text with off-CPU waits (perfsplit.h marks each " offcpu_ticks=N"): FOLDED_PERF_CPU folds the
 * samples as folded_from_perf_script does (waits, sched_switch events and switch records left out),
 * FOLDED_PERF_OFFCPU only the waits, each weighing its ticks, their kernel frames tagged "[k] name" and the C
 * library's "[libc] name" (a wait's stack is mostly theirs; tagged, they read as plumbing, never the
 * service's code), and the thread "[tid N]" as the frame below the command (the root). *waits (may be NULL):
 * the marked waits seen. An off-CPU fold may be empty (0 samples); a CPU fold of text that holds only waits
 * is too. */
enum { FOLDED_PERF_CPU, FOLDED_PERF_OFFCPU };
int folded_from_perf_events(const char *text, size_t len, int which, pprof_profile **out, size_t *waits,
                            char *err, size_t errlen);

/* Write p as folded text, value index vi, one line per distinct stack (labels ignored, values summed,
 * zero and negative totals skipped: a heap delta's frees), lines sorted. *out is malloc'd and NUL-terminated
 * (caller frees), *outlen its length without the NUL. 0, -EINVAL (vi out of range), -ENOMEM. */
int folded_write(const pprof_profile *p, size_t vi, char **out, size_t *outlen);

#endif
