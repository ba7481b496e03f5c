"""Audit use-cases over a container: replay one case or all, verify the chains, rebuild projections."""
from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from services.audit.replay import CompensationReplayer, replay_case
from services.audit.report import as_json
from services.audit.source import LogSnapshot, read_log
from services.audit.verify import ChainReport, verify_chains
from services.bootstrap import Container
from services.intake.store.orm import StreamEventRow
from services.sla_monitor.runner import read_all
from shared.events.envelope import chain_hash
from shared.notices.render import Renderer


def case_report(c: Container, case_id: str, as_of: datetime | None = None) -> dict[str, Any] | None:
    snap = read_log(c.log, c.topics, keep=lambda key: key == case_id)
    case = snap.cases.get(case_id)
    if case is None:
        return None
    replay = replay_case(case, c.calendar, c.charters, Renderer(), as_of=as_of)
    return as_json(replay, case, c.calendar, c.charters)


@dataclass
class Summary:
    cases: int = 0
    events: int = 0
    decisions: int = 0
    agreed: int = 0
    disagreements: dict[str, int] = field(default_factory=dict)  # "kind: problem" -> count
    disagreeing_cases: list[str] = field(default_factory=list)
    undecodable: int = 0

    @property
    def ok(self) -> bool:
        return not self.disagreements


def replay_all(c: Container, received_from: datetime | None = None, received_to: datetime | None = None,
               progress: Callable[[int], None] | None = None) -> Summary:
    snap = read_log(c.log, c.topics, progress=progress)
    gc.freeze()  # the decoded log stays until the end: keep the collector from rescanning it per case
    try:
        return _replay_cases(c, snap, received_from, received_to)
    finally:
        gc.unfreeze()


def _replay_cases(c: Container, snap: LogSnapshot, received_from: datetime | None,
                  received_to: datetime | None) -> Summary:
    summary = Summary(events=snap.events, undecodable=snap.undecodable)
    renderer = Renderer()
    ledger = CompensationReplayer(c.calendar, c.charters)
    cases = sorted(snap.cases.values(), key=lambda k: k.petition[0].recorded_at if k.petition else datetime.max.replace(
        tzinfo=timezone.utc))
    for case in cases:
        received = case.petition[0].occurred_at if case.petition else None
        if received is None or (received_from and received < received_from) or (received_to and received >= received_to):
            continue
        summary.cases += 1
        r = replay_case(case, c.calendar, c.charters, renderer, compensation=ledger)
        summary.decisions += sum(r.rederived.values())
        summary.agreed += sum(r.agreed.values())
        for d in r.differences:
            key = f"{d.kind}: {d.problem}"
            summary.disagreements[key] = summary.disagreements.get(key, 0) + 1
        if r.differences:
            summary.disagreeing_cases.append(case.case_id)
    ledger.close()
    return summary


def verify(c: Container) -> ChainReport:
    """Every case's chain on the petition topic, each case's last event checked against the command store."""
    def stored(case_id: str) -> str | None:
        with c.readers() as session:
            raw = session.execute(select(StreamEventRow.envelope).where(StreamEventRow.case_id == case_id)
                                  .order_by(StreamEventRow.version.desc()).limit(1)).scalar_one_or_none()
        return chain_hash(raw.encode()) if raw is not None else None

    return verify_chains(read_all(c.log, c.topics.petition_events)[0], stored)
