/* hiccup.c - how still the machine holds a core (in the spirit of jHiccup): a busy loop reads the
 * monotonic clock for a while and reports the gaps it saw, i.e. the time the core was taken away from it
 * (other threads, kernel threads, the hypervisor). bench/run prints it next to the figures it qualifies.
 *   hiccup [seconds, default 2]   prints "hiccups: N gaps > 1 ms, N > 5 ms, max X ms over S s" */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"

int main(int argc, char **argv) {
  double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
  if (!(seconds > 0) || seconds > 600) {
    fprintf(stderr, "hiccup: seconds must be in (0, 600], got %s\n", argv[1]);
    return 2;
  }
  int64_t start = clock_mono_ns(), end = start + (int64_t)(seconds * 1e9), last = start, max_gap = 0;
  long over1 = 0, over5 = 0;
  while (last < end) {
    int64_t now = clock_mono_ns(), gap = now - last;
    last = now;
    if (gap > max_gap) max_gap = gap;
    over1 += gap > 1000000;
    over5 += gap > 5000000;
  }
  printf("hiccups: %ld gaps > 1 ms, %ld > 5 ms, max %.2f ms over %.1f s\n", over1, over5,
         (double)max_gap / 1e6, seconds);
  return 0;
}
