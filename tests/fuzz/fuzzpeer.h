/* fuzzpeer.h - the hostile server of the response-path harnesses (fuzz_h1resp, fuzz_h2resp): on the
 * harness's uv loop, on 127.0.0.1 port 0, each connection gets the current answer bytes as soon as the
 * client has sent anything, then a FIN; the server side closes when the client does. */
#ifndef LOADCTL_FUZZPEER_H
#define LOADCTL_FUZZPEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Listen on loop and write "http://127.0.0.1:PORT/fuzz" into url. 0, or -1 (nothing to listen on). */
int fuzzpeer_listen(uv_loop_t *loop, char *url, size_t urlsize);
/* The bytes every connection accepted from now on answers with (borrowed until the next call). */
void fuzzpeer_answer(const uint8_t *data, size_t len);
/* Server sides still open. */
int fuzzpeer_open(void);

#endif
