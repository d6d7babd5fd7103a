/* csv.c - CSV fields and millisecond cells for the CSV files of a run (common/csv.h). */
#include "common/csv.h"

#include <errno.h>
#include <math.h>
#include <string.h>

int csv_field(FILE *f, const char *text) {
  if (!strpbrk(text, ",\"\r\n")) return fputs(text, f) < 0 ? -EIO : 0;
  if (fputc('"', f) == EOF) return -EIO;
  for (const char *p = text; *p; p++) {
    if (*p == '"' && fputc('"', f) == EOF) return -EIO;
    if (fputc(*p, f) == EOF) return -EIO;
  }
  return fputc('"', f) == EOF ? -EIO : 0;
}

int csv_ms(FILE *f, double ms) {
  char buf[64];
  size_t len;

  if (isnan(ms)) return fputs("N/A", f) < 0 ? -EIO : 0;
  snprintf(buf, sizeof buf, "%.3f", ms);
  len = strlen(buf);
  while (len > 0 && buf[len - 1] == '0') buf[--len] = 0;
  if (len > 0 && buf[len - 1] == '.') buf[--len] = 0;
  return fputs(buf, f) < 0 ? -EIO : 0;
}
