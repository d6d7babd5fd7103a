/* test_jsonlines.c - the one JSON-lines reader: objects in order, a torn last line and a non-object line
 * skipped and reported with their line numbers, read_all's count. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonlines.h"
#include "tests/support/checkrun.h"

static char dir[] = "/tmp/test_jsonlines_XXXXXX";
static char reported[256];

static void write_file(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static void on_skip(void *ctx, long lineno, const char *why) {
  size_t used = strlen(reported);
  (void)ctx;
  snprintf(reported + used, sizeof reported - used, "%ld:%s ", lineno, why);
}

START_TEST(torn_and_bad_lines_skipped) {
  char path[512];
  jsonlines *j;
  json_t *o;
  int seen = 0;

  ck_assert_ptr_nonnull(mkdtemp(dir));
  write_file("a.jsonl", "{\"k\":1}\n\n[1,2]\n{\"k\":2}\nnot json\n{\"k\":3}\n{\"k\":4}");
  snprintf(path, sizeof path, "%s/a.jsonl", dir);
  reported[0] = 0;
  ck_assert_int_eq(jsonlines_open(path, on_skip, NULL, &j), 0);
  while ((o = jsonlines_next(j))) {
    seen++;
    ck_assert_int_eq(json_integer_value(json_object_get(o, "k")), seen);
    json_decref(o);
  }
  ck_assert_int_eq(seen, 3); /* {"k":4} has no newline: torn */
  ck_assert_int_eq(jsonlines_skipped(j), 3);
  ck_assert_int_eq(jsonlines_lineno(j), 7);
  ck_assert_str_eq(reported, "3:bad 5:bad 7:torn ");
  jsonlines_close(j);

  int skipped = -1;
  json_t *all = jsonlines_read_all(dir, "a.jsonl", &skipped);
  ck_assert_int_eq(json_array_size(all), 3);
  ck_assert_int_eq(skipped, 3);
  json_decref(all);
  ck_assert_ptr_null(jsonlines_read_all(dir, "missing.jsonl", NULL));
  unlink(path);
  rmdir(dir);
}
END_TEST

CHECK_MAIN("jsonlines", 0, torn_and_bad_lines_skipped)
