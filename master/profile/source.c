/* source.c - the profile collectors of source.h: one thread per options.profile entry pulling pprof over
 * HTTP (libcurl easy), running commands, or reading files, saving raw windows and index.jsonl as they go. */
#include "master/profile/source.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "master/profile/folded.h"
#include "master/profile/perfsplit.h"
#include "master/profile/pprof.h"

typedef struct collector {
  options_profile opt;
  char type[32];
  size_t idx;
  int cumulative; /* target refused ?seconds: sample cumulative profiles every window */
  pthread_t thread;
  int started;
  struct source_set *set;
  int perf_windows; /* perf windows saved, and the off-CPU waits they held (save_offcpu) */
  size_t perf_waits;
} collector;

struct source_set {
  collector *cols;
  size_t n;
  atomic_int stop;
  atomic_size_t ok_windows;
  pthread_mutex_t lock; /* index file */
  FILE *index;
  char dir[1024];
};

typedef struct buf {
  unsigned char *data;
  size_t len, cap;
} buf;

static int64_t now_ms(void) {
  return clock_ns_to_ms(clock_wall_ns());
}

/* Sleep up to ms, waking early when the set stops. Returns 1 if stopped. */
static int nap(source_set *set, int64_t ms) {
  int64_t end = clock_mono_ns() + clock_ms_to_ns(ms);
  while (!atomic_load(&set->stop) && clock_mono_ns() < end) {
    struct timespec ts = {0, 20 * CLOCK_NS_PER_MS};
    nanosleep(&ts, NULL);
  }
  return atomic_load(&set->stop);
}

static int buf_add(buf *b, const void *data, size_t len) {
  if (b->len + len > PPROF_MAX_INPUT) return -E2BIG;
  if (b->len + len + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 65536;
    while (ncap < b->len + len + 1) ncap *= 2;
    unsigned char *n = realloc(b->data, ncap);
    if (!n) return -ENOMEM;
    b->data = n;
    b->cap = ncap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

/* ---- index and files ---- */

/* An index line of a window of type (the collector's, or "offcpu" beside a perf window). */
static void record_as(collector *c, const char *type, int64_t start_ms, int64_t end_ms, const char *file,
                      const char *status, const char *error, size_t bytes, int64_t samples) {
  source_set *set = c->set;
  json_t *line = json_pack("{sI sI ss ss ss so ss so sI sI}", "start_ms", (json_int_t)start_ms, "end_ms",
                           (json_int_t)end_ms, "source", c->opt.source, "type", type, "url", c->opt.url,
                           "file", file ? json_string(file) : json_null(), "status", status, "error",
                           error ? json_string(error) : json_null(), "bytes", (json_int_t)bytes, "samples",
                           (json_int_t)samples);
  char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
  if (text) {
    pthread_mutex_lock(&set->lock);
    fprintf(set->index, "%s\n", text);
    fflush(set->index);
    pthread_mutex_unlock(&set->lock);
  }
  if (strcmp(status, "ok") == 0) atomic_fetch_add(&set->ok_windows, 1);
  free(text);
  json_decref(line);
}

static void record(collector *c, int64_t start_ms, int64_t end_ms, const char *file, const char *status,
                   const char *error, size_t bytes, int64_t samples) {
  record_as(c, c->type, start_ms, end_ms, file, status, error, bytes, samples);
}

static int write_file(const char *dir, const char *name, const void *data, size_t len) {
  char path[1400], tmp[1410];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) return -errno;
  size_t w = fwrite(data, 1, len, f);
  if (fclose(f) != 0 || w != len) {
    remove(tmp);
    return -EIO;
  }
  return rename(tmp, path) ? -errno : 0;
}

static int save_window(collector *c, int64_t start_ms, int64_t end_ms, const buf *b,
                       const perfsplit_span *span);

/* perf script text of one command cut by sample time into SOURCE_PERF_SPLIT_MS windows (perfsplit.h), each
 * saved as its own window. 1 when at least one was saved ok. */
static int save_perf_split(collector *c, const perfsplit_span *span, const buf *b) {
  perfsplit_window *w = NULL;
  size_t n = 0;
  int rc = perfsplit_split((const char *)b->data, b->len, span, SOURCE_PERF_SPLIT_MS, &w, &n), ok = 0;
  if (rc) {
    record(c, span->start_ms, span->end_ms, NULL, "error",
           rc == -E2BIG ? "perf recording spans too many windows" : strerror(-rc), b->len, 0);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    buf piece = {(unsigned char *)w[i].text, w[i].len, w[i].len + 1};
    ok |= save_window(c, w[i].start_ms, w[i].end_ms, &piece, NULL);
  }
  perfsplit_free(w, n);
  return ok;
}

/* The off-CPU profile of a perf window holding waits (perfsplit.h), saved as a window of type "offcpu"
 * beside the CPU one. Without any wait in a collector's first SOURCE_OFFCPU_WARN windows, a warning: the
 * recording has no sched:sched_switch events, so waits off CPU are invisible (CPU samples only). */
static void save_offcpu(collector *c, int64_t start_ms, int64_t end_ms, const buf *b, size_t waits) {
  char err[256] = "", name[256];
  pprof_profile *p = NULL;
  c->perf_windows++, c->perf_waits += waits;
  if (!c->perf_waits && c->perf_windows == SOURCE_OFFCPU_WARN)
    LOG(LOG_WARN,
        "profile[%zu]: perf recorded no sched:sched_switch waits in %d windows: CPU samples only, "
        "time off CPU (I/O, locks, sleeps) is invisible (docs/profiling.md, perf)",
        c->idx + 1, SOURCE_OFFCPU_WARN);
  if (!waits) return;
  char *text = NULL;
  size_t len = 0;
  int rc =
      folded_from_perf_events((const char *)b->data, b->len, FOLDED_PERF_OFFCPU, &p, NULL, err, sizeof err);
  snprintf(name, sizeof name, "%lld-%lld-%s-offcpu.folded", (long long)start_ms, (long long)end_ms,
           c->opt.source);
  if (!rc) rc = folded_write(p, 0, &text, &len);
  if (!rc) rc = write_file(c->set->dir, name, text, len);
  if (rc)
    record_as(c, "offcpu", start_ms, end_ms, NULL, "error", err[0] ? err : strerror(-rc), b->len, 0);
  else
    record_as(c, "offcpu", start_ms, end_ms, name, "ok", NULL, b->len, pprof_total(p, 0));
  free(text);
  pprof_free(p);
}

/* Decode a window (pprof, folded or perf script text), save it, and index it ok, or error. perf script
 * text with a span (a command's) is split by sample time first. 1 when ok. */
static int save_window(collector *c, int64_t start_ms, int64_t end_ms, const buf *b,
                       const perfsplit_span *span) {
  char err[256] = "", name[256];
  pprof_profile *p = NULL;
  int is_pprof = b->len >= 2 && b->data[0] == 0x1f && b->data[1] == 0x8b;
  int rc, perf = 0;
  size_t waits = 0;
  if (b->len == 0) {
    record(c, start_ms, end_ms, NULL, "error", "empty profile", 0, 0);
    return 0;
  }
  for (size_t i = 0; i < b->len && !is_pprof; i++) is_pprof = b->data[i] < 0x09; /* binary: raw protobuf */
  if (is_pprof) {
    rc = pprof_decode(b->data, b->len, &p, err, sizeof err);
  } else {
    rc = folded_parse((const char *)b->data, b->len, NULL, NULL, &p, err, sizeof err);
    if (rc == -EINVAL && (strstr((const char *)b->data, "\n\t") || strstr((const char *)b->data, "\n  "))) {
      perf = 1;
      if (span) return save_perf_split(c, span, b);
      rc = folded_from_perf_events((const char *)b->data, b->len, FOLDED_PERF_CPU, &p, &waits, err,
                                   sizeof err);
    }
  }
  if (perf && !rc) save_offcpu(c, start_ms, end_ms, b, waits);
  if (rc) {
    record(c, start_ms, end_ms, NULL, "error", err[0] ? err : pprof_strerror(rc), b->len, 0);
    return 0;
  }
  snprintf(name, sizeof name, "%lld-%lld-%s-%s.%s", (long long)start_ms, (long long)end_ms, c->opt.source,
           c->type, is_pprof ? (b->data[0] == 0x1f ? "pb.gz" : "pb") : "folded");
  char *text = NULL;
  size_t textlen = 0;
  if (perf) rc = folded_write(p, 0, &text, &textlen);
  if (!rc)
    rc = perf ? write_file(c->set->dir, name, text, textlen) : write_file(c->set->dir, name, b->data, b->len);
  if (rc)
    record(c, start_ms, end_ms, NULL, "error", strerror(-rc), b->len, 0);
  else
    record(c, start_ms, end_ms, name, "ok", NULL, b->len, pprof_total(p, 0));
  free(text);
  pprof_free(p);
  return rc == 0;
}

/* ---- pprof over HTTP ---- */

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
  return buf_add(userdata, ptr, size * nmemb) ? 0 : size * nmemb;
}

static int on_progress(void *userdata, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
  (void)a, (void)b, (void)c, (void)d;
  return atomic_load(&((source_set *)userdata)->stop) ? 1 : 0;
}

/* GET url into b; *status is the HTTP status or 0 on a transport error (message in err). */
static int http_get(source_set *set, const char *url, int64_t timeout_s, buf *b, long *status, char *err) {
  CURL *h = curl_easy_init();
  if (!h) return -ENOMEM;
  err[0] = '\0';
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, set);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
  CURLcode rc = curl_easy_perform(h);
  *status = 0;
  if (rc == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  else if (!err[0])
    snprintf(err, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
  curl_easy_cleanup(h);
  return rc == CURLE_OK ? 0 : -EIO;
}

static int64_t window_s(const collector *c) {
  int64_t w = c->opt.window_ns > 0 ? c->opt.window_ns : SOURCE_DEFAULT_WINDOW_NS;
  return (w + CLOCK_NS_PER_S - 1) / CLOCK_NS_PER_S; /* whole seconds, rounded up */
}

static void window_url(const collector *c, char *url, size_t size) {
  if (c->cumulative || strstr(c->opt.url, "seconds=") || strcmp(c->type, "goroutine") == 0)
    snprintf(url, size, "%s", c->opt.url);
  else
    snprintf(url, size, "%s%cseconds=%lld", c->opt.url, strchr(c->opt.url, '?') ? '&' : '?',
             (long long)window_s(c));
}

/* Body text of an error answer, one line, for the index. */
static void body_text(const buf *b, char *out, size_t size) {
  size_t n = b->len < size - 1 ? b->len : size - 1;
  for (size_t i = 0; i < n; i++) out[i] = (b->data[i] >= 32 && b->data[i] < 127) ? (char)b->data[i] : ' ';
  out[n] = '\0';
  while (n && out[n - 1] == ' ') out[--n] = '\0';
}

/* One window: returns the pause (ms) before the next, or -1 when stopping. */
static int64_t pprof_window(collector *c) {
  source_set *set = c->set;
  buf b = {0};
  char url[1200], err[CURL_ERROR_SIZE + 64], text[200];
  long status = 0;
  int64_t w = window_s(c), pause = 0;
  if (c->cumulative && nap(set, w * CLOCK_MS_PER_S)) return -1;
  window_url(c, url, sizeof url);
  int64_t start = now_ms();
  int rc = http_get(set, url, w + 30, &b, &status, err);
  int64_t end = now_ms();
  if (atomic_load(&set->stop)) {
    record(c, start, end, NULL, "gap", "run ended before the window", 0, 0);
    pause = -1;
  } else if (rc == 0 && status == 200) {
    if (!save_window(c, start, end, &b, NULL))
      pause = w * CLOCK_MS_PER_S;
    else if (!c->cumulative && end - start < w * CLOCK_MS_PER_S)
      pause = start + w * CLOCK_MS_PER_S - end; /* never faster than W */
  } else if (status == 500 && b.data && strstr((char *)b.data, "already in use")) {
    body_text(&b, text, sizeof text);
    record(c, start, end, NULL, "gap", text, b.len, 0);
    pause = 1000; /* someone else is profiling: retry soon */
  } else if (status >= 400 && status < 500 && !c->cumulative && strcmp(c->type, "cpu") != 0) {
    c->cumulative = 1; /* no delta profiles here: sample cumulative ones instead */
    body_text(&b, text, sizeof text);
    record(c, start, end, NULL, "gap", text, b.len, 0);
  } else {
    if (rc == 0) snprintf(err, sizeof err, "HTTP %ld from %.200s", status, url);
    record(c, start, end, NULL, "error", err, b.len, 0);
    pause = w * CLOCK_MS_PER_S;
  }
  free(b.data);
  return pause;
}

/* Poll url once; merge the snapshot into *acc. 0, or -1 with the reason in err. */
static int poll_once(collector *c, pprof_profile **acc, char *err, size_t errlen) {
  buf b = {0};
  long status = 0;
  char cerr[CURL_ERROR_SIZE + 64], derr[256];
  pprof_profile *p = NULL;
  int rc = http_get(c->set, c->opt.url, SOURCE_POLL_TIMEOUT_S, &b, &status, cerr);
  if (rc == 0 && status == 200 && pprof_decode(b.data, b.len, &p, derr, sizeof derr) == 0) {
    if (!*acc)
      *acc = p;
    else if (pprof_merge(*acc, p) < 0)
      rc = -1, snprintf(err, errlen, "snapshots of %.200s do not merge (sample types changed)", c->opt.url);
    if (*acc != p) pprof_free(p);
  } else {
    snprintf(err, errlen, "%.200s", rc ? cerr : status != 200 ? "HTTP error" : derr);
    if (rc == 0 && status != 200) snprintf(err, errlen, "HTTP %ld from %.200s", status, c->opt.url);
    rc = -1;
  }
  free(b.data);
  return rc;
}

/* One goroutine window: snapshots polled every SOURCE_POLL_MS for W seconds, summed into one profile (values
 * = goroutines observed at each stack and label set, fgprof-style), saved as one window. Pause before the
 * next: 0, or -1 when stopping. */
static int64_t goroutine_window(collector *c) {
  int64_t w = window_s(c) * CLOCK_MS_PER_S, start = now_ms(), end;
  pprof_profile *acc = NULL;
  char err[300] = "";
  int stopped = 0;
  while (!(stopped = atomic_load(&c->set->stop)) && now_ms() - start < w) {
    int64_t t = now_ms();
    poll_once(c, &acc, err, sizeof err); /* a failed snapshot leaves its reason in err */
    int64_t left = t + SOURCE_POLL_MS - now_ms();
    if (left > 0 && nap(c->set, left)) stopped = 1;
    if (stopped) break;
  }
  end = now_ms();
  unsigned char *data = NULL;
  size_t len = 0;
  if (!acc) {
    record(c, start, end, NULL, stopped ? "gap" : "error", stopped ? "run ended before the window" : err, 0,
           0);
  } else if (pprof_encode(acc, &data, &len) == 0) {
    buf b = {data, len, len};
    save_window(c, start, end, &b, NULL);
  } else {
    record(c, start, end, NULL, "error", "cannot encode the polled goroutine profile", 0, 0);
  }
  free(data);
  pprof_free(acc);
  return stopped ? -1 : 0;
}

static void pprof_loop(collector *c) {
  int64_t pause;
  int poll = strcmp(c->type, "goroutine") == 0;
  while (!atomic_load(&c->set->stop) && (pause = poll ? goroutine_window(c) : pprof_window(c)) >= 0)
    if (pause && nap(c->set, pause)) break;
}

/* ---- command ---- */

extern char **environ;

/* environ plus LOADCTL_WINDOW_S and LOADCTL_PROFILES_DIR, built before fork (the child only execs). */
static char **command_env(const collector *c, char *wbuf, size_t wsize, char *dbuf, size_t dsize) {
  size_t n = 0;
  while (environ && environ[n]) n++;
  char **env = calloc(n + 3, sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "LOADCTL_WINDOW_S=", 17) && strncmp(environ[i], "LOADCTL_PROFILES_DIR=", 21))
      env[k++] = environ[i];
  snprintf(wbuf, wsize, "LOADCTL_WINDOW_S=%lld", (long long)window_s(c));
  snprintf(dbuf, dsize, "LOADCTL_PROFILES_DIR=%s", c->set->dir);
  env[k++] = wbuf;
  env[k++] = dbuf;
  return env;
}

/* Start /bin/sh -c <command> in its own process group, stdout to a pipe (*outfd), stderr appended to
 * profiles/command-<i>.stderr. Only async-signal-safe calls between fork and exec. */
static pid_t spawn(const collector *c, int *outfd) {
  int fds[2];
  char path[1400], wbuf[64], dbuf[1100];
  char *const argv[] = {"sh", "-c", (char *)c->opt.url, NULL};
  char **env = command_env(c, wbuf, sizeof wbuf, dbuf, sizeof dbuf);
  snprintf(path, sizeof path, "%s/command-%zu.stderr", c->set->dir, c->idx);
  int errfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (!env || pipe2(fds, O_CLOEXEC)) {
    free(env);
    if (errfd >= 0) close(errfd);
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(fds[1], 1);
    if (errfd >= 0) dup2(errfd, 2);
    execve("/bin/sh", argv, env);
    _exit(127);
  }
  free(env);
  close(fds[1]);
  if (errfd >= 0) close(errfd);
  if (pid < 0) {
    close(fds[0]);
    return -1;
  }
  *outfd = fds[0];
  return pid;
}

/* A command's output while it runs: perf script text is cut into windows as it comes (a command that
 * records for the whole run, perfsplit.h), so that its buffer stays small and the windows appear live. */
typedef struct stream {
  collector *c;
  perfsplit_stream ps;
  buf *b;
} stream;

static int is_perf_text(const buf *b) {
  return b->len > 2 && b->data[0] != 0x1f &&
         (strstr((const char *)b->data, "\n\t") || strstr((const char *)b->data, "\n  "));
}

/* Save the windows perfsplit_stream_cut gives (final: all the rest); drop their text from the buffer. */
static void stream_cut(stream *st, int final) {
  perfsplit_window *w = NULL;
  size_t n = 0, used = 0;
  if (!is_perf_text(st->b)) return;
  st->ps.span.end_ms = now_ms();
  st->ps.span.mono_end_ms = clock_ns_to_ms(clock_mono_ns());
  if (perfsplit_stream_cut(&st->ps, (const char *)st->b->data, st->b->len, SOURCE_PERF_SPLIT_MS, final, &w,
                           &n, &used))
    return;
  for (size_t i = 0; i < n; i++) {
    buf piece = {(unsigned char *)w[i].text, w[i].len, w[i].len + 1};
    save_window(st->c, w[i].start_ms, w[i].end_ms, &piece, NULL);
  }
  perfsplit_free(w, n);
  memmove(st->b->data, st->b->data + used, st->b->len - used);
  st->b->len -= used;
  if (st->b->cap) st->b->data[st->b->len] = '\0';
}

/* Read the child's stdout into st->b until EOF or stop, cutting perf text into windows about once a second
 * (a command that records for the whole run has no gaps). Returns 1 if stopped. */
static int drain(stream *st, int fd, int *too_big) {
  char chunk[65536];
  int64_t next_cut = clock_mono_ns() + CLOCK_NS_PER_S;
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    if (atomic_load(&st->c->set->stop)) return 1;
    if (clock_mono_ns() >= next_cut) {
      stream_cut(st, 0);
      next_cut = clock_mono_ns() + CLOCK_NS_PER_S;
    }
    int r = poll(&pfd, 1, 100);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    if (buf_add(st->b, chunk, (size_t)n)) *too_big = 1;
  }
}

/* The buffer up to its last event header (perf script text; the event after it may be torn off by a kill). */
static void drop_torn(buf *b) {
  size_t i = b->len;
  while (i > 1 && !(b->data[i - 2] == '\n' && b->data[i - 1] != ' ' && b->data[i - 1] != '\t')) i--;
  b->len = i > 1 ? i - 1 : 0;
  if (b->cap) b->data[b->len] = '\0';
}

/* The pause after a command that ran from start to end: a quick one runs once per window, not in a loop. */
static int64_t pause_after(const collector *c, int64_t start, int64_t end) {
  int64_t w = window_s(c) * CLOCK_MS_PER_S;
  return end - start < w ? start + w - end : 0;
}

static int64_t command_window(collector *c) {
  buf b = {0};
  int fd = -1, too_big = 0, wstatus = 0;
  char err[300];
  int64_t start = now_ms(), mono_start = clock_ns_to_ms(clock_mono_ns()), pause = 0;
  stream st = {c, {{start, start, mono_start, mono_start}, start, NULL, 0}, &b};
  pid_t pid = spawn(c, &fd);
  if (pid < 0) {
    snprintf(err, sizeof err, "cannot start /bin/sh: %s", strerror(errno));
    record(c, start, now_ms(), NULL, "error", err, 0, 0);
    return window_s(c) * CLOCK_MS_PER_S;
  }
  int stopped = drain(&st, fd, &too_big);
  if (stopped) {
    kill(-pid, SIGTERM);
    struct timespec ts = {0, 200 * CLOCK_NS_PER_MS};
    nanosleep(&ts, NULL);
    kill(-pid, SIGKILL);
  }
  close(fd);
  waitpid(pid, &wstatus, 0);
  int64_t end = now_ms();
  perfsplit_span span = {start, end, mono_start, clock_ns_to_ms(clock_mono_ns())};
  if (st.ps.from_ms > start) { /* windows were cut as they came: the rest of the recording */
    if (stopped) drop_torn(&b);
    stream_cut(&st, 1);
    pause = stopped ? -1 : pause_after(c, start, end);
  } else if (stopped) {
    record(c, start, end, NULL, "gap", "run ended before the command finished", 0, 0);
    pause = -1;
  } else if (too_big || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || b.len == 0) {
    snprintf(err, sizeof err, "command %s (exit %d, %zu bytes); see command-%zu.stderr",
             too_big ? "printed too much" : "failed", WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, b.len,
             c->idx);
    record(c, start, end, NULL, "error", err, b.len, 0);
    pause = window_s(c) * CLOCK_MS_PER_S;
  } else {
    pause = save_window(c, start, end, &b, &span) ? pause_after(c, start, end) : window_s(c) * CLOCK_MS_PER_S;
  }
  perfsplit_stream_free(&st.ps);
  free(b.data);
  return pause;
}

static void command_loop(collector *c) {
  int64_t pause;
  while (!atomic_load(&c->set->stop) && (pause = command_window(c)) >= 0)
    if (pause && nap(c->set, pause)) break;
}

/* ---- file ---- */

static void file_read(collector *c, int64_t start_ms) {
  buf b = {0};
  char chunk[65536], err[300];
  FILE *f = fopen(c->opt.url, "rb");
  int too_big = 0;
  size_t n;
  if (!f) {
    snprintf(err, sizeof err, "%.200s: %s", c->opt.url, strerror(errno));
    record(c, start_ms, now_ms(), NULL, "error", err, 0, 0);
    return;
  }
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (buf_add(&b, chunk, n)) too_big = 1;
  fclose(f);
  if (too_big)
    record(c, start_ms, now_ms(), NULL, "error", "file exceeds 64 MiB", b.len, 0);
  else
    save_window(c, start_ms, now_ms(), &b, NULL);
  free(b.data);
}

static void *collector_main(void *arg) {
  collector *c = arg;
  prctl(PR_SET_NAME, "lc-profile", 0, 0, 0);
  int64_t start = now_ms();
  if (strcmp(c->opt.source, "pprof") == 0) {
    pprof_loop(c);
  } else if (strcmp(c->opt.source, "command") == 0) {
    command_loop(c);
  } else {
    while (!nap(c->set, 1000)) {
    }
    file_read(c, start);
  }
  return NULL;
}

/* ---- start / stop ---- */

static void resolve_type(collector *c) {
  static const char *const named[] = {"heap", "allocs", "mutex", "block", "goroutine"};
  snprintf(c->type, sizeof c->type, "%s", c->opt.type[0] ? c->opt.type : "cpu");
  if (strcmp(c->opt.source, "pprof") != 0 || strcmp(c->type, "cpu") != 0) return;
  const char *q = strchr(c->opt.url, '?');
  size_t len = q ? (size_t)(q - c->opt.url) : strlen(c->opt.url);
  for (size_t i = 0; i < sizeof named / sizeof *named; i++) {
    size_t k = strlen(named[i]);
    if (len > k && c->opt.url[len - k - 1] == '/' && strncmp(c->opt.url + len - k, named[i], k) == 0)
      snprintf(c->type, sizeof c->type, "%s", named[i]);
  }
}

static int check_entry(const options_profile *o, size_t i, char *err, size_t errlen) {
  if (strcmp(o->source, "pprof") && strcmp(o->source, "command") && strcmp(o->source, "file")) {
    snprintf(err, errlen, "profile[%zu]: source '%s' is not supported here (pprof, command, file)", i + 1,
             o->source);
    return -EINVAL;
  }
  if (!o->url[0]) {
    snprintf(err, errlen, "profile[%zu]: %s source needs url (%s)", i + 1, o->source,
             strcmp(o->source, "pprof") == 0  ? "http://host:port/debug/pprof/profile"
             : strcmp(o->source, "file") == 0 ? "a path"
                                              : "a command line");
    return -EINVAL;
  }
  return 0;
}

int source_start(const options_profile *list, size_t n, const char *profiles_dir, source_set **out, char *err,
                 size_t errlen) {
  char path[1400], why[512];
  int rc;
  *out = NULL;
  if (errlen) err[0] = '\0';
  source_set *set = calloc(1, sizeof *set);
  if (!set || !(set->cols = calloc(n ? n : 1, sizeof *set->cols))) {
    free(set);
    return -ENOMEM;
  }
  snprintf(set->dir, sizeof set->dir, "%s", profiles_dir);
  snprintf(path, sizeof path, "%s/%s", profiles_dir, SOURCE_INDEX);
  pthread_mutex_init(&set->lock, NULL);
  if ((mkdir(profiles_dir, 0755) && errno != EEXIST) || !(set->index = fopen(path, "a"))) {
    rc = -errno;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    source_stop(set);
    return rc;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  for (size_t i = 0; i < n; i++) {
    collector *c = &set->cols[set->n];
    if (check_entry(&list[i], i, why, sizeof why)) { /* skipped alone: the valid entries still run */
      size_t used = strlen(err);
      if (used + 3 < errlen) snprintf(err + used, errlen - used, "%s%s", used ? "; " : "", why);
      continue;
    }
    set->n++;
    c->opt = list[i];
    c->idx = i;
    c->set = set;
    resolve_type(c);
    c->started = pthread_create(&c->thread, NULL, collector_main, c) == 0;
  }
  *out = set;
  return 0;
}

void source_stop(source_set *set) {
  if (!set) return;
  atomic_store(&set->stop, 1);
  for (size_t i = 0; i < set->n; i++)
    if (set->cols[i].started) pthread_join(set->cols[i].thread, NULL);
  if (set->index) fclose(set->index);
  pthread_mutex_destroy(&set->lock);
  free(set->cols);
  free(set);
}

size_t source_ok_windows(source_set *set) {
  return atomic_load(&set->ok_windows);
}

int source_load_window(const char *profiles_dir, const source_window *w, pprof_profile **out, char *err,
                       size_t errlen) {
  char path[1400], chunk[65536];
  size_t n, len = strlen(w->file);
  buf b = {0};
  int rc = 0;
  *out = NULL;
  if (!w->file[0]) return -ENOENT;
  snprintf(path, sizeof path, "%s/%s", profiles_dir, w->file);
  if (len < 7 || strcmp(w->file + len - 7, ".folded") != 0) return pprof_decode_file(path, out, err, errlen);
  FILE *f = fopen(path, "rb");
  if (!f) {
    rc = -errno;
    snprintf(err, errlen, "%.1300s: %s", path, strerror(errno));
    return rc;
  }
  while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0) rc = buf_add(&b, chunk, n);
  fclose(f);
  if (!rc)
    rc = folded_parse((const char *)b.data, b.len, NULL, NULL, out, err, errlen);
  else
    snprintf(err, errlen, "%.1300s: %s", path, strerror(-rc));
  free(b.data);
  return rc;
}
