/* options.h - a scenario's `options` table read into C: the one place master and worker agree on
 * what a scenario asks for. Loading runs the scenario file in a fresh LuaJIT state with the scenario
 * API stubbed (no load is sent), so `loadctl check`, the master and the workers all validate alike. */
#ifndef LOADCTL_OPTIONS_H
#define LOADCTL_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#define OPTIONS_MAX_STAGES 64
#define OPTIONS_MAX_THRESHOLDS 64
#define OPTIONS_MAX_PROFILES 16
#define OPTIONS_MAX_TASKS 256
#define OPTIONS_MAX_REDIRECTS 50
#define OPTIONS_MAX_H2_CONNECTIONS 1024 /* per origin per engine thread */
#define OPTIONS_MAX_SCENARIOS 16
#define OPTIONS_MAX_VUS 10000000 /* max_vus, pre_allocated_vus */
#define OPTIONS_MAX_BODY 1e12    /* max_body, bytes */

enum options_model { OPTIONS_CLOSED = 0, OPTIONS_OPEN = 1 };

typedef struct options_stage {
  int64_t duration_ns;
  double target; /* users (closed) or iterations/s (open) reached at the end of the stage */
} options_stage;

typedef struct options_threshold {
  char expr[512];         /* as written: "p99{name=POST /api/orders} < 250ms" or key "errors" + "rate < 1%" */
  int abort_on_fail;      /* abort_on_fail / k6's abortOnFail */
  int64_t delay_abort_ns; /* delay_abort_eval / k6's delayAbortEval: no abort before this much run time */
  int line;               /* scenario line that declares it (0 = unknown), for messages */
} options_threshold;

#define OPTIONS_PPROF_WINDOW_NS 1000000000LL   /* pprof windows: 1 s, so a 2 s burst fills whole windows */
#define OPTIONS_PROFILE_WINDOW_NS 5000000000LL /* command / file sources: 5 s (a perf start per window) */

typedef struct options_profile {
  char source[32];   /* "pprof", "command", "file" (anything else is refused with file:line) */
  char url[1024];    /* pprof URL, or file path, or command line */
  char type[32];     /* "cpu" (default), "heap", "allocs", "mutex", "block", "goroutine", "folded" */
  int64_t window_ns; /* default OPTIONS_PPROF_WINDOW_NS for pprof, else OPTIONS_PROFILE_WINDOW_NS */
} options_profile;

/* One entry of options.scenarios (common/scenarios.h), with its whole load shape as a stage list. */
typedef struct options_scenario {
  char name[64];     /* the key in options.scenarios: "browse" */
  char executor[32]; /* k6's executor name: "constant-vus", ... "shared-iterations" */
  char exec[64];     /* global function each iteration calls as fn(vu, data); "" = the weighted tasks */
  int model;         /* enum options_model */
  options_stage stages[OPTIONS_MAX_STAGES]; /* users or iterations/s from the scenario's start, whole span */
  size_t nstages;
  int64_t start_ns;    /* startTime: after the run's start */
  int64_t duration_ns; /* its stages' sum (count executors: maxDuration) */
  int64_t max_vus;     /* open model pool over all workers */
  int64_t pre_vus;     /* open model VUs created before the start, over all workers */
  double vus;          /* closed model: constant users, or count executors' VUs */
  int64_t iterations;  /* count executors: iterations in all, or per VU; 0 = by time */
  int iterations_per_vu;
} options_scenario;

typedef struct options {
  char name[128];      /* scenario name: options.name or the file's basename without .lua */
  char target[1024];   /* base URL, default "http://127.0.0.1:8080" */
  int model;           /* enum options_model */
  double users;        /* closed: constant users when no stages */
  double spawn_rate;   /* closed: users started per second (0 = all at once) */
  double rate;         /* open: iterations/s when no stages */
  int64_t max_vus;     /* open: VU pool size (default: max(rate,100)) */
  int64_t pre_vus;     /* open: VUs created before the start (k6's preAllocatedVUs; default: 10 ms of
                        * the peak rate, at least 1, at most max_vus) */
  int64_t duration_ns; /* total; when stages given, their sum */
  options_stage stages[OPTIONS_MAX_STAGES];
  size_t nstages;
  options_threshold thresholds[OPTIONS_MAX_THRESHOLDS];
  size_t nthresholds;
  options_profile profiles[OPTIONS_MAX_PROFILES];
  size_t nprofiles;
  int http_backend;    /* enum http_backend values: 0 auto, 1 h1, 2 curl, 3 h2 */
  int h2_connections;  /* HTTP/2 connections per origin per engine thread, shared by its VUs; default 1 */
  int64_t timeout_ns;  /* per request, default 30 s */
  int64_t interval_ns; /* stats interval, default 1 s */
  int64_t think_min_ns, think_max_ns; /* default think time between iterations, default 0 */
  int64_t max_body;                   /* bytes of a response body kept for the script; default 1 MiB */
  int64_t max_redirects; /* redirects followed per request (k6 maxRedirects); default 0; > 0 needs curl */
  int insecure_tls;
  char tls_ca_file[512];   /* PEM bundle to verify servers against, "" = the system store */
  char tls_cert_file[512]; /* client certificate (PEM) for mTLS, "" = none */
  char tls_key_file[512];  /* its key, "" = in tls_cert_file */
  size_t ntasks;           /* tasks declared with task(); 0 is an error */
  int64_t iterations;      /* count executors (common/k6exec.h): iterations in all, or per VU; 0 = by time */
  int iterations_per_vu;   /* per-vu-iterations: each VU runs `iterations` */
  options_scenario scenarios[OPTIONS_MAX_SCENARIOS]; /* options.scenarios; the top-level load keys are
                                                      * then refused and duration is the longest end */
  size_t nscenarios;
} options;

/* Load path (source read from disk) into *out. On error returns negative errno and writes a message
 * naming file:line into err (e.g. "checkout.lua:12: unknown option 'user' (did you mean 'users'?)"). */
int options_load_file(const char *path, options *out, char *err, size_t errlen);
/* Same, from source text already in memory; chunkname is what messages call the file. */
int options_load_source(const char *chunkname, const char *source, size_t len, options *out, char *err,
                        size_t errlen);

#endif
