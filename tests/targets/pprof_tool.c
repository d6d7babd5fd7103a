/* pprof_tool.c - a small driver of master/profile for the integration tests (tests/integration/profile_*.sh):
 * decode and summarise a profile, merge, filter, fold perf script, and run the collectors for a while. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "master/profile/folded.h"
#include "master/profile/pprof.h"
#include "master/profile/source.h"

static int usage(void) {
  fprintf(stderr,
          "usage: pprof_tool info FILE [TYPE]          summary: totals and top functions (self, cum)\n"
          "       pprof_tool merge OUT.pb.gz IN...       merge profiles, encode gzipped profile.proto\n"
          "       pprof_tool filter IN KEY VALUE OUT.pb.gz\n"
          "       pprof_tool fold-perf IN OUT.folded     fold `perf script` text\n"
          "       pprof_tool collect DIR SECONDS SOURCE URL TYPE WINDOW_S [SOURCE URL TYPE WINDOW_S]...\n");
  return 1;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  size_t cap = 1 << 16;
  char *buf = malloc(cap + 1);
  *len = 0;
  if (!f || !buf) goto fail;
  size_t n;
  while ((n = fread(buf + *len, 1, cap - *len, f)) > 0) {
    *len += n;
    if (*len == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) goto fail;
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  buf[*len] = '\0';
  return buf;
fail:
  if (f) fclose(f);
  free(buf);
  return NULL;
}

/* Decode pprof (binary) or folded / perf script (text) by content. */
static pprof_profile *load(const char *path) {
  size_t len;
  char err[512] = "";
  pprof_profile *p = NULL;
  char *buf = slurp(path, &len);
  if (!buf) {
    fprintf(stderr, "pprof_tool: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  int binary = len >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b;
  for (size_t i = 0; i < len && !binary; i++) binary = (unsigned char)buf[i] < 0x09;
  int rc = binary ? pprof_decode(buf, len, &p, err, sizeof err)
                  : folded_parse(buf, len, NULL, NULL, &p, err, sizeof err);
  if (rc == -EINVAL && !binary) rc = folded_from_perf_script(buf, len, &p, err, sizeof err);
  if (rc) fprintf(stderr, "pprof_tool: %s: %s (%s)\n", path, err, pprof_strerror(rc));
  free(buf);
  return p;
}

typedef struct fn_stat {
  int64_t self, cum;
} fn_stat;

static fn_stat *stats;

static int by_self(const void *a, const void *b) {
  int64_t x = stats[*(const size_t *)a].self, y = stats[*(const size_t *)b].self;
  return x < y ? 1 : x > y ? -1 : 0;
}

static int info(const char *path, const char *type) {
  pprof_profile *p = load(path);
  if (!p) return 2;
  int vi = type ? pprof_sample_type_index(p, type) : (int)p->nsample_types - 1;
  if (vi < 0) {
    fprintf(stderr, "pprof_tool: no sample type %s\n", type);
    pprof_free(p);
    return 2;
  }
  stats = calloc(p->nfunctions + 1, sizeof *stats);
  size_t *order = calloc(p->nfunctions + 1, sizeof *order);
  char *seen = calloc(p->nfunctions + 1, 1);
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    if (s->nstack) stats[s->stack[0]].self += s->values[vi];
    for (size_t j = 0; j < s->nstack; j++)
      if (!seen[s->stack[j]]) {
        seen[s->stack[j]] = 1;
        stats[s->stack[j]].cum += s->values[vi];
      }
    for (size_t j = 0; j < s->nstack; j++) seen[s->stack[j]] = 0;
  }
  for (size_t i = 0; i < p->nfunctions; i++) order[i] = i;
  qsort(order, p->nfunctions, sizeof *order, by_self);
  printf("type %s/%s\nsamples %zu\ntotal %lld\n", p->strings[p->sample_types[vi].type],
         p->strings[p->sample_types[vi].unit], p->nsamples, (long long)pprof_total(p, (size_t)vi));
  for (size_t i = 0; i < p->nfunctions && i < 15; i++)
    printf("self %lld cum %lld %s\n", (long long)stats[order[i]].self, (long long)stats[order[i]].cum,
           p->strings[p->functions[order[i]].name]);
  for (size_t i = 0; i < p->nfunctions; i++) /* cum lines for any function, for grep */
    if (stats[i].cum) printf("cum %lld %s\n", (long long)stats[i].cum, p->strings[p->functions[i].name]);
  free(stats);
  free(order);
  free(seen);
  pprof_free(p);
  return 0;
}

static int merge(const char *out, char **in, int n) {
  pprof_profile *m = pprof_create(NULL, NULL);
  for (int i = 0; i < n; i++) {
    pprof_profile *p = load(in[i]);
    int rc = p ? pprof_merge(m, p) : -1;
    pprof_free(p);
    if (rc) {
      fprintf(stderr, "pprof_tool: cannot merge %s\n", in[i]);
      pprof_free(m);
      return 2;
    }
  }
  int rc = pprof_encode_file(m, out);
  printf("merged %d profiles, %zu samples, total %lld\n", n, m->nsamples,
         (long long)(m->nsample_types ? pprof_total(m, m->nsample_types - 1) : 0));
  pprof_free(m);
  return rc ? 2 : 0;
}

static int filter(const char *in, const char *key, const char *value, const char *out) {
  pprof_profile *p = load(in);
  pprof_profile *f = p ? pprof_filter_label(p, key, value) : NULL;
  int rc = f ? pprof_encode_file(f, out) : -1;
  if (f) printf("kept %zu samples\n", f->nsamples);
  pprof_free(f);
  pprof_free(p);
  return rc ? 2 : 0;
}

static int fold_perf(const char *in, const char *out) {
  size_t len, tlen;
  char err[512], *text = NULL;
  pprof_profile *p = NULL;
  char *buf = slurp(in, &len);
  if (!buf || folded_from_perf_script(buf, len, &p, err, sizeof err) || folded_write(p, 0, &text, &tlen)) {
    fprintf(stderr, "pprof_tool: %s: cannot fold\n", in);
    free(buf);
    pprof_free(p);
    return 2;
  }
  FILE *f = fopen(out, "w");
  int rc = f && fwrite(text, 1, tlen, f) == tlen ? 0 : 2;
  if (f) fclose(f);
  free(text);
  free(buf);
  pprof_free(p);
  return rc;
}

static int collect(const char *dir, double seconds, char **args, int nargs) {
  options_profile list[OPTIONS_MAX_PROFILES];
  size_t n = 0;
  char err[512];
  memset(list, 0, sizeof list);
  for (int i = 0; i + 3 < nargs && n < OPTIONS_MAX_PROFILES; i += 4, n++) {
    snprintf(list[n].source, sizeof list[n].source, "%s", args[i]);
    snprintf(list[n].url, sizeof list[n].url, "%s", args[i + 1]);
    snprintf(list[n].type, sizeof list[n].type, "%s", args[i + 2]);
    list[n].window_ns = (int64_t)(strtod(args[i + 3], NULL) * 1e9);
  }
  source_set *set = NULL;
  if (source_start(list, n, dir, &set, err, sizeof err)) {
    fprintf(stderr, "pprof_tool: %s\n", err);
    return 2;
  }
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  nanosleep(&ts, NULL);
  int64_t t0 = clock_mono_ns();
  size_t ok = source_ok_windows(set);
  source_stop(set);
  printf("ok windows %zu, stop took %lld ms\n", ok, (long long)((clock_mono_ns() - t0) / 1000000));
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "info") == 0) return info(argv[2], argc > 3 ? argv[3] : NULL);
  if (argc >= 4 && strcmp(argv[1], "merge") == 0) return merge(argv[2], argv + 3, argc - 3);
  if (argc == 6 && strcmp(argv[1], "filter") == 0) return filter(argv[2], argv[3], argv[4], argv[5]);
  if (argc == 4 && strcmp(argv[1], "fold-perf") == 0) return fold_perf(argv[2], argv[3]);
  if (argc >= 8 && strcmp(argv[1], "collect") == 0)
    return collect(argv[2], strtod(argv[3], NULL), argv + 4, argc - 4);
  return usage();
}
