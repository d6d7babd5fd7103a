/* profile_burn.c - a native CPU burner with known shares for the perf command-source tests:
 * burn_hot gets 3 units of work for every 1 of burn_cold (75 % / 25 % of samples), for argv[1] seconds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;

static uint64_t spin(uint64_t x, long rounds) {
  for (long i = 0; i < rounds; i++) {
    x ^= x >> 29;
    x *= 0xff51afd7ed558ccdULL;
  }
  return x;
}

__attribute__((noinline)) static void burn_hot(void) {
  sink += spin(sink + 1, 3 * 200000);
}
__attribute__((noinline)) static void burn_cold(void) {
  sink += spin(sink + 2, 200000);
}

__attribute__((noinline)) static void run_loop(double seconds) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do {
    burn_hot();
    burn_cold();
    clock_gettime(CLOCK_MONOTONIC, &t);
  } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? strtod(argv[1], NULL) : 5.0;
  if (seconds <= 0 || seconds > 600) {
    fprintf(stderr, "usage: profile_burn SECONDS (0 < SECONDS <= 600)\n");
    return 1;
  }
  run_loop(seconds);
  printf("%llu\n", (unsigned long long)(sink & 1));
  return 0;
}
