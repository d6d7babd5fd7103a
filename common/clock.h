/* clock.h - monotonic and wall time in nanoseconds, and the duration/percentage strings scenarios use. */
#ifndef LOADCTL_CLOCK_H
#define LOADCTL_CLOCK_H

#include <stdint.h>

/* The one set of unit conversions: use these instead of writing 1000000 inline. */
#define CLOCK_NS_PER_US INT64_C(1000)
#define CLOCK_NS_PER_MS INT64_C(1000000)
#define CLOCK_NS_PER_S INT64_C(1000000000)
#define CLOCK_MS_PER_S INT64_C(1000)
#define CLOCK_US_PER_MS INT64_C(1000)
#define CLOCK_US_PER_S INT64_C(1000000)

/* Whole milliseconds in ns (truncated toward zero), and back. */
static inline int64_t clock_ns_to_ms(int64_t ns) {
  return ns / CLOCK_NS_PER_MS;
}
static inline int64_t clock_ms_to_ns(int64_t ms) {
  return ms * CLOCK_NS_PER_MS;
}
/* Rounded up to whole milliseconds (for ns >= 0): a timer that must not fire before ns have passed. */
static inline int64_t clock_ns_to_ms_ceil(int64_t ns) {
  return (ns + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS;
}
/* Whole microseconds in ns (truncated toward zero; what histograms record), and back. */
static inline int64_t clock_ns_to_us(int64_t ns) {
  return ns / CLOCK_NS_PER_US;
}
static inline int64_t clock_us_to_ns(int64_t us) {
  return us * CLOCK_NS_PER_US;
}
/* Whole seconds in ns (truncated toward zero), e.g. the wall clock's Unix seconds. */
static inline int64_t clock_ns_to_whole_s(int64_t ns) {
  return ns / CLOCK_NS_PER_S;
}
/* Nanoseconds (a count or a sum of them) as (fractional) milliseconds: what scenarios and reports show. */
static inline double clock_ns_to_ms_frac(double ns) {
  return (double)ns / (double)CLOCK_NS_PER_MS;
}
/* Histogram microseconds as (fractional) seconds; (fractional) milliseconds as microseconds. */
static inline double clock_us_to_s(double us) {
  return us / (double)CLOCK_US_PER_S;
}
static inline double clock_ms_to_us(double ms) {
  return ms * (double)CLOCK_US_PER_MS;
}
/* (Fractional) seconds as (fractional) milliseconds. */
static inline double clock_s_to_ms(double s) {
  return s * (double)CLOCK_MS_PER_S;
}
/* Histogram microseconds as (fractional) milliseconds; milliseconds as (fractional) seconds. */
static inline double clock_us_to_ms(double us) {
  return us / (double)CLOCK_US_PER_MS;
}
static inline double clock_ms_to_s(double ms) {
  return ms / (double)CLOCK_MS_PER_S;
}
/* Seconds (fractional) to ns and back, for durations a person sets or reads. */
static inline int64_t clock_s_to_ns(double s) {
  return (int64_t)(s * (double)CLOCK_NS_PER_S);
}
static inline double clock_ns_to_s(int64_t ns) {
  return (double)ns / (double)CLOCK_NS_PER_S;
}

/* CLOCK_MONOTONIC in ns; never goes backwards; the only clock latency is measured with. */
int64_t clock_mono_ns(void);

/* CLOCK_REALTIME in ns since the Unix epoch; for timestamps that leave the process. */
int64_t clock_wall_ns(void);

/* Parse "250ms", "1m30s", "2h", "1.5s", "500us", "10" (seconds) into nanoseconds.
 * Units: ns us ms s m h d. Returns 0, or -EINVAL for empty, negative, unknown unit or overflow. */
int clock_parse_duration(const char *text, int64_t *out_ns);

/* Parse "1%", "0.5 %", "0.01" (a fraction) into a fraction in [0, 1]; -EINVAL otherwise. */
int clock_parse_fraction(const char *text, double *out);

/* Format wall ms (since the Unix epoch) as the UTC time stamp of run directories, "2026-11-24T21-30-00Z",
 * into buf (24 bytes hold it; "" when it does not fit or the time is out of range). */
void clock_format_wall(int64_t wall_ms, char *buf, unsigned long size);

/* Format ns as a short human duration ("1m30s", "250ms", "1.2us") into buf; returns buf. */
char *clock_format_duration(int64_t ns, char *buf, unsigned long size);

#endif
