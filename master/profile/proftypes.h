/* proftypes.h - every profile type the run collected besides cpu, for the report's profile-type selector:
 * the flame graph, treemap, sunburst, call graph, top table and lines of heap in use, allocations, mutex and
 * block delay, goroutines and wall clock, each with its unit. */
#ifndef LOADCTL_PROFTYPES_H
#define LOADCTL_PROFTYPES_H

#include <jansson.h>

/* {type: {"label","unit","value","total","flame","top","edges","lines"}} ("lines": proflines_run's) for each
 * of goroutine, wall, heap, allocs, mutex, block that has "ok" windows in run_dir (merged over the run,
 * export_merge_run; the value shown is export_shown_value's). Heap and allocs windows are deltas: their
 * negative values (memory freed) are left out of the views. New object in *out (empty when none). 0 or
 * -ENOMEM. */
int proftypes_data(const char *run_dir, json_t **out);

#endif
