/* testspawn.c - tests/targets/testserver as a unit suite's child process (testspawn.h). */
#include "tests/support/testspawn.h"

#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The testserver binary: $LOADCTL_BUILD/testserver, else the one beside this process's executable. */
static int binary_path(char *path, size_t size) {
  const char *build = getenv("LOADCTL_BUILD");
  char exe[PATH_MAX];
  if (build && *build) return snprintf(path, size, "%s/testserver", build) < (int)size ? 0 : -1;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return -1;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return -1;
  *slash = '\0';
  return snprintf(path, size, "%s/testserver", exe) < (int)size ? 0 : -1;
}

int testspawn_start(testspawn *ts, int duration_s, ...) {
  enum { MAX_EXTRA = 8 };
  char path[PATH_MAX + 16], duration[16];
  const char *argv[6 + MAX_EXTRA + 1] = {"testserver", "--port", "0", "--duration-s", duration};
  int argc = 5, fds[2];
  va_list ap;

  ts->pid = 0;
  ts->port = 0;
  snprintf(duration, sizeof duration, "%d", duration_s);
  va_start(ap, duration_s);
  for (const char *a; (a = va_arg(ap, const char *)) && argc < 5 + MAX_EXTRA;) argv[argc++] = a;
  va_end(ap);
  argv[argc] = NULL;
  if (binary_path(path, sizeof path) != 0 || access(path, X_OK) != 0 || pipe(fds) != 0) {
    fprintf(stderr, "testspawn: no testserver to run (%s)\n", path);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execv(path, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  int ok = pid > 0 && f && fscanf(f, "PORT %d", &ts->port) == 1;
  if (f) fclose(f);
  if (pid > 0) ts->pid = pid;
  if (!ok) {
    fprintf(stderr, "testspawn: %s did not report its port\n", path);
    testspawn_stop(ts);
    return -1;
  }
  return 0;
}

void testspawn_stop(testspawn *ts) {
  if (ts->pid <= 0) return;
  kill(ts->pid, SIGTERM);
  waitpid(ts->pid, NULL, 0);
  ts->pid = 0;
}
