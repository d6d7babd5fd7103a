/* fuzzpeer.h - the hostile server of fuzz_h1resp: on the harness's uv loop, the server end of a
 * connection the harness made (a socketpair) gets the current answer bytes as soon as the client has sent
 * anything, then a FIN; the server side closes when the client does. */
#ifndef LOADCTL_FUZZPEER_H
#define LOADCTL_FUZZPEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Serve the connected stream socket fd on loop (fd is owned from now on, closed with the server side).
 * 0, or a negative uv error (fd is closed then too). */
int fuzzpeer_adopt(uv_loop_t *loop, int fd);
/* The bytes every connection adopted from now on answers with (borrowed until the next call). */
void fuzzpeer_answer(const uint8_t *data, size_t len);
/* Server sides still open. */
int fuzzpeer_open(void);

#endif
