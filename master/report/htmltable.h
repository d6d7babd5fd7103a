/* htmltable.h - one writer for report.html's tables of summary.json arrays (scenarios, groups, checks,
 * findings): a section with its title and a table whose columns are declared, each a header, the key it
 * reads from every object of the array and how the value is shown. */
#ifndef LOADCTL_HTMLTABLE_H
#define LOADCTL_HTMLTABLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

typedef enum htmltable_kind {
  HTMLTABLE_TEXT,    /* the string, escaped, left-aligned; the column's dflt when absent */
  HTMLTABLE_COUNT,   /* a whole number */
  HTMLTABLE_ERRORS,  /* a whole number, the cell marked class="err" when above 0 */
  HTMLTABLE_NUMBER,  /* the number as %g */
  HTMLTABLE_RATE,    /* one decimal (per second) */
  HTMLTABLE_MS,      /* two decimals (milliseconds) */
  HTMLTABLE_PERCENT, /* a fraction as a percentage with two decimals and no sign (error %) */
  HTMLTABLE_SHARE,   /* a fraction as a percentage with one decimal and its sign ("12.3%") */
} htmltable_kind;

typedef struct htmltable_col {
  const char *title; /* the header cell's text (HTML) */
  const char *key;   /* the member of each row object */
  htmltable_kind kind;
  const char *dflt; /* HTMLTABLE_TEXT: shown when the member is absent; NULL is "" */
} htmltable_col;

/* Write <section id="ID"><h2>TITLE</h2><table>, a header row of cols, one row per object of rows (a JSON
 * array), then </table></section>. id NULL: a section without an id. title is HTML, written as is. */
void htmltable_write(FILE *out, const char *id, const char *title, const htmltable_col *cols, size_t ncols,
                     const json_t *rows);

#endif
