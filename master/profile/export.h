/* export.h - a run's merged profile written for other tools: pprof (.pb.gz, `go tool pprof`), folded stacks
 * (flamegraph.pl, Pyroscope) and speedscope JSON (https://www.speedscope.app, "sampled" profile type). */
#ifndef LOADCTL_EXPORT_H
#define LOADCTL_EXPORT_H

#include <jansson.h>
#include <stddef.h>

#include "master/profile/pprof.h"

#define EXPORT_SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

/* Speedscope file object for value index vi of p: shared.frames = p's functions (same indices), one
 * "sampled" profile whose samples are frame-index stacks root first and weights the values (zero skipped).
 * unit "nanoseconds"/"bytes" when p's type says so, else "none". New reference in *out. 0, -EINVAL, -ENOMEM.
 */
int export_speedscope(const pprof_profile *p, size_t vi, const char *name, json_t **out);

/* Write speedscope JSON / folded stacks (value vi) / gzipped pprof to path. 0 or negative errno. */
int export_speedscope_file(const pprof_profile *p, size_t vi, const char *name, const char *path);
int export_folded_file(const pprof_profile *p, size_t vi, const char *path);
int export_pprof_file(const pprof_profile *p, const char *path);

/* Merge the run's "ok" profile windows of one type (run_dir/profiles/index.jsonl; type "cpu" also takes
 * "folded" windows' samples only when no pprof cpu window exists) into a new profile (*out, NULL when there
 * is none). 0, -ENOENT (no windows of that type), -ENOMEM. Windows that fail to decode or merge are skipped.
 */
int export_merge_run(const char *run_dir, const char *type, pprof_profile **out);

/* The value index a type's folded and speedscope exports (and the report's views) show: CPU time (cpu),
 * contention delay (mutex, block), bytes in use (heap), bytes allocated (allocs); else the last sample
 * type (goroutine: its count). */
size_t export_shown_value(const pprof_profile *p, const char *type);

#define EXPORT_MAX_TYPES 16 /* distinct profile types exported per run */

/* Write run_dir/profile-<type>.pb.gz (every sample type), .folded and .speedscope.json (one value: cpu time,
 * mutex/block delay, heap inuse_space, allocs alloc_space, else the last type, e.g. goroutine count) for
 * every type the run has "ok" windows of (cpu, heap, allocs, mutex, block, goroutine, ...; "folded"
 * windows as cpu). Folded and speedscope leave out non-positive values (a heap delta's frees); the
 * .pb.gz keeps them. Returns how many types were written, or a negative errno (message in err). */
int export_run(const char *run_dir, char *err, size_t errlen);

#endif
