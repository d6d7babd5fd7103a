/* corrlock.c - the lock method (corrlock.h): the contention of mutex/block profiles by releasing function,
 * a binomial z test of the heaviest against an even split, and what runs under it in the CPU samples. */
#include "master/profile/corrlock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "master/profile/corrlat.h"

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

int corrlock_find(const correlate_window *win, size_t nw, const char *type, const corrstack *cpu,
                  const json_t *iv, corrlock_result *out) {
  json_t *delay = json_object(), *cont = json_object();
  double total = 0, ncont = 0, bd = 0;
  const char *k, *holder = NULL;
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
      json_object_set_new(delay, fn, json_real(json_number_value(json_object_get(delay, fn)) + d));
      json_object_set_new(cont, fn, json_real(json_number_value(json_object_get(cont, fn)) + n));
    }
  }
  json_object_foreach(delay, k, v) if (json_number_value(v) > bd) bd = json_number_value(v), holder = k;
  int found = 0;
  double req_ms = corrlat_request_ms(iv); /* a lock that costs requests little is not the answer */
  if (holder && ncont >= CORRELATE_MIN_SAMPLES && total > 0 && bd / total >= CORRELATE_LOCK_SHARE &&
      (req_ms < 0 || clock_ns_to_ms_frac(bd) >= CORRELATE_LOCK_LATENCY * req_ms)) {
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
      snprintf(out->fn, sizeof out->fn, "%s", fn);
      out->request = req, out->share = bd / total, out->base = nh > 1 ? 1.0 / (double)nh : 0;
      out->x = x, out->ncont = ncont, out->p_value = pv, out->score = 2.5 + bd / total;
      out->path = fid >= 0 ? corrstack_path(cpu, fid, NULL) : json_pack("[s]", holder);
      found = 1;
    }
  }
  json_decref(delay);
  json_decref(cont);
  return found;
}
