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
import argparse, glob, http.client, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time

parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
parser.add_argument("--admin-url", required=True, help="a PostgreSQL URL whose user may create databases")
parser.add_argument("--instances", type=int, default=2)
parser.add_argument("--tickets", type=int, default=10000)
parser.add_argument("--lease", type=int, default=10)
args = parser.parse_args()
if args.instances < 2:
    sys.exit("scale-check: --instances is at least 2 (one is killed)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = tempfile.mkdtemp(prefix="tandem-scale-check.")
DATABASE = "tandem_scale_check"
PG_URL = re.sub(r"^(postgres(?:ql)?://[^/?]+)(/[^?]*)?", r"\1/" + DATABASE, args.admin_url)
processes = []


def fail(message):
    print(f"scale-check: FAILED: {message}", file=sys.stderr)
    for log in sorted(glob.glob(os.path.join(WORK, "*.log"))):
        print(f"--- {os.path.basename(log)} (last lines)", file=sys.stderr)
        with open(log, errors="replace") as f:
            print("".join(f.readlines()[-8:]), file=sys.stderr)
    sys.exit(1)


def psql(url, sql):
    done = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"psql: {done.stderr.strip()}")
    return done.stdout.strip()


# What a delivery is known by at its receiver: the mail's Message-ID, the webhook's Tandem-Delivery header.
DELIVERY = "coalesce(message_id, upper(id::text))"


def quoted(values):
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ENV = dict(
    os.environ,
    DATABASE_URL=PG_URL,
    LOG_LEVEL="warning",
    TANDEM_OUTBOX_LEASE_SECONDS=str(args.lease),
    TANDEM_WEBHOOK_ALLOW="127.0.0.1/32",
    TANDEM_MAIL_FROM="helpdesk@scale.example",
)


def start(name, *command, **extra):
    log = open(os.path.join(WORK, f"{name}.log"), "w")
    process = subprocess.Popen([args.binary, *command], env=dict(ENV, **extra), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    processes.append(process)
    return process


def wait_ready(port, process):
    for _ in range(600):
        if process.poll() is not None:
            fail(f"an instance stopped (exit {process.returncode})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz/ready")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    fail(f"the instance on port {port} did not become ready")


class Client:
    def __init__(self, port, token=None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.token = token

    def call(self, method, path, body=None, expect=(200, 201)):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status not in expect:
            fail(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data) if data else None


def sink(script, directory):
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", script), directory],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(WORK, f"{script}.log"), "w"), text=True)
    processes.append(process)
    line = process.stdout.readline()
    if not line.startswith("ready"):
        fail(f"{script} did not start")
    return int(line.split()[1])


def main():
    psql(args.admin_url, f"DROP DATABASE IF EXISTS {DATABASE}")
    psql(args.admin_url, f"CREATE DATABASE {DATABASE}")

    # Every instance's migrate at once, as units started together would.
    migrations = [start(f"migrate-{n}", "migrate", "--yes") for n in range(1, args.instances + 1)]
    for process in migrations:
        if process.wait() != 0:
            fail("a concurrent tandem migrate failed")
    count = psql(PG_URL, "SELECT count(*) FROM _fluent_migrations")
    distinct = psql(PG_URL, "SELECT count(DISTINCT name) FROM _fluent_migrations")
    if count != distinct:
        fail(f"concurrent migrations recorded {count} rows for {distinct} migrations")
    if start("create-admin", "create-admin", "--username", "admin", "--password", "scale-check-2026").wait() != 0:
        fail("create-admin failed")

    mail_port = sink("smtp-sink.py", os.path.join(WORK, "mail"))
    hook_port = sink("webhook-sink.py", os.path.join(WORK, "hooks"))
    ENV["TANDEM_SMTP_URL"] = f"smtp://127.0.0.1:{mail_port}"

    # Web only: takes the writes, processes nothing.
    web_port = free_port()
    web = start("web", "serve", "--no-workers", "--env", "production", "--hostname", "127.0.0.1", "--port", str(web_port))
    wait_ready(web_port, web)
    token = Client(web_port).call("POST", "/api/v1/auth/token", {"username": "admin", "password": "scale-check-2026"})["token"]
    admin = Client(web_port, token)
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
        client = Client(web_port, token)
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
    events = int(psql(PG_URL, "SELECT count(*) FROM events WHERE type = 'ticket.created'"))
    if events != args.tickets:
        fail(f"{events} ticket.created events for {args.tickets} tickets")
    held = psql(PG_URL, "SELECT count(*) FROM outbox")
    if held != "0":
        fail(f"serve --no-workers processed events: {held} outbox rows")
    web.send_signal(signal.SIGTERM)
    if web.wait(timeout=30) != 0:
        fail(f"serve --no-workers did not stop cleanly on SIGTERM (exit {web.returncode})")

    # The backlog: one serve and the rest workers.
    started = time.time()
    instances = []
    serve_port = free_port()
    instances.append(start("instance-1", "serve", "--env", "production", "--hostname", "127.0.0.1", "--port", str(serve_port)))
    for n in range(2, args.instances + 1):
        instances.append(start(f"instance-{n}", "worker", "--env", "production"))
    expected = 2 * args.tickets
    victim, killed_at, taken_at, in_flight = instances[-1], None, None, set()
    deadline = time.time() + 1800
    while True:
        sent = int(psql(PG_URL, "SELECT count(*) FROM outbox WHERE state = 'sent'"))
        # Killed while it holds claimed messages (`claimed_by` names the process), a third of the way in.
        holds = f"state = 'pending' AND claimed_until > now() AND claimed_by LIKE '%:{victim.pid}:%'"
        if killed_at is None and sent >= expected // 3 and psql(PG_URL, f"SELECT count(*) FROM outbox WHERE {holds}") != "0":
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed_at = time.time()
            in_flight = set(psql(PG_URL, f"SELECT {DELIVERY} FROM outbox WHERE {holds}").split())
        if killed_at is not None and taken_at is None:
            left = psql(PG_URL, f"SELECT count(*) FROM outbox WHERE state <> 'sent' AND {DELIVERY} IN ({quoted(in_flight)})") if in_flight else "0"
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

    rows = psql(PG_URL, f"SELECT channel, count(*), count(DISTINCT {DELIVERY}) FROM outbox GROUP BY channel ORDER BY channel").split()
    if rows != [f"email|{args.tickets}|{args.tickets}", f"webhook|{args.tickets}|{args.tickets}"]:
        fail(f"outbox rows by channel: {rows}; expected one mail and one webhook per event")
    unsent = psql(PG_URL, "SELECT count(*) FROM outbox WHERE state <> 'sent'")
    if unsent != "0":
        fail(f"{unsent} outbox rows not sent")
    last = psql(PG_URL, "SELECT max(position) FROM events")
    cursors = psql(PG_URL, "SELECT name || '=' || position FROM event_consumers ORDER BY name").split()
    behind = [c for c in cursors if c.split("=")[1] != last]
    if behind:
        fail(f"consumers not at the last event {last}: {behind}")

    mails = [json.load(open(p))["data"] for p in glob.glob(os.path.join(WORK, "mail", "*.json"))]
    mail_ids = [re.search(r"^Message-ID: (\S+)", m, re.M | re.I).group(1) for m in mails]
    hooks = [json.load(open(p))["headers"] for p in glob.glob(os.path.join(WORK, "hooks", "*.json"))]
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
        process.send_signal(signal.SIGTERM)
    for process in instances[:-1]:
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            fail("an instance did not stop within 60 s of SIGTERM")
        if code != 0:
            fail(f"an instance ended with exit {code} on SIGTERM")
    print(
        f"scale-check: {args.instances} instances on PostgreSQL: {args.tickets} events created by a web-only instance in {created:.1f} s; "
        f"{expected} messages (mail and webhooks) from them in {finished - started:.1f} s, each row once; one instance killed holding "
        f"{len(in_flight)} claimed messages, delivered by the others {took_over:.1f} s after the kill (lease {args.lease} s); "
        f"{duplicates} repeated deliveries, all of those messages; every instance left stopped cleanly on SIGTERM")


try:
    main()
finally:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    subprocess.run(["psql", args.admin_url, "-qAtX", "-c", f"DROP DATABASE IF EXISTS {DATABASE}"], capture_output=True)
    shutil.rmtree(WORK, ignore_errors=True)
