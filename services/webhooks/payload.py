"""What a webhook carries, and how it is signed (the Standard Webhooks specification).

The body (``docs/webhooks.md``), UTF-8 JSON, built once when the delivery is recorded, so every attempt and
every redelivery sends the same bytes::

    {"type": "<event type>", "timestamp": "<the event's occurred_at>",
     "data": {"event_id", "case_id", "case_version", "event_type", "schema_version", "occurred_at",
              "recorded_at", "producer", "charter", "payload", "redacted"}}

``payload`` is the event's payload (upcast to its newest version) without the applicant's data: the sealed
``applicant`` (name, phone, e-mail, address), the ``applicant_ref`` pseudonym, and any other sealed value are
removed, and ``redacted`` lists the removed paths. The case's hash-chain link (``prev_hash``) is left out: it
hashes the event as on the log, which the receiver never sees.

Headers: ``webhook-id`` (the event id: the same on every attempt and redelivery, so a receiver deduplicates
by it), ``webhook-timestamp`` (the attempt's Unix time) and ``webhook-signature``: ``v1,<base64 of
HMAC-SHA256 over "{id}.{timestamp}.{body}" with the secret's bytes>``, one per secret in force, space-separated
(two while a rotated secret's 24 hours run).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

import orjson

from shared.events import Envelope
from shared.instants import to_kst

SECRET_PREFIX = "whsec_"
APPLICANT_FIELDS = ("applicant", "applicant_ref")
SEALED_KEYS = frozenset({"kid", "nonce", "ciphertext"})


def new_secret() -> str:
    """A signing secret as shown once to the agency: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def _redact(value: Any, path: str, removed: list[str]) -> Any:
    if isinstance(value, dict):
        if SEALED_KEYS <= value.keys():
            removed.append(path)
            return None
        out = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key in APPLICANT_FIELDS or key.startswith("applicant_"):
                removed.append(where)
                continue
            cleaned = _redact(item, where, removed)
            if cleaned is None and isinstance(item, dict) and SEALED_KEYS <= item.keys():
                continue  # a sealed value: dropped, named in ``redacted``
            out[key] = cleaned
        return out
    if isinstance(value, list):
        return [_redact(item, f"{path}[{i}]", removed) for i, item in enumerate(value)]
    return value


def body(env: Envelope) -> bytes:
    """The webhook body of one event (see the module's docstring)."""
    removed: list[str] = []
    payload = _redact(env.to_dict()["payload"], "", removed)
    data = {
        "event_id": str(env.event_id),
        "case_id": env.case_id,
        "case_version": env.case_version,
        "event_type": env.event_type,
        "schema_version": env.schema_version,
        "occurred_at": to_kst(env.occurred_at).isoformat(),
        "recorded_at": to_kst(env.recorded_at).isoformat(),
        "producer": env.producer,
        "charter": None if env.charter is None else {"charter_id": env.charter.charter_id,
                                                       "version": env.charter.version},
        "payload": payload,
        "redacted": removed,
    }
    return orjson.dumps({"type": env.event_type, "timestamp": data["occurred_at"], "data": data})


def signature(secret: str, msg_id: str, timestamp: int, data: bytes) -> str:
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.".encode() + data, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(msg_id: str, timestamp: int, data: bytes, secrets: list[str]) -> dict[str, str]:
    """The Standard Webhooks headers: one signature per secret in force, newest first."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(signature(s, msg_id, timestamp, data) for s in secrets),
            "content-type": "application/json", "user-agent": "CharterWatch-Webhooks/1"}
