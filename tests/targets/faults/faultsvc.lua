-- faultsvc.lua - the scenario a user would write for each faultsvc service (tests/targets/faults/README.md):
-- plain tasks, the target at 127.0.0.1:8080 and, on 127.0.0.1:6060, the profile sources docs/profiling.md
-- recommends for a Go service at loadctl's default windows (the same list for every variant: a user does
-- not know the fault in advance). A variant's manifest picks the service with --env FAULTS_SERVICE=NAME
-- (target.env); bench/accuracy names the run after the variant (FAULTS_VARIANT) and rewrites the addresses.
local service = env("FAULTS_SERVICE")
options = {
  name = env("FAULTS_VARIANT", service),
  target = "http://127.0.0.1:8080",
  rate = 80, max_vus = 200, duration = "20s",
  profile = {
    { source = "pprof", url = "http://127.0.0.1:6060/debug/pprof/profile" },
    { source = "pprof", type = "mutex", url = "http://127.0.0.1:6060/debug/pprof/mutex" },
    { source = "pprof", type = "block", url = "http://127.0.0.1:6060/debug/pprof/block" },
    { source = "pprof", type = "goroutine", url = "http://127.0.0.1:6060/debug/pprof/goroutine" },
    { source = "pprof", type = "allocs", url = "http://127.0.0.1:6060/debug/pprof/allocs" },
  },
}

local services = {}

-- a checkout service: browse products, place orders
function services.checkout()
  task(3, function(vu)
    http.get("/api/products?page=" .. math.random(0, 24), { name = "GET /api/products" })
  end)
  task(2, function(vu)
    local items = {}
    for i = 1, math.random(1, 6) do items[i] = { id = math.random(0, 499), qty = math.random(1, 3) } end
    local r = http.post("/api/orders", { json = { customer = math.random(1, 1000), items = items } })
    check(r, { ["order created"] = function(res) return res.status == 201 end })
  end)
end

-- a recommendations service that labels nothing
function services.recs()
  task(1, function(vu)
    http.get("/api/recs?user=" .. math.random(1, 10000), { name = "GET /api/recs" })
  end)
end

-- a document search service: search and fetch documents
function services.search()
  local words = { "lorem", "ipsum", "dolor", "sit", "amet", "doc" }
  task(2, function(vu)
    http.get("/search?q=" .. words[math.random(#words)] .. "+" .. words[math.random(#words)], { name = "GET /search" })
  end)
  task(3, function(vu)
    http.get("/doc/" .. math.random(0, 399), { name = "GET /doc/{id}" })
  end)
end

-- a currency quote service: quotes and price alerts
function services.quotes()
  local majors = { "EURUSD", "USDJPY", "GBPUSD", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURGBP", "EURJPY" }
  task(3, function(vu)
    local pair = math.random(10) == 1 and ("XAU" .. math.random(100)) or majors[math.random(#majors)]
    http.get("/api/quote?pair=" .. pair, { name = "GET /api/quote" })
  end)
  task(1, function(vu)
    http.post("/api/alerts?tenant=" .. math.random(1, 500), { json = { pair = "EURUSD", above = 1.1 },
              name = "POST /api/alerts" })
  end)
end

-- the quote service with its users' order history
function services.quotes_orders()
  services.quotes()
  task(2, function(vu)
    http.get("/api/orders?user=" .. math.random(1, 3000), { name = "GET /api/orders" })
  end)
end

-- a payments ledger: transfers and balances. A ledger is a busy service: at 80 requests/s its lock was
-- free whenever a large transfer's audit held it (on an idle machine, 22 mutex windows without a sample),
-- so the planted lock fault was no lock fault; at 300/s the others queue behind an audit, idle or busy.
function services.ledger()
  options.rate = 300
  task(3, function(vu)
    local r = http.post("/api/transfer?from=" .. math.random(100) .. "&to=" .. math.random(100) ..
                        "&amount=" .. math.random(1, 10000), { name = "POST /api/transfer" })
    check(r, { ["transfer booked"] = function(res) return res.status == 200 end })
  end)
  task(2, function(vu)
    http.get("/api/balance?account=" .. math.random(100), { name = "GET /api/balance" })
  end)
end

-- a catalogue with reports and exports
function services.catalogue()
  task(40, function(vu)
    http.get("/api/items?id=" .. math.random(1, 5000), { name = "GET /api/items" })
  end)
  task(5, function(vu)
    http.get("/api/report?month=" .. math.random(12), { name = "GET /api/report" })
  end)
  task(1, function(vu)
    local fmt = math.random(2) == 1 and "xml" or "json"
    http.post("/api/export?format=" .. fmt, { body = string.rep("row,", 200), name = "POST /api/export" })
  end)
end

-- a warehouse inventory: stock reads and reservations of a few lines
function services.inventory()
  task(3, function(vu)
    http.get("/api/stock?sku=" .. math.random(1, 5000), { name = "GET /api/stock" })
  end)
  task(2, function(vu)
    local lines = {}
    for i = 1, math.random(1, 8) do lines[i] = { sku = math.random(1, 5000), qty = math.random(1, 4) } end
    local r = http.post("/api/reserve", { json = { lines = lines }, name = "POST /api/reserve" })
    check(r, { ["reserved"] = function(res) return res.status == 200 end })
  end)
end

-- a thumbnail service: renders, renders of RAW originals, and their status
function services.render()
  task(12, function(vu)
    local r = http.post("/api/thumbnail?image=" .. math.random(1, 100000), { name = "POST /api/thumbnail" })
    check(r, { ["rendered"] = function(res) return res.status == 201 end })
  end)
  task(1, function(vu)
    http.post("/api/thumbnail/raw?image=" .. math.random(1, 100000), { name = "POST /api/thumbnail/raw" })
  end)
  task(19, function(vu)
    http.get("/api/thumbnail/status?image=" .. math.random(1, 100000), { name = "GET /api/thumbnail/status" })
  end)
end

-- an invoicing service: customers list their invoices, the back office too
function services.billing()
  task(4, function(vu)
    http.get("/api/invoices?account=" .. math.random(1, 2000) .. "&page=" .. math.random(0, 5),
             { name = "GET /api/invoices" })
  end)
  task(1, function(vu)
    http.get("/admin/invoices?account=" .. math.random(1, 2000) .. "&page=" .. math.random(0, 5),
             { name = "GET /admin/invoices" })
  end)
end

-- a session store: reads and cart updates
function services.sessions()
  task(4, function(vu)
    http.get("/api/session?id=" .. math.random(0, 1999), { name = "GET /api/session" })
  end)
  task(1, function(vu)
    http.post("/api/session/cart", { json = { session = math.random(0, 1999), item = math.random(1, 500) },
              name = "POST /api/session/cart" })
  end)
end

-- a search router over sharded indexes: queries and document fetches
function services.router()
  local words = { "red", "shoe", "lamp", "desk", "oak", "wool", "steel", "blue" }
  task(2, function(vu)
    http.get("/api/find?q=" .. words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "+" ..
             math.random(1, 1000), { name = "GET /api/find" })
  end)
  task(3, function(vu)
    http.get("/api/doc?id=" .. math.random(1, 100000), { name = "GET /api/doc" })
  end)
end

-- a pricing service: prices and catalogue pages
function services.pricing()
  task(4, function(vu)
    http.get("/api/price?sku=" .. math.random(1, 2000), { name = "GET /api/price" })
  end)
  task(1, function(vu)
    http.get("/api/catalog/page?page=" .. math.random(0, 99), { name = "GET /api/catalog/page" })
  end)
end

-- a payments gateway: charges and their status
function services.payments()
  task(3, function(vu)
    local r = http.post("/api/charge?card=" .. math.random(1, 100000) .. "&amount=" .. math.random(100, 50000),
                        { name = "POST /api/charge" })
    check(r, { ["charge captured"] = function(res) return res.status == 201 end })
  end)
  task(2, function(vu)
    http.get("/api/charge/status?id=" .. math.random(1, 5000), { name = "GET /api/charge/status" })
  end)
end

-- an event-ingestion service: single events (a tenth from an old SDK, schema v1), SDK batches (one in
-- twenty a backfill of 1 000 events) and counters
function services.ingest()
  local types = { "page_view", "click", "add_to_cart", "search" }
  local json = { ["Content-Type"] = "application/json" }
  local function event(i, schema)
    return string.format('{"type":"%s","ts":%d,"user":%d,%s"props":{"path":"/p/%d","ref":"campaign-%d"}}',
                         types[i % #types + 1], 1700000000 + i, i % 5000, schema, i % 977, i % 31)
  end
  local function batch(n)
    local evs = {}
    for i = 1, n do evs[i] = event(math.random(1, 1000000), "") end
    return '{"events":[' .. table.concat(evs, ",") .. "]}"
  end
  local backfill = batch(1000)
  task(6, function(vu)
    local legacy = math.random(10) == 1 and '"schema":"v1",' or ""
    local r = http.post("/api/events", { body = event(math.random(1, 1000000), legacy), headers = json,
                                         name = "POST /api/events" })
    check(r, { ["event accepted"] = function(res) return res.status == 202 end })
  end)
  task(3, function(vu)
    local r = http.post("/api/events/batch", { body = math.random(20) == 1 and backfill or batch(20),
                                               headers = json, name = "POST /api/events/batch" })
    check(r, { ["batch accepted"] = function(res) return res.status == 202 end })
  end)
  task(1, function(vu)
    http.get("/api/events/stats", { name = "GET /api/events/stats" })
  end)
end

-- a user-profile service: profiles and their followers
function services.profiles()
  task(4, function(vu)
    http.get("/api/profile?id=" .. math.random(0, 299999), { name = "GET /api/profile" })
  end)
  task(1, function(vu)
    http.get("/api/profile/followers?id=" .. math.random(0, 299999), { name = "GET /api/profile/followers" })
  end)
end

-- a back-office API: the public catalogue, and the admin routes with a partner's API key
function services.console()
  local function key() local id = math.random(1, 60) return string.format("Bearer ak_%d_test%04d", id, id) end
  task(2, function(vu)
    http.get("/api/catalog?page=" .. math.random(0, 99), { name = "GET /api/catalog" })
  end)
  task(2, function(vu)
    local r = http.get("/admin/users?org=" .. math.random(1, 500), { headers = { Authorization = key() },
                       name = "GET /admin/users" })
    check(r, { ["authorised"] = function(res) return res.status == 200 end })
  end)
  task(1, function(vu)
    local r = http.post("/admin/flags?flag=beta-" .. math.random(1, 20) .. "&on=" .. tostring(math.random(2) == 1),
                        { headers = { Authorization = key() }, name = "POST /admin/flags" })
    check(r, { ["authorised"] = function(res) return res.status == 200 end })
  end)
end

-- a push-notification service: sends, and each user's last notification
function services.notifier()
  task(3, function(vu)
    local r = http.post("/api/notify?user=" .. math.random(1, 20000), { name = "POST /api/notify" })
    check(r, { ["notification queued"] = function(res) return res.status == 202 end })
  end)
  task(2, function(vu)
    http.get("/api/notify/last?user=" .. math.random(1, 20000), { name = "GET /api/notify/last" })
  end)
end

-- a link shortener: redirects (a few workspaces are on a plan with custom redirect rules) and new links
function services.links()
  task(6, function(vu)
    local path = "/campaign-" .. math.random(0, 99) .. "/spring-" .. math.random(10, 9999) .. "?ref=news"
    http.get("/r/" .. math.random(100000, 999999) .. "?ws=" .. math.random(0, 999) .. "&path=" .. path,
             { name = "GET /r/{code}" })
  end)
  task(1, function(vu)
    http.post("/api/links?ws=" .. math.random(0, 999) .. "&url=https://example.com/p/" .. math.random(1, 1e6),
              { name = "POST /api/links" })
  end)
end

-- an order service on a database: orders, customers and (rarely) the monthly finance report
function services.orderdb()
  task(12, function(vu)
    http.get("/api/orders?id=" .. math.random(1, 100000), { name = "GET /api/orders" })
  end)
  task(7, function(vu)
    http.get("/api/customers?id=" .. math.random(1, 20000), { name = "GET /api/customers" })
  end)
  task(1, function(vu)
    http.get("/api/reports/monthly?id=" .. math.random(1, 12), { name = "GET /api/reports/monthly" })
  end)
end

-- a feature-flag service: evaluations on every page, and now and then a flag changed
function services.flags()
  task(30, function(vu)
    http.get("/api/flags?user=" .. math.random(1, 100000), { name = "GET /api/flags" })
  end)
  task(1, function(vu)
    http.put("/admin/flags?flag=beta-" .. math.random(0, 39) .. "&pct=" .. math.random(0, 100),
             { name = "PUT /admin/flags" })
  end)
end

-- an API gateway: four backend routes, many tenants
function services.gateway()
  local routes = { "/v1/search", "/v1/cart", "/v1/user", "/v1/stock" }
  task(1, function(vu)
    local r = routes[math.random(#routes)]
    http.get(r .. "?tenant=" .. math.random(0, 4999), { name = "GET " .. r })
  end)
end

-- an accounts API: accounts, their usage, and exports of their activity log (gzip accepted)
function services.exports()
  task(4, function(vu)
    http.get("/api/accounts/" .. math.random(1, 3000), { name = "GET /api/accounts/{id}" })
  end)
  task(2, function(vu)
    http.get("/api/accounts/" .. math.random(1, 3000) .. "/usage", { name = "GET /api/accounts/{id}/usage" })
  end)
  task(1, function(vu)
    http.get("/api/accounts/" .. math.random(1, 3000) .. "/export",
             { headers = { ["Accept-Encoding"] = "gzip" }, name = "GET /api/accounts/{id}/export" })
  end)
end

-- a sensor fleet's registry: heartbeats, device reads, the fleet summary
function services.devices()
  task(5, function(vu)
    http.post("/api/devices/" .. math.random(0, 119999) .. "/heartbeat?temp=" .. math.random(150, 350) / 10 ..
              "&fw=fw-" .. math.random(0, 6), { name = "POST /api/devices/{id}/heartbeat" })
  end)
  task(3, function(vu)
    http.get("/api/devices/" .. math.random(0, 119999), { name = "GET /api/devices/{id}" })
  end)
  task(1, function(vu)
    http.get("/api/fleet/summary", { name = "GET /api/fleet/summary" })
  end)
end

-- a transactional mailer: single messages, their status, now and then a campaign
function services.mailer()
  task(250, function(vu)
    local r = http.post("/api/messages?to=user" .. math.random(1, 50000) .. "@example.com&template=reset",
                        { name = "POST /api/messages" })
    check(r, { ["message accepted"] = function(res) return res.status == 202 end })
  end)
  task(150, function(vu)
    http.get("/api/messages/" .. math.random(1, 10000), { name = "GET /api/messages/{id}" })
  end)
  task(1, function(vu)
    http.post("/api/campaigns/" .. math.random(1, 500) .. "/send", { name = "POST /api/campaigns/{id}/send" })
  end)
end

-- a game's scores: submit, a player's best, the leaderboard
function services.leaderboard()
  task(3, function(vu)
    http.post("/api/scores?player=" .. math.random(0, 249999) .. "&score=" .. math.random(0, 1000000),
              { name = "POST /api/scores" })
  end)
  task(2, function(vu)
    http.get("/api/players/" .. math.random(0, 249999), { name = "GET /api/players/{id}" })
  end)
  task(3, function(vu)
    http.get("/api/leaderboard", { name = "GET /api/leaderboard" })
  end)
end

-- a shipping service: create and track shipments, close a carrier's manifest for the day
function services.carriers()
  task(5, function(vu)
    local r = http.post("/api/shipments?carrier=" .. math.random(0, 39) .. "&grams=" .. math.random(100, 30000) ..
                        "&postcode=" .. math.random(10000, 99999), { name = "POST /api/shipments" })
    check(r, { ["shipment created"] = function(res) return res.status == 201 end })
  end)
  task(4, function(vu)
    http.get("/api/shipments?id=" .. math.random(1, 50000), { name = "GET /api/shipments" })
  end)
  task(1, function(vu)
    http.post("/api/manifests?carrier=" .. math.random(0, 39), { name = "POST /api/manifests" })
  end)
end

-- a billing portal: monthly statements (HTML), balances, payments
function services.statements()
  task(3, function(vu)
    http.get("/statements/" .. math.random(1, 600), { name = "GET /statements/{id}" })
  end)
  task(4, function(vu)
    http.get("/api/balance?customer=" .. math.random(1, 600), { name = "GET /api/balance" })
  end)
  task(2, function(vu)
    local r = http.post("/api/payments?customer=" .. math.random(1, 600) .. "&cents=" .. math.random(100, 50000),
                        { name = "POST /api/payments" })
    check(r, { ["payment recorded"] = function(res) return res.status == 201 end })
  end)
end

-- a marketplace's partner feeds: import a partner's feed, list its products, the last import's result
function services.imports()
  task(1, function(vu)
    local r = http.post("/api/imports?partner=" .. math.random(1, 240), { name = "POST /api/imports" })
    check(r, { ["import done"] = function(res) return res.status == 201 end })
  end)
  task(5, function(vu)
    http.get("/api/products?partner=" .. math.random(1, 240) .. "&page=" .. math.random(0, 7), { name = "GET /api/products" })
  end)
  task(2, function(vu)
    http.get("/api/imports/last?partner=" .. math.random(1, 240), { name = "GET /api/imports/last" })
  end)
end

-- a shop's product search: search, product pages, now and then a product edit
function services.searchidx()
  local words = { "steel", "oak", "linen", "lamp", "chair", "table", "desk", "rug", "vase", "shelf", "clock", "mirror" }
  task(5, function(vu)
    http.get("/search?q=" .. words[math.random(#words)] .. "+" .. words[math.random(#words)], { name = "GET /search" })
  end)
  task(4, function(vu)
    http.get("/products/" .. math.random(0, 59999), { name = "GET /products/{id}" })
  end)
  task(1, function(vu)
    http.put("/products/" .. math.random(0, 59999) .. "?title=oak+desk+" .. math.random(1, 999),
             { name = "PUT /products/{id}" })
  end)
end

-- a multi-tenant records API: interactive reads and writes from many tenants, usage, and now and then
-- a tenant's integration syncing a batch of records one after the other
function services.tenants()
  task(250, function(vu)
    http.get("/v1/records?tenant=" .. math.random(1, 200), { name = "GET /v1/records" })
  end)
  task(150, function(vu)
    http.post("/v1/records?tenant=" .. math.random(1, 200) .. "&kind=note&value=" .. math.random(1, 1e6),
              { name = "POST /v1/records" })
  end)
  task(80, function(vu)
    http.get("/v1/usage?tenant=" .. math.random(1, 200), { name = "GET /v1/usage" })
  end)
  task(1, function(vu)
    local tenant = math.random(1, 200)
    for i = 1, 20 do
      http.post("/v1/records?tenant=" .. tenant .. "&kind=sync&value=" .. i, { name = "POST /v1/records" })
    end
  end)
end

-- an expenses app: file and list expenses, now and then finance runs an organisation's yearly report
function services.expenses()
  local cats = { "travel", "meals", "lodging", "software", "office" }
  task(250, function(vu)
    local r = http.post("/api/expenses?employee=" .. math.random(1, 5000) .. "&category=" .. cats[math.random(#cats)] ..
                        "&cents=" .. math.random(100, 90000) .. "&note=client+visit", { name = "POST /api/expenses" })
    check(r, { ["expense filed"] = function(res) return res.status == 201 end })
  end)
  task(350, function(vu)
    http.get("/api/expenses?employee=" .. math.random(1, 5000), { name = "GET /api/expenses" })
  end)
  task(1, function(vu)
    http.get("/api/reports/yearly?org=" .. math.random(1, 40), { name = "GET /api/reports/yearly" })
  end)
end

-- an admin console's activity feed: account pages, activity feeds, events from other services
function services.activity()
  task(4, function(vu)
    http.get("/api/accounts/" .. math.random(1, 200) .. "/activity", { name = "GET /api/accounts/{id}/activity" })
  end)
  task(3, function(vu)
    http.get("/api/accounts/" .. math.random(1, 200), { name = "GET /api/accounts/{id}" })
  end)
  task(2, function(vu)
    http.post("/api/accounts/" .. math.random(1, 200) .. "/events?actor=svc-billing&action=invoice.paid&target=inv",
              { name = "POST /api/accounts/{id}/events" })
  end)
end

-- a wholesale storefront: live availability, product pages, quotes
function services.storefront()
  task(5, function(vu)
    http.get("/api/availability?sku=" .. math.random(0, 4999), { name = "GET /api/availability" })
  end)
  task(4, function(vu)
    http.get("/api/products?sku=" .. math.random(0, 4999), { name = "GET /api/products" })
  end)
  task(1, function(vu)
    local r = http.post("/api/quotes?lines=" .. math.random(1, 5), { name = "POST /api/quotes" })
    check(r, { ["quote created"] = function(res) return res.status == 201 end })
  end)
end

-- a shop's cart service: view carts, change quantities, the cart badge
function services.carts()
  task(4, function(vu)
    http.get("/api/cart?cart=" .. math.random(1, 2000), { name = "GET /api/cart" })
  end)
  task(3, function(vu)
    http.put("/api/cart/lines?cart=" .. math.random(1, 2000) .. "&sku=SKU-" .. math.random(10000, 10099) ..
             "&qty=" .. math.random(0, 4), { name = "PUT /api/cart/lines" })
  end)
  task(3, function(vu)
    http.get("/api/cart/count?cart=" .. math.random(1, 2000), { name = "GET /api/cart/count" })
  end)
end

-- an OAuth server's token endpoints: resource servers introspect, clients fetch and revoke tokens
function services.oauth()
  task(6, function(vu)
    http.post("/oauth/introspect?token=at-" .. string.format("%08x", math.random(0, 249999)) .. "00000000",
              { name = "POST /oauth/introspect" })
  end)
  task(2, function(vu)
    local r = http.post("/oauth/token?client=" .. math.random(1, 3000) .. "&scope=orders:read", { name = "POST /oauth/token" })
    check(r, { ["token issued"] = function(res) return res.status == 200 end })
  end)
  task(1, function(vu)
    http.post("/oauth/revoke?token=at-" .. string.format("%08x", math.random(0, 249999)) .. "00000000",
              { name = "POST /oauth/revoke" })
  end)
end

-- a chat product's presence service: clients' heartbeats, presence lookups
function services.presence()
  task(6, function(vu)
    http.post("/api/presence/heartbeat?user=" .. math.random(1, 100000) .. "&device=web", { name = "POST /api/presence/heartbeat" })
  end)
  task(4, function(vu)
    http.get("/api/presence?user=" .. math.random(1, 100000), { name = "GET /api/presence" })
  end)
end

-- a login risk service: the identity service checks each login's client address, support looks addresses up
function services.georisk()
  local function client()
    if math.random(100) <= 8 then -- v6 clients
      local i = math.random(0, 359999)
      return string.format("%x:%x:%x::%x", 0x2400 + math.floor(i / 65536), i % 65536, math.random(0, 65535), math.random(1, 65535))
    end
    local i = math.random(0, 59999)
    return string.format("%d.%d.%d.%d", 16 + math.floor(i / 65536), math.floor(i / 256) % 256, i % 256, math.random(1, 254))
  end
  task(7, function(vu)
    local r = http.post("/api/login/check", { json = { user = math.random(1, 50000), ip = client() } })
    check(r, { ["verdict"] = function(res) return res.status == 200 end })
  end)
  task(3, function(vu)
    http.get("/api/geo?ip=" .. client(), { name = "GET /api/geo" })
  end)
end

-- a user preferences API: apps read a user's settings, users change one now and then
function services.prefs()
  local keys = { "theme", "language", "last_tab", "density", "timezone", "sidebar", "font_size", "start_page", "sound" }
  local security = { "two_factor", "login_alerts", "email_notifications" }
  task(6, function(vu)
    http.get("/api/prefs?user=" .. math.random(1, 20000), { name = "GET /api/prefs" })
  end)
  task(4, function(vu)
    local key = math.random(10) == 1 and security[math.random(#security)] or keys[math.random(#keys)]
    local r = http.put("/api/prefs?user=" .. math.random(1, 20000) .. "&key=" .. key .. "&value=" .. math.random(0, 3),
                       { name = "PUT /api/prefs" })
    check(r, { ["saved"] = function(res) return res.status == 204 end })
  end)
end

-- a webhook relay: producers post events for tenants' endpoints, dashboards list recent deliveries
function services.webhooks()
  local types = { "invoice.paid", "invoice.created", "customer.updated", "subscription.renewed", "payout.sent" }
  task(8, function(vu)
    local r = http.post("/api/events?tenant=" .. math.random(1, 3000) .. "&type=" .. types[math.random(#types)],
                        { name = "POST /api/events" })
    check(r, { ["accepted"] = function(res) return res.status == 202 end })
  end)
  task(2, function(vu)
    http.get("/api/deliveries?tenant=" .. math.random(1, 3000), { name = "GET /api/deliveries" })
  end)
end

-- a social product's notification inbox: opening it, marking a mention read
function services.inbox()
  task(7, function(vu)
    http.get("/api/inbox?user=" .. math.random(1, 2000), { name = "GET /api/inbox" })
  end)
  task(3, function(vu)
    local u = math.random(1, 2000)
    http.post("/api/inbox/read?user=" .. u .. "&id=ntf-" .. u .. "-000009", { name = "POST /api/inbox/read" })
  end)
end

-- a marketplace's order intake: placing orders, buyers checking on them
function services.intake()
  task(6, function(vu)
    local r = http.post("/api/orders?buyer=" .. math.random(1, 5000) .. "&amount=" .. math.random(1000, 34000),
                        { name = "POST /api/orders" })
    check(r, { ["order placed"] = function(res) return res.status == 201 end })
  end)
  task(4, function(vu)
    http.get("/api/orders/status?id=" .. math.random(1, 200), { name = "GET /api/orders/status" })
  end)
end

-- a document service's reads, behind sharing checks, and group pages
function services.documents()
  task(8, function(vu)
    local doc = math.random(0, 99999)
    http.get("/api/documents/" .. doc .. "?user=" .. ((doc % 50) * 1000 + math.random(0, 199)),
             { name = "GET /api/documents/{id}" })
  end)
  task(2, function(vu)
    http.get("/api/groups/org" .. math.random(0, 49) .. "%2Fall-staff", { name = "GET /api/groups/{id}" })
  end)
end

local known = {}
for k in pairs(services) do known[#known + 1] = k end
table.sort(known)
if not services[service] then
  error("FAULTS_SERVICE=" .. tostring(service) .. ": want one of " .. table.concat(known, ", ") ..
        " (--env FAULTS_SERVICE=NAME; a variant's manifest names it in target.env)")
end
services[service]()
