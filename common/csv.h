/* csv.h - the CSV cells loadctl writes (stats.csv, failures.csv, stats_history.csv, locust's columns):
 * one quoting rule and one number format, so every CSV file reads the same way. */
#ifndef LOADCTL_CSV_H
#define LOADCTL_CSV_H

#include <stdio.h>

/* Write text as one field: as is, or quoted ("" for a ") when it holds a comma, a quote, CR or LF.
 * 0 or -EIO. */
int csv_field(FILE *f, const char *text);

/* Write a number of milliseconds with at most 3 decimals and no trailing zeros ("12.5", "0.125", "3"),
 * "N/A" for NaN. 0 or -EIO. */
int csv_ms(FILE *f, double ms);

#endif
