-- wrk script for ingest-single: POST one CloudEvent per request, each with a unique id.
--
--   wrk -t1 -c64 -d10s --latency -s wrk_post.lua URL -- TEMPLATE PHASE OUT KEY
--
-- TEMPLATE  a file holding the event as JSON with @@ID@@ where the id goes
-- PHASE     an id prefix for this run ("w" warm-up, "m" measured), so runs never collide
-- OUT       where done() writes its summary (JSON); the 202 answers' keys go to OUT.keys
-- KEY       the API key
--
-- Ids are "<PHASE>-<thread>-<counter>": unique per thread, per run. response() counts every
-- status and keeps the "key" of each 202, so the benchmark can check in SQL that every
-- message the hub accepted is stored.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local template = file:read("*a")
  file:close()
  local at = string.find(template, "@@ID@@", 1, true)
  assert(at, "the template has no @@ID@@")
  prefix = string.sub(template, 1, at - 1)
  suffix = string.sub(template, at + 6)
  head = prefix .. args[2] .. "-" .. tid .. "-"
  out_path = args[3]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/cloudevents+json"
  wrk.headers["Authorization"] = "Bearer " .. args[4]
  sent = 0
  statuses = {}
  keys = {}
  nkeys = 0
end

function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil, head .. sent .. suffix)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then
    local key = string.match(body, '"key":"([^"]+)"')
    if key then
      nkeys = nkeys + 1
      keys[nkeys] = key
    end
  end
end

function done(summary, latency, requests)
  local out = threads[1]:get("out_path")
  local total_sent = 0
  local merged = {}
  local keyfile = assert(io.open(out .. ".keys", "w"))
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
    local thread_keys = thread:get("keys")
    for i = 1, thread:get("nkeys") do
      keyfile:write(thread_keys[i], "\n")
    end
  end
  keyfile:close()
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  local file = assert(io.open(out, "w"))
  file:write(string.format(
    '{"duration_us":%d,"requests":%d,"bytes":%d,"sent":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"statuses":{%s}}\n',
    summary.duration, summary.requests, summary.bytes, total_sent,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9),
    table.concat(parts, ",")))
  file:close()
end
