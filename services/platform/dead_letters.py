"""The operator's view of the dead-letter topic: entries, their decisions, and deciding.

Entries are read from the dead-letter topic (a crash may write one twice: same entry id),
decisions from the decisions topic. Deciding appends a decision keyed by the entry's case,
which reaches the worker holding that case, whatever the deployment.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from services.platform.log.deadletter import Decision, decision_record
from services.platform.log.port import EventLog
from services.platform.log.reading import read_all
from services.platform.log.topics import Topics


@dataclass
class Entry:
    data: dict[str, Any]
    decision: str | None = None

    @property
    def entry_id(self) -> str:
        return str(self.data.get("entry_id"))

    @property
    def service(self) -> str:
        return str(self.data.get("service"))

    @property
    def case_id(self) -> str:
        return str(self.data.get("case_id") or self.data.get("key") or "-")

    @property
    def event_type(self) -> str | None:
        return self.data.get("event_type")

    @property
    def reason(self) -> str:
        return str(self.data.get("reason", ""))

    @property
    def parked_at(self) -> str:
        return str(self.data.get("parked_at", ""))

    def summary(self) -> dict[str, Any]:
        """Everything but the event's bytes (they hold sealed personal data): its header is shown instead."""
        out = {k: v for k, v in self.data.items() if k != "value_b64"}
        out["decision"] = self.decision or "open"
        try:
            event = json.loads(base64.b64decode(self.data.get("value_b64", "")))
            out["event"] = {k: event.get(k) for k in ("event_id", "event_type", "schema_version", "case_version",
                                                      "occurred_at", "recorded_at", "producer")}
        except ValueError:
            out["event"] = "not JSON"
        return out


class DeadLetterBook:
    def __init__(self, log: EventLog, topics: Topics) -> None:
        self._log = log
        self._topics = topics

    def entries(self) -> list[Entry]:
        found: dict[str, Entry] = {}
        for record in read_all(self._log, self._topics.dead_letter)[0]:
            try:
                data = json.loads(record.value)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("entry_id") and data["entry_id"] not in found:
                found[data["entry_id"]] = Entry(data)
        for record in read_all(self._log, self._topics.dead_letter_decisions)[0]:
            d = Decision.parse(record.value)
            if d is not None and d.entry_id in found:
                found[d.entry_id].decision = d.action
        return sorted(found.values(), key=lambda e: e.parked_at)

    def find(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries() if e.entry_id == entry_id), None)

    def decide(self, entry_id: str, action: str, by: str) -> str:
        entry = self.find(entry_id)
        if entry is None:
            raise LookupError(f"no dead-letter entry {entry_id}")
        if entry.decision:
            raise LookupError(f"entry {entry_id} was already decided: {entry.decision}")
        self._log.append(self._topics.dead_letter_decisions, entry.case_id,
                         decision_record(entry.data, action, by, datetime.now(timezone.utc)))
        return f"{action}: entry {entry_id} of {entry.service}, case {entry.case_id}"

    def close(self) -> None:
        self._log.close()
