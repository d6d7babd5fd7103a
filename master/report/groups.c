/* groups.c - groups from request names: every "::" in a name closes one group level, so
 * "a::b::GET /x" counts toward "a" and toward "a::b" (common/stats.h's stats_name_in_group). */
#include "master/report/groups.h"
#include "common/grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct list {
  report_group *items;
  size_t n, cap;
} list;

/* The group named name[0..len), created empty when new; NULL on -ENOMEM. */
static report_group *find_or_add(list *l, const char *name, size_t len) {
  for (size_t i = 0; i < l->n; i++)
    if (strlen(l->items[i].name) == len && !memcmp(l->items[i].name, name, len)) return &l->items[i];
  if (grow_room(&l->items, &l->cap, l->n + 1, sizeof *l->items, 8) < 0) return NULL;
  report_group *g = &l->items[l->n];
  memset(g, 0, sizeof *g);
  if (hist_create(&g->latency) < 0) return NULL;
  memcpy(g->name, name, len < sizeof g->name ? len : sizeof g->name - 1);
  l->n++;
  return g;
}

/* Add entry e to each group its name lies in. 0 or -ENOMEM. */
static int add_entry(list *l, const stats_entry *e) {
  const char *sep = e->name;
  while ((sep = strstr(sep, STATS_GROUP_SEP)) != NULL) {
    report_group *g = find_or_add(l, e->name, (size_t)(sep - e->name));
    if (!g) return -ENOMEM;
    if (e->latency) hist_add(g->latency, e->latency);
    g->count += e->count;
    g->errors += e->errors;
    g->bytes_in += e->bytes_in;
    g->nrequests++;
    sep += strlen(STATS_GROUP_SEP);
  }
  return 0;
}

int groups_collect(const stats_interval *cum, report_group **out, size_t *n) {
  list l = {0};
  for (size_t i = 0; i < cum->nentries; i++) {
    if (cum->entries[i].name[0] == '\0' || strncmp(cum->entries[i].name, STATS_GROUP_SEP, 2) == 0) continue;
    if (add_entry(&l, &cum->entries[i]) < 0) {
      groups_free(l.items, l.n);
      return -ENOMEM;
    }
  }
  *out = l.items;
  *n = l.n;
  return 0;
}

void groups_free(report_group *groups, size_t n) {
  for (size_t i = 0; groups && i < n; i++) hist_destroy(groups[i].latency);
  free(groups);
}
