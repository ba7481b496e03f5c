"""The replay report: JSON for other systems, HTML (printable to PDF) for people. Times in KST."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from services.audit.labels import LABELS, PROBLEMS
from services.audit.replay import UNDECIDABLE, CaseLog, Replay
from shared.charters import CharterBook
from shared.events import Envelope
from shared.events import notice as nv
from shared.instants import isoformat_kst
from shared.notices.render import korean_instant
from shared.petition_case import fold
from shared.petition_clock import case_deadlines
from shared.working_time import WorkingCalendar

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _detail(e: Envelope) -> str:
    p = e.payload
    if isinstance(p, nv.NoticeSent):
        return f"{p.kind} / {p.channel} / 템플릿 {p.template_id} v{p.template_version} / sha256 {p.content_sha256[:16]}…"
    parts = []
    for name in ("obligation_id", "due_at", "reason", "outcome", "amount_won", "voucher_kind", "cause", "period",
                 "expected_completion", "approved_by", "official_id", "strikes", "severity", "kind"):
        value = getattr(p, name, None)
        if value is None or value == "":
            continue
        parts.append(f"{name}={korean_instant(value) if hasattr(value, 'astimezone') else getattr(value, 'value', value)}")
    return ", ".join(parts)


def timeline(case: CaseLog) -> list[dict[str, Any]]:
    events = case.petition + case.sla + case.compensation + case.notices
    events.sort(key=lambda e: (e.occurred_at, e.recorded_at))
    return [{"occurred_at": isoformat_kst(e.occurred_at), "occurred_at_ko": korean_instant(e.occurred_at),
             "recorded_at": isoformat_kst(e.recorded_at), "event_type": e.event_type,
             "label": LABELS.get(e.event_type, e.event_type), "producer": e.producer, "event_id": str(e.event_id),
             "detail": _detail(e)} for e in events]


def working_time(case: CaseLog, calendar: WorkingCalendar, charters: CharterBook) -> dict[str, Any] | None:
    if not case.petition:
        return None
    state = fold(case.case_id, case.petition)
    ref = case.petition[0].charter
    charter = charters.get(ref.charter_id, ref.version) if ref else None
    try:
        d = case_deadlines(state, charter, calendar)
    except UNDECIDABLE:  # an instant the calendar cannot count: the replay reports the case undecided
        return None
    if d is None:
        return None
    s = d.statutory
    return {"period": str(d.period), "counting": s.mode.value,
            "due_at": isoformat_kst(s.due_at) if s.due_at else None,
            "due_at_ko": korean_instant(s.due_at) if s.due_at else "기간 정지 중",
            "counted_working_seconds": s.counted_working_seconds,
            "pauses": [{"start": isoformat_kst(p.start), "end": isoformat_kst(p.end) if p.end else None, "reason": p.reason}
                       for p in s.pauses_applied],
            "extensions": [str(e.period) for e in s.extensions]}


def as_json(replay: Replay, case: CaseLog, calendar: WorkingCalendar, charters: CharterBook) -> dict[str, Any]:
    return {
        "case_id": replay.case_id,
        "as_of": isoformat_kst(replay.as_of) if replay.as_of else None,
        "charter": replay.charter,
        "calendar_version": replay.calendar_version,
        "agrees": replay.agrees,
        "undecided": replay.undecided,
        "rederived": replay.rederived,
        "agreed": replay.agreed,
        "differences": [{"kind": d.kind, "event_id": d.event_id, "event_type": d.event_type, "problem": d.problem,
                         "problem_ko": PROBLEMS.get(d.problem, d.problem),
                         "fields": {k: {"recorded": a, "rederived": b} for k, (a, b) in d.fields.items()}}
                        for d in replay.differences],
        "official_actions": [{"event_id": str(e.event_id), "event_type": e.event_type,
                              "occurred_at": isoformat_kst(e.occurred_at)} for e in replay.official_actions],
        "working_time": working_time(case.upto(replay.as_of), calendar, charters),
        "timeline": timeline(case.upto(replay.as_of)),
    }


def as_html(report: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("replay.html.j2").render(r=report)
