-- wrk script for scripts/bench-load: POST /api/v1/tickets/{id}/notes, rotating over the ticket ids given after
-- `--`. Usage: wrk ... -s scripts/bench-note.lua URL -- TOKEN TICKET...
-- Prints "added: N" (answers 201) and "not201: N" at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  tickets = {}
  for i = 2, #args do tickets[#tickets + 1] = args[i] end
  sent = 0
  added = 0
  not201 = 0
end

function request()
  sent = sent + 1
  local ticket = tickets[(sent % #tickets) + 1]
  local body = string.format('{"body":"Load note %d: checked the switch port, the printer answers again.","publishTo":"internal"}', sent)
  return wrk.format("POST", "/api/v1/tickets/" .. ticket .. "/notes",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if status == 201 then
    added = added + 1
  else
    not201 = not201 + 1
    if not201 <= 3 then io.stderr:write("bench-note: HTTP " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local a, n = 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("added")
    n = n + thread:get("not201")
  end
  io.write(string.format("added: %d\nnot201: %d\n", a, n))
end
