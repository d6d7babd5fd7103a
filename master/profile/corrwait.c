/* corrwait.c - the frame requests wait in, from goroutine and wall-clock profiles (see corrwait.h). */
#include "master/profile/corrwait.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrdesc.h"
#include "master/profile/correlate.h"
#include "master/profile/corrpark.h"

int corrwait_parked(const char *leaf) {
  static const char *const pre[] = {"runtime.gopark",
                                    "runtime.goparkunlock",
                                    "runtime.notetsleepg",
                                    "runtime.netpollblock",
                                    "syscall.",
                                    "internal/runtime/syscall.",
                                    "runtime/internal/syscall.",
                                    "internal/poll.runtime_pollWait",
                                    NULL};
  return corrstack_has_prefix(leaf, pre);
}

/* Innermost named service frame of c above its parked leaf, or -1 when c is not parked, waits on a lock (the
 * lock method names the holder instead) or in a closure (a handler: no function of its own to name). *gc is
 * set when the wait is a GC assist under an allocation (allocation pressure, not a dependency). */
static int64_t waiter(const corrstack *cs, const corr_sample *c, int *gc) {
  *gc = 0;
  if (!c->nstack || !corrwait_parked(cs->names[c->stack[0]])) return -1;
  for (size_t k = 1; k < c->nstack; k++) {
    const char *n = cs->names[c->stack[k]];
    if (strncmp(n, "sync.(*Mutex).", 14) == 0 || strncmp(n, "sync.(*RWMutex).", 16) == 0) return -1;
    if (strncmp(n, "runtime.gcAssistAlloc", 21) == 0 || strcmp(n, "runtime.mallocgc") == 0) *gc = 1;
    if (!corrstack_plumbing(cs, c->stack[k])) return corrstack_is_closure(n) ? -1 : (int64_t)c->stack[k];
  }
  return -1;
}

int64_t corrwait_waiter(const corrstack *cs, const corr_sample *c) {
  int gc;
  return waiter(cs, c, &gc);
}

static int find(const corrstack *cs, const unsigned char *a, const unsigned char *b, const unsigned char *u,
                const corr_opts *o, double na, double nb, corr_contrast *out);

/* From the waiting frame up a's heaviest path: the outermost named service frame (not a closure) that holds
 * (within TOLERANCE) all of the waiting frame's observations, is not the request's context (o->context: its
 * handler chain in the CPU samples) and holds no more of a's or b's observations (within TOLERANCE) than the
 * frame below it: where typical requests wait under a caller too, slow and typical diverge below it, and a
 * caller that does more in the slow requests than this wait is not the wait. When apart (typical requests
 * pass through the waiting frame but are parked below it, elsewhere: they diverge at it), not past a frame
 * holding >= ROOT_SHARE of the typical observations (tb >= MIN_BASELINE): what every request of the name
 * runs (its entry, one frame above a retry's backoff) is where slow and typical both are. */
static int64_t climb(const corrstack *cs, const unsigned char *a, const corr_opts *o, const double *ia,
                     const double *ib, double tb, int apart, int64_t fn) {
  json_t *path = fn >= 0 ? corrstack_path(cs, fn, a) : NULL, *v;
  size_t i, at = 0;
  int64_t best = fn;
  json_array_foreach(path, i, v) if (corrstack_id(cs, json_string_value(v)) == fn) at = i;
  for (i = at; i-- > 0 && fn >= 0;) {
    const char *n = json_string_value(json_array_get(path, i));
    int64_t id = corrstack_id(cs, n);
    if (id < 0 || corrstack_plumbing(cs, id) || corrstack_is_closure(n) ||
        ia[id] < (1 - CORRELATE_TOLERANCE) * ia[fn])
      break; /* plumbing, or a handler/wrapper closure: the request's own frames end here */
    if (ib[id] * (1 - CORRELATE_TOLERANCE) > ib[best])
      break; /* typical requests wait under it elsewhere too: slow and typical diverge below it */
    if (ia[id] * (1 - CORRELATE_TOLERANCE) > ia[best])
      break; /* it does more than this wait in the slow requests (one of them reloads what the rest await) */
    if (o && o->context && o->context(o->context_arg, n)) break;
    if (apart && tb >= CORRELATE_MIN_BASELINE && ib[id] >= CORRELATE_ROOT_SHARE * tb)
      break; /* every typical request runs it, and waits elsewhere below the slow ones' wait: not the wait */
    best = id;
  }
  json_decref(path);
  return best;
}

/* Does c run any service frame? Goroutines of the libraries alone (an HTTP client's connection loops, which
 * inherit the labels of the request that dialled) say nothing about where a request waits. */
static int has_service_frame(const corrstack *cs, const corr_sample *c) {
  for (size_t k = 0; k < c->nstack; k++)
    if (!corrstack_plumbing(cs, c->stack[k])) return 1;
  return 0;
}

int corrwait_find(const corrstack *cs, const unsigned char *a_in, const unsigned char *b_in,
                  const corr_opts *o, double na, double nb, corr_contrast *out) {
  unsigned char *a = calloc(cs->n ? cs->n : 1, 1), *b = calloc(cs->n ? cs->n : 1, 1);
  unsigned char *u = calloc(cs->n ? cs->n : 1, 1);
  int rc = a && b && u ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < cs->n; i++) {
    u[i] = has_service_frame(cs, &cs->s[i]) && cs->s[i].name; /* requests' own goroutines */
    a[i] = a_in[i] && u[i];
    b[i] = b_in[i] && u[i];
  }
  if (rc == 0) rc = find(cs, a, b, u, o, na, nb, out);
  free(a);
  free(b);
  free(u);
  return rc;
}

/* A wall-clock contrast's frame holds the wait; of the frames that all hold it, in slow and typical requests
 * alike, the one that waits is the innermost service frame (corrdesc_below, pass-through): as the goroutine
 * path names the waiter, not the callers that only pass the wait on. Kept when its test holds. */
static void waiting_frame(const corrstack *cs, const unsigned char *a, const double *ia, const double *ib,
                          corr_contrast *out) {
  double ta = out->a_tot, tb = out->b_tot;
  int64_t low = corrdesc_below(cs, a, ia, ib, tb > 0 ? ta / tb : 0, CORRDESC_WAIT, out->fn);
  double p = corrstack_ztest(ia[low], ta, ib[low], tb);
  if (low == out->fn || p >= CORRELATE_ALPHA) return;
  json_decref(out->path);
  out->fn = low;
  out->a_fn = ia[low];
  out->b_fn = ib[low];
  out->p_value = p;
  out->path = corrstack_path(cs, low, a);
}

static int find(const corrstack *cs, const unsigned char *a, const unsigned char *b, const unsigned char *u,
                const corr_opts *o, double na, double nb, corr_contrast *out) {
  size_t nf = cs->nnames ? cs->nnames : 1;
  double *w = calloc(nf, sizeof *w), *ia = calloc(nf, sizeof *ia), *ib = calloc(nf, sizeof *ib), parked = 0;
  double *wgc = calloc(nf, sizeof *wgc), *wb = calloc(nf, sizeof *wb);
  int rc = -ENOMEM;
  memset(out, 0, sizeof *out);
  out->fn = -1;
  out->p_value = 1;
  if (!w || !ia || !ib || !wgc || !wb) goto done;
  rc = 0;
  out->a_tot = corrstack_inclusive(cs, a, ia);
  out->b_tot = corrstack_inclusive(cs, b, ib);
  for (size_t i = 0; i < cs->n; i++) {
    int gc = 0;
    int64_t f = a[i] ? waiter(cs, &cs->s[i], &gc) : -1;
    parked += a[i] && cs->s[i].nstack && corrwait_parked(cs->names[cs->s[i].stack[0]]) ? cs->s[i].value : 0;
    if (f >= 0) w[f] += cs->s[i].value;
    if (f >= 0 && gc) wgc[f] += cs->s[i].value;
    f = b[i] ? waiter(cs, &cs->s[i], &gc) : -1;
    if (f >= 0) wb[f] += cs->s[i].value;
  }
  if (parked <= 0) { /* a wall-clock profile: the plain contrast, down to the frame that waits */
    rc = corrstack_contrast(cs, a, b, o, out);
    if (rc == 0 && out->fn >= 0 && !out->per_request) waiting_frame(cs, a, ia, ib, out);
    if (rc == 0 && out->fn >= 0 && !corrpark_longer(cs, a, b, out->fn)) { /* their normal stay there */
      json_decref(out->path);
      out->path = NULL;
      out->fn = -1;
    }
    goto done;
  }
  /* observations are few (one per request per poll; a typical request is rarely caught parked in a service
   * frame at all), the rate test below weighs how few: only the shares' test needs a baseline of its own */
  if (out->a_tot < CORRELATE_MIN_BASELINE || (!(na > 0 && nb > 0) && out->b_tot < CORRELATE_MIN_BASELINE))
    goto done;
  int64_t best = -1;
  for (size_t f = 0; f < cs->nnames; f++)
    if (w[f] > 0 && (best < 0 || w[f] > w[best])) best = (int64_t)f;
  if (best < 0 || w[best] < CORRELATE_WAIT_SHARE * out->a_tot) goto done;
  out->gc = wgc[best] >= 0.5 * w[best];
  /* slow requests park in best itself more than the typical ones, who pass through it to wait below it (the
   * shares' effect-size rules; the finding's own test comes after) */
  double sa = ia[best] > 0 ? w[best] / ia[best] : 0, sb = ib[best] > 0 ? wb[best] / ib[best] : 1;
  int apart = ib[best] >= CORRELATE_MIN_BASELINE && sa - sb >= CORRELATE_MIN_DELTA &&
              sa >= CORRELATE_MIN_RATIO * sb && corrdesc_own(cs, a, best);
  /* climbed onto a helper other callers share (a query function every route calls): its caller here */
  best = corrstack_lift(cs, a, u, climb(cs, a, o, ia, ib, out->b_tot, apart, corrstack_lift(cs, a, u, best)));
  if (best < 0) goto done; /* a shared helper reached through several callers: never named alone */
  out->a_fn = ia[best];
  out->b_fn = ib[best];
  /* observations are time-weighted: compare time per request in best (Poisson rates, conditional binomial
   * z test) when the request counts are known, else the shares */
  if (na > 0 && nb > 0) {
    double x = ia[best] + ib[best], p0 = na / (na + nb);
    out->per_request = 1;
    out->p_value = x > 0 ? 0.5 * erfc((ia[best] - x * p0) / sqrt(x * p0 * (1 - p0)) / sqrt(2.0)) : 1;
    if (ia[best] / na < CORRELATE_MIN_RATIO * ib[best] / nb) goto done;
  } else {
    out->p_value = corrstack_ztest(ia[best], out->a_tot, ib[best], out->b_tot);
  }
  if (out->p_value >= CORRELATE_ALPHA) goto done;
  out->fn = best;
  out->path = corrstack_path(cs, best, a);
done:
  free(w);
  free(wgc);
  free(wb);
  free(ia);
  free(ib);
  return rc;
}

int corrwait_sleeps(const corrstack *cs, const corr_sample *c) {
  static const char *const sleeps[] = {"time.Sleep", "time.sleep", "asyncio.tasks.sleep", NULL};
  if (!c->nstack) return 0;
  size_t k = corrwait_parked(cs->names[c->stack[0]]) ? 1 : 0;
  for (; k < c->nstack && k < 2; k++)
    for (size_t j = 0; sleeps[j]; j++)
      if (strcmp(cs->names[c->stack[k]], sleeps[j]) == 0) return 1;
  return 0;
}

double corrwait_sleeping(const corrstack *cs, const unsigned char *a, int64_t fn, double *nreq) {
  json_t *ids = json_object();
  double v = 0;
  *nreq = 0;
  for (size_t i = 0; ids && fn >= 0 && i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    int has = 0;
    for (size_t k = 0; k < c->nstack && !has; k++) has = (int64_t)c->stack[k] == fn;
    if (!a[i] || !has || !corrwait_sleeps(cs, c)) continue;
    const char *id = c->span_id ? c->span_id : c->trace_id;
    v += c->value;
    if (!id)
      *nreq += 1;
    else if (!json_object_get(ids, id))
      json_object_set_new(ids, id, json_true()), *nreq += 1;
  }
  json_decref(ids);
  return v;
}

int corrwait_thin(const corrstack *cs, const unsigned char *a, const corr_contrast *r, int wait) {
  double nreq = 0, v;
  if (r->a_tot >= CORRELATE_MIN_SAMPLES) return 0;
  if (!CORRELATE_SLEEP || !wait || r->p_value >= CORRELATE_STRONG_ALPHA) return 1;
  v = corrwait_sleeping(cs, a, r->fn, &nreq);
  return v < CORRELATE_WAIT_SHARE * r->a_tot || nreq < CORRELATE_MIN_BASELINE;
}

double corrwait_effect(const corr_contrast *r, double na, double nb, int wait) {
  double sa = r->a_tot > 0 ? r->a_fn / r->a_tot : 0, sb = r->b_tot > 0 ? r->b_fn / r->b_tot : 0;
  if (CORRELATE_SLEEP && wait && r->per_request && r->b_tot < CORRELATE_MIN_BASELINE && na > 0 && nb > 0 &&
      r->a_fn > 0)
    sb = sa * fmin(1, (r->b_fn / nb) / (r->a_fn / na));
  return sa - sb;
}

/* Is c parked, and not on a lock? (A lock's waiters wait for the holder's work: the lock method's.) */
static int parked_off_lock(const corrstack *cs, const corr_sample *c) {
  if (!c->nstack || !corrwait_parked(cs->names[c->stack[0]])) return 0;
  for (size_t k = 1; k < c->nstack; k++) {
    const char *n = cs->names[c->stack[k]];
    if (strncmp(n, "sync.(*Mutex).", 14) == 0 || strncmp(n, "sync.(*RWMutex).", 16) == 0) return 0;
  }
  return 1;
}

size_t corrwait_idle_frames(const corrstack *wait, const corrstack *cpu, const char *name,
                            unsigned char *known) {
  json_t *computes = json_object(), *idle = json_object();
  double *incl = calloc(wait->nnames ? wait->nnames : 1, sizeof *incl), tot = 0;
  unsigned char *m = calloc(wait->n ? wait->n : 1, 1);
  size_t n = 0;
  for (size_t i = 0; name && computes && i < cpu->n; i++) /* the name's requests seen on CPU */
    if (cpu->s[i].trace_id && cpu->s[i].name && strcmp(cpu->s[i].name, name) == 0)
      json_object_set_new(computes, cpu->s[i].trace_id, json_true());
  for (size_t i = 0; name && m && idle && incl && i < wait->n; i++) {
    const corr_sample *c = &wait->s[i];
    m[i] = c->trace_id && c->name && strcmp(c->name, name) == 0 && !json_object_get(computes, c->trace_id) &&
           parked_off_lock(wait, c) && has_service_frame(wait, c);
    if (m[i]) json_object_set_new(idle, c->trace_id, json_true());
  }
  n = json_object_size(idle);
  if (m && incl && n >= CORRELATE_KNOWN_REQUESTS) tot = corrstack_inclusive(wait, m, incl);
  for (size_t f = 0; tot > 0 && f < wait->nnames; f++) {
    int64_t id = corrstack_id(cpu, wait->names[f]);
    if (id >= 0 && incl[f] >= CORRELATE_KNOWN_SHARE * tot) known[id] = 1;
  }
  json_decref(computes);
  json_decref(idle);
  free(incl);
  free(m);
  return n >= CORRELATE_KNOWN_REQUESTS ? n : 0;
}
