/* correlate_tool.c - `correlate_tool [--findings] RUN_DIR`: runs the profile side's end-of-run step
 * (correlate_attach: findings, profile section, exports) on a run directory and prints the findings as JSON,
 * for the integration tests and for trying correlation on a saved run. --findings: the findings only (no
 * section, no exports, one correlation instead of two; bench/accuracy --rescore scores nothing else). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"

int main(int argc, char **argv) {
  char err[512] = "";
  json_t *findings = NULL;
  int only = argc == 3 && strcmp(argv[1], "--findings") == 0;
  if (argc != 2 + only) {
    fprintf(stderr, "usage: correlate_tool [--findings] RUN_DIR\n");
    return 2;
  }
  const char *dir = argv[1 + only];
  int rc = correlate_run(dir, &findings, err, sizeof err);
  if (rc < 0) {
    fprintf(stderr, "correlate_tool: %s\n", err);
    return 1;
  }
  json_dumpf(findings, stdout, JSON_INDENT(1));
  putchar('\n');
  json_decref(findings);
  if (only) return 0;
  rc = correlate_attach(dir, NULL, err, sizeof err); /* section and exports, as the master writes */
  if (rc < 0) {
    fprintf(stderr, "correlate_tool: %s\n", err);
    return 1;
  }
  return 0;
}
