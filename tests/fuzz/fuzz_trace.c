/* fuzz_trace.c - libFuzzer harness (LOADCTL_FUZZ=ON) for request labels both ways: the worker writes W3C
 * baggage (trace_baggage, percent-encoding) and traceparent (trace_traceparent); the correlation reads
 * them back from profile labels (corrjoin_decode, corrjoin_request, corrjoin_ids). Input: NUL-separated
 * run id, scenario, request name, a raw traceparent label, a raw label value. Invariants: the baggage is
 * six key=value members of unreserved bytes and %XX whose values decode back to the inputs; a cut decode
 * is a prefix of the whole one; decoding never lengthens; corrjoin_request gives the decoded name (invalid
 * UTF-8 bytes as '?'); corrjoin_ids gives back the ids of a traceparent trace_traceparent wrote, and never
 * ids longer than 32/16 from any label. Seeds: corpus/trace/. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrjoin.h"
#include "master/profile/pprof.h"
#include "worker/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPART 5

static void check_decode(const char *src) {
  size_t n = strlen(src);
  char *whole = malloc(n + 1), cut[8];
  if (!whole) return;
  corrjoin_decode(src, whole, n + 1);
  if (strlen(whole) > n) abort();
  corrjoin_decode(src, cut, sizeof cut); /* a short buffer: NUL-terminated prefix of the whole decode */
  if (strlen(cut) >= sizeof cut || strncmp(cut, whole, strlen(cut)) != 0) abort();
  if (!strchr(src, '%') && strcmp(whole, src) != 0) abort();
  free(whole);
}

/* Each member's value of out decodes back to want[i] (keys in trace_baggage's order). */
static void check_baggage(const char *out, const char *const want[3]) {
  static const char *const keys[] = {"loadctl.run",    "loadctl.scenario", "loadctl.name",
                                     "k6.test_run_id", "k6.scenario",      "k6.name"};
  char *copy = strdup(out), *save = NULL, *m;
  size_t i = 0;
  if (!copy) return;
  for (const char *p = out; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%,=", *p)) abort();
  for (m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save), i++) {
    char *eq = strchr(m, '='), dec[4096];
    if (i >= 6 || !eq) abort();
    *eq = '\0';
    if (strcmp(m, keys[i]) != 0) abort();
    corrjoin_decode(eq + 1, dec, sizeof dec);
    if (strcmp(dec, want[i % 3]) != 0) abort();
  }
  /* an empty value leaves "key=" members; strtok never drops them, so all six are there */
  if (i != 6) abort();
  free(copy);
}

static void check_labels(const char *tp_raw, const char *value, const char *trace_id, const char *span_id) {
  pprof_profile *p = pprof_create("samples", "count");
  corrjoin *j = NULL;
  char tp[56];
  int64_t one = 1;
  uint32_t stack[1];
  if (!p || corrjoin_create(NULL, NULL, &j) < 0) goto out;
  trace_traceparent(trace_id, span_id, tp);
  int64_t f = pprof_function_intern(p, "main.handler", NULL), kn = pprof_intern(p, "loadctl.name"),
          kt = pprof_intern(p, "traceparent"), vn = pprof_intern(p, value), vt = pprof_intern(p, tp),
          vr = pprof_intern(p, tp_raw);
  if (f < 0 || kn < 0 || kt < 0 || vn < 0 || vt < 0 || vr < 0) goto out;
  stack[0] = (uint32_t)f;
  pprof_label a[2] = {{.key = (uint32_t)kt, .str = (uint32_t)vt}, {.key = (uint32_t)kn, .str = (uint32_t)vn}};
  pprof_label b[1] = {{.key = (uint32_t)kt, .str = (uint32_t)vr}};
  if (pprof_add_sample(p, stack, 1, &one, a, *value ? 2 : 1) < 0 ||
      pprof_add_sample(p, stack, 1, &one, b, 1) < 0)
    goto out;
  const pprof_sample *s = &p->samples[0];
  const char *name = corrjoin_request(j, p, s), *trace, *span;
  char *dec = malloc(strlen(value) + 1);
  if (!dec) goto out;
  corrjoin_decode(value, dec, strlen(value) + 1);
  if (*value && (!name || strlen(name) != strlen(dec))) abort();
  json_t *utf8 = json_string(dec); /* NULL: not UTF-8, whose invalid bytes the name shows as '?' */
  if (*value && utf8 && strcmp(name, dec) != 0) abort();
  json_decref(utf8);
  if (!*value && name) abort();
  free(dec);
  corrjoin_ids(j, p, s, &trace, &span);
  if (!trace || !span || strcmp(trace, trace_id) != 0 || strcmp(span, span_id) != 0) abort();
  if (p->nsamples > 1) { /* the raw label: whatever it holds, ids are bounded */
    corrjoin_ids(j, p, &p->samples[1], &trace, &span);
    if ((trace && strlen(trace) > 32) || (span && strlen(span) > 16)) abort();
  }
out:
  corrjoin_free(j);
  pprof_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf, *part[NPART], out[2048];
  const char *want[3];
  size_t at = 0;
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  char trace_id[33], span_id[17];

  if (size > 4096 || !(buf = malloc(size + 1))) return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  for (int i = 0; i < NPART; i++) { /* NUL-separated parts; missing ones are "" */
    part[i] = at <= size ? buf + at : buf + size;
    at += strlen(part[i]) + 1;
  }
  for (int i = 0; i < NPART; i++) check_decode(part[i]);
  want[0] = part[0], want[1] = part[1], want[2] = part[2];
  int n = trace_baggage(out, (size_t)(size % sizeof out) + 1, want[0], want[1], want[2]);
  if (n >= 0) {
    if ((size_t)n != strlen(out)) abort();
    check_baggage(out, want);
  }
  for (size_t i = 0; i < size; i++) rng = rng * 31 + data[i] + 1;
  if (!rng) rng = 1;
  trace_new_trace_id(&rng, trace_id);
  trace_new_span_id(&rng, span_id);
  check_labels(part[3], part[4], trace_id, span_id);
  free(buf);
  return 0;
}
