/* testopts.h - a scenario's options from source text, for the options and scenarios suites: the source
 * loaded as "t.lua", and seconds in nanoseconds computed here (not by common/clock, whose conversions the
 * loader itself uses). */
#ifndef LOADCTL_TESTS_TESTOPTS_H
#define LOADCTL_TESTS_TESTOPTS_H

#include <stdint.h>
#include <string.h>

#include "common/options.h"

/* sec seconds in nanoseconds. */
#define TESTOPTS_S(sec) ((int64_t)((sec)*1e9))

/* options_load_source of src as "t.lua" into *o; its return, err filled on failure. */
static inline int testopts_load(const char *src, options *o, char *err, size_t errlen) {
  return options_load_source("t.lua", src, strlen(src), o, err, errlen);
}

#endif
