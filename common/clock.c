/* clock.c - time sources and the parsers for durations ("1m30s") and fractions ("1%") in scenario options. */
#include "common/clock.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t clock_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * CLOCK_NS_PER_S + ts.tv_nsec;
}

int64_t clock_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * CLOCK_NS_PER_S + ts.tv_nsec;
}

/* Nanoseconds per unit for the suffix at *p (advancing p), or 0 if unknown. */
static double unit_ns(const char **p) {
  static const struct {
    const char *name;
    double ns;
  } units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    size_t len = strlen(units[i].name);
    if (strncmp(*p, units[i].name, len) == 0 && !isalpha((unsigned char)(*p)[len])) {
      *p += len;
      return units[i].ns;
    }
  }
  return 0;
}

/* Parse a plain decimal number ("12", "1.5", ".5") at *p: digits and at most one dot, no sign,
 * no exponent, no hex. Advances *p. Returns 0 or -EINVAL. */
static int parse_decimal(const char **p, double *out) {
  const char *start = *p;
  char buf[64];
  size_t len = 0;
  int dots = 0, digits = 0;

  while (isdigit((unsigned char)start[len]) || start[len] == '.') {
    if (start[len] == '.')
      dots++;
    else
      digits++;
    if (++len >= sizeof buf) return -EINVAL;
  }
  if (digits == 0 || dots > 1) return -EINVAL;
  memcpy(buf, start, len);
  buf[len] = '\0';
  *out = strtod(buf, NULL);
  *p = start + len;
  return isfinite(*out) ? 0 : -EINVAL;
}

int clock_parse_duration(const char *text, int64_t *out_ns) {
  const char *p = text;
  double total = 0, last_unit = 1e30;
  int parts = 0;

  if (!text || !out_ns) return -EINVAL;
  while (isspace((unsigned char)*p)) p++;
  while (*p && !isspace((unsigned char)*p)) {
    double value, scale = 1e9;
    if (parse_decimal(&p, &value) != 0) return -EINVAL;
    if (isalpha((unsigned char)*p)) {
      scale = unit_ns(&p);
      if (scale == 0) return -EINVAL;
    } else if (parts > 0) {
      return -EINVAL; /* "1m30" is ambiguous */
    }
    if (scale >= last_unit) return -EINVAL; /* units repeat or go up: "1s1s", "30s1m" */
    last_unit = scale;
    total += value * scale;
    parts++;
  }
  while (isspace((unsigned char)*p)) p++;
  if (*p || parts == 0 || total > 9.2e18) return -EINVAL;
  *out_ns = (int64_t)llround(total);
  return 0;
}

int clock_parse_fraction(const char *text, double *out) {
  char *end;
  double value;

  if (!text || !out) return -EINVAL;
  end = (char *)text;
  while (isspace((unsigned char)*end)) end++;
  if (parse_decimal((const char **)&end, &value) != 0) return -EINVAL;
  while (isspace((unsigned char)*end)) end++;
  if (*end == '%') {
    value /= 100.0;
    end++;
  }
  while (isspace((unsigned char)*end)) end++;
  if (*end || value > 1.0) return -EINVAL;
  *out = value;
  return 0;
}

char *clock_format_duration(int64_t ns, char *buf, unsigned long size) {
  if (ns < 0) ns = 0;
  if (ns >= 999500000LL && ns < 1000000000LL) ns = 1000000000LL; /* would print "1e+03ms" */
  if (ns >= 999500LL && ns < 1000000LL) ns = 1000000LL;
  if (ns >= 60000000000LL) {
    int64_t s = ns / CLOCK_NS_PER_S;
    if (s >= 3600)
      snprintf(buf, size, "%lldh%02lldm%02llds", (long long)(s / 3600), (long long)(s / 60 % 60),
               (long long)(s % 60));
    else
      snprintf(buf, size, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  } else if (ns >= 1000000000LL) {
    snprintf(buf, size, "%.3gs", (double)ns / 1e9);
  } else if (ns >= 1000000LL) {
    snprintf(buf, size, "%.3gms", (double)ns / 1e6);
  } else {
    snprintf(buf, size, "%.3gus", (double)ns / 1e3);
  }
  return buf;
}

void clock_format_wall(int64_t wall_ms, char *buf, unsigned long size) {
  time_t secs = (time_t)(wall_ms / CLOCK_MS_PER_S);
  struct tm tm;

  if (size == 0) return;
  buf[0] = 0;
  if (!gmtime_r(&secs, &tm) || strftime(buf, size, "%Y-%m-%dT%H-%M-%SZ", &tm) == 0) buf[0] = 0;
}
