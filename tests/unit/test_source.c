/* test_source.c - the profile collectors against a tiny in-process HTTP server on 127.0.0.1: a busy CPU
 * profiler (500 "cpu profiling already in use") becomes gap windows and is retried, a target without
 * delta profiles falls back to cumulative, a hung target does not delay stop, command and file sources. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "master/profile/pprof.h"
#include "master/profile/source.h"
#include "tests/support/checkrun.h"

static int listen_fd = -1, port;
static atomic_int busy_left, server_quit, hits_cpu, hits_mutex_seconds, hits_mutex_plain, hits_goroutine;
static unsigned char *cpu_fixture;
static size_t cpu_fixture_len;

static void reply(int fd, int status, const void *body, size_t len) {
  char head[256];
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                   status, len);
  if (write(fd, head, (size_t)n) < 0 || write(fd, body, len) < 0) return;
}

static void *conn_main(void *arg) {
  int fd = (int)(intptr_t)arg;
  char req[4096] = "";
  size_t used = 0;
  while (used < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
    ssize_t n = read(fd, req + used, sizeof req - 1 - used);
    if (n <= 0) break;
    used += (size_t)n;
    req[used] = '\0';
  }
  if (strncmp(req, "GET /busy/profile", 17) == 0) {
    atomic_fetch_add(&hits_cpu, 1);
    if (atomic_fetch_sub(&busy_left, 1) > 0) {
      const char *msg = "Could not enable CPU profiling: cpu profiling already in use\n";
      reply(fd, 500, msg, strlen(msg));
    } else {
      reply(fd, 200, cpu_fixture, cpu_fixture_len);
    }
  } else if (strncmp(req, "GET /old/mutex?seconds=", 23) == 0) {
    atomic_fetch_add(&hits_mutex_seconds, 1);
    reply(fd, 400, "seconds not supported", 21);
  } else if (strncmp(req, "GET /old/mutex ", 15) == 0) {
    atomic_fetch_add(&hits_mutex_plain, 1);
    reply(fd, 200, cpu_fixture, cpu_fixture_len);
  } else if (strncmp(req, "GET /debug/pprof/goroutine ", 27) == 0) {
    atomic_fetch_add(&hits_goroutine, 1);
    reply(fd, 200, cpu_fixture, cpu_fixture_len);
  } else if (strncmp(req, "GET /empty", 10) == 0) {
    reply(fd, 200, "", 0);
  } else if (strncmp(req, "GET /hang", 9) == 0) {
    for (int i = 0; i < 200 && !atomic_load(&server_quit); i++) usleep(50000);
  } else {
    reply(fd, 404, "no", 2);
  }
  close(fd);
  return NULL;
}

static void *server_main(void *arg) {
  (void)arg;
  for (;;) {
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0) return NULL;
    pthread_t t;
    if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) == 0)
      pthread_detach(t);
    else
      close(fd);
  }
}

static pthread_t server_thread;

static void server_up(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  char path[1024];
  const char *src = getenv("LOADCTL_SRC");
  snprintf(path, sizeof path, "%s/tests/unit/fixtures/shop_cpu.pb.gz", src ? src : ".");
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(EXIT_FAILURE);
  }
  cpu_fixture = malloc(1 << 20);
  cpu_fixture_len = fread(cpu_fixture, 1, 1 << 20, f);
  fclose(f);
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) || listen(listen_fd, 64)) {
    perror("test server on 127.0.0.1");
    exit(EXIT_FAILURE);
  }
  getsockname(listen_fd, (struct sockaddr *)&a, &alen);
  port = ntohs(a.sin_port);
  pthread_create(&server_thread, NULL, server_main, NULL);
}

static void server_down(void) {
  atomic_store(&server_quit, 1);
  shutdown(listen_fd, SHUT_RDWR);
  close(listen_fd);
  pthread_join(server_thread, NULL); /* cpu_fixture stays: detached connection threads may still read it */
}

static char dir[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* Remove the previous test's temporary directory (the parent of profiles/). */
static void drop_dir(void) {
  char *slash = dir[0] ? strrchr(dir, '/') : NULL;
  if (!slash) return;
  *slash = '\0';
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  dir[0] = '\0';
}

static void make_dir(void) {
  drop_dir();
  snprintf(dir, sizeof dir, "/tmp/loadctl-test-source-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  size_t len = strlen(dir);
  snprintf(dir + len, sizeof dir - len, "/profiles"); /* source_start creates it */
}

static size_t count_status(const source_window *w, size_t n, const char *status, const char *type) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(w[i].status, status) == 0 && (!type || strcmp(w[i].type, type) == 0)) k++;
  return k;
}

/* A profile entry of source and type ("" for the default) with a window of window_ms; its url from the
 * printf format url_fmt (which may hold the test server's port). */
__attribute__((format(printf, 4, 5))) static options_profile entry(const char *source, const char *type,
                                                                   int64_t window_ms, const char *url_fmt,
                                                                   ...) {
  options_profile o;
  va_list ap;
  memset(&o, 0, sizeof o);
  snprintf(o.source, sizeof o.source, "%s", source);
  snprintf(o.type, sizeof o.type, "%s", type);
  va_start(ap, url_fmt);
  vsnprintf(o.url, sizeof o.url, url_fmt, ap);
  va_end(ap);
  o.window_ns = clock_ms_to_ns(window_ms);
  return o;
}

static void run_for(source_set *set, int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
  int64_t t0 = clock_mono_ns();
  source_stop(set);
  ck_assert_msg(clock_mono_ns() - t0 < 1500000000LL, "stop took %lld ms",
                (long long)((clock_mono_ns() - t0) / 1000000));
}

/* Start the n entries on the run directory (make_dir first), run them for ms, stop them (promptly: run_for)
 * and read back profiles/index.jsonl: its windows in *w (free it); how many there are. */
static size_t run_entries(const options_profile *o, size_t n, int ms, source_window **w) {
  source_set *set = NULL;
  char err[256];
  size_t nw = 0;
  ck_assert_msg(source_start(o, n, dir, &set, err, sizeof err) == 0, "%s", err);
  run_for(set, ms);
  *w = NULL;
  ck_assert_int_eq(source_read_index(dir, w, &nw), 0);
  return nw;
}

START_TEST(busy_cpu_profiler_is_a_gap) {
  options_profile o[2] = {entry("pprof", "", 1000, "http://127.0.0.1:%d/busy/profile", port),
                          /* type cpu, the options default: the URL says mutex */
                          entry("pprof", "cpu", 1000, "http://127.0.0.1:%d/old/mutex", port)};
  atomic_store(&busy_left, 2);
  make_dir();
  source_window *w;
  size_t n = run_entries(o, 2, 3500, &w);
  ck_assert_uint_eq(count_status(w, n, "gap", "cpu"), 2); /* two busy answers: two gaps, then retried */
  ck_assert_uint_eq(count_status(w, n, "error", "cpu"), 0);
  size_t ok = count_status(w, n, "ok", "cpu");
  ck_assert_msg(ok >= 1 && ok <= 2, "ok cpu windows %zu", ok); /* gap@0 gap@1 ok@2 (ok@3): one per W */
  for (size_t i = 0; i < n; i++) {
    if (strcmp(w[i].type, "cpu") == 0 && strcmp(w[i].status, "gap") == 0)
      ck_assert_ptr_nonnull(strstr(w[i].error, "cpu profiling already in use"));
    if (strcmp(w[i].status, "ok") == 0) {
      char path[600];
      pprof_profile *p = NULL;
      char perr[256];
      ck_assert_int_eq(w[i].samples, 352);
      ck_assert(w[i].end_ms >= w[i].start_ms && w[i].start_ms > 1700000000000LL);
      snprintf(path, sizeof path, "%s/%s", dir, w[i].file);
      ck_assert_msg(pprof_decode_file(path, &p, perr, sizeof perr) == 0, "%s: %s", path, perr);
      ck_assert_int_eq(pprof_total(p, 0), 352);
      pprof_free(p);
      ck_assert_int_eq(source_load_window(dir, &w[i], &p, perr, sizeof perr), 0);
      ck_assert_int_eq(pprof_total(p, 1), 3520000000LL);
      pprof_free(p);
    }
  }
  /* mutex: ?seconds refused once -> one gap, then cumulative every W without ?seconds */
  ck_assert_int_eq(atomic_load(&hits_mutex_seconds), 1);
  ck_assert_uint_eq(count_status(w, n, "gap", "mutex"), 1);
  ck_assert_uint_eq(count_status(w, n, "ok", "mutex"), (size_t)atomic_load(&hits_mutex_plain));
  ck_assert(atomic_load(&hits_mutex_plain) >= 2);
  free(w);
}
END_TEST

/* goroutine: polled every SOURCE_POLL_MS without ?seconds, each window's snapshots summed into one file */
START_TEST(goroutine_polled) {
  options_profile o = entry("pprof", "goroutine", 1000, "http://127.0.0.1:%d/debug/pprof/goroutine", port);
  char err[256];
  make_dir();
  source_window *w;
  size_t n = run_entries(&o, 1, 2300, &w);
  ck_assert_uint_ge(count_status(w, n, "ok", "goroutine"), 1);
  int hits = atomic_load(&hits_goroutine);
  ck_assert_msg(hits >= 8 && hits <= 24, "%d snapshots in 2.3 s at one per %d ms", hits, SOURCE_POLL_MS);
  /* a full window holds the sum of its snapshots: the fixture's total times the polls in it */
  pprof_profile *p = NULL, *one = NULL;
  ck_assert_int_eq(source_load_window(dir, &w[0], &p, err, sizeof err), 0);
  ck_assert_int_eq(pprof_decode(cpu_fixture, cpu_fixture_len, &one, err, sizeof err), 0);
  ck_assert_int_eq(pprof_total(p, 0) % pprof_total(one, 0), 0);
  ck_assert_int_ge(pprof_total(p, 0) / pprof_total(one, 0), 5);
  pprof_free(p);
  pprof_free(one);
  free(w);
}
END_TEST

START_TEST(hung_target_stops_fast) {
  options_profile o = entry("pprof", "", 5000, "http://127.0.0.1:%d/hang", port);
  make_dir();
  source_window *w;
  size_t n = run_entries(&o, 1, 300, &w); /* asserts stop < 1.5 s */
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(w[0].status, "gap");
  ck_assert_str_eq(w[0].error, "run ended before the window");
  free(w);
}
END_TEST

START_TEST(unreachable_is_error_not_fatal) {
  options_profile o = entry("pprof", "", 1000, "http://127.0.0.1:1/debug/pprof/profile");
  make_dir();
  source_window *w;
  size_t n = run_entries(&o, 1, 1500, &w); /* error at 0, pause W, error at 1 s */
  ck_assert_uint_eq(count_status(w, n, "error", "cpu"), 2);
  free(w);
}
END_TEST

START_TEST(empty_or_corrupt_answer_is_error) {
  options_profile o[2] = {entry("pprof", "", 1000, "http://127.0.0.1:%d/empty", port),
                          entry("command", "", 1000, "printf 'no count here\n'")};
  make_dir();
  source_window *w;
  size_t n = run_entries(o, 2, 500, &w);
  ck_assert_uint_eq(n, 2);
  for (size_t i = 0; i < n; i++) {
    ck_assert_str_eq(w[i].status, "error");
    ck_assert_str_eq(w[i].file, "");
    ck_assert_str_eq(w[i].error, strcmp(w[i].source, "pprof") == 0
                                     ? "empty profile"
                                     : "line 1: count 'here' is not a non-negative integer");
  }
  free(w);
}
END_TEST

START_TEST(command_and_file_sources) {
  char file[600], err[256];
  make_dir();
  /* beside profiles/ */
  snprintf(file, sizeof file, "%.*s/stacks.folded", (int)(strrchr(dir, '/') - dir), dir);
  FILE *f = fopen(file, "w");
  fputs("main;fileonly 9\n", f);
  fclose(f);
  options_profile o[3] = {
      entry("command", "folded", 1000, "printf 'main;a 3\\nmain;b %%s\\n' \"$LOADCTL_WINDOW_S\"; sleep 0.3"),
      entry("file", "folded", 0, "%s", file), entry("command", "", 5000, "echo oops >&2; exit 3")};
  source_window *w;
  size_t n = run_entries(o, 3, 2500, &w);
  size_t cmd_ok = 0, file_ok = 0, failed = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(w[i].source, "command") == 0 && strcmp(w[i].status, "ok") == 0) {
      cmd_ok++;
      ck_assert_int_eq(w[i].samples, 4); /* 3 + LOADCTL_WINDOW_S (1) */
      ck_assert_ptr_nonnull(strstr(w[i].file, "-command-folded.folded"));
    }
    if (strcmp(w[i].source, "file") == 0 && strcmp(w[i].status, "ok") == 0) {
      file_ok++;
      ck_assert_int_eq(w[i].samples, 9);
    }
    if (strcmp(w[i].status, "ok") == 0) {
      pprof_profile *p = NULL;
      ck_assert_msg(source_load_window(dir, &w[i], &p, err, sizeof err) == 0, "%s", err);
      ck_assert_int_eq(pprof_total(p, 0), w[i].samples);
      pprof_free(p);
    } else {
      pprof_profile *p = (pprof_profile *)1;
      ck_assert_int_eq(source_load_window(dir, &w[i], &p, err, sizeof err), -ENOENT);
      ck_assert_ptr_null(p);
    }
    if (strcmp(w[i].status, "error") == 0) {
      failed++;
      ck_assert_ptr_nonnull(strstr(w[i].error, "exit 3"));
    }
  }
  ck_assert_msg(cmd_ok == 3, "command windows %zu", cmd_ok); /* at 0, 1 and 2 s: one per W, not a busy loop */
  ck_assert_uint_eq(file_ok, 1);
  ck_assert_uint_eq(failed, 1); /* fails at 0, then waits W = 5 s: stopped before the retry */
  char errpath[600], text[64] = "";
  snprintf(errpath, sizeof errpath, "%s/command-2.stderr", dir);
  f = fopen(errpath, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(fgets(text, sizeof text, f));
  fclose(f);
  ck_assert_str_eq(text, "oops\n");
  free(w);
}
END_TEST

START_TEST(bad_entries) {
  options_profile o[3];
  source_set *set = (source_set *)1;
  source_window *w = NULL;
  size_t n = 0;
  char err[512], file[600];
  make_dir();
  snprintf(file, sizeof file, "%.*s/stacks.folded", (int)(strrchr(dir, '/') - dir), dir);
  FILE *f = fopen(file, "w");
  fputs("main;kept 4\n", f);
  fclose(f);
  o[0] = entry("nonsense", "", 0, "http://127.0.0.1:4040");
  o[1] = entry("file", "folded", 0, "%s", file); /* valid: must run although its neighbours are bad */
  o[2] = entry("pprof", "", 0, "%s", "");        /* no url */
  ck_assert_int_eq(source_start(o, 3, dir, &set, err, sizeof err), 0);
  ck_assert_ptr_nonnull(
      strstr(err, "profile[1]: source 'nonsense' is not supported here (pprof, command, file)"));
  ck_assert_ptr_nonnull(strstr(err, "profile[3]: pprof source needs url"));
  source_stop(set);
  ck_assert_int_eq(source_read_index(dir, &w, &n), 0);
  ck_assert_uint_eq(n, 1); /* the file source's one window, nothing for the two bad entries */
  ck_assert_str_eq(w[0].status, "ok");
  ck_assert_str_eq(w[0].source, "file");
  ck_assert_int_eq(w[0].samples, 4);
  free(w);
  ck_assert_int_eq(source_start(NULL, 0, "/proc/nope/profiles", &set, err, sizeof err), -ENOENT);
  ck_assert_int_eq(source_start(NULL, 0, dir, &set, err, sizeof err), 0);
  ck_assert_str_eq(err, "");
  ck_assert_uint_eq(source_ok_windows(set), 0);
  source_stop(set);
}
END_TEST

int main(void) {
  Suite *s = suite_create("source");
  TCase *tc = tcase_create("source");
  server_up();
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, busy_cpu_profiler_is_a_gap);
  tcase_add_test(tc, hung_target_stops_fast);
  tcase_add_test(tc, goroutine_polled);
  tcase_add_test(tc, unreachable_is_error_not_fatal);
  tcase_add_test(tc, empty_or_corrupt_answer_is_error);
  tcase_add_test(tc, command_and_file_sources);
  tcase_add_test(tc, bad_entries);
  suite_add_tcase(s, tc);
  int rc = check_run_mode(s, CK_NOFORK); /* the server thread lives in this process */
  drop_dir();
  server_down();
  return rc;
}
