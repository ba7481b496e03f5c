"""A petition case as a pure fold over its events, and the rules that guard its transitions.

``fold(events)`` rebuilds the state; ``apply(state, envelope)`` is one mutator
per event type. ``check(state, payload, occurred_at)`` says whether a new fact
may be recorded now, and raises ``RuleViolation`` naming the rule otherwise.
Intake checks before appending; the read model folds after; both use this.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from pydantic import BaseModel

from shared.deadline import MAX_EXTENSIONS, Extension, Pause
from shared.events import Envelope
from shared.events import petition as ev
from shared.frozen import copier
from shared.periods import Period, PetitionType, statutory_period

OBJECTION_WINDOW = timedelta(days=60)  # Act 35: an objection within 60 days of the result


class Status(str, Enum):
    FILED = "filed"  # electronic petition awaiting formal receipt (Decree 6-7)
    RECEIVED = "received"  # being processed; the statutory clock runs
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"  # under review after an objection (Act 35)


OPEN = frozenset({Status.RECEIVED, Status.REOPENED})


class RuleViolation(Exception):
    """A command the rules forbid in the case's current state (HTTP 409)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Opinion:
    kind: str
    opinion_class: str
    recorded_at: datetime
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None


# slots: the monitor holds a million cases' states at once; a __dict__ of forty keys was ~1.7 KB each
@dataclass(frozen=True, slots=True)
class CaseState:
    case_id: str
    version: int = 0
    status: Status | None = None
    agency_id: str = ""
    shared_with: frozenset[str] = frozenset()  # agencies a transfer gave access to
    municipality_id: str = ""
    charter_id: str | None = None
    charter_version: str | None = None
    petition_type: PetitionType | None = None
    petition_kind: str | None = None
    channel: ev.Channel | None = None
    title: str = ""
    applicant_ref: str = ""
    # How people name the case: the agency's receipt number (접수번호; at filing or at formal receipt) and
    # the case number intake assigned (PetitionReceived v2). ``numbered``: filed with either, so notices use
    # them; a case filed before numbers existed keeps its case id as its reference (its notices re-render
    # as they were sent), even if a receipt number came later.
    receipt_number: str | None = None
    case_number: str | None = None
    numbered: bool = False
    notice_channels: tuple[str, ...] = ()
    arrived_at: datetime | None = None
    received_at: datetime | None = None  # the statutory clock starts here
    department: str | None = None
    official: ev.Official | None = None
    guardian: ev.Official | None = None
    pauses: tuple[Pause, ...] = ()
    open_pause: str | None = None  # "supplement" | "field_investigation"
    supplement_requests: int = 0  # requests in the open supplement pause: a second one is Decree 25's
    extensions: tuple[Extension, ...] = ()
    interim_notices: tuple[datetime, ...] = ()
    resolutions: int = 0
    outcome: ev.Outcome | None = None
    resolved_at: datetime | None = None
    evaluated: frozenset[int] = frozenset()  # resolution numbers already scored
    scores: tuple[int, ...] = ()
    closed_at: datetime | None = None
    objections: int = 0
    transfers: int = 0
    callbacks: tuple[tuple[str, datetime, datetime | None, datetime | None], ...] = ()  # id, promised, requested, made
    opinions: tuple[tuple[str, Opinion], ...] = ()
    disclosure_steps: tuple[str, ...] = ()
    facts: tuple[tuple[str, str | None, datetime], ...] = ()  # (event type, official id, when) of confirmed faults
    withdrawn: tuple[str, ...] = ()  # findings withdrawn (FindingWithdrawn.finding), in order
    personal_data_erased: bool = False  # PersonalDataErased: the applicant's data can no longer be opened
    last_event_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.version > 0

    def opinion(self, opinion_id: str) -> Opinion | None:
        return dict(self.opinions).get(opinion_id)

    def can_be_seen_by(self, agency_id: str) -> bool:
        return agency_id == self.agency_id or agency_id in self.shared_with

    @property
    def reference(self) -> str:
        """What notices and people call the case: the agency's receipt number, else the case number intake
        assigned, else (a case filed before numbers existed) the case id."""
        if not self.numbered:
            return self.case_id
        return self.receipt_number or self.case_number or self.case_id


# dataclasses.replace without re-running __init__: a fold applies one change per event, and replace() on a
# thirty-field state was the largest cost of replaying a log
evolve: Callable[..., CaseState] = copier(CaseState)


# -- mutators: one per event type ------------------------------------------------
Mutator = Callable[[CaseState, BaseModel, datetime], CaseState]
_MUTATORS: dict[type[BaseModel], Mutator] = {}


def mutator(payload_type: type[BaseModel]) -> Callable[[Mutator], Mutator]:
    def register(fn: Mutator) -> Mutator:
        _MUTATORS[payload_type] = fn
        return fn

    return register


@mutator(ev.PetitionReceived)
def _received(s: CaseState, p: ev.PetitionReceived, at: datetime) -> CaseState:
    electronic = p.channel in ev.ELECTRONIC_CHANNELS
    steps = ("submit",) if electronic else ("submit", "receive")
    return replace(
        s, status=Status.FILED if electronic else Status.RECEIVED, agency_id=p.agency_id,
        municipality_id=p.municipality_id, petition_type=p.petition_type, petition_kind=p.petition_kind,
        channel=p.channel, title=p.title, applicant_ref=p.applicant_ref,
        receipt_number=p.receipt_number, case_number=p.case_number,
        numbered=p.receipt_number is not None or p.case_number is not None,
        notice_channels=tuple(c.value for c in p.notice_channels), arrived_at=at,
        received_at=None if electronic else at,
        disclosure_steps=steps if p.petition_type is PetitionType.DISCLOSURE else (),
    )


@mutator(ev.ReceiptRecorded)
def _receipt(s: CaseState, p: ev.ReceiptRecorded, at: datetime) -> CaseState:
    steps = s.disclosure_steps + ("receive",) if s.petition_type is PetitionType.DISCLOSURE else s.disclosure_steps
    return evolve(s, status=Status.RECEIVED, received_at=at, disclosure_steps=steps,
                  receipt_number=p.receipt_number or s.receipt_number)


@mutator(ev.OfficialAssigned)
def _assigned(s: CaseState, p: ev.OfficialAssigned, at: datetime) -> CaseState:
    return evolve(s, official=p.official, department=p.official.department, guardian=p.guardian or s.guardian)


@mutator(ev.PetitionTransferred)
def _transferred(s: CaseState, p: ev.PetitionTransferred, at: datetime) -> CaseState:
    if p.scope == "other_agency":
        assert p.to_agency_id is not None
        return evolve(s, shared_with=s.shared_with | {p.to_agency_id}, official=None, department=None,
                       transfers=s.transfers + 1)
    return evolve(s, department=p.to_department, official=None, transfers=s.transfers + 1)


def _pause_opened(kind: str) -> Mutator:
    def fn(s: CaseState, p: BaseModel, at: datetime) -> CaseState:
        return evolve(s, open_pause=kind, pauses=s.pauses + (Pause(at, None, kind),))

    return fn


def _pause_closed(s: CaseState, p: BaseModel, at: datetime) -> CaseState:
    last = s.pauses[-1]
    return evolve(s, open_pause=None, pauses=s.pauses[:-1] + (Pause(last.start, at, last.reason),))


@mutator(ev.SupplementRequested)
def _supplement_requested(s: CaseState, p: BaseModel, at: datetime) -> CaseState:
    if s.open_pause == "supplement_request":  # the second request (Decree 25): the same pause goes on
        return evolve(s, supplement_requests=s.supplement_requests + 1)
    return evolve(_pause_opened("supplement_request")(s, p, at), supplement_requests=1)



mutator(ev.FieldInvestigationStarted)(_pause_opened("field_investigation"))
mutator(ev.SupplementReceived)(_pause_closed)
mutator(ev.FieldInvestigationEnded)(_pause_closed)


@mutator(ev.ProcessingExtended)
def _extended(s: CaseState, p: ev.ProcessingExtended, at: datetime) -> CaseState:
    return evolve(s, extensions=s.extensions + (Extension(p.parsed_period(), p.petitioner_consent),))


@mutator(ev.InterimNoticeRecorded)
def _interim(s: CaseState, p: ev.InterimNoticeRecorded, at: datetime) -> CaseState:
    return evolve(s, interim_notices=s.interim_notices + (at,))


@mutator(ev.PetitionResolved)
def _resolved(s: CaseState, p: ev.PetitionResolved, at: datetime) -> CaseState:
    return evolve(s, status=Status.RESOLVED, outcome=p.outcome, resolved_at=at, resolutions=s.resolutions + 1)


@mutator(ev.PetitionClosed)
def _closed(s: CaseState, p: ev.PetitionClosed, at: datetime) -> CaseState:
    return evolve(s, status=Status.CLOSED, closed_at=at)


@mutator(ev.ObjectionFiled)
def _objection(s: CaseState, p: ev.ObjectionFiled, at: datetime) -> CaseState:
    # The objection is decided on its own clock (Act 35: 10 days, +10): it restarts here.
    return evolve(s, status=Status.REOPENED, objections=s.objections + 1, closed_at=None, received_at=at,
                   pauses=(), extensions=(), interim_notices=(), open_pause=None)


@mutator(ev.ResultEvaluated)
def _evaluated(s: CaseState, p: ev.ResultEvaluated, at: datetime) -> CaseState:
    return evolve(s, evaluated=s.evaluated | {s.resolutions}, scores=s.scores + (p.score,))


@mutator(ev.CallbackPromised)
def _callback_promised(s: CaseState, p: ev.CallbackPromised, at: datetime) -> CaseState:
    return evolve(s, callbacks=s.callbacks + ((p.callback_id, at, p.requested_at, None),))


@mutator(ev.CallbackMade)
def _callback_made(s: CaseState, p: ev.CallbackMade, at: datetime) -> CaseState:
    return evolve(s, callbacks=tuple((cid, promised, req, at if cid == p.callback_id else made)
                                      for cid, promised, req, made in s.callbacks))


def _with_opinion(s: CaseState, opinion_id: str, opinion: Opinion) -> CaseState:
    others = tuple((k, v) for k, v in s.opinions if k != opinion_id)
    return evolve(s, opinions=others + ((opinion_id, opinion),))


@mutator(ev.OpinionRecorded)
def _opinion(s: CaseState, p: ev.OpinionRecorded, at: datetime) -> CaseState:
    return _with_opinion(s, p.opinion_id, Opinion(p.kind, p.opinion_class.value, at))


@mutator(ev.OpinionAcknowledged)
def _opinion_ack(s: CaseState, p: ev.OpinionAcknowledged, at: datetime) -> CaseState:
    return _with_opinion(s, p.opinion_id, replace(s.opinion(p.opinion_id), acknowledged_at=at))  # type: ignore[type-var]


@mutator(ev.OpinionAnswered)
def _opinion_answer(s: CaseState, p: ev.OpinionAnswered, at: datetime) -> CaseState:
    return _with_opinion(s, p.opinion_id, replace(s.opinion(p.opinion_id), answered_at=at))  # type: ignore[type-var]


def _fact(s: CaseState, p: BaseModel, at: datetime) -> CaseState:
    official = getattr(p, "official_id", None)
    return evolve(s, facts=s.facts + ((type(p).__name__, official, at),))


for _fact_type in (ev.RepeatVisitRecorded, ev.AdministrativeErrorConfirmed, ev.DiscourtesyConfirmed,
                   ev.InsincereHandlingConfirmed):
    mutator(_fact_type)(_fact)


@mutator(ev.FindingWithdrawn)
def _withdrawn(s: CaseState, p: ev.FindingWithdrawn, at: datetime) -> CaseState:
    return evolve(s, withdrawn=s.withdrawn + (p.finding,))


@mutator(ev.PersonalDataErased)
def _erased(s: CaseState, p: ev.PersonalDataErased, at: datetime) -> CaseState:
    return evolve(s, personal_data_erased=True)


@mutator(ev.DisclosureStepRecorded)
def _disclosure(s: CaseState, p: ev.DisclosureStepRecorded, at: datetime) -> CaseState:
    return evolve(s, disclosure_steps=s.disclosure_steps + (p.step,))


def apply(state: CaseState, env: Envelope) -> CaseState:
    fn = _MUTATORS.get(type(env.payload))
    if fn is None:
        return state  # not a petition fact (e.g. a derived event): the case is unchanged
    new = fn(state, env.payload, env.occurred_at)
    if new is state:
        return evolve(new, version=state.version + 1, last_event_at=env.occurred_at)
    # the mutator's fresh copy, seen by no one yet: stamped in place rather than copied a second time
    object.__setattr__(new, "version", state.version + 1)
    object.__setattr__(new, "last_event_at", env.occurred_at)
    return new


def fold(case_id: str, events: Iterable[Envelope]) -> CaseState:
    state = CaseState(case_id)
    for env in events:
        state = apply(state, env)
    return state


def handles(payload_type: type[BaseModel]) -> bool:
    return payload_type in _MUTATORS


# -- rules: may this fact be recorded now? ---------------------------------------
Rule = Callable[[CaseState, BaseModel, datetime], None]
_RULES: dict[type[BaseModel], list[Rule]] = {}


def rule(*payload_types: type[BaseModel]) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for t in payload_types:
            _RULES.setdefault(t, []).append(fn)
        return fn

    return register


def _require_status(s: CaseState, allowed: frozenset[Status], what: str) -> None:
    if s.status not in allowed:
        names = ", ".join(sorted(a.value for a in allowed))
        raise RuleViolation("case-status", f"{what} is allowed only when the case is {names}; it is {s.status.value}")


@rule(ev.ReceiptRecorded)
def _receipt_once(s: CaseState, p: BaseModel, at: datetime) -> None:
    if s.status is not Status.FILED:
        raise RuleViolation("Decree 6-7", "formal receipt is recorded once, for an electronic petition not yet received")


@rule(ev.OfficialAssigned, ev.PetitionTransferred, ev.SupplementRequested, ev.FieldInvestigationStarted,
      ev.ProcessingExtended, ev.InterimNoticeRecorded, ev.PetitionResolved)
def _open_case(s: CaseState, p: BaseModel, at: datetime) -> None:
    _require_status(s, OPEN, type(p).__name__)


SECOND_REQUEST_DAYS = 10  # Decree 25: a second request gives at most 10 days


@rule(ev.SupplementRequested, ev.FieldInvestigationStarted, ev.ProcessingExtended, ev.PetitionResolved)
def _no_open_pause(s: CaseState, p: BaseModel, at: datetime) -> None:
    if isinstance(p, ev.SupplementRequested) and s.open_pause == "supplement_request":
        _second_request(s, p, at)
        return
    if s.open_pause:
        raise RuleViolation("pause-open", f"a {s.open_pause} is still open; record its end first")


def _second_request(s: CaseState, p: ev.SupplementRequested, at: datetime) -> None:
    """Act 22(2); Decree 25: nothing came, so the request is made once more, with a deadline of 10 days at
    most; if nothing comes again the petition may be returned (never a third request)."""
    if s.supplement_requests >= 2:
        raise RuleViolation("Decree 25", "a supplement was requested twice already: the petition may be returned")
    if p.respond_by is None or p.respond_by > at + timedelta(days=SECOND_REQUEST_DAYS):
        raise RuleViolation("Decree 25", "a second supplement request needs respond_by within 10 days")


@rule(ev.SupplementReceived)
def _supplement_open(s: CaseState, p: BaseModel, at: datetime) -> None:
    if s.open_pause != "supplement_request":
        raise RuleViolation("Act 22", "no supplement request is open")


@rule(ev.FieldInvestigationStarted)
def _grievance_only(s: CaseState, p: BaseModel, at: datetime) -> None:
    if s.petition_type is not PetitionType.GRIEVANCE:
        raise RuleViolation("Decree 17", "a field investigation pauses the clock of a grievance only")


@rule(ev.FieldInvestigationEnded)
def _investigation_open(s: CaseState, p: BaseModel, at: datetime) -> None:
    if s.open_pause != "field_investigation":
        raise RuleViolation("Decree 17", "no field investigation is open")


@rule(ev.PetitionTransferred)
def _transfer_target(s: CaseState, p: ev.PetitionTransferred, at: datetime) -> None:  # type: ignore[override]
    if p.scope == "other_agency" and not s.shared_with and p.to_agency_id == s.agency_id:
        raise RuleViolation("Decree 13", "a transfer to another agency names another agency, not the one that has it")


@rule(ev.ProcessingExtended)
def _extension_limits(s: CaseState, p: ev.ProcessingExtended, at: datetime) -> None:  # type: ignore[override]
    if len(s.extensions) >= MAX_EXTENSIONS:
        raise RuleViolation("Decree 21", "the period was already extended twice")
    if len(s.extensions) == 1 and not p.petitioner_consent:
        raise RuleViolation("Decree 21", "a second extension needs the petitioner's consent")


@rule(ev.PetitionClosed)
def _close_resolved(s: CaseState, p: BaseModel, at: datetime) -> None:
    _require_status(s, frozenset({Status.RESOLVED}), "closing")


@rule(ev.ObjectionFiled)
def _objection_allowed(s: CaseState, p: BaseModel, at: datetime) -> None:
    _require_status(s, frozenset({Status.RESOLVED, Status.CLOSED}), "an objection")
    if s.outcome not in (ev.Outcome.REFUSED, ev.Outcome.PARTLY_ACCEPTED):
        raise RuleViolation("Act 35", "an objection contests a refusal; this result was not refused")
    assert s.resolved_at is not None
    if at > s.resolved_at + OBJECTION_WINDOW:
        raise RuleViolation("Act 35", "an objection must be filed within 60 days of the result")


@rule(ev.FindingWithdrawn)
def _withdraw_confirmed(s: CaseState, p: BaseModel, at: datetime) -> None:
    finding = p.finding  # type: ignore[attr-defined]
    confirmed = sum(1 for kind, _, _ in s.facts if kind == ev.FINDING_EVENTS[finding])
    if confirmed <= s.withdrawn.count(finding):
        raise RuleViolation("finding-withdrawal", f"no confirmed {finding} on this case is left to withdraw")


@rule(ev.ResultEvaluated)
def _evaluate_once(s: CaseState, p: BaseModel, at: datetime) -> None:
    if s.resolutions == 0:
        raise RuleViolation("D12", "there is no result to evaluate yet")
    if s.resolutions in s.evaluated:
        raise RuleViolation("D12", "this result was already evaluated")


@rule(ev.CallbackPromised, ev.OpinionRecorded)
def _not_closed(s: CaseState, p: BaseModel, at: datetime) -> None:
    if s.status is Status.CLOSED:
        raise RuleViolation("case-status", "the case is closed")


@rule(ev.CallbackPromised)
def _callback_new(s: CaseState, p: ev.CallbackPromised, at: datetime) -> None:  # type: ignore[override]
    if any(cid == p.callback_id for cid, *_ in s.callbacks):
        raise RuleViolation("Y1", f"callback {p.callback_id} was already promised")


@rule(ev.CallbackMade)
def _callback_open(s: CaseState, p: ev.CallbackMade, at: datetime) -> None:  # type: ignore[override]
    match = [made for cid, _, _, made in s.callbacks if cid == p.callback_id]
    if not match:
        raise RuleViolation("Y1", f"no callback {p.callback_id} was promised")
    if match[0] is not None:
        raise RuleViolation("Y1", f"callback {p.callback_id} was already made")


@rule(ev.OpinionRecorded)
def _opinion_new(s: CaseState, p: ev.OpinionRecorded, at: datetime) -> None:  # type: ignore[override]
    if s.opinion(p.opinion_id):
        raise RuleViolation("Y2", f"opinion {p.opinion_id} was already recorded")


@rule(ev.OpinionAcknowledged, ev.OpinionAnswered)
def _opinion_step_once(s: CaseState, p: BaseModel, at: datetime) -> None:
    opinion_id = getattr(p, "opinion_id")
    o = s.opinion(opinion_id)
    if o is None:
        raise RuleViolation("Y2", f"no opinion {opinion_id}")
    done, what = (o.acknowledged_at, "acknowledged") if isinstance(p, ev.OpinionAcknowledged) else (o.answered_at, "answered")
    if done:
        raise RuleViolation("Y2", f"opinion {opinion_id} was already {what}")


@rule(ev.DisclosureStepRecorded)
def _disclosure_order(s: CaseState, p: ev.DisclosureStepRecorded, at: datetime) -> None:  # type: ignore[override]
    if s.petition_type is not PetitionType.DISCLOSURE:
        raise RuleViolation("D7", "disclosure steps belong to information-disclosure requests")
    done = len(s.disclosure_steps)
    expected = ev.DISCLOSURE_STEPS[done] if done < len(ev.DISCLOSURE_STEPS) else None
    if p.step != expected:
        raise RuleViolation("D7", f"the next disclosure step is {expected or 'none (all eight are done)'}, not {p.step}")


def check(state: CaseState, payload: BaseModel, occurred_at: datetime) -> None:
    """Raise RuleViolation if ``payload`` may not be recorded on this case at ``occurred_at``."""
    if isinstance(payload, ev.PetitionReceived):
        if state.exists:
            raise RuleViolation("case-exists", "the petition was already received")
        return
    if not state.exists:
        raise RuleViolation("case-missing", "no such petition")
    if state.last_event_at is not None and occurred_at < state.arrived_at:  # type: ignore[operator]
        raise RuleViolation("time-order", "a fact cannot predate the petition's arrival")
    if state.last_event_at is not None and occurred_at < state.last_event_at:
        # A case's facts happened in the order they are recorded: a fact may be recorded late, but not
        # before one already on the case (a closure before its resolution, an evaluation before the
        # result, a resolution backdated past facts that followed it).
        raise RuleViolation("time-order", "a fact cannot predate the case's last recorded fact "
                                          f"({state.last_event_at.isoformat()})")
    for fn in _RULES.get(type(payload), []):
        fn(state, payload, occurred_at)


def period_of(state: CaseState, table: dict[str, Period]) -> Period:
    if state.status is Status.REOPENED:
        return Period(10, "d")  # Act 35: an objection is decided within 10 days (+10)
    assert state.petition_type is not None
    return statutory_period(state.petition_type, state.petition_kind, table)


__all__ = ["CaseState", "RuleViolation", "Status", "apply", "check", "fold", "handles", "period_of"]
