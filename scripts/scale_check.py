#!/usr/bin/env python3
"""Several Tandem instances on one PostgreSQL work off one backlog exactly once, and survive one of them dying.

    scale_check.py --binary BIN --admin-url URL [--instances 2] [--tickets 10000] [--lease 10]

1. A fresh database; every instance's `tandem migrate` runs at once (an advisory lock lets one work).
2. `tandem serve --no-workers` takes TICKETS ticket creations through the API (16 clients): as many
   `ticket.created` events, and nothing processed (no outbox row, no consumer moved): web only.
3. INSTANCES processes start on the backlog: one `tandem serve`, the rest `tandem worker`. Each event makes
   an acknowledgement mail (the automation consumer) and a webhook call (the webhook consumer): 2 x TICKETS
   outbox messages, delivered to a real SMTP server and a real HTTP receiver.
4. When a third of them are delivered, the last worker is killed (SIGKILL). What it held: its consumer
   transactions roll back (another instance takes the cursor), its claimed messages wait out their lease
   (TANDEM_OUTBOX_LEASE_SECONDS) and another instance delivers them.

Checks: one mail and one webhook row per event and nothing else; every message arrives, each exactly once,
except messages claimed when the instance died (mail and webhooks are at least once: the dead instance may
have sent one before it could record it); those claimed messages are delivered within the lease (+ 20 s);
every row ends `sent`; both consumers' cursors stand at the last event. Prints one summary line.
"""
import argparse, glob, json, os, re, signal, sys, threading, time

from checklib import Check, Client, free_port

parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
parser.add_argument("--admin-url", required=True, help="a PostgreSQL URL whose user may create databases")
parser.add_argument("--instances", type=int, default=2)
parser.add_argument("--tickets", type=int, default=10000)
parser.add_argument("--lease", type=int, default=10)
args = parser.parse_args()
if args.instances < 2:
    sys.exit("scale-check: --instances is at least 2 (one is killed)")

check = Check("scale-check", args.binary, args.admin_url, "tandem_scale_check")
check.env.update(TANDEM_OUTBOX_LEASE_SECONDS=str(args.lease), TANDEM_WEBHOOK_ALLOW="127.0.0.1/32", TANDEM_MAIL_FROM="helpdesk@scale.example")
fail, psql, start = check.fail, check.psql, check.start
# What a delivery is known by at its receiver: the mail's Message-ID, the webhook's Tandem-Delivery header.
DELIVERY = "coalesce(message_id, upper(id::text))"


def quoted(values):
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


def main():
    check.fresh_database()

    # Every instance's migrate at once, as units started together would.
    migrations = [start(f"migrate-{n}", "migrate", "--yes") for n in range(1, args.instances + 1)]
    for process in migrations:
        if process.wait() != 0:
            fail("a concurrent tandem migrate failed")
    count = psql("SELECT count(*) FROM _fluent_migrations")
    distinct = psql("SELECT count(DISTINCT name) FROM _fluent_migrations")
    if count != distinct:
        fail(f"concurrent migrations recorded {count} rows for {distinct} migrations")
    check.run("create-admin", "create-admin", "--username", "admin", "--password", "scale-check-2026")

    mail_port = check.sink("smtp-sink.py", os.path.join(check.work, "mail"))
    hook_port = check.sink("webhook-sink.py", os.path.join(check.work, "hooks"))
    check.env["TANDEM_SMTP_URL"] = f"smtp://127.0.0.1:{mail_port}"

    # Web only: takes the writes, processes nothing.
    web_port = free_port()
    web = check.serve("web", web_port, "--no-workers")
    check.wait_ready(web_port, web)
    token = Client(check, web_port).call("POST", "/api/v1/auth/token", {"username": "admin", "password": "scale-check-2026"})["token"]
    admin = Client(check, web_port, token)
    organization = admin.call("POST", "/api/v1/organizations", {"name": "Scale Check Ltd"})["id"]
    site = admin.call("POST", "/api/v1/sites", {"organizationId": organization, "name": "HQ", "country": "GB"})["id"]
    contact = admin.call(
        "POST", "/api/v1/contacts",
        {"organizationId": organization, "siteId": site, "firstName": "Casey", "lastName": "Client", "email": "casey@scale.example",
         "phones": [{"number": "2065550100", "countryCode": "US", "kind": "office"}]})["id"]
    admin.call("POST", "/api/v1/webhooks", {"url": f"http://127.0.0.1:{hook_port}/hook", "eventTypes": ["ticket.created"]})

    started = time.time()
    errors = []

    def create(offset):
        client = Client(check, web_port, token)
        try:
            for i in range(offset, args.tickets, 16):
                client.call("POST", "/api/v1/tickets", {"organizationId": organization, "siteId": site, "contactId": contact, "title": f"Scale {i}"})
        except SystemExit as error:
            errors.append(str(error))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        fail(errors[0])
    created = time.time() - started
    events = int(psql("SELECT count(*) FROM events WHERE type = 'ticket.created'"))
    if events != args.tickets:
        fail(f"{events} ticket.created events for {args.tickets} tickets")
    held = psql("SELECT count(*) FROM outbox")
    if held != "0":
        fail(f"serve --no-workers processed events: {held} outbox rows")
    check.stop(web, timeout=30)

    # The backlog: one serve and the rest workers.
    started = time.time()
    instances = []
    serve_port = free_port()
    instances.append(check.serve("instance-1", serve_port))
    for n in range(2, args.instances + 1):
        instances.append(start(f"instance-{n}", "worker", "--env", "production"))
    expected = 2 * args.tickets
    victim, killed_at, taken_at, in_flight = instances[-1], None, None, set()
    deadline = time.time() + 1800
    while True:
        sent = int(psql("SELECT count(*) FROM outbox WHERE state = 'sent'"))
        # Killed while it holds claimed messages (`claimed_by` names the process), a third of the way in.
        holds = f"state = 'pending' AND claimed_until > now() AND claimed_by LIKE '%:{victim.pid}:%'"
        if killed_at is None and sent >= expected // 3 and psql(f"SELECT count(*) FROM outbox WHERE {holds}") != "0":
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed_at = time.time()
            in_flight = set(psql(f"SELECT {DELIVERY} FROM outbox WHERE {holds}").split())
        if killed_at is not None and taken_at is None:
            left = psql(f"SELECT count(*) FROM outbox WHERE state <> 'sent' AND {DELIVERY} IN ({quoted(in_flight)})") if in_flight else "0"
            if left == "0":
                taken_at = time.time()
        if sent >= expected:
            break
        for process in instances:
            if process is not victim and process.poll() is not None:
                fail(f"an instance stopped (exit {process.returncode})")
        if time.time() > deadline:
            fail(f"{sent} of {expected} messages sent after 30 minutes")
        time.sleep(0.2)
    finished = time.time()
    if killed_at is None:
        fail("the backlog was done before the instance to kill held claimed messages")
    took_over = (taken_at or finished) - killed_at
    time.sleep(1)  # late duplicates would arrive now

    rows = psql(f"SELECT channel, count(*), count(DISTINCT {DELIVERY}) FROM outbox GROUP BY channel ORDER BY channel").split()
    if rows != [f"email|{args.tickets}|{args.tickets}", f"webhook|{args.tickets}|{args.tickets}"]:
        fail(f"outbox rows by channel: {rows}; expected one mail and one webhook per event")
    unsent = psql("SELECT count(*) FROM outbox WHERE state <> 'sent'")
    if unsent != "0":
        fail(f"{unsent} outbox rows not sent")
    last = psql("SELECT max(position) FROM events")
    cursors = psql("SELECT name || '=' || position FROM event_consumers ORDER BY name").split()
    behind = [c for c in cursors if c.split("=")[1] != last]
    if behind:
        fail(f"consumers not at the last event {last}: {behind}")

    mails = [json.load(open(p))["data"] for p in glob.glob(os.path.join(check.work, "mail", "*.json"))]
    mail_ids = [re.search(r"^Message-ID: (\S+)", m, re.M | re.I).group(1) for m in mails]
    hooks = [json.load(open(p))["headers"] for p in glob.glob(os.path.join(check.work, "hooks", "*.json"))]
    hook_ids = [h.get("Tandem-Delivery") for h in hooks]
    duplicates = 0
    for kind, ids in (("mail", mail_ids), ("webhook", hook_ids)):
        seen = {}
        for i in ids:
            seen[i] = seen.get(i, 0) + 1
        if len(seen) != args.tickets:
            fail(f"{len(seen)} distinct {kind} deliveries arrived; expected {args.tickets}")
        twice = [i for i, n in seen.items() if n > 1]
        outside = [i for i in twice if i not in in_flight]
        if outside:
            fail(f"{len(outside)} {kind} deliveries arrived twice that the dead instance did not hold, e.g. {outside[0]}")
        duplicates += sum(seen[i] - 1 for i in twice)
    if in_flight and took_over > args.lease + 20:
        fail(f"the dead instance's {len(in_flight)} claimed messages took {took_over:.0f} s after the kill (lease {args.lease} s)")

    for process in instances[:-1]:
        check.stop(process)
    print(
        f"scale-check: {args.instances} instances on PostgreSQL: {args.tickets} events created by a web-only instance in {created:.1f} s; "
        f"{expected} messages (mail and webhooks) from them in {finished - started:.1f} s, each row once; one instance killed holding "
        f"{len(in_flight)} claimed messages, delivered by the others {took_over:.1f} s after the kill (lease {args.lease} s); "
        f"{duplicates} repeated deliveries, all of those messages; every instance left stopped cleanly on SIGTERM")


try:
    main()
finally:
    check.close()
