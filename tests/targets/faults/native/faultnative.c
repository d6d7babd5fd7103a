/* faultnative.c - the fault corpus's native target (variant native_periodic): a small threaded HTTP/1.1
 * image-thumbnail service in C, profiled with perf (no labels: only time windows can explain it).
 * Planted fault: every 6 s, compact_cache rewrites the thumbnail cache on two threads for 2 s, shard by
 * shard, each shard under the cache lock that every thumbnail lookup takes; its CPU is in blend(), the
 * pixel helper every request calls too. Thumbnail requests wait behind the shard being rewritten (on an
 * idle machine as on a busy one: CPU contention alone hardly delays a thread-per-connection service,
 * whose woken threads the kernel runs first). Spans are served on /debug/faults (unix seconds).
 *
 * Variant native_purge (--variant native_purge; no compaction then): the thumbnail index holds ~500 000
 * entries, each with its source path (/albums/A/IMG_N.jpg); every thumbnail request looks its image up in it
 * under the cache lock. An editor's POST /api/albums/A/purge runs purge_album, which walks the whole index
 * under that lock, parsing each entry's path to find the album's (~100-300 ms): thumbnails queue meanwhile.
 * With --fault-off it walks the album's own ids (64 an album). Each purge's span is on /debug/faults.
 *
 * Variant native_disk (--variant native_disk; no compaction, no index): rendered thumbnails are also kept
 * on disk (diskcache.c, 40 000 files under /tmp, removed at exit); every thumbnail request checks its file
 * under the disk cache's lock. Every 5 s quota_loop runs diskcache_enforce_quota, which recounts the
 * cache's bytes by stat-ing every file while it holds that lock (~100-300 ms, mostly in the kernel):
 * thumbnails queue meanwhile. With --fault-off it trusts the running total the cache keeps.
 *
 * Variant native_rights (--variant native_rights; no compaction): the service port runs on one epoll loop
 * (eventloop.c). Thumbnails of agency albums (every AGENCY_EVERY-th) carry the agency's watermark, whose
 * policy comes from the rights service (rights.c) and is kept for POLICY_TTL_S: the first thumbnail request
 * of such an album after that runs refresh_policies on the loop, which asks the rights service for every
 * agency album's policy, one blocking request after another (~25 ms each, ~250 ms in all, off-CPU): every
 * request on the loop waits meanwhile. With --fault-off a thread refreshes the policies in the background.
 *
 * Usage: faultnative --addr 127.0.0.1:PORT --admin-addr 127.0.0.1:PORT --duration 300s
 *                    [--variant native_periodic|native_purge|native_disk|native_rights] [--fault-off]
 * Routes (both ports): GET /api/thumb?id=N, GET /api/meta?id=N, POST /api/albums/A/purge, GET /debug/faults,
 * GET /debug/pid.
 * Built by bench/accuracy with -fno-omit-frame-pointer so that perf -g sees whole stacks. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "diskcache.h"
#include "eventloop.h"
#include "rights.h"

#define MAX_SPANS 256     /* planted spans kept for /debug/faults (a 6 s period: 25 min) */
#define PERIOD_S 6        /* compact_cache every PERIOD_S seconds ... */
#define BURN_S 2          /* ... for BURN_S seconds ... */
#define BURN_THREADS 2    /* ... on this many threads */
#define SHARD_PREP 60     /* blend calls preparing a shard outside the cache lock (~2 ms) ... */
#define SHARD_WRITE 30    /* ... and rewriting it under the lock (~1 ms) */
#define REQUEST_MAX 8192  /* request head bytes */
#define INDEX_SIZE 500000 /* native_purge: images in the thumbnail index ... */
#define ALBUM_SIZE 64     /* ... ALBUM_SIZE to an album */
#define DISK_FILES 40000  /* native_disk: thumbnails in the on-disk cache ... */
#define QUOTA_PERIOD_S 5  /* ... whose quota is enforced every QUOTA_PERIOD_S seconds */
#define POLICY_ALBUMS 128 /* native_rights: policy slots (ids 1-5000: albums 0-78) ... */
#define AGENCY_EVERY 8    /* ... every AGENCY_EVERY-th album an agency's ... */
#define POLICY_TTL_S 5    /* ... whose policies are kept for POLICY_TTL_S seconds */

static volatile uint64_t sink;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER; /* the thumbnail cache */
static uint64_t cache_seed = 1;                              /* under cache_mu */
static pthread_mutex_t spans_mu = PTHREAD_MUTEX_INITIALIZER;
static double spans[MAX_SPANS][2];
static int nspans;
static const char *variant = "native_periodic";
static int fault_off;
static int disk_cache;                   /* native_disk */
static int rights;                       /* native_rights */
static uint64_t policies[POLICY_ALBUMS]; /* native_rights: agency albums' watermark policies ... */
static double policies_at;               /* ... as of then (unix seconds; the loop's, or the refresher's) */

struct thumb_entry { /* native_purge's thumbnail index, by image id; under cache_mu */
  char path[40];     /* /albums/A/IMG_N.jpg, "" when purged */
  uint64_t etag;
};
static struct thumb_entry *thumb_index;

static double unix_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* blend mixes rounds pixels: the helper requests and the background compaction share. */
__attribute__((noinline)) static uint64_t blend(uint64_t px, long rounds) {
  for (long i = 0; i < rounds; i++) {
    px ^= px >> 29;
    px *= 0xbf58476d1ce4e5b9ULL;
    px ^= px >> 32;
  }
  return px;
}

static void record_span(double t0, double t1);

/* refresh_policies asks the rights service for every agency album's watermark policy, one after another. */
__attribute__((noinline)) static void refresh_policies(void) {
  double t0 = unix_now();
  for (long a = 0; a < POLICY_ALBUMS; a += AGENCY_EVERY)
    __atomic_store_n(&policies[a], rights_fetch(a), __ATOMIC_RELAXED);
  policies_at = unix_now(); /* the loop only reads it with the fault on, the refresher only with it off */
  record_span(t0, policies_at);
}

/* watermark_for is image id's watermark policy (0: none), refreshed when older than POLICY_TTL_S. */
__attribute__((noinline)) static uint64_t watermark_for(long id) {
  long album = id / ALBUM_SIZE;
  if (album < 0 || album >= POLICY_ALBUMS || album % AGENCY_EVERY) return 0;
  if (!fault_off && unix_now() - policies_at > POLICY_TTL_S) refresh_policies();
  return __atomic_load_n(&policies[album], __ATOMIC_RELAXED);
}

/* policy_loop refreshes the policies in the background (native_rights --fault-off). */
static void *policy_loop(void *unused) {
  (void)unused;
  for (;;) {
    refresh_policies();
    sleep(POLICY_TTL_S);
  }
  return NULL;
}

/* render_thumb looks image id up in the cache (under its lock) and scales it to a thumbnail (~0.5 ms of
 * blend, outside the lock). */
__attribute__((noinline)) static uint64_t render_thumb(long id) {
  pthread_mutex_lock(&cache_mu);
  uint64_t h = blend((uint64_t)id ^ cache_seed, 200);
  if (thumb_index && id >= 0 && id < INDEX_SIZE) h ^= thumb_index[id].etag;
  pthread_mutex_unlock(&cache_mu);
  if (disk_cache && !diskcache_has(id % DISK_FILES)) h = ~h;
  if (rights) h ^= watermark_for(id);
  for (int row = 0; row < 16; row++) h ^= blend(h + (uint64_t)row, 20000);
  return h;
}

/* compact_cache rewrites the thumbnail cache shard by shard until deadline (unix seconds): each shard is
 * prepared outside the cache lock and written under it. */
__attribute__((noinline)) static void *compact_cache(void *arg) {
  double deadline = *(const double *)arg;
  uint64_t h = 1;
  while (unix_now() < deadline) {
    for (int i = 0; i < SHARD_PREP; i++) h ^= blend(h + (uint64_t)i, 20000);
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < SHARD_WRITE; i++) h ^= blend(h + (uint64_t)i, 20000);
    cache_seed = h | 1;
    pthread_mutex_unlock(&cache_mu);
  }
  sink += h;
  return NULL;
}

static void record_span(double t0, double t1) {
  pthread_mutex_lock(&spans_mu);
  if (nspans < MAX_SPANS) spans[nspans][0] = t0, spans[nspans][1] = t1, nspans++;
  pthread_mutex_unlock(&spans_mu);
  fprintf(stderr, "faultnative: fault span %.3f %.3f\n", t0, t1);
}

static void index_build(void) {
  thumb_index = calloc(INDEX_SIZE, sizeof *thumb_index);
  if (!thumb_index) {
    fprintf(stderr, "faultnative: out of memory for the thumbnail index\n");
    exit(1);
  }
  for (long id = 0; id < INDEX_SIZE; id++) {
    snprintf(thumb_index[id].path, sizeof thumb_index[id].path, "/albums/%ld/IMG_%ld.jpg", id / ALBUM_SIZE,
             id);
    thumb_index[id].etag = blend((uint64_t)id, 4);
  }
}

/* purge_album drops album's thumbnails from the index; returns how many. */
__attribute__((noinline)) static long purge_album(long album) {
  long n = 0, a;
  double t0 = unix_now();
  pthread_mutex_lock(&cache_mu);
  if (fault_off) {
    for (long id = album * ALBUM_SIZE; id >= 0 && id < INDEX_SIZE && id < (album + 1) * ALBUM_SIZE; id++)
      if (thumb_index[id].path[0]) thumb_index[id].path[0] = '\0', n++;
  } else {
    for (long id = 0; id < INDEX_SIZE; id++)
      if (sscanf(thumb_index[id].path, "/albums/%ld/", &a) == 1 && a == album)
        thumb_index[id].path[0] = '\0', n++;
  }
  pthread_mutex_unlock(&cache_mu);
  if (!fault_off) record_span(t0, unix_now());
  return n;
}

static void *compaction_loop(void *unused) {
  (void)unused;
  for (;;) {
    sleep(PERIOD_S);
    double t0 = unix_now(), deadline = t0 + BURN_S;
    pthread_t th[BURN_THREADS];
    int started = 0;
    for (int i = 0; i < BURN_THREADS; i++)
      if (pthread_create(&th[started], NULL, compact_cache, &deadline) == 0) started++;
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    record_span(t0, unix_now());
  }
  return NULL;
}

/* quota_loop keeps the disk cache under its quota (native_disk). */
static void *quota_loop(void *unused) {
  (void)unused;
  for (;;) {
    sleep(QUOTA_PERIOD_S);
    double t0 = unix_now();
    sink += (uint64_t)diskcache_enforce_quota(!fault_off);
    if (!fault_off) record_span(t0, unix_now());
  }
  return NULL;
}

/* cleanup_on_signal waits for the signal that ends the process (SIGTERM, SIGINT, the duration's SIGALRM),
 * blocked in every thread, and removes the disk cache before exiting. */
static void *cleanup_on_signal(void *set) {
  int sig = 0;
  sigwait(set, &sig);
  diskcache_remove();
  _exit(0);
  return NULL;
}

static int send_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n <= 0) return -1;
    buf += n, len -= (size_t)n;
  }
  return 0;
}

/* The head and the body in one send: two small writes meet Nagle's algorithm and the client's delayed ACK,
 * and every keep-alive response would wait ~40 ms for nothing. */
static int reply(int fd, int status, const char *body) {
  char msg[256 + MAX_SPANS * 48 + 64];
  int n = snprintf(msg, sizeof msg,
                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                   status, status == 200 ? "OK" : "Not Found", strlen(body), body);
  if (n < 0 || (size_t)n >= sizeof msg) return -1;
  return send_all(fd, msg, (size_t)n);
}

static void faults_json(char *out, size_t size) {
  size_t pos = (size_t)snprintf(out, size, "{\"variant\":\"%s\",\"spans\":[", variant);
  pthread_mutex_lock(&spans_mu);
  for (int i = 0; i < nspans && pos < size; i++)
    pos += (size_t)snprintf(out + pos, size - pos, "%s[%.3f,%.3f]", i ? "," : "", spans[i][0], spans[i][1]);
  pthread_mutex_unlock(&spans_mu);
  if (pos < size) snprintf(out + pos, size - pos, "]}");
}

static long query_id(const char *target) {
  const char *q = strstr(target, "id=");
  return q ? strtol(q + 3, NULL, 10) : 0;
}

/* route answers one request head ("GET /path HTTP/1.1..."); -1 when the connection must close. */
static int route(int fd, const char *head) {
  char method[8], target[512], body[MAX_SPANS * 48 + 64];
  if (sscanf(head, "%7s %511s", method, target) != 2) return -1;
  if (strncmp(target, "/api/thumb", 10) == 0) {
    snprintf(body, sizeof body, "{\"thumb\":\"%016llx\"}",
             (unsigned long long)render_thumb(query_id(target)));
  } else if (strncmp(target, "/api/meta", 9) == 0) {
    snprintf(body, sizeof body, "{\"etag\":\"%016llx\"}",
             (unsigned long long)blend((uint64_t)query_id(target), 20000));
  } else if (thumb_index && strncmp(target, "/api/albums/", 12) == 0 && strstr(target, "/purge")) {
    snprintf(body, sizeof body, "{\"purged\":%ld}", purge_album(strtol(target + 12, NULL, 10)));
  } else if (strcmp(target, "/debug/faults") == 0) {
    faults_json(body, sizeof body);
  } else if (strcmp(target, "/debug/pid") == 0) {
    snprintf(body, sizeof body, "%ld", (long)getpid());
  } else {
    return reply(fd, 404, "{\"error\":\"not found\"}");
  }
  return reply(fd, 200, body);
}

/* Reads until buf (len bytes so far, NUL-terminated) holds a whole request head; returns the end of
 * the head (after its blank line), or NULL when the peer closed or the head is too long. */
static char *read_head(int fd, char *buf, size_t *len) {
  char *end;
  while (!(end = strstr(buf, "\r\n\r\n"))) {
    ssize_t n = *len < REQUEST_MAX ? recv(fd, buf + *len, REQUEST_MAX - *len, 0) : -1;
    if (n <= 0) return NULL;
    *len += (size_t)n;
    buf[*len] = '\0';
  }
  return end + 4;
}

/* One connection: keep-alive GET requests without bodies, one at a time. */
static void *serve_conn(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[REQUEST_MAX + 1] = "", *end;
  size_t len = 0;
  while ((end = read_head(fd, buf, &len)) && route(fd, buf) == 0) {
    size_t used = (size_t)(end - buf);
    memmove(buf, end, len - used + 1);
    len -= used;
  }
  close(fd);
  return NULL;
}

static int listen_on(const char *addr) {
  char host[64];
  int port;
  struct sockaddr_in sa = {.sin_family = AF_INET};
  if (sscanf(addr, "%63[^:]:%d", host, &port) != 2 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
      (ntohl(sa.sin_addr.s_addr) >> 24) != 127 || port < 0 || port > 65535) {
    fprintf(stderr, "faultnative: %s: want 127.x.y.z:PORT (loopback only)\n", addr);
    exit(1);
  }
  sa.sin_port = htons((uint16_t)port);
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0) {
    fprintf(stderr, "faultnative: listen %s: %s\n", addr, strerror(errno));
    exit(1);
  }
  return fd;
}

static void *accept_loop(void *arg) {
  int lfd = (int)(intptr_t)arg;
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    pthread_t th;
    if (fd < 0) continue;
    if (pthread_create(&th, NULL, serve_conn, (void *)(intptr_t)fd) != 0) {
      close(fd);
      continue;
    }
    pthread_detach(th);
  }
  return NULL;
}

static int usage(void) {
  fprintf(stderr,
          "usage: faultnative [--addr A] [--admin-addr A] [--duration SECONDS] "
          "[--variant native_periodic|native_purge|native_disk|native_rights] [--fault-off]\n");
  return 1;
}

int main(int argc, char **argv) {
  const char *addr = "127.0.0.1:8080", *admin = "127.0.0.1:6060";
  long duration_s = 300;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--fault-off"))
      fault_off = 1;
    else if (i + 1 == argc)
      return usage();
    else if (!strcmp(argv[i], "--variant"))
      variant = argv[++i];
    else if (!strcmp(argv[i], "--addr"))
      addr = argv[++i];
    else if (!strcmp(argv[i], "--admin-addr"))
      admin = argv[++i];
    else if (!strcmp(argv[i], "--duration"))
      duration_s = strtol(argv[++i], NULL, 10);
    else
      return usage();
  }
  int purge = !strcmp(variant, "native_purge");
  disk_cache = !strcmp(variant, "native_disk");
  rights = !strcmp(variant, "native_rights");
  if (!purge && !disk_cache && !rights && strcmp(variant, "native_periodic")) {
    fprintf(stderr,
            "faultnative: --variant %s: want native_periodic, native_purge, native_disk or native_rights\n",
            variant);
    return 1;
  }
  static sigset_t ending; /* native_disk: blocked in every thread, cleanup_on_signal takes them */
  sigemptyset(&ending);
  sigaddset(&ending, SIGTERM), sigaddset(&ending, SIGINT), sigaddset(&ending, SIGALRM);
  pthread_t th;
  if (purge) index_build();
  int app = listen_on(addr), adm = listen_on(admin);
  if (disk_cache &&
      (pthread_sigmask(SIG_BLOCK, &ending, NULL) != 0 ||
       pthread_create(&th, NULL, cleanup_on_signal, &ending) != 0 || diskcache_open(DISK_FILES) != 0)) {
    diskcache_remove();
    return 1;
  }
  if (pthread_create(&th, NULL, accept_loop, (void *)(intptr_t)adm) != 0 ||
      (!purge && !disk_cache && !rights && pthread_create(&th, NULL, compaction_loop, NULL) != 0) ||
      (disk_cache && pthread_create(&th, NULL, quota_loop, NULL) != 0) || (rights && rights_start() != 0) ||
      (rights && fault_off && pthread_create(&th, NULL, policy_loop, NULL) != 0)) {
    fprintf(stderr, "faultnative: cannot start threads\n");
    diskcache_remove();
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  fprintf(stderr, "faultnative: on %s, admin on %s, pid %ld, exits after %lds\n", addr, admin, (long)getpid(),
          duration_s);
  alarm((unsigned)(duration_s > 0 ? duration_s : 300));
  if (rights) return eventloop_run(app, route) == 0 ? 0 : (perror("faultnative: epoll"), 1);
  accept_loop((void *)(intptr_t)app);
  return 0;
}
