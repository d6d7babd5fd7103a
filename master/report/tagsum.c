/* tagsum.c - per tag value figures for summary.json and report.html (tagsum.h). */
#include "master/report/tagsum.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/grow.h"
#include "common/hist.h"
#include "master/report/html.h"

typedef struct tally {
  char key[TAGSET_KEY_MAX + 1], value[TAGSET_VALUE_MAX + 1];
  hist *latency;
  int64_t count, errors, names; /* names: distinct request names that carried the value */
} tally;

typedef struct tallies {
  tally *items;
  size_t n, cap;
} tallies;

/* The tally of key=value (spans), created empty when new; NULL on -ENOMEM. */
static tally *tally_of(tallies *l, const char *k, size_t kl, const char *v, size_t vl) {
  for (size_t i = 0; i < l->n; i++)
    if (strlen(l->items[i].key) == kl && !memcmp(l->items[i].key, k, kl) && strlen(l->items[i].value) == vl &&
        !memcmp(l->items[i].value, v, vl))
      return &l->items[i];
  if (kl > TAGSET_KEY_MAX || vl > TAGSET_VALUE_MAX) return NULL;
  if (grow_room(&l->items, &l->cap, l->n + 1, sizeof *l->items, 16) < 0) return NULL;
  tally *t = &l->items[l->n];
  memset(t, 0, sizeof *t);
  if (hist_create(&t->latency) < 0) return NULL;
  memcpy(t->key, k, kl);
  memcpy(t->value, v, vl);
  l->n++;
  return t;
}

/* Count series g (of request name entry) toward each of its tag values. 0 or -ENOMEM. */
static int add_series(tallies *l, const stats_tagged *g, const stats_interval *cum, char *seen) {
  const char *p = g->tags, *k, *v;
  size_t kl, vl;
  while (tagset_next(&p, &k, &kl, &v, &vl)) {
    tally *t = tally_of(l, k, kl, v, vl);
    if (!t) return -ENOMEM;
    hist_add(t->latency, g->latency);
    t->count += g->count;
    t->errors += g->errors;
    /* distinct names per value: seen[] marks (value, entry) pairs already counted */
    size_t slot = (size_t)(t - l->items) * cum->nentries + g->entry;
    if (!seen[slot]) seen[slot] = 1, t->names++;
  }
  return 0;
}

static json_t *tally_json(const tally *t, double secs) {
  json_t *o =
      json_pack("{s:I,s:I,s:f,s:f,s:I}", "count", (json_int_t)t->count, "errors", (json_int_t)t->errors,
                "error_rate", t->count ? (double)t->errors / (double)t->count : 0.0, "rps",
                secs > 0 ? (double)t->count / secs : 0.0, "requests", (json_int_t)t->names);
  static const struct {
    const char *key;
    double pct;
  } pcts[] = {{"p50_ms", 50}, {"p90_ms", 90}, {"p95_ms", 95}, {"p99_ms", 99}, {"p999_ms", 99.9}};
  for (size_t i = 0; o && i < sizeof pcts / sizeof pcts[0]; i++)
    json_object_set_new(o, pcts[i].key, json_real(hist_pct_ms(t->latency, pcts[i].pct)));
  if (o) json_object_set_new(o, "max_ms", json_real(clock_us_to_ms((double)hist_max(t->latency))));
  if (o) json_object_set_new(o, "mean_ms", json_real(t->count ? clock_us_to_ms(hist_mean(t->latency)) : 0));
  return o;
}

json_t *tagsum_json(const stats_interval *cum, double secs) {
  tallies l = {0};
  json_t *out = json_object();
  /* (value, entry) pairs seen, grown with the tallies: at most one per tag of a series */
  size_t slots = (cum->ntagged * TAGSET_MAX_TAGS + 1) * (cum->nentries + 1);
  char *seen = calloc(slots, 1);
  int rc = out && seen ? 0 : -ENOMEM;

  for (size_t i = 0; rc == 0 && i < cum->ntagged; i++)
    if (cum->tagged[i].entry < cum->nentries) rc = add_series(&l, &cum->tagged[i], cum, seen);
  for (size_t i = 0; rc == 0 && i < l.n; i++) {
    json_t *values = json_object_get(out, l.items[i].key);
    if (!values) json_object_set_new(out, l.items[i].key, values = json_object());
    json_object_set_new(values, l.items[i].value, tally_json(&l.items[i], secs));
  }
  for (size_t i = 0; i < l.n; i++) hist_destroy(l.items[i].latency);
  free(l.items);
  free(seen);
  if (rc == 0) return out;
  json_decref(out);
  return NULL;
}

void tagsum_html(FILE *out, const json_t *sum) {
  static const char *const cols[] = {"p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"};
  const json_t *tags = json_object_get(sum, "tags"), *values, *t;
  const char *key, *value;

  if (json_object_size(tags) == 0) return;
  fputs("<section id=\"tags\"><h2>Tags <select id=\"tag-key\"><option value=\"\">every tag</option>", out);
  json_object_foreach((json_t *)tags, key, values) {
    fputs("<option>", out);
    html_escape(out, key);
    fputs("</option>", out);
  }
  fputs(
      "</select></h2><table><tr><th class=\"l\">tag</th><th class=\"l\">value</th><th>request names</th>"
      "<th>requests</th><th>errors</th><th>error %</th><th>rps</th><th>p50 ms</th><th>p90 ms</th>"
      "<th>p95 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>mean ms</th></tr>\n",
      out);
  json_object_foreach((json_t *)tags, key, values) json_object_foreach((json_t *)values, value, t) {
    double errors = json_number_value(json_object_get(t, "errors"));
    fputs("<tr data-key=\"", out);
    html_escape(out, key);
    fputs("\"><td class=\"l\">", out);
    html_escape(out, key);
    fputs("</td><td class=\"l\">", out);
    html_escape(out, value);
    fprintf(out, "</td><td>%.0f</td><td>%.0f</td><td%s>%.0f</td><td>%.2f</td><td>%.1f</td>",
            json_number_value(json_object_get(t, "requests")), json_number_value(json_object_get(t, "count")),
            errors > 0 ? " class=\"err\"" : "", errors,
            100 * json_number_value(json_object_get(t, "error_rate")),
            json_number_value(json_object_get(t, "rps")));
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
      fprintf(out, "<td>%.2f</td>", json_number_value(json_object_get(t, cols[c])));
    fputs("</tr>\n", out);
  }
  fputs("</table></section>\n", out);
}
