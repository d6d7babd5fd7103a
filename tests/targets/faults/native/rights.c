/* rights.c - the rights service client and its stand-in (variant native_rights). */
#define _GNU_SOURCE
#include "rights.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RIGHTS_DELAY_MS 25 /* the agency API's answer time */

static struct sockaddr_in rights_addr;

/* The stand-in: one request per connection, answered after RIGHTS_DELAY_MS with a policy derived from
 * the album in the path. */
static void *rights_serve(void *arg) {
  int lfd = (int)(intptr_t)arg;
  for (;;) {
    char req[512] = "", reply[128];
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    ssize_t n = recv(fd, req, sizeof req - 1, 0);
    const char *p = n > 0 ? strstr(req, "/albums/") : NULL;
    long album = p ? strtol(p + 8, NULL, 10) : 0;
    struct timespec delay = {0, RIGHTS_DELAY_MS * 1000000L};
    nanosleep(&delay, NULL);
    int len = snprintf(reply, sizeof reply, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%llu",
                       (unsigned long long)(album * 2654435761UL + 1));
    if (send(fd, reply, (size_t)len, MSG_NOSIGNAL) < 0) perror("rights: send");
    close(fd);
  }
  return NULL;
}

int rights_start(void) {
  socklen_t alen = sizeof rights_addr;
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  pthread_t th;
  rights_addr.sin_family = AF_INET;
  rights_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&rights_addr, sizeof rights_addr) < 0 || listen(lfd, 16) < 0 ||
      getsockname(lfd, (struct sockaddr *)&rights_addr, &alen) < 0 ||
      pthread_create(&th, NULL, rights_serve, (void *)(intptr_t)lfd) != 0) {
    perror("faultnative: rights service");
    return -1;
  }
  return 0;
}

uint64_t rights_fetch(long album) {
  char buf[512];
  size_t len = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int n = snprintf(buf, sizeof buf, "GET /v1/albums/%ld/watermark HTTP/1.0\r\nHost: rights\r\n\r\n", album);
  if (fd < 0 || connect(fd, (struct sockaddr *)&rights_addr, sizeof rights_addr) < 0 ||
      send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n) {
    if (fd >= 0) close(fd);
    return 0;
  }
  ssize_t got;
  while (len < sizeof buf - 1 && (got = recv(fd, buf + len, sizeof buf - 1 - len, 0)) > 0) len += (size_t)got;
  close(fd);
  buf[len] = '\0';
  const char *body = strstr(buf, "\r\n\r\n");
  return body ? strtoull(body + 4, NULL, 10) : 0;
}
