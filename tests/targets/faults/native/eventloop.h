/* eventloop.h - faultnative's service port on one epoll loop (variant native_rights): every connection
 * served by one thread, non-blocking sockets, keep-alive request heads answered in order. */
#ifndef EVENTLOOP_H
#define EVENTLOOP_H

/* eventloop_route answers one request head on fd (a small reply, written at once); -1 closes the connection.
 */
typedef int (*eventloop_route)(int fd, const char *head);

/* eventloop_run serves lfd's connections on the calling thread until epoll fails; returns -1 then. */
int eventloop_run(int lfd, eventloop_route route);

#endif
