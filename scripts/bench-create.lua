-- wrk script for scripts/bench: POST /api/v1/tickets, one new ticket per request, rotating over
-- the organizations given after `--`. Usage: wrk ... -s scripts/bench-create.lua URL -- TOKEN ORG...
-- With `--notes` (scripts/bench-load): POST /api/v1/tickets/{id}/notes instead, rotating over tickets:
--   wrk ... -s scripts/bench-create.lua URL -- TOKEN --notes TICKET...
-- Prints "created: N" (answers 201) and "not201: N" (any other status) at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  notes = args[2] == "--notes"
  targets = {}
  for i = (notes and 3 or 2), #args do targets[#targets + 1] = args[i] end
  sent = 0
  created = 0
  not201 = 0
  -- Different threads start at different targets and titles.
  prefix = tostring(math.random(100000, 999999))
end

function request()
  sent = sent + 1
  local target = targets[(sent % #targets) + 1]
  if notes then
    local note = string.format('{"body":"Load note %s-%d: checked the switch port, the printer answers again.","publishTo":"internal"}', prefix, sent)
    return wrk.format("POST", "/api/v1/tickets/" .. target .. "/notes",
      { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, note)
  end
  local body = string.format(
    '{"title":"Bench ticket %s-%d","description":"Created by scripts/bench: the printer on the second floor is offline again.",'
      .. '"organizationId":"%s","priority":"medium"}',
    prefix, sent, target)
  return wrk.format("POST", "/api/v1/tickets",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    not201 = not201 + 1
    if not201 <= 3 then io.stderr:write("bench-create: HTTP " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local c, n = 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    n = n + thread:get("not201")
  end
  io.write(string.format("created: %d\nnot201: %d\n", c, n))
end
