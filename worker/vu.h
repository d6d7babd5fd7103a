/* vu.h - virtual users: each VU is a LuaJIT coroutine on its engine thread's lua_State; http.*, sleep()
 * and the wait for the next iteration yield it, and the thread's uv loop resumes it. The host struct is
 * open because it is the engine thread's context that VUs read and the engine fills. */
#ifndef LOADCTL_VU_H
#define LOADCTL_VU_H

#include <lua.h>
#include <stdint.h>
#include <uv.h>

#include "common/options.h"
#include "common/stats.h"
#include "worker/http.h"

typedef struct vu vu;
typedef struct vu_host vu_host;

struct vu_host {
  uv_loop_t *loop;
  lua_State *L;
  http_client *http;
  stats_interval *stats; /* current interval; the engine swaps it at each boundary */
  const options *opt;
  const char *run_id;
  const char *scenario;
  uint64_t rng;
  vu *current; /* the VU whose coroutine is running (set around lua_resume) */
  /* A VU finished an iteration and waits for the next: return 1 to start it now (with go_intended_ns
   * as its intended start, 0 = now), 0 if the engine resumes it later (vu_go / vu_go_after / vu_finish). */
  int (*on_idle)(vu_host *h, vu *v);
  /* A VU's coroutine ended (after on_stop): the engine may vu_destroy it. */
  void (*on_exit)(vu_host *h, vu *v);
  void *engine_ud;
  int64_t go_intended_ns;
  int64_t script_errors_logged;
  int names_full_logged; /* the STATS_MAX_NAMES warning was given */
  int tags_full_logged;  /* the STATS_MAX_TAGGED warning was given */
};

enum vu_state { VU_NEW = 0, VU_BUSY, VU_IDLE, VU_DONE };

/* Create a VU with id on host; *out owned by the engine, released with vu_destroy. 0 or -errno. */
int vu_create(vu_host *h, int64_t id, vu **out);
/* Open the VU's connection to url's host before its first request (h1 and h2; see http_conn_preconnect).
 * 0 or -errno; failing is harmless: the first request connects then. */
int vu_preconnect(vu *v, const char *url);
/* Run on_start then wait for the first iteration (on_idle decides). */
void vu_start(vu *v);
/* Start the next iteration; in the open model intended_ns (clock_mono_ns) is when it was due, and the
 * first request's latency is measured from it; pass 0 in the closed model. */
void vu_go(vu *v, int64_t intended_ns);
/* Start the next iteration after delay_ms (think time, or 0 to let the loop breathe). */
void vu_go_after(vu *v, uint64_t delay_ms);
/* Leave the iteration loop: on_stop runs, then on_exit. */
void vu_finish(vu *v);
/* Cancel what is in flight and free the VU (its timer closes asynchronously). */
void vu_destroy(vu *v);
/* Before vu_destroy when v may be busy (a stop cuts it short): its requests in flight are recorded as
 * failed, kind other ("cancelled: in flight when the load stopped"), so every request sent is counted.
 * Returns how many. */
int vu_cancel(vu *v);

int vu_state(const vu *v);
int64_t vu_id(const vu *v);
/* Ask a running VU to stop after its current iteration. */
void vu_request_stop(vu *v);
int vu_stop_requested(const vu *v);
/* Iterations this VU completed. */
int64_t vu_iterations(const vu *v);
/* Iterations that did no I/O at all (the engine yields the loop before the next one). */
int vu_iteration_yielded(const vu *v);

/* The scenario a VU runs for (the engine's runner owns it; it outlives the VU). */
typedef struct vu_scenario {
  const char *name; /* baggage's scenario and vu.scenario in Lua */
  int listed;       /* an options.scenarios entry: its exec, tags and env apply, and each iteration and
                     * request is also counted in the scenario's own metrics below */
  char iteration_metric[96]; /* Trend "iteration_duration{scenario=NAME}" (ms) */
  char request_metric[96];   /* Trend "http_req_duration{scenario=NAME}" (ms, from intended start) */
  char failed_metric[96];    /* Rate "http_req_failed{scenario=NAME}" */
} vu_scenario;

/* Name the metrics of a listed scenario in sc from sc->name. */
void vu_scenario_init(vu_scenario *sc, const char *name, int listed);

/* Tie v to its scenario before vu_start: owner is the engine's (vu_owner gives it back). */
void vu_set_owner(vu *v, void *owner, const vu_scenario *sc);
void *vu_owner(const vu *v);

/* Register the C primitives (__send, __sleep, __check, __log, __next, __script_error) on L. */
void vu_register(lua_State *L);

#endif
