/* testrun.h - run directories written by the unit suites as a run writes them: a fresh directory with its
 * profiles/ folder, a profile window with its profiles/index.jsonl line, JSON lines appended to a file,
 * a file read whole, and removal. Test-only code (CMakeLists.txt: loadctl_testsupport). */
#ifndef LOADCTL_TESTRUN_H
#define LOADCTL_TESTRUN_H

#include <jansson.h>
#include <stdint.h>

#include "master/profile/pprof.h"

/* mkdtemp(dir) (a "/tmp/NAME_XXXXXX" template, rewritten), dir/profiles and an empty profiles/index.jsonl;
 * asserted. */
void testrun_make(char *dir);

/* Append the line of an "ok" window [start_ms, end_ms) of source and type, in file, to profiles/index.jsonl.
 */
void testrun_index(const char *dir, int64_t start_ms, int64_t end_ms, const char *source, const char *type,
                   const char *file);

/* Write p as the "ok" pprof window [start_ms, end_ms) of type, profiles/START-END-pprof-TYPE.pb.gz, and
 * append its line to profiles/index.jsonl; asserted. */
void testrun_window(const char *dir, int64_t start_ms, int64_t end_ms, const char *type,
                    const pprof_profile *p);

/* Append o (its reference taken) to dir/file as one compact JSON line; asserted. */
void testrun_line(const char *dir, const char *file, json_t *o);

/* dir/name read whole (at most 4 MiB), NUL-terminated; free() it. Asserts that it can be opened. */
char *testrun_slurp(const char *dir, const char *name);

/* Remove dir and everything below it; asserted. */
void testrun_remove(const char *dir);

#endif
