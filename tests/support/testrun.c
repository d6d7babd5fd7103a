/* testrun.c - run directories written by the unit suites (testrun.h). */
#include "tests/support/testrun.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

void testrun_make(char *dir) {
  char path[512];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/profiles", dir);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  snprintf(path, sizeof path, "%s/profiles/index.jsonl", dir);
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "cannot create %s", path);
  ck_assert_int_eq(fclose(f), 0);
}

void testrun_window(const char *dir, int64_t start_ms, int64_t end_ms, const char *type,
                    const pprof_profile *p) {
  char name[128], path[512];
  snprintf(name, sizeof name, "%" PRId64 "-%" PRId64 "-pprof-%s.pb.gz", start_ms, end_ms, type);
  snprintf(path, sizeof path, "%s/profiles/%s", dir, name);
  ck_assert_int_eq(pprof_encode_file(p, path), 0);
  testrun_index(dir, start_ms, end_ms, "pprof", type, name);
}

void testrun_index(const char *dir, int64_t start_ms, int64_t end_ms, const char *source, const char *type,
                   const char *file) {
  testrun_line(
      dir, "profiles/index.jsonl",
      json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:n,s:I,s:I}", "start_ms", (json_int_t)start_ms, "end_ms",
                (json_int_t)end_ms, "source", source, "type", type, "url", "http://x", "file", file, "status",
                "ok", "error", "bytes", (json_int_t)1, "samples", (json_int_t)1));
}

void testrun_line(const char *dir, const char *file, json_t *o) {
  char path[512];
  ck_assert_ptr_nonnull(o);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "a");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *s = json_dumps(o, JSON_COMPACT);
  fprintf(f, "%s\n", s);
  free(s);
  json_decref(o);
  ck_assert_int_eq(fclose(f), 0);
}

char *testrun_slurp(const char *dir, const char *name) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *buf = malloc(1 << 22);
  ck_assert_ptr_nonnull(buf);
  size_t n = fread(buf, 1, (1 << 22) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

void testrun_remove(const char *dir) {
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
