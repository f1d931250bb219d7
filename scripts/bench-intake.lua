-- wrk script for scripts/bench-intake: POST /api/v1/inbound/email, a raw message per request from
-- one of the known senders given after `--`, each with a new Message-ID; every fourth request sends
-- an earlier Message-ID again (the duplicate path). Usage: wrk ... -s bench-intake.lua URL -- TOKEN SENDERS
-- Prints "accepted: N" (answers 200) and "not200: N" at the end.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  senders = tonumber(args[2])
  sent = 0
  accepted = 0
  not200 = 0
  prefix = tostring(math.random(100000, 999999))
end

function request()
  sent = sent + 1
  local n = sent
  if sent % 4 == 0 then n = sent - 3 end
  local from = string.format("user%d@client.example", n % senders)
  local body = table.concat({
    "From: Bench User <" .. from .. ">",
    "To: help@msp.example",
    "Subject: Printer offline " .. prefix .. "-" .. n,
    "Date: Mon, 07 Dec 2026 10:00:00 +0000",
    "Message-ID: <" .. prefix .. "-" .. n .. "@client.example>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Hello,",
    "the printer on the second floor is offline again. Could someone have a look?",
    "",
    "Thanks",
    ""}, "\r\n")
  return wrk.format("POST", "/api/v1/inbound/email",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "message/rfc822" }, body)
end

function response(status, headers, body)
  if status == 200 then
    accepted = accepted + 1
  else
    not200 = not200 + 1
    if not200 <= 3 then io.stderr:write("bench-intake: HTTP " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local a, n = 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("accepted")
    n = n + thread:get("not200")
  end
  io.write("accepted: " .. a .. "\n")
  io.write("not200: " .. n .. "\n")
end
