/* lobby.h - `loadctl master --web` between runs: the workers stay connected (they serve run after run), the
 * live page stays up on the same address showing the last run, and a person starts the next run from it
 * (POST /api/next with users or rate and a duration), locust's flow. */
#ifndef LOADCTL_LOBBY_H
#define LOADCTL_LOBBY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lobby_next {
  double target; /* users (closed model) or iterations/s (open model) */
  bool is_rate;
  int64_t duration_ns; /* 0 = the scenario's */
} lobby_next;

/* Serve the page on listen ("HOST:PORT", a fixed port: see lobby_fix_port) with the last run (its run
 * directory last_dir) until the page asks for the next run (0, *next filled) or SIGINT/SIGTERM (-EINTR).
 * Other negative errno with the message in err when the address cannot be served. */
int lobby_wait(const char *listen, const char *token, const char *last_dir, lobby_next *next, char *err,
               size_t errlen);

/* listen with port 0 replaced by a free port (the page must find every run at the same address).
 * 0, or -EINVAL for a bad address. */
int lobby_fix_port(const char *listen, char *out, size_t outlen);

#endif
