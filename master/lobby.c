/* lobby.c - the page between runs of `loadctl master --web` (see lobby.h): its own short-lived uv loop
 * with the web server, the last run's final figures and report, and POST /api/next to leave. */
#include "master/lobby.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "common/rundir.h"
#include "master/web.h"
#include "master/webapi.h"

typedef struct lobby {
  uv_loop_t loop;
  uv_signal_t sigint, sigterm;
  lobby_next *next;
  int rc;
} lobby;

static const char *lobby_state(void *ud) {
  (void)ud;
  return "idle";
}

static int no_run(void *ud, char *why, size_t len) {
  (void)ud;
  return snprintf(why, len, "no run is going (idle): start one with POST /api/next"), -EBUSY;
}

static int lobby_scale(void *ud, double target, bool is_rate, char *why, size_t len) {
  (void)target, (void)is_rate;
  return no_run(ud, why, len);
}

static int lobby_go(void *ud, double target, bool is_rate, int64_t duration_ns, char *why, size_t len) {
  lobby *l = ud;
  (void)why, (void)len;
  *l->next = (lobby_next){.target = target, .is_rate = is_rate, .duration_ns = duration_ns};
  l->rc = 0;
  uv_stop(&l->loop);
  return 0;
}

static void on_signal(uv_signal_t *s, int signum) {
  lobby *l = s->data;
  (void)signum;
  l->rc = -EINTR;
  uv_stop(&l->loop);
}

static void closed(uv_handle_t *h) {
  (void)h;
}

static const webapi_ops lobby_ops = {
    .scale = lobby_scale, .stop = no_run, .state = lobby_state, .next = lobby_go};

int lobby_wait(const char *listen, const char *token, const char *last_dir, lobby_next *next, char *err,
               size_t errlen) {
  lobby l = {.next = next, .rc = -EINTR};
  json_t *final = webapi_final_of(last_dir, true), *run;
  const char *run_id, *model;
  char path[4200];
  webapi *page = NULL;
  webapi_config wc;
  int rc;

  snprintf(path, sizeof path, "%s/%s", last_dir, RUNDIR_RUN);
  if (!(run = json_load_file(path, 0, NULL))) run = json_object();
  run_id = json_string_value(json_object_get(run, "run_id"));
  model = json_string_value(json_object_get(json_object_get(run, "options"), "model"));
  wc = (webapi_config){.listen = listen,
                       .token = token,
                       .dir = last_dir,
                       .model = model ? model : "closed",
                       .ops = &lobby_ops,
                       .ud = &l,
                       .next_offered = true,
                       .final = final,
                       .run_id = run_id ? run_id : "",
                       .run_info = run};
  uv_loop_init(&l.loop);
  rc = webapi_open(&l.loop, &wc, &page, err, errlen);
  if (rc == 0) {
    uv_signal_init(&l.loop, &l.sigint);
    uv_signal_init(&l.loop, &l.sigterm);
    l.sigint.data = l.sigterm.data = &l;
    uv_signal_start(&l.sigint, on_signal, SIGINT);
    uv_signal_start(&l.sigterm, on_signal, SIGTERM);
    printf("live page: %s (between runs: start the next one from the page, Ctrl-C to leave)\n",
           webapi_url(page));
    fflush(stdout);
    uv_run(&l.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&l.sigint, closed);
    uv_close((uv_handle_t *)&l.sigterm, closed);
    webapi_close(page);
    rc = l.rc;
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);
  uv_loop_close(&l.loop);
  json_decref(final);
  json_decref(run);
  return rc;
}

int lobby_fix_port(const char *listen, char *out, size_t outlen) {
  const char *colon = strrchr(listen, ':');
  const char *port = colon ? colon + 1 : listen;
  int host_len = colon ? (int)(colon - listen) : 0, free_port;
  bool loopback;

  if (web_listen_is_loopback(listen, &loopback) < 0) return -EINVAL;
  if (strcmp(port, "0") != 0) {
    snprintf(out, outlen, "%s", listen);
    return 0;
  }
  free_port = web_free_port(listen);
  if (free_port <= 0) return -EADDRNOTAVAIL;
  snprintf(out, outlen, "%.*s%s%d", host_len, listen, colon ? ":" : "", free_port);
  return 0;
}
