#!/usr/bin/env python3
"""One instance against two on one PostgreSQL (issue 22's targets): the client-restricted first page and durable
ticket creation.

    bench_instances.py --binary BIN --admin-url URL [--tickets 1000000] [--seconds 15] [--connections 16] [--rounds 2]

Seeds the demo tenant with TICKETS tickets (no notes), then measures three layouts: one `tandem serve`; two
`tandem serve` (each running the background work); and two `tandem serve --no-workers` with one `tandem worker`,
the split an operator would run. Each: GET /api/v1/tickets?limit=50 as rick (restricted to 2 of the 10
organizations) at CONNECTIONS connections and at 1, and POST /api/v1/tickets as tara at CONNECTIONS connections
(scripts/bench-create.lua; every answer must be 201). With two web instances the connections are split evenly
between them, each half its own wrk at the same time; the p99 given is the larger of the two, and "p99 of all"
the p99 of all their requests together (their latency tables merged: scripts/bench-latency.lua), which is what
clients behind a load balancer would see.

Fair phases: every layout starts with the event consumers at the last event and no SLA alert due unrecorded
(`seed-bench` records those: a real install has no backlog of either) and after a checkpoint (the seed is vacuumed
and analyzed first), so no layout works off another's creations or pays for their writes; and the layouts run in
one order, then in the reverse order (ROUNDS), so that a database growing by each phase's creations favours none
of them. The last column, events left unconsumed when the create run ends, shows which layouts' background work
fell behind while creating.
The header also gives the machine's speed, for comparing runs on different days: pgbench (8 clients, 10 s) running
rick's page statement alone, without any instance (sessions have found the same kind of machine 2x apart).
Each web instance runs its default event loops, one per core (with the token cache, one loop each for two instances on
2 cores saturated the loops: RESULTS, seventeenth session); --event-loops N sets TANDEM_EVENT_LOOPS instead.
Below saturation (--offered, default 0.5): the page again with each connection pausing a random time between requests
(scripts/bench-latency.lua, WRK_MEAN_DELAY_MS), so the load offered is that fraction of the rate just measured: the
latency people see when the instances are not the bottleneck, for comparison (at 16 connections held busy on 2 cores
the latency is mostly the queue, and moves with the machine's speed).
Targets (docs/performance.md, "Issue 22's targets, as decided"): rick's page p99 < 10 ms at 1M tickets with two
instances, read at one connection and below saturation (the "alone" and "offered" columns); creation with two at
least that of one, the mean over alternating phases.
"""
import argparse, glob, os, re, shutil, subprocess

from checklib import ROOT, Check, Client, free_port, to_ms

parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
parser.add_argument("--admin-url", required=True)
parser.add_argument("--tickets", type=int, default=1000000)
parser.add_argument("--seconds", type=int, default=15)
parser.add_argument("--connections", type=int, default=16)
parser.add_argument("--rounds", type=int, default=2)
parser.add_argument("--template", help="copy this already seeded database instead of seeding (repeated experiments)")
parser.add_argument("--event-loops", type=int, help="TANDEM_EVENT_LOOPS of each web instance (default: unset, one loop per core)")
parser.add_argument("--offered", type=float, default=0.5,
                    help="also measure the page with each connection pausing between requests, offering this fraction of the saturated rate (0: not)")
parser.add_argument("--layouts", help="only these layouts, comma-separated numbers in LAYOUTS' order (1: 1 serve, 2: 2 serve, 3: split)")
args = parser.parse_args()

check = Check("bench-instances", args.binary, args.admin_url, "tandem_bench_instances")
check.env.update(LOG_LEVEL="warning", TANDEM_BCRYPT_COST="4")


def merged_p99(outputs):
    """The p99 of all the requests of runs made at once (scripts/bench-latency.lua's tables): the latency under which
    99 % of them were answered. Each run counts at its largest listed percentile at or under a latency, so the
    figure errs high, never low."""
    runs = []
    for out in outputs:
        points = [(float(p) / 100, int(us) / 1000) for p, us in re.findall(r"^p([\d.]+): (\d+)$", out, re.M)]
        runs.append((int(re.search(r"^requests: (\d+)$", out, re.M).group(1)), points))
    total = sum(n for n, _ in runs)

    def answered(ms):
        return sum(n * max([p for p, latency in points if latency <= ms], default=0) for n, points in runs)

    return min(latency for _, points in runs for _, latency in points if answered(latency) >= 0.99 * total)


def wrk(urls, connections, *extra, env=None):
    """wrk against each URL at once, connections split evenly; answers (requests/s summed, p50 and p99 the largest,
    created, and with scripts/bench-latency.lua the p99 of all the requests)."""
    share = max(connections // len(urls), 1)
    runs = [subprocess.Popen(["wrk", "-t1", f"-c{share}", f"-d{args.seconds}s", "--latency", *[e.replace("{URL}", url) for e in extra]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {}))) for url in urls]
    outputs = [run.communicate()[0] for run in runs]
    rps = p50 = p99 = created = 0.0
    for out in outputs:
        if re.search(r"Non-2xx or 3xx responses: [1-9]", out) or re.search(r"^not201: [1-9]", out, re.M):
            check.fail(f"requests failed:\n{out}")
        rps += float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1))
        p50 = max(p50, to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)))
        p99 = max(p99, to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)))
        found = re.search(r"^created: (\d+)", out, re.M)
        created += int(found.group(1)) if found else 0
    return rps, p50, p99, created, merged_p99(outputs) if "requests: " in outputs[0] else None


LAYOUTS = {
    "1 serve": ([()], False),
    "2 serve": ([(), ()], False),
    "2 serve --no-workers + 1 worker": ([("--no-workers",), ("--no-workers",)], True),
}


def measure(ports):
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    rick = Client(check, ports[0]).call("POST", "/api/v1/auth/token", {"username": "rick", "password": "demo-tech-2026"})["token"]
    tara = Client(check, ports[0]).call("POST", "/api/v1/auth/token", {"username": "tara", "password": "demo-tech-2026"})["token"]
    organizations = [o["id"] for o in Client(check, ports[0], tara).call("GET", "/api/v1/organizations?limit=100")["items"]]
    page = ["-H", f"Authorization: Bearer {rick}", "-s", f"{ROOT}/scripts/bench-latency.lua", "{URL}/api/v1/tickets?limit=50"]
    for url in urls:
        subprocess.run(["wrk", "-t1", "-c4", "-d3s", "-H", f"Authorization: Bearer {rick}", f"{url}/api/v1/tickets?limit=50"], capture_output=True)
    rps, p50, p99, _, all99 = wrk(urls, args.connections, *page)
    _, alone50, alone99, _, _ = wrk(urls[:1], 1, *page)
    offered = ""
    if args.offered:
        # Each connection's mean cycle is connections / (fraction × saturated rate); the answer takes about alone50 of it.
        pause = max(args.connections / (args.offered * rps) * 1000 - alone50, 0)
        paced, _, _, _, paced99 = wrk(urls, args.connections, *page, env={"WRK_MEAN_DELAY_MS": f"{pause:.3f}"})
        offered = f" {paced:,.0f} | {paced99:.2f} |"
    create_rps, _, create99, created, _ = wrk(urls, args.connections, "-s", f"{ROOT}/scripts/bench-create.lua", "{URL}", "--", tara, *organizations)
    # The background work the creations left undone: a layout whose workers fell behind did less of the work.
    backlog = check.psql("SELECT coalesce(max(e.position), 0) - coalesce((SELECT min(position) FROM event_consumers), 0) FROM events e")
    return (f"{p50:.2f} / {p99:.2f} | {all99:.2f} | {rps:,.0f} | {alone50:.2f} / {alone99:.2f} |{offered} {created / args.seconds:,.0f} | "
            f"{create99:.1f} | {int(backlog):,} |")


def phase(name, number):
    web, worker = LAYOUTS[name]
    # No backlog from the seed or from an earlier phase's creations, and no checkpoint or autovacuum of their writes
    # inside a phase (a checkpoint stalled the first measured phase's reads for over a second; autovacuum's ANALYZE
    # of tickets, audit_events, events and search_documents, due after two phases' creations, ran for about 8 s
    # beside a page run).
    check.psql("UPDATE event_consumers SET position = (SELECT coalesce(max(position), 0) FROM events)")
    check.psql("UPDATE sla_watch SET after_position = (SELECT coalesce(max(position), 0) FROM events)")
    check.psql("VACUUM ANALYZE")
    check.psql("CHECKPOINT")
    ports = [free_port() for _ in web]
    loops = {"TANDEM_EVENT_LOOPS": str(args.event_loops)} if args.event_loops else {}
    processes = [check.serve(f"phase-{number}-web-{n + 1}", port, *options, **loops) for n, (port, options) in enumerate(zip(ports, web))]
    if worker:
        processes.append(check.start(f"phase-{number}-worker", "worker", "--env", "production"))
    for port, process in zip(ports, processes):
        check.wait_ready(port, process)
    row = f"| {number} | {name} | " + measure(ports)
    for process in processes:
        check.stop(process)
    return row


def machine_speed():
    """rick's page statement alone, as PostgreSQL runs it for the page, statements a second with 8 pgbench clients."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench")) or [shutil.which("pgbench")]
    if not found[-1]:
        return "pgbench not found"
    organizations = check.psql(
        "SELECT string_agg(quote_literal(r.organization_id::text), ', ') FROM resource_client_restrictions r "
        "JOIN resources p ON p.id = r.resource_id WHERE p.username = 'rick'")
    statement = (f"SELECT ROW(tickets.*) FROM tickets WHERE organization_id IN ({organizations}) ORDER BY number DESC LIMIT 51;\n")
    with open(os.path.join(check.work, "page.sql"), "w") as script:
        script.write(statement)
    done = subprocess.run([found[-1], "-n", "-M", "extended", "-c8", "-j2", "-T10", "-f", script.name, check.url], capture_output=True, text=True)
    tps = re.search(r"tps = ([0-9.]+)", done.stdout)
    return f"the page statement alone {float(tps.group(1)):,.0f}/s (pgbench, 8 clients)" if tps else f"pgbench failed: {done.stderr.strip()}"


def main():
    check.fresh_database(args.template)
    if args.template:
        check.run("migrate", "migrate")  # a copy seeded by an earlier release, brought up to this one's schema
    else:
        check.run("seed", "seed-bench", "--tickets", str(args.tickets), "--notes-per-ticket", "0")
    check.psql("VACUUM ANALYZE")  # what autovacuum would do to the seeded tables, done before measuring
    speed = machine_speed()
    order = [name for number, name in enumerate(LAYOUTS, 1) if not args.layouts or str(number) in args.layouts.split(",")]
    phases = [name for round in range(args.rounds) for name in (order if round % 2 == 0 else order[::-1])]
    rows = [phase(name, number + 1) for number, name in enumerate(phases)]
    print(f"bench-instances: {args.tickets} tickets on PostgreSQL, {args.seconds} s per run, {args.connections} connections; machine: {speed}\n")
    paced = f" rick page at {args.offered:.0%} offered: req/s | its p99 of all (ms) |" if args.offered else ""
    print("| phase | layout | rick page p50 / p99 (ms) | p99 of all (ms) | rick page req/s | rick page alone p50 / p99 (ms) |"
          f"{paced} created/s | create p99 (ms) | events unconsumed after |")
    print("|---:|---|---|---:|---:|---|" + ("---:|---:|" if args.offered else "") + "---:|---:|---:|")
    print("\n".join(rows))


try:
    main()
finally:
    check.close()
