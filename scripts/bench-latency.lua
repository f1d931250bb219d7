-- wrk script for scripts/bench-instances: the default request (with wrk's -H headers), and at the end the
-- request count and the latency at percentiles from 50 to 100 (finer towards the top), so that runs against
-- several instances at once can be merged into one distribution and its p99 read from all their requests.
-- Prints "requests: N" and lines "pP: MICROSECONDS".
-- With WRK_MEAN_DELAY_MS set, each connection waits a random time after each answer (exponential, that mean: the
-- gaps of independent users), so the load offered is about connections / (mean delay + latency) requests a second,
-- below what the server could do; wrk's latency never counts the wait.

local mean_delay = tonumber(os.getenv("WRK_MEAN_DELAY_MS") or "")

if mean_delay then
  function init(args) math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16)) end
  function delay() return math.floor(-math.log(1 - math.random()) * mean_delay + 0.5) end
end

function done(summary, latency, requests)
  io.write(string.format("requests: %d\n", summary.requests))
  local function line(p) io.write(string.format("p%.2f: %d\n", p, latency:percentile(p))) end
  for i = 50, 89 do line(i) end
  for i = 900, 989 do line(i / 10) end
  for i = 9900, 9999 do line(i / 100) end
  io.write(string.format("p100.00: %d\n", latency.max))  -- percentile(100) answers 0
end
