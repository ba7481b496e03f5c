"""The replay report: JSON for other systems, HTML and PDF (``services.audit.pdf``) for people.

The JSON keeps every machine field (ISO 8601 instants in KST, seconds, ids) and carries, beside
each, the words the HTML prints: instants in Korean date form, working time in days and hours,
Korean labels. The conclusion paragraph is worded from ``findings``, which the JSON also carries.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from services.audit.conclusion import conclusion
from services.audit.details import detail, event_label, fields
from services.audit.labels import (
    DECISION_KINDS,
    LABELS,
    PAUSE_REASONS,
    PROBLEMS,
    PRODUCERS,
    ko,
)
from services.audit.outcome import charter_of, findings, officials
from services.audit.replay import UNDECIDABLE, CaseLog, Replay
from services.audit.wording import (
    instant,
    period_ko,
    period_phrase,
    time_left,
    working_duration,
)
from shared.charters import CharterBook
from shared.instants import isoformat_kst
from shared.petition_case import fold
from shared.petition_clock import case_deadlines
from shared.working_time import WorkingCalendar

TEMPLATES = Path(__file__).resolve().parent / "templates"


def timeline(case: CaseLog) -> list[dict[str, Any]]:
    events = case.petition + case.sla + case.compensation + case.notices
    events.sort(key=lambda e: (e.occurred_at, e.recorded_at))
    return [{"occurred_at": isoformat_kst(e.occurred_at), "occurred_at_ko": instant(e.occurred_at),
             "recorded_at": isoformat_kst(e.recorded_at), "recorded_at_ko": instant(e.recorded_at),
             "event_type": e.event_type, "label": event_label(e), "producer": e.producer,
             "producer_ko": ko(PRODUCERS, e.producer), "event_id": str(e.event_id),
             "detail": detail(e), "fields": fields(e)} for e in events]


def working_time(case: CaseLog, calendar: WorkingCalendar, charters: CharterBook) -> dict[str, Any] | None:
    if not case.petition:
        return None
    state = fold(case.case_id, case.petition)
    try:
        d = case_deadlines(state, charter_of(case, charters), calendar)
    except UNDECIDABLE:  # an instant the calendar cannot count: the replay reports the case undecided
        return None
    if d is None:
        return None
    s, t = d.statutory, d.target
    return {"period": str(d.period), "period_ko": period_phrase(str(d.period), s.mode.value),
            "counting": s.mode.value, "received_at": isoformat_kst(s.received_at),
            "received_at_ko": instant(s.received_at),
            "due_at": isoformat_kst(s.due_at) if s.due_at else None,
            "due_at_ko": instant(s.due_at, "기간 정지 중"),
            "counted_working_seconds": s.counted_working_seconds,
            "counted_working_time_ko": working_duration(s.counted_working_seconds) if s.due_at else "기간 정지 중",
            "remaining_ko": time_left(s.remaining_working_days, s.remaining_working_seconds),
            "pauses": [{"start": isoformat_kst(p.start), "end": isoformat_kst(p.end) if p.end else None,
                        "reason": p.reason, "start_ko": instant(p.start), "end_ko": instant(p.end, "진행 중"),
                        "reason_ko": " · ".join(ko(PAUSE_REASONS, r) for r in p.reason.split("+")),
                        "working_seconds": p.working_seconds, "working_days": p.working_days,
                        # by what the pause took: days from a day count, working time from a time count
                        # (an extension in hours of a day-counted case takes time)
                        "not_counted_ko": ("정지 중" if p.end is None else
                                           time_left(p.working_days or None, p.working_seconds or None) or "없음")}
                       for p in s.pauses_applied],
            "extensions": [str(e.period) for e in s.extensions],
            "extensions_ko": [period_ko(str(e.period)) + (" (민원인 동의)" if e.consented else "") for e in s.extensions],
            "target": {"promise_id": d.target_promise, "period": str(t.period),
                       "period_ko": period_phrase(str(t.period), t.mode.value),
                       "due_at": isoformat_kst(t.due_at) if t.due_at else None,
                       "due_at_ko": instant(t.due_at, "기간 정지 중")} if t is not None else None}


def _difference_label(view: CaseLog, event_id: str, event_type: str) -> str:
    """Named as the recorded event is (a missed charter target is a warning, not a breach)."""
    recorded = next((e for e in view.sla + view.compensation + view.notices if str(e.event_id) == event_id), None)
    return event_label(recorded) if recorded is not None else LABELS.get(event_type, event_type)


def as_json(replay: Replay, case: CaseLog, calendar: WorkingCalendar, charters: CharterBook) -> dict[str, Any]:
    view = case.upto(replay.as_of)
    found = findings(view, calendar, charters, replay.as_of, replay.agrees, replay.undecided,
                     sum(replay.rederived.values()), len(replay.differences))
    return {
        "case_id": replay.case_id,
        "as_of": isoformat_kst(replay.as_of) if replay.as_of else None,
        "as_of_ko": instant(replay.as_of) if replay.as_of else f"로그 끝까지 (마지막 기록 {found['as_of_ko']})",
        "charter": replay.charter,
        "calendar_version": replay.calendar_version,
        "agrees": replay.agrees,
        "undecided": replay.undecided,
        "conclusion": conclusion(found),
        "findings": found,
        "officials": officials(view),
        "rederived": replay.rederived,
        "agreed": replay.agreed,
        "decisions": [{"kind": kind, "kind_ko": ko(DECISION_KINDS, kind), "rederived": n,
                       "agreed": replay.agreed.get(kind, 0)} for kind, n in replay.rederived.items()],
        "differences": [{"kind": d.kind, "kind_ko": ko(DECISION_KINDS, d.kind), "event_id": d.event_id,
                         "event_type": d.event_type, "label": _difference_label(view, d.event_id, d.event_type),
                         "problem": d.problem, "problem_ko": PROBLEMS.get(d.problem, d.problem),
                         "fields": {k: {"recorded": a, "rederived": b} for k, (a, b) in d.fields.items()}}
                        for d in replay.differences],
        "official_actions": [{"event_id": str(e.event_id), "event_type": e.event_type, "label": event_label(e),
                              "occurred_at": isoformat_kst(e.occurred_at), "occurred_at_ko": instant(e.occurred_at),
                              "detail": detail(e)} for e in replay.official_actions],
        "working_time": working_time(view, calendar, charters),
        "timeline": timeline(view),
    }


def as_html(report: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("replay.html.j2").render(r=report)
