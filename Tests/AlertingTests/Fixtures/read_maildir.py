#!/usr/bin/python3
"""Parses every message of a maildir with Python's standard `email` package and prints them as JSON.

Headers are decoded (RFC 2047), the body is decoded from its transfer encoding
and charset, so the test sees what a mail client would show.
"""
import email
import email.policy
import json
import mailbox
import sys

messages = []
for key, raw in mailbox.Maildir(sys.argv[1], factory=None, create=False).items():
    parsed = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    messages.append({
        "from": str(parsed["From"]),
        "to": [str(a) for a in parsed["To"].addresses],
        "subject": str(parsed["Subject"]),
        "date": str(parsed["Date"]),
        "message_id": str(parsed["Message-ID"]),
        "mime_version": str(parsed["MIME-Version"]),
        "content_type": parsed.get_content_type(),
        "charset": parsed.get_content_charset(),
        "transfer_encoding": str(parsed["Content-Transfer-Encoding"]),
        "kind": str(parsed.get("X-Tenantsync-Alert-Kind", "")),
        "alert_id": str(parsed.get("X-Tenantsync-Alert-Id", "")),
        "body": body.get_content() if body is not None else None,
        "defects": [type(d).__name__ for d in parsed.defects],
    })
json.dump(sorted(messages, key=lambda m: m["alert_id"]), sys.stdout)
