#!/usr/bin/env python3
"""Sends messages with Python's smtplib (a real SMTP client) and prints what the server answered,
one JSON line per message: {"stage": "mail"|"rcpt"|"data", "code": 250, "text": "..."}.

    smtp-send.py HOST PORT FROM TO[,TO...] FILE [FILE...] [--no-size]

All files go in one session (a transaction each, RSET after a refusal); FROM may be "" (the null
reverse-path). --no-size leaves out MAIL FROM's SIZE parameter, so an oversized message is refused
at the end of DATA instead. Used by Tests/AppTests/IntakeSMTPTests.swift; handy by hand too:

    scripts/smtp-send.py 127.0.0.1 2525 ann@contoso.example help@msp.example message.eml
"""
import json, smtplib, sys


def main():
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    no_size = "--no-size" in sys.argv[1:]
    host, port, sender, recipients, files = arguments[0], int(arguments[1]), arguments[2], arguments[3].split(","), arguments[4:]
    client = smtplib.SMTP(host, port, local_hostname="client.test", timeout=60)
    client.ehlo()
    for path in files:
        with open(path, "rb") as f:
            message = f.read()
        options = [] if no_size or not client.has_extn("size") else [f"SIZE={len(message)}"]
        stage, (code, text) = "mail", client.mail(sender, options)
        if code == 250:
            for recipient in recipients:
                stage, (code, text) = "rcpt", client.rcpt(recipient)
                if code not in (250, 251):
                    break
        if code in (250, 251):
            stage, (code, text) = "data", client.data(message)
        if stage != "data" or code != 250:
            client.rset()
        print(json.dumps({"stage": stage, "code": code, "text": text.decode("utf-8", "replace")}), flush=True)
    client.quit()


if __name__ == "__main__":
    main()
