"""The event envelope: stable encoding, strict decoding, registry, upcasters."""
import json
import uuid
from datetime import datetime, timezone

import pytest
from pydantic import BaseModel, ConfigDict

from shared.events import EventDecodeError, decode, encode
from shared.events.envelope import CharterRef, Envelope
from shared.events.petition import PetitionReceived
from shared.events.registry import event, upcaster
from shared.sealing import Sealed

NOW = datetime(2026, 11, 25, 1, 2, 3, 456789, tzinfo=timezone.utc)


def received(**over: object) -> Envelope:
    payload = PetitionReceived(
        municipality_id="dangjin", agency_id="a1", petition_type="grievance", channel="visit", title="제목",
        applicant=Sealed(kid="k", nonce="bm9uY2U=", ciphertext="Y3Q="), applicant_ref="r" * 32,
    )
    fields = dict(event_id=uuid.UUID(int=1), case_id="case-1", case_version=1, occurred_at=NOW, recorded_at=NOW,
                  producer="intake", payload=payload, charter=CharterRef("dangjin", "2024.1"))
    fields.update(over)
    return Envelope(**fields)  # type: ignore[arg-type]


def test_round_trip_and_stable_encoding() -> None:
    env = received()
    raw = encode(env)
    assert decode(raw) == env
    data = json.loads(raw)
    assert list(data)[:7] == ["envelope_version", "event_id", "case_id", "case_version", "event_type",
                              "schema_version", "occurred_at"]
    assert data["occurred_at"] == "2026-11-25T10:02:03.456789+09:00"
    assert data["event_type"] == "PetitionReceived" and data["schema_version"] == 2
    assert "제목" in raw.decode()  # UTF-8, not \\u escapes


def test_unknown_type_or_version_is_rejected() -> None:
    data = json.loads(encode(received()))
    data["event_type"] = "PetitionTeleported"
    with pytest.raises(EventDecodeError, match="unknown event 'PetitionTeleported'"):
        decode(json.dumps(data).encode())
    data["event_type"], data["schema_version"] = "PetitionReceived", 99
    with pytest.raises(EventDecodeError, match=r"known versions: \[1, 2\]"):
        decode(json.dumps(data).encode())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("case_id"), "case_id: missing"),
    (lambda d: d.update(occurred_at="2026-11-25T10:00:00"), "occurred_at"),
    (lambda d: d.update(event_id="nope"), "event_id"),
    (lambda d: d["payload"].pop("title"), "payload.title"),
    (lambda d: d["payload"].update(petition_type="x"), "payload.petition_type"),
    (lambda d: d.update(envelope_version=7), "envelope_version"),
])
def test_bad_fields_are_named(mutate, message: str) -> None:
    data = json.loads(encode(received()))
    mutate(data)
    with pytest.raises(EventDecodeError, match=message):
        decode(json.dumps(data).encode())


def test_garbage_is_rejected() -> None:
    with pytest.raises(EventDecodeError):
        decode(b"\xff\xfe")
    with pytest.raises(EventDecodeError):
        decode(b"[1,2]")


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="occurred_at"):
        received(occurred_at=datetime(2026, 1, 1))


class _V1(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str


class _V2(BaseModel):
    model_config = ConfigDict(frozen=True)
    full_name: str
    source: str


event("_TestRenamed", 1)(_V1)
event("_TestRenamed", 2)(_V2)


@upcaster("_TestRenamed", 1)
def _v1_to_v2(payload: dict) -> dict:
    return {"full_name": payload["name"], "source": "upcast"}


def test_an_old_version_is_upcast_on_read() -> None:
    old = Envelope(event_id=uuid.uuid4(), case_id="c", occurred_at=NOW, recorded_at=NOW, producer="t",
                   payload=_V1(name="x"))
    new = decode(encode(old))
    assert new.schema_version == 2 and new.payload == _V2(full_name="x", source="upcast")


def test_a_prepared_wire_encodes_exactly_like_a_fresh_encoding() -> None:
    prepared = received()
    prepared.prepare_wire()
    later = datetime(2027, 1, 5, 3, 4, 5, 123456, tzinfo=timezone.utc)
    stamped = prepared.restamped(later)
    assert stamped.recorded_at == later and prepared.recorded_at != later
    assert encode(stamped) == encode(received(recorded_at=later))
    assert decode(encode(stamped)) == stamped
    with pytest.raises(ValueError, match="recorded_at"):
        prepared.restamped(datetime(2027, 1, 5))
