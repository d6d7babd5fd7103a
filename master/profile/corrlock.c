/* corrlock.c - the lock method (corrlock.h): the contention of mutex/block profiles by releasing function,
 * a binomial z test of the heaviest against an even split, and what runs under it in the CPU samples. */
#include "master/profile/corrlock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/rundir.h"
#include "master/profile/corrinline.h"
#include "master/profile/corrlat.h"
#include "master/profile/corrwait.h"

/* Request name owning >= LOCK_NAME_SHARE of the masked samples holding fn (any name when fn < 0). */
static const char *owner(const corrstack *cs, const unsigned char *mask, int64_t fn) {
  json_t *by = json_object();
  double tot = 0, best = 0;
  const char *k, *name = NULL;
  json_t *v;
  for (size_t i = 0; i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    int has = fn < 0;
    for (size_t j = 0; j < c->nstack && !has; j++) has = (int64_t)c->stack[j] == fn;
    if ((mask && !mask[i]) || !has) continue;
    tot += c->value;
    if (c->name)
      json_object_set_new(by, c->name, json_real(json_number_value(json_object_get(by, c->name)) + c->value));
  }
  json_object_foreach(by, k, v) if (json_number_value(v) > best) best = json_number_value(v), name = k;
  /* the key strings are the names pooled in the join (c->name), which outlive by */
  for (size_t i = 0; name && i < cs->n; i++)
    if (cs->s[i].name && strcmp(cs->s[i].name, name) == 0) {
      name = cs->s[i].name;
      break;
    }
  if (tot <= 0 || best < CORRELATE_LOCK_NAME_SHARE * tot) name = NULL;
  json_decref(by);
  return name;
}

/* Under a closure holding the lock, the heaviest named frame it calls in the CPU samples (or itself). */
static int64_t under(const corrstack *cs, int64_t holder) {
  double *w = calloc(cs->nnames ? cs->nnames : 1, sizeof *w), bw = 0;
  int64_t best = holder;
  for (size_t i = 0; w && i < cs->n; i++) {
    const corr_sample *s = &cs->s[i];
    for (size_t k = s->nstack; k-- > 1;)
      if ((int64_t)s->stack[k] == holder) {
        for (size_t j = k; j-- > 0;) {
          const char *n = cs->names[s->stack[j]];
          if (corrstack_plumbing(cs, s->stack[j]) || corrstack_is_closure(n)) continue;
          w[s->stack[j]] += s->value;
          break;
        }
        break;
      }
  }
  for (size_t f = 0; w && f < cs->nnames; f++)
    if (w[f] > bw) bw = w[f], best = (int64_t)f;
  free(w);
  return best;
}

/* Does s wait on (block profile) a sync.Mutex / RWMutex? */
static int on_lock(const pprof_profile *p, const pprof_sample *s) {
  for (size_t k = 0; k < s->nstack; k++) {
    const char *n = p->strings[p->functions[s->stack[k]].name];
    if (strncmp(n, "sync.(*Mutex).", 14) == 0 || strncmp(n, "sync.(*RWMutex).", 16) == 0) return 1;
  }
  return 0;
}

/* Is s a reader blocked in sync.(*RWMutex).RLock (block profile)? A reader blocks only behind a writer that
 * holds or awaits the lock: the lock's cost is the writer's, and the reader's function is not named. */
static int reader_wait(const pprof_profile *p, const pprof_sample *s) {
  for (size_t k = 0; k < s->nstack; k++) {
    const char *n = p->strings[p->functions[s->stack[k]].name];
    if (strncmp(n, "sync.", 5) == 0 && strncmp(n, "sync.runtime_", 13) != 0) /* the lock's method */
      return strcmp(n, "sync.(*RWMutex).RLock") == 0;
  }
  return 0;
}

/* The side of a sync.RWMutex whose release s records in a mutex profile: 'r' a reader's RUnlock (the
 * delay is a writer's wait for that reader to leave), 'w' a writer's Unlock (readers and writers queued
 * behind the writer), 0 neither. */
static int rw_side(const pprof_profile *p, const pprof_sample *s) {
  for (size_t k = 0; k < s->nstack; k++) {
    const char *n = p->strings[p->functions[s->stack[k]].name];
    if (strcmp(n, "sync.(*RWMutex).RUnlock") == 0) return 'r';
    if (strcmp(n, "sync.(*RWMutex).Unlock") == 0) return 'w';
  }
  return 0;
}

typedef struct rw_tally {
  json_t *rd, *rn;      /* reader function -> delay, contentions its RUnlock released */
  json_t *wd, *wn;      /* writer function -> delay, contentions its Unlock released */
  double wdelay, wcont; /* all writers' */
  double rdelay, rcont; /* the reader's, when the rule applies */
} rw_tally;

static void add_to(json_t *o, const char *k, double v) {
  json_object_set_new(o, k, json_real(json_number_value(json_object_get(o, k)) + v));
}

/* A writer of a sync.RWMutex takes the writer side when it calls Lock, before it waits for the readers inside
 * to leave: readers and writers arriving meanwhile queue behind it, and its Unlock records their waits. When
 * the writers' own waits for one reader (its RUnlock's delay per contention) are >= LOCK_RW_READER x the
 * waits of the queue behind them (their Unlock's delay per contention), the writers spent most of their hold
 * waiting for that reader: the queue is the reader's doing, and the writers' Unlock delay is moved to it (in
 * delay and cont, keyed by function). The reader's function, or NULL when the rule does not apply. */
static const char *rw_reassign(rw_tally *t, json_t *delay, json_t *cont) {
  const char *k, *r = NULL;
  json_t *v;
  double rd = 0;
  json_object_foreach(t->rd, k, v) if (json_number_value(v) > rd) rd = json_number_value(v), r = k;
  double rn = r ? json_number_value(json_object_get(t->rn, r)) : 0;
  if (!r || rn <= 0 || t->wcont <= 0 || rd / rn < CORRELATE_LOCK_RW_READER * (t->wdelay / t->wcont))
    return NULL;
  json_object_foreach(t->wd, k, v) {
    add_to(delay, k, -json_number_value(v));
    add_to(cont, k, -json_number_value(json_object_get(t->wn, k)));
  }
  t->rdelay = rd, t->rcont = rn;
  add_to(delay, r, t->wdelay);
  add_to(cont, r, t->wcont);
  return r;
}

/* Goroutine observations (polls) of fn: parked beneath it off any lock (it blocks on something else while on
 * the stack: an fsync, a call) into *off, and queued in a sync.Mutex/RWMutex below it into *queued. */
static void seen(const correlate_window *win, size_t nw, const char *fn, double *off, double *queued) {
  *off = *queued = 0;
  for (size_t w = 0; w < nw; w++) {
    const pprof_profile *p = win[w].prof;
    if (strcmp(win[w].type, "goroutine") != 0 || !p->nsample_types) continue;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      int lock = 0;
      for (size_t k = 1; k < s->nstack; k++) {
        const char *n = p->strings[p->functions[s->stack[k]].name];
        if (strcmp(n, fn) == 0) {
          if (lock)
            *queued += (double)s->values[0];
          else if (corrwait_parked(p->strings[p->functions[s->stack[0]].name]))
            *off += (double)s->values[0];
          break;
        }
        lock |= strncmp(n, "sync.(*Mutex).", 14) == 0 || strncmp(n, "sync.(*RWMutex).", 16) == 0;
      }
    }
  }
}

/* Go's mutex profile charges each waiter's whole wait to the Unlock that lets it in: behind a holder that
 * blocks under the lock (an fsync), the queue hands the lock on, and the short critical sections that end
 * each wait record the holder's delay. When exactly one releaser of >= LOCK_ACROSS of the delay (it ends the
 * first wait of each of its holds) is seen in the goroutine polls parked beneath itself off the lock (>=
 * MIN_BASELINE observations: it holds the lock across a wait), the delay and
 * contentions of releasers seen queuing for the lock (>= MIN_BASELINE observations) and almost never doing
 * anything else beneath themselves (parked off the lock < LOCK_ACROSS x their queued observations) are moved
 * to it (CORRELATE_LOCK_CHAIN). The holder, or NULL; *moved: the delay moved. */
static const char *chain_reassign(const correlate_window *win, size_t nw, json_t *delay, json_t *cont,
                                  double *moved) {
  const char *k, *holder = NULL;
  json_t *v, *mv = json_object();
  double off, q;
  *moved = 0;
  double total = 0;
  json_object_foreach(delay, k, v) total += json_number_value(v);
  json_object_foreach(delay, k, v) {
    if (json_number_value(v) < CORRELATE_LOCK_ACROSS * total) continue; /* it ends waits itself, each hold */
    seen(win, nw, k, &off, &q);
    if (off < CORRELATE_MIN_BASELINE) continue;
    if (holder) holder = "";
    if (!holder) holder = k;
  }
  if (!holder || !*holder || !mv) {
    json_decref(mv);
    return NULL;
  }
  json_object_foreach(delay, k, v) {
    seen(win, nw, k, &off, &q);
    if (strcmp(k, holder) != 0 && json_number_value(v) > 0 && q >= CORRELATE_MIN_BASELINE &&
        off < CORRELATE_LOCK_ACROSS * q)
      json_object_set_new(mv, k, json_true());
  }
  json_object_foreach(mv, k, v) {
    double d = json_number_value(json_object_get(delay, k)), n = json_number_value(json_object_get(cont, k));
    add_to(delay, k, -d), add_to(cont, k, -n), add_to(delay, holder, d), add_to(cont, holder, n);
    *moved += d;
  }
  json_decref(mv);
  return *moved > 0 ? holder : NULL;
}

/* Name of frame k of s in p. */
static const char *frame(const pprof_profile *p, const pprof_sample *s, size_t k) {
  return p->strings[p->functions[s->stack[k]].name];
}

/* Delay of s (its "delay" value, else its last) and its event count. */
static double delay_of(const pprof_profile *p, const pprof_sample *s, double *n) {
  int vi = pprof_sample_type_index(p, "delay");
  *n = (double)s->values[0];
  return (double)s->values[vi < 0 ? (int)p->nsample_types - 1 : vi];
}

/* Delay of the blocking beneath fn that is not on a sync.Mutex/RWMutex, in the windows of type: fn waits on
 * something else (a dependency, a channel) while it is on the stack. A block profile's stacks are the
 * waiters': the function above Lock holds the lock only if it also blocks beneath itself (across the wait,
 * the lock held), otherwise it is where requests queue and the holder is not in the profile. */
static double blocked_beneath(const correlate_window *win, size_t nw, const char *type, const char *fn) {
  double d = 0, n;
  for (size_t w = 0; w < nw; w++) {
    const pprof_profile *p = win[w].prof;
    if (strcmp(win[w].type, type) != 0 || !p->nsample_types) continue;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      if (on_lock(p, s)) continue;
      for (size_t k = 1; k < s->nstack; k++) /* fn above the blocking frame */
        if (strcmp(frame(p, s, k), fn) == 0) {
          d += delay_of(p, s, &n);
          break;
        }
    }
  }
  return d;
}

/* ---------- hold: pools, semaphores, channels (a resource, not a mutex) ---------- */

/* Frames a goroutine (a Python thread) blocks in waiting for a value, a slot or a permit: channels, select,
 * semaphores, sync.Cond (threading.Condition, under Python's Semaphore.acquire and queue.Queue.get). */
static int parking(const char *n) {
  static const char *const pre[] = {"runtime.gopark",    "runtime.selectgo",   "runtime.chanrecv",
                                    "runtime.chansend",  "runtime.semacquire", "sync.runtime_",
                                    "sync.(*Cond).Wait", "internal/sync.",     "threading.Condition.wait"};
  for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
    if (strncmp(n, pre[i], strlen(pre[i])) == 0) return 1;
  return 0;
}

/* Is n named for acquiring (its last identifier begins with such a verb, any case: acquire, Get, TakeSlot)?
 */
static int acquiring(const char *n) {
  static const char *const verb[] = {
      "acquire", "borrow", "checkout", "lease", "obtain", "claim",
      "take",    "grab",   "reserve",  "get",   "conn"}; /* database/sql's (*DB).conn */
  const char *b = strrchr(n, '.');
  b = b ? b + 1 : n;
  for (size_t i = 0; i < sizeof verb / sizeof verb[0]; i++)
    if (strncasecmp(b, verb[i], strlen(verb[i])) == 0) return 1;
  return 0;
}

/* Where s waits for a resource: from the leaf through the parking frames, the first frame named for acquiring
 * (the service's pool.acquire, or a library's Acquire the service calls), library frames crossed; -1 when s
 * parks elsewhere (a service frame not so named, a lock: the lock method's). */
static long acquire_at(const pprof_profile *p, const pprof_sample *s) {
  size_t k = 0;
  while (k < s->nstack && parking(frame(p, s, k))) k++;
  if (k == 0 || on_lock(p, s)) return -1;
  for (; k < s->nstack; k++) {
    const pprof_function *f = &p->functions[s->stack[k]];
    if (acquiring(p->strings[f->name])) return (long)k;
    if (!corrstack_is_library(p->strings[f->name], f->filename ? p->strings[f->filename] : NULL)) return -1;
  }
  return -1;
}

/* Is the leaf of s, a wall-clock sample, a service function named for acquiring? Python's threading.Lock and
 * RLock (`with lock:`, `lock.acquire()`) park in C with no frame of their own: a thread waiting for one is
 * seen in the function that takes it, as the leaf (a context manager such as `connection()`, or a pool's
 * `acquire`); a function named for acquiring, where requests stay without running code of their own, waits
 * for what it acquires. */
static int parked_in_acquire(const pprof_profile *p, const pprof_sample *s) {
  if (!s->nstack) return 0;
  const pprof_function *f = &p->functions[s->stack[0]];
  const char *n = p->strings[f->name];
  return acquiring(n) && !corrstack_is_library(n, f->filename ? p->strings[f->filename] : NULL);
}

/* acquire_at for the samples of type: a block profile's (every one a wait), or a wall-clock profile's that a
 * request (labelled) spends parked there (Python: also a leaf named for acquiring, parked_in_acquire). */
static long waits_at(const pprof_profile *p, const pprof_sample *s, const char *type) {
  if (strcmp(type, "wall") == 0 && s->nlabels && parked_in_acquire(p, s)) return 0;
  return strcmp(type, "block") == 0 || s->nlabels ? acquire_at(p, s) : -1;
}

/* The service functions that take what acquire point a hands out: its callers the run saw (call edges of
 * every profile), through library frames (a service's db.Query reaching database/sql's conn). New array of
 * cpu->nnames flags, or NULL. */
static unsigned char *acquirers(const corrstack *cpu, int64_t a) {
  unsigned char *seen = calloc(cpu->nnames ? cpu->nnames : 1, 1),
                *out = calloc(cpu->nnames ? cpu->nnames : 1, 1);
  int grew = seen && out;
  if (grew) seen[a] = 1;
  while (grew) {
    grew = 0;
    for (size_t i = 0; i < cpu->ncalls; i++) {
      size_t callee = (size_t)(cpu->calls[i] >> 32), caller = (size_t)(cpu->calls[i] & 0xffffffffu);
      if (callee >= cpu->nnames || caller >= cpu->nnames || seen[callee] != 1 || seen[caller]) continue;
      seen[caller] = corrstack_plumbing(cpu, (int64_t)caller) ? 1 : 2; /* library: climbed further */
      out[caller] = seen[caller] == 2, grew = 1;
    }
  }
  free(seen);
  return out;
}

typedef struct hold_tally {
  json_t *delay, *count; /* name -> delay (ns), events */
  double total, n;
} hold_tally;

static void tally(hold_tally *t, const char *k, double d, double n) {
  json_object_set_new(t->delay, k, json_real(json_number_value(json_object_get(t->delay, k)) + d));
  json_object_set_new(t->count, k, json_real(json_number_value(json_object_get(t->count, k)) + n));
  t->total += d, t->n += n;
}

static const char *heaviest(const hold_tally *t, double *d) {
  const char *k, *best = NULL;
  json_t *v;
  *d = 0;
  json_object_foreach(t->delay, k, v) if (json_number_value(v) > *d) *d = json_number_value(v), best = k;
  return best;
}

/* Requests blocked waiting in an acquiring function (block profiles: each wait >= the profile rate recorded)
 * are traced to the requests holding what they wait for: among the callers of that function, the one whose
 * stacks block most beneath it outside it, in the windows where others wait (what a holder does with the
 * connection it took). 1 and *out filled when one holder passes the lock thresholds. */
static int hold_find(const correlate_window *win, size_t nw, const char *type, const corrstack *cpu,
                     double req_ms, corrlock_result *out) {
  hold_tally wt = {json_object(), json_object(), 0, 0}, ht = {json_object(), json_object(), 0, 0};
  unsigned char *waited = calloc(nw ? nw : 1, 1);
  double wd = 0, hd = 0, n = 0, polled = 0; /* goroutine polls: requests' observations */
  const char *a = NULL, *h = NULL;
  int obs = strcmp(type, "goroutine") == 0; /* values are observations, not nanoseconds */
  for (size_t w = 0; waited && w < nw; w++)
    for (size_t i = 0; strcmp(win[w].type, type) == 0 && i < win[w].prof->nsamples; i++) {
      long k = waits_at(win[w].prof, &win[w].prof->samples[i], type);
      polled += win[w].prof->samples[i].nlabels ? (double)win[w].prof->samples[i].values[0] : 0;
      if (k >= 0)
        tally(&wt, frame(win[w].prof, &win[w].prof->samples[i], (size_t)k),
              delay_of(win[w].prof, &win[w].prof->samples[i], &n), n);
    }
  int64_t aid = (a = heaviest(&wt, &wd)) ? corrstack_id(cpu, a) : -1;
  int ok = aid >= 0 && json_number_value(json_object_get(wt.count, a)) >= CORRELATE_MIN_SAMPLES &&
           (obs ? wd >= CORRELATE_LOCK_LATENCY * polled /* polls sample requests' time evenly */
                : req_ms < 0 || clock_ns_to_ms_frac(wd) >= CORRELATE_LOCK_LATENCY * req_ms);
  unsigned char *acq = ok ? acquirers(cpu, aid) : NULL;
  int64_t fi;
  for (size_t w = 0; ok && w < nw; w++)
    for (size_t i = 0; strcmp(win[w].type, type) == 0 && i < win[w].prof->nsamples; i++) {
      const pprof_sample *s = &win[w].prof->samples[i];
      long k = waits_at(win[w].prof, s, type);
      waited[w] |= k >= 0 && strcmp(frame(win[w].prof, s, (size_t)k), a) == 0;
    }
  for (size_t w = 0; ok && w < nw; w++)
    for (size_t i = 0; waited[w] && strcmp(win[w].type, type) == 0 && i < win[w].prof->nsamples; i++) {
      const pprof_profile *p = win[w].prof;
      const pprof_sample *s = &p->samples[i];
      int in_a = 0;
      for (size_t k = 0; k < s->nstack && !in_a; k++) in_a = strcmp(frame(p, s, k), a) == 0;
      /* a wall-clock sample's leaf is a Python function running C code (a query, a commit): its own work */
      for (size_t k = strcmp(type, "wall") != 0; !in_a && !on_lock(p, s) && k < s->nstack; k++)
        if (acq && (fi = corrstack_id(cpu, frame(p, s, k))) >= 0 && acq[fi]) {
          tally(&ht, frame(p, s, k), delay_of(p, s, &n), n);
          break;
        }
    }
  h = ok ? heaviest(&ht, &hd) : NULL;
  size_t nh = json_object_size(ht.delay);
  int found = 0;
  if (h && nh >= CORRELATE_HOLD_CALLERS && ht.n >= CORRELATE_MIN_SAMPLES &&
      hd / ht.total >= CORRELATE_LOCK_SHARE) {
    double x = hd / ht.total * ht.n, p0 = 1.0 / (double)nh;
    double z = (x - ht.n * p0) / sqrt(ht.n * p0 * (1 - p0)), pv = 0.5 * erfc(z / sqrt(2.0));
    int64_t id = corrstack_id(cpu, h), fid = id >= 0 && corrstack_is_closure(h) ? under(cpu, id) : id;
    const char *fn = fid >= 0 ? cpu->names[fid] : h, *req = id >= 0 ? owner(cpu, NULL, id) : NULL;
    if ((found = pv < CORRELATE_ALPHA)) {
      snprintf(out->evidence, sizeof out->evidence,
               "%s profile: requests waited %.3f %s in %s over %.0f %s (parked for a connection, slot or "
               "permit); while they waited, %s held it: %.0f%% of the %.3f %s its %zu callers %s beneath it "
               "outside it (binomial z test of its %.0f weighted events against an even split p = %.2g)%s",
               type, obs ? wd : wd / CLOCK_NS_PER_S, obs ? "observations" : "s", a,
               json_number_value(json_object_get(wt.count, a)), strcmp(type, "block") ? "samples" : "waits",
               h, hd / ht.total * 100, obs ? ht.total : ht.total / CLOCK_NS_PER_S, obs ? "observations" : "s",
               nh, strcmp(type, "block") ? "spent" : "blocked", x, pv,
               req ? ", almost all under one request" : "");
      snprintf(out->fn, sizeof out->fn, "%s", fn);
      out->request = req, out->share = hd / ht.total, out->base = p0;
      out->x = x, out->ncont = ht.n, out->p_value = pv;
      snprintf(out->waited, sizeof out->waited, "%s", a);
      out->delay_ms = obs ? -1 : clock_ns_to_ms_frac(hd);
      out->path = fid >= 0 ? corrstack_path(cpu, fid, NULL) : json_pack("[s]", h);
    }
  }
  free(waited);
  free(acq);
  json_decref(wt.delay), json_decref(wt.count), json_decref(ht.delay), json_decref(ht.count);
  return found;
}

/* The requests' measured time in iv (count x mean of every interval of all requests), ms; 0 without. */
static double measured_ms(const json_t *iv) {
  size_t i;
  double t = 0;
  json_t *o;
  json_array_foreach(iv, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    if (nm && strcmp(nm, RUNDIR_TOTAL_NAME) == 0)
      t += json_number_value(json_object_get(o, "count")) * json_number_value(json_object_get(o, "mean_ms"));
  }
  return t;
}

/* A lock whose holder's delay is < LOCK_EXPLAINS of the time the requests lost (measured minus their time at
 * the run's typical pace) is real but explains almost none of the slowdown: marked minor (ranked with weak
 * evidence, correlate.c), with the figures in the evidence. */
static void minor(corrlock_result *out, const json_t *iv) {
  double req_ms = corrlat_request_ms(iv), lost = measured_ms(iv) - req_ms;
  if (out->delay_ms < 0 || req_ms <= 0 || lost <= 0 || out->delay_ms >= CORRELATE_LOCK_EXPLAINS * lost)
    return;
  size_t len = strlen(out->evidence);
  snprintf(
      out->evidence + len, sizeof out->evidence - len,
      "; but its %.3f s are %.2f%% of the %.1f s the requests lost against the run's typical pace: a minor "
      "lock, ranked with weak evidence",
      out->delay_ms / 1000, out->delay_ms / lost * 100, lost / 1000);
  out->minor = 1;
}

/* corrlock_find's search (mutex/block profiles, else hold). */
static int find(const correlate_window *win, size_t nw, const char *type, const corrstack *cpu,
                const json_t *iv, corrlock_result *out) {
  json_t *delay = json_object(), *cont = json_object();
  rw_tally rw = {json_object(), json_object(), json_object(), json_object(), 0, 0, 0, 0};
  double total = 0, ncont = 0, bd = 0;
  const char *k, *holder = NULL, *reader = NULL;
  json_t *v;
  for (size_t w = 0; w < nw; w++) {
    const pprof_profile *p = win[w].prof;
    if (strcmp(win[w].type, type) != 0 || !p->nsample_types) continue;
    int vi = pprof_sample_type_index(p, "delay");
    if (vi < 0) vi = (int)p->nsample_types - 1;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      const char *fn = corrstack_service_frame(p, s);
      double d = (double)s->values[vi], n = (double)s->values[0];
      if (strcmp(type, "block") == 0 && !on_lock(p, s)) continue;     /* channel, select, Cond: not a lock */
      if (strcmp(type, "block") == 0 && reader_wait(p, s)) fn = NULL; /* a writer's cost, not the reader's */
      total += d;
      ncont += n;
      if (!fn) continue; /* the runtime's and libraries' own locks: no holder named */
      add_to(delay, fn, d);
      add_to(cont, fn, n);
      int side = strcmp(type, "mutex") == 0 ? rw_side(p, s) : 0;
      if (side) add_to(side == 'r' ? rw.rd : rw.wd, fn, d), add_to(side == 'r' ? rw.rn : rw.wn, fn, n);
      if (side == 'w') rw.wdelay += d, rw.wcont += n;
    }
  }
  reader = rw_reassign(&rw, delay, cont);
  double chained = 0;
  const char *chain = CORRELATE_LOCK_CHAIN && !reader && strcmp(type, "mutex") == 0
                          ? chain_reassign(win, nw, delay, cont, &chained)
                          : NULL;
  json_object_foreach(delay, k, v) if (json_number_value(v) > bd) bd = json_number_value(v), holder = k;
  int found = 0;
  double req_ms = corrlat_request_ms(iv); /* a lock that costs requests little is not the answer */
  double bd_ms = clock_ns_to_ms_frac(bd), cost = req_ms > 0 ? bd_ms / req_ms : -1;
  /* contention events are recorded, not sampled by time: few of them are enough when they cost requests
   * much (each a long wait) */
  int enough =
      ncont >= CORRELATE_MIN_SAMPLES || (ncont >= CORRELATE_MIN_BASELINE && cost >= CORRELATE_LOCK_HEAVY);
  if (holder &&
      strcmp(type, "block") == 0) { /* a waiter holding nothing across a wait: where requests queue */
    double beneath = blocked_beneath(win, nw, type, holder);
    if (beneath <= 0 || beneath < CORRELATE_LOCK_ACROSS * bd) holder = NULL;
  }
  if (holder && enough && total > 0 && bd / total >= CORRELATE_LOCK_SHARE &&
      (req_ms < 0 || bd_ms >= CORRELATE_LOCK_LATENCY * req_ms)) {
    size_t nh = json_object_size(delay);
    /* contentions weighted by delay: the holder's share of the delay, in units of the mean delay */
    double x = bd / total * ncont, p0 = nh > 1 ? 1.0 / (double)nh : CORRELATE_LOCK_SHARE;
    double z = (x - ncont * p0) / sqrt(ncont * p0 * (1 - p0)), pv = 0.5 * erfc(z / sqrt(2.0));
    if (pv < CORRELATE_ALPHA) {
      int64_t id = corrstack_id(cpu, holder), fid = id;
      if (id >= 0 && corrstack_is_closure(holder)) fid = under(cpu, id);
      const char *fn = fid >= 0 ? cpu->names[fid] : holder, *req = id >= 0 ? owner(cpu, NULL, id) : NULL;
      int moved = strcmp(fn, holder) != 0;
      snprintf(out->evidence, sizeof out->evidence,
               "%s profile: %s releases the lock behind %.0f%% of %.3f s of %s delay over %.0f contentions "
               "(%zu functions contend; binomial z test of its %.0f delay-weighted contentions against an "
               "even split "
               "p = %.2g)"
               "%s%s%s",
               type, holder, bd / total * 100, total / (double)CLOCK_NS_PER_S, type, ncont, nh, x, pv,
               moved ? "; under it the CPU samples run " : "", moved ? fn : "",
               req ? ", almost all under one request" : "");
      if (reader && strcmp(reader, holder) == 0) {
        size_t len = strlen(out->evidence);
        snprintf(
            out->evidence + len, sizeof out->evidence - len,
            "; it holds a sync.RWMutex's read lock: writers waited %.1f ms per contention for it to leave, "
            ">= the %.1f ms of the %.0f contentions queued behind them (readers and writers; their "
            "%.3f s counted as its)",
            clock_ns_to_ms_frac(rw.rdelay / rw.rcont), clock_ns_to_ms_frac(rw.wdelay / rw.wcont), rw.wcont,
            rw.wdelay / (double)CLOCK_NS_PER_S);
      }
      if (chain && strcmp(chain, holder) == 0) {
        size_t len = strlen(out->evidence);
        snprintf(
            out->evidence + len, sizeof out->evidence - len,
            "; it is seen blocked beneath itself off the lock in the goroutine polls (holding the lock "
            "across a wait), and the %.3f s released by functions seen only queuing for it are counted as "
            "its (the queue behind it handing the lock on)",
            chained / (double)CLOCK_NS_PER_S);
      }
      snprintf(out->fn, sizeof out->fn, "%s", fn);
      out->request = req, out->share = bd / total, out->base = nh > 1 ? 1.0 / (double)nh : 0;
      out->x = x, out->ncont = ncont, out->p_value = pv;
      out->delay_ms = bd_ms;
      out->path = fid >= 0 ? corrstack_path(cpu, fid, NULL) : json_pack("[s]", holder);
      found = 1;
    }
  }
  json_decref(delay);
  json_decref(cont);
  json_decref(rw.rd), json_decref(rw.rn), json_decref(rw.wd), json_decref(rw.wn);
  if (found || strcmp(type, "block") != 0) return found;
  static const char *const from[] = {"block", "goroutine", "wall"}; /* no block profile: polls, wall clock */
  for (size_t t = 0; t < sizeof from / sizeof from[0]; t++)
    for (size_t w = 0; w < nw; w++)
      if (strcmp(win[w].type, from[t]) == 0) /* wall clock: else a lock taken inline (corrinline.h) */
        return hold_find(win, nw, from[t], cpu, req_ms, out) ||
               (strcmp(from[t], "wall") == 0 && corrinline_find(win, nw, cpu, req_ms, out)) ||
               (strcmp(from[t], "block") == 0 && corrinline_writer(win, nw, cpu, req_ms, out));
  return 0;
}

/* The request name whose requests wait for the lock: of the block profile's waits on a sync.Mutex/RWMutex
 * (the holder's own left out), the name owning (its labelled CPU samples) the service frame that waits, when
 * one name has >= LOCK_NAME_SHARE of the delay; NULL otherwise or without a block profile. The block profile
 * does not say which mutex a wait is on: one name's waits are taken as this lock's only when the lock is the
 * run's contended one (the mutex profile's holder passed). */
static const char *waiters(const correlate_window *win, size_t nw, const corrstack *cpu,
                           const corrstack *polls, const char *holder) {
  json_t *by = json_object();
  double tot = 0, best = 0, n;
  const char *k, *name = NULL;
  json_t *v;
  unsigned char *named = calloc(cpu->n ? cpu->n : 1, 1); /* a frame's owner among its labelled samples */
  unsigned char *pnamed = polls ? calloc(polls->n ? polls->n : 1, 1) : NULL;
  for (size_t i = 0; named && i < cpu->n; i++) named[i] = cpu->s[i].name != NULL;
  for (size_t i = 0; pnamed && i < polls->n; i++) pnamed[i] = polls->s[i].name != NULL;
  for (size_t w = 0; by && named && w < nw; w++) {
    const pprof_profile *p = win[w].prof;
    if (strcmp(win[w].type, "block") != 0 || !p->nsample_types) continue;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      const char *fn = on_lock(p, s) ? corrstack_service_frame(p, s) : NULL;
      if (!fn || strcmp(fn, holder) == 0) continue;
      int64_t id = corrstack_id(cpu, fn);
      const char *req = id >= 0 ? owner(cpu, named, id) : NULL;
      int64_t pid = pnamed && !req ? corrstack_id(polls, fn) : -1;
      if (pid >= 0) req = owner(polls, pnamed, pid); /* seen waiting, never on CPU */
      double d = delay_of(p, s, &n);
      tot += d;
      if (req) add_to(by, req, d);
    }
  }
  json_object_foreach(by, k, v) if (json_number_value(v) > best) best = json_number_value(v), name = k;
  const char *pooled = NULL; /* the name as the join pooled it (cpu's or polls'), which outlives by */
  for (size_t i = 0; name && i < cpu->n && !pooled; i++)
    if (cpu->s[i].name && strcmp(cpu->s[i].name, name) == 0) pooled = cpu->s[i].name;
  for (size_t i = 0; name && polls && i < polls->n && !pooled; i++)
    if (polls->s[i].name && strcmp(polls->s[i].name, name) == 0) pooled = polls->s[i].name;
  name = pooled;
  if (tot <= 0 || best < CORRELATE_LOCK_NAME_SHARE * tot) name = NULL;
  json_decref(by);
  free(named);
  free(pnamed);
  return name;
}

int corrlock_find(const correlate_window *win, size_t nw, const char *type, const corrstack *cpu,
                  const json_t *iv, corrlock_result *out) {
  out->delay_ms = -1, out->minor = 0, out->waited[0] = '\0', out->waiters = NULL;
  if (!find(win, nw, type, cpu, iv, out)) return 0;
  minor(out, iv);
  if (CORRELATE_LOCK_WAITERS && !out->request) out->waiters = waiters(win, nw, cpu, out->polls, out->fn);
  return 1;
}

/* Does finding f's path end at (or f name) fn? */
static int reaches(const json_t *f, const char *fn) {
  const json_t *path = json_object_get(f, "path");
  const char *last = json_string_value(json_array_get(path, json_array_size(path) - 1));
  return strcmp(json_string_value(json_object_get(f, "function")), fn) == 0 ||
         (last && strcmp(last, fn) == 0);
}

void corrlock_effects(json_t *findings, json_t *lock, const corrlock_result *r) {
  size_t i;
  json_t *f;
  double score = json_number_value(json_object_get(lock, "score"));
  if (r->waiters) json_object_set_new(lock, "waiters", json_string(r->waiters));
  if (!r->waited[0]) return;
  json_array_foreach(findings, i, f) {
    if (f == lock || strcmp(json_string_value(json_object_get(f, "kind")), "wait") != 0 ||
        !reaches(f, r->waited) || json_number_value(json_object_get(f, "score")) < score)
      continue;
    char ev[2048];
    snprintf(ev, sizeof ev,
             "%s; its slow requests wait in %s for what %s holds (the lock finding): ranked below it",
             json_string_value(json_object_get(f, "evidence")), r->waited, r->fn);
    json_object_set_new(f, "evidence", json_string(ev));
    json_object_set_new(f, "score", json_real(score - 0.001));
  }
}
