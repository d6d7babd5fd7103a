/* cmd_keygen.c - `loadctl keygen`: not built yet; says so instead of pretending. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

int cmd_keygen(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: loadctl keygen ...\n\n(not built yet)\n");
    return 0;
  }
  fprintf(stderr, "loadctl keygen: not built yet in this version\n");
  return EXIT_RUNTIME;
}
