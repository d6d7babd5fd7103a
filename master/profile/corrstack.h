/* corrstack.h - the stacks correlation reasons about: samples of many profile windows mapped onto one table
 * of frame names, each tagged with who it belongs to (population), plus the one comparison every method
 * makes: two populations contrasted on the inclusive (cumulative) share of each frame, naming the frame where
 * they diverge, the path through it, and a two-proportion z test.
 *
 * Plain data on purpose: the methods (correlate.c, corrwin.c) build masks over corrstack.s directly.
 * Ownership: a corrstack is embedded by the caller, set up with corrstack_init and released with
 * corrstack_free; json_t values a function returns are new references owned by the caller. */
#ifndef LOADCTL_CORRSTACK_H
#define LOADCTL_CORRSTACK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "master/profile/pprof.h"

typedef struct corr_sample {
  uint32_t *stack; /* nstack frame ids (corrstack.names), stack[0] = leaf */
  size_t nstack;
  double value;     /* values[vi] of the pprof sample (a count for CPU, goroutine and contention profiles) */
  size_t window;    /* index of the window (correlate_input.windows) it came from */
  const char *name; /* request name from the labels (borrowed from the window's profile), or NULL */
  const char *trace_id, *span_id; /* labels, or NULL */
} corr_sample;

typedef struct corrstack {
  char **names;            /* frame names, owned */
  unsigned char *plumbing; /* per name: library code, not the service's (corrstack_is_library) */
  size_t nnames, capnames;
  json_t *ids; /* name -> id */
  corr_sample *s;
  size_t n, cap;
  uint64_t *calls; /* call edges (callee << 32 | caller) seen in the run, see corrstack_add_calls */
  size_t ncalls, capcalls;
} corrstack;

enum { CORR_BELOW_ENTRY = 1, CORR_BELOW_KNOWN = 2, CORR_BELOW_DOWN = 3, CORR_BELOW_SITE = 4 };

/* Requests behind a frame x (corrpres.h): a's requests whose samples hold the frame picked (n1) and of them
 * those holding x (k1); b's requests with any sample (n2) and of them those holding x (k2); p: one-sided
 * Fisher exact test of k1/n1 > k2/n2. */
typedef struct corr_presence {
  double n1, k1, n2, k2, p;
} corr_presence;

/* What corrstack_contrast found. fn < 0: nothing passes the thresholds of correlate.h. */
typedef struct corr_contrast {
  int64_t fn;          /* frame id named */
  double a_tot, b_tot; /* sample values of both populations */
  double a_fn, b_fn;   /* values of the samples holding fn in a / in b */
  double p_value;      /* one-sided two-proportion z test, a's share > b's */
  json_t *path;        /* new array of frame names: handler ... fn ... hottest leaf (a's samples) */
  int gc;              /* corrwait: the waits are GC assists under allocations (kind "alloc") */
  int per_request;     /* found on samples per request (rate mode), p_value from the rate test */
  int no_baseline;     /* no baseline of a's own (corr_opts.entry, or b too small for shares): the frame was
                        * placed by corrdesc_entry, CORR_BELOW_ENTRY or CORR_BELOW_KNOWN (0: not);
                        * CORR_BELOW_DOWN: placed below the entry, then moved down to its callee (corrdesc);
                        * CORR_BELOW_SITE: then down to the call site of library work (corrpres) */
  corr_presence site;  /* moved to the call site of library work (corrpres_down): its requests (else 0) */
} corr_contrast;

/* Contrast options. */
typedef struct corr_opts {
  int skip_chain; /* frames on a's common root chain (in >= CORRELATE_ROOT_SHARE of a) are its context:
                   * look below them first (used when b holds other requests' samples) */
  int body;       /* with skip_chain: a's requests are slow in their body (median), not in a tail: the
                   * innermost frame of the chain, what all of them run, is the answer */
  int (*context)(void *arg, const char *frame); /* waits: is frame the request's handler chain? (or NULL) */
  void *context_arg;
  int entry; /* a's requests have no baseline of their own in b (b: other names' samples only, or too few):
              * the first frame of a's hot path below their context is tried first (corrdesc_entry) */
  const unsigned char *known; /* per frame id: a's typical requests run it (any profile), or NULL */
  int rise; /* windows: with the rates, a's share of the frame must exceed b's by CORRELATE_MIN_DELTA too, and
             * most of its samples in a be no request's (more samples per second alone is more load; more
             * of a request's work per second is more requests, which the request methods explain) */
  const corrstack *more;         /* the run's wall-clock/goroutine samples, or NULL: per-request presence */
  const unsigned char *more_cls; /* (corrpres.h) pools them with the contrast's by request; CORRJOIN_* each */
  double na,
      nb; /* requests behind a and b (0: unknown). When the shares find nothing below the context
           * chain, frames are compared on samples per request (the fault may dominate every population's
           * samples): the innermost frame holding all the excess, lifted past shared helpers */
} corr_opts;

void corrstack_init(corrstack *cs);
void corrstack_free(corrstack *cs);

/* Add sample s of p (value vi, window index w) with labels read by corrjoin. 0 or -ENOMEM. */
int corrstack_add(corrstack *cs, const pprof_profile *p, const pprof_sample *s, size_t vi, size_t w);

/* Learn the call edges of every sample of p (any profile type, whatever its value or labels: a CPU
 * window's unlabelled samples, a wall-clock or allocation profile of the same run) without adding samples:
 * corrstack_callers counts a frame's callers over the whole run, so a helper whose other callers are too
 * fast to show up in the contrasted samples is still known as shared. corrstack_add learns its sample's
 * edges too. 0 or -ENOMEM. */
int corrstack_add_calls(corrstack *cs, const pprof_profile *p);

/* Frame id of name, or -1. */
int64_t corrstack_id(const corrstack *cs, const char *name);

/* Inclusive value of every frame over the samples with mask[i] set (each sample counted once per frame,
 * recursion included); incl has nnames entries (zeroed first). Returns the masks' total value. */
double corrstack_inclusive(const corrstack *cs, const unsigned char *mask, double *incl);

/* Contrast the samples with a[i] set against those with b[i] set (see the file comment; the rules are in
 * docs/report.md "How findings are made"). 0, or -ENOMEM (out->fn = -1). */
int corrstack_contrast(const corrstack *cs, const unsigned char *a, const unsigned char *b,
                       const corr_opts *o, corr_contrast *out);

/* The shared-helper rule alone: fn, or the caller in a's samples to name instead of a helper fn; "outside a"
 * is the samples with universe[i] set (NULL: all). */
int64_t corrstack_lift(const corrstack *cs, const unsigned char *a, const unsigned char *universe,
                       int64_t fn);

/* One-sided two-proportion z test of x1/n1 > x2/n2: the p-value (1 when either n is 0). */
double corrstack_ztest(double x1, double n1, double x2, double n2);

/* True for frames of the language runtime and standard libraries: Go's top-level std packages (runtime.,
 * sync., net/http., encoding/json., ...) and Python's threading/socket plumbing; C runtime entry frames;
 * loadctl's own Python agent (loadctl_agent.*, a middleware in the service). */
int corrstack_is_framework(const char *name);

/* Does name start with one of list's prefixes (a NULL-terminated array)? 0 for a NULL name. */
int corrstack_has_prefix(const char *name, const char *const *list);

/* True for source files of installed libraries and standard libraries (by path: Python's site-packages,
 * dist-packages, lib/pythonX.Y and frozen modules; Go's module cache). NULL or "" (unknown): false. */
int corrstack_is_library_file(const char *file);

/* Plumbing: corrstack_is_framework(name) or corrstack_is_library_file(file). Findings name service code,
 * and a request's library frames (its server, framework, threads) are the context it runs in. */
int corrstack_is_library(const char *name, const char *file);

/* The innermost frame of pprof sample s that is the service's own (not corrstack_is_library), or NULL. */
const char *corrstack_service_frame(const pprof_profile *p, const pprof_sample *s);

/* corrstack_is_library of frame id (as it was interned; false for an unknown id). */
int corrstack_plumbing(const corrstack *cs, int64_t id);

/* True for anonymous closures (Go "pkg.fn.func1", "glob..func2"). */
int corrstack_is_closure(const char *name);

/* The function a finding names for frame: a closure's enclosing function ("main.rebuild.func1" and
 * "main.rebuild.func2.1" -> "main.rebuild"; Python's "mod.page.<locals>.<listcomp>", a comprehension,
 * generator expression or lambda -> "mod.page"), else frame itself. Written into buf; returns buf. */
const char *corrstack_function(const char *frame, char *buf, size_t len);

/* Distinct callers of frame fn over the samples with mask[i] set (mask NULL: every call edge learned from
 * the run, corrstack_add and corrstack_add_calls). */
size_t corrstack_callers(const corrstack *cs, int64_t fn, const unsigned char *mask);

/* Does sample c have frame fn anywhere on its stack? */
int corrstack_holds(const corr_sample *c, int64_t fn);

/* Hot path through fn over the samples with mask[i] set: from the outermost non-framework frame above fn down
 * to the heaviest leaf below it. New array of names. */
json_t *corrstack_path(const corrstack *cs, int64_t fn, const unsigned char *mask);

#endif
