/* test_metrics.c - the OpenMetrics endpoint: a real scrape over 127.0.0.1 returns the counters, error
 * kinds, quantiles, users and workers of the last update; bad listen addresses are refused; every
 * handle is closed afterwards (uv_loop_close == 0). */
#include <arpa/inet.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "master/metrics.h"
#include "tests/support/checkrun.h"

static metrics *m;
static uv_async_t stop;

static void on_stop(uv_async_t *a) {
  metrics_close(m);
  uv_close((uv_handle_t *)a, NULL);
}

static void *run_loop(void *loop) {
  uv_run(loop, UV_RUN_DEFAULT);
  return NULL;
}

/* GET path from port; returns the whole response (malloc'd). */
static char *scrape(int port, const char *path) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  char req[256], *buf = calloc(1, 65536);
  size_t used = 0;
  ssize_t n;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n",
           path);
  ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
  while ((n = read(fd, buf + used, 65535 - used)) > 0) used += (size_t)n;
  close(fd);
  return buf;
}

START_TEST(scrape_exposition) {
  uv_loop_t loop;
  char err[256] = "";
  stats_interval *s;
  pthread_t th;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(metrics_start(&loop, "127.0.0.1:0", &m, err, sizeof err), 0);
  ck_assert_int_gt(metrics_port(m), 0);
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  stats_entry *e = stats_entry_get(s, "POST /api/\"orders\"", "POST");
  for (int i = 0; i < 100; i++) stats_entry_record(e, 20000, 20000);
  stats_entry_fail(e, STATS_ERR_TIMEOUT, "timeout");
  stats_entry_fail(e, STATS_ERR_HTTP5XX, "503");
  stats_entry_fail(e, STATS_ERR_HTTP5XX, "503");
  ck_assert_int_eq(metrics_update(m, s, 42, 3), 0);
  stats_destroy(s);
  uv_async_init(&loop, &stop, on_stop);
  pthread_create(&th, NULL, run_loop, &loop);
  char *r = scrape(metrics_port(m), "/metrics");
  ck_assert_msg(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", r);
  ck_assert_ptr_nonnull(strstr(r, "Content-Type: application/openmetrics-text"));
  ck_assert_ptr_nonnull(strstr(r, "\nloadctl_requests_total{name=\"POST /api/\\\"orders\\\"\"} 100\n"));
  ck_assert_ptr_nonnull(
      strstr(r, "\nloadctl_errors_total{name=\"POST /api/\\\"orders\\\"\",kind=\"http5xx\"} 2\n"));
  ck_assert_ptr_nonnull(
      strstr(r, "\nloadctl_errors_total{name=\"POST /api/\\\"orders\\\"\",kind=\"timeout\"} 1\n"));
  ck_assert_ptr_nonnull(
      strstr(r, "\nloadctl_latency_seconds{name=\"POST /api/\\\"orders\\\"\",quantile=\"0.99\"} 0.020"));
  ck_assert_ptr_nonnull(
      strstr(r, "\nloadctl_latency_seconds_count{name=\"POST /api/\\\"orders\\\"\"} 100\n"));
  ck_assert_ptr_nonnull(strstr(r, "\nloadctl_users 42\n"));
  ck_assert_ptr_nonnull(strstr(r, "\nloadctl_workers 3\n"));
  ck_assert_ptr_nonnull(strstr(r, "\n# EOF\n"));
  free(r);
  r = scrape(metrics_port(m), "/nope");
  ck_assert_msg(strncmp(r, "HTTP/1.1 404", 12) == 0, "%s", r);
  free(r);
  uv_async_send(&stop);
  pthread_join(th, NULL);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(bad_listen) {
  uv_loop_t loop;
  char err[256] = "";
  metrics *x = NULL;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_lt(metrics_start(&loop, "nonsense", &x, err, sizeof err), 0);
  ck_assert_ptr_nonnull(strstr(err, "'nonsense'"));
  ck_assert_int_lt(metrics_start(&loop, "127.0.0.1:99999", &x, err, sizeof err), 0);
  ck_assert_int_lt(metrics_start(&loop, "256.1.1.1:80", &x, err, sizeof err), 0);
  ck_assert_ptr_null(x);
  ck_assert_int_eq(metrics_start(&loop, ":0", &x, err, sizeof err), 0);
  metrics_close(x);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

CHECK_MAIN("metrics", 0, scrape_exposition, bad_listen)
