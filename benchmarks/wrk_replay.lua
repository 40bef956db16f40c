-- wrk script for inbound: replay pre-signed webhook requests, each one once.
--
--   wrk -t1 -c64 -d10s --latency -s wrk_replay.lua URL -- REQUESTS OUT
--
-- REQUESTS  groups of four lines per request: webhook-id, webhook-timestamp,
--           webhook-signature, body (compact JSON, one line). Signatures cannot be made
--           in Lua, so the benchmark signs every request beforehand.
-- OUT       where done() writes its summary (JSON)
--
-- A request is never sent twice unless the pool runs out; then "exhausted" counts the
-- repeats (the hub answers them 200 as duplicates).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local count = 0
  local file = assert(io.open(args[1], "rb"))
  while true do
    local id = file:read("*l")
    if not id then break end
    local stamp = file:read("*l")
    local signature = file:read("*l")
    local body = file:read("*l")
    count = count + 1
    requests[count] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id,
      ["webhook-timestamp"] = stamp,
      ["webhook-signature"] = signature,
    }, body)
  end
  file:close()
  assert(count > 0, "no requests in " .. args[1])
  pool = count
  out_path = args[2]
  sent = 0
  exhausted = 0
  statuses = {}
end

function request()
  sent = sent + 1
  if sent > pool then exhausted = exhausted + 1 end
  return requests[((sent - 1) % pool) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local out = threads[1]:get("out_path")
  local total_sent, total_exhausted = 0, 0
  local merged = {}
  for _, thread in ipairs(threads) do
    total_sent = total_sent + thread:get("sent")
    total_exhausted = total_exhausted + thread:get("exhausted")
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  local file = assert(io.open(out, "w"))
  file:write(string.format(
    '{"duration_us":%d,"requests":%d,"bytes":%d,"sent":%d,"exhausted":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d},' ..
    '"statuses":{%s}}\n',
    summary.duration, summary.requests, summary.bytes, total_sent, total_exhausted,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9),
    table.concat(parts, ",")))
  file:close()
end
