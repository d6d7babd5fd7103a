/* source.h - profile collectors that run beside the load: each options.profile entry gets its own thread
 * that pulls windows from the target and saves them raw into the run directory's profiles/ as they
 * arrive, with an index (profiles/index.jsonl) that correlation and `loadctl report DIR` read back.
 *
 * Sources (options_profile.source):
 *   "pprof"   - Go net/http/pprof or anything serving profile.proto. type "cpu": back-to-back windows
 *               GET url?seconds=W. heap/allocs/mutex/block/goroutine: delta windows url?seconds=W; a
 *               target that refuses ?seconds (4xx) is then sampled cumulatively every W instead. The
 *               type "goroutine": polled, fgprof-style: a snapshot (debug=0 profile.proto, with labels) every
 *               SOURCE_POLL_MS, summed over each window of W seconds into one saved window, so the
 *               values count goroutines observed parked or running at each stack (off-CPU waits). The
 *               type is taken from the URL's last path segment when options say "cpu" but the URL
 *               names another profile (.../debug/pprof/mutex). A 500 "cpu profiling already in use" (or
 *               any failure) is recorded as a gap/error window and retried; never fatal.
 *   "command" - runs `/bin/sh -c url` once per window (env LOADCTL_WINDOW_S = W seconds,
 *               LOADCTL_PROFILES_DIR): a command that takes W itself (perf record ... sleep W) runs back
 *               to back, a quick one is started at most once per W, a failing one retried after W. Its
 *               stdout is pprof (gzipped or not), folded stacks, or `perf script` text (folded by
 *               folded.c); stderr goes to profiles/command-<i>.stderr. `perf script` text is cut by
 *               each sample's time into SOURCE_PERF_SPLIT_MS windows on the wall clock (perfsplit.h),
 *               so one `perf record` of W s gives W windows however long `perf script` takes; it is cut
 *               as it comes (about once a second), so a command that records for the whole run
 *               (`perf record -o - | perf script -i -`) gives gapless windows live; at the stop what
 *               it printed is kept, the event a kill tore off dropped. A perf recording with
 *               sched:sched_switch waits (perfsplit.h) also gives each window an "offcpu" one: the
 *               waits' stacks weighed by their ticks off CPU; without any in its first
 *               SOURCE_OFFCPU_WARN windows the run log warns (CPU samples only).
 *   "file"    - url is a path read once at stop (a profile some other tool wrote during the run).
 * Files: profiles/<start_ms>-<end_ms>-<source>-<type>.pb.gz (or .folded for text), wall clock ms.
 * index.jsonl, one line per window, appended and flushed as it happens:
 *   {"start_ms":..,"end_ms":..,"source":"pprof","type":"cpu","url":"..","file":"<name>" or null,
 *    "status":"ok"|"gap"|"error","error":".." or null,"bytes":N,"samples":N}
 * ("samples" = sum of the first sample type, as decoded; a window that does not decode is "error"). */
#ifndef LOADCTL_SOURCE_H
#define LOADCTL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/options.h"
#include "master/profile/pprof.h"

#define SOURCE_INDEX "index.jsonl"
#define SOURCE_DEFAULT_WINDOW_NS ((int64_t)5000000000)
#define SOURCE_PERF_SPLIT_MS 1000 /* perf script text: one window per this many ms of sample time */
#define SOURCE_POLL_MS 100        /* goroutine profiles: one snapshot per this many ms (10 Hz) */
#define SOURCE_POLL_TIMEOUT_S 5   /* per snapshot request */
#define SOURCE_OFFCPU_WARN 5      /* perf windows without an off-CPU wait before the run log warns */

typedef struct source_set source_set;

/* One line of index.jsonl. */
typedef struct source_window {
  int64_t start_ms, end_ms; /* wall clock, ms since the epoch */
  char source[32];          /* "pprof", "command", "file" */
  char type[32];            /* "cpu", "mutex", "block", "heap", "allocs", "goroutine", "offcpu" */
  char file[256];           /* file name inside profiles/, "" for gaps and errors */
  char status[8];           /* "ok", "gap", "error" */
  char error[256];          /* "" when ok */
  int64_t samples;          /* sum of the first sample type ("ok" windows) */
} source_window;

/* Create profiles_dir if missing and start one collector thread per profile entry (n may be 0: then
 * nothing runs and *out is still a valid set). list is copied. A bad entry (unknown source, empty url;
 * options_load_source refuses both with file:line first) is skipped with a message naming it in err
 * ("" when none) and the other entries still start. An unwritable dir returns -errno and starts nothing.
 * *out is owned by the caller and released with source_stop. */
int source_start(const options_profile *list, size_t n, const char *profiles_dir, source_set **out, char *err,
                 size_t errlen);

/* Stop: abort in-flight requests and commands (within ~1 s), read file sources, record the partial
 * windows as gaps, join the threads, close the index, free set. NULL is fine. */
void source_stop(source_set *set);

/* Windows recorded so far with status "ok" (thread-safe snapshot count). */
size_t source_ok_windows(source_set *set);

/* Read profiles_dir/index.jsonl into a malloc'd array (*out, caller frees; *n entries). Malformed lines
 * are skipped (a run killed mid-write). 0, -ENOENT, -ENOMEM. */
int source_read_index(const char *profiles_dir, source_window **out, size_t *n);

/* Decode the saved file of an "ok" window (profiles_dir/w->file: .pb.gz/.pb as pprof, .folded as folded
 * stacks "samples"/"count") into a new profile (caller frees with pprof_free). -ENOENT for a window
 * without a file, else pprof_decode / folded_parse's codes with the message in err. */
int source_load_window(const char *profiles_dir, const source_window *w, pprof_profile **out, char *err,
                       size_t errlen);

#endif
