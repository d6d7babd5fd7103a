/* cmd_check.c - `loadctl check SCENARIO.lua`: load and validate a scenario without sending load, and say
 * what it would do; exit 1 with file:line when it is wrong. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/scenario.h"
#include "common/clock.h"
#include "common/options.h"

static const char check_help[] =
    "usage: loadctl check SCENARIO.lua\n"
    "\n"
    "Load SCENARIO.lua exactly as `loadctl start` would (options, tasks, thresholds, profiles), send no\n"
    "load, and print what the run would do. Exit 0 when valid, 1 with file:line when not.\n"
    "\n"
    "flags:\n"
    "  -e, --env NAME[=VALUE]  as for `loadctl start`: env(\"NAME\") returns it while loading\n"
    "  --secret NAME[=VALUE]   the same, for a value `loadctl start --secret` would hide\n"
    "  -h, --help              this text\n";

/* options.scenarios: one line each, what it runs, from when, for how long. */
static void print_scenarios(const options *o) {
  char d[32], s[32];
  for (size_t i = 0; i < o->nscenarios; i++) {
    const options_scenario *sc = &o->scenarios[i];
    printf("  scenario:   %s: %s", sc->name, sc->executor);
    if (sc->iterations > 0)
      printf(", %.0f vus, %lld iterations%s", sc->vus, (long long)sc->iterations,
             sc->iterations_per_vu ? " each" : " shared");
    else if (sc->model == OPTIONS_OPEN)
      printf(", up to %.2f iterations/s, max_vus %lld", sc->stages[sc->nstages - 1].target,
             (long long)sc->max_vus);
    else
      printf(", %.0f vus", sc->vus);
    printf(", from %s for %s%s, exec %s\n",
           sc->start_ns > 0 ? clock_format_duration(sc->start_ns, s, sizeof s) : "the start",
           sc->iterations > 0 ? "at most " : "", clock_format_duration(sc->duration_ns, d, sizeof d),
           sc->exec[0] ? sc->exec : "(the weighted tasks)");
  }
}

static void print_plan(const char *path, const options *o) {
  char d[32];
  static const char *const backends[] = {"auto", "h1", "curl", "h2"};
  printf("%s: ok\n", path);
  printf("  name:       %s\n  target:     %s\n", o->name, o->target);
  if (o->nscenarios > 0)
    printf("  model:      %zu scenarios side by side (options.scenarios), the run ends with the last\n",
           o->nscenarios);
  else if (o->model == OPTIONS_OPEN)
    printf("  model:      open (arrival rate), rate %.2f/s, max_vus %lld, pre_allocated_vus %lld\n", o->rate,
           (long long)o->max_vus, (long long)o->pre_vus);
  else
    printf("  model:      closed (users), users %.0f, spawn_rate %.2f/s\n", o->users, o->spawn_rate);
  printf("  duration:   %s\n", clock_format_duration(o->duration_ns, d, sizeof d));
  print_scenarios(o);
  for (size_t i = 0; i < o->nstages; i++)
    printf("  stage %zu:    %s to %.2f %s\n", i + 1,
           clock_format_duration(o->stages[i].duration_ns, d, sizeof d), o->stages[i].target,
           o->model == OPTIONS_OPEN ? "iterations/s" : "users");
  printf("  tasks:      %zu\n  http:       %s\n", o->ntasks, backends[o->http_backend % 4]);
  if (o->http_backend == 3 || o->h2_connections > 1)
    printf("  h2_connections: %d per thread per origin\n", o->h2_connections);
  for (size_t i = 0; i < o->nthresholds; i++) {
    printf("  threshold:  %s%s", o->thresholds[i].expr,
           o->thresholds[i].abort_on_fail ? " (abort on fail" : "");
    if (o->thresholds[i].abort_on_fail && o->thresholds[i].delay_abort_ns > 0)
      printf(", not before %s", clock_format_duration(o->thresholds[i].delay_abort_ns, d, sizeof d));
    printf("%s\n", o->thresholds[i].abort_on_fail ? ")" : "");
  }
  for (size_t i = 0; i < o->nprofiles; i++)
    printf("  profile:    %s %s %s every %s\n", o->profiles[i].source, o->profiles[i].type,
           o->profiles[i].url, clock_format_duration(o->profiles[i].window_ns, d, sizeof d));
}

int cmd_check(int argc, char **argv) {
  scenario_overrides ov = {.users = -1, .rate = -1};
  scenario sc;
  char err[2048];
  const char *path = NULL;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(check_help, stdout);
      return 0;
    }
    if (!strcmp(argv[i], "-e") || !strcmp(argv[i], "--env") || !strcmp(argv[i], "--secret")) {
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
      if ((strcmp(argv[i], "--secret") ? scenario_parse_env("check", v, &ov)
                                       : scenario_parse_secret("check", v, &ov)) != 0)
        return EXIT_USAGE;
      i++;
      continue;
    }
    if (argv[i][0] == '-') return cmd_usage_error("check", "unknown flag '%s'", argv[i]);
    if (path) return cmd_usage_error("check", "one scenario at a time (got '%s' and '%s')", path, argv[i]);
    path = argv[i];
  }
  if (!path) return cmd_usage_error("check", "missing SCENARIO.lua");
  if (scenario_load(path, &ov, &sc, err, sizeof err) != 0) { /* exactly what start and master run */
    fprintf(stderr, "loadctl check: %s\n", err);
    scenario_free(&sc);
    return EXIT_USAGE;
  }
  print_plan(path, &sc.opt);
  scenario_free(&sc);
  return 0;
}
