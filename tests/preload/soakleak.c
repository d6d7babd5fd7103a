/* soakleak.c - a leak planted for bench/soak's own test: LD_PRELOADed into one process (the soak's
 * master, when SOAK_LEAK_B_S is set), a thread of its own allocates and writes SOAKLEAK_B_S bytes a
 * second and never frees them, so tests/integration/soak_leak.sh can check that the soak's RSS fit
 * finds a leak of a known rate in a real process. Nothing in loadctl links it. Bounded: it stops after
 * SOAKLEAK_MAX_MB (default 64) megabytes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICKS_PER_S 4

typedef struct block {
  struct block *next; /* every block stays reachable: a leak by growth, as a cache that is never trimmed */
} block;

static block *leaked;

static long env_long(const char *name, long fallback) {
  const char *text = getenv(name);
  char *end;
  long value;

  if (!text || !*text) return fallback;
  value = strtol(text, &end, 10);
  return *end || value < 0 ? fallback : value;
}

/* Every 1/TICKS_PER_S s: one block of a quarter of the rate, written through (resident), never freed. */
static void *leak_loop(void *arg) {
  long bytes_per_tick = *(long *)arg / TICKS_PER_S, cap = env_long("SOAKLEAK_MAX_MB", 64) << 20, total = 0;
  struct timespec tick = {0, 1000000000L / TICKS_PER_S};

  free(arg);
  if (bytes_per_tick < (long)sizeof(block)) return NULL;
  while (total + bytes_per_tick <= cap) {
    nanosleep(&tick, NULL);
    block *b = malloc((size_t)bytes_per_tick);
    if (!b) return NULL;
    memset(b, 0x5a, (size_t)bytes_per_tick);
    b->next = leaked;
    leaked = b;
    total += bytes_per_tick;
  }
  return NULL;
}

__attribute__((constructor)) static void soakleak_start(void) {
  long *rate = malloc(sizeof *rate);
  pthread_t thread;

  if (!rate) return;
  *rate = env_long("SOAKLEAK_B_S", 0);
  if (*rate <= 0 || pthread_create(&thread, NULL, leak_loop, rate) != 0) {
    free(rate);
    return;
  }
  pthread_detach(thread);
}
