/* vureq.c - the request a VU's http.* call describes: __send's arguments (url, headers, expect, auth,
 * timeout, redirects, tags) checked and turned into an http_request, with traceparent and baggage. */
#include "worker/vureq.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "worker/trace.h"
#include "worker/vu_internal.h"

/* Headers table (stack index idx) -> v->headers, plus traceparent and baggage; returns the count. */
static int collect_headers(lua_State *L, vu *v, int idx) {
  int n = 0;
  if (lua_istable(L, idx)) {
    lua_pushnil(L);
    /* Each accepted value stays on the stack (below a copy of its key) so its string outlives the loop. The
     * stack grows by what it holds (a room for all VU_MAX_HEADERS at once was grown again after every GC,
     * which shrinks a coroutine's stack). */
    while (n < VU_MAX_HEADERS && (lua_checkstack(L, 3) || luaL_error(L, "too many headers")) &&
           lua_next(L, idx)) {
      if (lua_type(L, -2) == LUA_TSTRING &&
          (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
        v->headers[n].name = lua_tostring(L, -2);
        v->headers[n].value = lua_tostring(L, -1);
        n++;
        lua_pushvalue(L, -2);
      } else {
        lua_pop(L, 1);
      }
    }
    if (n == VU_MAX_HEADERS) lua_pop(L, 1);
  }
  trace_new_span_id(&v->host->rng, v->span_id);
  trace_traceparent(v->trace_id, v->span_id, v->traceparent);
  if (strcmp(v->baggage_name, v->name)) { /* percent-encode once per name change, not per request */
    if (trace_baggage(v->baggage, sizeof v->baggage, v->host->run_id, v->sc ? v->sc->name : v->host->scenario,
                      v->name) < 0)
      v->baggage_name[0] = '\0';
    else
      memcpy(v->baggage_name, v->name, sizeof v->name);
  }
  v->headers[n++] = (http_header){"traceparent", v->traceparent};
  v->headers[n++] = (http_header){"baggage", v->baggage};
  return n;
}

static int build_url(vu *v, const char *url) {
  const char *target = v->host->opt->target;
  size_t tlen, ulen = strlen(url);
  int len;
  if (ulen > 0 && ulen < sizeof v->url_arg && !strcmp(v->url_arg, url)) return 0; /* same as last time */
  v->url_arg[0] = '\0';
  tlen = strlen(target);
  if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
    len = snprintf(v->url, sizeof v->url, "%s", url);
  } else {
    while (tlen > 0 && target[tlen - 1] == '/') tlen--;
    len = snprintf(v->url, sizeof v->url, "%.*s%s%s", (int)tlen, target, url[0] == '/' ? "" : "/", url);
  }
  if (len <= 0 || (size_t)len >= sizeof v->url) return -E2BIG;
  if (ulen < sizeof v->url_arg) memcpy(v->url_arg, url, ulen + 1);
  return 0;
}

static void read_expect(lua_State *L, vu *v, int idx) {
  v->nexpect = 0;
  if (lua_isnumber(L, idx)) {
    v->expect[v->nexpect++] = (int)lua_tointeger(L, idx);
  } else if (lua_istable(L, idx)) {
    for (int i = 1; v->nexpect < 16; i++) {
      lua_rawgeti(L, idx, i);
      if (!lua_isnumber(L, -1)) {
        lua_pop(L, 1);
        break;
      }
      v->expect[v->nexpect++] = (int)lua_tointeger(L, -1);
      lua_pop(L, 1);
    }
  }
}

/* String argument idx into dst, cut to size - 1 bytes. */
static void copy_arg(lua_State *L, int idx, char *dst, size_t size) {
  size_t len;
  const char *src = luaL_checklstring(L, idx, &len);
  if (len >= size) len = size - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

/* n bytes of src in base64 (RFC 4648, padded) at dst, NUL-terminated. */
static void base64(const unsigned char *src, size_t n, char *dst) {
  static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v =
        (unsigned)src[i] << 16 | (i + 1 < n ? (unsigned)src[i + 1] << 8 : 0) | (i + 2 < n ? src[i + 2] : 0);
    *dst++ = digits[v >> 18 & 63];
    *dst++ = digits[v >> 12 & 63];
    *dst++ = i + 1 < n ? digits[v >> 6 & 63] : '=';
    *dst++ = i + 2 < n ? digits[v & 63] : '=';
  }
  *dst = 0;
}

/* auth = {user, password, type}: basic as an Authorization header (every backend), digest handed to curl
 * (it answers the server's challenge). Arguments 9-11 of __send (at base + 8..10). 0, or a Lua error. */
static int read_auth(lua_State *L, vu *v, http_request *req, int base) {
  size_t ul, pl;
  const char *user = lua_tolstring(L, base + 8, &ul), *password = lua_tolstring(L, base + 9, &pl);
  unsigned char plain[2 * VU_AUTH_PART_MAX + 1];
  if (!user) return 0;
  if (!password || ul > VU_AUTH_PART_MAX || pl > VU_AUTH_PART_MAX)
    return luaL_error(L, "http.*: auth user and password must be strings of at most %d bytes",
                      VU_AUTH_PART_MAX);
  if (lua_toboolean(L, base + 10)) {
    req->auth_user = user, req->auth_password = password, req->auth_digest = 1;
    return 0;
  }
  memcpy(plain, user, ul);
  plain[ul] = ':';
  memcpy(plain + ul + 1, password, pl);
  memcpy(v->authorization, "Basic ", 6);
  base64(plain, ul + 1 + pl, v->authorization + 6);
  v->headers[req->nheaders++] = (http_header){"Authorization", v->authorization};
  return 0;
}

int vureq_prepare(lua_State *L, vu *v, int base, http_request *req) {
  size_t body_len = 0;
  const char *body = lua_isstring(L, base + 3) ? lua_tolstring(L, base + 3, &body_len) : NULL;

  copy_arg(L, base, v->method, sizeof v->method);
  copy_arg(L, base + 2, v->name, sizeof v->name);
  if (lua_type(L, base + 11) == LUA_TSTRING)
    copy_arg(L, base + 11, v->tags, sizeof v->tags); /* canonical: the prelude built it */
  else
    v->tags[0] = '\0';
  if (build_url(v, luaL_checkstring(L, base + 1)) != 0)
    return luaL_error(L, "http.*: URL longer than %d bytes", VU_URL_MAX);
  read_expect(L, v, base + 6);
  req->method = v->method;
  req->url = v->url;
  req->headers = v->headers;
  req->nheaders = (size_t)collect_headers(L, v, base + 4);
  read_auth(L, v, req, base);
  req->body = body;
  req->body_len = body_len;
  req->timeout_ms = clock_ns_to_ms(v->host->opt->timeout_ns);
  if (lua_type(L, base + 5) == LUA_TNUMBER)
    req->timeout_ms = (int64_t)clock_s_to_ms(lua_tonumber(L, base + 5));
  else if (lua_type(L, base + 5) == LUA_TSTRING) {
    int64_t ns;
    if (clock_parse_duration(lua_tostring(L, base + 5), &ns) != 0 || ns <= 0)
      return luaL_error(L, "http.*: timeout '%s' is not a duration such as \"500ms\"",
                        lua_tostring(L, base + 5));
    req->timeout_ms = clock_ns_to_ms(ns) > 0 ? clock_ns_to_ms(ns) : 1;
  }
  req->max_body = (size_t)v->host->opt->max_body;
  req->max_redirects =
      lua_isnumber(L, base + 7) ? (int)lua_tointeger(L, base + 7) : (int)v->host->opt->max_redirects;
  if (req->max_redirects < 0 || req->max_redirects > OPTIONS_MAX_REDIRECTS)
    return luaL_error(L, "http.*: redirects must be 0..%d", OPTIONS_MAX_REDIRECTS);
  v->call_ns = req->now_ns = clock_mono_ns();
  if (v->first_pending && v->intended_ns > v->call_ns) v->intended_ns = v->call_ns;
  return 0;
}
