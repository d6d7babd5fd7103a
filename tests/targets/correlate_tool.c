/* correlate_tool.c - `correlate_tool RUN_DIR`: runs the profile side's end-of-run step (correlate_attach:
 * findings, profile section, exports) on a run directory and prints the findings as JSON, for the
 * integration tests and for trying correlation on a saved run. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "master/profile/correlate.h"

int main(int argc, char **argv) {
  char err[512] = "";
  json_t *findings = NULL;
  if (argc != 2) {
    fprintf(stderr, "usage: correlate_tool RUN_DIR\n");
    return 2;
  }
  int rc = correlate_run(argv[1], &findings, err, sizeof err);
  if (rc < 0) {
    fprintf(stderr, "correlate_tool: %s\n", err);
    return 1;
  }
  json_dumpf(findings, stdout, JSON_INDENT(1));
  putchar('\n');
  json_decref(findings);
  rc = correlate_attach(argv[1], NULL, err, sizeof err); /* section and exports, as the master writes */
  if (rc < 0) {
    fprintf(stderr, "correlate_tool: %s\n", err);
    return 1;
  }
  return 0;
}
