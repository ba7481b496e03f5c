"""Replay: re-derive every decision recorded for a case and compare it, field by field.

- Obligations, deadlines and breaches: a fresh ``ObligationBook`` over the case's facts
  (petition events and notices sent), with the timers fired at each fact's recorded instant
  before the fact itself, as the live monitor would have, then up to ``as_of``. The charter is
  the version on the receipt's envelope (in force at receipt), never today's.
- Remedies: the core's remedy decider (``shared.compensation.remedies``) over an in-memory
  ledger, fed the petition events and the SLA events as recorded (what compensation consumed),
  with the officials' recorded actions (approvals, rejections, deliveries, batch issues)
  applied where they happened. No SQL: the same pure decision the compensation service runs.
- Notices: the notices owed are re-decided and re-rendered with the recorded template version;
  the SHA-256 must equal the one recorded on ``NoticeSent``.

Event ids are derived from causes, so a decision is matched by id. A decision an older release
made differently shows as a difference; nothing is corrected. A decision recorded under a
calendar version this replay does not have is reported as such.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import orjson

from shared.charters import CharterBook
from shared.compensation.causes import cause_of, withdrawal_of
from shared.compensation.remedies import Remedies
from shared.compensation.state import InMemoryLedgerState, LedgerState
from shared.events import Envelope, EventDecodeError
from shared.events import compensation as comp
from shared.events import notice as nv
from shared.events import petition as ev
from shared.events.envelope import from_dict
from shared.notices.decide import as_of, owed
from shared.notices.decide import observe as notice_observe
from shared.notices.render import Renderer
from shared.obligations import ObligationBook, fact_order
from shared.working_time import WorkingCalendar

T = TypeVar("T")
IGNORED = {"recorded_at"}  # when it was written down, not what was decided



@dataclass
class CaseLog:
    case_id: str
    petition: list[Envelope] = field(default_factory=list)
    # The SLA events as read, kept as bytes until the case is replayed: parsed, an event takes
    # several times its size, and a whole partition of cases is held at once.
    sla_wire: list[bytes] = field(default_factory=list, repr=False)
    compensation: list[Envelope] = field(default_factory=list)
    notices: list[Envelope] = field(default_factory=list)
    _records: list[dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    _sla: list[Envelope] | None = field(default=None, repr=False, compare=False)

    @property
    def sla_records(self) -> list[dict[str, Any]]:
        """The SLA events parsed (JSON, not yet validated). Most are only compared with their
        re-derivation, which needs no decoding when the two agree; ``sla`` decodes them."""
        if self._records is None:
            self._records = [orjson.loads(raw) for raw in self.sla_wire]
        return self._records

    @property
    def sla(self) -> list[Envelope]:
        """The SLA events decoded (a copy: change ``sla_records`` to change what is compared)."""
        if self._sla is None:
            self._sla = self.sla_of()
        return list(self._sla)

    def sla_of(self, wanted: Callable[[dict[str, Any]], bool] = lambda data: True) -> list[Envelope]:
        """The decodable SLA events ``wanted`` picks from their parsed JSON."""
        out = []
        for data in self.sla_records:
            if not wanted(data):
                continue
            try:
                out.append(from_dict(data))
            except EventDecodeError:
                continue  # reported by the comparison, which names the event and the field
        return out

    def last_recorded_at(self) -> datetime | None:
        """When the last petition or SLA event was recorded."""
        sla = (_recorded_at(d) for d in self.sla_records)
        return max([e.recorded_at for e in self.petition] + [at for at in sla if at is not None], default=None)

    def upto(self, as_of: datetime | None) -> CaseLog:
        if as_of is None:
            return self

        def keep(events: list[Envelope]) -> list[Envelope]:
            return [e for e in events if e.recorded_at <= as_of]
        view = CaseLog(self.case_id, keep(self.petition), compensation=keep(self.compensation),
                       notices=keep(self.notices))
        view._records = [d for d in self.sla_records if _recorded_by(d, as_of)]
        return view


def _recorded_at(data: dict[str, Any]) -> datetime | None:
    """recorded_at of an event as read; None when it is not an aware instant (the comparison reports that)."""
    try:
        at = datetime.fromisoformat(data["recorded_at"])
    except (KeyError, TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else None


def _recorded_by(data: dict[str, Any], as_of: datetime) -> bool:
    at = _recorded_at(data)
    return at is None or at <= as_of  # undecodable: kept, so the comparison reports it


@dataclass(frozen=True)
class Difference:
    kind: str  # sla / compensation / notice
    event_id: str
    event_type: str
    problem: str  # "differs", "recorded, not re-derived", "re-derived, not recorded", "calendar", "undecodable",
    # "recorded twice, differently"
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (recorded, re-derived)


@dataclass
class Replay:
    case_id: str
    as_of: datetime | None
    charter: str | None
    calendar_version: str
    rederived: dict[str, int] = field(default_factory=dict)  # kind -> decisions re-derived
    agreed: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    official_actions: list[Envelope] = field(default_factory=list)
    undecided: str | None = None  # why the replay could not decide this case (it is reported, never a crash)

    @property
    def agrees(self) -> bool:
        return not self.differences and self.undecided is None


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


def _fields(env: Envelope) -> dict[str, Any]:
    data = env.to_dict()
    out: dict[str, Any] = {}
    _flatten("", {k: v for k, v in data.items() if k not in IGNORED}, out)
    return out


def compare(kind: str, recorded: Iterable[Envelope], rederived: Iterable[Envelope], report: Replay,
            applied: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    ours = {str(e.event_id): e for e in rederived}
    report.rederived[kind] = report.rederived.get(kind, 0) + len(ours)
    theirs = _once(kind, recorded, lambda e: str(e.event_id), lambda e: e.to_dict(), lambda e: e.event_type, report)
    _compare(kind, theirs, ours, report, applied)


def _once(kind: str, recorded: Iterable[T], event_id: Callable[[T], str], wire: Callable[[T], dict[str, Any]],
          event_type: Callable[[T], str], report: Replay) -> dict[str, T]:
    """Recorded events by id. A redelivery (at-least-once) repeats an event, maybe with another
    recorded_at, and is the same decision; the same id recorded with different content is reported."""
    out: dict[str, T] = {}
    for item in recorded:
        key = event_id(item)
        first = out.get(key)
        if first is None:
            out[key] = item
        elif {**wire(first), "recorded_at": None} != {**wire(item), "recorded_at": None}:
            report.differences.append(Difference(kind, key, event_type(item), "recorded twice, differently"))
    return out


def compare_records(kind: str, recorded: Iterable[dict[str, Any]], rederived: Iterable[Envelope],
                    report: Replay) -> None:
    """``compare`` for events as read: one whose JSON equals its re-derivation's (recorded_at aside)
    agrees without being decoded; the rest are decoded and compared field by field."""
    ours = {str(e.event_id): e for e in rederived}
    report.rederived[kind] = report.rederived.get(kind, 0) + len(ours)
    theirs: dict[str, Envelope] = {}
    for event_id, data in _once(kind, recorded, lambda d: str(d.get("event_id")), lambda d: d,
                                lambda d: str(d.get("event_type")), report).items():
        mine = ours.get(event_id)
        if mine is not None:
            wire = mine.to_dict()
            wire["recorded_at"] = data.get("recorded_at")
            if wire == data:
                report.agreed[kind] = report.agreed.get(kind, 0) + 1
                del ours[event_id]
                continue
        try:
            env = from_dict(data)
        except EventDecodeError as exc:
            report.differences.append(Difference(kind, event_id, str(data.get("event_type")), "undecodable",
                                                 {"error": (str(exc), None)}))
            continue
        theirs[str(env.event_id)] = env
    _compare(kind, theirs, ours, report, set())


def _compare(kind: str, theirs: dict[str, Envelope], ours: dict[str, Envelope], report: Replay,
             applied: set[str]) -> None:
    for event_id, rec in theirs.items():
        mine = ours.get(event_id)
        if mine is None:
            if event_id not in applied:
                report.differences.append(Difference(kind, event_id, rec.event_type, "recorded, not re-derived"))
            continue
        ra, rb = rec.to_dict(), mine.to_dict()
        ra.pop("recorded_at"), rb.pop("recorded_at")
        a = _fields(rec) if ra != rb else {}  # flattened only when they differ: most decisions agree
        b = _fields(mine) if ra != rb else {}
        diff = {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}
        proof = (ra.get("payload") or {}).get("proof") or {}
        policy = (ra.get("payload") or {}).get("policy") or {}
        calendar = proof.get("calendar_version") or policy.get("calendar_version")
        if calendar and calendar != report.calendar_version:
            report.differences.append(Difference(kind, event_id, rec.event_type, "calendar",
                                                 {"calendar_version": (calendar, report.calendar_version)}))
        elif diff:
            report.differences.append(Difference(kind, event_id, rec.event_type, "differs", diff))
        else:
            report.agreed[kind] = report.agreed.get(kind, 0) + 1
    for event_id, mine in ours.items():
        if event_id not in theirs:
            report.differences.append(Difference(kind, event_id, mine.event_type, "re-derived, not recorded"))


def _facts(case: CaseLog) -> list[Envelope]:
    """Petition events in version order and notices sent, merged by when they were recorded."""
    facts = list(case.petition) + [n for n in case.notices if isinstance(n.payload, nv.NoticeSent)]
    return sorted(facts, key=fact_order)  # as the monitor applies them


def rederive_sla(case: CaseLog, calendar: WorkingCalendar, charters: CharterBook, until: datetime) -> list[Envelope]:
    book = ObligationBook(calendar, charters)
    out: list[Envelope] = []
    for env in _facts(case):
        out += book.due(env.recorded_at)  # what fell due before this fact reached the monitor
        out += book.observe(env, env.recorded_at)
    return out + book.due(until)


# What an odd event on the log raises when a rule meets it (an instant the calendar cannot count, a
# period or a payload the rules refuse): the case is reported undecided with the reason; anything
# else is a bug, and is raised.
UNDECIDABLE = (ValueError, ArithmeticError, LookupError)


class CompensationReplayer:
    """A scratch ledger (in memory) fed as compensation was live: one official's strikes count
    across the agency's cases, in the order the findings were recorded."""

    def __init__(self, calendar: WorkingCalendar, charters: CharterBook) -> None:
        self.remedies = Remedies(charters, calendar)
        self.state = InMemoryLedgerState()
        self.undecided: dict[str, str] = {}  # case -> why its remedies could not be re-derived

    def rederive(self, cases: Sequence[CaseLog]) -> dict[str, tuple[list[Envelope], set[str]]]:
        """Each case's remedies re-decided, with the ids of the officials' recorded actions applied.
        The cases' inputs are merged in the order they were recorded, not taken case by case: the
        third strike against an agency's official is the third in time, whichever of the agency's cases
        the three are in."""
        out: dict[str, tuple[list[Envelope], set[str]]] = {c.case_id: ([], set()) for c in cases}
        officials: dict[str, Envelope] = {}
        inputs: list[Envelope] = []
        for case in cases:
            if not needs_ledger(case):
                continue
            acts = {str(e.event_id): e for e in case.compensation if _official(e)}
            officials.update(acts)
            out[case.case_id][1].update(acts)
            inputs += case.petition + case.sla_of(_may_cause_remedy) + list(acts.values())
        # an official acts on what is already in the ledger: at the same instant, after the facts
        inputs.sort(key=lambda e: (e.recorded_at, str(e.event_id) in officials, e.case_version or 0))
        for env in inputs:
            if env.case_id in self.undecided:
                continue  # the rest of a case the ledger could not decide: its other cases go on
            try:
                if str(env.event_id) in officials:
                    decided = _apply_official(self.remedies, self.state, env)
                else:
                    decided = self.remedies.record(self.state, env, env.recorded_at)
            except UNDECIDABLE as exc:
                self.undecided[env.case_id] = f"{env.event_type} {env.event_id}: {type(exc).__name__}: {exc}"
                continue
            for e in decided:  # in the order decided, as the live outbox would have queued them
                out.setdefault(e.case_id, ([], set()))[0].append(e)
        return out

    def close(self) -> None:
        """Nothing to release (the ledger is in memory); kept for the callers that close one."""


def _may_cause_remedy(data: dict[str, Any]) -> bool:
    """The SLA events ``cause_of`` or ``withdrawal_of`` can act on (a superset), told from their JSON
    so the others need not be decoded: breaches, and discharges that void one."""
    payload = data.get("payload")
    voids = isinstance(payload, dict) and payload.get("voids_breach") is not False
    kind = data.get("event_type")
    return kind == "ObligationBreached" or (kind == "ObligationDischarged" and voids)


def _official(env: Envelope) -> bool:
    p = env.payload
    return ((isinstance(p, comp.VoucherApproved) and p.approved_by != "policy")
            or (isinstance(p, comp.VoucherCancelled) and p.reason.startswith("rejected: "))
            or isinstance(p, comp.VoucherDelivered)
            or (isinstance(p, comp.VoucherIssued) and p.batch_month is not None))


def _apply_official(remedies: Remedies, state: LedgerState, env: Envelope) -> list[Envelope]:
    p = env.payload
    if isinstance(p, comp.VoucherApproved):
        return remedies.approve(state, p.voucher_id, p.approved_by, env.occurred_at)
    if isinstance(p, comp.VoucherCancelled):
        return remedies.reject(state, p.voucher_id, p.cancelled_by, p.reason.removeprefix("rejected: "),
                               env.occurred_at)
    if isinstance(p, comp.VoucherDelivered):
        return remedies.deliver(state, p.voucher_id, p.delivered_by, env.occurred_at)
    if isinstance(p, comp.VoucherIssued):
        return remedies.issue_one(state, p.voucher_id, "batch", env.occurred_at)
    return []


def check_notices(case: CaseLog, calendar: WorkingCalendar, charters: CharterBook, renderer: Renderer,
                  report: Replay) -> None:
    """Each notice sent: was it owed, and does the text re-rendered from its template hash the same?"""
    sent = {n.payload.notice_id: n for n in case.notices if isinstance(n.payload, nv.NoticeSent)}
    if not sent:
        return  # nothing was sent: nothing to re-render
    inputs = sorted(list(case.petition) + list(case.sla) + list(case.compensation),
                    key=lambda e: (e.recorded_at, e.case_version or 0))
    state = None
    found: set[str] = set()
    checked = 0
    for env in inputs:
        state = notice_observe(state, env, charters)
        if state is None:
            continue
        for order in owed(state, env, calendar):
            notice = sent.get(order.notice_id)
            if notice is None:
                continue
            found.add(order.notice_id)
            checked += 1
            # as of the instant it was rendered for sending (v2), or of its cause (a v1 notice)
            rendered = renderer.render(order.kind, as_of(order.context, calendar,
                                                         notice.payload.figures_as_of or env.occurred_at),
                                       version=notice.payload.template_version)  # the template it was sent with
            p = notice.payload
            if (rendered.template_version, rendered.sha256) != (p.template_version, p.content_sha256):
                report.differences.append(Difference("notice", str(notice.event_id), notice.event_type, "differs", {
                    "template_version": (p.template_version, rendered.template_version),
                    "content_sha256": (p.content_sha256, rendered.sha256)}))
            else:
                report.agreed["notice"] = report.agreed.get("notice", 0) + 1
    report.rederived["notice"] = checked
    for notice_id, notice in sent.items():
        if notice_id not in found:
            report.differences.append(Difference("notice", str(notice.event_id), notice.event_type,
                                                 "recorded, not re-derived"))


def replay_case(case: CaseLog, calendar: WorkingCalendar, charters: CharterBook, renderer: Renderer,
                as_of: datetime | None = None, now: datetime | None = None,
                related: Sequence[CaseLog] = ()) -> Replay:
    """One case. ``related``: other cases whose findings name the same agency's officials (``officials_found``):
    their strikes go through the ledger too, or a referral recorded at a third strike could not be
    re-derived; only this case's decisions are compared."""
    view = case.upto(as_of)
    report = replay_decisions(view, calendar, charters, renderer, as_of, now)
    if _until(view, as_of, now) is None or not needs_ledger(view):
        return report
    replayer = CompensationReplayer(calendar, charters)
    try:
        replay_remedies([(view, report)], replayer, [other.upto(as_of) for other in related])
    finally:
        replayer.close()
    return report


def _until(view: CaseLog, as_of: datetime | None, now: datetime | None) -> datetime | None:
    return as_of or now or view.last_recorded_at()


def replay_decisions(view: CaseLog, calendar: WorkingCalendar, charters: CharterBook, renderer: Renderer,
                     as_of: datetime | None = None, now: datetime | None = None) -> Replay:
    """Obligations, deadlines, breaches and notices: decided from the case's own events alone, so
    cases can be replayed in any order, in parallel (``services.audit.shards``)."""
    received = next((e for e in view.petition if isinstance(e.payload, ev.PetitionReceived)), None)
    charter = f"{received.charter.charter_id} {received.charter.version}" if received and received.charter else None
    report = Replay(view.case_id, as_of, charter, calendar.version)
    until = _until(view, as_of, now)
    if until is None:
        return report
    try:
        # Derived events written after as_of are decisions not yet taken then: the replay stops there too.
        derived = [e for e in rederive_sla(view, calendar, charters, until) if as_of is None or e.recorded_at <= as_of]
        compare_records("sla", view.sla_records, derived, report)
        check_notices(view, calendar, charters, renderer, report)
    except UNDECIDABLE as exc:  # an odd event on the log: this case is reported undecided, the others go on
        report.undecided = f"{type(exc).__name__}: {exc}"
    return report


def replay_remedies(pending: Sequence[tuple[CaseLog, Replay]], replayer: CompensationReplayer,
                    context: Sequence[CaseLog] = ()) -> None:
    """Remedies: decided in one ledger across cases (an agency's official's strikes count across them), so
    every case that can owe one goes through ``replayer`` together, in the order events were recorded.
    ``context``: more cases fed to the ledger, not compared."""
    derived = replayer.rederive([case for case, _ in pending] + list(context))
    for case, report in pending:
        if case.case_id in replayer.undecided:
            report.undecided = report.undecided or replayer.undecided[case.case_id]
            continue
        remedies, applied = derived[case.case_id]
        compare("compensation", case.compensation, remedies, report, applied)
        report.official_actions = [e for e in case.compensation if str(e.event_id) in applied]


def officials_found(case: CaseLog) -> set[tuple[str, str]]:
    """The officials a finding in this case names (a strike against them), as (agency, official): an
    official is the agency's own, the agency handling the case when the finding was made (the filing
    agency, or the one it was transferred to); none without a receipt."""
    agency: str | None = None
    out: set[tuple[str, str]] = set()
    for e in sorted(case.petition, key=lambda e: e.case_version or 0):
        p = e.payload
        if isinstance(p, ev.PetitionReceived):
            agency = p.agency_id
        elif isinstance(p, ev.PetitionTransferred) and p.scope == "other_agency" and p.to_agency_id:
            agency = p.to_agency_id
        found = cause_of(e)
        if agency is not None and found is not None and found.official_id:
            out.add((agency, found.official_id))
    return out


def needs_ledger(case: CaseLog) -> bool:
    """Can anything in this case owe or withdraw a remedy, or was a remedy recorded for it?"""
    return bool(case.compensation) or any(
        cause_of(e) or withdrawal_of(e) for e in case.petition + case.sla_of(_may_cause_remedy))
