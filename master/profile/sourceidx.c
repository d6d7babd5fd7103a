/* sourceidx.c - profiles/index.jsonl read back (source.h): the windows a run's collectors recorded. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/grow.h"
#include "common/jsonlines.h"
#include "master/profile/source.h"

static void copy_str(json_t *obj, const char *key, char *dst, size_t size) {
  const char *v = json_string_value(json_object_get(obj, key));
  snprintf(dst, size, "%s", v ? v : "");
}

int source_read_index(const char *profiles_dir, source_window **out, size_t *n) {
  char path[1400];
  size_t cap = 0;
  jsonlines *j;
  json_t *o;
  int rc;
  snprintf(path, sizeof path, "%s/%s", profiles_dir, SOURCE_INDEX);
  *out = NULL;
  *n = 0;
  if ((rc = jsonlines_open(path, NULL, NULL, &j)) < 0) return rc;
  while ((o = jsonlines_next(j))) {
    if (grow_room(out, &cap, *n + 1, sizeof **out, 64) < 0) {
      json_decref(o);
      jsonlines_close(j);
      return -ENOMEM;
    }
    source_window *w = &(*out)[(*n)++];
    memset(w, 0, sizeof *w);
    w->start_ms = json_integer_value(json_object_get(o, "start_ms"));
    w->end_ms = json_integer_value(json_object_get(o, "end_ms"));
    w->samples = json_integer_value(json_object_get(o, "samples"));
    copy_str(o, "source", w->source, sizeof w->source);
    copy_str(o, "type", w->type, sizeof w->type);
    copy_str(o, "file", w->file, sizeof w->file);
    copy_str(o, "status", w->status, sizeof w->status);
    copy_str(o, "error", w->error, sizeof w->error);
    json_decref(o);
  }
  jsonlines_close(j);
  return 0;
}
