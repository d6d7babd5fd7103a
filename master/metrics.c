/* metrics.c - OpenMetrics text for Prometheus scrapes of a running master (--metrics-listen): a tiny
 * HTTP/1.1 responder on the master's uv loop serving the exposition rendered at the last interval. */
#include "master/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hist.h"

#define REQUEST_MAX 8192

typedef struct client {
  uv_tcp_t tcp;
  struct metrics *m;
  char req[REQUEST_MAX];
  size_t used;
  uv_write_t wr;
  char *resp;
  struct client *next;
} client;

struct metrics {
  uv_loop_t *loop;
  uv_tcp_t server;
  int port;
  char *text;
  int refs; /* the server handle + open clients; freed at 0 */
  client *clients;
  int closing;
};

static void unref(metrics *m) {
  if (--m->refs > 0) return;
  free(m->text);
  free(m);
}

static void on_client_closed(uv_handle_t *h) {
  client *c = h->data, **p;
  metrics *m = c->m;

  for (p = &m->clients; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  free(c->resp);
  free(c);
  unref(m);
}

static void close_client(client *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void on_written(uv_write_t *wr, int status) {
  (void)status;
  close_client(wr->data);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  client *c = h->data;
  (void)suggested;
  *buf = uv_buf_init(c->req + c->used, (unsigned)(sizeof c->req - 1 - c->used));
}

/* Answer the request in c->req (complete): 200 with the exposition for GET /metrics or /, else 404/405. */
static void respond(client *c) {
  const char *status = "200 OK", *body = c->m->text ? c->m->text : "# EOF\n";
  const char *type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  char *resp = NULL;
  size_t len = 0;
  FILE *f;
  uv_buf_t buf;

  if (strncmp(c->req, "GET ", 4) != 0) {
    status = "405 Method Not Allowed";
    body = "only GET\n";
    type = "text/plain";
  } else if (strncmp(c->req + 4, "/metrics ", 9) != 0 && strncmp(c->req + 4, "/ ", 2) != 0 &&
             strncmp(c->req + 4, "/metrics?", 9) != 0) {
    status = "404 Not Found";
    body = "see /metrics\n";
    type = "text/plain";
  }
  if (!(f = open_memstream(&resp, &len))) {
    close_client(c);
    return;
  }
  fprintf(f, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
          type, strlen(body), body);
  if (fclose(f) != 0) {
    close_client(c);
    return;
  }
  c->resp = resp;
  c->wr.data = c;
  buf = uv_buf_init(resp, (unsigned)len);
  if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) close_client(c);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  client *c = s->data;
  (void)buf;

  if (n < 0) {
    close_client(c);
    return;
  }
  c->used += (size_t)n;
  c->req[c->used] = 0;
  if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
    uv_read_stop(s);
    respond(c);
  } else if (c->used >= sizeof c->req - 1) {
    close_client(c);
  }
}

static void on_connection(uv_stream_t *server, int status) {
  metrics *m = server->data;
  client *c;

  if (status < 0 || m->closing || !(c = calloc(1, sizeof *c))) return;
  c->m = m;
  uv_tcp_init(m->loop, &c->tcp);
  c->tcp.data = c;
  m->refs++;
  c->next = m->clients;
  m->clients = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
      uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
    close_client(c);
}

/* "127.0.0.1:9464", "[::1]:9464", ":9464" -> addr. 0 or -EINVAL. */
static int parse_listen(const char *listen, struct sockaddr_storage *addr) {
  char host[256];
  const char *colon = strrchr(listen, ':');
  char *end;
  long port;
  size_t hlen;

  if (!colon) return -EINVAL;
  port = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || port < 0 || port > 65535) return -EINVAL;
  hlen = (size_t)(colon - listen);
  if (hlen >= sizeof host) return -EINVAL;
  memcpy(host, listen, hlen);
  host[hlen] = 0;
  if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
    host[hlen - 1] = 0;
    return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)addr) < 0 ? -EINVAL : 0;
  }
  return uv_ip4_addr(hlen ? host : "127.0.0.1", (int)port, (struct sockaddr_in *)addr) < 0 ? -EINVAL : 0;
}

static void on_server_closed(uv_handle_t *h) {
  unref(h->data);
}

int metrics_start(uv_loop_t *loop, const char *listen, metrics **out, char *err, size_t errlen) {
  struct sockaddr_storage addr;
  int namelen = sizeof addr;
  metrics *m;
  int rc;

  memset(&addr, 0, sizeof addr);
  if (parse_listen(listen, &addr) < 0) {
    snprintf(err, errlen, "--metrics-listen '%s': expected HOST:PORT, [IPV6]:PORT or :PORT", listen);
    return -EINVAL;
  }
  if (!(m = calloc(1, sizeof *m))) return -ENOMEM;
  m->loop = loop;
  m->refs = 1;
  uv_tcp_init(loop, &m->server);
  m->server.data = m;
  rc = uv_tcp_bind(&m->server, (const struct sockaddr *)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&m->server, 64, on_connection);
  if (rc < 0) {
    snprintf(err, errlen, "--metrics-listen '%s': %s", listen, uv_strerror(rc));
    uv_close((uv_handle_t *)&m->server, on_server_closed);
    return rc;
  }
  uv_tcp_getsockname(&m->server, (struct sockaddr *)&addr, &namelen);
  m->port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                             : ((struct sockaddr_in *)&addr)->sin_port);
  *out = m;
  return 0;
}

int metrics_port(const metrics *m) {
  return m->port;
}
const char *metrics_text(const metrics *m) {
  return m->text ? m->text : "";
}

/* Label value escaped per the exposition format (backslash, quote, newline). */
static void label(FILE *f, const char *v) {
  for (; *v; v++) {
    if (*v == '\\' || *v == '"') fputc('\\', f);
    if (*v == '\n') {
      fputs("\\n", f);
      continue;
    }
    fputc(*v, f);
  }
}

static void render_entry(FILE *f, const stats_entry *e, int part) {
  static const double qs[] = {0.5, 0.9, 0.95, 0.99, 0.999};

  if (part == 0) {
    fputs("loadctl_requests_total{name=\"", f);
    label(f, e->name);
    fprintf(f, "\"} %" PRId64 "\n", e->count);
  } else if (part == 1) {
    for (int k = STATS_ERR_FIRST; k < STATS_ERR_COUNT; k++) {
      if (!e->err[k]) continue;
      fputs("loadctl_errors_total{name=\"", f);
      label(f, e->name);
      fprintf(f, "\",kind=\"%s\"} %" PRId64 "\n", stats_err_name(k), e->err[k]);
    }
  } else {
    for (size_t q = 0; q < sizeof qs / sizeof qs[0]; q++) {
      fputs("loadctl_latency_seconds{name=\"", f);
      label(f, e->name);
      fprintf(f, "\",quantile=\"%g\"} %.6f\n", qs[q], clock_ms_to_s(hist_pct_ms(e->latency, qs[q] * 100)));
    }
    fputs("loadctl_latency_seconds_sum{name=\"", f);
    label(f, e->name);
    fprintf(f, "\"} %.6f\n",
            e->latency ? clock_us_to_s(hist_mean(e->latency) * (double)hist_count(e->latency)) : 0.0);
    fputs("loadctl_latency_seconds_count{name=\"", f);
    label(f, e->name);
    fprintf(f, "\"} %" PRId64 "\n", e->latency ? hist_count(e->latency) : 0);
  }
}

/* A script's custom metric as the family loadctl_script_NAME (names the scenario API allows only). */
static void render_custom(FILE *f, const metric_state *c) {
  static const double qs[] = {0.5, 0.9, 0.95, 0.99};
  static const char *const types[] = {"", "counter", "gauge", "gauge", "summary"};
  if (strspn(c->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != strlen(c->name) ||
      (c->name[0] >= '0' && c->name[0] <= '9') || c->kind < METRIC_COUNTER || c->kind > METRIC_TREND)
    return;
  fprintf(f, "# TYPE loadctl_script_%s %s\n# HELP loadctl_script_%s The scenario's %s metric %s.\n", c->name,
          types[c->kind], c->name, metric_kind_name(c->kind), c->name);
  if (c->kind == METRIC_COUNTER) fprintf(f, "loadctl_script_%s_total %.17g\n", c->name, c->sum);
  if (c->kind == METRIC_GAUGE) fprintf(f, "loadctl_script_%s %.17g\n", c->name, c->value);
  if (c->kind == METRIC_RATE)
    fprintf(f, "loadctl_script_%s %.17g\n", c->name, c->count ? (double)c->passes / (double)c->count : 0.0);
  if (c->kind != METRIC_TREND) return;
  for (size_t q = 0; q < sizeof qs / sizeof qs[0]; q++)
    fprintf(f, "loadctl_script_%s{quantile=\"%g\"} %.17g\n", c->name, qs[q],
            metric_percentile(c, qs[q] * 100));
  fprintf(f, "loadctl_script_%s_sum %.17g\nloadctl_script_%s_count %" PRId64 "\n", c->name, c->sum, c->name,
          c->count);
}

int metrics_update(metrics *m, const stats_interval *cumulative, int64_t users, int64_t workers) {
  static const char *const heads[] = {
      "# TYPE loadctl_requests counter\n# HELP loadctl_requests Requests completed, errors included.\n",
      "# TYPE loadctl_errors counter\n# HELP loadctl_errors Failed requests by kind.\n",
      ("# TYPE loadctl_latency_seconds summary\n# UNIT loadctl_latency_seconds seconds\n"
       "# HELP loadctl_latency_seconds Latency from intended send time.\n")};
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);

  if (!f) return -ENOMEM;
  for (int part = 0; part < 3; part++) {
    fputs(heads[part], f);
    for (size_t i = 0; cumulative && i < cumulative->nentries; i++)
      render_entry(f, &cumulative->entries[i], part);
  }
  fprintf(f,
          "# TYPE loadctl_users gauge\n# HELP loadctl_users Active virtual users.\nloadctl_users %" PRId64
          "\n",
          users);
  fprintf(f,
          "# TYPE loadctl_workers gauge\n# HELP loadctl_workers Connected workers.\nloadctl_workers %" PRId64
          "\n",
          workers);
  for (size_t i = 0; cumulative && i < cumulative->nmetrics; i++) /* tagged series NAME{tags}: not here */
    if (!strchr(cumulative->metrics[i].name, '{')) render_custom(f, &cumulative->metrics[i]);
  fprintf(f,
          "# TYPE loadctl_dropped counter\n# HELP loadctl_dropped Iterations due with no free VU.\n"
          "loadctl_dropped_total %" PRId64 "\n# EOF\n",
          cumulative ? cumulative->dropped : 0);
  if (fclose(f) != 0) {
    free(buf);
    return -ENOMEM;
  }
  free(m->text);
  m->text = buf;
  return 0;
}

void metrics_close(metrics *m) {
  if (!m || m->closing) return;
  m->closing = 1;
  for (client *c = m->clients; c; c = c->next) close_client(c);
  uv_close((uv_handle_t *)&m->server, on_server_closed);
}
