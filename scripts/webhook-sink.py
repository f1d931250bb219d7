#!/usr/bin/env python3
"""A webhook receiver for the tests: stores each POST as JSON ({"path", "headers", "body"}) in a
directory and answers 204; `/redirect` answers 302 to http://127.0.0.1:<port>/landed, `/fail`
answers 500. Prints "ready <port>" once it listens; stops when its standard input closes.

    webhook-sink.py DIR
"""
import http.server, json, os, sys, threading, uuid

directory = sys.argv[1]
os.makedirs(directory, exist_ok=True)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/landed")
            self.end_headers()
            return
        if self.path == "/fail":
            self.send_response(500)
            self.end_headers()
            return
        name = os.path.join(directory, f"{uuid.uuid4()}.json")
        with open(name + ".tmp", "w") as out:
            json.dump({"path": self.path, "headers": dict(self.headers.items()), "body": body}, out)
        os.rename(name + ".tmp", name)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"ready {server.server_port}", flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
server.shutdown()
