/* scenarios.h - several scenarios in one run (k6's options.scenarios): each entry's executor, start
 * time, exec function, tags and env read into options, and the arithmetic that gives every worker its
 * exact part of each scenario from one contiguous slice of the run's weight (so the parts of all
 * workers add up to the scenario's vus, rate and iterations exactly, and VU indexes stay dense). */
#ifndef LOADCTL_SCENARIOS_H
#define LOADCTL_SCENARIOS_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#include "common/options.h"

/* Read options.scenarios (the table at index t of L, the options table) into o->scenarios. Absent: 0 and
 * o->nscenarios = 0. On a mistake -EINVAL with the reason in why and, in *key, the key messages should
 * point at (the scenario's name or the offending key). The top-level load keys are refused beside it. */
int scenarios_read(lua_State *L, int t, options *o, char *why, size_t len, const char **key);

/* After the scenario file ran (o->ntasks set): the run lasts until the last scenario ends, the top-level
 * load stays empty, every exec names a global function and a scenario without exec needs task()s.
 * 0, or -EINVAL with why and *key. */
int scenarios_finish(lua_State *L, options *o, char *why, size_t len, const char **key);

/* One worker's slice of the run: weight units [before, before + weight) of wsum (wsum 0 = the whole). */
typedef struct scenarios_slice {
  int64_t before, weight, wsum;
} scenarios_slice;

/* The slice's part of total whole units: floor(total * (before + weight) / wsum) - floor(total * before
 * / wsum). The parts of slices that tile [0, wsum) sum to total. */
int64_t scenarios_part(int64_t total, scenarios_slice s);
/* Units before the slice: floor(total * before / wsum) (a dense base for the slice's VU indexes). */
int64_t scenarios_before(int64_t total, scenarios_slice s);

/* The slice's share of scenario sc (index i of o->scenarios): stages (users whole, rates to the
 * hundredth), pool, pre-allocated VUs, count executors' VUs and the base of their indexes. */
typedef struct scenarios_share {
  options_stage stages[OPTIONS_MAX_STAGES];
  size_t nstages;
  int64_t max_vus, pre_vus;
  int64_t vus_before; /* count executors: scenario-wide index of the slice's first VU */
  int64_t peak;       /* the most VUs the slice ever runs of this scenario */
} scenarios_share;
void scenarios_share_of(const options_scenario *sc, scenarios_slice s, scenarios_share *out);

/* The most VUs the slice runs over all scenarios together (VU ids are laid out per worker from it). */
int64_t scenarios_peak(const options *o, scenarios_slice s);

#endif
