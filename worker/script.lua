-- script.lua - the VU runtime every worker thread's Lua state loads after the prelude (worker/script.c):
-- per-VU random streams, setup() data, weighted task choice or a scenario's exec, and the VU main loop
-- (__vu_main).
local xpcall, tostring, random = xpcall, tostring, math.random
local next_iteration, script_error = __next, __script_error
do -- math.random draws from the running VU's own seeded stream
  local orandom, oseed, vrandom, vseed = math.random, math.randomseed, __random, __randomseed
  math.random = function(...) return vrandom(orandom, ...) end
  math.randomseed = function(...) return vseed(oseed, ...) end
end
local function handler(e) return tostring(e) end
local data, decoded -- setup()'s result: __setup_json (put before the scenario's first line) decoded once
function __setup_data()
  if not decoded then decoded = true; if __setup_json then data = json.decode(__setup_json) end end
  return data
end
local total, only
local function pick()
  if not total then
    total = 0; for _, t in ipairs(__tasks) do total = total + t.weight end
    if #__tasks == 1 then only = __tasks[1] end -- one task: no draw (the draw is not the VU's math.random)
  end
  if only then return only end
  local r = random() * total
  for _, t in ipairs(__tasks) do r = r - t.weight; if r < 0 then return t end end
  return __tasks[#__tasks]
end
-- A VU of an options.scenarios entry (vu.__listed): its exec function instead of the weighted tasks,
-- scenario=NAME and the scenario's tags on every request (prelude.lua's __vu_tags) and its env under env().
-- A VU of the top-level options (vu.scenario is the run's name) carries no scenario tag.
local function listed(vu)
  vu.__listed = nil
  local sc = options.scenarios[vu.scenario]
  __vu_tags(vu)
  if sc.env then __scenario_env(sc.env) end
  if sc.exec then return _G[sc.exec], 'exec:' .. sc.exec end
end
function __vu_main(vu)
  local data = __setup_data()
  local exec, exec_name
  if vu.__listed then exec, exec_name = listed(vu) end
  if on_start then
    local ok, e = xpcall(on_start, handler, vu, data)
    if not ok then script_error('on_start', e) end
  end
  local n = 0
  while next_iteration() do
    vu.iteration = n; n = n + 1
    if exec then
      local ok, e = xpcall(exec, handler, vu, data)
      if not ok then script_error(exec_name, e) end
    else
      local t = pick()
      local ok, e = xpcall(t.fn, handler, vu, data)
      if not ok then script_error(t.name:sub(1, 5) == 'task:' and t.name or 'task:' .. t.name, e) end
    end
  end
  if on_stop then
    local ok, e = xpcall(on_stop, handler, vu, data)
    if not ok then script_error('on_stop', e) end
  end
end
