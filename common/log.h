/* log.h - one level-checked logging macro for executables; libraries report by return code (and where
 * and why into a caller's buffer, log_fail). */
#ifndef LOADCTL_LOG_H
#define LOADCTL_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Current threshold; messages above it are dropped. Default LOG_INFO, or LOADCTL_LOG=debug|info|warn|error.
 */
extern int log_threshold;

/* Threshold for the scenario's own log() lines, apart from log_threshold so that `loadctl start` can
 * quiet its in-process workers' info lines and still show the scenario's. Default LOG_INFO;
 * log_set_level (--log-level, LOADCTL_LOG) sets both. */
extern int log_scenario_threshold;

/* Set the threshold from a name ("debug", "info", "warn", "error"); returns 0 or -EINVAL. */
int log_set_level(const char *name);

/* Write one line "loadctl[level] where: message" to stderr. Thread-safe (one write per line). */
void log_write(int level, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Write the message into err (errlen bytes; nothing when err is NULL or errlen 0) and return rc: the error
 * return of a parser that says where and why in its caller's buffer. */
int log_fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LOG(level, ...)                                                      \
  do {                                                                       \
    if ((level) <= log_threshold) log_write((level), __FILE__, __VA_ARGS__); \
  } while (0)

/* A scenario's log() line, at info: "loadctl[info] scenario: vu 3: message". */
#define LOG_SCENARIO(...)                                                                 \
  do {                                                                                    \
    if (LOG_INFO <= log_scenario_threshold) log_write(LOG_INFO, "scenario", __VA_ARGS__); \
  } while (0)

#endif
