/* timeline.h - the target's memory and garbage collection over the run, window by window, for the charts
 * next to latency in report.html and on the live page: heap in use and allocation rate from the heap
 * windows, and the share of the target's CPU samples spent in Go's garbage collector from the CPU windows.
 * Built incrementally, so the live page can ask again and again while windows arrive.
 *
 * What each series is (docs/report.md "Target memory and GC"):
 *   heap  - a delta heap window (Go's /debug/pprof/heap?seconds=W, the Python agent's tracemalloc growth;
 *           recognised by a profile duration of at least half the window) adds its net inuse_space change;
 *           the series is the running sum, "kind":"growth" (bytes more than at the first window's start).
 *           A cumulative snapshot (a target refusing ?seconds) is the in-use total itself, "kind":"absolute".
 *           Go's heap profile is sampled (one sample per 512 KiB allocated, scaled) and changes at each GC.
 *   alloc - alloc_space of a delta heap window divided by the window's length: bytes allocated per second by
 *           the whole process (every request and background work together; Go's heap profiles carry no
 *           request labels), and divided by the requests measured in the window (intervals.jsonl's "(all)"
 *           lines, each weighted by its overlap): bytes per request served, all names together.
 *   gc    - per CPU window, samples whose stack holds a Go garbage-collector frame (TIMELINE_GC_FRAMES) over
 *           all samples of the window, joined to latency: the highest p99 of the intervals it overlaps. Only
 *           for profiles with Go runtime frames. */
#ifndef LOADCTL_TIMELINE_H
#define LOADCTL_TIMELINE_H

#include <jansson.h>

/* Frames that put a CPU sample in the garbage collector: background and assist marking, sweeping, the
 * phases' transitions. Matched as prefixes ("runtime.gcDrain" takes gcDrainN). */
#define TIMELINE_GC_FRAMES                                                                  \
  "runtime.gcBgMarkWorker", "runtime.gcAssistAlloc", "runtime.gcDrain", "runtime.markroot", \
      "runtime.bgsweep", "runtime.sweepone", "runtime.gcStart", "runtime.gcMarkDone",       \
      "runtime.gcMarkTermination"

typedef struct timeline timeline;

/* A new empty timeline in *out (owned by the caller, released with timeline_free). 0 or -ENOMEM. */
int timeline_create(timeline **out);
void timeline_free(timeline *t);

/* Read run_dir/profiles/index.jsonl and fold in the "ok" heap and cpu windows not folded in before (the
 * index only grows), and the intervals.jsonl lines written since (a line still being written waits for the
 * next call). A window that does not decode is skipped. 0 (also when there is no index yet) or -ENOMEM. */
int timeline_update(timeline *t, const char *run_dir);

/* {"heap":{"t":[end_ms..],"bytes":[..],"kind":"growth"|"absolute"},"alloc":{"t":[..],"bytes_per_s":[..],
 *  "bytes_per_req":[.. or null],"run_bytes_per_req": x or null},"gc":{"t":[..],"share":[0..1],"samples":[..],
 *  "p99_ms":[.. or null]}}, points in time order, each key only when it has points; an empty object when
 * none. New reference, NULL on out of memory. */
json_t *timeline_json(const timeline *t);

/* timeline_create + timeline_update + timeline_json for a finished run: *out is NULL (and 0 returned) when
 * the run has neither heap nor Go CPU windows. 0 or -ENOMEM. */
int timeline_run(const char *run_dir, json_t **out);

#endif
