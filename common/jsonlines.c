/* jsonlines.c - the one JSON-lines reader and its torn-line policy (see jsonlines.h). */
#include "common/jsonlines.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>

struct jsonlines {
  FILE *f;
  char *line;
  size_t cap;
  long lineno;
  int skipped;
  jsonlines_skip_fn on_skip;
  void *ctx;
};

int jsonlines_open(const char *path, jsonlines_skip_fn on_skip, void *ctx, jsonlines **out) {
  jsonlines *j = calloc(1, sizeof *j);

  if (!j) return -ENOMEM;
  if (!(j->f = fopen(path, "r"))) {
    int rc = -errno;
    free(j);
    return rc;
  }
  j->on_skip = on_skip;
  j->ctx = ctx;
  *out = j;
  return 0;
}

static void skip(jsonlines *j, const char *why) {
  j->skipped++;
  if (j->on_skip) j->on_skip(j->ctx, j->lineno, why);
}

json_t *jsonlines_next(jsonlines *j) {
  ssize_t n;

  while ((n = getline(&j->line, &j->cap, j->f)) >= 0) {
    json_t *o;
    j->lineno++;
    if (n == 0 || j->line[0] == '\n') continue;
    if (j->line[n - 1] != '\n') {
      skip(j, "torn");
      continue;
    }
    o = json_loads(j->line, 0, NULL);
    if (json_is_object(o)) return o;
    json_decref(o);
    skip(j, "bad");
  }
  return NULL;
}

long jsonlines_lineno(const jsonlines *j) {
  return j->lineno;
}

int jsonlines_skipped(const jsonlines *j) {
  return j->skipped;
}

void jsonlines_close(jsonlines *j) {
  if (!j) return;
  fclose(j->f);
  free(j->line);
  free(j);
}

json_t *jsonlines_read_all(const char *dir, const char *name, int *skipped) {
  char path[4096];
  jsonlines *j;
  json_t *a, *o;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (jsonlines_open(path, NULL, NULL, &j) < 0) return NULL;
  a = json_array();
  while (a && (o = jsonlines_next(j))) {
    if (json_array_append_new(a, o) < 0) {
      json_decref(a);
      a = NULL;
    }
  }
  if (skipped) *skipped = jsonlines_skipped(j);
  jsonlines_close(j);
  return a;
}
