"""Reading a case's events (or every case's) from the four topics of the log."""
from __future__ import annotations

import gc
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import orjson

from services.audit.replay import CaseLog
from services.platform.log.partitioner import partition_for
from services.platform.log.port import EventLog
from services.platform.log.reading import read_all
from services.platform.log.topics import Topics
from shared.events import EventDecodeError, decode


@dataclass
class LogSnapshot:
    cases: dict[str, CaseLog] = field(default_factory=dict)
    undecodable: int = 0
    events: int = 0


def read_log(log: EventLog, topics: Topics, keep: Callable[[str], bool] = lambda case_id: True,
             progress: Callable[[int], None] | None = None, partitions: Collection[int] | None = None) -> LogSnapshot:
    """The log grouped by case. ``partitions``: only these partitions of each topic (a case's events
    share one partition number on every topic: the same key and partitioner, and equal counts)."""
    # A whole log decoded into memory is millions of long-lived objects: the cyclic collector would
    # rescan them again and again while they are built (none of them form cycles worth collecting).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_log(log, topics, keep, progress, partitions)
    finally:
        if enabled:
            gc.enable()


def _read_log(log: EventLog, topics: Topics, keep: Callable[[str], bool],
              progress: Callable[[int], None] | None, partitions: Collection[int] | None) -> LogSnapshot:
    snap = LogSnapshot()
    for attr, topic in zip(("petition", "sla", "compensation", "notices"), fact_topics(topics), strict=True):
        for record in read_all(log, topic, progress, partitions)[0]:
            if not keep(record.key):
                continue
            snap.events += 1
            if attr == "sla":
                # checked, kept as bytes: most SLA events are only compared with their re-derivation as
                # JSON (replay.compare_records), when their case is replayed
                data = _parsed(record.value)
                if data is None:
                    snap.undecodable += 1
                else:
                    _case(snap, data["case_id"]).sla_wire.append(record.value)
                continue
            try:
                env = decode(record.value)
            except EventDecodeError:
                snap.undecodable += 1
                continue
            getattr(_case(snap, env.case_id), attr).append(env)
    for case in snap.cases.values():
        # an event a relay published twice (after a crash) is one fact: kept once
        case.petition = list({e.event_id: e for e in case.petition}.values())
        case.petition.sort(key=lambda e: e.case_version)
    return snap


def _case(snap: LogSnapshot, case_id: str) -> CaseLog:
    case = snap.cases.get(case_id)
    if case is None:
        case = snap.cases[case_id] = CaseLog(case_id)
    return case


def _parsed(raw: bytes) -> dict[str, Any] | None:
    try:
        data = orjson.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("case_id"), str) or not data["case_id"]:
        return None
    return data


def ends(log: EventLog, topics: Topics) -> int:
    return sum(sum(log.end_offsets(t).values()) for t in fact_topics(topics))


def fact_topics(topics: Topics) -> tuple[str, ...]:
    return topics.petition_events, topics.sla_events, topics.compensation_events, topics.notice_events


def shared_partition_count(log: EventLog, topics: Topics) -> int | None:
    """The partition count of the four topics when they agree (then a case's events share one
    partition number on all of them); None when they do not."""
    counts = {log.partitions(t) for t in fact_topics(topics)}
    return counts.pop() if len(counts) == 1 else None


def read_case(log: EventLog, topics: Topics, case_id: str) -> LogSnapshot:
    """One case's events: only its partition is read when the topics' partition counts agree."""
    n = shared_partition_count(log, topics)
    partitions = [partition_for(case_id, n)] if n else None
    return read_log(log, topics, keep=lambda key: key == case_id, partitions=partitions)
