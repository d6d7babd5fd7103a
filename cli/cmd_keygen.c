/* cmd_keygen.c - `loadctl keygen FILE`: a fresh 32-byte pre-shared key, hex, in a file of mode 0600. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/transport.h"

static const char help_text[] =
    "usage: loadctl keygen FILE\n"
    "\n"
    "Write a new random pre-shared key (32 bytes, hex) to FILE with mode 0600; an existing file is never\n"
    "overwritten. Give the same file to the master and every worker with --key-file FILE (or put its\n"
    "contents in LOADCTL_KEY). Every master/worker message is then sealed and authenticated with it.\n"
    "\n"
    "flags:\n"
    "  -h, --help              this text\n";

int cmd_keygen(int argc, char **argv) {
  char err[1024];
  const char *path = NULL;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help_text, stdout);
      return 0;
    }
    if (argv[i][0] == '-') return cmd_usage_error(argv[0], "unknown flag '%s'", argv[i]);
    if (path) return cmd_usage_error(argv[0], "unexpected argument '%s'", argv[i]);
    path = argv[i];
  }
  if (!path) return cmd_usage_error(argv[0], "missing FILE");
  if (transport_key_generate(path, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl keygen: %s\n", err);
    return EXIT_RUNTIME;
  }
  printf("wrote a new key to %s (mode 0600)\n", path);
  return 0;
}
