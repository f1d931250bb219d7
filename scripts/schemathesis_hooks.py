"""Schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

The run's own principal (TANDEM_SCHEMATHESIS_PRINCIPAL_ID) is never changed or deleted: links
found in GET /me or GET /resources would otherwise let a PATCH deactivate it (`active: false`)
or lower its security level, and every later request would answer 401 or 403.

An attachment is accepted only when its base64 bytes match the declared content type (magic
bytes, or UTF-8 text), a correlation the document can state but generated data almost never
meets. So half of the generated attachment bodies get a small file of the declared type; the
other half keep their random content and exercise the refusals.
"""
import base64
import os
import zlib

import schemathesis

PRINCIPAL_ID = os.environ.get("TANDEM_SCHEMATHESIS_PRINCIPAL_ID", "").lower()
# Names nothing, so the request still goes out and answers 404.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@schemathesis.hook
def before_call(context, case, kwargs):
    if not PRINCIPAL_ID or case.method.upper() not in ("PATCH", "DELETE") or case.operation.path != "/api/v1/resources/{id}":
        return
    parameters = case.path_parameters or {}
    if str(parameters.get("id", "")).lower() == PRINCIPAL_ID:
        case.path_parameters = {**parameters, "id": UNKNOWN_ID}


SAMPLES = {
    "text/plain": b"Printer on the 2nd floor is offline again.\n",
    "text/csv": b"name,phone\nAlice,2065550100\n",
    "application/json": b'{"ok": true}\n',
    "message/rfc822": b"From: alice@example.com\r\nSubject: Hello\r\n\r\nHi.\r\n",
    "application/pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "image/gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "image/webp": b"RIFF\x1a\x00\x00\x00WEBPVP8 ",
    "application/zip": b"PK\x03\x04\x14\x00\x00\x00\x00\x00",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK\x03\x04\x14\x00\x06\x00",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": b"PK\x03\x04\x14\x00\x06\x00",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": b"PK\x03\x04\x14\x00\x06\x00",
}


@schemathesis.hook("map_body").apply_to(method="POST", path_regex=r"/attachments$")
def attachment_content_matches_type(context, body):
    if not isinstance(body, dict):
        return body
    sample = SAMPLES.get(body.get("contentType")) if isinstance(body.get("contentType"), str) else None
    if sample is None:
        return body
    # Deterministic per body, so shrinking and replays see the same request.
    if zlib.crc32(repr(sorted(body.items(), key=lambda item: str(item[0]))).encode()) % 2 == 0:
        return {**body, "content": base64.b64encode(sample).decode()}
    return body
