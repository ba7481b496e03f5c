"""What the report concludes from, as data: what was promised, what was kept, what was owed.

- Promised and kept: the case's petition events folded one by one; just before each result
  (PetitionResolved) the deadlines then in force (pauses and extensions applied) are taken, so a
  result is judged against the deadline it actually had. An objection (Act 35) opens a new round.
- Each obligation's fate: the SLA events as recorded (whether the record is right is what the
  replay says, next to it).
- Owed: the compensation events as recorded, one line per voucher in its last state, and the
  apologies, retraining orders and personnel referrals; an apology counts as told when a notice
  of kind "apology" was sent for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.audit.details import official
from services.audit.labels import (
    CAUSES,
    CHANNELS,
    COUNTING,
    OBLIGATION_STATUS,
    PAUSE_REASONS,
    PETITION_TYPES,
    VOUCHER_KINDS,
    VOUCHER_STATUS,
    ko,
    obligation_label,
)
from services.audit.replay import UNDECIDABLE, CaseLog
from services.audit.wording import instant, period_ko, time_left, won, working_duration
from shared.charters import CharterBook
from shared.charters.model import Charter
from shared.deadline import Deadline
from shared.events import compensation as comp
from shared.events import notice as nv
from shared.events import petition as ev
from shared.events import sla
from shared.instants import isoformat_kst
from shared.petition_case import OPEN, CaseState, Status, apply
from shared.petition_clock import CaseDeadlines, case_deadlines
from shared.working_time import WorkingCalendar


@dataclass(frozen=True)
class Round:
    """The petition from receipt to its result, or one objection's review (Act 35: its own clock)."""

    objection: bool
    deadlines: CaseDeadlines
    completed_at: datetime | None
    official: ev.Official | None
    paused: str | None  # an open pause's reason, when the round is still open


def charter_of(case: CaseLog, charters: CharterBook) -> Charter | None:
    """The version on the receipt's envelope: the one in force when the case was received."""
    ref = case.petition[0].charter if case.petition else None
    return charters.get(ref.charter_id, ref.version) if ref else None


def rounds(case: CaseLog, charter: Charter | None, calendar: WorkingCalendar) -> tuple[list[Round], CaseState]:
    state = CaseState(case.case_id)
    out: list[Round] = []
    for env in sorted(case.petition, key=lambda e: e.case_version or 0):
        if isinstance(env.payload, ev.PetitionResolved) and state.status in OPEN:
            d = case_deadlines(state, charter, calendar)
            if d is not None:
                out.append(Round(state.status is Status.REOPENED, d, env.occurred_at, state.official, None))
        state = apply(state, env)
    if state.status in OPEN:
        d = case_deadlines(state, charter, calendar)
        if d is not None:
            out.append(Round(state.status is Status.REOPENED, d, None, state.official, state.open_pause))
    return out, state


def _versus(calendar: WorkingCalendar, due: datetime | None, done: datetime) -> dict[str, Any]:
    """How ``done`` stands against ``due``: kept, or late by so much working time."""
    if due is None:
        return {"due_at": None, "kept": None, "late_working_seconds": None}
    late = done > due
    seconds = calendar.working_seconds_between(*((due, done) if late else (done, due)))
    return {"due_at": isoformat_kst(due), "due_at_ko": instant(due), "kept": not late,
            "late_working_seconds": seconds if late else 0, "late_ko": working_duration(seconds) if late else None,
            "early_working_seconds": 0 if late else seconds, "early_ko": None if late else working_duration(seconds)}


def _deadline(d: Deadline) -> dict[str, Any]:
    return {"period": str(d.period), "period_ko": period_ko(str(d.period)), "counting": d.mode.value,
            "counting_ko": ko(COUNTING, d.mode.value), "due_at": isoformat_kst(d.due_at) if d.due_at else None,
            "due_at_ko": instant(d.due_at, "기간 정지 중")}


def round_facts(r: Round, calendar: WorkingCalendar, charter: Charter | None, until: datetime) -> dict[str, Any]:
    s, t = r.deadlines.statutory, r.deadlines.target
    promise = next((p for p in charter.promises if p.id == r.deadlines.target_promise), None) if charter else None
    out: dict[str, Any] = {
        "objection": r.objection, "received_at": isoformat_kst(s.received_at), "received_at_ko": instant(s.received_at),
        "statutory": _deadline(s), "pauses": len(s.pauses_applied), "extensions": [str(e.period) for e in s.extensions],
        "target": {**_deadline(t), "promise_id": r.deadlines.target_promise,
                   "promise_text": promise.text if promise else None} if t is not None else None,
        "official": _official(r.official),
        "completed_at": isoformat_kst(r.completed_at) if r.completed_at else None,
        "completed_at_ko": instant(r.completed_at, "처리 중"),
    }
    done = r.completed_at or until
    out["statutory_result"] = _versus(calendar, s.due_at, done)
    out["target_result"] = _versus(calendar, t.due_at, done) if t is not None else None
    if r.completed_at is None:
        out["paused"] = ko(PAUSE_REASONS, r.paused) if r.paused else None
        out["remaining_ko"] = time_left(s.remaining_working_days, s.remaining_working_seconds)
    return out


def _official(o: ev.Official | None) -> dict[str, str] | None:
    if o is None:
        return None
    return {"official_id": o.official_id, "name": o.name, "department": o.department, "phone": o.phone,
            "email": o.email, "text": official(o)}


def officials(case: CaseLog) -> list[dict[str, Any]]:
    """Everyone the case was assigned to, in order (a transfer hands it on)."""
    out = []
    for e in sorted(case.petition, key=lambda e: e.case_version or 0):
        if isinstance(e.payload, ev.OfficialAssigned):
            out.append({"assigned_at": isoformat_kst(e.occurred_at), "assigned_at_ko": instant(e.occurred_at),
                        **(_official(e.payload.official) or {}), "guardian": _official(e.payload.guardian)})
    return out


def obligations(case: CaseLog) -> list[dict[str, Any]]:
    """Each obligation's last due instant and state, from the SLA events as recorded."""
    found: dict[str, dict[str, Any]] = {}
    for e in sorted(case.sla, key=lambda e: (e.recorded_at, e.occurred_at)):
        p: Any = e.payload  # every SLA payload names its obligation, kind and due instant
        ob = found.setdefault(p.obligation_id, {
            "obligation_id": p.obligation_id, "label": obligation_label(p.obligation_id), "kind": p.kind,
            "citizen_facing": p.citizen_facing, "warned": False, "at": None, "at_ko": None})
        ob["due_at"], ob["due_at_ko"] = isoformat_kst(p.due_at), instant(p.due_at)
        if isinstance(p, sla.ObligationOpened):
            ob["status"] = "open"
        elif isinstance(p, sla.ObligationSuspended):
            ob["status"] = "suspended"
        elif isinstance(p, sla.ObligationAtRisk):
            ob["warned"] = True
        elif isinstance(p, sla.ObligationBreached):
            ob["status"] = "missed_target" if p.severity == "warning" else "breached"
        elif isinstance(p, sla.ObligationDischarged) and (p.voids_breach or ob.get("status") not in
                                                           ("breached", "missed_target")):
            ob["status"] = "kept" if p.on_time else "kept_late"
        if isinstance(p, (sla.ObligationBreached, sla.ObligationDischarged)):
            ob["at"], ob["at_ko"] = isoformat_kst(e.occurred_at), instant(e.occurred_at)
    for ob in found.values():
        ob.setdefault("status", "open")
        ob["status_ko"] = OBLIGATION_STATUS[ob["status"]]
    return list(found.values())


VOUCHER_STEPS = {comp.VoucherProposed: "proposed", comp.VoucherSettled: "settled", comp.VoucherApproved: "approved",
                 comp.VoucherIssued: "issued", comp.VoucherDelivered: "delivered", comp.VoucherCancelled: "cancelled"}


def owed(case: CaseLog) -> dict[str, Any]:
    """Vouchers in their last state, apologies (told or not), retraining orders and personnel referrals."""
    vouchers: dict[str, dict[str, Any]] = {}
    apologies, retraining, referrals = [], [], []
    told = {n.payload.cause_event_id for n in case.notices
            if isinstance(n.payload, nv.NoticeSent) and n.payload.kind == "apology"}
    for e in sorted(case.compensation, key=lambda e: e.recorded_at):
        p = e.payload
        if isinstance(p, comp.VoucherProposed):
            vouchers[p.voucher_id] = {"voucher_id": p.voucher_id, "cause": p.cause, "cause_ko": ko(CAUSES, p.cause),
                                      "voucher_kind": p.voucher_kind, "official_id": p.official_id,
                                      "cancel_reason": None}
        v = vouchers.get(getattr(p, "voucher_id", ""))
        if v is not None:
            status = VOUCHER_STEPS[type(p)]
            v.update(status=status, status_ko=VOUCHER_STATUS[status], at=isoformat_kst(e.occurred_at),
                     at_ko=instant(e.occurred_at))
            if getattr(p, "amount_won", None) is not None:
                v["amount_won"] = getattr(p, "amount_won")
            if isinstance(p, comp.VoucherCancelled):
                v["cancel_reason"] = p.reason
        elif isinstance(p, comp.ApologyOwed):
            apologies.append({"cause": p.cause, "cause_ko": ko(CAUSES, p.cause), "told": str(e.event_id) in told})
        elif isinstance(p, comp.RetrainingOrdered):
            retraining.append({"official_id": p.official_id, "at": isoformat_kst(e.occurred_at)})
        elif isinstance(p, comp.PersonnelActionReferred):
            referrals.append({"official_id": p.official_id, "strikes": p.strikes, "at": isoformat_kst(e.occurred_at)})
    for v in vouchers.values():
        v["amount_ko"] = won(v.get("amount_won", 0))
        v["voucher_kind_ko"] = ko(VOUCHER_KINDS, v["voucher_kind"])
    paid = sum(v.get("amount_won", 0) for v in vouchers.values() if v["status"] in ("issued", "delivered"))
    return {"vouchers": list(vouchers.values()), "apologies": apologies, "retraining": retraining,
            "personnel_referrals": referrals, "paid_won": paid}


def findings(case: CaseLog, calendar: WorkingCalendar, charters: CharterBook, until: datetime | None,
             agrees: bool, undecided: str | None, decisions: int, differences: int) -> dict[str, Any]:
    """The facts the conclusion states, each as machines read it and as the report words it."""
    charter = charter_of(case, charters)
    received = next((e.payload for e in case.petition if isinstance(e.payload, ev.PetitionReceived)), None)
    try:
        found, state = rounds(case, charter, calendar)
    except UNDECIDABLE:  # an instant the calendar cannot count: the replay reports the case undecided
        found, state = [], None
    at = until or case.last_recorded_at()
    return {
        "charter": {"charter_id": charter.id, "version": charter.version, "municipality": charter.municipality}
        if charter else None,
        "petition_type": received.petition_type.value if received else None,
        "petition_type_ko": ko(PETITION_TYPES, received.petition_type) if received else None,
        "channel": received.channel.value if received else None,
        "channel_ko": ko(CHANNELS, received.channel) if received else None,
        "status": state.status.value if state is not None and state.status else None,
        "rounds": [round_facts(r, calendar, charter, at) for r in found] if at else [],
        "as_of": isoformat_kst(at) if at else None, "as_of_ko": instant(at), "as_of_requested": until is not None,
        "obligations": obligations(case),
        "owed": owed(case),
        "record": {"agrees": agrees, "undecided": undecided, "decisions": decisions, "differences": differences},
    }
