"""Reading a case's events (or every case's) from the four topics of the log."""
from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field

from services.audit.replay import CaseLog
from services.eventlog.port import EventLog, Record
from services.eventlog.topics import Topics
from services.sla_monitor.runner import read_all
from shared.events import EventDecodeError, decode


@dataclass
class LogSnapshot:
    cases: dict[str, CaseLog] = field(default_factory=dict)
    petition_records: list[Record] = field(default_factory=list)  # raw, for the hash chains
    undecodable: int = 0
    events: int = 0


def read_log(log: EventLog, topics: Topics, keep: Callable[[str], bool] = lambda case_id: True,
             progress: Callable[[int], None] | None = None) -> LogSnapshot:
    # A whole log decoded into memory is millions of long-lived objects: the cyclic collector would
    # rescan them again and again while they are built (none of them form cycles worth collecting).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read_log(log, topics, keep, progress)
    finally:
        if enabled:
            gc.enable()


def _read_log(log: EventLog, topics: Topics, keep: Callable[[str], bool],
              progress: Callable[[int], None] | None) -> LogSnapshot:
    snap = LogSnapshot()
    for attr, topic in (("petition", topics.petition_events), ("sla", topics.sla_events),
                        ("compensation", topics.compensation_events), ("notices", topics.notice_events)):
        for record in read_all(log, topic, progress)[0]:
            if not keep(record.key):
                continue
            snap.events += 1
            if attr == "petition":
                snap.petition_records.append(record)
            try:
                env = decode(record.value)
            except EventDecodeError:
                snap.undecodable += 1
                continue
            case = snap.cases.get(env.case_id)
            if case is None:
                case = snap.cases[env.case_id] = CaseLog(env.case_id)
            getattr(case, attr).append(env)
    for case in snap.cases.values():
        case.petition.sort(key=lambda e: e.case_version)
    return snap


def ends(log: EventLog, topics: Topics) -> int:
    return sum(sum(log.end_offsets(t).values()) for t in (topics.petition_events, topics.sla_events,
                                                          topics.compensation_events, topics.notice_events))
