/* proflines.h - line-level granularity for the report: pprof's line numbers (Location.line -> Line.line,
 * Function.filename), which the decoded profile (pprof.h) leaves out, read again from a run's saved
 * windows. Gives the file:line of each top function's hottest line for the top table, the hottest lines
 * of the whole profile, and each top function's lines (a by-line view, like `go tool pprof -list` without
 * the source). A profile without line numbers (folded stacks, perf, a profiler that sends none) gives
 * "has_lines": false and the report stays at function level. */
#ifndef LOADCTL_PROFLINES_H
#define LOADCTL_PROFLINES_H

#include <jansson.h>

#define PROFLINES_TOP 30 /* hottest lines listed (by flat value) */

/* Per-line totals of run_dir's "ok" pprof windows of type (cpu, heap, allocs, mutex, block, goroutine),
 * value: the one the report's views show for that type (cpu: samples; else export_shown_value's). A line
 * is (function, file, line); flat counts a sample at its leaf line, cum once per sample wherever the line
 * is on its stack. top: the report's top table ([{"f",...}], flame_top) whose functions get their lines.
 * *out (new object): {"has_lines": bool, "lines": [{"f","file","line","flat","cum"}] (PROFLINES_TOP,
 * flat desc), "functions": {name: {"file","line" (its hottest line: flat, then cum), "lines": [{"line",
 * "flat","cum"}] by line number}}} for the functions of top found in the windows. No windows: an object
 * with "has_lines": false and nothing else. Windows that do not decode are skipped. 0 or -ENOMEM. */
int proflines_run(const char *run_dir, const char *type, const json_t *top, json_t **out);

#endif
