/* log.c - stderr logging with a level threshold, one write(2) per line so threads do not interleave. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/secret.h"

int log_threshold = LOG_INFO;
int log_scenario_threshold = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_set_level(const char *name) {
  for (int i = 0; i < 4; i++) {
    if (name && strcmp(name, level_names[i]) == 0) {
      log_threshold = log_scenario_threshold = i;
      return 0;
    }
  }
  return -EINVAL;
}

void log_write(int level, const char *where, const char *fmt, ...) {
  char line[2048];
  const char *base = strrchr(where, '/');
  int used;
  va_list ap;

  if (level < 0 || level > LOG_DEBUG) level = LOG_ERROR;
  used = snprintf(line, sizeof line, "loadctl[%s] %s: ", level_names[level], base ? base + 1 : where);
  if (used < 0) return;
  va_start(ap, fmt);
  vsnprintf(line + used, sizeof line - (size_t)used, fmt, ap);
  va_end(ap);
  secret_scrub(line);
  used = (int)strlen(line);
  if (used < (int)sizeof line - 1)
    line[used++] = '\n';
  else
    line[sizeof line - 2] = '\n', used = (int)sizeof line - 1;
  (void)!write(STDERR_FILENO, line, (size_t)used);
}

int log_fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}
