/* testspawn.h - tests/targets/testserver run by a unit suite as a child process: found in $LOADCTL_BUILD or
 * next to the test binary, on a free port (--port 0; its "PORT n" line read back), bounded in time
 * (--duration-s), with extra arguments (its TLS mode); stopped with SIGTERM and reaped. Test-only code
 * (CMakeLists.txt: loadctl_testsupport). */
#ifndef LOADCTL_TESTSPAWN_H
#define LOADCTL_TESTSPAWN_H

#include <sys/types.h>

typedef struct testspawn {
  pid_t pid; /* 0 when not running */
  int port;
} testspawn;

/* Start testserver --port 0 --duration-s duration_s followed by the NULL-terminated extra arguments (at most
 * 8). 0 when it runs and told its port; -1, naming the binary on stderr, when it is not there or did not
 * start. */
__attribute__((sentinel)) int testspawn_start(testspawn *ts, int duration_s, ...);

/* SIGTERM the server and reap it; nothing when it is not running. */
void testspawn_stop(testspawn *ts);

#endif
