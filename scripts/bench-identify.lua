-- wrk script for scripts/bench-intake: GET /api/v1/identify for a random one of the imported
-- profiles' numbers (+1 NXX NXX XXXX, as bench-intake writes them). Usage: wrk ... -- TOKEN ROWS

function init(args)
  token = args[1]
  rows = tonumber(args[2])
  math.randomseed(os.time() + math.random(1000))
end

function request()
  local i = math.random(0, rows - 1)
  local phone = string.format("%%2B1%03d%03d%04d", 200 + math.floor(i / 10000000) % 800, 200 + math.floor(i / 10000) % 800, i % 10000)
  return wrk.format("GET", "/api/v1/identify?phone=" .. phone, { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  if status ~= 200 then io.stderr:write("bench-identify: HTTP " .. status .. ": " .. body .. "\n") end
end
