-- wrk script of the benchmark, driven by environment variables (bench/run.py sets them).
--
-- BENCH_MODE    static | read | write | mix | create
--                 static: the same request every time (BENCH_METHOD, BENCH_PATH, BENCH_BODY)
--                 read:   GET BENCH_ITEM_PATH .. id, ids round robin over 1..BENCH_IDS
--                 write:  BENCH_WRITE_METHOD BENCH_ITEM_PATH .. id with BENCH_WRITE_BODY
--                 mix:    request n is a write when n % 5 == 4, else a read (80 % / 20 %)
--                 create: BENCH_METHOD BENCH_PATH with BENCH_WRITE_BODY
-- BENCH_WRITE_BODY  body template; {n} becomes the request counter (unique names), {etag} the
--                 last `_etag` seen for the id (BENCH_ETAGS primes them, responses update them)
-- BENCH_HEADERS  extra headers, one "Name: value" a line
-- BENCH_QUERY    appended to write paths (e.g. "?force=true")
-- BENCH_OUT      where done() writes the JSON summary
--
-- Ids go round robin, so with C connections the C requests in flight always name C different
-- projects: an update never races another update of the same project, and the `_etag` it sends
-- is the one of the previous answer for that id (exact `_etag` tracking without per-connection
-- state). Requests per connection are never pipelined.

local env = os.getenv
local mode = env("BENCH_MODE") or "static"
local method = env("BENCH_METHOD") or "GET"
local path = env("BENCH_PATH") or "/"
local body = env("BENCH_BODY")
if body == "" then body = nil end
local item_path = env("BENCH_ITEM_PATH") or "/"
local write_method = env("BENCH_WRITE_METHOD") or "PATCH"
local write_body = env("BENCH_WRITE_BODY") or "{}"
local query = env("BENCH_QUERY") or ""
local ids = tonumber(env("BENCH_IDS") or "1")
local counter = 0
local etags = {}

local headers = {}
for line in string.gmatch(env("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end
if body or mode ~= "read" then headers["Content-Type"] = "application/json" end

local etag_file = env("BENCH_ETAGS")
if etag_file and etag_file ~= "" then
  for line in io.lines(etag_file) do
    local id, etag = string.match(line, "^(%d+)%s+(%S+)$")
    if id then etags[tonumber(id)] = etag end
  end
end

local static_request = nil

local function fill(template, n, id)
  local text = string.gsub(template, "{n}", tostring(n))
  if id then text = string.gsub(text, "{etag}", etags[id] or "none") end
  return text
end

local function read(id)
  return wrk.format("GET", item_path .. id, headers)
end

local function write(id, n)
  return wrk.format(write_method, item_path .. id .. query, headers, fill(write_body, n, id))
end

request = function()
  counter = counter + 1
  if mode == "static" then
    if not static_request then static_request = wrk.format(method, path, headers, body) end
    return static_request
  elseif mode == "create" then
    return wrk.format(method, path, headers, fill(write_body, counter, nil))
  end
  local id = (counter - 1) % ids + 1
  if mode == "read" then
    return read(id)
  elseif mode == "write" then
    return write(id, counter)
  else -- mix
    if counter % 5 == 4 then return write(id, counter) end
    return read(id)
  end
end

if env("BENCH_TRACK_ETAG") == "1" then
  response = function(status, hdrs, resp_body)
    if status == 200 and resp_body then
      local id = string.match(resp_body, '^{"id":(%d+)')
      local etag = string.match(resp_body, '"_etag":"([^"]*)"')
      if id and etag then etags[tonumber(id)] = etag end
    end
  end
end

done = function(summary, latency, requests)
  local out = env("BENCH_OUT")
  local e = summary.errors
  local text = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%.1f,"max":%.1f,"mean":%.1f,"stdev":%.1f,' ..
    '"p50":%.1f,"p75":%.1f,"p90":%.1f,"p99":%.1f,"p999":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9))
  if out and out ~= "" then
    local f = io.open(out, "w")
    f:write(text)
    f:close()
  else
    io.write(text)
  end
end
