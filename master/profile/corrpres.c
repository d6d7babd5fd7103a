/* corrpres.c - per-request presence of a frame, and the move down to the call site of library work (see
 * corrpres.h; the constants are in correlate.h). */
#include "master/profile/corrpres.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrdesc.h"
#include "master/profile/correlate.h"
#include "master/profile/corrjoin.h"

/* One source of a request's samples: a set, its mask, and fn's and x's ids in it (-1: not in it). */
typedef struct pres_src {
  const corrstack *cs;
  const unsigned char *m;
  int64_t fn, x;
} pres_src;

/* The requests of src's masked samples: *n those holding fn (any == 1: all), *k of them those holding x. A
 * request is its span id, else its trace id (a trace may be a whole iteration of several requests), else the
 * sample alone; its samples in every source count together. 0 or -ENOMEM. */
static int tally(const pres_src *src, size_t nsrc, int any, double *n, double *k) {
  json_t *seen = json_object();
  size_t tot = 0, nreq = 0;
  for (size_t j = 0; j < nsrc; j++) tot += src[j].m ? src[j].cs->n : 0;
  unsigned char *flag = calloc(tot ? tot : 1, 1);
  *n = *k = 0;
  if (!seen || !flag) {
    json_decref(seen);
    free(flag);
    return -ENOMEM;
  }
  for (size_t j = 0; j < nsrc; j++)
    for (size_t i = 0; src[j].m && i < src[j].cs->n; i++) {
      const corr_sample *c = &src[j].cs->s[i];
      const char *id = c->span_id && *c->span_id ? c->span_id : c->trace_id;
      if (!src[j].m[i]) continue;
      json_t *at = id ? json_object_get(seen, id) : NULL;
      size_t r = at ? (size_t)json_integer_value(at) : nreq++;
      if (id && !at) json_object_set_new(seen, id, json_integer((json_int_t)r));
      int hf = any || (src[j].fn >= 0 && corrstack_holds(c, src[j].fn));
      flag[r] |= (unsigned char)(hf | (src[j].x >= 0 && corrstack_holds(c, src[j].x)) << 1);
    }
  for (size_t r = 0; r < nreq; r++) {
    *n += flag[r] & 1;
    *k += (flag[r] & 3) == 3;
  }
  json_decref(seen);
  free(flag);
  return 0;
}

/* The samples of o->more of the populations a and b stand for (class and request name as theirs; b: a's
 * name's typical requests, or every name's when o->skip_chain), into ma and mb (NULL: no such source). */
static void more_masks(const corrstack *cs, const unsigned char *a, const corr_opts *o, unsigned char *ma,
                       unsigned char *mb) {
  const char *name = NULL;
  for (size_t i = 0; !name && i < cs->n; i++) name = a[i] ? cs->s[i].name : NULL;
  for (size_t i = 0; ma && mb && i < o->more->n; i++) {
    const char *sn = o->more->s[i].name;
    int same = name && sn ? strcmp(name, sn) == 0 : name == sn;
    ma[i] = o->more_cls[i] == CORRJOIN_SLOW && same;
    mb[i] = o->more_cls[i] == CORRJOIN_TYPICAL && (same || o->skip_chain);
  }
}

/* log of n choose k */
static double lchoose(double n, double k) {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

double corrpres_fisher(double k1, double n1, double k2, double n2) {
  if (n1 <= 0 || n2 <= 0) return 1;
  double tot = n1 + n2, hold = k1 + k2, p = 0;
  for (double j = k1; j <= hold && j <= n1; j++)
    if (hold - j <= n2) p += exp(lchoose(hold, j) + lchoose(tot - hold, n1 - j) - lchoose(tot, n1));
  return p < 1 ? p : 1;
}

int corrpres_count(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                   int64_t fn, int64_t x, corr_presence *out) {
  int more = CORRELATE_PRESENCE_POOL && o && o->more && o->more_cls && o->more->n, rc = -ENOMEM;
  unsigned char *ma = more ? calloc(o->more->n, 1) : NULL, *mb = more ? calloc(o->more->n, 1) : NULL;
  int64_t fo = more && fn >= 0 ? corrstack_id(o->more, cs->names[fn]) : -1;
  int64_t xo = more && x >= 0 ? corrstack_id(o->more, cs->names[x]) : -1;
  pres_src sa[2] = {{cs, a, fn, x}, {more ? o->more : cs, ma, fo, xo}},
           sb[2] = {{cs, b, -1, x}, {more ? o->more : cs, mb, -1, xo}};
  out->p = 1;
  if (more && (!ma || !mb)) goto done;
  if (more) more_masks(cs, a, o, ma, mb);
  if (tally(sa, 2, 0, &out->n1, &out->k1) < 0 || tally(sb, 2, 1, &out->n2, &out->k2) < 0) goto done;
  out->p = corrpres_fisher(out->k1, out->n1, out->k2, out->n2);
  rc = 0;
done:
  free(ma);
  free(mb);
  return rc;
}

int corrpres_separates(const corrstack *cs, const unsigned char *a, const unsigned char *b,
                       const corr_opts *o, int64_t fn, int64_t x, corr_presence *out) {
  corr_presence c;
  if (corrpres_count(cs, a, b, o, fn, x, &c) < 0 || c.n1 <= 0 || c.n2 <= 0) return 0;
  if (out) *out = c;
  double s1 = c.k1 / c.n1, s2 = c.k2 / c.n2;
  return s1 >= CORRELATE_MIN_RATIO * s2 && s2 < CORRELATE_KNOWN_SHARE && c.p < CORRELATE_ALPHA;
}

/* The value of a's samples holding x whose frame right below x (its innermost occurrence) is library code:
 * x's time handed to a library (or the runtime) it calls. */
static double to_library(const corrstack *cs, const unsigned char *a, int64_t x) {
  double v = 0;
  for (size_t i = 0; i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    for (size_t k = 0; a[i] && k < c->nstack; k++)
      if ((int64_t)c->stack[k] == x) {
        v += k > 0 && corrstack_plumbing(cs, c->stack[k - 1]) ? c->value : 0;
        break;
      }
  }
  return v;
}

int64_t corrpres_down(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                      const double *ia, const double *ib, double scale, int64_t fn, corr_presence *out) {
  json_t *path = fn >= 0 ? corrstack_path(cs, fn, a) : NULL;
  size_t at = 0, n = json_array_size(path);
  int64_t cur = fn, site = fn;
  corr_presence c;
  while (at < n && corrstack_id(cs, json_string_value(json_array_get(path, at))) != fn) at++;
  for (int lib = 0; at + 1 < n; at++) {
    int64_t down = corrstack_id(cs, json_string_value(json_array_get(path, at + 1)));
    double ex = ia[cur] - scale * ib[cur], exd = down >= 0 ? ia[down] - scale * ib[down] : 0;
    if (CORRELATE_CALLBACK && ex > 0 && corrstack_plumbing(cs, down)) { /* through library code */
      lib = 1;
      continue;
    }
    if (!corrdesc_own(cs, a, down) || ex <= 0 || exd < CORRELATE_CALL_SITE * ex ||
        !corrpres_separates(cs, a, b, o, fn, down, &c))
      break;
    cur = down;
    /* a call site of library work, or the service's own code the library calls back (a template function,
     * a comparator, a decoder hook) holding the excess */
    if (lib || to_library(cs, a, cur) >= CORRELATE_CALL_SITE * ia[cur]) {
      site = cur;
      if (out) *out = c;
    }
    lib = 0;
  }
  json_decref(path);
  return site;
}

int corrpres_rare(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                  int64_t fn) {
  const char *name = NULL;
  for (size_t i = 0; !name && i < cs->n; i++) name = a[i] ? cs->s[i].name : NULL;
  unsigned char *same = name ? calloc(cs->n ? cs->n : 1, 1) : NULL;
  corr_opts own = o ? *o : (corr_opts){0};
  corr_presence c;
  own.skip_chain = 0;
  for (size_t i = 0; same && i < cs->n; i++)
    same[i] = b[i] && cs->s[i].name && strcmp(cs->s[i].name, name) == 0;
  int ok = same && corrpres_separates(cs, a, same, &own, fn, fn, &c);
  free(same);
  return ok;
}
