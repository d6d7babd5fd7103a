/* test_script.c - the scenario API as a VU sees it, run by the engine against the local testserver:
 * check() counts, expect=, HTTP 5xx as errors, json=/json(), lowercased headers, query=, env(), group(),
 * on_start/on_stop, and a Lua error counted under "task:<name>" with file:line while the VU goes on. */
#include "tests/support/testengine.h"

#include "worker/script.h"

static const char scenario[] =
    "options = { target = 'http://127.0.0.1:%d', users = 1, duration = '1s' }\n"
    "local started, stopped = 0, 0\n"
    "function on_start(vu) started = started + 1; vu.token = 'tok' .. vu.id end\n"
    "function on_stop(vu) stopped = stopped + 1 end\n"
    "task(1, function(vu)\n"
    "  local r = http.get('/ok')\n"
    "  check(r, { ['status is 200'] = function(res) return res.status == 200 end,\n"
    "             ['never'] = function(res) return false end })\n"
    "  http.get('/status/404', { name = 'expected 404', expect = { 404 } })\n"
    "  http.get('/status/503', { name = 'five oh three' })\n"
    "  local e = http.post('/echo', { json = { a = vu.token }, query = { q = 'x y' }, name = 'POST echo' })\n"
    "  group('g', function()\n"
    "    if e.json == nil or not e.body:find('\"a\":\"tok', 1, true) then error('json body missing') end\n"
    "  end)\n"
    "  if not e.body:find('POST /echo?q=x', 1, true) then error('query missing: ' .. e.body) end; "
    "if not e.body:find('\\ntraceparent: 00%%-%%x+%%-%%x+%%-01\\r\\n') or not e.body:find("
    "'baggage: "
    "loadctl.run=test-run,loadctl.scenario=engine_test,loadctl.name=POST%%20echo,k6.test_run_id=test-run,"
    "k6.scenario=engine_test,k6.name=POST%%20echo\\r', 1, true) then error('trace headers: ' .. e.body) end\n"
    "  if e.headers['content-type'] == nil and e.headers['content-length'] == nil then error('headers not "
    "lowercased') end\n"
    "  if env('LOADCTL_TEST_NOPE', 'dflt') ~= 'dflt' then error('env default') end\n"
    "  if type(e.time) ~= 'number' or e.status ~= 200 or not e.ok then error('response fields') end; "
    "local t = e.timings; if type(t) ~= 'table' or t ~= e.timings or t.waiting < 0 or t.blocked < 0 or "
    "math.abs(t.duration - (t.sending + t.waiting + t.receiving)) > 1e-9 or math.abs(t.blocked + "
    "t.connecting + "
    "t.tls_handshaking + t.duration - e.time) > 1 or t.tls_handshaking ~= 0 then error('timings') end; "
    "local a, b = math.random(), math.random(6); if not (a >= 0 and a < 1 and b >= 1 and b <= 6 and b %% 1 "
    "== 0) then error('random') end\n"
    "  if vu.iteration %% 2 == 0 then error('planted ' .. vu.iteration) end\n"
    "end, 'main')\n";

START_TEST(scenario_api_counts) {
  char src[4096];
  server_up();
  snprintf(src, sizeof src, scenario, server_port);
  long long before = server_count();
  stats_interval *total = run_engine(src, 1);
  long long served = server_count() - before;
  int64_t it = total->iterations;
  ck_assert_int_gt(it, 10);

  stats_entry *ok = stats_entry_find(total, "GET /ok");
  ck_assert_ptr_nonnull(ok);
  ck_assert_int_eq(ok->count, it);
  ck_assert_int_eq(ok->errors, 0);

  stats_entry *nf = stats_entry_find(total, "expected 404");
  ck_assert_ptr_nonnull(nf);
  ck_assert_int_eq(nf->count, it);
  ck_assert_int_eq(nf->errors, 0);

  stats_entry *five = stats_entry_find(total, "five oh three");
  ck_assert_ptr_nonnull(five);
  ck_assert_int_eq(five->err[STATS_ERR_HTTP5XX], it);

  stats_entry *echo = stats_entry_find(total, "POST echo");
  ck_assert_ptr_nonnull(echo);
  ck_assert_int_eq(echo->count, it);
  ck_assert_int_eq(served, 4 * it);

  stats_check *pass = stats_check_get(total, "status is 200"), *never = stats_check_get(total, "never");
  ck_assert_int_eq(pass->passes, it);
  ck_assert_int_eq(pass->fails, 0);
  ck_assert_int_eq(never->fails, it);

  /* Only the planted error: every other assertion in the task held. Iterations 0, 2, 4... fail. */
  stats_entry *task = stats_entry_find(total, "task:main");
  ck_assert_ptr_nonnull(task);
  ck_assert_int_eq(task->err[STATS_ERR_SCRIPT], (it + 1) / 2);
  ck_assert_int_eq(task->errors, task->err[STATS_ERR_SCRIPT]);
  ck_assert_int_ge(task->nfailures, 1);
  ck_assert_msg(strstr(task->failures[0].message, "engine_test.lua:19: planted") != NULL, "message: %s",
                task->failures[0].message);
  ck_assert_ptr_null(stats_entry_find(total, "on_start"));
  ck_assert_ptr_null(stats_entry_find(total, "on_stop"));
  stats_destroy(total);
  server_stop();
}
END_TEST

/* A port nothing listens on (bound, then closed). */
static int refused_port(void) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

/* r.error is the kind (docs/scenario-api.md's table), r.error_message the text, r.ok the verdict, on
 * both backends: each check names one expectation and must pass in every iteration. */
static const char kinds_scenario[] =
    "options = { target = 'http://127.0.0.1:%d', users = 1, duration = '1s', http = '%s' }\n"
    "local function is(r, kind, msg) return r.error == kind and r.ok == (kind == nil) and\n"
    "  (msg == nil and r.error_message == nil or type(r.error_message) == 'string' and\n"
    "   r.error_message:find(msg, 1, true) ~= nil) end\n"
    "task(1, function(vu)\n"
    "  check(http.get('/ok'), { ok = function(r) return is(r, nil, nil) and r.status == 200 end })\n"
    "  check(http.get('http://127.0.0.1:%d/x'), { connect = function(r) return is(r, 'connect', '') and "
    "r.status == 0 end })\n"
    "  check(http.get('/status/503'), { http5xx = function(r) return is(r, 'http5xx', 'HTTP 503') end })\n"
    "  check(http.get('/status/404'), { http4xx = function(r) return is(r, 'http4xx', 'HTTP 404') end })\n"
    "  check(http.get('/status/404', { expect = 404 }), { expected = function(r) return is(r, nil, nil) end "
    "})\n"
    "  check(http.get('/delay/2000', { timeout = '50ms' }), { timeout = function(r) return is(r, 'timeout', "
    "'') end })\n"
    "  check(http.get('/malformed'), { protocol = function(r) return is(r, 'protocol', '') end })\n"
    "  check(http.get('/reset'), { reset = function(r) return is(r, 'reset', '') end })\n"
    "end)\n";

START_TEST(response_error_kinds) {
  static const char *const backends[] = {"h1", "curl"};
  static const char *const names[] = {"ok",       "connect", "http5xx",  "http4xx",
                                      "expected", "timeout", "protocol", "reset"};
  char src[4096];
  server_up();
  for (size_t b = 0; b < 2; b++) {
    snprintf(src, sizeof src, kinds_scenario, server_port, backends[b], refused_port());
    stats_interval *total = run_engine(src, 1);
    ck_assert_int_gt(total->iterations, 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
      stats_check *c = stats_check_get(total, names[i]);
      ck_assert_msg(c->passes == total->iterations && c->fails == 0,
                    "%s backend, check %s: %lld passes %lld fails of %lld", backends[b], names[i],
                    (long long)c->passes, (long long)c->fails, (long long)total->iterations);
    }
    stats_entry *refused = stats_entry_find(total, "GET /x");
    ck_assert_ptr_nonnull(refused);
    ck_assert_int_eq(refused->err[STATS_ERR_CONNECT], total->iterations);
    stats_destroy(total);
  }
  server_stop();
}
END_TEST

/* group(): requests inside are named "group::name", nested "a::b::name"; the prefix ends with the
 * group, also when fn raises; group() returns fn's results. */
static const char groups_scenario[] =
    "options = { target = 'http://127.0.0.1:%d', users = 2, duration = '1s' }\n"
    "task(1, function(vu)\n"
    "  local a, b = group('checkout', function()\n"
    "    http.get('/ok')\n"
    "    group('pay', function() http.get('/ok', { name = 'pay' }) end)\n"
    "    http.get('/ok', { name = 'after pay' })\n"
    "    return 1, 2\n"
    "  end)\n"
    "  check(a, { ['group returns'] = function(x) return x == 1 and b == 2 end })\n"
    "  local ok, err = pcall(group, 'broken', function() error('boom') end)\n"
    "  check(err, { ['error passes through'] = function(e) return not ok and e:find('boom', 1, true) end })\n"
    "  http.get('/ok', { name = 'outside' })\n"
    "  sleep(0.05)\n"
    "end)\n";

START_TEST(groups_name_requests) {
  static const char *const names[] = {"checkout::GET /ok", "checkout::pay::pay", "checkout::after pay",
                                      "outside"};
  stats_interval *total = run_scenario(groups_scenario);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    stats_entry *e = stats_entry_find(total, names[i]);
    ck_assert_msg(e != NULL, "no request named '%s'", names[i]);
    ck_assert_int_eq(e->count, total->iterations);
    ck_assert_int_eq(e->errors, 0);
  }
  ck_assert_uint_eq(total->nentries, 4); /* nothing named "broken::..." or left unprefixed */
  for (size_t i = 0; i < total->nchecks; i++)
    ck_assert_msg(total->checks[i].fails == 0, "check '%s' failed", total->checks[i].name);
  ck_assert_uint_eq(total->nchecks, 2);
  stats_destroy(total);
  lua_State *L = NULL;
  char err[512];
  const char *bad = "task(1, function() end)\ngroup('a::b', function() end)\n";
  ck_assert_int_eq(script_open("g.lua", bad, strlen(bad), 0, 42, &L, err, sizeof err), -EINVAL);
  ck_assert_msg(strstr(err, "g.lua:2:") && strstr(err, "must not contain '::'"), "%s", err);
  server_stop();
}
END_TEST

/* auth = {user, password, type}: basic on the scenario's backend (h1 here), digest through curl, which
 * answers the testserver's challenge; wrong credentials get the 401; a malformed auth is a script error. */
static const char auth_scenario[] =
    "options = { target = 'http://127.0.0.1:%d', users = 1, duration = '1s', http = 'h1' }\n"
    "local good = { user = 'user', password = 'pass' }\n"
    "task(1, function(vu)\n"
    "  check(http.get('/basic', { auth = good }), { basic = function(r) return r.status == 200 and r.body == "
    "'basic ok\\n' end })\n"
    "  check(http.get('/digest', { auth = { user = 'user', password = 'pass', type = 'digest' } }),\n"
    "        { digest = function(r) return r.status == 200 and r.body == 'digest ok\\n' end })\n"
    "  check(http.get('/digest', { auth = { user = 'user', password = 'nope', type = 'digest' }, expect = "
    "401 }),\n"
    "        { ['digest refused'] = function(r) return r.status == 401 end })\n"
    "  check(http.get('/basic', { expect = 401 }), { ['no auth'] = function(r) return r.status == 401 end "
    "})\n"
    "  local ok, err = pcall(http.get, '/basic', { auth = { user = 'user', type = 'ntlm' } })\n"
    "  check(err, { ['bad auth'] = function(e) return not ok and e:find('auth must be', 1, true) end })\n"
    "  sleep(0.05)\n"
    "end)\n";

START_TEST(auth_basic_and_digest) {
  static const char *const names[] = {"basic", "digest", "digest refused", "no auth", "bad auth"};
  stats_interval *total = run_scenario(auth_scenario);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    stats_check *c = stats_check_get(total, names[i]);
    ck_assert_msg(c->passes == total->iterations && c->fails == 0, "check %s: %lld passes %lld fails of %lld",
                  names[i], (long long)c->passes, (long long)c->fails, (long long)total->iterations);
  }
  stats_entry *d = stats_entry_find(total, "GET /digest");
  ck_assert_ptr_nonnull(d);
  ck_assert_int_eq(d->errors, 0);
  stats_destroy(total);
  server_stop();
}
END_TEST

/* options.think paces the closed model only: in the open model 20 arrivals/s on 2 VUs all run although
 * a 10 s think would let each VU start one iteration. */
START_TEST(think_ignored_in_open_model) {
  char src[1024];
  server_up();
  snprintf(src, sizeof src,
           "options = { target = 'http://127.0.0.1:%d', rate = 20, max_vus = 2, pre_allocated_vus = 2,\n"
           "  duration = '1s', think = { 10, 10 } }\n"
           "task(1, function(vu) http.get('/ok') end)\n",
           server_port);
  stats_interval *total = run_engine(src, 1);
  ck_assert_msg(total->iterations >= 15, "%lld iterations", (long long)total->iterations);
  ck_assert_int_eq(total->dropped, 0);
  stats_destroy(total);
  server_stop();
}
END_TEST

/* The sandbox and task() validation, in a Lua-only state (no load sent). */
START_TEST(sandbox_and_bad_task) {
  lua_State *L = NULL;
  char err[512];
  const char *src =
      "task(1, function() end)\n"
      "assert(os.execute == nil or not pcall(os.execute, 'true'))\n"
      "assert(io.popen == nil or not pcall(io.popen, 'true'))\n"
      "assert(not pcall(os.remove, '/tmp/x'))\n"
      "assert(not pcall(io.open, '/tmp/loadctl-test-never', 'w'))\n"
      "assert(#__tasks == 1)\n";
  ck_assert_msg(script_open("s.lua", src, strlen(src), 0, 42, &L, err, sizeof err) == 0, "%s", err);
  lua_close(L);
  /* data.csv: rows keyed by the header; for_vu(vu) is the VU's own row, next(vu) walks on from it. */
  char csv[] = "/tmp/loadctl-test-csv-XXXXXX", csvsrc[1024];
  int fd = mkstemp(csv);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "name,pw\na,1\nb,2\nc,3\n", 19), 19);
  close(fd);
  snprintf(csvsrc, sizeof csvsrc,
           "task(1, function() end)\n"
           "local rows = data.csv('%s')\n"
           "assert(#rows == 3 and rows[2].name == 'b' and rows[3].pw == '3')\n"
           "assert(rows:for_vu({ id = 3 }).name == 'c' and rows:for_vu({ id = 4 }).name == 'a')\n"
           "local v = { id = 2 }\n"
           "assert(rows:next(v).name == 'b' and rows:next(v).name == 'c' and rows:next(v).name == 'a')\n"
           "assert(data.csv('%s') == rows)\n",
           csv, csv);
  int rc = script_open("c.lua", csvsrc, strlen(csvsrc), 0, 42, &L, err, sizeof err);
  unlink(csv);
  ck_assert_msg(rc == 0, "%s", err);
  lua_close(L);
  const char *bad = "\ntask(0, function() end)\n";
  ck_assert_int_eq(script_open("b.lua", bad, strlen(bad), 0, 42, &L, err, sizeof err), -EINVAL);
  ck_assert_str_eq(err, "b.lua:2: task(): weight must be a positive number");
}
END_TEST

int main(void) {
  const TTest *tests[] = {scenario_api_counts,  sandbox_and_bad_task,        response_error_kinds,
                          groups_name_requests, think_ignored_in_open_model, auth_basic_and_digest};
  return server_suite_run("script", tests, sizeof tests / sizeof tests[0]);
}
