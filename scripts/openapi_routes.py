#!/usr/bin/env python3
"""Compares the routes the server registers with the operations of Resources/openapi.yaml.

    tandem routes | scripts/openapi_routes.py Resources/openapi.yaml

Every route under /api/v1 and /healthz, and /metrics, must be documented, and every documented
operation must be registered. Pages (everything else) are not part of the API document.
Exits 1 and names each difference when they disagree.
"""
import re
import sys

import yaml

METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


def documented(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    ops = set()
    for route, item in doc.get("paths", {}).items():
        for method in item:
            if method in METHODS:
                ops.add((method.upper(), re.sub(r"\{(\w+)\}", r":\1", route)))
    return ops


def registered(lines):
    ops = set()
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].lower() in METHODS:
            route = cells[1]
            if route.startswith("/api/v1/") or route.startswith("/healthz") or route == "/metrics":
                ops.add((cells[0].upper(), route))
    return ops


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    doc = documented(sys.argv[1])
    server = registered(sys.stdin)
    if not server:
        sys.exit("openapi_routes: read no routes on standard input (expected the table of `tandem routes`)")
    missing = sorted(server - doc)
    extra = sorted(doc - server)
    for method, route in missing:
        print(f"openapi_routes: {method} {route} is served but not in the document")
    for method, route in extra:
        print(f"openapi_routes: {method} {route} is in the document but not served")
    if missing or extra:
        sys.exit(1)
    print(f"openapi_routes: the document names all {len(server)} API operations the server registers")


if __name__ == "__main__":
    main()
