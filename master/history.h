/* history.h - runs/index.jsonl: one line per finished (or rebuilt) run, so `loadctl history` lists runs
 * and draws the p99 trend per request name without opening every run directory. */
#ifndef LOADCTL_HISTORY_H
#define LOADCTL_HISTORY_H

#include <jansson.h>
#include <stddef.h>

#define HISTORY_INDEX "index.jsonl"

/* Append {"dir","scenario","start_ms","duration_s","status","requests","errors","rps",
 * "thresholds_ok","p99_ms":{name:x},"p50_ms":{...},"rps_by_name":{...}} built from summary (borrowed)
 * to <runs_root>/index.jsonl (created if missing; fdatasync'd). 0 or negative errno. */
int history_append(const char *runs_root, const char *run_dir, const json_t *summary);

/* Read <runs_root>/index.jsonl into a new array (oldest first); a bad or truncated line is skipped and
 * counted in *bad_lines (may be NULL). 0, -ENOENT, or negative errno. */
int history_load(const char *runs_root, json_t **out, int *bad_lines);

/* Runs root of a run directory: its parent ("runs/2026-...-x" -> "runs"). buf gets the result. */
void history_root_of(const char *run_dir, char *buf, size_t size);

#endif
