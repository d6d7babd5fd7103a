/* correlate.c - findings from profiles + latency (see correlate.h): the samples of every window go into one
 * stack table per profile kind (corrstack.h), labelled by the exemplar join (corrjoin.h); each method is a
 * contrast of two populations; the driver ranks, de-duplicates and returns them. */
#include "master/profile/correlate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/rundir.h"
#include "master/profile/corrdemote.h"
#include "master/profile/corrdesc.h"
#include "master/profile/corrhand.h"
#include "master/profile/corrjoin.h"
#include "master/profile/corrlat.h"
#include "master/profile/corrlock.h"
#include "master/profile/corroff.h"
#include "master/profile/corrpool.h"
#include "master/profile/corrrank.h"
#include "master/profile/corrstack.h"
#include "master/profile/corrwait.h"
#include "master/profile/corrwin.h"
#include "master/profile/export.h"
#include "master/profile/flame.h"
#include "master/profile/source.h"

enum { SET_CPU, SET_WAIT, SET_COUNT };

typedef struct ctx {
  const correlate_input *in;
  corrjoin *join;
  corrstack set[SET_COUNT];
  unsigned char *cls[SET_COUNT]; /* CORRJOIN_* per sample */
  const char *wait_profile;      /* "goroutine" or "wall": the type of the SET_WAIT windows */
  json_t *out;
  corrdemote bg;         /* the window finding's background work (spans NULL: none) */
  const json_t *req_win; /* the window finding when it names request work (borrowed from out), else NULL */
} ctx;

/* ---------- small helpers ---------- */

const char *correlate_frame(const pprof_profile *p, const pprof_sample *s) {
  if (!s->nstack) return "(no stack)";
  const char *n = corrstack_service_frame(p, s);
  return n ? n : p->strings[p->functions[s->stack[0]].name];
}

static int is_cpu(const char *type) {
  static const char *const other[] = {"mutex",     "block",        "heap", "allocs",
                                      "goroutine", "threadcreate", "wall", "offcpu"};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
    if (strcmp(type, other[i]) == 0) return 0;
  return 1;
}

static double r3(double v) {
  return round(v * 1000) / 1000;
}

static json_t *finding(const char *kind, const char *request, const char *fn, double share, double base) {
  json_t *f = json_object();
  json_object_set_new(f, "kind", json_string(kind));
  json_object_set_new(f, "request", request && *request ? json_string(request) : json_null());
  json_object_set_new(f, "function", json_string(fn));
  json_object_set_new(f, "share", json_real(r3(share)));
  json_object_set_new(f, "baseline_share", json_real(r3(base)));
  json_object_set_new(f, "window", json_null());
  return f;
}

/* The rest of a finding: populations (names + values), p-value, evidence, path, profile and score. */
static void finish(json_t *f, const char *pa, double na, const char *pb, double nb, double p, json_t *path,
                   const char *profile, double score, const char *evidence) {
  json_object_set_new(f, "path", path ? path : json_array());
  json_object_set_new(f, "samples",
                      json_pack("{s:I,s:I}", pa, (json_int_t)llround(na), pb, (json_int_t)llround(nb)));
  json_object_set_new(f, "p_value", json_real(p));
  json_object_set_new(f, "evidence", json_string(evidence));
  json_object_set_new(f, "profile", json_string(profile));
  json_object_set_new(f, "score", json_real(r3(score)));
}

/* ---------- loading ---------- */

static int load(ctx *c) {
  for (size_t w = 0; w < c->in->nwindows; w++) {
    const correlate_window *cw = &c->in->windows[w];
    const pprof_profile *p = cw->prof;
    int wait = strcmp(cw->type, "goroutine") == 0 || strcmp(cw->type, "wall") == 0;
    int set = is_cpu(cw->type) ? SET_CPU : wait ? SET_WAIT : -1;
    if (wait) c->wait_profile = cw->type;
    for (int k = 0; k < SET_COUNT; k++) /* who calls whom: every sample of every profile of the run */
      if (corrstack_add_calls(&c->set[k], p) < 0) return -ENOMEM;
    if (set < 0 || !p->nsample_types) continue;
    for (size_t i = 0; i < p->nsamples; i++) {
      corrstack *cs = &c->set[set];
      if (p->samples[i].values[0] <= 0) continue;
      if (corrstack_add(cs, p, &p->samples[i], 0, w) < 0) return -ENOMEM;
      corr_sample *s = &cs->s[cs->n - 1];
      s->name = corrjoin_request(c->join, p, &p->samples[i]);
      corrjoin_ids(c->join, p, &p->samples[i], &s->trace_id, &s->span_id);
    }
  }
  for (int k = 0; k < SET_COUNT; k++) {
    corrstack *cs = &c->set[k];
    if (!(c->cls[k] = calloc(cs->n ? cs->n : 1, 1))) return -ENOMEM;
    for (size_t i = 0; i < cs->n; i++) {
      const char *sn = NULL;
      c->cls[k][i] =
          (unsigned char)corrjoin_class(c->join, cs->s[i].trace_id, cs->s[i].span_id, cs->s[i].name, &sn);
      if (sn && *sn) cs->s[i].name = corrjoin_pool(c->join, sn); /* the exemplar's name is authoritative */
    }
  }
  return 0;
}

/* The handler chain of a request name, from its CPU samples: frames in >= ROOT_SHARE of them; unknown (no
 * frame is in it) when the name has fewer than CHAIN_MIN_SAMPLES of them: a handful of samples, all of slow
 * requests, would put the fault's own frames in the chain. */
typedef struct chain_ctx {
  ctx *c;
  const char *name;
  double *incl, tot;
} chain_ctx;

static int in_chain(void *arg, const char *frame) {
  chain_ctx *h = arg;
  int64_t id = corrstack_id(&h->c->set[SET_CPU], frame);
  return id >= 0 && h->incl && h->tot >= CORRELATE_CHAIN_MIN_SAMPLES &&
         h->incl[id] / h->tot >= CORRELATE_ROOT_SHARE;
}

static void chain_init(chain_ctx *h, ctx *c, const char *name) {
  corrstack *cpu = &c->set[SET_CPU];
  unsigned char *m = calloc(cpu->n ? cpu->n : 1, 1);
  h->c = c;
  h->name = name;
  h->tot = 0;
  h->incl = calloc(cpu->nnames ? cpu->nnames : 1, sizeof *h->incl);
  for (size_t i = 0; m && i < cpu->n; i++) m[i] = name && cpu->s[i].name == name;
  if (m && h->incl) h->tot = corrstack_inclusive(cpu, m, h->incl);
  free(m);
}

/* Is the wall time a wait finding found in frame CPU work after all? Its share of the request name's CPU
 * samples is at least half its share of the wall-time population (wall_share). */
static int on_cpu(ctx *c, const char *name, const char *frame, double wall_share) {
  corrstack *cpu = &c->set[SET_CPU];
  int64_t id = corrstack_id(cpu, frame);
  if (id < 0 || !name) return 0;
  unsigned char *m = calloc(cpu->n ? cpu->n : 1, 1);
  double *incl = calloc(cpu->nnames ? cpu->nnames : 1, sizeof *incl), tot = 0;
  for (size_t i = 0; m && i < cpu->n; i++) m[i] = cpu->s[i].name == name;
  if (m && incl) tot = corrstack_inclusive(cpu, m, incl);
  int yes = tot >= CORRELATE_MIN_BASELINE && incl[id] / tot >= 0.5 * wall_share;
  free(m);
  free(incl);
  return yes;
}

/* ---------- tail: slow vs typical requests (CPU: kind tail; goroutine polls: kind wait) ---------- */

/* A contrast of populations a and b and what its finding needs to say. */
typedef struct naming {
  corr_contrast r;
  char fbuf[512];
  const char *fn, *prof, *what, *kind; /* kind: NULL = the method's CPU kind (tail, endpoint) */
  double sa, sb;
} naming;

/* Contrast a with b in set (CPU: corrstack; waits: corrwait over na vs nb requests) in the request's own
 * call chain; 0 and *n filled when a frame was named, else -1. */
static int contrast(ctx *c, int set, const char *name, unsigned char *a, unsigned char *b, corr_opts *o,
                    double na, double nb, naming *n) {
  corrstack *cs = &c->set[set];
  chain_ctx h;
  chain_init(&h, c, name);
  o->context = in_chain;
  o->context_arg = &h;
  int rc =
      set == SET_CPU ? corrstack_contrast(cs, a, b, o, &n->r) : corrwait_find(cs, a, b, o, na, nb, &n->r);
  free(h.incl);
  if (rc < 0 || n->r.fn < 0) return -1;
  n->fn = corrstack_function(cs->names[n->r.fn], n->fbuf, sizeof n->fbuf);
  n->prof = set == SET_CPU ? "cpu" : c->wait_profile;
  const char *polled = strcmp(n->prof, "wall") ? "goroutine observations" : "wall-clock samples";
  n->what = set == SET_CPU ? "CPU samples" : polled;
  n->sa = n->r.a_fn / n->r.a_tot, n->sb = n->r.b_tot > 0 ? n->r.b_fn / n->r.b_tot : 0;
  n->kind = set == SET_CPU || (!n->r.gc && on_cpu(c, name, cs->names[n->r.fn], n->sa)) ? NULL
            : n->r.gc                                                                  ? "alloc"
                                                                                       : "wait";
  return 0;
}

/* The test behind a contrast in words: per request (rates, when the request counts were used) or shares. */
static void test_words(const naming *n, double na, double nb, const char *a, const char *b, char *out,
                       size_t len) {
  if (n->r.per_request)
    snprintf(
        out, len,
        "%.2f samples in it per %s request vs %.2f per %s request; conditional binomial test of the rates "
        "p = %.2g",
        n->r.a_fn / na, a, n->r.b_fn / nb, b, n->r.p_value);
  else
    snprintf(out, len, "two-proportion z test p = %.2g", n->r.p_value);
}

typedef struct req_key {
  const char *key; /* trace id, else span id (pooled: equal ids are equal pointers), or NULL */
  size_t i;
} req_key;

static int cmp_key(const void *x, const void *y) {
  const req_key *a = x, *b = y;
  if (a->key != b->key)
    return a->key && b->key ? strcmp(a->key, b->key) : (a->key != NULL) - (b->key != NULL);
  return (a->i > b->i) - (a->i < b->i);
}

/* Per frame of ks, the distinct requests (trace id, else span id; a sample without either is one of its own)
 * among the samples with mask[i] set that hold it, into nreq (nnames entries). Returns the requests. */
static double by_request(const corrstack *ks, const unsigned char *mask, double *nreq) {
  req_key *k = calloc(ks->n ? ks->n : 1, sizeof *k);
  size_t m = 0, g = 0, *stamp = calloc(ks->nnames ? ks->nnames : 1, sizeof *stamp);
  memset(nreq, 0, ks->nnames * sizeof *nreq);
  for (size_t i = 0; k && stamp && i < ks->n; i++)
    if (mask[i]) k[m++] = (req_key){ks->s[i].trace_id ? ks->s[i].trace_id : ks->s[i].span_id, i};
  if (k && stamp) qsort(k, m, sizeof *k, cmp_key);
  for (size_t j = 0; k && stamp && j < m; j++) {
    g += j == 0 || !k[j].key || k[j].key != k[j - 1].key;
    const corr_sample *c = &ks->s[k[j].i];
    for (size_t f = 0; f < c->nstack; f++)
      if (stamp[c->stack[f]] != g) stamp[c->stack[f]] = g, nreq[c->stack[f]] += 1;
  }
  free(k);
  free(stamp);
  return (double)g;
}

/* Frames of set that the typical requests of name run: in >= KNOWN_SHARE of them (counted by request: a few
 * slow requests classed typical carry many wall-clock samples each) in some profile of the run where they
 * have >= MIN_BASELINE samples (a baseline for where its slow requests diverge when their typical samples in
 * set are too few; corrstack.h corr_opts.known). New array of set's nnames entries, or NULL (out of memory,
 * or no name). */
static unsigned char *typical_frames(const ctx *c, int set, const char *name) {
  const corrstack *cs = &c->set[set];
  unsigned char *m = name ? calloc(cs->nnames ? cs->nnames : 1, 1) : NULL, *mask = NULL;
  double *incl = NULL;
  for (int k = 0; m && k < SET_COUNT; k++) {
    const corrstack *ks = &c->set[k];
    free(mask);
    free(incl);
    mask = calloc(ks->n ? ks->n : 1, 1), incl = calloc(ks->nnames ? ks->nnames : 1, sizeof *incl);
    for (size_t i = 0; mask && i < ks->n; i++)
      mask[i] = c->cls[k][i] == CORRJOIN_TYPICAL && ks->s[i].name && strcmp(ks->s[i].name, name) == 0;
    double tot = mask && incl ? corrstack_inclusive(ks, mask, incl) : 0;
    double reqs = tot >= CORRELATE_MIN_BASELINE ? by_request(ks, mask, incl) : 0;
    for (size_t f = 0; reqs >= CORRELATE_MIN_BASELINE && f < ks->nnames; f++) {
      int64_t id = k == set ? (int64_t)f : corrstack_id(cs, ks->names[f]);
      if (id >= 0 && incl[f] >= CORRELATE_KNOWN_SHARE * reqs) m[id] = 1;
    }
  }
  free(mask);
  free(incl);
  if (m && set == SET_CPU) corrwait_idle_frames(&c->set[SET_WAIT], &c->set[SET_CPU], name, m);
  return m;
}

static void tail_one(ctx *c, int set, const char *name, unsigned char *a, unsigned char *b) {
  corrstack *cs = &c->set[set];
  const unsigned char *cls = c->cls[set];
  corr_opts o = {0};
  naming n;
  double same = 0;
  unsigned char *known = NULL;
  for (size_t i = 0; i < cs->n;
       i++) { /* baseline: the same request's typical samples when there are enough */
    a[i] = cls[i] == CORRJOIN_SLOW && cs->s[i].name == name &&
           !corrdemote_slow(&c->bg, cs->s[i].trace_id, cs->s[i].span_id);
    b[i] = cls[i] == CORRJOIN_TYPICAL && cs->s[i].name == name;
    same += b[i] ? cs->s[i].value : 0;
  }
  if (same < CORRELATE_MIN_SAMPLES || !name) {
    for (size_t i = 0; i < cs->n; i++) b[i] = cls[i] == CORRJOIN_TYPICAL;
    o.skip_chain = o.entry = 1;
    o.known = known = typical_frames(c, set, name);
  }
  double na = (double)corrjoin_nslow_name(c->join, name);
  double nb = corrlat_requests(c->in->intervals, o.skip_chain ? NULL : name) - na;
  if (set == SET_CPU && name) o.na = na, o.nb = nb;
  if (set == SET_CPU) o.more = &c->set[SET_WAIT], o.more_cls = c->cls[SET_WAIT];
  int found = contrast(c, set, name, a, b, &o, na, nb, &n);
  free(known);
  if (found < 0) return;
  char ev[1200], test[200], base[360] = "";
  test_words(&n, na, nb, "slow", "typical", test, sizeof test);
  if (n.r.no_baseline)
    snprintf(
        base, sizeof base,
        "; its typical requests have %.0f %s, too few for a baseline of their own, so %s is where the slow "
        "ones' hot path leaves %s (shared helpers below it are not named)",
        same, n.what, n.fn, corrdesc_why(n.r.no_baseline));
  snprintf(ev, sizeof ev,
           "exemplar join (%s profile): %.0f %s of the %.0f requests measured slow%s%s have %s on the stack "
           "(%.0f%%) vs %.0f%% of %.0f of requests measured typical%s; %s%s",
           n.prof, n.r.a_tot, n.what, na, name ? " of " : "", name ? name : "", n.fn, n.sa * 100, n.sb * 100,
           n.r.b_tot, o.skip_chain ? " (all request names)" : "", test, base);
  json_t *f = finding(n.kind ? n.kind : "tail", name, n.fn, n.sa, n.sb);
  finish(f, "slow", n.r.a_tot, "typical", n.r.b_tot, n.r.p_value, n.r.path, n.prof,
         corrrank_score(CORRELATE_RANK_TAIL - (set == SET_WAIT) * CORRELATE_RANK_WAIT,
                        corrwait_effect(&n.r, na, nb, set == SET_WAIT), n.r.p_value) -
             corrwait_thin(cs, a, &n.r, set == SET_WAIT) * CORRELATE_WEAK_DROP, /* thin evidence */
         ev);
  json_array_append_new(c->out, f);
}

static void method_tail(ctx *c, int set) {
  corrstack *cs = &c->set[set];
  json_t *names = json_object();
  unsigned char *a = calloc(cs->n ? cs->n : 1, 1), *b = calloc(cs->n ? cs->n : 1, 1);
  int unnamed = 0;
  for (size_t i = 0; a && b && i < cs->n; i++)
    if (c->cls[set][i] == CORRJOIN_SLOW) {
      if (cs->s[i].name)
        json_object_set_new(names, cs->s[i].name, json_true());
      else
        unnamed = 1;
    }
  const char *k;
  json_t *v;
  if (a && b) {
    json_object_foreach(names, k, v) {
      for (size_t i = 0; i < cs->n; i++) /* the pooled pointer of this name */
        if (cs->s[i].name && strcmp(cs->s[i].name, k) == 0) {
          tail_one(c, set, cs->s[i].name, a, b);
          break;
        }
    }
    if (unnamed) tail_one(c, set, NULL, a, b);
  }
  free(a);
  free(b);
  json_decref(names);
}

/* ---------- endpoint: one request name vs the others ---------- */

/* Does the name have samples of requests measured slow (exemplar ids)? Then what sets its tail apart is the
 * tail method's to say (slow vs typical of the name); the other names' samples only show where its body
 * differs from theirs. */
static int slow_samples(const ctx *c, int set, const char *name) {
  const corrstack *cs = &c->set[set];
  for (size_t i = 0; i < cs->n; i++)
    if (c->cls[set][i] == CORRJOIN_SLOW && cs->s[i].name == name) return 1;
  return 0;
}

static void endpoint_one(ctx *c, int set, const char *name, unsigned char *a, unsigned char *b) {
  corrstack *cs = &c->set[set];
  corr_opts o = {.skip_chain = 1};
  naming n;
  char lt[160], ev[768];
  for (size_t i = 0; i < cs->n; i++) {
    a[i] = cs->s[i].name == name;
    b[i] = cs->s[i].name && cs->s[i].name != name;
  }
  corrlat_standing st = corrlat_stand(c->in->intervals, name);
  int how = corrlat_stands_out(&st, lt, sizeof lt);
  if (!how || (how == CORRLAT_TAIL && slow_samples(c, set, name))) return;
  o.body = how == CORRLAT_BODY;
  double na = corrlat_requests(c->in->intervals, name), nb = corrlat_requests(c->in->intervals, NULL) - na;
  if (set == SET_CPU) o.na = na, o.nb = nb;
  if (contrast(c, set, name, a, b, &o, na, nb, &n) < 0) return;
  /* Every request of the name off-CPU where the others are not: what it waits on by design (an upstream) */
  if (how == CORRLAT_BODY && n.kind && strcmp(n.kind, "wait") == 0) {
    json_decref(n.r.path);
    return;
  }
  char test[200];
  test_words(&n, na, nb, "such", "other", test, sizeof test);
  snprintf(
      ev, sizeof ev,
      "per-request labels (%s profile): %.0f%% of %.0f %s of %s have %s on the stack vs %.0f%% of %.0f of "
      "the other requests%s; %s",
      n.prof, n.sa * 100, n.r.a_tot, n.what, name, n.fn, n.sb * 100, n.r.b_tot, lt, test);
  json_t *f = finding(n.kind ? n.kind : "endpoint", name, n.fn, n.sa, n.sb);
  finish(f, "request", n.r.a_tot, "other_requests", n.r.b_tot, n.r.p_value, n.r.path, n.prof,
         corrrank_score(corrrank_endpoint(set == SET_WAIT, n.kind), n.sa - n.sb, n.r.p_value), ev);
  json_array_append_new(c->out, f);
}

static void method_endpoint(ctx *c, int set) {
  corrstack *cs = &c->set[set];
  json_t *seen = json_object();
  unsigned char *a = calloc(cs->n ? cs->n : 1, 1), *b = calloc(cs->n ? cs->n : 1, 1);
  for (size_t i = 0; a && b && i < cs->n; i++) {
    const char *nm = cs->s[i].name;
    if (!nm || json_object_get(seen, nm)) continue;
    json_object_set_new(seen, nm, json_true());
    endpoint_one(c, set, nm, a, b);
  }
  free(a);
  free(b);
  json_decref(seen);
}

/* ---------- window: anomalous intervals vs the others ---------- */

/* No CPU work rose in the anomalous seconds: work no request runs holding what the requests wait for
 * (corrpool.h), a window finding naming background work. */
static void window_pool(ctx *c, const corrwin_times *tm) {
  corrpool_result r;
  json_t *f = NULL;
  if (corrpool_find(c->in->windows, c->in->nwindows, &c->set[SET_WAIT], tm, &r) < 0 || r.fn < 0 ||
      !(f = corrpool_finding(&c->set[SET_WAIT], tm, &r)))
    goto out;
  c->bg.spans = json_incref(tm->spans), c->bg.score = json_real_value(json_object_get(f, "score"));
  snprintf(c->bg.fn, sizeof c->bg.fn, "%s, work no request runs",
           json_string_value(json_object_get(f, "function")));
  json_array_append_new(c->out, f);
out:
  json_decref(r.path);
}

static void method_window(ctx *c) {
  corrstack *cs = &c->set[SET_CPU];
  corrwin_times tm = {0};
  char ev[1200];
  unsigned char *a = calloc(cs->n ? cs->n : 1, 1), *b = calloc(cs->n ? cs->n : 1, 1);
  corr_contrast r;
  json_t *off = NULL;
  if (!a || !b || !c->in->intervals || corrwin_times_make(c->in->intervals, c->in->exemplars, &tm) < 0 ||
      !json_array_size(tm.spans))
    goto out;
  size_t nbad = 0, ngood = 0;
  corr_opts o = {.rise = 1}; /* rates: samples per second of window (normal ones hold few) */
  for (size_t w = 0; w < c->in->nwindows; w++) {
    const correlate_window *cw = &c->in->windows[w];
    int k = corrwin_class(&tm, cw->start_ms, cw->end_ms);
    double s = clock_ms_to_s(cw->end_ms - cw->start_ms);
    if (!is_cpu(cw->type)) continue;
    nbad += k == CORRWIN_ANOMALOUS, ngood += k == CORRWIN_NORMAL;
    o.na += k == CORRWIN_ANOMALOUS ? s : 0, o.nb += k == CORRWIN_NORMAL ? s : 0;
  }
  for (size_t i = 0; i < cs->n; i++) {
    const correlate_window *cw = &c->in->windows[cs->s[i].window];
    int k = corrwin_class(&tm, cw->start_ms, cw->end_ms);
    a[i] = k == CORRWIN_ANOMALOUS;
    b[i] = k == CORRWIN_NORMAL;
  }
  double off_ex = 0; /* the stall off CPU (corroff.h), when its rise outweighs the CPU finding's */
  off = corroff_window(c->in->windows, c->in->nwindows, &tm, cs, b, &off_ex);
  if (corrstack_contrast(cs, a, b, &o, &r) < 0) goto out;
  int whose = r.fn < 0 ? CORRWIN_MORE_REQUESTS : corrwin_whose(cs, a, b, r.fn, r.a_fn);
  if (whose == CORRWIN_MORE_REQUESTS ||
      (off && off_ex > CORRELATE_OFFCPU_OVER * (r.a_fn / o.na - r.b_fn / o.nb))) {
    json_decref(r.path); /* none, or more or slower requests: the bad seconds' effect; or a stall off CPU */
    if (!off) window_pool(c, &tm);
    goto out;
  }
  json_decref(off), off = NULL;
  if (whose == CORRWIN_REQUEST) corrwin_below_context(cs, a, b, o.na, o.nb, &r);
  char fbuf[512];
  const char *fn = corrstack_function(cs->names[r.fn], fbuf, sizeof fbuf);
  double sa = r.a_fn / r.a_tot, sb = r.b_tot > 0 ? r.b_fn / r.b_tot : 0;
  char test[160];
  if (r.per_request)
    snprintf(test, sizeof test,
             "%.1f samples in it per second of window vs %.1f; conditional binomial test of "
             "the rates p = %.2g",
             r.a_fn / o.na, r.b_fn / o.nb, r.p_value);
  else
    snprintf(test, sizeof test, "two-proportion z test p = %.2g", r.p_value);
  char harm[400]; /* request work one rare name's that slowed the others: its words, the name */
  const char *culprit = corrwin_harm_spread(cs, a, whose == CORRWIN_REQUEST ? r.fn : -1, c->in->intervals,
                                            tm.spans, harm, sizeof harm);
  snprintf(
      ev, sizeof ev,
      "time windows (cpu profile): %zu of %zu steady intervals stand out (strongest: %s); in the %zu profile "
      "windows overlapping them %s is on %.0f%% of %.0f samples vs %.0f%% of %.0f samples in the %zu "
      "windows that do not; %s%s",
      tm.bad, tm.judged, tm.why, nbad, fn, sa * 100, r.a_tot, sb * 100, r.b_tot, ngood, test, harm);
  json_t *f = finding("window", NULL, fn, sa, sb), *win = json_array(), *s;
  size_t i;
  json_array_foreach(tm.spans, i, s) {
    double from_s = clock_ms_to_s((double)json_integer_value(json_array_get(s, 0)));
    double to_s = clock_ms_to_s((double)json_integer_value(json_array_get(s, 1)));
    json_array_append_new(win, json_pack("[f,f]", from_s, to_s));
  }
  json_object_set_new(f, "window", win);
  double score = corrrank_score(CORRELATE_RANK_WINDOW, sa - sb, r.p_value);
  finish(f, "anomalous", r.a_tot, "normal", r.b_tot, r.p_value, r.path, "cpu", score, ev);
  if (whose == CORRWIN_BACKGROUND || culprit) { /* its effect on the others' requests: ranked below it */
    c->bg.spans = json_incref(tm.spans), c->bg.score = score, c->bg.skip = culprit;
    snprintf(c->bg.fn, sizeof c->bg.fn, "%s, work %s%s", fn, culprit ? "of " : "no request runs",
             culprit ? culprit : "");
  } else
    c->req_win = f;
  json_array_append_new(c->out, f);
out:
  if (off) { /* work no request's: the waits of the loop or of a job */
    c->bg.spans = json_incref(tm.spans), c->bg.score = json_real_value(json_object_get(off, "score"));
    snprintf(c->bg.fn, sizeof c->bg.fn, "%s, waits off CPU",
             json_string_value(json_object_get(off, "function")));
    json_array_append_new(c->out, off);
  }
  free(a);
  free(b);
  corrwin_times_free(&tm);
}

/* ---------- lock (corrlock.h) ---------- */

static int method_lock(ctx *c, const char *type) {
  corrlock_result r = {.polls = &c->set[SET_WAIT]}; /* the labelled waits: who waits (corrlock.h) */
  if (!corrlock_find(c->in->windows, c->in->nwindows, type, &c->set[SET_CPU], c->in->intervals, &r)) return 0;
  json_t *f = finding("lock", r.request, r.fn, r.share, r.base);
  finish(f, "holder_contentions", r.x, "all_contentions", r.ncont, r.p_value, r.path, type,
         corrrank_score(CORRELATE_RANK_LOCK, r.share, r.p_value) - r.minor * CORRELATE_WEAK_DROP, r.evidence);
  corrdemote_lock(&c->bg, f, type);
  json_array_append_new(c->out, f);
  corrlock_effects(c->out, f, &r);
  return 1;
}

/* ---------- driver ---------- */

int correlate_findings(const correlate_input *in, json_t **out) {
  ctx c = {.in = in, .out = json_array(), .bg = {.in = in}};
  int rc = -ENOMEM;
  *out = NULL;
  for (int k = 0; k < SET_COUNT; k++) corrstack_init(&c.set[k]);
  if (!c.out || corrjoin_create(in->exemplars, in->intervals, &c.join) < 0 || load(&c) < 0) goto done;
  c.bg.join = c.join;
  method_window(&c);
  corrdemote_collect(&c.bg);
  for (int set = 0; set < SET_COUNT; set++) {
    method_tail(&c, set);
    method_endpoint(&c, set);
  }
  if (corrhand_find(&c.set[SET_WAIT], c.cls[SET_WAIT], c.wait_profile, c.out) < 0) goto done;
  corrdemote_requests(&c.bg, c.out);
  corrwin_drop_covered(c.out, c.req_win);
  if (!method_lock(&c, "mutex")) method_lock(&c, "block");
  corrrank_weigh_tails(c.out, in->intervals);
  if ((*out = corrrank_rank(c.out))) rc = 0;
done:
  for (int k = 0; k < SET_COUNT; k++) {
    corrstack_free(&c.set[k]);
    free(c.cls[k]);
  }
  corrjoin_free(c.join);
  json_decref(c.out);
  corrdemote_free(&c.bg);
  return rc;
}

int correlate_run(const char *run_dir, json_t **out, char *err, size_t errlen) {
  char pdir[4096], e[256];
  source_window *sw = NULL;
  size_t nsw = 0, nw = 0;
  int rc;
  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  json_t *iv = corrjoin_read_jsonl(run_dir, RUNDIR_INTERVALS),
         *ex = corrjoin_read_jsonl(run_dir, RUNDIR_EXEMPLARS);
  if (source_read_index(pdir, &sw, &nsw) < 0) nsw = 0;
  correlate_window *cw = calloc(nsw ? nsw : 1, sizeof *cw);
  pprof_profile **profs = calloc(nsw ? nsw : 1, sizeof *profs);
  if (!cw || !profs) {
    rc = -ENOMEM;
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < nsw; i++) {
    if (strcmp(sw[i].status, "ok") != 0 || source_load_window(pdir, &sw[i], &profs[nw], e, sizeof e) < 0)
      continue;
    cw[nw] = (correlate_window){sw[i].start_ms, sw[i].end_ms, sw[i].type, profs[nw]};
    nw++;
  }
  correlate_input in = {cw, nw, iv, ex};
  rc = correlate_findings(&in, out);
  if (rc < 0) snprintf(err, errlen, "correlation: %s", strerror(-rc));
out:
  for (size_t i = 0; i < nw; i++) pprof_free(profs[i]);
  free(profs);
  free(cw);
  free(sw);
  json_decref(iv);
  json_decref(ex);
  return rc;
}

int correlate_attach(const char *run_dir, json_t **findings, char *err, size_t errlen) {
  json_t *fs = NULL;
  if (findings) *findings = NULL;
  int rc = correlate_run(run_dir, &fs, err, errlen);
  if (rc < 0) return rc;
  int n = (int)json_array_size(fs);
  if (findings)
    *findings = fs;
  else
    json_decref(fs);
  rc = flame_write_section(run_dir);
  if (rc < 0) {
    snprintf(err, errlen, "profile section of %s: %s", run_dir, strerror(-rc));
    return rc;
  }
  rc = export_run(run_dir, err, errlen);
  return rc < 0 ? rc : n;
}
