/* diskcache.c - faultnative's on-disk thumbnail cache (diskcache.h). */
#define _GNU_SOURCE
#include "diskcache.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARDS 16                 /* shard directories per level (two levels) */
#define QUOTA_BYTES (512LL << 20) /* the cache's quota (the seeded files stay under it) */

static pthread_mutex_t disk_mu = PTHREAD_MUTEX_INITIALIZER; /* the cache's files and total */
static char root[64];
static long nfiles;
static long long total_bytes; /* under disk_mu: kept by whoever adds or deletes a file */

static void shard_dir(char *out, size_t size, long a, long b) {
  if (b < 0)
    snprintf(out, size, "%s/%lx", root, a);
  else
    snprintf(out, size, "%s/%lx/%lx", root, a, b);
}

static void thumb_path(char *out, size_t size, long id) {
  snprintf(out, size, "%s/%lx/%lx/%ld.jpg", root, id % SHARDS, (id / SHARDS) % SHARDS, id);
}

int diskcache_open(long files) {
  char path[128];
  snprintf(root, sizeof root, "/tmp/faultnative-XXXXXX");
  if (!mkdtemp(root)) return perror("faultnative: mkdtemp"), -1;
  for (long a = 0; a < SHARDS; a++)
    for (long b = -1; b < SHARDS; b++) {
      shard_dir(path, sizeof path, a, b);
      if (mkdir(path, 0700) != 0) return perror(path), -1;
    }
  for (long id = 0; id < files; id++) {
    thumb_path(path, sizeof path, id);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    off_t size = 2048 + (id * 7919) % 6144; /* sparse: the bytes are not written */
    if (fd < 0 || ftruncate(fd, size) != 0) return perror(path), -1;
    close(fd);
    total_bytes += size;
    nfiles = id + 1;
  }
  return 0;
}

int diskcache_has(long id) {
  char path[128];
  struct stat st;
  thumb_path(path, sizeof path, id);
  pthread_mutex_lock(&disk_mu);
  int ok = stat(path, &st) == 0;
  pthread_mutex_unlock(&disk_mu);
  return ok;
}

/* Sums the sizes of the files in one shard directory. */
static long long shard_bytes(long a, long b) {
  char path[128];
  long long sum = 0;
  shard_dir(path, sizeof path, a, b);
  DIR *d = opendir(path);
  if (!d) return 0;
  struct dirent *e;
  struct stat st;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, 0) == 0) sum += st.st_size;
  closedir(d);
  return sum;
}

long long diskcache_enforce_quota(int recount) {
  pthread_mutex_lock(&disk_mu);
  if (recount) {
    long long sum = 0;
    for (long a = 0; a < SHARDS; a++)
      for (long b = 0; b < SHARDS; b++) sum += shard_bytes(a, b);
    total_bytes = sum;
  }
  char path[128];
  struct stat st;
  for (long id = 0; total_bytes > QUOTA_BYTES && id < nfiles; id++) { /* the oldest first */
    thumb_path(path, sizeof path, id);
    if (stat(path, &st) == 0 && unlink(path) == 0) total_bytes -= st.st_size;
  }
  long long bytes = total_bytes;
  pthread_mutex_unlock(&disk_mu);
  return bytes;
}

void diskcache_remove(void) {
  char path[128];
  if (!root[0]) return;
  for (long id = 0; id < nfiles; id++) thumb_path(path, sizeof path, id), unlink(path);
  for (long a = 0; a < SHARDS; a++)
    for (long b = SHARDS - 1; b >= -1; b--) shard_dir(path, sizeof path, a, b), rmdir(path);
  rmdir(root);
}
