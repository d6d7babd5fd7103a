/* jsonlines.h - the one reader of the JSON-lines files runs write (intervals.jsonl, exemplars.jsonl,
 * runs/index.jsonl, profiles/index.jsonl), with one torn-line policy for all of them:
 *   - a line without its final newline was cut off while being written (kill -9, full disk): "torn",
 *     skipped; writers always end a line with '\n';
 *   - an empty line is ignored; a line that is not a JSON object is "bad", skipped;
 * skipped lines are counted and, when the caller asks, reported with their line number. */
#ifndef LOADCTL_JSONLINES_H
#define LOADCTL_JSONLINES_H

#include <jansson.h>
#include <stdio.h>

typedef struct jsonlines jsonlines;

/* Called for each skipped line: why is "torn" or "bad". */
typedef void (*jsonlines_skip_fn)(void *ctx, long lineno, const char *why);

/* Open path for reading; *out is owned by the caller, released with jsonlines_close. -errno. */
int jsonlines_open(const char *path, jsonlines_skip_fn on_skip, void *ctx, jsonlines **out);

/* The next JSON object (a new reference, the caller decrefs), or NULL at the end of the file. */
json_t *jsonlines_next(jsonlines *j);

/* Lines read so far (the number of the last line read, 1-based). */
long jsonlines_lineno(const jsonlines *j);

/* Lines skipped so far (torn or bad). */
int jsonlines_skipped(const jsonlines *j);

void jsonlines_close(jsonlines *j);

/* Every object of dir/name as a JSON array (new reference), NULL when the file cannot be opened or on
 * ENOMEM; *skipped (may be NULL) gets the number of torn or bad lines. */
json_t *jsonlines_read_all(const char *dir, const char *name, int *skipped);

#endif
