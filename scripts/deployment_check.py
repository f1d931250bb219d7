#!/usr/bin/env python3
"""The README's sample deployment, started for real on loopback: PostgreSQL, two `tandem serve` instances and
nginx with `deploy/nginx-tandem.conf` (only its ports changed and TLS left out).

    deployment_check.py --binary BIN --admin-url URL [--nginx /usr/sbin/nginx]

Checks, all through the proxy unless said:
- both instances migrate at once and become ready; `/healthz/ready` answers through nginx;
- a token from one instance works on the other (asked directly): sessions live in the database;
- writes and reads alternate between the instances (each instance's own request count grows);
- the login rate limit counts per client address (X-Forwarded-For through the trusted proxy) across both
  instances: 50 failures from one address stop that address, another address still logs in;
- SIGTERM to one instance while 8 clients create tickets and read lists through nginx: no read fails, the
  instance exits 0, every acknowledged ticket is in the database, and a POST answered 502 (nginx never repeats a
  POST it has sent on a connection the instance then closed unread; at most one per client) was not applied, so a
  client may repeat it; the instance restarts and is ready again;
- SIGTERM right after 50 clients sent a request and hung up without reading the answer, 5 times, to a
  `serve --no-workers`: the instance exits 0 (the server's own shutdown waits only for open connections; the requests those clients left running
  once met the databases gone and crashed the process).
"""
import argparse, os, re, shutil, socket, threading, time

from checklib import ROOT, Check, Client, free_port

parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
parser.add_argument("--admin-url", required=True)
parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
args = parser.parse_args()

check = Check("deployment-check", args.binary, args.admin_url, "tandem_deployment_check")
check.env.update(TANDEM_TRUSTED_PROXIES="127.0.0.1/32", LOG_LEVEL="info")
fail = check.fail
PASSWORD = "deployment-check-2026"


def nginx_config(proxy_port, ports):
    """deploy/nginx-tandem.conf with this run's ports, inside a main configuration of the check's own."""
    text = open(os.path.join(ROOT, "deploy", "nginx-tandem.conf")).read()
    text = text.replace("127.0.0.1:8081", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:8082", f"127.0.0.1:{ports[1]}")
    text = re.sub(r"^.*# deployment-check: listen$", f"    listen 127.0.0.1:{proxy_port};", text, flags=re.M)
    text = re.sub(r"^.*# deployment-check: drop\n", "", text, flags=re.M)
    if "ssl" in re.sub(r"#.*", "", text):
        fail("the sample still has TLS lines the check does not drop")
    work = check.work
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(work, f"nginx-{name}"), exist_ok=True)
    with open(os.path.join(work, "tandem.conf"), "w") as out:
        out.write(text)
    user = "user root;\n" if os.geteuid() == 0 else ""
    with open(os.path.join(work, "nginx.conf"), "w") as out:
        out.write(
            f"{user}worker_processes 1;\ndaemon off;\npid {work}/nginx.pid;\nerror_log {work}/nginx-error.log warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n  access_log {work}/nginx-access.log;\n  client_body_temp_path {work}/nginx-body;\n"
            f"  proxy_temp_path {work}/nginx-proxy;\n  fastcgi_temp_path {work}/nginx-fastcgi;\n  uwsgi_temp_path {work}/nginx-uwsgi;\n"
            f"  scgi_temp_path {work}/nginx-scgi;\n  include {work}/tandem.conf;\n}}\n")
    return os.path.join(work, "nginx.conf")


def requests_served(name):
    """How many requests an instance has logged (its access log lines at info)."""
    with open(os.path.join(check.work, f"{name}.log"), errors="replace") as f:
        return sum(1 for line in f if '"request' in line or "/api/v1/" in line)


def hang_up(port, token, count):
    """`count` clients each send a ticket list request and close their connection without reading the answer."""
    request = f"GET /api/v1/tickets?limit=50 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    for connection in connections:
        connection.sendall(request)
    time.sleep(0.01)  # the requests are read and running when their clients hang up
    for connection in connections:
        connection.close()


def main():
    check.fresh_database()
    migrations = [check.start(f"migrate-{n}", "migrate") for n in (1, 2)]
    if any(process.wait() != 0 for process in migrations):
        fail("a concurrent tandem migrate failed")
    check.run("create-admin", "create-admin", "--username", "admin", "--password", PASSWORD)

    ports = [free_port(), free_port()]
    instances = [check.serve(f"instance-{n + 1}", port) for n, port in enumerate(ports)]
    for port, process in zip(ports, instances):
        check.wait_ready(port, process)
    proxy_port = free_port()
    nginx = check.start("nginx", "-p", check.work, "-c", nginx_config(proxy_port, ports), program=args.nginx)
    check.wait_ready(proxy_port, nginx)

    # A session from one instance is good on the other.
    token = Client(check, ports[0]).call("POST", "/api/v1/auth/token", {"username": "admin", "password": PASSWORD})["token"]
    Client(check, ports[1], token).call("GET", "/api/v1/me")

    # Through the proxy, requests reach both instances.
    admin = Client(check, proxy_port, token)
    before = [requests_served("instance-1"), requests_served("instance-2")]
    organization = admin.call("POST", "/api/v1/organizations", {"name": "Deployment Check Ltd"})["id"]
    for _ in range(20):
        admin.call("GET", f"/api/v1/organizations/{organization}")
    time.sleep(0.5)
    after = [requests_served("instance-1"), requests_served("instance-2")]
    if not all(a > b for a, b in zip(after, before)):
        fail(f"nginx did not spread requests over both instances (log lines before {before}, after {after})")

    # The login limit counts per client address, across both instances (the count is in the database).
    attacker = Client(check, proxy_port, headers={"X-Forwarded-For": "203.0.113.9"})
    for n in range(50):
        status, _ = attacker.send("POST", "/api/v1/auth/token", {"username": f"nobody{n}", "password": "wrong-password-1"})
        if status != 401:
            fail(f"failed login {n + 1} from one address answered {status}, not 401")
    status, _ = attacker.send("POST", "/api/v1/auth/token", {"username": "admin", "password": PASSWORD})
    if status != 429:
        fail(f"the 51st login from an address with 50 failures answered {status}, not 429")
    colleague = Client(check, proxy_port, headers={"X-Forwarded-For": "198.51.100.7"})
    colleague.call("POST", "/api/v1/auth/token", {"username": "admin", "password": PASSWORD})

    # SIGTERM to one instance under load: nothing fails, nothing acknowledged is lost.
    stop, failures, created, refused, lock = threading.Event(), [], [], [], threading.Lock()

    def work(n):
        client = Client(check, proxy_port, token)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i % 2:
                    title = f"Load {n}-{i}"
                    status, body = client.send("POST", "/api/v1/tickets", {"organizationId": organization, "title": title})
                    if status == 201:
                        with lock:
                            created.append(body["id"])
                    elif status == 502:
                        # nginx never repeats a POST it has sent: one sent on a connection the stopping instance
                        # accepted but closed unread answers 502. It must not have been applied (safe to retry).
                        with lock:
                            refused.append(title)
                        status = 201
                else:
                    status, _ = client.send("GET", "/api/v1/tickets?limit=25")
                if status not in (200, 201):
                    failures.append(f"{status}")
            except OSError as error:
                failures.append(repr(error))
                client = Client(check, proxy_port, token)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    asked = time.time()
    check.stop(instances[0], timeout=30)
    stopped_in = time.time() - asked
    time.sleep(2)
    instances[0] = check.serve("instance-1-again", ports[0])
    check.wait_ready(ports[0], instances[0])
    time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join()
    if failures:
        fail(f"{len(failures)} requests failed while an instance stopped, e.g. {failures[0]}")
    stored = int(check.psql(f"SELECT count(*) FROM tickets WHERE id IN ({', '.join(repr(i.upper()) for i in created)})")) if created else 0
    if stored != len(created):
        fail(f"{len(created)} tickets were acknowledged, {stored} are stored")
    if len(refused) > 8:
        fail(f"{len(refused)} POSTs answered 502 while one instance stopped: more than one per client")
    applied = check.psql(f"SELECT count(*) FROM tickets WHERE title IN ({', '.join(repr(t) for t in refused)})") if refused else "0"
    if applied != "0":
        fail(f"{applied} POSTs that answered 502 were applied anyway")
    Client(check, proxy_port).call("GET", "/healthz/ready")

    # Clients that hang up: the requests they left running finish before the databases go. Without workers,
    # whose round delays the rest of a shutdown, the databases went at once.
    for cycle in range(6):
        if cycle:
            hang_up(ports[1], token, 50)
        check.stop(instances[1], timeout=30)
        instances[1] = check.serve(f"instance-2-web-{cycle + 1}", ports[1], "--no-workers")
        check.wait_ready(ports[1], instances[1])
    for process in instances + [nginx]:
        check.stop(process)
    print(
        f"deployment-check: nginx and two instances on one PostgreSQL: sessions and the login limit shared, requests spread; "
        f"one instance stopped by SIGTERM in {stopped_in:.1f} s under load from 8 clients and restarted: {len(created)} tickets "
        f"acknowledged, all stored; no read failed; {len(refused)} POSTs refused with 502 by the race of a closing connection, none applied; "
        f"the other stopped cleanly 5 times right after 50 clients hung up")


try:
    main()
finally:
    check.close()
