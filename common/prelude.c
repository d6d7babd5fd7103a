/* prelude.c - the scenario API's Lua side: thin wrappers that normalise http.* options (query, json,
 * form, default names) and then cross into C once per request; check/group/think/data.csv; the sandbox. */
#include "common/prelude.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

static const char *const prelude_src[] = {
    "local C_send, C_sleep, C_check, C_log = __send, __sleep, __check, __log\n",
    "local type, pairs, ipairs, tostring, error, select = type, pairs, ipairs, tostring, error, select\n",
    "local concat, fmt, gsub, byte = table.concat, string.format, string.gsub, string.byte\n",
    "local cjson_ok, cjson = pcall(require, 'cjson')\n",
    "if not cjson_ok then cjson = nil end\n",
    "json = { encode = function(v) return cjson.encode(v) end, decode = function(s) return cjson.decode(s) end }\n",
    "local function urlenc(s)\n",
    "  return (gsub(tostring(s), '[^%w%-%._~]', function(c) return fmt('%%%02X', byte(c)) end))\n",
    "end\n",
    "local function encode_pairs(t)\n",
    "  local parts, keys = {}, {}\n",
    "  for k in pairs(t) do keys[#keys + 1] = tostring(k) end\n",
    "  table.sort(keys)\n",
    "  for _, k in ipairs(keys) do parts[#parts + 1] = urlenc(k) .. '=' .. urlenc(t[k]) end\n",
    "  return concat(parts, '&')\n",
    "end\n",
    "local resp_mt = { __index = function(r, k)\n",
    "  if k == 'json' then\n",
    "    return function() if not cjson then error('json(): lua-cjson is not installed', 2) end\n",
    "      local ok, v = pcall(cjson.decode, rawget(r, 'body') or '')\n",
    "      if not ok then error('json(): response body is not JSON: ' .. tostring(v), 2) end\n",
    "      return v end\n",
    "  elseif k == 'headers' then\n",
    "    local h = {}\n",
    "    for name, value in (rawget(r, '_h') or ''):gmatch('([^:\\r\\n]+):%s*([^\\r\\n]*)') do h[name:lower()] = value end\n",
    "    rawset(r, 'headers', h)\n",
    "    return h\n",
    "  elseif k == 'timings' then -- k6's names; r[1..6] come from C in ms\n",
    "    local t = { blocked = r[1] or 0, connecting = r[2] or 0, tls_handshaking = r[3] or 0, sending = r[4] or 0,\n",
    "                waiting = r[5] or 0, receiving = r[6] or 0 }\n",
    "    t.duration = t.sending + t.waiting + t.receiving\n",
    "    rawset(r, 'timings', t)\n",
    "    return t\n",
    "  end\n",
    "end }\n",
    "__resp_mt = resp_mt\n",
    "-- the group() a VU's coroutine is in ('a::b' when nested); weak keys: a stopped VU's entry goes with it\n",
    "local co_running, main_key, group_of = coroutine.running, {}, setmetatable({}, { __mode = 'k' })\n",
    "local names, nnames = {}, 0 -- default names by method, then url: pattern matching once per url\n",
    "local function default_name(method, url)\n",
    "  local by = names[method]\n",
    "  local name = by and by[url]\n",
    "  if name then return name end\n",
    "  local path = url:match('^https?://[^/]+(/[^?#]*)') or url:match('^([^?#]*)')\n",
    "  name = method .. ' ' .. (path ~= '' and path or '/')\n",
    "  if nnames >= 10000 then names, nnames = {}, 0 end\n",
    "  if not names[method] then names[method] = {} end\n",
    "  names[method][url], nnames = name, nnames + 1\n",
    "  return name\n",
    "end\n",
    "function http.request(method, url, opts)\n",
    "  if type(url) ~= 'string' then error('http.' .. method:lower() .. '(): url must be a string', 2) end\n",
    "  opts = opts or {}\n",
    "  if type(opts) ~= 'table' then error('http.' .. method:lower() .. '(): options must be a table', 2) end\n",
    "  local name = opts.name or default_name(method, url)\n",
    "  local g = group_of[co_running() or main_key]\n",
    "  if g then name = g .. '::' .. name end\n",
    "  if opts.query then url = url .. (url:find('?', 1, true) and '&' or '?') .. encode_pairs(opts.query) end\n",
    "  local body, ctype = opts.body, nil\n",
    "  if opts.json ~= nil then\n",
    "    if not cjson then error('http.*: json= needs lua-cjson', 2) end\n",
    "    body, ctype = cjson.encode(opts.json), 'application/json'\n",
    "  elseif opts.form then body, ctype = encode_pairs(opts.form), 'application/x-www-form-urlencoded' end\n",
    "  local h = opts.headers\n",
    "  if ctype and not (h and (h['Content-Type'] or h['content-type'])) then\n",
    "    local h2 = { ['Content-Type'] = ctype }\n",
    "    if h then for k, v in pairs(h) do h2[k] = v end end\n",
    "    h = h2\n",
    "  end\n",
    "  local auth, user, password, digest = opts.auth, nil, nil, false\n",
    "  if auth ~= nil then\n",
    "    if type(auth) ~= 'table' or type(auth.user) ~= 'string' or type(auth.password) ~= 'string' or\n",
    "       (auth.type ~= nil and auth.type ~= 'basic' and auth.type ~= 'digest') then\n",
    "      error('http.' .. method:lower() .. '(): auth must be {user = STRING, password = STRING, type = \"basic\" or \"digest\"}', 2)\n",
    "    end\n",
    "    user, password, digest = auth.user, auth.password, auth.type == 'digest'\n",
    "  end\n",
    "  local r = C_send(method, url, name, body, h, opts.timeout, opts.expect, opts.redirects, user, password, digest)\n",
    "  return setmetatable(r, resp_mt)\n",
    "end\n",
    "for _, m in ipairs({'get', 'head', 'delete', 'options'}) do\n",
    "  local M = m:upper()\n",
    "  http[m] = function(url, opts) return http.request(M, url, opts) end\n",
    "end\n",
    "for _, m in ipairs({'post', 'put', 'patch'}) do\n",
    "  local M = m:upper()\n",
    "  http[m] = function(url, opts) return http.request(M, url, opts) end\n",
    "end\n",
    "function sleep(seconds) C_sleep(tonumber(seconds) or 0) end\n",
    "function think(min, max)\n",
    "  min = tonumber(min) or 0; max = tonumber(max) or min\n",
    "  C_sleep(min + math.random() * (max - min))\n",
    "end\n",
    "function check(value, checks)\n",
    "  local all = true\n",
    "  for name, fn in pairs(checks or {}) do\n",
    "    local ok, res = pcall(fn, value)\n",
    "    local pass = ok and res and true or false\n",
    "    C_check(tostring(name), pass)\n",
    "    all = all and pass\n",
    "  end\n",
    "  return all\n",
    "end\n",
    "local function group_end(co, outer, ok, ...)\n",
    "  group_of[co] = outer\n",
    "  if not ok then error((...), 0) end\n",
    "  return ...\n",
    "end\n",
    "function group(name, fn)\n",
    "  if type(name) ~= 'string' or name == '' then error('group(): name must be a non-empty string', 2) end\n",
    "  if name:find('::', 1, true) then error(\"group(): name must not contain '::' (it separates nested groups)\", 2) end\n",
    "  if type(fn) ~= 'function' then error('group(): second argument must be a function', 2) end\n",
    "  local co = co_running() or main_key\n",
    "  local outer = group_of[co]\n",
    "  group_of[co] = outer and (outer .. '::' .. name) or name\n",
    "  return group_end(co, outer, pcall(fn))\n",
    "end\n",
    "function env(name, default)\n",
    "  local v = __loadctl_env and __loadctl_env[name] -- --env NAME=VALUE, shipped with the scenario\n",
    "  if v == nil then v = os.getenv(name) end\n",
    "  if v == nil then return default end; return v\n",
    "end\n",
    "function log(...)\n",
    "  local n, parts = select('#', ...), {}\n",
    "  for i = 1, n do parts[i] = tostring((select(i, ...))) end\n",
    "  C_log(concat(parts, ' '))\n",
    "end\n",
    "local function csv_split(line)\n",
    "  local out, pos, len = {}, 1, #line\n",
    "  while pos <= len + 1 do\n",
    "    if line:sub(pos, pos) == '\"' then\n",
    "      local buf, i = {}, pos + 1\n",
    "      while i <= len do\n",
    "        local c = line:sub(i, i)\n",
    "        if c == '\"' then\n",
    "          if line:sub(i + 1, i + 1) == '\"' then buf[#buf + 1] = '\"'; i = i + 2 else i = i + 1; break end\n",
    "        else buf[#buf + 1] = c; i = i + 1 end\n",
    "      end\n",
    "      out[#out + 1] = concat(buf); pos = i + 1\n",
    "    else\n",
    "      local e = line:find(',', pos, true) or (len + 1)\n",
    "      out[#out + 1] = line:sub(pos, e - 1); pos = e + 1\n",
    "    end\n",
    "  end\n",
    "  return out\n",
    "end\n",
    "local csv_cache = {}\n",
    "local csv_rows = {}\n",
    "csv_rows.__index = csv_rows\n",
    "function csv_rows.for_vu(rows, vu) return rows[(vu.id - 1) % #rows + 1] end\n",
    "function csv_rows.next(rows, vu)\n",
    "  local pos = rawget(vu, '__csv_pos') or {}\n",
    "  rawset(vu, '__csv_pos', pos)\n",
    "  local i = pos[rows] or (vu.id - 1)\n",
    "  pos[rows] = i + 1\n",
    "  return rows[i % #rows + 1]\n",
    "end\n",
    "local __io_open = io.open -- the unrestricted one, for data.csv only: not reachable from scenarios\n",
    "data = {}\n",
    "function data.csv(path)\n",
    "  if csv_cache[path] then return csv_cache[path] end\n",
    "  local full = path:sub(1, 1) == '/' and path or (__scenario_dir .. '/' .. path)\n",
    "  local f, e = __io_open(full, 'r')\n",
    "  if not f then error('data.csv: cannot open ' .. full .. ': ' .. tostring(e), 2) end\n",
    "  local header, rows = nil, {}\n",
    "  for line in f:lines() do\n",
    "    line = line:gsub('\\r$', '')\n",
    "    if line ~= '' then\n",
    "      local fields = csv_split(line)\n",
    "      if not header then header = fields else\n",
    "        local row = {}\n",
    "        for i, k in ipairs(header) do row[k] = fields[i] end\n",
    "        rows[#rows + 1] = row\n",
    "      end\n",
    "    end\n",
    "  end\n",
    "  f:close()\n",
    "  if #rows == 0 then error('data.csv: ' .. full .. ' has no data rows', 2) end\n",
    "  setmetatable(rows, csv_rows)\n",
    "  csv_cache[path] = rows\n",
    "  return rows\n",
    "end\n",
    "__tasks = {}\n",
    "function task(weight, fn, name)\n",
    "  if type(weight) == 'function' then weight, fn, name = 1, weight, fn end\n",
    "  if type(weight) ~= 'number' or weight <= 0 then error('task(): weight must be a positive number', 2) end\n",
    "  if type(fn) ~= 'function' then error('task(): second argument must be a function', 2) end\n",
    "  local info = debug.getinfo(fn, 'S')\n",
    "  __tasks[#__tasks + 1] = { weight = weight, fn = fn,\n",
    "    name = name and tostring(name) or ('task:' .. #__tasks + 1 .. '@' .. (info.short_src or '?') .. ':' .. (info.linedefined or 0)) }\n",
    "end\n",
    "if not __allow_exec then\n",
    "  local function refused(what) return function() error(what .. ' is disabled in scenarios (run with --allow-exec)', 2) end end\n",
    "  os.execute, os.exit, os.remove, os.rename, os.tmpname = refused('os.execute'), refused('os.exit'), refused('os.remove'), refused('os.rename'), refused('os.tmpname')\n",
    "  io.popen = refused('io.popen')\n",
    "  local open = io.open\n",
    "  io.open = function(p, mode)\n",
    "    if mode and mode:find('[wa+]') then error('io.open for writing is disabled in scenarios (run with --allow-exec)', 2) end\n",
    "    return open(p, mode)\n",
    "  end\n",
    "  io.output, io.write = refused('io.output'), refused('io.write')\n",
    "  package.loadlib = refused('package.loadlib')\n",
    "  -- the ways around the refusals above: LuaJIT's FFI (ffi.C.system), the originals kept as\n",
    "  -- upvalues of the wrappers (debug.getupvalue), hand-made bytecode (load of a string.dump)\n",
    "  package.preload.ffi, package.loaded.ffi = nil, nil\n",
    "  local require_ = require\n",
    "  require = function(name, ...)\n",
    "    if name == 'ffi' then error('ffi is disabled in scenarios (run with --allow-exec)', 2) end\n",
    "    return require_(name, ...)\n",
    "  end\n",
    "  for _, k in ipairs({'getupvalue', 'setupvalue', 'upvaluejoin', 'getregistry', 'getlocal',\n",
    "                      'setlocal'}) do\n",
    "    debug[k] = refused('debug.' .. k)\n",
    "  end\n",
    "  local load_, loadfile_ = load, loadfile\n",
    "  load = function(chunk, name, mode, env) return load_(chunk, name, 't', env) end\n",
    "  loadstring = function(s, name) return load_(s, name, 't') end\n",
    "  loadfile = function(path, mode, env) return loadfile_(path, 't', env) end\n",
    "  dofile = function(path)\n",
    "    local f, e = loadfile_(path, 't'); if not f then error(e, 2) end; return f()\n",
    "  end\n",
    "end\n",
    "setmetatable(_G, { __newindex = function(t, k, v)\n",
    "  if k == 'options' then local i = debug.getinfo(2, 'l'); rawset(t, '__options_line', i and i.currentline or 0) end\n",
    "  rawset(t, k, v)\n",
    "end })\n",
    NULL};

/* lua_Reader over prelude_src, one line per call. */
static const char *read_prelude(lua_State *L, void *ud, size_t *size) {
  size_t *line = ud;
  (void)L;
  if (!prelude_src[*line]) return NULL;
  *size = strlen(prelude_src[*line]);
  return prelude_src[(*line)++];
}

void prelude_dirname(const char *path, char *buf, size_t size) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  if (!slash) {
    snprintf(buf, size, ".");
  } else if (slash == path) {
    snprintf(buf, size, "/");
  } else {
    snprintf(buf, size, "%.*s", (int)(slash - path), path);
  }
}

/* From Debian's lua-cjson (liblua5.1-cjson), linked in. */
int luaopen_cjson(lua_State *L);

int prelude_open(lua_State *L, const char *scenario_dir, int allow_exec, char *err, size_t errlen) {
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pop(L, 2);
  lua_getglobal(L, "package");
  lua_pushstring(L, "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;/usr/lib/lua/5.1/?.so;/usr/local/lib/lua/5.1/?.so");
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setglobal(L, "http");
  lua_pushstring(L, scenario_dir ? scenario_dir : ".");
  lua_setglobal(L, "__scenario_dir");
  lua_pushboolean(L, allow_exec);
  lua_setglobal(L, "__allow_exec");
  if (lua_load(L, read_prelude, &(size_t){0}, "=prelude") || lua_pcall(L, 0, 0, 0)) {
    snprintf(err, errlen, "scenario prelude: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -EINVAL;
  }
  return 0;
}
