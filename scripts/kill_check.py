#!/usr/bin/env python3
"""The crash-safety kill test (issue 22), driven by scripts/kill-check; Python's standard library only.

A fresh database gets a small tenant through the API (an organization, a site per client, a contact,
technicians). Then, cycle after cycle: `tandem serve` starts, CLIENTS threads write at once (ticket
creates, notes, attachments, ticket updates with If-Match, client profile imports) for a random
0.3-1 s (one cycle in ten 2-3 s, so that slow writes such as imports finish too), the server is
killed with SIGKILL in the middle of it, and the next cycle starts it again. Every client keeps
what it wrote and what the server answered: a 2xx is an acknowledged write; a write cut off by the
kill may or may not be there, but whole or not at all.

Every --verify-every cycles and at the end, with the restarted server idle, the database is read
(one snapshot) and checked:
  lost         an acknowledged write missing or not what was written (title, description, note
               body, attachment name, size and SHA-256, the update's description and priority,
               each imported row), here or in the restarted server's answers;
  half-written a ticket without its `ticket.created` event or audit entry (or with two), a note
               or attachment without its ticket, event or audit entry, an attachment whose bytes
               are missing or not whole, a ticket whose version, `updated` audit entries and
               `ticket.updated` events disagree, an imported contact without its audit entry,
               phone directory row or search document, a cut-off import partly there, an import
               summary whose counts are not what the import wrote, event positions with a
               duplicate or a gap, a consumer ahead of the events, a row nobody wrote, a refused
               or unsent write that is there;
  integrity    SQLite: PRAGMA integrity_check, foreign_key_check and the FTS5 index's own check;
               PostgreSQL: amcheck's bt_index_check on every B-tree index (heapallindexed at the end).
At the end the check damages the database (in a transaction rolled back) and must see each damage.
Exit status 1 when any of them is not zero.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

ORG_NAME = "Kill Check Traders"
PASSWORD = "kill-check-2026"
DOMAIN = "killcheck.example"


def log(message):
    print(message, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `tandem serve` process at a time, on a new port each start."""

    def __init__(self, binary, env, work):
        self.binary, self.env, self.work = binary, env, work
        self.process = None
        self.port = None
        self.starts = 0

    def start(self, timeout=60):
        self.port = free_port()
        self.starts += 1
        # The last few logs are kept for a failure's message.
        path = os.path.join(self.work, f"server-{self.starts % 4}.log")
        self.log_path = path
        with open(path, "wb") as out:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--env", "production", "--hostname", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"kill-check: the server stopped at start (exit {self.process.returncode}):\n{self.tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status == 200:
                    return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.01)
        raise SystemExit(f"kill-check: the server did not answer /healthz within {timeout} s:\n{self.tail()}")

    def kill(self):
        # A server that stopped by itself before the kill crashed under the writes: that fails the check.
        if self.process.poll() is not None:
            raise SystemExit(f"kill-check: the server stopped by itself (exit {self.process.returncode}) before the kill:\n{self.tail()}")
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-15:])
        except OSError:
            return ""


class API:
    """A keep-alive HTTP connection to the current server."""

    def __init__(self, port, token=None, timeout=30):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.token = token

    def call(self, method, path, body=None, content_type="application/json", headers=None):
        h = {"Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h["Content-Type"] = content_type
        h.update(headers or {})
        self.connection.request(method, "/api/v1" + path, body=data, headers=h)
        response = self.connection.getresponse()
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return response.status, payload, response

    def must(self, method, path, body=None, expect=(200, 201), **kw):
        status, payload, _ = self.call(method, path, body, **kw)
        if status not in expect:
            raise SystemExit(f"kill-check: setup {method} {path} answered {status}: {payload}")
        return payload

    def close(self):
        self.connection.close()


def setup(server, clients, rng):
    """The tenant, through the API: an organization, a site per client (its imports go there), a
    contact, a few technicians. Returns the tokens and ids the clients write with."""
    admin = API(server.port)
    token = admin.must("POST", "/auth/token", {"username": "killcheck", "password": PASSWORD})["token"]
    admin.token = token
    org = admin.must("POST", "/organizations", {"name": ORG_NAME})["id"]
    sites = [admin.must("POST", "/sites", {"organizationId": org, "name": f"Site {n + 1:02d}", "country": "US"})["id"]
             for n in range(clients)]
    contact = admin.must("POST", "/contacts", {
        "organizationId": org, "siteId": sites[0], "firstName": "Casey", "lastName": "Caller",
        "email": f"casey@{DOMAIN}", "phones": [{"number": "2065550100", "countryCode": "US", "kind": "office"}]})["id"]
    levels = admin.must("GET", "/security-levels?limit=100")
    levels = levels.get("items", levels) if isinstance(levels, dict) else levels
    technician = next((level["id"] for level in levels if level.get("systemKey") == "technician"
                       or level.get("name") == "Technician"), None)
    tokens = [token]
    if technician:
        for n in range(4):
            username = f"tech{n + 1}"
            admin.must("POST", "/resources", {"username": username, "password": PASSWORD, "firstName": "Tech",
                                              "lastName": f"Number {n + 1}", "securityLevelId": technician})
            tokens.append(API(server.port).must("POST", "/auth/token", {"username": username, "password": PASSWORD})["token"])
    admin.close()
    return {"org": org, "sites": sites, "contact": contact, "tokens": tokens, "admin": token}


class Client(threading.Thread):
    """One writer. `writes` keeps every write it tried: its kind, what it wrote and how it ended:
    'acked' (2xx, with what the server returned), 'refused' (another answer), 'unknown' (cut off
    by the kill), 'unsent' (the connection refused after the kill)."""

    def __init__(self, number, tenant, seed):
        super().__init__(daemon=True)
        self.number = number
        self.tenant = tenant
        self.token = tenant["tokens"][number % len(tenant["tokens"])]
        self.site = tenant["sites"][number]
        self.rng = random.Random(seed)
        self.writes = []
        self.tickets = {}  # id -> {"version", "certain"}: the tickets this client created (acked)
        self.sequence = 0
        self.go = threading.Event()
        self.done = threading.Event()
        self.quit = False
        self.port = None
        self.cycle = 0
        self.stop_flag = False
        self.released = 0.0

    def label(self):
        self.sequence += 1
        return f"c{self.number:02d}.{self.cycle}.{self.sequence}"

    def run(self):
        while True:
            self.go.wait()
            self.go.clear()
            if self.quit:
                return
            api = API(self.port, self.token, timeout=20)
            try:
                while not self.stop_flag:
                    if not self.write_once(api):
                        break
            finally:
                api.close()
                self.done.set()

    def write_once(self, api):
        # One client in five imports (an import takes several steps through the one writer, so it
        # rarely finishes inside a window when it is one choice among the others); the rest
        # create, add notes and update.
        if self.number % 5 == 4:
            return self.import_profiles(api)
        roll = self.rng.random()
        certain = [t for t, state in self.tickets.items() if state["certain"]]
        if roll < 0.40 or not self.tickets:
            return self.create(api)
        if roll < 0.65:
            return self.note(api, self.rng.choice(list(self.tickets)))
        if roll < 0.80 or not certain:
            return self.attach(api, self.rng.choice(list(self.tickets)))
        return self.update(api, self.rng.choice(certain))

    def send(self, write, api, method, path, body, **kw):
        self.writes.append(write)
        t0 = time.monotonic()
        write["at"] = round(t0 - self.released, 3)
        try:
            status, payload, response = api.call(method, path, body, **kw)
            write["took"] = round(time.monotonic() - t0, 3)
        except ConnectionRefusedError:
            # Started after the kill: nothing reached the server, so nothing may be there.
            write["state"] = "unsent"
            return None
        except (OSError, http.client.HTTPException) as error:
            write["state"] = "unknown"
            write["error"] = type(error).__name__
            return None
        if 200 <= status < 300:
            write["state"] = "acked"
            return payload, response
        write["state"] = "refused"
        write["status"] = status
        write["problem"] = payload
        return None

    def create(self, api):
        label = self.label()
        body = {"title": f"Kill check {label} printer offline", "organizationId": self.tenant["org"],
                "description": f"Written by {label}: Grüße, ✓ and a quote \" that must come back exactly.",
                "priority": self.rng.choice(["low", "medium", "high", "critical"])}
        if self.rng.random() < 0.5:
            body["contactId"] = self.tenant["contact"]
        write = {"kind": "ticket", "label": label, "body": body, "cycle": self.cycle}
        answer = self.send(write, api, "POST", "/tickets", body)
        if answer is None:
            return write["state"] == "refused"
        ticket = answer[0]
        write["id"], write["number"], write["version"] = ticket["id"].upper(), ticket["number"], ticket["version"]
        self.tickets[write["id"]] = {"version": ticket["version"], "certain": True}
        return True

    def note(self, api, ticket):
        label = self.label()
        body = {"body": f"Note {label}: restarted the spooler; ünïcödé ✓.", "publishTo": self.rng.choice(["internal", "all"])}
        write = {"kind": "note", "label": label, "ticket": ticket, "body": body, "cycle": self.cycle}
        answer = self.send(write, api, "POST", f"/tickets/{ticket}/notes", body)
        if answer is None:
            return write["state"] == "refused"
        write["id"] = answer[0]["id"].upper()
        return True

    def attach(self, api, ticket):
        label = self.label()
        # 1-48 KB: the bytes go to the blob store (SQLite: a file, fsynced and renamed before the row
        # commits; PostgreSQL: the blobs table, in the row's transaction).
        data = (f"{label} spooler log line\n" * self.rng.randint(40, 1600)).encode()
        body = {"filename": f"spooler-{label}.log", "contentType": "text/plain", "content": base64.b64encode(data).decode()}
        write = {"kind": "attachment", "label": label, "ticket": ticket, "filename": body["filename"],
                 "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "cycle": self.cycle}
        answer = self.send(write, api, "POST", f"/tickets/{ticket}/attachments", body)
        if answer is None:
            return write["state"] == "refused"
        write["id"] = answer[0]["id"].upper()
        return True

    def update(self, api, ticket):
        label = self.label()
        state = self.tickets[ticket]
        body = {"description": f"Updated by {label}", "priority": self.rng.choice(["low", "medium", "high", "critical"])}
        write = {"kind": "update", "label": label, "ticket": ticket, "body": body, "from": state["version"], "cycle": self.cycle}
        answer = self.send(write, api, "PATCH", f"/tickets/{ticket}", body, headers={"If-Match": f'"{state["version"]}"'})
        if answer is None:
            # Cut off: it may have landed; this ticket is not updated again (its version is not known).
            if write["state"] == "unknown":
                state["certain"] = False
            return write["state"] == "refused"
        write["version"] = answer[0]["version"]
        state["version"] = answer[0]["version"]
        return True

    def import_profiles(self, api):
        label = self.label()
        rows = []
        for r in range(self.rng.randint(3, 12)):
            rows.append({"first": f"Imp{r}", "last": f"Row {label.replace('.', '-')}",
                         "email": f"{label.replace('.', '-')}-{r}@{DOMAIN}".lower(),
                         "phone": f"206{self.rng.randint(200, 999)}{self.rng.randint(0, 9999):04d}"})
        csv = "First Name,Last Name,Email,Office Phone,Office Phone Country\r\n" + "".join(
            f"{row['first']},{row['last']},{row['email']},{row['phone']},US\r\n" for row in rows)
        write = {"kind": "import", "label": label, "site": self.site, "rows": rows, "cycle": self.cycle}
        # Imports as the administrator (a technician's level may not add contacts), on the same connection.
        api.token = self.tenant["admin"]
        try:
            answer = self.send(write, api, "POST", f"/sites/{self.site}/client-profiles/import", csv.encode(), content_type="text/csv")
        finally:
            api.token = self.token
        if answer is None:
            return write["state"] == "refused"
        write["report"] = answer[0]
        return True


# ---------------------------------------------------------------------------------------------------
# Reading the database: one snapshot, the same shape from both databases.

SNAPSHOT_QUERIES = {
    "tickets": "SELECT id, number, title, description, version, priority, organization_id FROM tickets",
    "notes": "SELECT id, ticket_id, body, publish_to FROM notes",
    "contacts": "SELECT id, site_id, first_name, last_name, email FROM contacts",
    "phones": "SELECT contact_id, e164, kind FROM contact_phones",
    "audit": "SELECT entity_type, action, entity_id, COUNT(*) AS n FROM audit_events "
             "WHERE entity_type IN ('tickets', 'notes', 'contacts', 'attachments') GROUP BY entity_type, action, entity_id",
    "imports": "SELECT entity_id, after FROM audit_events WHERE entity_type = 'client_profiles' AND action = 'imported'",
    "events": "SELECT type, entity_id, COUNT(*) AS n FROM events GROUP BY type, entity_id",
    "positions": "SELECT COUNT(*) AS n, COUNT(DISTINCT position) AS distinct_n, MIN(position) AS low, MAX(position) AS high FROM events",
    "consumers": "SELECT name, position FROM event_consumers",
    "documents": "SELECT kind, entity_id, title, body FROM search_documents",
    "attachments": "SELECT id, ticket_id, filename, size, sha256, blob_key FROM attachments",
}
# PostgreSQL keeps attachment bytes in the database by default; SQLite in a directory (read by blob_files).
POSTGRES_BLOBS = "SELECT key, octet_length(data) AS size, encode(sha256(data), 'hex') AS sha256 FROM blobs"


def blob_files(directory):
    """The directory blob store's files: key -> (size, sha256); temporary files left by a kill apart."""
    blobs, temporary = {}, 0
    if os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.startswith("."):
                temporary += 1
                continue
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
            blobs[name] = {"key": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return list(blobs.values()), temporary


def snapshot_sqlite(path, blob_directory, damage=()):
    connection = sqlite3.connect(path, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("BEGIN")  # one read transaction: one snapshot of the WAL
        for statement in damage:
            connection.execute(statement)
        result = {name: [dict(row) for row in connection.execute(sql)] for name, sql in SNAPSHOT_QUERIES.items()}
        # Read after the rows, inside their snapshot: a blob written later can only add a file.
        result["blobs"], result["temporary_blobs"] = blob_files(blob_directory)
        return result
    finally:
        connection.rollback()
        connection.close()


def psql(url, sql, *extra):
    result = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", *extra, "-c", sql],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return result.stdout


def snapshot_postgres(url, damage=()):
    # One statement is one snapshot.
    queries = dict(SNAPSHOT_QUERIES, blobs=POSTGRES_BLOBS)
    parts = ", ".join(f"'{name}', (SELECT COALESCE(json_agg(q), '[]'::json) FROM ({sql}) q)"
                      for name, sql in queries.items())
    if not damage:
        return json.loads(psql(url, f"SELECT json_build_object({parts})"))
    # The damage and the read in one transaction that is rolled back.
    script = "BEGIN;\n" + "".join(f"{statement};\n" for statement in damage) + f"SELECT json_build_object({parts});\nROLLBACK;\n"
    result = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1"], input=script, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return json.loads(result.stdout)  # -q: the damage statements print nothing


def self_test(snapshot, writes, tenant, rng):
    """The check must see damage: in a transaction that is rolled back, remove or change what the
    writes left (a note, a ticket's event, title, description or version, an imported contact's
    phone row or name) and read that; each damage must be reported with its id. Returns (damages
    tried, the ones missed),
    None when too few writes were acknowledged to damage (a run of a few cycles)."""
    acked = lambda kind: [w for w in writes if w["kind"] == kind and w["state"] == "acked"]  # noqa: E731
    tickets, notes, updates = acked("ticket"), acked("note"), acked("update")
    imports = [w for w in acked("import") if w["report"]["added"]]
    if len(tickets) < 3 or not notes or not updates or not imports:
        return None
    updated = {w["ticket"] for w in writes if w["kind"] == "update"}
    plain = [w for w in tickets if w["id"] not in updated] or tickets
    a, b = rng.sample(tickets, 2)
    c = rng.choice(plain)
    note, update = rng.choice(notes), rng.choice(updates)
    files = acked("attachment")
    row = rng.choice(rng.choice(imports)["rows"])
    damages = [
        (f"DELETE FROM notes WHERE id = '{note['id']}'", note["id"]),
        (f"DELETE FROM events WHERE type = 'ticket.created' AND entity_id = '{a['id']}'", a["id"]),
        (f"UPDATE tickets SET title = title || ' (changed)' WHERE id = '{b['id']}'", b["id"]),
        (f"UPDATE tickets SET version = version + 1 WHERE id = '{update['ticket']}'", update["ticket"]),
        (f"UPDATE tickets SET description = 'changed' WHERE id = '{c['id']}'", c["id"]),
        (f"DELETE FROM contact_phones WHERE contact_id = (SELECT id FROM contacts WHERE email = '{row['email']}')", row["email"]),
        (f"UPDATE contacts SET last_name = 'Changed' WHERE email = '{row['email']}'", row["email"]),
    ]
    if files:
        f = rng.choice(files)
        damages.append((f"UPDATE attachments SET sha256 = '{'0' * 64}' WHERE id = '{f['id']}'", f["id"]))
    missed = []
    for statement, mark in damages:
        lost, half, _ = verify(snapshot([statement]), writes, tenant)
        if not any(mark.lower() in m.lower() for m in lost + half):
            missed.append(statement)
    return len(damages), missed


def integrity_sqlite(path):
    errors = []
    connection = sqlite3.connect(path, timeout=30)
    try:
        rows = [r[0] for r in connection.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            errors += [f"integrity_check: {r}" for r in rows]
        errors += [f"foreign_key_check: {r}" for r in connection.execute("PRAGMA foreign_key_check")]
        try:
            connection.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as error:
            errors.append(f"search_fts integrity-check: {error}")
        connection.rollback()
    finally:
        connection.close()
    return errors


def integrity_postgres(url, heap):
    try:
        psql(url, "CREATE EXTENSION IF NOT EXISTS amcheck")
    except RuntimeError as error:
        return [f"amcheck is not available: {error}"], 0
    indexes = psql(url, "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = 'public' "
                        "AND c.relpersistence <> 't' AND i.indisready AND i.indisvalid").split()
    errors = []
    # One statement per index, so one corrupt index names itself and does not hide the others.
    script = "\n".join(f"SELECT bt_index_check({oid}::regclass, {'true' if heap else 'false'});" for oid in indexes)
    result = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=0"], input=script, capture_output=True, text=True)
    if result.returncode != 0 or "ERROR" in result.stderr:
        errors += [line for line in result.stderr.splitlines() if line.strip()]
    return errors, len(indexes)


# ---------------------------------------------------------------------------------------------------
# The checks.

def verify(snapshot, writes, tenant):
    """Returns (lost, half) lists of messages."""
    lost, half = [], []
    up = lambda v: str(v).upper() if v is not None else None  # noqa: E731
    tickets = {up(t["id"]): t for t in snapshot["tickets"]}
    notes = {up(n["id"]): n for n in snapshot["notes"]}
    contacts = {up(c["id"]): c for c in snapshot["contacts"]}
    audit, events, documents, phones = {}, {}, {}, {}
    for a in snapshot["audit"]:
        audit[(a["entity_type"], a["action"], up(a["entity_id"]))] = int(a["n"])
    for e in snapshot["events"]:
        events[(e["type"], up(e["entity_id"]))] = int(e["n"])
    for d in snapshot["documents"]:
        documents[up(d["entity_id"])] = d
    for p in snapshot["phones"]:
        phones.setdefault(up(p["contact_id"]), []).append(p)

    by_kind = {}
    for w in writes:
        by_kind.setdefault(w["kind"], []).append(w)
    created_titles = {w["body"]["title"]: w for w in by_kind.get("ticket", [])}
    stored_titles = {t["title"] for t in tickets.values()}
    stored_bodies = {n["body"] for n in notes.values()}
    absent = ("refused", "unsent")  # answered with an error, or never reached the server

    # Tickets: the acknowledged ones are there as written; every ticket has its event, audit entry and document once.
    for w in by_kind.get("ticket", []):
        if w["state"] == "acked":
            t = tickets.get(w["id"])
            if t is None:
                lost.append(f"ticket {w['label']} ({w['id']}, #{w['number']}) acknowledged but missing")
                continue
            if t["title"] != w["body"]["title"] or int(t["number"]) != w["number"] or up(t["organization_id"]) != up(tenant["org"]):
                lost.append(f"ticket {w['label']}: stored {t['title']!r} #{t['number']}, acknowledged {w['body']['title']!r} #{w['number']}")
    seen_numbers = {}
    for tid, t in tickets.items():
        if up(t["organization_id"]) != up(tenant["org"]):
            continue
        if t["title"] not in created_titles:
            half.append(f"ticket {tid} {t['title']!r}: nobody wrote it")
        elif created_titles[t["title"]]["state"] in absent:
            half.append(f"ticket {tid} {t['title']!r}: its create was {created_titles[t['title']]['state']} but it is there")
        if t["number"] in seen_numbers:
            half.append(f"ticket number {t['number']} twice ({seen_numbers[t['number']]}, {tid})")
        seen_numbers[t["number"]] = tid
        for key, what in (((("ticket.created", tid)), "ticket.created events"),):
            if events.get(key, 0) != 1:
                half.append(f"ticket {tid} {t['title']!r}: {events.get(key, 0)} {what} (1 expected)")
        if audit.get(("tickets", "created", tid), 0) != 1:
            half.append(f"ticket {tid} {t['title']!r}: {audit.get(('tickets', 'created', tid), 0)} 'created' audit entries (1 expected)")
        version = int(t["version"])
        updated_audit = audit.get(("tickets", "updated", tid), 0)
        updated_events = events.get(("ticket.updated", tid), 0)
        if not (updated_audit == updated_events == version - 1):
            half.append(f"ticket {tid}: version {version} but {updated_audit} 'updated' audit entries and {updated_events} ticket.updated events")
        d = documents.get(tid)
        if d is None or d["title"] != t["title"] or d["body"] != (t["description"] or ""):
            half.append(f"ticket {tid}: its search document is {'missing' if d is None else 'not its text'}")

    # Updates: each ticket's last acknowledged update is its state, unless a later cut-off one landed.
    updates = {}
    for w in by_kind.get("update", []):
        updates.setdefault(w["ticket"], []).append(w)
    creates = {w["id"]: w for w in by_kind.get("ticket", []) if w["state"] == "acked"}
    for tid in creates:
        attempts = updates.get(tid, [])
        t = tickets.get(tid)
        if t is None:
            continue  # reported as a lost ticket above
        tried = [w for w in attempts if w["state"] not in absent]
        acked = [w for w in tried if w["state"] == "acked"]
        base = acked[-1] if acked else None
        expected = [(base["body"]["description"], base["body"]["priority"], base["version"]) if base else
                    (creates[tid]["body"]["description"], creates[tid]["body"]["priority"], creates[tid]["version"])]
        if tried and tried[-1]["state"] == "unknown":
            u = tried[-1]
            expected.append((u["body"]["description"], u["body"]["priority"], u["from"] + 1))
        stored = (t["description"], t["priority"], int(t["version"]))
        if stored not in expected:
            lost.append(f"ticket {tid}: stored (description, priority, version) {stored}, expected one of {expected}")
        for w in attempts:
            if w["state"] == "refused":
                half.append(f"update {w['label']} of {tid} was refused ({w.get('status')}: {w.get('problem')})")

    # Notes: the acknowledged ones are there; every note has its ticket, event, audit entry and document.
    note_bodies = {w["body"]["body"]: w for w in by_kind.get("note", [])}
    for w in by_kind.get("note", []):
        if w["state"] == "acked":
            n = notes.get(w["id"])
            if n is None:
                lost.append(f"note {w['label']} ({w['id']}) on ticket {w['ticket']} acknowledged but missing")
            elif n["body"] != w["body"]["body"] or up(n["ticket_id"]) != w["ticket"] or n["publish_to"] != w["body"]["publishTo"]:
                lost.append(f"note {w['label']}: stored {n['body']!r} on {n['ticket_id']}, acknowledged {w['body']['body']!r} on {w['ticket']}")
    for nid, n in notes.items():
        tid = up(n["ticket_id"])
        if tid not in tickets:
            half.append(f"note {nid}: its ticket {tid} is missing")
        w = note_bodies.get(n["body"])
        if w is None:
            half.append(f"note {nid} {n['body']!r}: nobody wrote it")
        elif w["state"] in absent:
            half.append(f"note {nid}: its create was {w['state']} but it is there")
        if events.get(("note.added", nid), 0) != 1:
            half.append(f"note {nid}: {events.get(('note.added', nid), 0)} note.added events (1 expected)")
        if audit.get(("notes", "created", nid), 0) != 1:
            half.append(f"note {nid}: {audit.get(('notes', 'created', nid), 0)} 'created' audit entries (1 expected)")
        d = documents.get(nid)
        if d is None or d["body"] != n["body"]:
            half.append(f"note {nid}: its search document is {'missing' if d is None else 'not its text'}")

    # Imports: an acknowledged import's rows are all there as written, and its report says so; every
    # imported contact is whole (audit entry, phone directory row, search document).
    by_email = {}
    for cid, c in contacts.items():
        if c["email"]:
            by_email.setdefault(c["email"].lower(), []).append((cid, c))
    partial_unacked = 0
    summaries = {}
    for s in snapshot["imports"]:
        after = s["after"] if isinstance(s["after"], dict) else json.loads(s["after"])
        summaries.setdefault(up(s["entity_id"]), []).append(after)
    per_site = {}
    for w in by_kind.get("import", []):
        per_site.setdefault(up(w["site"]), []).append(w)
        present = 0
        for row in w["rows"]:
            found = by_email.get(row["email"], [])
            if len(found) > 1:
                half.append(f"import {w['label']}: {row['email']} is there {len(found)} times")
            if not found:
                if w["state"] == "acked":
                    lost.append(f"import {w['label']}: acknowledged row {row['email']} is missing")
                continue
            present += 1
            cid, c = found[0]
            if (c["first_name"], c["last_name"], up(c["site_id"])) != (row["first"], row["last"], up(w["site"])):
                lost.append(f"import {w['label']}: {row['email']} stored as {c['first_name']} {c['last_name']} at {c['site_id']}")
            if w["state"] in absent:
                half.append(f"import {w['label']} was {w['state']} but {row['email']} is there")
        if w["state"] == "acked":
            r = w["report"]
            if (r["rows"], r["added"], r["failed"]) != (len(w["rows"]), len(w["rows"]), 0):
                half.append(f"import {w['label']}: report {r} for {len(w['rows'])} new rows")
        elif w["state"] == "unknown" and 0 < present < len(w["rows"]):
            # Each row is all-or-nothing by itself (README "Client profiles"), but an import this small
            # (one batch, under PostgreSQL's split at 400 rows) is one transaction: part of it is a half-write.
            partial_unacked += 1
            half.append(f"import {w['label']}: cut off with {present} of its {len(w['rows'])} rows there (one transaction)")
    for site, attempts in per_site.items():
        acked = [w for w in attempts if w["state"] == "acked"]
        unknown = [w for w in attempts if w["state"] == "unknown"]
        found = summaries.get(site, [])
        if not len(acked) <= len(found) <= len(acked) + len(unknown):
            half.append(f"site {site}: {len(found)} import summaries for {len(acked)} acknowledged and {len(unknown)} cut-off imports")
        sizes = sorted(w["report"]["added"] for w in acked)
        found_sizes = sorted(int(f["added"]) for f in found)
        remaining = list(found_sizes)
        for size in sizes:
            if size in remaining:
                remaining.remove(size)
            else:
                half.append(f"site {site}: no import summary with added={size} for an acknowledged import")
                break
    imported_emails = {row["email"] for w in by_kind.get("import", []) for row in w["rows"]}
    for cid, c in contacts.items():
        email = (c["email"] or "").lower()
        if not email.endswith("@" + DOMAIN) or email == f"casey@{DOMAIN}":
            continue
        if email not in imported_emails:
            half.append(f"contact {cid} {email}: nobody wrote it")
        if audit.get(("contacts", "created", cid), 0) != 1:
            half.append(f"contact {cid} {email}: {audit.get(('contacts', 'created', cid), 0)} 'created' audit entries (1 expected)")
        if len(phones.get(cid, [])) != 1:
            half.append(f"contact {cid} {email}: {len(phones.get(cid, []))} phone directory rows (1 expected)")
        d = documents.get(cid)
        if d is None or d["title"] != f"{c['first_name']} {c['last_name']}":
            half.append(f"contact {cid}: its search document is {'missing' if d is None else 'not its text'}")

    # Attachments: the acknowledged ones are there with their bytes; every row's bytes are in the blob
    # store, whole (size and SHA-256), with its event and audit entry. Bytes without a row are allowed:
    # a kill between the blob and the row's commit leaves them, never a row without its bytes.
    attachments = {up(a["id"]): a for a in snapshot["attachments"]}
    blobs = {b["key"]: b for b in snapshot["blobs"]}
    for w in by_kind.get("attachment", []):
        if w["state"] == "acked":
            a = attachments.get(w["id"])
            if a is None:
                lost.append(f"attachment {w['label']} ({w['id']}) on ticket {w['ticket']} acknowledged but missing")
            elif (a["filename"], int(a["size"]), a["sha256"], up(a["ticket_id"])) != (w["filename"], w["size"], w["sha256"], w["ticket"]):
                lost.append(f"attachment {w['label']} ({w['id']}): stored {a['filename']} {a['size']} bytes {a['sha256']}, "
                            f"acknowledged {w['filename']} {w['size']} bytes {w['sha256']}")
    attached = {w["filename"]: w for w in by_kind.get("attachment", [])}
    for aid, a in attachments.items():
        if up(a["ticket_id"]) not in tickets:
            half.append(f"attachment {aid}: its ticket {a['ticket_id']} is missing")
        w = attached.get(a["filename"])
        if w is None:
            half.append(f"attachment {aid} {a['filename']}: nobody wrote it")
        elif w["state"] in absent:
            half.append(f"attachment {aid}: its create was {w['state']} but it is there")
        b = blobs.get(a["blob_key"])
        if b is None:
            half.append(f"attachment {aid}: its bytes ({a['blob_key']}) are missing from the blob store")
        elif (int(b["size"]), b["sha256"]) != (int(a["size"]), a["sha256"]):
            half.append(f"attachment {aid}: its stored bytes are {b['size']} bytes {b['sha256']}, its row says {a['size']} bytes {a['sha256']}")
        if events.get(("attachment.added", aid), 0) != 1:
            half.append(f"attachment {aid}: {events.get(('attachment.added', aid), 0)} attachment.added events (1 expected)")
        if audit.get(("attachments", "created", aid), 0) != 1:
            half.append(f"attachment {aid}: {audit.get(('attachments', 'created', aid), 0)} 'created' audit entries (1 expected)")
    orphans = len(set(blobs) - {a["blob_key"] for a in attachments.values()}) + int(snapshot.get("temporary_blobs", 0))

    # Rows the other way: an event or audit entry whose ticket, note or contact is not there.
    for (kind, eid), n in events.items():
        if kind == "ticket.created" and eid not in tickets:
            half.append(f"a ticket.created event for {eid}, which is missing")
        if kind == "note.added" and eid not in notes:
            half.append(f"a note.added event for {eid}, which is missing")
    for (kind, action, eid), n in audit.items():
        if action != "created":
            continue
        if kind == "tickets" and eid not in tickets:
            half.append(f"a 'created' audit entry for ticket {eid}, which is missing")
        if kind == "notes" and eid not in notes:
            half.append(f"a 'created' audit entry for note {eid}, which is missing")

    # Event positions: no duplicate, no gap (a rolled-back insert does not take a position on either database).
    p = snapshot["positions"][0]
    count, distinct, low, high = int(p["n"]), int(p["distinct_n"]), p["low"], p["high"]
    if count and (distinct != count or int(low) != 1 or int(high) != count):
        half.append(f"event positions: {count} events, {distinct} distinct positions, from {low} to {high}")
    for c in snapshot["consumers"]:
        if count and int(c["position"]) > int(high or 0):
            half.append(f"event consumer {c['name']} at position {c['position']}, past the last event {high}")
    # Cut-off writes that landed (committed, the answer lost) and that did not: the kill falls on both sides.
    landed = {"yes": 0, "no": 0}
    for w in by_kind.get("ticket", []) + by_kind.get("note", []):
        if w["state"] == "unknown":
            if w["kind"] == "ticket":
                there = w["body"]["title"] in stored_titles
            else:
                there = w["body"]["body"] in stored_bodies
            landed["yes" if there else "no"] += 1
    return lost, half, (partial_unacked, landed, orphans)


def read_back(port, tenant, clients, rng, count=25):
    """The restarted server's own answer for a sample of acknowledged tickets: as the client last
    knew it (title, and the description and version of its last update when no update was cut off)."""
    api = API(port, tenant["admin"])
    lost = []
    try:
        known = [(c, tid) for c in clients for tid, state in c.tickets.items() if state["certain"]]
        for c, tid in rng.sample(known, min(count, len(known))):
            status, ticket, _ = api.call("GET", f"/tickets/{tid}")
            if status != 200:
                lost.append(f"ticket {tid}: the restarted server answers {status}")
                continue
            ours = [w for w in c.writes if w.get("ticket") == tid and w["kind"] == "update" and w["state"] == "acked"]
            create = next(w for w in c.writes if w["kind"] == "ticket" and w.get("id") == tid)
            want = (ours[-1]["body"]["description"], ours[-1]["version"]) if ours else (create["body"]["description"], create["version"])
            if (ticket["title"], ticket["description"], ticket["version"]) != (create["body"]["title"], *want):
                lost.append(f"ticket {tid}: the restarted server answers {ticket['title']!r} {ticket['description']!r} version {ticket['version']}")
    finally:
        api.close()
    return lost


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--sqlite-path")
    parser.add_argument("--postgres-url")
    parser.add_argument("--blob-dir", help="the directory blob store (SQLite)")
    parser.add_argument("--work", required=True)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--verify-every", type=int, default=25)
    parser.add_argument("--min-write", type=float, default=0.3)
    parser.add_argument("--max-write", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    env = dict(os.environ)
    log(f"kill-check: {args.database}, {args.cycles} cycles, {args.clients} clients, seed {seed} (--seed {seed} repeats the choices)")

    created = subprocess.run([args.binary, "create-admin", "--username", "killcheck", "--password", PASSWORD],
                             env=env, capture_output=True, text=True)
    if created.returncode != 0:
        raise SystemExit(f"kill-check: create-admin failed: {created.stdout}{created.stderr}")

    server = Server(args.binary, env, args.work)
    # Stopped from outside (CI's timeout, kill): exit through `finally`, which kills the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run(args, seed, rng, server)
    finally:
        if server.process and server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def run(args, seed, rng, server):
    began = time.monotonic()
    server.start()
    tenant = setup(server, args.clients, rng)
    log(f"kill-check: tenant ready: 1 organization, {args.clients} sites, {len(tenant['tokens'])} writing principals")
    clients = [Client(n, tenant, rng.randrange(1 << 30)) for n in range(args.clients)]
    for c in clients:
        c.start()

    if args.database == "sqlite":
        snapshot = lambda damage=(): snapshot_sqlite(args.sqlite_path, args.blob_dir, damage)  # noqa: E731
        integrity = lambda final: (integrity_sqlite(args.sqlite_path), None)  # noqa: E731
    else:
        snapshot = lambda damage=(): snapshot_postgres(args.postgres_url, damage)  # noqa: E731
        integrity = lambda final: integrity_postgres(args.postgres_url, heap=final)  # noqa: E731

    totals = {"lost": 0, "half": 0, "integrity": 0, "blind": 0}
    starts, windows, cycle_times = [], [], []
    server_errors = []

    def check(final):
        writes = [w for c in clients for w in c.writes]
        lost, half, (partial, landed, orphans) = verify(snapshot(), writes, tenant)
        lost += read_back(server.port, tenant, clients, rng)
        errors, indexes = integrity(final)
        for kind, messages in (("LOST", lost), ("HALF-WRITTEN", half), ("INTEGRITY", errors)):
            for m in messages[:20]:
                log(f"  {kind}: {m}")
            if len(messages) > 20:
                log(f"  {kind}: ... and {len(messages) - 20} more")
        totals["lost"] = max(totals["lost"], len(lost))
        totals["half"] = max(totals["half"], len(half))
        totals["integrity"] += len(errors)
        acked = sum(1 for w in writes if w["state"] == "acked")
        what = f"{indexes} B-tree indexes checked{' with heapallindexed' if final else ''}" if indexes is not None else "integrity_check ok" if not errors else "integrity errors"
        log(f"  verified: {acked} acknowledged writes, {len(lost)} lost, {len(half)} half-written, {len(errors)} integrity errors"
            f" ({what}; of the cut-off tickets and notes {landed['yes']} landed, {landed['no']} did not;"
            f" {partial} cut-off imports partly there; {orphans} attachment bytes without a row)")
        return lost or half or errors

    for cycle in range(1, args.cycles + 1):
        t0 = time.monotonic()
        if cycle > 1:
            starts.append(server.start())
        before = [len(c.writes) for c in clients]
        for c in clients:
            c.port, c.cycle, c.stop_flag, c.released = server.port, cycle, False, time.monotonic()
            c.done.clear()
            c.go.set()
        # One cycle in ten writes longer, so slow writes (an import's several steps under 50 clients) finish too.
        window = rng.uniform(2.0, 3.0) if cycle % 10 == 5 else rng.uniform(args.min_write, args.max_write)
        time.sleep(window)
        server.kill()
        for c in clients:
            c.stop_flag = True
        for c in clients:
            if not c.done.wait(60):
                raise SystemExit(f"kill-check: client {c.number} did not stop within 60 s after the kill")
        windows.append(window)
        new = [w for c, b in zip(clients, before) for w in c.writes[b:]]
        counts = {k: sum(1 for w in new if w["kind"] == k and w["state"] == "acked") for k in ("ticket", "note", "attachment", "update", "import")}
        cut = sum(1 for w in new if w["state"] == "unknown")
        refused = [w for w in new if w["state"] == "refused"]
        server_errors += [w for w in refused if w.get("status", 0) >= 500]
        cycle_times.append(time.monotonic() - t0)
        log(f"cycle {cycle}: start {starts[-1] if cycle > 1 else 0:.2f} s, killed after {window:.2f} s; acknowledged "
            f"{counts['ticket']} tickets, {counts['note']} notes, {counts['attachment']} attachments, {counts['update']} updates, "
            f"{counts['import']} imports; "
            f"{cut} cut off, {len(refused)} refused")
        for w in refused[:3]:
            log(f"  refused {w['kind']} {w['label']}: {w.get('status')} {w.get('problem')}")
        if cycle % args.verify_every == 0 or cycle == args.cycles:
            final = cycle == args.cycles
            # Read what the restarted server sees, with the server up and idle (SQLite recovers its WAL on open).
            starts.append(server.start())
            failed = check(final)
            if final:
                server.stop()
                tested = self_test(snapshot, [w for c in clients for w in c.writes], tenant, rng)
                if tested is None:
                    log("  self-test skipped: too few acknowledged writes to damage")
                else:
                    tried, missed = tested
                    for statement in missed:
                        log(f"  SELF-TEST: the check did not see: {statement}")
                    log(f"  self-test: the check saw {tried - len(missed)} of {tried} damages (made in a transaction rolled back)")
                    totals["blind"] = len(missed)
            else:
                server.kill()
            if failed and not final:
                log("kill-check: stopping at the first failed verification")
                break

    for c in clients:
        c.quit = True
        c.go.set()
    writes = [w for c in clients for w in c.writes]
    acked = sum(1 for w in writes if w["state"] == "acked")
    refused = sum(1 for w in writes if w["state"] == "refused")
    cut = sum(1 for w in writes if w["state"] == "unknown")
    unsent = sum(1 for w in writes if w["state"] == "unsent")
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    with open(os.path.join(args.work, "writes.json"), "w") as f:
        json.dump(writes, f)
    kinds = {k: sum(1 for w in writes if w["kind"] == k and w["state"] == "acked") for k in ("ticket", "note", "attachment", "update", "import")}
    rows = sum(len(w["rows"]) for w in writes if w["kind"] == "import" and w["state"] == "acked")
    log(f"kill-check: {args.database}: {len(cycle_times)} cycles in {time.monotonic() - began:.0f} s, {acked} acknowledged writes "
        f"({kinds['ticket']} tickets, {kinds['note']} notes, {kinds['attachment']} attachments, {kinds['update']} updates, "
        f"{kinds['import']} imports of {rows} rows; "
        f"{cut} cut off by the kill, "
        f"{unsent} refused a connection after it, {refused} refused, {len(server_errors)} server errors), lost {totals['lost']}, half-written {totals['half']}, "
        f"integrity errors {totals['integrity']}; {mean(cycle_times):.2f} s per cycle "
        f"(server start {mean(starts):.2f} s, writes {mean(windows):.2f} s), seed {seed}")
    if totals["lost"] or totals["half"] or totals["integrity"] or totals["blind"] or server_errors or refused:
        sys.exit(1)


if __name__ == "__main__":
    main()
