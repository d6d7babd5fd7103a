/* test_h2req.c - the h2 backend's request as nghttp2 takes it: URL splitting (ports, IPv6, userinfo,
 * fragments), pseudo-headers first, names lower-cased, connection-specific headers dropped, Host as
 * :authority, default user-agent and content-length, traceparent never indexed, bad names refused; a
 * request of the same shape patched in place (a new traceparent, Host), a changed one or new cookies built
 * again. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/checkrun.h"
#include "worker/h2req.h"

static int nv_is(const nghttp2_nv *nv, const char *name, const char *value) {
  return nv->namelen == strlen(name) && !memcmp(nv->name, name, nv->namelen) &&
         nv->valuelen == strlen(value) && !memcmp(nv->value, value, nv->valuelen);
}

/* The index of name in q's headers, or -1. */
static int find(const h2req *q, const char *name) {
  for (size_t i = 0; i < q->nnv; i++)
    if (q->nv[i].namelen == strlen(name) && !memcmp(q->nv[i].name, name, q->nv[i].namelen)) return (int)i;
  return -1;
}

START_TEST(url_parts) {
  h2req_url u;
  ck_assert_int_eq(h2req_parse_url("https://example.com/a/b?x=1#frag", &u), 0);
  ck_assert(u.tls && u.port == 443 && u.host_len == 11 && !memcmp(u.host, "example.com", 11));
  ck_assert_int_eq(u.path_len, 8); /* "/a/b?x=1": the fragment is not sent */
  ck_assert(!memcmp(u.path, "/a/b?x=1", 8));
  ck_assert_int_eq(u.prefix_len, strlen("https://example.com"));
  ck_assert_int_eq(h2req_parse_url("http://127.0.0.1:8080", &u), 0);
  ck_assert(!u.tls && u.port == 8080 && u.path_len == 0 && u.authority_len == 14);
  ck_assert_int_eq(h2req_parse_url("http://[::1]:9/x", &u), 0);
  ck_assert(u.port == 9 && u.host_len == 3 && !memcmp(u.host, "::1", 3));
  ck_assert_int_eq(h2req_parse_url("ftp://x/", &u), -EPROTONOSUPPORT);
  ck_assert_int_eq(h2req_parse_url("http://:80/", &u), -EINVAL);
  ck_assert_int_eq(h2req_parse_url("http://h:99999/", &u), -EINVAL);
  ck_assert_int_eq(h2req_parse_url("http://user:pw@h/", &u), -EINVAL);
}
END_TEST

START_TEST(headers_as_h2) {
  h2req q = {0};
  http_header hs[] = {{"X-Bench", "1"},
                      {"Connection", "keep-alive"},
                      {"Host", "api.example"},
                      {"traceparent", "00-ab"},
                      {"Transfer-Encoding", "chunked"}};
  http_request r = {.method = "POST",
                    .url = "https://h:8443/p",
                    .headers = hs,
                    .nheaders = 5,
                    .body = "abc",
                    .body_len = 3};
  ck_assert_int_eq(h2req_build(&q, &r, "https", "h:8443", 6, "/p", 2), 0);
  ck_assert(nv_is(&q.nv[0], ":method", "POST") && nv_is(&q.nv[1], ":scheme", "https"));
  ck_assert(nv_is(&q.nv[2], ":authority", "api.example")); /* Host becomes :authority */
  ck_assert(nv_is(&q.nv[3], ":path", "/p"));
  ck_assert_int_ge(find(&q, "x-bench"), 4); /* lower-cased, after the pseudo-headers */
  ck_assert_int_lt(find(&q, "connection"), 0);
  ck_assert_int_lt(find(&q, "transfer-encoding"), 0);
  ck_assert_int_lt(find(&q, "host"), 0);
  ck_assert(nv_is(&q.nv[find(&q, "content-length")], "content-length", "3"));
  ck_assert(nv_is(&q.nv[find(&q, "user-agent")], "user-agent", "loadctl/" LOADCTL_VERSION));
  int tp = find(&q, "traceparent");
  ck_assert_int_ge(tp, 0);
  ck_assert_int_eq(q.nv[tp].flags & NGHTTP2_NV_FLAG_NO_INDEX, NGHTTP2_NV_FLAG_NO_INDEX);
  ck_assert_uint_eq(q.trace_nv, (size_t)tp);
  nghttp2_session_callbacks *cbs; /* submitted with its name indexed once, then never indexed again */
  nghttp2_session *ng;
  ck_assert_int_eq(nghttp2_session_callbacks_new(&cbs), 0);
  ck_assert_int_eq(nghttp2_session_client_new(&ng, cbs, NULL), 0);
  ck_assert_int_gt(h2req_submit(&q, ng, NULL, 1), 0);
  ck_assert_int_eq(q.nv[tp].flags, NGHTTP2_NV_FLAG_NO_INDEX);
  nghttp2_session_del(ng);
  nghttp2_session_callbacks_del(cbs);
  ck_assert_int_eq(q.nv[find(&q, "x-bench")].flags & NGHTTP2_NV_FLAG_NO_INDEX, 0);
  ck_assert(q.has_body && q.body.len == 3 && !memcmp(q.body.data, "abc", 3));
  ck_assert_int_eq(q.nnv, 8);
  h2req_free(&q);
}
END_TEST

START_TEST(get_defaults_and_bad_input) {
  h2req q = {0};
  http_header ua[] = {{"User-Agent", "mine"}};
  http_request r = {.method = "GET", .url = "http://h/", .headers = ua, .nheaders = 1};
  ck_assert_int_eq(h2req_build(&q, &r, "http", "h", 1, "", 0), 0);
  ck_assert(nv_is(&q.nv[3], ":path", "/"));      /* an empty path is "/" */
  ck_assert(nv_is(&q.nv[2], ":authority", "h")); /* the URL's authority without a Host header */
  ck_assert(nv_is(&q.nv[find(&q, "user-agent")], "user-agent", "mine"));
  ck_assert_int_lt(find(&q, "content-length"), 0); /* GET without a body has none */
  ck_assert(!q.has_body);
  http_header bad_name[] = {{"Bad Name", "x"}}, bad_value[] = {{"X", "a\r\nInjected: 1"}};
  r.headers = bad_name;
  ck_assert_int_eq(h2req_build(&q, &r, "http", "h", 1, "/", 1), -EINVAL);
  r.headers = bad_value;
  ck_assert_int_eq(h2req_build(&q, &r, "http", "h", 1, "/", 1), -EINVAL);
  r.headers = ua;
  r.method = "G T";
  ck_assert_int_eq(h2req_build(&q, &r, "http", "h", 1, "/", 1), -EINVAL);
  h2req_free(&q);
}
END_TEST

/* Build r for "https://h:8443/p" (what http_h2.c does when h2req_reuse says no). */
static int build(h2req *q, const http_request *r) {
  return h2req_build(q, r, "https", "h:8443", 6, "/p", 2);
}

START_TEST(reuse_patches_values) {
  h2req q = {0};
  http_header hs[] = {{"X-Bench", "1"}, {"traceparent", "00-aa-01"}, {"Host", "api.one"}};
  http_request r = {.method = "POST",
                    .url = "https://h:8443/p",
                    .headers = hs,
                    .nheaders = 3,
                    .body = "abc",
                    .body_len = 3};
  ck_assert_int_eq(h2req_reuse(&q, &r), 0); /* nothing built yet */
  ck_assert_int_eq(build(&q, &r), 0);
  size_t nnv = q.nnv, bytes_out = q.bytes_out;
  hs[1].value = "00-bb-01"; /* the same length: patched in */
  hs[2].value = "api.two";
  r.body = "xyz";
  ck_assert_int_eq(h2req_reuse(&q, &r), 1);
  ck_assert_uint_eq(q.nnv, nnv);
  ck_assert_uint_eq(q.bytes_out, bytes_out);
  ck_assert(nv_is(&q.nv[find(&q, "traceparent")], "traceparent", "00-bb-01"));
  ck_assert(nv_is(&q.nv[2], ":authority", "api.two"));
  ck_assert(nv_is(&q.nv[find(&q, "x-bench")], "x-bench", "1"));
  ck_assert(q.has_body && q.body.len == 3 && !memcmp(q.body.data, "xyz", 3));
  hs[1].value = "00-bbb-01"; /* another length, a bad value, another URL, body or name: built again */
  ck_assert_int_eq(h2req_reuse(&q, &r), 0);
  ck_assert_int_eq(h2req_reuse(&q, &r), 0); /* and still not, until built */
  ck_assert_int_eq(build(&q, &r), 0);
  hs[1].value = "00-b\r\n-01";
  ck_assert_int_eq(h2req_reuse(&q, &r), 0);
  hs[1].value = "00-bbb-01";
  ck_assert_int_eq(build(&q, &r), 0);
  r.url = "https://h:8443/q";
  ck_assert_int_eq(h2req_reuse(&q, &r), 0);
  r.url = "https://h:8443/p";
  ck_assert_int_eq(build(&q, &r), 0);
  r.body_len = 2;
  ck_assert_int_eq(h2req_reuse(&q, &r), 0);
  r.body_len = 3;
  ck_assert_int_eq(build(&q, &r), 0);
  hs[0].name = "X-Bunch";
  ck_assert_int_eq(h2req_reuse(&q, &r), 0);
  h2req_free(&q);
}
END_TEST

START_TEST(reuse_follows_the_jar) {
  h2req q = {0};
  cookiejar *jar;
  http_header hs[] = {{"traceparent", "00-aa-01"}};
  http_request r = {.method = "GET", .url = "https://h:8443/p", .headers = hs, .nheaders = 1};
  ck_assert_int_eq(cookiejar_create(&jar), 0);
  r.jar = jar;
  ck_assert_int_eq(build(&q, &r), 0);
  ck_assert_int_lt(find(&q, "cookie"), 0);
  ck_assert_int_eq(h2req_reuse(&q, &r), 1);
  h2req_set_cookie(&q, "sid=1", 5); /* the response's Set-Cookie: the next request carries it */
  ck_assert_int_eq(h2req_reuse(&q, &r), 0);
  ck_assert_int_eq(build(&q, &r), 0);
  ck_assert(nv_is(&q.nv[find(&q, "cookie")], "cookie", "sid=1"));
  ck_assert_int_eq(h2req_reuse(&q, &r), 1);
  r.jar = NULL; /* another jar */
  ck_assert_int_eq(h2req_reuse(&q, &r), 0);
  h2req_free(&q);
  cookiejar_free(jar);
}
END_TEST

static Suite *h2req_suite(void) {
  Suite *s = suite_create("h2req");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, url_parts);
  tcase_add_test(tc, headers_as_h2);
  tcase_add_test(tc, get_defaults_and_bad_input);
  tcase_add_test(tc, reuse_patches_values);
  tcase_add_test(tc, reuse_follows_the_jar);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return check_run(h2req_suite());
}
