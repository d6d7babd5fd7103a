/* trace.c - ids for traceparent (trace per iteration, span per request) and the baggage header. */
#include "worker/trace.h"

#include <stdio.h>
#include <string.h>

uint64_t trace_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static void hex64(uint64_t v, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--, v >>= 4) out[i] = digits[v & 15];
}

void trace_new_trace_id(uint64_t *rng, char out[33]) {
  uint64_t hi = trace_rand(rng), lo = trace_rand(rng);
  if ((hi | lo) == 0) lo = 1;
  hex64(hi, out);
  hex64(lo, out + 16);
  out[32] = '\0';
}

void trace_new_span_id(uint64_t *rng, char out[17]) {
  uint64_t v = trace_rand(rng);
  hex64(v ? v : 1, out);
  out[16] = '\0';
}

void trace_traceparent(const char *trace_id, const char *span_id, char out[56]) {
  memcpy(out, "00-", 3);
  memcpy(out + 3, trace_id, 32);
  out[35] = '-';
  memcpy(out + 36, span_id, 16);
  memcpy(out + 52, "-01", 4);
}

/* Append key=percent-encoded(value) to out at *pos. */
static int put(char *out, size_t size, size_t *pos, const char *key, const char *value) {
  static const char hex[] = "0123456789ABCDEF";
  size_t klen = strlen(key);
  if (*pos + klen + 2 >= size) return -1;
  if (*pos) out[(*pos)++] = ',';
  memcpy(out + *pos, key, klen);
  *pos += klen;
  out[(*pos)++] = '=';
  for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
    int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '-' || *p == '.' || *p == '_' || *p == '~';
    if (*pos + 4 >= size) return -1;
    if (plain) {
      out[(*pos)++] = (char)*p;
    } else {
      out[(*pos)++] = '%';
      out[(*pos)++] = hex[*p >> 4];
      out[(*pos)++] = hex[*p & 15];
    }
  }
  out[*pos] = '\0';
  return 0;
}

int trace_baggage(char *out, size_t size, const char *run_id, const char *scenario, const char *name) {
  size_t pos = 0;
  if (size == 0) return -1;
  out[0] = '\0';
  if (put(out, size, &pos, "loadctl.run", run_id) || put(out, size, &pos, "loadctl.scenario", scenario) ||
      put(out, size, &pos, "loadctl.name", name) || put(out, size, &pos, "k6.test_run_id", run_id) ||
      put(out, size, &pos, "k6.scenario", scenario) || put(out, size, &pos, "k6.name", name))
    return -1;
  return (int)pos;
}
