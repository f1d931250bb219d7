#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd): stores every accepted message as JSON
({"from", "to", "data"}) in a directory and prints "ready <port>" once it listens.

    smtp-sink.py DIR [--port N] [--tls] [--auth USER:PASSWORD] [--reject ADDRESS]...

--tls offers STARTTLS with a self-signed certificate made at start (openssl); --auth requires
AUTH PLAIN or LOGIN with those credentials; --reject answers 550 to RCPT TO of that address.
Stops on SIGTERM or when its standard input closes.
"""
import argparse, asyncio, json, os, signal, ssl, subprocess, sys, tempfile, threading, uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, rejected):
        self.directory = directory
        self.rejected = set(a.lower() for a in rejected)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.rejected:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.directory, f"{uuid.uuid4()}.json")
        data = envelope.original_content.decode("utf-8", "surrogateescape")
        with open(name + ".tmp", "w") as out:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "data": data}, out)
        os.rename(name + ".tmp", name)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)

    kwargs = {}
    if args.tls:
        folder = tempfile.mkdtemp(prefix="smtp-sink-")
        cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_require_tls"] = args.tls
        kwargs["auth_required"] = True

    port = args.port
    if port == 0:
        import socket
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    controller = Controller(Sink(args.directory, args.reject), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print(f"ready {port}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    controller.stop()


if __name__ == "__main__":
    main()
