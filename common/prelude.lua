-- prelude.lua - the scenario API's Lua side (common/prelude.c loads it into every Lua state): wrappers that
-- normalise http.* options and cross into C once per request; check/group/think/data.csv; the sandbox.
local C_send, C_sleep, C_check, C_log = __send, __sleep, __check, __log
local type, pairs, ipairs, tostring, error, select = type, pairs, ipairs, tostring, error, select
local concat, fmt, gsub, byte = table.concat, string.format, string.gsub, string.byte
local cjson_ok, cjson = pcall(require, 'cjson')
if not cjson_ok then cjson = nil end
json = { encode = function(v) return cjson.encode(v) end, decode = function(s) return cjson.decode(s) end }
local function urlenc(s)
  return (gsub(tostring(s), '[^%w%-%._~]', function(c) return fmt('%%%02X', byte(c)) end))
end
local function encode_pairs(t)
  local parts, keys = {}, {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = urlenc(k) .. '=' .. urlenc(t[k]) end
  return concat(parts, '&')
end
local resp_mt = { __index = function(r, k)
  if k == 'json' then
    return function() if not cjson then error('json(): lua-cjson is not installed', 2) end
      local ok, v = pcall(cjson.decode, rawget(r, 'body') or '')
      if not ok then error('json(): response body is not JSON: ' .. tostring(v), 2) end
      return v end
  elseif k == 'headers' then
    local h = {}
    for name, value in (rawget(r, '_h') or ''):gmatch('([^:\r\n]+):%s*([^\r\n]*)') do h[name:lower()] = value end
    rawset(r, 'headers', h)
    return h
  elseif k == 'timings' then -- k6's names; r[1..6] come from C in ms
    local t = { blocked = r[1] or 0, connecting = r[2] or 0, tls_handshaking = r[3] or 0, sending = r[4] or 0,
                waiting = r[5] or 0, receiving = r[6] or 0 }
    t.duration = t.sending + t.waiting + t.receiving
    rawset(r, 'timings', t)
    return t
  end
end }
__resp_mt = resp_mt
-- the group() a VU's coroutine is in ('a::b' when nested); weak keys: a stopped VU's entry goes with it
local co_running, main_key, group_of = coroutine.running, {}, setmetatable({}, { __mode = 'k' })
-- tags (docs/scenario-api.md "Tags"): each request carries one canonical set "k=v,k=v" (keys sorted) of
-- options.tags, its VU's scenario (__scenario_tags), its group()'s tags and its own, later ones winning;
-- the rules are common/tagset.c's. tag_ctx: coroutine -> {t = table, s = text} of its scenario and group.
local getinfo, sort = debug.getinfo, table.sort
local tag_ctx, run_ctx, tag_reserved = setmetatable({}, { __mode = 'k' }), nil, { name = 1, group = 1, scenario = 1 }
local function at_caller() -- "file:line: " of the scenario's line that called into the API
  for level = 3, 40 do
    local i = getinfo(level, 'Sl')
    if not i then break end
    if i.source:sub(1, 1) == '@' and (i.currentline or 0) > 0 then return i.short_src .. ':' .. i.currentline .. ': ' end
  end
  return ''
end
local function tag_error(what, text) error(at_caller() .. what .. ': ' .. text, 0) end
local key_ok, val_ok, nok = {}, {}, 0 -- keys and values that passed the rules already (cleared past 4096)
local function pair_ok(k, v, what, own)
  if key_ok[k] and val_ok[v] then return end
  if type(k) ~= 'string' or #k > 32 or not k:match('^[%a_][%w_]*$') then
    tag_error(what, "tag key '" .. tostring(k) .. "': a tag key is 1 to 32 letters, digits and _, not starting with a digit") end
  if tag_reserved[k] and not own then tag_error(what, "tag '" .. k .. "' is set by loadctl itself; pick another key") end
  if type(v) ~= 'string' then tag_error(what, "tag '" .. k .. "': the value must be a string, not a " .. type(v)) end
  if #v == 0 or #v > 64 then tag_error(what, "tag '" .. k .. "': a tag value is a string of 1 to 64 bytes") end
  if v:find('[%c,={}]') then tag_error(what, "tag '" .. k .. "': a tag value may not hold control characters or any of , = { }") end
  if own then return end
  if nok >= 4096 then key_ok, val_ok, nok = {}, {}, 0 end
  key_ok[k], val_ok[v], nok = true, true, nok + 1
end
local function tags_into(into, t, what, own)
  if type(t) ~= 'table' then tag_error(what, 'tags must be a table of string keys and values (tags = {kind = "api"})') end
  for k, v in pairs(t) do pair_ok(k, v, what, own); into[k] = v end
  return into
end
local tkeys = {} -- request_tags' scratch list of keys (nothing yields while it is in use)
-- The text of base's tags overlaid with t's (a request's), without building the merged table.
local function request_tags(base, t, what)
  if type(t) ~= 'table' then tag_error(what, 'tags must be a table of string keys and values (tags = {kind = "api"})') end
  local n = 0
  for k, v in pairs(t) do pair_ok(k, v, what); n = n + 1; tkeys[n] = k end
  for k in pairs(base) do if t[k] == nil then n = n + 1; tkeys[n] = k end end
  if n > 8 then
    for i = 1, n do tkeys[i] = nil end
    tag_error(what, 'more than 8 tags on one request (options, scenario, group and request tags together)')
  end
  for i = 2, n do -- insertion sort: a handful of keys
    local k, j = tkeys[i], i - 1
    while j > 0 and tkeys[j] > k do tkeys[j + 1] = tkeys[j]; j = j - 1 end
    tkeys[j + 1] = k
  end
  if n == 0 then return nil end
  local k = tkeys[1]
  local text = k .. '=' .. (t[k] or base[k])
  tkeys[1] = nil
  for i = 2, n do k = tkeys[i]; text = text .. ',' .. k .. '=' .. (t[k] or base[k]); tkeys[i] = nil end
  return text
end
local function tags_text(t, what)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  if #keys == 0 then return nil end
  if #keys > 8 then tag_error(what, 'more than 8 tags on one request (options, scenario, group and request tags together)') end
  sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. '=' .. t[k] end
  return concat(keys, ',')
end
local function tags_copy(t) local c = {}; for k, v in pairs(t) do c[k] = v end; return c end
local function tags_base(co)
  local c = tag_ctx[co]
  if c then return c end
  if not run_ctx then
    local o, t = rawget(_G, 'options'), {}
    if type(o) == 'table' and o.tags ~= nil then tags_into(t, o.tags, 'options.tags') end
    run_ctx = { t = t, s = tags_text(t, 'options.tags') }
  end
  return run_ctx
end
local function tags_ctx(co, t, what) tag_ctx[co] = { t = t, s = tags_text(t, what) } end
-- The runtime of a scenario in options.scenarios calls this in each of its VUs before on_start: every
-- request of the VU then carries scenario=NAME and the scenario's tags (over options.tags).
function __scenario_tags(name, tags)
  local co = co_running() or main_key
  local t = tags_copy(tags_base(co).t)
  if tags ~= nil then tags_into(t, tags, 'scenario ' .. tostring(name) .. ' tags') end
  tags_ctx(co, tags_into(t, { scenario = name }, 'scenario name', true), 'scenario ' .. tostring(name))
end
-- worker/script.lua calls this as a VU starts: a VU of a scenario in options.scenarios (vu.scenario set by
-- the engine) tags its requests scenario=NAME and with that scenario's tags.
function __vu_tags(vu)
  local name, o = vu.scenario, rawget(_G, 'options')
  local sc = name ~= nil and type(o) == 'table' and type(o.scenarios) == 'table' and o.scenarios[name] or nil
  if sc == nil then return end -- the one-scenario shorthand: no scenario tag (there is nothing to tell apart)
  __scenario_tags(name, type(sc) == 'table' and sc.tags or nil)
end
local names, nnames = {}, 0 -- default names by method, then url: pattern matching once per url
local function default_name(method, url)
  local by = names[method]
  local name = by and by[url]
  if name then return name end
  local path = url:match('^https?://[^/]+(/[^?#]*)') or url:match('^([^?#]*)')
  name = method .. ' ' .. (path ~= '' and path or '/')
  if nnames >= 10000 then names, nnames = {}, 0 end
  if not names[method] then names[method] = {} end
  names[method][url], nnames = name, nnames + 1
  return name
end
local what_of = { GET = 'http.get()', POST = 'http.post()', PUT = 'http.put()', PATCH = 'http.patch()',
  DELETE = 'http.delete()', HEAD = 'http.head()', OPTIONS = 'http.options()' }
local function args_of(method, url, opts, api) -- __send's arguments for one request (api: who to blame)
  if type(url) ~= 'string' then error('http.' .. method:lower() .. '(): url must be a string', 2) end
  opts = opts or {}
  if type(opts) ~= 'table' then error('http.' .. method:lower() .. '(): options must be a table', 2) end
  local name = opts.name or default_name(method, url)
  local co = co_running() or main_key
  local g, tags = group_of[co], tags_base(co).s
  if g then name = g .. '::' .. name end
  if opts.tags ~= nil then tags = request_tags(tags_base(co).t, opts.tags, api or what_of[method] or 'http.request()') end
  if opts.query then url = url .. (url:find('?', 1, true) and '&' or '?') .. encode_pairs(opts.query) end
  local body, ctype = opts.body, nil
  if opts.json ~= nil then
    if not cjson then error('http.*: json= needs lua-cjson', 2) end
    body, ctype = cjson.encode(opts.json), 'application/json'
  elseif opts.form then body, ctype = encode_pairs(opts.form), 'application/x-www-form-urlencoded' end
  local h = opts.headers
  if ctype and not (h and (h['Content-Type'] or h['content-type'])) then
    local h2 = { ['Content-Type'] = ctype }
    if h then for k, v in pairs(h) do h2[k] = v end end
    h = h2
  end
  local auth, user, password, digest = opts.auth, nil, nil, false
  if auth ~= nil then
    if type(auth) ~= 'table' or type(auth.user) ~= 'string' or type(auth.password) ~= 'string' or
       (auth.type ~= nil and auth.type ~= 'basic' and auth.type ~= 'digest') then
      error('http.' .. method:lower() .. '(): auth must be {user = STRING, password = STRING, type = "basic" or "digest"}', 2)
    end
    user, password, digest = auth.user, auth.password, auth.type == 'digest'
  end
  return method, url, name, body, h, opts.timeout, opts.expect, opts.redirects, user, password, digest, tags
end
-- The response table from __send's values (worker/vu.c push_values), r[1..6] the timings: a copy of a
-- constant table (its keys in place) whose values are then set, cheaper than a table built key by key.
local function response(status, body, h, time, ok, err, msg, b, c, t, s, w, r)
  local x = { status = 0, body = '', _h = '', time = 0, ok = false, 0, 0, 0, 0, 0, 0 }
  x.status, x.body, x._h, x.time, x.ok = status, body, h, time, ok
  x[1], x[2], x[3], x[4], x[5], x[6] = b, c, t, s, w, r
  if err then x.error, x.error_message = err, msg end
  return setmetatable(x, resp_mt)
end
function http.request(method, url, opts) return response(C_send(args_of(method, url, opts))) end
-- k6's http.batch: a list of urls, {method, url, body, params} or {method =, url =, body =, params =}
function http.batch(reqs)
  if type(reqs) ~= 'table' or #reqs == 0 then error('http.batch(): takes a non-empty list of requests', 2) end
  local list = {}
  for i, q in ipairs(reqs) do
    local method, url, body, opts = 'GET', q, nil, nil
    if type(q) == 'table' then
      if q.url then method, url, body, opts = q.method or 'GET', q.url, q.body, q.params
      else method, url, body, opts = q[1] or 'GET', q[2], q[3], q[4] end
    end
    if type(method) ~= 'string' then error('http.batch(): request ' .. i .. ': method must be a string', 2) end
    if body ~= nil then opts = setmetatable({ body = body }, { __index = opts }) end
    list[i] = { args_of(method:upper(), url, opts, 'http.batch() request ' .. i) }
  end
  if not __batch then error('http.batch() can only run inside a VU (a task, on_start or on_stop)', 2) end
  local rs = __batch(list)
  for i = 1, #list do setmetatable(rs[i], resp_mt) end
  return rs
end
for _, m in ipairs({'get', 'head', 'delete', 'options'}) do
  local M = m:upper()
  http[m] = function(url, opts) return http.request(M, url, opts) end
end
for _, m in ipairs({'post', 'put', 'patch'}) do
  local M = m:upper()
  http[m] = function(url, opts) return http.request(M, url, opts) end
end
function sleep(seconds) C_sleep(tonumber(seconds) or 0) end
function think(min, max)
  min = tonumber(min) or 0; max = tonumber(max) or min
  C_sleep(min + math.random() * (max - min))
end
function check(value, checks)
  local all = true
  for name, fn in pairs(checks or {}) do
    local ok, res = pcall(fn, value)
    local pass = ok and res and true or false
    C_check(tostring(name), pass)
    all = all and pass
  end
  return all
end
local function group_end(co, outer, outer_tags, ok, ...)
  group_of[co], tag_ctx[co] = outer, outer_tags
  if not ok then error((...), 0) end
  return ...
end
-- group(name, fn) or group(name, {tags = {...}}, fn): the group's tags go on every request inside it
function group(name, params, fn)
  if fn == nil then params, fn = nil, params end
  if type(name) ~= 'string' or name == '' then error('group(): name must be a non-empty string', 2) end
  if name:find('::', 1, true) then error("group(): name must not contain '::' (it separates nested groups)", 2) end
  if type(fn) ~= 'function' then error('group(): the last argument must be a function', 2) end
  if params ~= nil and type(params) ~= 'table' then error('group(): the second of three arguments must be a table ({tags = {...}})', 2) end
  local co = co_running() or main_key
  local outer, outer_tags = group_of[co], tag_ctx[co]
  if params and params.tags ~= nil then
    tags_ctx(co, tags_into(tags_copy(tags_base(co).t), params.tags, 'group()'), 'group()')
  end
  group_of[co] = outer and (outer .. '::' .. name) or name
  return group_end(co, outer, outer_tags, pcall(fn))
end
-- a scenario's env (options.scenarios[...].env, k6's per-scenario __ENV) for the VU's coroutine: first in env()
local env_of = setmetatable({}, { __mode = 'k' })
function __scenario_env(t) env_of[co_running() or main_key] = t end
function env(name, default)
  local own = env_of[co_running() or main_key]
  local v = own and own[name]
  if v ~= nil then return tostring(v) end
  v = __loadctl_env and __loadctl_env[name] -- --env NAME=VALUE, shipped with the scenario
  if v == nil then v = os.getenv(name) end
  if v == nil then return default end; return v
end
function log(...)
  local n, parts = select('#', ...), {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  C_log(concat(parts, ' '))
end
local function csv_split(line)
  local out, pos, len = {}, 1, #line
  while pos <= len + 1 do
    if line:sub(pos, pos) == '"' then
      local buf, i = {}, pos + 1
      while i <= len do
        local c = line:sub(i, i)
        if c == '"' then
          if line:sub(i + 1, i + 1) == '"' then buf[#buf + 1] = '"'; i = i + 2 else i = i + 1; break end
        else buf[#buf + 1] = c; i = i + 1 end
      end
      out[#out + 1] = concat(buf); pos = i + 1
    else
      local e = line:find(',', pos, true) or (len + 1)
      out[#out + 1] = line:sub(pos, e - 1); pos = e + 1
    end
  end
  return out
end
local csv_cache = {}
local csv_rows = {}
csv_rows.__index = csv_rows
function csv_rows.for_vu(rows, vu) return rows[(vu.id - 1) % #rows + 1] end
function csv_rows.next(rows, vu)
  local pos = rawget(vu, '__csv_pos') or {}
  rawset(vu, '__csv_pos', pos)
  local i = pos[rows] or (vu.id - 1)
  pos[rows] = i + 1
  return rows[i % #rows + 1]
end
local __io_open = io.open -- the unrestricted one, for data.csv only: not reachable from scenarios
data = {}
function data.csv(path)
  if csv_cache[path] then return csv_cache[path] end
  local full = path:sub(1, 1) == '/' and path or (__scenario_dir .. '/' .. path)
  local f, e = __io_open(full, 'r')
  if not f then error('data.csv: cannot open ' .. full .. ': ' .. tostring(e), 2) end
  local header, rows = nil, {}
  for line in f:lines() do
    line = line:gsub('\r$', '')
    if line ~= '' then
      local fields = csv_split(line)
      if not header then header = fields else
        local row = {}
        for i, k in ipairs(header) do row[k] = fields[i] end
        rows[#rows + 1] = row
      end
    end
  end
  f:close()
  if #rows == 0 then error('data.csv: ' .. full .. ' has no data rows', 2) end
  setmetatable(rows, csv_rows)
  csv_cache[path] = rows
  return rows
end
-- custom metrics (k6's Counter, Gauge, Rate, Trend); values cross into C as __metric(name, kind, value)
local reserved = { errors = 1, checks = 1, requests = 1, rps = 1, dropped = 1, http_req_duration = 1,
  http_req_failed = 1, http_reqs = 1, dropped_iterations = 1, iterations = 1, iteration_duration = 1,
  median = 1, med = 1, mean = 1, avg = 1, min = 1, max = 1 }
local metric_mt = { __index = {} }
-- add(v, tags): with tags, v also goes to the series NAME{tags} (the run's, scenario's and group's tags under
-- the ones given), which thresholds select as NAME{kind=x}
function metric_mt.__index.add(m, v, tags)
  if m.kind == 3 then v = (v and v ~= 0) and 1 or 0
  elseif type(v) ~= 'number' then error(m.name .. ':add(): the value must be a number', 2) end
  if not __metric then error('metrics: values are recorded inside a VU (a task, on_start, on_stop, setup, teardown)', 2) end
  if tags ~= nil then tags = request_tags(tags_base(co_running() or main_key).t, tags, m.name .. ':add()') end
  __metric(m.name, m.kind, v, tags)
end
function metric_mt.__index.set(m, v, tags)
  if m.kind ~= 2 then error(m.name .. ':set(): only a gauge is set; use :add()', 2) end
  return metric_mt.__index.add(m, v, tags)
end
metrics = {}
for kind, k in pairs({ counter = 1, gauge = 2, rate = 3, trend = 4 }) do
  metrics[kind] = function(name)
    if type(name) ~= 'string' or not name:match('^[%a_][%w_]*$') or #name > 128 then
      error('metrics.' .. kind .. '(): the name must be letters, digits and _ (not starting with a digit)', 2) end
    if reserved[name] or name:match('^p%d') then error('metrics.' .. kind .. "(): '" .. name .. "' is a built-in metric's name", 2) end
    return setmetatable({ name = name, kind = k }, metric_mt)
  end
end
__tasks = {}
function task(weight, fn, name)
  if type(weight) == 'function' then weight, fn, name = 1, weight, fn end
  if type(weight) ~= 'number' or weight <= 0 then error('task(): weight must be a positive number', 2) end
  if type(fn) ~= 'function' then error('task(): second argument must be a function', 2) end
  local info = debug.getinfo(fn, 'S')
  __tasks[#__tasks + 1] = { weight = weight, fn = fn,
    name = name and tostring(name) or ('task:' .. #__tasks + 1 .. '@' .. (info.short_src or '?') .. ':' .. (info.linedefined or 0)) }
end
if not __allow_exec then
  local function refused(what) return function() error(what .. ' is disabled in scenarios (run with --allow-exec)', 2) end end
  os.execute, os.exit, os.remove, os.rename, os.tmpname = refused('os.execute'), refused('os.exit'), refused('os.remove'), refused('os.rename'), refused('os.tmpname')
  io.popen = refused('io.popen')
  local open = io.open
  io.open = function(p, mode)
    if mode and mode:find('[wa+]') then error('io.open for writing is disabled in scenarios (run with --allow-exec)', 2) end
    return open(p, mode)
  end
  io.output, io.write = refused('io.output'), refused('io.write')
  package.loadlib = refused('package.loadlib')
  -- the ways around the refusals above: LuaJIT's FFI (ffi.C.system), the originals kept as
  -- upvalues of the wrappers (debug.getupvalue), hand-made bytecode (load of a string.dump)
  package.preload.ffi, package.loaded.ffi = nil, nil
  local require_ = require
  require = function(name, ...)
    if name == 'ffi' then error('ffi is disabled in scenarios (run with --allow-exec)', 2) end
    return require_(name, ...)
  end
  for _, k in ipairs({'getupvalue', 'setupvalue', 'upvaluejoin', 'getregistry', 'getlocal',
                      'setlocal'}) do
    debug[k] = refused('debug.' .. k)
  end
  local load_, loadfile_ = load, loadfile
  load = function(chunk, name, mode, env) return load_(chunk, name, 't', env) end
  loadstring = function(s, name) return load_(s, name, 't') end
  loadfile = function(path, mode, env) return loadfile_(path, 't', env) end
  dofile = function(path)
    local f, e = loadfile_(path, 't'); if not f then error(e, 2) end; return f()
  end
end
setmetatable(_G, { __newindex = function(t, k, v)
  if k == 'options' then local i = debug.getinfo(2, 'l'); rawset(t, '__options_line', i and i.currentline or 0) end
  rawset(t, k, v)
end })
