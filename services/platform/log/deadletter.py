"""The dead-letter path: a record no handler can take is parked with its reason, never dropped.

An entry names the service that parked it, the record's place on the log, the case, and why.
Operators decide with ``charterwatch dead-letters retry|skip``: the decision is itself a record,
on the decisions topic, keyed by the case, so it reaches whichever worker holds that case.
"""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from services.platform.log.port import EventLog, Record
from services.platform.logs import get_logger
from shared.events import Envelope, EventDecodeError, decode

ENTRY_NAMESPACE = uuid.UUID("2f4b8c1d-5e6a-4d7f-8a9b-0c1d2e3f4a5b")
ACTIONS = ("retry", "skip")


def entry_id_for(service: str, record: Record, attempt: int = 1) -> str:
    """Deterministic: a crash that parks the same record again writes the same entry."""
    return str(uuid.uuid5(ENTRY_NAMESPACE, f"{service}|{record.topic}|{record.partition}|{record.offset}|{attempt}"))


def dead_letter_entry(record: Record, reason: str, service: str, parked_at: datetime | None = None,
                      entry_id: str | None = None, case_id: str | None = None) -> bytes:
    event_id = event_type = None
    try:
        data = json.loads(record.value)
        if isinstance(data, dict):
            event_id, event_type = data.get("event_id"), data.get("event_type")
    except ValueError:
        pass
    return json.dumps({
        "entry_id": entry_id or entry_id_for(service, record),
        "service": service,
        "reason": reason,
        "case_id": case_id or record.key,
        "event_id": event_id if isinstance(event_id, str) else None,
        "event_type": event_type if isinstance(event_type, str) else None,
        "source": {"topic": record.topic, "partition": record.partition, "offset": record.offset},
        "key": record.key,
        "value_b64": base64.b64encode(record.value).decode(),
        "parked_at": (parked_at or datetime.now(timezone.utc)).isoformat(),
    }, ensure_ascii=False).encode()


def decision_record(entry: dict[str, Any], action: str, by: str, at: datetime) -> bytes:
    if action not in ACTIONS:
        raise ValueError(f"action: one of {ACTIONS}")
    return json.dumps({"entry_id": entry["entry_id"], "service": entry["service"], "case_id": entry["case_id"],
                       "action": action, "by": by, "decided_at": at.isoformat()}, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Decision:
    entry_id: str
    service: str
    case_id: str
    action: str

    @classmethod
    def parse(cls, raw: bytes) -> Decision | None:
        try:
            data = json.loads(raw)
            d = cls(str(data["entry_id"]), str(data["service"]), str(data["case_id"]), str(data["action"]))
        except (ValueError, KeyError, TypeError):
            return None
        return d if d.action in ACTIONS else None


class DeadLetters:
    def __init__(self, log: EventLog, topic: str, service: str) -> None:
        self._log = log
        self._topic = topic
        self._service = service

    @property
    def service(self) -> str:
        return self._service

    @property
    def topic(self) -> str:
        return self._topic

    def park(self, record: Record, reason: str, entry_id: str | None = None, case_id: str | None = None) -> str:
        entry = dead_letter_entry(record, reason, self._service, entry_id=entry_id, case_id=case_id)
        self._log.append(self._topic, case_id or record.key or "-", entry)
        get_logger(self._service).warning("event_dead_lettered", topic=record.topic, partition=record.partition,
                                          offset=record.offset, reason=reason, case_id=case_id or record.key)
        return json.loads(entry)["entry_id"]

    def decode(self, record: Record) -> Envelope | None:
        """The record's event, or None after parking a record that is not a valid event."""
        try:
            return decode(record.value)
        except EventDecodeError as exc:
            self.park(record, str(exc))
            return None
