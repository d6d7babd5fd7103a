/* pprof.h - profiles decoded from pprof's profile.proto (gzipped or not) into one plain structure that
 * merge, filter, diff, correlation, flame graphs and exports all read; and encoded back for `go tool pprof`.
 *
 * The decoded form is deliberately plain data (not opaque), so readers iterate it directly:
 *   - strings: an interned table; strings[0] is always "" and every *name/key/unit field below is an index
 *     into it (checked at decode time, so readers never need to bounds-check).
 *   - functions: one entry per distinct (name, filename) pair; a sample's stack holds function indices.
 *   - samples: one per distinct (stack, labels) pair (adding an equal pair sums the values).
 *     stack[0] is the LEAF (innermost frame, where the time was spent) and stack[nstack-1] is the ROOT,
 *     as in profile.proto. Inlined frames of one location are expanded (innermost first), so
 *     stack entries are functions, never addresses. A sample has nsample_types values, in the order of
 *     sample_types (Go CPU: [samples count, cpu nanoseconds]; mutex/block: [contentions, delay nanoseconds]).
 *   - labels: string labels have str != 0 (and num == 0); numeric labels have str == 0 and num/num_unit.
 *     The shop and Go's pprof.Do labels are strings: "loadctl.name", "k6.name", "trace_id", "span_id"...
 * Line numbers and mappings are not kept: correlation works on functions (the report's line views read
 * them from the files: proflines.h).
 *
 * Ownership: every pprof_profile * returned is owned by the caller and released with pprof_free.
 * Mutating functions (intern, add_sample, merge) may move the arrays; do not keep pointers into them
 * across such calls (keep indices instead). Not thread-safe; one profile per thread at a time.
 * Implemented in pprof.c (the in-memory model) and pprof_proto.c (decode/encode of the wire format). */
#ifndef LOADCTL_PPROF_H
#define LOADCTL_PPROF_H

#include <stddef.h>
#include <stdint.h>

/* Bounds applied to untrusted input. */
#define PPROF_MAX_INPUT ((size_t)64 << 20)    /* compressed or raw bytes accepted by pprof_decode */
#define PPROF_MAX_DECODED ((size_t)256 << 20) /* gunzipped bytes */
#define PPROF_MAX_STACK 4096                  /* frames per sample after inline expansion */
#define PPROF_MAX_VALUES 64                   /* sample types */
#define PPROF_MAX_LABELS 256                  /* labels per sample */
#define PPROF_MAX_FRAMES ((size_t)1 << 26)    /* stack frames over all samples of one decoded profile */

/* Error codes beyond negative errno (returned negated, like errno values). */
#define PPROF_EFORMAT 1001 /* not gzip/protobuf, or a field out of range: the message says which */

typedef struct pprof_value_type {
  uint32_t type; /* string index: "cpu", "samples", "contentions", "delay", "alloc_space"... */
  uint32_t unit; /* string index: "nanoseconds", "count", "bytes"... */
} pprof_value_type;

typedef struct pprof_label {
  uint32_t key;      /* string index, never 0 */
  uint32_t str;      /* string index of the value; 0 for a numeric label */
  int64_t num;       /* numeric value when str == 0 */
  uint32_t num_unit; /* string index, 0 when none */
} pprof_label;

typedef struct pprof_function {
  uint32_t name;        /* string index: "main.fraudScore" */
  uint32_t system_name; /* string index, often equal to name */
  uint32_t filename;    /* string index, 0 when unknown */
  int64_t start_line;
} pprof_function;

typedef struct pprof_sample {
  uint32_t *stack; /* nstack function indices, stack[0] = leaf ... stack[nstack-1] = root */
  size_t nstack;
  int64_t *values;     /* nsample_types values */
  pprof_label *labels; /* sorted by (key, str, num) so equal label sets compare equal */
  size_t nlabels;
} pprof_sample;

typedef struct pprof_profile {
  char **strings; /* nstrings NUL-terminated strings, strings[0] == "" */
  size_t nstrings;
  pprof_value_type *sample_types;
  size_t nsample_types;
  pprof_function *functions;
  size_t nfunctions;
  pprof_sample *samples;
  size_t nsamples;
  pprof_value_type period_type;
  int64_t period;               /* e.g. 10000000 (ns between CPU samples at 100 Hz) */
  int64_t time_nanos;           /* wall time the profile started, ns since the epoch (0 when unknown) */
  int64_t duration_nanos;       /* 0 when unknown */
  uint32_t default_sample_type; /* string index, 0 when unset */
  void *index;                  /* private: hash indexes for interning; do not touch */
} pprof_profile;

/* A new empty profile with one sample type (e.g. "samples"/"count" for folded stacks, or "cpu"/
 * "nanoseconds"). NULL on out of memory. Add more types with pprof_add_sample_type before any sample. */
pprof_profile *pprof_create(const char *type, const char *unit);

/* Append a sample type; only while the profile has no samples. 0, -EINVAL (has samples / too many), -ENOMEM.
 */
int pprof_add_sample_type(pprof_profile *p, const char *type, const char *unit);

/* Release p and everything it owns. NULL is fine. */
void pprof_free(pprof_profile *p);

/* Decode profile.proto bytes, gzipped (magic 1f 8b) or not. On success *out is a new profile (caller
 * frees). On failure returns -PPROF_EFORMAT (corrupt/truncated/out-of-range: err says what, e.g.
 * "sample 3: location id 99 not found"), -E2BIG (over the PPROF_MAX_* bounds) or -ENOMEM, and *out is NULL.
 * Never crashes on any input. */
int pprof_decode(const void *data, size_t len, pprof_profile **out, char *err, size_t errlen);

/* Read a whole file (bounded by PPROF_MAX_INPUT) and pprof_decode it. -errno on I/O errors. */
int pprof_decode_file(const char *path, pprof_profile **out, char *err, size_t errlen);

/* The profile.proto bytes of a file (bounded by PPROF_MAX_INPUT, gunzipped when gzipped, bounded by
 * PPROF_MAX_DECODED), for readers of what the decoded form leaves out (line numbers: proflines.h). *out is
 * malloc'd (caller frees). 0, -errno, -E2BIG or -PPROF_EFORMAT (bad gzip) with the message in err. */
int pprof_read_plain(const char *path, unsigned char **out, size_t *outlen, char *err, size_t errlen);

/* Encode p as gzipped profile.proto (one Location per function, one Line each; no mappings) that
 * `go tool pprof` opens. *out is malloc'd (caller frees) with *outlen bytes. 0, -ENOMEM or -EIO. */
int pprof_encode(const pprof_profile *p, unsigned char **out, size_t *outlen);

/* Encode and write atomically-enough (tmp + rename) to path. 0 or negative errno. */
int pprof_encode_file(const pprof_profile *p, const char *path);

/* Intern a string; returns its index (0 for ""), or -ENOMEM / -E2BIG. */
int64_t pprof_intern(pprof_profile *p, const char *s);

/* Intern a function by (name, filename); filename may be NULL. Returns its index or a negative errno. */
int64_t pprof_function_intern(pprof_profile *p, const char *name, const char *filename);

/* Intern a function whose name/system_name/filename are already string indices of p (same key: name,
 * filename). Returns its index, -EINVAL (index out of range) or -ENOMEM. */
int64_t pprof_function_add(pprof_profile *p, const pprof_function *f);

/* Add a sample: stack of function indices (leaf first), nsample_types values, labels (string indices of
 * p; any order, they are sorted). An equal (stack, labels) sample gets the values added. 0, -EINVAL
 * (bad index, too deep), -ENOMEM. */
int pprof_add_sample(pprof_profile *p, const uint32_t *stack, size_t nstack, const int64_t *values,
                     const pprof_label *labels, size_t nlabels);

/* Add every sample of src into dst (strings/functions remapped). Sample types must match by type and
 * unit strings, in order: else -EINVAL. time_nanos becomes the earliest known, duration_nanos spans
 * both. 0, -EINVAL, -ENOMEM. */
int pprof_merge(pprof_profile *dst, const pprof_profile *src);

/* A new profile with the samples of p that carry string label key == value (value NULL: any value
 * for key). Returns NULL on out of memory only; no match gives an empty profile. */
pprof_profile *pprof_filter_label(const pprof_profile *p, const char *key, const char *value);

/* A new profile a - b: a's samples plus b's with negated values (what `go tool pprof -diff_base`
 * shows). Types must match (else NULL and *rc = -EINVAL). rc may be NULL. */
pprof_profile *pprof_diff(const pprof_profile *a, const pprof_profile *b, int *rc);

/* Index of the sample type named type ("cpu", "delay", "samples"...), or -1. */
int pprof_sample_type_index(const pprof_profile *p, const char *type);

/* Sum of values[vi] over all samples (0 when vi is out of range). */
int64_t pprof_total(const pprof_profile *p, size_t vi);

/* Per-function totals of value vi: self[f] (f is the leaf) and cum[f] (f anywhere on the stack, counted
 * once per sample even when recursive). self and cum are caller arrays of p->nfunctions entries (either
 * may be NULL); they are zeroed first. 0, -EINVAL (vi out of range), -ENOMEM. */
int pprof_function_totals(const pprof_profile *p, size_t vi, int64_t *self, int64_t *cum);

/* The string value of label key on sample s, or NULL if it has none. */
const char *pprof_label_get(const pprof_profile *p, const pprof_sample *s, const char *key);

/* Human text for a return code of this module. */
const char *pprof_strerror(int rc);

#endif
