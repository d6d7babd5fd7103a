/* eventloop.c - faultnative's service port on one epoll loop (variant native_rights). */
#define _GNU_SOURCE
#include "eventloop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENTLOOP_FDS 4096  /* connections above this descriptor are refused */
#define EVENTLOOP_HEAD 8192 /* request head bytes */
#define EVENTLOOP_BATCH 64  /* events taken per epoll_wait */

struct conn {
  size_t len;
  char buf[EVENTLOOP_HEAD + 1];
};
static struct conn *conns[EVENTLOOP_FDS];

static void drop(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  free(conns[fd]);
  conns[fd] = NULL;
}

static void accept_all(int ep, int lfd) {
  int fd;
  while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (fd >= EVENTLOOP_FDS) {
      close(fd);
      continue;
    }
    conns[fd] = calloc(1, sizeof *conns[fd]);
    if (!conns[fd] || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) drop(ep, fd);
  }
}

/* serve reads what fd has and answers every whole request head in it; -1 when the connection must close. */
static int serve(int fd, eventloop_route route) {
  struct conn *c = conns[fd];
  for (;;) {
    if (c->len >= EVENTLOOP_HEAD) return -1;
    ssize_t n = recv(fd, c->buf + c->len, EVENTLOOP_HEAD - c->len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return -1;
    if (n < 0) break;
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
  }
  char *end;
  while ((end = strstr(c->buf, "\r\n\r\n"))) {
    size_t used = (size_t)(end + 4 - c->buf);
    if (route(fd, c->buf) != 0) return -1;
    memmove(c->buf, c->buf + used, c->len - used + 1);
    c->len -= used;
  }
  return 0;
}

int eventloop_run(int lfd, eventloop_route route) {
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, got[EVENTLOOP_BATCH];
  int ep = epoll_create1(0);
  int flags = fcntl(lfd, F_GETFL);
  if (ep < 0 || flags < 0 || fcntl(lfd, F_SETFL, flags | O_NONBLOCK) < 0 ||
      epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
    return -1;
  for (;;) {
    int n = epoll_wait(ep, got, EVENTLOOP_BATCH, -1);
    if (n < 0 && errno != EINTR) return -1;
    for (int i = 0; i < n; i++) {
      if (got[i].data.fd == lfd)
        accept_all(ep, lfd);
      else if (serve(got[i].data.fd, route) != 0)
        drop(ep, got[i].data.fd);
    }
  }
}
