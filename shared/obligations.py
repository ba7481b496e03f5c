"""Obligations (의무): the duties a case owes at each moment, derived from its folded state.

``derive`` lists the open obligations of a case as its events stand. The
``ObligationBook`` keeps every case's obligations, diffs them after each
petition event (opened, moved, suspended, discharged) and, when asked at a
wall-clock instant, emits at-risk and breach events for what fell due. Pure:
the caller passes every instant in; event ids are derived from (case,
obligation, due instant, event type, and for openings and suspensions the fact
that caused them), so a replay or redelivery produces the same events, never a
second breach.
"""
from __future__ import annotations

import heapq
import math
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from shared.case_snapshot import decode_state, encode_state, record_codec
from shared.charters import CharterBook
from shared.charters.model import Callback, Charter, OpinionResponse
from shared.deadline import Deadline, due_epoch
from shared.events import Envelope, decode, encode, notice, sla
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.events.registry import type_of
from shared.frozen import copier
from shared.instants import KST
from shared.periods import Period, PetitionType
from shared.petition_case import OPEN, CaseState, Status, apply
from shared.petition_clock import case_deadlines
from shared.working_time import WorkingCalendar

PRODUCER = "sla_monitor"
SNAPSHOT_FORMAT = 2  # snapshot_of's form; format 1 (implicit) held the case's facts, folded on restore
EVENT_NAMESPACE = uuid.UUID("6f1c2b9e-4a57-4e0f-9a8c-2c1d7e0b5a31")
# Breach events are built this long before their due instant and only stamped and sent at it, so
# fifty thousand obligations falling due in one second go out within it (building one costs ~150 us:
# 50,000 take ~8 s). A fact of the case in between discards what was built (see ``_observe``).
PREPARE_AHEAD_SECONDS = 30
AT_RISK, PREPARE, BREACH = 0, 1, 2
FORMAL_RECEIPT = Period(8, "h")  # Decree 6-7
INTERIM_INTERVAL = timedelta(days=30)  # Decree 23
TRANSFER_LIMITS = {"other_agency": Period(8, "h"), "misrouted": Period(3, "h"), "within_agency": Period(1, "h")}  # Decree 13
STATUTORY_RULES = {
    PetitionType.QUESTION_STATUTE: "Decree 14", PetitionType.QUESTION_SYSTEM: "Decree 14",
    PetitionType.SUGGESTION: "Decree 15", PetitionType.GRIEVANCE: "Decree 17", PetitionType.OTHER: "Decree 16, 19",
    PetitionType.STATUTORY: "Act 17, 36", PetitionType.PRE_REVIEW: "Act 30", PetitionType.DISCLOSURE: "정보공개법 11",
    PetitionType.OBJECTION: "Act 35",
}


@dataclass(frozen=True, slots=True)  # slots: a million are held at once (a __dict__ each was ~600 B)
class Obligation:
    obligation_id: str
    kind: str
    due_at: datetime
    started_at: datetime
    citizen_facing: bool
    rule: str
    promise_id: str | None = None
    period: str | None = None
    counting: str = "working_time"
    deadline: Deadline | None = None  # the full computation, for statutory and target obligations
    # read at every diff and timer check: computed once (frozen: it cannot go stale)
    due_epoch: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "due_epoch", int(self.due_at.timestamp()))


_OBLIGATION_CODEC = record_codec(Obligation, frozenset({"deadline"}))  # kept without its Deadline, as in memory
_copy_obligation = copier(Obligation)


def _without_deadline(ob: Obligation) -> Obligation:
    """The obligation as kept in memory: without its full Deadline (a copy that skips __init__)."""
    return ob if ob.deadline is None else _copy_obligation(ob, deadline=None)


def _after(cal: WorkingCalendar, start: datetime, period: Period) -> datetime:
    """When ``period`` runs out from ``start`` (no pauses or extensions), under Act 19."""
    return datetime.fromtimestamp(due_epoch(cal, int(start.timestamp()), period), KST)


def derive(s: CaseState, charter: Charter | None, cal: WorkingCalendar,
           notices: Mapping[str, int] | None = None) -> dict[str, Obligation]:
    """The obligations open on this case now. ``notices``: how many notices of each kind were sent."""
    out: dict[str, Obligation] = {}
    sent = notices or {}

    def add(ob: Obligation) -> None:
        out[ob.obligation_id] = ob

    if s.status is Status.FILED and s.arrived_at is not None:
        add(Obligation("formal_receipt", "formal_receipt", _after(cal, s.arrived_at, FORMAL_RECEIPT), s.arrived_at,
                       True, "Decree 6-7", period=str(FORMAL_RECEIPT)))
    if s.status in OPEN and s.received_at is not None:
        deadlines = case_deadlines(s, charter, cal)
        if deadlines is not None and deadlines.statutory.due_at is not None:
            assert s.petition_type is not None
            rule = "Act 35" if s.status is Status.REOPENED else STATUTORY_RULES[s.petition_type]
            add(Obligation("statutory_deadline", "statutory_deadline", deadlines.statutory.due_at, s.received_at, True,
                           f"Act 19; {rule}", period=str(deadlines.period), counting=deadlines.statutory.mode.value,
                           deadline=deadlines.statutory))
        if deadlines is not None and deadlines.target is not None and deadlines.target.due_at is not None:
            add(Obligation("charter_target", "charter_target", deadlines.target.due_at, s.received_at, False,
                           f"charter {charter.id if charter else '?'} {deadlines.target_promise}",
                           promise_id=deadlines.target_promise, period=str(deadlines.target.period),
                           counting=deadlines.target.mode.value, deadline=deadlines.target))
        # Either path counts: an official recording a notice given by hand, or notify's NoticeSent.
        n = max(len(s.interim_notices), sent.get("interim", 0))
        add(Obligation(f"interim_notice:{n + 1}", "interim_notice", s.received_at + INTERIM_INTERVAL * (n + 1),
                       s.received_at, True, "Decree 23", promise_id=_promise_id(charter, "interim_notice"),
                       period=f"{30 * (n + 1)} calendar days", counting="calendar_days"))
        for i in range(sent.get("extension", 0) + 1, len(s.extensions) + 1):
            ob = _extension_notice(s, charter, cal, i)
            if ob is not None:
                add(ob)
    if s.status is not Status.CLOSED and s.callbacks:
        callback = _first(charter, Callback)
        for cid, promised, requested, made in s.callbacks:
            if made is None:
                within = callback.within if callback else Period(3, "h")
                due = requested or _after(cal, promised, within)
                add(Obligation(f"callback:{cid}", "callback", due, promised, True, "charter Y1",
                               promise_id=callback.id if callback else None, period=str(within)))
    if s.status is not Status.CLOSED and s.opinions:
        opinion = _first(charter, OpinionResponse)
        for oid, o in s.opinions:
            if o.acknowledged_at is None:
                within = opinion.acknowledge_within if opinion else Period(3, "h")
                add(Obligation(f"opinion_acknowledgement:{oid}", "opinion_acknowledgement",
                               _after(cal, o.recorded_at, within), o.recorded_at, True, "charter Y2",
                               promise_id=opinion.id if opinion else None, period=str(within)))
            if o.answered_at is None and opinion is not None and o.opinion_class in opinion.answer_within:
                within = opinion.answer_within[o.opinion_class]
                add(Obligation(f"opinion_answer:{oid}", "opinion_answer", _after(cal, o.recorded_at, within),
                               o.recorded_at, True, "charter Y2", promise_id=opinion.id, period=str(within),
                               counting=within.mode.value))
    return out


def _extension_notice(s: CaseState, charter: Charter | None, cal: WorkingCalendar, i: int) -> Obligation | None:
    """Decree 21: the i-th extension is told to the petitioner before the deadline it moves."""
    before = case_deadlines(replace(s, extensions=s.extensions[:i - 1]), charter, cal)
    if before is None or before.statutory.due_at is None:
        return None  # paused: the deadline it must precede is not fixed yet
    assert s.received_at is not None
    return Obligation(f"extension_notice:{i}", "extension_notice", before.statutory.due_at, s.received_at, True,
                      "Decree 21", promise_id=_promise_id(charter, "extension_notice"), period=str(before.period),
                      counting=before.statutory.mode.value)


def _can_void(ob: Obligation, env: Envelope) -> bool:
    """Transfers are judged once, when recorded; a notice only fulfils the notice obligations."""
    if ob.kind == "transfer":
        return False
    if isinstance(env.payload, notice.NoticeSent):
        return ob.kind in ("extension_notice", "interim_notice")
    return True


def _first(charter: Charter | None, kind: type) -> object | None:
    if charter is None:
        return None
    found = charter.promises_of(kind)
    return found[0] if found else None


def _promise_id(charter: Charter | None, kind: str) -> str | None:
    if charter is None:
        return None
    return next((p.id for p in charter.promises if getattr(p, "kind", None) == kind), None)


def fact_order(env: Envelope) -> tuple[datetime, int, int]:
    """The order in which the monitor applies a case's facts, live, on restart and in the audit replay: by
    the instant they were recorded; at one instant, the petition's own facts (by version) before the
    notices sent about them, since notify answers a fact after it is recorded (a drill clock frozen at one
    instant records both at the same instant)."""
    is_notice = isinstance(env.payload, (notice.NoticeSent, notice.NoticeFailed))
    return env.recorded_at, int(is_notice), env.case_version or 0


_NONE: frozenset = frozenset()  # the empty containers of a case until it needs its own (most never do)
_NOTHING: Mapping = MappingProxyType({})


@dataclass(slots=True)
class _Case:
    state: CaseState
    charter: Charter | None
    open: dict[str, Obligation] = field(default_factory=dict)
    at_risk_sent: set[tuple[str, int]] | frozenset = _NONE
    breached: dict[tuple[str, int], Obligation] | Mapping = field(default_factory=lambda: _NOTHING)
    basis_event_id: str = ""
    notices: Counter[str] | Mapping = field(default_factory=lambda: _NOTHING)  # NoticeSent by kind
    notice_ids: set[str] | frozenset = _NONE
    notice_events: dict[str, list[Envelope]] | Mapping = field(default_factory=lambda: _NOTHING)  # by kind, in order
    extension_notices_closed: set[int] | frozenset = _NONE
    # The newest petition-stream version applied: a redelivery is told by it, even when an operator
    # skipped an event of the case (then the fold counts fewer events than the stream holds).
    last_version: int = 0
    keys_used: set[str] = field(default_factory=set)  # openings and suspensions keyed so far (see _envelope)

    # The shared empties are immutable: a case's first write of each kind gives it its own container.
    def warned(self, key: tuple[str, int]) -> None:
        if not self.at_risk_sent:
            self.at_risk_sent = set()
        self.at_risk_sent.add(key)  # type: ignore[union-attr]

    def breach(self, key: tuple[str, int], ob: Obligation) -> None:
        if not self.breached:
            self.breached = {}
        self.breached[key] = ob  # type: ignore[index]

    def extension_noticed(self, i: int) -> None:
        if not self.extension_notices_closed:
            self.extension_notices_closed = set()
        self.extension_notices_closed.add(i)  # type: ignore[union-attr]

    def notice_sent(self, env: Envelope) -> None:
        if not self.notice_ids:
            self.notice_ids, self.notices, self.notice_events = set(), Counter(), {}
        kind = env.payload.kind  # type: ignore[attr-defined]
        self.notice_ids.add(env.payload.notice_id)  # type: ignore[union-attr, attr-defined]
        self.notices[kind] += 1  # type: ignore[index]
        self.notice_events.setdefault(kind, []).append(env)  # type: ignore[union-attr]


def _copy_case(case: _Case) -> _Case:
    """A copy whose containers can change without touching the original (to undo a failed event)."""
    return _Case(case.state, case.charter, dict(case.open), set(case.at_risk_sent), dict(case.breached),
                 case.basis_event_id, Counter(case.notices), set(case.notice_ids),
                 {k: list(v) for k, v in case.notice_events.items()}, set(case.extension_notices_closed),
                 case.last_version, set(case.keys_used))


class ObligationBook:
    """Every case's obligations, with a timer heap of at-risk and due instants."""

    def __init__(self, calendar: WorkingCalendar, charters: CharterBook, at_risk: float = 0.75) -> None:
        self.calendar = calendar
        self.charters = charters
        self.at_risk = at_risk
        self._cases: dict[str, _Case] = {}
        self._heap: list[tuple[int, int, str, str, int, int]] = []  # epoch, seq, case, obligation, due, timer
        self._prepared: dict[tuple[str, str, int], Envelope] = {}
        self._known_at: dict[tuple[str, str, int], datetime] = {}  # when each obligation's due became known
        self._seq = 0
        self._open_counts: Counter[str] = Counter()  # kept incrementally: counting a million on demand is too slow
        # Notices read (from their own topic) before the case's receipt: applied once the case is known.
        self._early_notices: dict[str, list[Envelope]] = {}
        self.failures: list[tuple[str, str]] = []  # (case, reason) of timers that could not fire

    # -- state -----------------------------------------------------------------
    def open_by_kind(self) -> Counter[str]:
        return +self._open_counts

    def open_count(self) -> int:
        return sum(self._open_counts.values())

    def _set_open(self, case: _Case, new_open: dict[str, Obligation]) -> None:
        self._open_counts.subtract(ob.kind for ob in case.open.values())
        self._open_counts.update(ob.kind for ob in new_open.values())
        case.open = new_open

    def _close(self, case: _Case, oid: str) -> None:
        self._open_counts[case.open.pop(oid).kind] -= 1

    def next_due_epoch(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    # -- petition events -------------------------------------------------------
    def accepts(self, env: Envelope) -> bool:
        """Would ``observe`` change anything? False for a redelivery, a notice already counted, or a
        case whose receipt was never seen."""
        case = self._cases.get(env.case_id)
        if case is None:
            return isinstance(env.payload, (ev.PetitionReceived, notice.NoticeSent))
        if isinstance(env.payload, notice.NoticeSent):
            return env.payload.notice_id not in case.notice_ids
        if isinstance(env.payload, notice.NoticeFailed):
            return False
        return not (env.case_version and env.case_version <= max(case.state.version, case.last_version))

    def observe(self, env: Envelope, now: datetime) -> list[Envelope]:
        """Apply one petition event; return the obligation events it causes. All or nothing: when the
        event cannot be applied (an instant the calendar cannot count), the case is left as it was and
        the error is raised, so the caller can park the event and the case waits."""
        case = self._cases.get(env.case_id)
        saved = _copy_case(case) if case is not None else None
        counts = Counter(self._open_counts)
        early = list(self._early_notices.get(env.case_id, ()))
        try:
            return self._observe_event(env, now)
        except Exception:
            if saved is not None:
                self._cases[env.case_id] = saved
            else:
                self._cases.pop(env.case_id, None)
            self._open_counts = counts
            if early:
                self._early_notices[env.case_id] = early
            raise

    def _observe_event(self, env: Envelope, now: datetime) -> list[Envelope]:
        if not self.accepts(env):
            return []  # redelivered, or a case whose start we never saw: nothing can be derived
        case = self._cases.get(env.case_id)
        if case is None and isinstance(env.payload, notice.NoticeSent):
            early = self._early_notices.setdefault(env.case_id, [])
            if all(e.payload.notice_id != env.payload.notice_id for e in early):
                early.append(env)
            return []
        if case is None:
            charter = self.charters.get(env.charter.charter_id, env.charter.version) if env.charter else None
            case = self._cases[env.case_id] = _Case(CaseState(env.case_id), charter)
            out = self._observe(case, env, now)
            for early in self._early_notices.pop(env.case_id, []):
                out += self._observe_event(early, now)
            return out
        return self._observe(case, env, now)

    def _observe(self, case: _Case, env: Envelope, now: datetime) -> list[Envelope]:
        out: list[Envelope] = []
        if self._prepared:  # a breach built ahead names the case's version and basis: built again at its instant
            for oid, ob in case.open.items():
                self._prepared.pop((case.state.case_id, oid, ob.due_epoch), None)
        if isinstance(env.payload, notice.NoticeSent):
            # Not part of the case's version sequence: deduplicated by its own id.
            case.notice_sent(env)
        else:
            case.state = apply(case.state, env)
            case.last_version = max(case.last_version, env.case_version)
            case.basis_event_id = str(env.event_id)  # the petition event obligations are derived after
            if isinstance(env.payload, ev.PetitionTransferred):
                out.extend(self._transfer(case, env, now))
        new = derive(case.state, case.charter, self.calendar, case.notices)
        for oid, old in case.open.items():
            if oid in new:
                if new[oid].due_at != old.due_at:
                    out.append(self._opened(case, new[oid], env, now, replaces=old.due_at))
                continue
            if case.state.open_pause and old.kind in ("statutory_deadline", "charter_target", "extension_notice"):
                out.append(self._suspended(case, old, env, now))
            else:
                out.append(self._discharged(case, old, env, now, voids=False))
                if old.kind == "extension_notice":
                    case.extension_noticed(int(oid.split(":")[1]))
        for oid, ob in new.items():
            if oid not in case.open and (oid, ob.due_epoch) not in case.breached:
                out.append(self._opened(case, ob, env, now))
        out += self._extensions_noticed_first(case, env, now)
        # A backdated fact can show that an obligation already reported breached was met in time.
        for key, ob in list(case.breached.items()):
            if ob.obligation_id not in new and env.occurred_at <= ob.due_at and _can_void(ob, env):
                out.append(self._discharged(case, ob, env, now, voids=True))
                del case.breached[key]  # type: ignore[attr-defined]
        # Kept without the full Deadline computation (it is recomputed for a proof when needed):
        # a million open obligations must fit one worker.
        self._set_open(case, {oid: _without_deadline(ob) for oid, ob in new.items()
                              if (oid, ob.due_epoch) not in case.breached})
        return out

    def _extensions_noticed_first(self, case: _Case, env: Envelope, now: datetime) -> list[Envelope]:
        """An extension whose notice was read first (the two come from different topics): its
        obligation is opened and discharged by that notice at once, so the events are the same
        whichever order the facts arrive in."""
        out: list[Envelope] = []
        sent = case.notice_events.get("extension", [])
        for i in range(1, min(len(case.state.extensions), len(sent)) + 1):
            if i in case.extension_notices_closed or f"extension_notice:{i}" in case.open:
                continue
            ob = _extension_notice(case.state, case.charter, self.calendar, i)
            if ob is None:
                continue  # paused: the deadline it must precede is not fixed yet
            case.extension_noticed(i)
            out += [self._opened(case, ob, env, now), self._discharged(case, ob, sent[i - 1], now, voids=False)]
        return out

    def _transfer(self, case: _Case, env: Envelope, now: datetime) -> list[Envelope]:
        p: ev.PetitionTransferred = env.payload  # type: ignore[assignment]
        limit = TRANSFER_LIMITS["misrouted" if p.misrouted else p.scope]
        start = case.state.received_at or case.state.arrived_at
        assert start is not None
        ob = Obligation(f"transfer:{case.state.transfers}", "transfer", _after(self.calendar, start, limit), start,
                        True, "Decree 13", period=str(limit))
        if env.occurred_at <= ob.due_at:
            return [self._discharged(case, ob, env, now, voids=False)]
        case.breach((ob.obligation_id, ob.due_epoch), ob)
        return [self._breached(case, ob, now)]

    # -- wall-clock triggers ---------------------------------------------------
    def due(self, now: datetime) -> list[Envelope]:
        """Everything that fell due by ``now``: at-risk warnings and breaches, each once, recorded at
        ``now``. The runtimes call it once every fact written so far has been read (a fact still unread
        may discharge what falls due)."""
        limit = int(now.timestamp())
        out: list[Envelope] = []
        while self._heap and self._heap[0][0] <= limit:
            epoch, _, case_id, oid, due_epoch, timer = heapq.heappop(self._heap)
            case = self._cases.get(case_id)
            ob = case.open.get(oid) if case else None
            if case is None or ob is None or ob.due_epoch != due_epoch:
                self._prepared.pop((case_id, oid, due_epoch), None)
                continue  # discharged, moved or suspended since it was scheduled (or fired by due_before)
            try:
                fired = self._fire(case, ob, oid, due_epoch, timer, now)
            except (ValueError, ArithmeticError) as exc:  # an instant the calendar cannot count: dropped, reported
                self.failures.append((case_id, f"{oid}: {exc}"))
                fired = None
            if timer != BREACH:
                self._push_next(case, ob, epoch, timer)
            if fired is not None:
                out.append(fired)
        return out

    def due_before(self, env: Envelope, now: datetime) -> list[Envelope]:
        """What fell due in ``env``'s case before ``env`` was recorded: fired before the fact is observed, so
        a lagging monitor, or one whose clock is behind the recorder's, decides exactly as a prompt one (and
        as the replay). Only this case: a fact of one case says nothing of another's facts still unread (on
        another partition); those wait for ``due``. Recorded at ``now``, or at the fact's instant if later."""
        case = self._cases.get(env.case_id)
        if case is None:
            return []
        limit = int(env.recorded_at.timestamp())
        stamp = max(now, env.recorded_at)
        timers: list[tuple[int, int, str, int]] = []
        for oid, ob in case.open.items():
            if (oid, ob.due_epoch) not in case.at_risk_sent:
                timers.append((int(self._warning_at(env.case_id, ob).timestamp()), AT_RISK, oid, ob.due_epoch))
            timers.append((ob.due_epoch, BREACH, oid, ob.due_epoch))
        out: list[Envelope] = []
        for epoch, timer, oid, due in sorted(timers):
            ob = case.open.get(oid)
            if epoch > limit or ob is None or ob.due_epoch != due:
                continue
            try:
                fired = self._fire(case, ob, oid, due, timer, stamp)
            except (ValueError, ArithmeticError) as exc:
                self.failures.append((env.case_id, f"{oid}: {exc}"))
                continue
            if fired is not None:
                out.append(fired)
        return out

    def _fire(self, case: _Case, ob: Obligation, oid: str, due_epoch: int, timer: int,
              now: datetime) -> Envelope | None:
        case_id = case.state.case_id
        if timer == PREPARE:
            prepared = self._breached(case, ob, now)
            prepared.prepare_wire()  # encoded once, ahead of the due instant
            self._prepared[(case_id, oid, due_epoch)] = prepared
            return None
        if timer == BREACH:
            prepared = self._prepared.pop((case_id, oid, due_epoch), None)
            breach = prepared.restamped(now) if prepared else self._breached(case, ob, now)
            self._close(case, oid)
            case.breach((oid, due_epoch), ob)
            return breach
        if (oid, due_epoch) in case.at_risk_sent:
            return None
        at = self._warning_at(case_id, ob)
        self._known_at.pop((case_id, oid, due_epoch), None)
        warning = self._envelope(case, sla.ObligationAtRisk(
            obligation_id=oid, kind=ob.kind, due_at=ob.due_at, citizen_facing=ob.citizen_facing,
            threshold=self.at_risk), at, now)
        case.warned((oid, due_epoch))
        return warning

    def _schedule(self, case_id: str, ob: Obligation, known_at: datetime) -> None:
        """The obligation's timers. A warning whose instant had passed when the obligation (or its new due
        instant) became known, ``known_at`` (the recorded instant of the fact that opened it), is given at
        ``known_at``, dated then: never before the fact that caused it, and at the same point among the
        facts whether the monitor's clock moved in one jump or in small steps. (The interim notice,
        Decree 23, is sent on this warning: it is never dropped.)"""
        warn_at = self._at_risk_instant(ob)
        if warn_at < known_at:  # kept only for these few: a million obligations are held at once
            self._known_at[(case_id, ob.obligation_id, ob.due_epoch)] = known_at
        self._push_timers(case_id, ob, max(warn_at, known_at))

    def _push_timers(self, case_id: str, ob: Obligation, warn_at: datetime | None) -> None:
        """The obligation's first timer: the at-risk warning's at ``warn_at`` (unless None: given already) or
        the breach's preparation, whichever comes first. Each timer, once it has fired, puts the next on the
        heap (``_push_next``): one entry per open obligation, not three (a million are held at once)."""
        first = (ob.due_epoch - PREPARE_AHEAD_SECONDS, PREPARE)
        if warn_at is not None:
            first = min(first, (int(warn_at.timestamp()), AT_RISK))
        self._push(case_id, ob.obligation_id, ob.due_epoch, *first)

    def _push_next(self, case: _Case, ob: Obligation, epoch: int, timer: int) -> None:
        """The timer after (``epoch``, ``timer``) of an obligation still open: in order of instant, then
        warning, preparation, breach (as they were first scheduled); the warning only while it is owed."""
        case_id = case.state.case_id
        timers = [(ob.due_epoch - PREPARE_AHEAD_SECONDS, PREPARE), (ob.due_epoch, BREACH)]
        if timer != AT_RISK and (ob.obligation_id, ob.due_epoch) not in case.at_risk_sent:
            timers.append((int(self._warning_at(case_id, ob).timestamp()), AT_RISK))
        after = min((t for t in timers if t > (epoch, timer)), default=None)
        if after is not None:
            self._push(case_id, ob.obligation_id, ob.due_epoch, *after)

    def _push(self, case_id: str, oid: str, due_epoch: int, epoch: int, timer: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (epoch, self._seq, case_id, oid, due_epoch, timer))

    def _warning_at(self, case_id: str, ob: Obligation) -> datetime:
        """When the obligation's at-risk warning is given: at its instant, or when the obligation became
        known if that was later (``_schedule``)."""
        at = self._at_risk_instant(ob)
        known = self._known_at.get((case_id, ob.obligation_id, ob.due_epoch))
        return max(at, known) if known else at

    def _at_risk_instant(self, ob: Obligation) -> datetime:
        if ob.counting == "calendar_days":
            return ob.started_at + (ob.due_at - ob.started_at) * self.at_risk
        start = self.calendar.working_seconds_until(ob.started_at)
        end = self.calendar.working_seconds_until(ob.due_at)
        return datetime.fromtimestamp(self.calendar.epoch_at(start + math.ceil((end - start) * self.at_risk)), KST)

    # -- event construction ------------------------------------------------------
    def _envelope(self, case: _Case, payload: BaseModel, occurred_at: datetime, now: datetime,
                  cause: Envelope | None = None) -> Envelope:
        event_type, _ = type_of(type(payload))
        due = getattr(payload, "due_at")
        key = f"{case.state.case_id}|{getattr(payload, 'obligation_id')}|{int(due.timestamp())}|{event_type}"
        if cause is not None:
            # An obligation suspended by a pause and reopened with the same due instant (a pause that cost
            # no time) is opened (or suspended) again by another fact: another decision, so another id. The
            # first keeps the id earlier releases gave it, so their logs still replay.
            if key in case.keys_used:
                key += f"|{cause.event_id}"
            else:
                case.keys_used.add(key)
        charter = case.charter
        return Envelope(event_id=uuid.uuid5(EVENT_NAMESPACE, key), case_id=case.state.case_id,
                        case_version=case.state.version, occurred_at=occurred_at, recorded_at=now, producer=PRODUCER,
                        payload=payload, charter=CharterRef(charter.id, charter.version) if charter else None)

    def _proof(self, case: _Case, ob: Obligation) -> sla.Proof:
        d = ob.deadline
        if d is None and ob.kind in ("statutory_deadline", "charter_target"):
            current = derive(case.state, case.charter, self.calendar, case.notices).get(ob.obligation_id)
            d = current.deadline if current is not None and current.due_at == ob.due_at else None
        return sla.Proof(
            rule=ob.rule, promise_id=ob.promise_id, started_at=ob.started_at, period=ob.period, counting=ob.counting,
            pauses=tuple(sla.PauseProof(start=p.start, end=p.end, reason=p.reason) for p in (d.pauses_applied if d else ())),
            extensions=tuple(str(e.period) for e in (d.extensions if d else ())),
            working_seconds_counted=d.counted_working_seconds if d else None,
            calendar_version=self.calendar.version, basis_event_id=case.basis_event_id)

    def _opened(self, case: _Case, ob: Obligation, env: Envelope, now: datetime,
                replaces: datetime | None = None) -> Envelope:
        self._schedule(case.state.case_id, ob, env.recorded_at)
        return self._envelope(case, sla.ObligationOpened(
            obligation_id=ob.obligation_id, kind=ob.kind, due_at=ob.due_at, citizen_facing=ob.citizen_facing,
            proof=self._proof(case, ob), replaces_due_at=replaces), env.occurred_at, now, cause=env)

    def _breached(self, case: _Case, ob: Obligation, now: datetime) -> Envelope:
        return self._envelope(case, sla.ObligationBreached(
            obligation_id=ob.obligation_id, kind=ob.kind, due_at=ob.due_at, citizen_facing=ob.citizen_facing,
            severity="breach" if ob.citizen_facing else "warning", proof=self._proof(case, ob)), ob.due_at, now)

    def _discharged(self, case: _Case, ob: Obligation, env: Envelope, now: datetime, voids: bool) -> Envelope:
        return self._envelope(case, sla.ObligationDischarged(
            obligation_id=ob.obligation_id, kind=ob.kind, due_at=ob.due_at, citizen_facing=ob.citizen_facing,
            discharged_by_event_id=str(env.event_id), on_time=env.occurred_at <= ob.due_at, voids_breach=voids),
            env.occurred_at, now)

    def _suspended(self, case: _Case, ob: Obligation, env: Envelope, now: datetime) -> Envelope:
        deadlines = case_deadlines(case.state, case.charter, self.calendar)
        d = deadlines.statutory if deadlines and ob.kind == "statutory_deadline" else (deadlines.target if deadlines else None)
        return self._envelope(case, sla.ObligationSuspended(
            obligation_id=ob.obligation_id, kind=ob.kind, due_at=ob.due_at, citizen_facing=ob.citizen_facing,
            reason=case.state.open_pause or "pause",
            remaining_working_seconds=d.remaining_working_seconds if d else None,
            remaining_working_days=d.remaining_working_days if d else None), env.occurred_at, now, cause=env)

    # -- recovery ----------------------------------------------------------------
    def restore(self, petition_events: Iterable[Envelope], emitted: Iterable[Envelope], now: datetime) -> list[Envelope]:
        """Rebuild from the log after a restart: replay the petition events, mark what was already
        emitted (breaches, at-risk warnings) so it is not emitted again, and return the events the
        replay derived that were never emitted (petitions that arrived while the monitor was down)."""
        emitted = list(emitted)
        done = {e.event_id for e in emitted}
        missing = []
        for env in petition_events:
            # as live: what fell due before each fact was recorded fires before the fact is applied
            missing += [e for e in self.due_before(env, now) if e.event_id not in done]
            missing += [e for e in self.observe(env, now) if e.event_id not in done]
        for env in emitted:
            p = env.payload
            if isinstance(p, (sla.ObligationBreached, sla.ObligationAtRisk)):
                self._mark(env.case_id, p.obligation_id, int(p.due_at.timestamp()),
                           breached=isinstance(p, sla.ObligationBreached))
        return missing

    def restore_case(self, events: Iterable[Envelope], marks: Mapping[str, list[list]], now: datetime) -> None:
        """Rebuild one case from a snapshot (its events and the marks ``marks_of`` returned). The
        events it derives were emitted before the snapshot was written, so they are dropped; what
        fell due since is left on the timer heap for the next ``due``, for this case and no other:
        the case is rebuilt in a book of its own and then moved into this one, so restoring it never
        fires (and loses) the timers of cases restored before it."""
        scratch = ObligationBook(self.calendar, self.charters, self.at_risk)
        case_id = ""
        for env in events:
            scratch.due_before(env, now)  # as live; the events were emitted before the snapshot
            scratch.observe(env, now)
            case_id = env.case_id
        for oid, epoch in marks.get("breached", ()):
            scratch._mark(case_id, oid, epoch, breached=True)
        for oid, epoch in marks.get("at_risk", ()):
            scratch._mark(case_id, oid, epoch, breached=False)
        self._adopt(scratch)

    def snapshot_of(self, case_id: str, previous: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The case as this book holds it, JSON-ready and compact: its folded state, the obligations
        the clock breached, the warnings given, the notices counted and the keys of the decisions made.
        ``restore_snapshot`` rebuilds the case from it with one derivation, however long its history
        (the open obligations are derived again: they are what the state owes, less what was breached).
        None for a case this book has never heard of. ``previous``: the case's last snapshot, whose state
        is reused when the case's version has not moved since (the clock's marks change, the state not)."""
        case = self._cases.get(case_id)
        early = [encode(e).decode() for e in self._early_notices.get(case_id, ())]
        if case is None:
            return {"format": SNAPSHOT_FORMAT, "early": early} if early else None
        prefix = len(case_id) + 1
        enc_ob = _OBLIGATION_CODEC[0]
        state = (previous or {}).get("state")  # every change of a case's state moves its version (apply)
        if previous is None or previous.get("format") != SNAPSHOT_FORMAT or state is None \
                or state.get("version", 0) != case.state.version or state.get("case_id") != case_id:
            state = encode_state(case.state)
        known = []
        for oid, ob in case.open.items():
            at = self._known_at.get((case_id, oid, ob.due_epoch))
            if at is not None:
                known.append([oid, ob.due_epoch, at.isoformat()])
        return {
            "format": SNAPSHOT_FORMAT,
            "state": state,
            "charter": [case.charter.id, case.charter.version] if case.charter else None,
            "breached": sorted([oid, epoch, enc_ob(ob)] for (oid, epoch), ob in case.breached.items()),
            "at_risk": sorted([oid, epoch] for oid, epoch in case.at_risk_sent),
            "basis": case.basis_event_id,
            "notices": {kind: [encode(e).decode() for e in sent] for kind, sent in case.notice_events.items()},
            "extension_notices_closed": sorted(case.extension_notices_closed),
            "last_version": case.last_version,
            "keys": sorted(k[prefix:] for k in case.keys_used),
            "known": known,
            "early": early,
        }

    def restore_snapshot(self, data: Mapping[str, Any]) -> str:
        """Rebuild one case from ``snapshot_of``'s form. Its timers go on the heap as they stood: what fell
        due since fires at the next ``due``, never here. Returns the case id. A snapshot of another
        format raises ValueError (the caller reports the case; an older form of facts is folded by
        ``restore_case``)."""
        if data.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {data.get('format')!r}: this release reads format {SNAPSHOT_FORMAT}")
        early = [decode(f.encode()) for f in data.get("early", ())]
        if "state" not in data:
            case_id = early[0].case_id if early else ""
            self._early_notices.setdefault(case_id, []).extend(early)
            return case_id
        state = decode_state(data["state"])
        case_id = state.case_id
        charter = self.charters.get(*data["charter"]) if data["charter"] else None
        dec_ob = _OBLIGATION_CODEC[1]
        case = _Case(state, charter, basis_event_id=data["basis"], last_version=data["last_version"])
        for oid, epoch, ob in data["breached"]:
            case.breach((oid, epoch), dec_ob(ob))
        for oid, epoch in data["at_risk"]:
            case.warned((oid, epoch))
        for sent in data["notices"].values():
            for f in sent:
                case.notice_sent(decode(f.encode()))
        for i in data["extension_notices_closed"]:
            case.extension_noticed(i)
        case.keys_used = {f"{case_id}|{k}" for k in data["keys"]}
        known = {(oid, epoch): datetime.fromisoformat(at) for oid, epoch, at in data["known"]}
        open_now = {oid: _without_deadline(ob) for oid, ob in derive(state, charter, self.calendar, case.notices).items()
                    if (oid, ob.due_epoch) not in case.breached}
        warnings: dict[str, datetime | None] = {}  # computed before the book changes: all or nothing
        for oid, ob in open_now.items():
            at = known.get((oid, ob.due_epoch))
            warn_at = None if (oid, ob.due_epoch) in case.at_risk_sent else self._at_risk_instant(ob)
            warnings[oid] = max(warn_at, at) if warn_at is not None and at is not None else warn_at
        self._cases[case_id] = case
        self._set_open(case, open_now)
        for oid, ob in open_now.items():
            if (oid, ob.due_epoch) in known and warnings[oid] is not None:
                self._known_at[(case_id, oid, ob.due_epoch)] = known[(oid, ob.due_epoch)]
            self._push_timers(case_id, ob, warnings[oid])
        if early:
            self._early_notices.setdefault(case_id, []).extend(early)
        return case_id

    def _adopt(self, other: "ObligationBook") -> None:
        """Take every case, timer and prepared breach of ``other`` (a book of distinct cases)."""
        self._cases.update(other._cases)
        self._open_counts.update(other._open_counts)
        for epoch, _, case_id, oid, due, timer in other._heap:
            self._seq += 1
            heapq.heappush(self._heap, (epoch, self._seq, case_id, oid, due, timer))
        self._prepared.update(other._prepared)
        self._known_at.update(other._known_at)
        for case_id, early in other._early_notices.items():
            self._early_notices.setdefault(case_id, []).extend(early)

    def marks_of(self, case_id: str) -> dict[str, list[list]]:
        """What was already emitted for a case that a replay of its events cannot tell: the breaches
        and at-risk warnings fired by the clock. JSON-ready, for a snapshot."""
        case = self._cases.get(case_id)
        if case is None:
            return {"breached": [], "at_risk": []}
        return {"breached": sorted([oid, epoch] for oid, epoch in case.breached),
                "at_risk": sorted([oid, epoch] for oid, epoch in case.at_risk_sent)}

    def _mark(self, case_id: str, oid: str, epoch: int, breached: bool) -> None:
        case = self._cases.get(case_id)
        if case is None:
            return
        if not breached:
            case.warned((oid, epoch))
            return
        ob = case.open.get(oid)
        if ob is not None and ob.due_epoch == epoch:
            self._close(case, oid)
            case.breach((oid, epoch), ob)
