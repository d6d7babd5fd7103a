/* stats.h - one interval's measurements, per request name: the record that flows from the worker
 * threads to the agent, over the wire (msg), into the master's merge (aggregate) and onto disk (rundir).
 * The structs are open on purpose: they are plain data passed between modules, not objects with rules. */
#ifndef LOADCTL_STATS_H
#define LOADCTL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/hist.h"
#include "common/metric.h"
#include "common/tagset.h"

/* Error kinds; every failed request or iteration lands in exactly one. This enum and err_kinds[] in
 * stats.c are the one list: r.error in scenarios, summary.json, CSVs, metrics and the table in
 * docs/scenario-api.md (test_stats checks that table against stats_err_name) all use these names.
 * "No error" is the zero value, so a zeroed http_response is a success, never a "connect" failure. */
enum stats_err {
  STATS_ERR_NONE = 0, /* no error; never counted (err[STATS_ERR_NONE] stays 0) */
  STATS_ERR_CONNECT,  /* refused, unreachable, no route */
  STATS_ERR_DNS,      /* the name did not resolve */
  STATS_ERR_TLS,      /* handshake, certificate or TLS record failure */
  STATS_ERR_TIMEOUT,  /* connect or request timeout */
  STATS_ERR_RESET,    /* reset / closed mid-response */
  STATS_ERR_PROTOCOL, /* malformed HTTP, non-HTTP reply, redirect loop */
  STATS_ERR_HTTP4XX,  /* a 4xx status not listed in expect= */
  STATS_ERR_HTTP5XX,  /* a 5xx status not listed in expect= */
  STATS_ERR_SCRIPT,   /* Lua error in a task (a failed check() is not an error; see checks) */
  STATS_ERR_OTHER,    /* anything else (out of memory, a curl failure with no better kind) */
  STATS_ERR_COUNT
};
#define STATS_ERR_FIRST STATS_ERR_CONNECT /* first real kind: loops over kinds run FIRST..COUNT-1 */

/* Short name of kind ("connect", "dns", "tls", "timeout", "reset", "protocol", "http4xx", "http5xx",
 * "script", "other"; "none" for STATS_ERR_NONE); out-of-range kinds are "other". Static storage. */
const char *stats_err_name(int kind);
/* The kind named name, or STATS_ERR_NONE when name is no kind's name. */
int stats_err_parse(const char *name);

/* A request made inside group("a", fn) is named "a::NAME"; nested groups "a::b::NAME" (k6's separator). */
#define STATS_GROUP_SEP "::"
/* name lies inside group (at any depth): "a::b::GET /x" is in "a" and in "a::b", not in "a::c" or "b". */
int stats_name_in_group(const char *name, const char *group);

/* k6's timing breakdown of an HTTP request (worker/http.h's http_response), in this order everywhere:
 * on the wire (common/phases.h), in latency.hlog's tags and in summary.json's "timings". */
enum stats_phase {
  STATS_PHASE_BLOCKED,         /* waiting for a connection or a stream */
  STATS_PHASE_CONNECTING,      /* TCP connect, 0 on a reused connection */
  STATS_PHASE_TLS_HANDSHAKING, /* TLS handshake, 0 on a reused connection or plain http */
  STATS_PHASE_SENDING,         /* writing the request */
  STATS_PHASE_WAITING,         /* request written -> first response byte (TTFB) */
  STATS_PHASE_RECEIVING,       /* first response byte -> last */
  STATS_PHASE_COUNT
};
/* k6's name of phase ("blocked", "connecting", "tls_handshaking", "sending", "waiting", "receiving");
 * NULL when out of range. Static storage. */
const char *stats_phase_name(int phase);
#define STATS_PHASE_BITS 8 /* significant bits a phase value keeps (stats_entry_phases) */
/* Request names per interval (per engine thread) whose timing phases are recorded: each name's phases
 * are six histograms to encode, send and merge every interval, which a run of thousands of distinct
 * names (ids in URLs) cannot afford. Names past it keep counts and latency; their timings are left out
 * of summary.json (a partial breakdown would read as the whole). */
#define STATS_PHASE_NAMES 100

#define STATS_EXEMPLARS 4    /* slowest and typical trace ids kept per name per interval */
#define STATS_FAILURES 8     /* distinct failure messages kept per name per interval */
#define STATS_MAX_NAMES 1000 /* distinct request names per run; more are folded into "(other)" */
#define STATS_NAME_MAX 256   /* bytes, longer names are cut */
#define STATS_MESSAGE_MAX 256

typedef struct stats_exemplar {
  char trace_id[33]; /* 32 hex + NUL */
  char span_id[17];  /* 16 hex + NUL */
  int64_t latency_us;
  int64_t wall_ms; /* when the request was (meant to be) sent */
} stats_exemplar;

typedef struct stats_failure {
  int kind; /* enum stats_err */
  char message[STATS_MESSAGE_MAX];
  int64_t count;
} stats_failure;

typedef struct stats_entry {
  char name[STATS_NAME_MAX];      /* request name, "GET /api/books"; or check/group names for kind != 0 */
  char method[16];                /* "GET"..., empty for script-level entries */
  hist *latency;                  /* from intended send time (coordinated-omission free); owned */
  hist *service;                  /* from actual send time (plain service time); owned */
  hist *phase[STATS_PHASE_COUNT]; /* each timing phase of the HTTP responses, in us (0 when the phase did
                                     not happen); NULL until a response's phases are recorded (script-level
                                     entries never have them); owned */
  int64_t count;                  /* requests completed, errors included */
  int64_t errors;                 /* sum of err[] */
  int64_t err[STATS_ERR_COUNT];
  int64_t bytes_in, bytes_out;
  stats_exemplar slow[STATS_EXEMPLARS]; /* slowest first */
  int nslow;
  stats_exemplar typical[STATS_EXEMPLARS]; /* random sample near the median */
  int ntypical;
  stats_failure failures[STATS_FAILURES];
  int nfailures;
  int no_phases; /* created past STATS_PHASE_NAMES: stats_entry_phases records nothing */
} stats_entry;

typedef struct stats_check {
  char name[STATS_NAME_MAX];
  int64_t passes, fails;
} stats_check;

/* A request name's measurements under one tag set (common/tagset.h): kept beside the name's own entry,
 * which counts every request of the name whatever its tags, so per-name figures stay as they were. */
#define STATS_MAX_TAGGED 1000 /* (name, tag set) series per interval; more are counted by name only */
typedef struct stats_tagged {
  size_t entry;          /* index of the request name's entry in the interval's entries */
  char tags[TAGSET_MAX]; /* canonical tag set, "kind=api,scenario=buy" */
  hist *latency;         /* from intended send time, as the entry's; owned */
  int64_t count, errors; /* as the entry's */
} stats_tagged;

typedef struct stats_interval {
  int64_t start_ms;    /* wall ms (master clock once aggregated) of the interval's start */
  int64_t interval_ms; /* length, normally 1000 */
  int64_t users;       /* active VUs at the end of the interval */
  double rate;         /* target iterations/s (open model), 0 in closed model */
  int64_t iterations;  /* iterations completed */
  int64_t dropped;     /* open model: iterations due with no free VU */
  int64_t new_conns;   /* connections the HTTP backends opened */
  stats_entry *entries;
  size_t nentries, capentries;
  uint32_t *by_name; /* open-addressing index of entries by name: slot = entry index + 1, 0 = empty */
  size_t capby_name; /* slots, a power of two above twice nentries (0 before the first entry) */
  stats_check *checks;
  size_t nchecks, capchecks;
  metric_state *metrics; /* custom metrics (common/metric.h) */
  size_t nmetrics, capmetrics;
  stats_tagged *tagged; /* per (name, tag set); only requests that carry tags */
  size_t ntagged, captagged;
  int64_t tagged_dropped; /* tagged requests counted by name only: STATS_MAX_TAGGED was reached */
} stats_interval;

/* Create an empty interval; caller owns it, release with stats_destroy. 0 or -ENOMEM. */
int stats_create(stats_interval **out, int64_t start_ms, int64_t interval_ms);
void stats_destroy(stats_interval *s);
/* Empty all entries (keeping names and memory) for the next interval. */
void stats_reset(stats_interval *s, int64_t start_ms);

/* Find the entry for name (creating it, with empty histograms, if absent). NULL on -ENOMEM or when
 * STATS_MAX_NAMES is reached and name is new (then the caller uses "(other)": the last slot is kept
 * for it, so that call succeeds). Names are cut to STATS_NAME_MAX - 1 bytes on a UTF-8 boundary and
 * matched by the cut name. Creating an entry may move s->entries: a stats_entry pointer stays valid
 * until the next stats_entry_get that creates one (or stats_merge); stats_reset keeps them all. */
stats_entry *stats_entry_get(stats_interval *s, const char *name, const char *method);
stats_entry *stats_entry_find(const stats_interval *s, const char *name);
stats_check *stats_check_get(stats_interval *s, const char *name);

/* Record one completed request: latency from intended start, service time from actual send. */
void stats_entry_record(stats_entry *e, int64_t latency_us, int64_t service_us);
/* Record one HTTP response's timing phases (us; negative counts as 0), creating e's phase histograms on
 * first use. Values from 2^STATS_PHASE_BITS us up are kept to STATS_PHASE_BITS significant bits (each
 * recorded as the top of its range: percentiles read at most 1/128 = 0.8 % high, HdrHistogram's 2
 * significant digits), which keeps the wire and latency.hlog ~8x smaller than at 3 digits for spread
 * phases. Nothing is recorded for an entry created past STATS_PHASE_NAMES. 0, or -ENOMEM when the
 * histograms cannot be created (then nothing is recorded). */
int stats_entry_phases(stats_entry *e, const int64_t phase_us[STATS_PHASE_COUNT]);
/* e's histogram of phase, created empty when absent (decoders fill it); NULL on -ENOMEM or a phase out of
 * range. */
hist *stats_entry_phase(stats_entry *e, int phase);

/* Count one failure of kind with a message (kept up to STATS_FAILURES distinct messages): errors and
 * err[kind] only, not count; a failed request is also passed to stats_entry_record (time to failure)
 * so that count stays "completed, errors included". STATS_ERR_NONE and out-of-range kinds count as
 * STATS_ERR_OTHER. */
void stats_entry_fail(stats_entry *e, int kind, const char *message);
/* Offer an exemplar; kept if among the slowest, or (with probability) as a typical sample: a reservoir
 * over e->count requests (call after stats_entry_record), slot random % count replaced when < 4. */
void stats_entry_exemplar(stats_entry *e, const stats_exemplar *x, uint64_t random);

/* The series of (entry index, canonical tag set), created empty when absent; NULL on -ENOMEM, for an
 * entry index out of range, or when STATS_MAX_TAGGED series exist (the caller counts tagged_dropped).
 * A pointer stays valid until the next call that creates one (or stats_merge). */
stats_tagged *stats_tagged_get(stats_interval *s, size_t entry, const char *tags);
/* Record one request in t: latency from intended start, failed or not. */
void stats_tagged_record(stats_tagged *t, int64_t latency_us, int failed);

/* The custom metric_state name of kind (created when absent); NULL as metric_get says. */
metric_state *stats_metric_get(stats_interval *s, const char *name, int kind, int *kind_clash);

/* dst += src exactly: histograms added, counters summed, exemplars and failures merged, tagged series
 * added to the series of the same name and tag set.
 * Entries of src missing in dst are created. 0 or -ENOMEM. users/rate/iterations/dropped summed. */
int stats_merge(stats_interval *dst, const stats_interval *src);

#endif
