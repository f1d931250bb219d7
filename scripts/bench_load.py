#!/usr/bin/env python3
"""A long mixed load against two instances on one PostgreSQL (issue 22): throughput and p99 per operation, and
the instances' memory over the run.

    bench_load.py --binary BIN --admin-url URL [--minutes 30] [--tickets 100000] [--chart FILE.svg]

Seeds the demo tenant with TICKETS tickets (2 notes each), starts two `tandem serve` (both running the
background work), and runs for MINUTES at once, each operation its own wrk (one thread) against one instance:
the ticket list's first page as rick (client-restricted technician, 2 connections), omar (co-managing user),
alice (portal contact) and tara (unrestricted); full-text search as rick and omar; ticket creation as tara on
each instance; notes as tara; the event feed as admin; and every 30 s a client profile import (a site's own
export posted back: every row read, checked and compared). The instances' resident memory is read every 10 s.
Prints a Markdown table (requests, per second, p50, p99, failures) and the memory at the start, the middle and
the end; writes the memory curve as an SVG line chart to --chart.
"""
import argparse, base64, hashlib, hmac, http.client, os, re, struct, subprocess, threading, time

from checklib import ROOT, Check, Client, free_port, to_ms

parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
parser.add_argument("--admin-url", required=True)
parser.add_argument("--minutes", type=float, default=30)
parser.add_argument("--tickets", type=int, default=100000)
parser.add_argument("--chart", default=os.path.join(ROOT, "Benchmarks", "load-memory.svg"))
args = parser.parse_args()

check = Check("bench-load", args.binary, args.admin_url, "tandem_bench_load")
check.env.update(LOG_LEVEL="warning", TANDEM_BCRYPT_COST="4")
fail = check.fail
PASSWORDS = {"admin": "demo-admin-2026", "tara": "demo-tech-2026", "rick": "demo-tech-2026", "omar": "demo-comanaged-2026",
             "alice@northwind.example": "demo-portal-2026"}


def totp(secret, at=None):
    """RFC 6238 with Tandem's parameters (SHA-1, 6 digits, 30 s)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000:06d}"


def login(port, name, password):
    """A token; omar sets up two-factor authentication at his first login, as the demo says."""
    client = Client(check, port)
    status, body = client.send("POST", "/api/v1/auth/token", {"username": name, "password": password})
    if status == 200:
        return body["token"]
    if status != 401 or not body or "enrolmentToken" not in body:
        fail(f"login as {name}: {status}")
    enrolment = Client(check, port, body["enrolmentToken"])
    secret = enrolment.call("POST", "/api/v1/me/totp")["secret"]
    enrolment.call("POST", "/api/v1/me/totp/confirm", {"code": totp(secret)}, expect=(200, 201, 204))
    time.sleep(31 - time.time() % 30)  # a code is good once: log in with the next one
    return client.call("POST", "/api/v1/auth/token", {"username": name, "password": password, "totp": totp(secret)})["token"]


def parse_wrk(text):
    def find(pattern, default="0"):
        match = re.search(pattern, text, re.M)
        return match.group(1) if match else default
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", find(r"^\s*Socket errors: (.*)$", "")))
    return {
        "requests": int(find(r"^\s*(\d+) requests in")),
        "rps": float(find(r"^Requests/sec:\s+([\d.]+)")),
        "p50": to_ms(find(r"^\s*50%\s+(\S+)", "0ms")),
        "p99": to_ms(find(r"^\s*99%\s+(\S+)", "0ms")),
        "failed": int(find(r"Non-2xx or 3xx responses: (\d+)")) + errors,
    }


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return None


def chart(samples, path):
    """Resident memory of each instance over the run: an SVG line chart with its numbers in a title per point."""
    width, height, left, bottom, top, right = 720, 340, 60, 40, 40, 20
    minutes = [s[0] / 60 for s in samples] or [0]
    peak = max([max(s[1], s[2]) for s in samples] + [1])
    scale_y = 10 ** len(str(int(peak))) / 10
    limit = (int(peak / scale_y) + 1) * scale_y
    x = lambda m: left + (width - left - right) * (m / max(minutes[-1], 1e-9))
    y = lambda v: height - bottom - (height - bottom - top) * (v / limit)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-labelledby="t">',
             '<title id="t">Resident memory of the two instances during the mixed load (MB over minutes)</title>',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for i in range(6):
        value = limit * i / 5
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">{value:.0f}</text>')
    for i in range(7):
        m = minutes[-1] * i / 6
        label = f"{m:.0f}" if minutes[-1] >= 6 else f"{m:.1f}"
        parts.append(f'<text x="{x(m):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle">{label}</text>')
    parts.append(f'<text x="{(width + left) / 2}" y="{height - 6}" font-size="12" text-anchor="middle">minutes</text>'
                 f'<text x="14" y="{top - 8}" font-size="12">MB</text>')
    for index, colour, name in ((1, "#1f5fa8", "instance 1"), (2, "#c0392b", "instance 2")):
        points = " ".join(f"{x(s[0] / 60):.1f},{y(s[index]):.1f}" for s in samples)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"><title>{name}</title></polyline>')
        parts.append(f'<text x="{left + 110 * index}" y="{top - 16}" font-size="12" fill="{colour}">{name}</text>')
    parts.append("</svg>\n")
    with open(path, "w") as out:
        out.write("\n".join(parts))


def main():
    check.fresh_database()
    started = time.time()
    check.run("seed", "seed-bench", "--tickets", str(args.tickets), "--notes-per-ticket", "2")
    seeded = time.time() - started
    # A real install has no backlog of seeded events: the consumers start at the last one.
    check.psql("UPDATE event_consumers SET position = (SELECT coalesce(max(position), 0) FROM events)")

    ports = [free_port(), free_port()]
    instances = [check.serve(f"instance-{n + 1}", port) for n, port in enumerate(ports)]
    for port, process in zip(ports, instances):
        check.wait_ready(port, process)
    tokens = {name: login(ports[0], name, password) for name, password in PASSWORDS.items()}
    tara = Client(check, ports[0], tokens["tara"])
    organizations = [o["id"] for o in tara.call("GET", "/api/v1/organizations?limit=100")["items"]]
    tickets = [t["id"] for t in tara.call("GET", "/api/v1/tickets?limit=100")["items"]]
    last = int(check.psql("SELECT coalesce(max(position), 0) FROM events"))
    admin = Client(check, ports[0], tokens["admin"])
    # Client profiles are the site's contacts: the site with the most.
    site = check.psql("SELECT site_id FROM contacts WHERE site_id IS NOT NULL GROUP BY site_id ORDER BY count(*) DESC LIMIT 1").upper()
    admin.connection.request("GET", f"/api/v1/sites/{site}/client-profiles/export?format=csv", headers={"Authorization": f"Bearer {tokens['admin']}"})
    response = admin.connection.getresponse()
    export = response.read()
    if response.status != 200:
        fail(f"the profile export answered {response.status}")

    seconds = int(args.minutes * 60)
    base = [f"http://127.0.0.1:{port}" for port in ports]
    operations = [
        ("list as rick (client-restricted)", 0, 2, ["-H", f"Authorization: Bearer {tokens['rick']}", base[0] + "/api/v1/tickets?limit=50"]),
        ("list as omar (co-managing user)", 1, 1, ["-H", f"Authorization: Bearer {tokens['omar']}", base[1] + "/api/v1/tickets?limit=50"]),
        ("list as alice (contact)", 0, 1, ["-H", f"Authorization: Bearer {tokens['alice@northwind.example']}", base[0] + "/api/v1/tickets?limit=50"]),
        ("list as tara (unrestricted)", 1, 1, ["-H", f"Authorization: Bearer {tokens['tara']}", base[1] + "/api/v1/tickets?limit=50"]),
        ("search as rick", 0, 1, ["-H", f"Authorization: Bearer {tokens['rick']}", base[0] + "/api/v1/search?q=printer&kinds=tickets"]),
        ("search as omar", 1, 1, ["-H", f"Authorization: Bearer {tokens['omar']}", base[1] + "/api/v1/search?q=printer&kinds=tickets"]),
        ("create (instance 1)", 0, 1, ["-s", f"{ROOT}/scripts/bench-create.lua", base[0], "--", tokens["tara"], *organizations]),
        ("create (instance 2)", 1, 1, ["-s", f"{ROOT}/scripts/bench-create.lua", base[1], "--", tokens["tara"], *organizations]),
        ("note as tara", 1, 1, ["-s", f"{ROOT}/scripts/bench-create.lua", base[1], "--", tokens["tara"], "--notes", *tickets]),
        ("event feed as admin", 0, 1, ["-H", f"Authorization: Bearer {tokens['admin']}", base[0] + f"/api/v1/events?after={max(last - 1000, 0)}&limit=100"]),
    ]
    runs = []
    for name, _, connections, arguments in operations:
        out = open(os.path.join(check.work, f"wrk-{len(runs)}.txt"), "w")
        process = subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", *arguments], stdout=out, stderr=subprocess.STDOUT)
        runs.append((name, process, out.name))

    samples, imports, stop = [], [], threading.Event()

    def import_loop():
        while not stop.wait(30):
            begun = time.time()
            connection = http.client.HTTPConnection("127.0.0.1", ports[len(imports) % 2], timeout=120)
            connection.request("POST", f"/api/v1/sites/{site}/client-profiles/import?format=csv", body=export,
                               headers={"Authorization": f"Bearer {tokens['admin']}", "Content-Type": "text/csv"})
            status = connection.getresponse().status
            imports.append(((time.time() - begun) * 1000, status))

    importer = threading.Thread(target=import_loop)
    importer.start()
    begun = time.time()
    while any(process.poll() is None for _, process, _ in runs):
        sizes = [rss_mb(process.pid) for process in instances]
        if None in sizes:
            fail("an instance stopped during the load")
        samples.append((time.time() - begun, *sizes))
        time.sleep(10)
    stop.set()
    importer.join()

    print(f"bench-load: {args.tickets} tickets seeded in {seeded:.0f} s; two instances for {args.minutes:g} minutes\n")
    print("| operation | instance | connections | requests | per second | p50 ms | p99 ms | failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (name, instance, connections, _), (_, _, path) in zip(operations, runs):
        result = parse_wrk(open(path).read())
        print(f"| {name} | {instance + 1} | {connections} | {result['requests']} | {result['rps']:.0f} | {result['p50']:.1f} | {result['p99']:.1f} | {result['failed']} |")
    if imports:
        times = sorted(t for t, _ in imports)
        failed = sum(1 for _, status in imports if status != 200)
        print(f"| profile import ({len(export.splitlines()) - 1} rows) | both | 1 every 30 s | {len(imports)} | – | "
              f"{times[len(times) // 2]:.0f} | {times[min(len(times) - 1, int(len(times) * 0.99))]:.0f} | {failed} |")
    if samples:
        def at(fraction):
            s = samples[min(len(samples) - 1, int(len(samples) * fraction))]
            return f"{s[1]:.0f} / {s[2]:.0f}"
        print(f"\nresident memory (MB, instance 1 / 2): first sample {at(0)}, a quarter in {at(0.25)}, half-way {at(0.5)}, "
              f"at the end {at(1)}; peak {max(s[1] for s in samples):.0f} / {max(s[2] for s in samples):.0f}")
        chart(samples, args.chart)
        print(f"memory chart: {args.chart}")
    for process in instances:
        check.stop(process)


try:
    main()
finally:
    check.close()
