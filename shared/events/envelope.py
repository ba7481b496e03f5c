"""The one event envelope every CharterWatch event travels in.

Wire encoding (documented in docs/events/README.md): one UTF-8 JSON object,
keys in a fixed order, instants as ISO 8601 with the +09:00 offset and
microseconds when present, UUIDs as lowercase hex with dashes. The envelope
itself is versioned (``envelope_version``) separately from each payload's
``schema_version``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ValidationError

from shared.events.ids import RECORDED
from shared.events.registry import UnknownEventType, payload_model, type_of, upcast
from shared.instants import require_aware, to_kst

ENVELOPE_VERSION = 2  # 2 added prev_hash (the case's hash chain); version 1 envelopes still decode
SUPPORTED_ENVELOPES = (1, 2)
_RECORDED_AT_MARK = "\x00recorded_at\x00"
_RECORDED_AT_WIRE = orjson.dumps(_RECORDED_AT_MARK)


class EventDecodeError(ValueError):
    """Bytes that are not a valid event: the reason names the field."""


@dataclass(frozen=True)
class CharterRef:
    charter_id: str
    version: str


@dataclass(frozen=True)
class Envelope:
    event_id: UUID
    case_id: str
    occurred_at: datetime  # when it happened, as the caller says
    recorded_at: datetime  # when CharterWatch recorded it
    producer: str
    payload: BaseModel
    charter: CharterRef | None = None
    # Position of this event in its case's petition stream (1, 2, ...), gapless: the
    # optimistic-concurrency version. Derived events carry the version they were made from.
    case_version: int = 0
    event_type: str = field(default="")
    schema_version: int = field(default=0)
    # The payload as JSON-ready data, computed once: payloads are frozen, and a copy made with
    # dataclasses.replace (say, a new recorded_at) keeps it, so re-encoding skips the model dump.
    payload_data: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # The wire bytes before and after recorded_at, for an event built ahead of the instant it is
    # stamped and sent (a breach prepared before its due instant): see ``prepare_wire``.
    wire: tuple[bytes, bytes] | None = field(default=None, compare=False, repr=False)
    # SHA-256 (hex) of the previous event of this case's stream, as encoded on the log; None for the
    # first. Rewriting, deleting or reordering an event breaks the next link (``charterwatch audit verify``).
    prev_hash: str | None = None

    def __post_init__(self) -> None:
        require_aware(self.occurred_at, "occurred_at")
        require_aware(self.recorded_at, "recorded_at")
        if not self.case_id:
            raise ValueError("case_id: must not be empty")
        if self.case_version < 0:
            raise ValueError("case_version: must not be negative")
        event_type, version = type_of(type(self.payload))
        if self.event_type and (self.event_type, self.schema_version) != (event_type, version):
            raise ValueError(f"event_type: payload is {event_type} v{version}, not {self.event_type} v{self.schema_version}")
        object.__setattr__(self, "event_type", event_type)
        object.__setattr__(self, "schema_version", version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "envelope_version": ENVELOPE_VERSION,
            "event_id": str(self.event_id),
            "case_id": self.case_id,
            "case_version": self.case_version,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "occurred_at": to_kst(self.occurred_at).isoformat(),
            "recorded_at": to_kst(self.recorded_at).isoformat(),
            "producer": self.producer,
            "charter": None
            if self.charter is None
            else {"charter_id": self.charter.charter_id, "version": self.charter.version},
            "prev_hash": self.prev_hash,
            "payload": self._payload_data(),
        }

    def prepare_wire(self) -> None:
        """Encode everything but recorded_at now, so ``restamped`` copies encode in microseconds."""
        data = self.to_dict()
        data["recorded_at"] = _RECORDED_AT_MARK
        raw = orjson.dumps(data)
        at = raw.index(_RECORDED_AT_WIRE)
        object.__setattr__(self, "wire", (raw[:at], raw[at + len(_RECORDED_AT_WIRE):]))

    def restamped(self, recorded_at: datetime) -> Envelope:
        """A copy recorded at another instant. Skips re-validation: only recorded_at changes."""
        new = object.__new__(Envelope)
        new.__dict__.update(self.__dict__, recorded_at=require_aware(recorded_at, "recorded_at"))
        return new

    def _payload_data(self) -> dict[str, Any]:
        if self.payload_data is None:
            object.__setattr__(self, "payload_data", self.payload.model_dump(mode="json"))
        assert self.payload_data is not None
        return self.payload_data


@lru_cache(maxsize=64)
def _instant_wire(value: datetime) -> bytes:
    # a burst of breaches shares one recorded_at: format it once
    return orjson.dumps(to_kst(value).isoformat())


def encode(envelope: Envelope) -> bytes:
    # orjson writes the same compact UTF-8 JSON as json.dumps(ensure_ascii=False, separators=(",", ":")),
    # keys in insertion order, several times faster (a burst of breaches is encoded at once).
    if envelope.wire is not None:
        before, after = envelope.wire
        return b"".join((before, _instant_wire(envelope.recorded_at), after))
    return orjson.dumps(envelope.to_dict())


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    if name not in data:
        raise EventDecodeError(f"{name}: missing")
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EventDecodeError(f"{name}: expected {kind.__name__}")
    return value


def _instant(data: dict[str, Any], name: str) -> datetime:
    raw = _field(data, name, str)
    try:
        return require_aware(datetime.fromisoformat(raw), name)
    except ValueError as exc:
        raise EventDecodeError(f"{name}: {exc}") from exc


def from_dict(data: dict[str, Any]) -> Envelope:
    version = _field(data, "envelope_version", int)
    if version not in SUPPORTED_ENVELOPES:
        raise EventDecodeError(f"envelope_version: {version} is not supported (expected one of {SUPPORTED_ENVELOPES})")
    prev_hash = data.get("prev_hash")
    if prev_hash is not None and (not isinstance(prev_hash, str) or len(prev_hash) != 64):
        raise EventDecodeError("prev_hash: expected 64 hex characters or null")
    event_type = _field(data, "event_type", str)
    schema_version = _field(data, "schema_version", int)
    try:
        event_id = UUID(_field(data, "event_id", str))
    except ValueError as exc:
        raise EventDecodeError("event_id: not a UUID") from exc
    raw_payload = _field(data, "payload", dict)
    try:
        schema_version, raw_payload = upcast(event_type, schema_version, raw_payload)
        model = payload_model(event_type, schema_version)
    except UnknownEventType as exc:
        raise EventDecodeError(str(exc)) from exc
    try:
        # recorded: rules added for new facts since (a stricter id pattern) do not refuse what the log keeps
        payload = model.model_validate(raw_payload, context={RECORDED: True})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise EventDecodeError(f"payload.{loc}: {first['msg']}") from exc
    charter_raw = data.get("charter")
    charter = None
    if charter_raw is not None:
        if not isinstance(charter_raw, dict) or not {"charter_id", "version"} <= charter_raw.keys():
            raise EventDecodeError("charter: expected {charter_id, version} or null")
        charter = CharterRef(str(charter_raw["charter_id"]), str(charter_raw["version"]))
    return Envelope(
        event_id=event_id,
        case_id=_field(data, "case_id", str),
        case_version=_field(data, "case_version", int),
        occurred_at=_instant(data, "occurred_at"),
        recorded_at=_instant(data, "recorded_at"),
        producer=_field(data, "producer", str),
        payload=payload,
        charter=charter,
        prev_hash=prev_hash,
    )


def chain_hash(raw: bytes) -> str:
    """The link to an event: SHA-256 of its bytes exactly as on the log."""
    return hashlib.sha256(raw).hexdigest()


def decode(raw: bytes) -> Envelope:
    try:
        data = orjson.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventDecodeError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EventDecodeError("an event must be a JSON object")
    return from_dict(data)
