/* test_csv.c - the CSV cells of stats.csv, failures.csv and stats_history.csv: quoting only where RFC 4180
 * needs it, milliseconds with at most 3 decimals, N/A for a missing number, and a write error reported. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/csv.h"
#include "tests/support/checkrun.h"

/* What csv_field and csv_ms write for a set of cells, separated by '|'. */
static char *cells(void) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(csv_field(f, "plain"), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_field(f, "a \"q\", b"), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_field(f, "two\nlines"), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_field(f, ""), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_ms(f, 12.5), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_ms(f, 0.1254), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_ms(f, 3.0), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_ms(f, 0), 0);
  fputc('|', f);
  ck_assert_int_eq(csv_ms(f, NAN), 0);
  fclose(f);
  return buf;
}

START_TEST(fields_and_ms) {
  char *buf = cells();
  ck_assert_str_eq(buf, "plain|\"a \"\"q\"\", b\"|\"two\nlines\"||12.5|0.125|3|0|N/A");
  free(buf);
}
END_TEST

/* A stream that cannot be written (opened for reading) gives -EIO, never a silent short file. */
START_TEST(write_error) {
  FILE *f = fopen("/dev/null", "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(csv_field(f, "plain"), -EIO);
  ck_assert_int_eq(csv_field(f, "a,b"), -EIO);
  ck_assert_int_eq(csv_ms(f, 1.5), -EIO);
  ck_assert_int_eq(csv_ms(f, NAN), -EIO);
  fclose(f);
}
END_TEST

CHECK_MAIN("csv", 0, fields_and_ms, write_error)
