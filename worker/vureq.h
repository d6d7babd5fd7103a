/* vureq.h - the request a VU's http.* call describes (worker/vureq.c). */
#ifndef LOADCTL_VUREQ_H
#define LOADCTL_VUREQ_H

#include <lua.h>

#include "worker/http.h"
#include "worker/vu.h"

/* The request of __send's arguments (method, url, name, body, headers, timeout_s, expect, redirects,
 * auth_user, auth_password, auth_digest, tags) at stack positions base..base + 11 into req; its strings stay
 * on L's stack and in v. 0, or a Lua error. */
int vureq_prepare(lua_State *L, vu *v, int base, http_request *req);

#endif
