"""What the multi-process checks (scale_check.py, deployment_check.py) share: a work directory, processes that
are killed at the end, psql, ports, readiness and a small JSON client. Standard library only."""
import glob, http.client, json, os, re, shutil, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Check:
    def __init__(self, name, binary, admin_url, database):
        self.name = name
        self.binary = binary
        self.admin_url = admin_url
        self.database = database
        self.url = re.sub(r"^(postgres(?:ql)?://[^/?]+)(/[^?]*)?", r"\1/" + database, admin_url)
        self.work = tempfile.mkdtemp(prefix=f"tandem-{name}.")
        os.chmod(self.work, 0o755)
        self.processes = []
        self.env = dict(os.environ, DATABASE_URL=self.url, LOG_LEVEL="warning")

    def fail(self, message):
        print(f"{self.name}: FAILED: {message}", file=sys.stderr)
        for log in sorted(glob.glob(os.path.join(self.work, "*.log"))):
            print(f"--- {os.path.basename(log)} (last lines)", file=sys.stderr)
            with open(log, errors="replace") as f:
                print("".join(f.readlines()[-8:]), file=sys.stderr)
        sys.exit(1)

    def psql(self, sql, url=None):
        done = subprocess.run(["psql", url or self.url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
        if done.returncode != 0:
            self.fail(f"psql: {done.stderr.strip()}")
        return done.stdout.strip()

    def fresh_database(self, template=None):
        """An empty database, or a copy of `template` (an already seeded one)."""
        self.psql(f"DROP DATABASE IF EXISTS {self.database}", self.admin_url)
        self.psql(f"CREATE DATABASE {self.database}" + (f" TEMPLATE {template}" if template else ""), self.admin_url)

    def start(self, name, *command, program=None, **extra):
        log = open(os.path.join(self.work, f"{name}.log"), "w")
        process = subprocess.Popen(
            [program or self.binary, *command], env=dict(self.env, **extra), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def run(self, name, *command):
        if self.start(name, *command).wait() != 0:
            self.fail(f"tandem {command[0]} failed")

    def serve(self, name, port, *options, **extra):
        return self.start(name, "serve", *options, "--env", "production", "--hostname", "127.0.0.1", "--port", str(port), **extra)

    def sink(self, script, directory):
        """A test receiver from scripts/ (smtp-sink.py, webhook-sink.py); answers its port."""
        process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "scripts", script), directory],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(self.work, f"{script}.log"), "w"), text=True)
        self.processes.append(process)
        line = process.stdout.readline()
        if not line.startswith("ready"):
            self.fail(f"{script} did not start")
        return int(line.split()[1])

    def wait_ready(self, port, process=None, path="/healthz/ready"):
        for _ in range(600):
            if process is not None and process.poll() is not None:
                self.fail(f"a process stopped (exit {process.returncode})")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.fail(f"port {port} did not answer {path}")

    def stop(self, process, timeout=60):
        """SIGTERM, and the exit status must be 0 within `timeout`."""
        process.terminate()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"a process did not stop within {timeout} s of SIGTERM")
        if code != 0:
            self.fail(f"a process ended with exit {code} on SIGTERM")

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        subprocess.run(["psql", self.admin_url, "-qAtX", "-c", f"DROP DATABASE IF EXISTS {self.database}"], capture_output=True)
        if os.environ.get("KEEP"):
            print(f"{self.name}: kept {self.work}", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


def to_ms(text):
    """A wrk duration ("812.00us", "5.34ms", "1.20s") in milliseconds."""
    value = float(re.match(r"[\d.]+", text).group(0))
    return value / 1000 if text.endswith("us") else value * 1000 if text.endswith("s") and not text.endswith("ms") else value


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive connection; `call` answers (status, JSON or None) and fails the check on an unexpected status."""

    def __init__(self, check, port, token=None, headers=None):
        self.check = check
        self.port = port
        self.token = token
        self.headers = headers or {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method, path, body=None):
        headers = {"Content-Type": "application/json", **self.headers}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data and response.getheader("Content-Type", "").find("json") >= 0 else None)

    def call(self, method, path, body=None, expect=(200, 201)):
        status, data = self.send(method, path, body)
        if status not in expect:
            self.check.fail(f"{method} {path}: {status} {json.dumps(data)[:300] if data else ''}")
        return data
