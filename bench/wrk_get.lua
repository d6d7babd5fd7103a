-- wrk_get.lua - bench/run's "wrk with Lua" peer: a request() function building the same GET with a
-- header as bench/get.lua, called for every request as loadctl's VUs do.
request = function()
  return wrk.format("GET", "/", { ["X-Bench"] = "1" })
end
