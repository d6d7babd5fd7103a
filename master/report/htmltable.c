/* htmltable.c - report.html's tables of summary.json arrays from declared columns (htmltable.h). */
#include "master/report/htmltable.h"

#include "master/report/html.h"

/* One cell of row o in column c. */
static void cell(FILE *out, const htmltable_col *c, const json_t *o) {
  const json_t *v = json_object_get(o, c->key);
  double x = json_number_value(v);

  switch (c->kind) {
    case HTMLTABLE_TEXT:
      fputs("<td class=\"l\">", out);
      html_escape(out, json_is_string(v) ? json_string_value(v) : c->dflt ? c->dflt : "");
      fputs("</td>", out);
      return;
    case HTMLTABLE_COUNT:
      fprintf(out, "<td>%.0f</td>", x);
      return;
    case HTMLTABLE_ERRORS:
      fprintf(out, "<td%s>%.0f</td>", x > 0 ? " class=\"err\"" : "", x);
      return;
    case HTMLTABLE_NUMBER:
      fprintf(out, "<td>%g</td>", x);
      return;
    case HTMLTABLE_RATE:
      fprintf(out, "<td>%.1f</td>", x);
      return;
    case HTMLTABLE_MS:
      fprintf(out, "<td>%.2f</td>", x);
      return;
    case HTMLTABLE_PERCENT:
      fprintf(out, "<td>%.2f</td>", 100 * x);
      return;
    case HTMLTABLE_SHARE:
      fprintf(out, "<td>%.1f%%</td>", 100 * x);
      return;
  }
}

void htmltable_write(FILE *out, const char *id, const char *title, const htmltable_col *cols, size_t ncols,
                     const json_t *rows) {
  size_t i;
  const json_t *o;

  if (id)
    fprintf(out, "<section id=\"%s\"><h2>%s</h2><table><tr>", id, title);
  else
    fprintf(out, "<section><h2>%s</h2><table><tr>", title);
  for (size_t c = 0; c < ncols; c++)
    fprintf(out, "<th%s>%s</th>", cols[c].kind == HTMLTABLE_TEXT ? " class=\"l\"" : "", cols[c].title);
  fputs("</tr>\n", out);
  json_array_foreach(rows, i, o) {
    fputs("<tr>", out);
    for (size_t c = 0; c < ncols; c++) cell(out, &cols[c], o);
    fputs("</tr>\n", out);
  }
  fputs("</table></section>\n", out);
}
