"""The remedy decider over the in-memory ledger: once per cause, strikes across an agency's cases, the fold of
what it emitted; and the property that the compensation service's SQL ledger decides the same
events, and keeps the same state, for the same inputs."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from services.compensation.ledger.book import Ledger, SqlLedgerState
from services.compensation.ledger.orm import (
    RemedyActionRow,
    StrikeRow,
    VoucherRow,
    VoucherTransitionRow,
)
from shared.charters import CharterBook
from shared.charters.model import Charter
from shared.compensation import policy, voucher
from shared.compensation.causes import cause_of
from shared.compensation.remedies import Remedies
from shared.compensation.state import InMemoryLedgerState
from shared.compensation.voucher import TransitionRefused, VoucherNotFound
from shared.events import Envelope, sla
from shared.events import petition as ev
from shared.events.envelope import CharterRef
from shared.holiday_source import korean_calendar
from shared.instants import KST
from shared.sealing import Sealed

BUNDLED = CharterBook.bundled()
RECEIVED = datetime(2027, 3, 2, 10, tzinfo=KST)
_dangjin = BUNDLED.in_force("dangjin", RECEIVED)
# Dangjin's D11 with a 30-day window (no bundled charter has one), so the window is exercised too.
WINDOWED = _dangjin.model_copy(update={
    "version": "2024.1-w30", "effective_from": _dangjin.effective_from + timedelta(days=1),
    "promises": [p.model_copy(update={"strike_window_days": 30}) if p.id == "D11" else p for p in _dangjin.promises]})
CHARTERS = CharterBook([*[v for cid in BUNDLED.ids() for v in BUNDLED.versions(cid)], WINDOWED])
CALENDAR = korean_calendar()
NOW = datetime(2027, 4, 1, 9, tzinfo=KST)
DUE = datetime(2027, 3, 11, 18, tzinfo=KST)


def kst(*a: int) -> datetime:
    return datetime(*a, tzinfo=KST)


class Case:
    """A case's petition events with consecutive versions, and its SLA events; ids are deterministic."""

    def __init__(self, n: int, charter: Charter, agency: str = "a") -> None:
        self.case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"case-{n}"))
        self.charter = CharterRef(charter.id, charter.version)
        self.version = 0
        self.received = self.event(ev.PetitionReceived(
            municipality_id=charter.id, agency_id=agency, petition_type="grievance", channel="visit", title="t",
            applicant=Sealed(kid="k", nonce="bg==", ciphertext="Yw=="), applicant_ref="r" * 32), RECEIVED)

    def event(self, payload: Any, at: datetime) -> Envelope:
        self.version += 1
        return Envelope(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{self.case_id}|{self.version}"),
                        case_id=self.case_id, case_version=self.version, occurred_at=at, recorded_at=at,
                        producer="intake", payload=payload, charter=self.charter)

    def sla(self, payload: Any, at: datetime) -> Envelope:
        return Envelope(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{self.case_id}|{payload.model_dump_json()}"),
                        case_id=self.case_id, case_version=self.version, occurred_at=at, recorded_at=at,
                        producer="sla_monitor", payload=payload, charter=self.charter)

    def breach(self, due: datetime = DUE, period: str = "7d") -> Envelope:
        proof = sla.Proof(rule="Act 19", started_at=RECEIVED, period=period, counting="working_days",
                          calendar_version=CALENDAR.version, basis_event_id=str(self.received.event_id))
        return self.sla(sla.ObligationBreached(obligation_id="statutory_deadline", kind="statutory_deadline",
                                               due_at=due, citizen_facing=True, severity="breach", proof=proof), due)

    def voided(self, due: datetime = DUE) -> Envelope:
        return self.sla(sla.ObligationDischarged(obligation_id="statutory_deadline", kind="statutory_deadline",
                                                 due_at=due, citizen_facing=True, discharged_by_event_id="e-resolved",
                                                 on_time=True, voids_breach=True), due)


def case(n: int, municipality: str, agency: str = "a") -> Case:
    return Case(n, WINDOWED if municipality == "dangjin-w30" else BUNDLED.in_force(municipality, RECEIVED), agency)


def decide(remedies: Remedies, state: InMemoryLedgerState, *events: Envelope) -> list[Envelope]:
    return [e for env in events for e in remedies.record(state, env, NOW)]


def types(events: list[Envelope]) -> list[str]:
    return [e.event_type for e in events]


@pytest.fixture
def remedies() -> Remedies:
    return Remedies(CHARTERS, CALENDAR)


def test_the_same_breach_recorded_twice_owes_one_voucher(remedies: Remedies) -> None:
    state = InMemoryLedgerState()
    c = case(1, "dangjin")
    b = c.breach()
    first = decide(remedies, state, c.received, b)
    assert types(first) == ["VoucherProposed", "VoucherApproved", "VoucherIssued", "ApologyOwed"]
    assert decide(remedies, state, b) == []  # redelivered: decided already
    again = c.sla(c.breach(due=DUE + timedelta(days=1)).payload, DUE + timedelta(days=1))
    assert decide(remedies, state, again) == []  # another breach of the same case: still one voucher per cause
    assert list(state.vouchers) == [policy.voucher_id(c.case_id, "statutory_deadline_missed")]
    assert len(state.actions) == 1  # one apology per (case, cause)


def test_a_second_cause_of_the_case_owes_its_own_voucher(remedies: Remedies) -> None:
    state = InMemoryLedgerState()
    c = case(1, "yeonje-gu")
    visit = ev.RepeatVisitRecorded(official_id="o-1", cause="서류 안내 누락")
    decide(remedies, state, c.received, c.event(visit, kst(2027, 3, 3, 10)), c.event(visit, kst(2027, 3, 4, 10)),
           c.event(ev.AdministrativeErrorConfirmed(description="주소 오기"), kst(2027, 3, 5, 10)))
    assert sorted((v.cause, v.status) for v in state.vouchers.values()) == [
        ("administrative_error", "issued"), ("repeat_visit", "issued")]


def test_the_third_standing_strike_in_the_window_raises_a_referral(remedies: Remedies) -> None:
    """D11 with a 30-day window: strikes that left the window, or were withdrawn, do not count."""
    state = InMemoryLedgerState()
    cases = [case(n, "dangjin-w30") for n in range(6)]
    days = [kst(2027, 3, 3, 15), kst(2027, 3, 10, 15), kst(2027, 4, 15, 15), kst(2027, 4, 20, 15),
            kst(2027, 4, 25, 15), kst(2027, 4, 27, 15)]
    findings = [c.event(ev.DiscourtesyConfirmed(official_id="o-9", finding="불친절"), at) for c, at in zip(cases, days)]
    out = decide(remedies, state, *[c.received for c in cases], *findings[:4])
    assert "PersonnelActionReferred" not in types(out)  # the third ever (4/15), but 3/3 and 3/10 left the window
    withdrawal = cases[3].event(ev.FindingWithdrawn(finding="discourtesy", reason="오인"), kst(2027, 4, 21, 10))
    assert decide(remedies, state, withdrawal) == []
    assert state.strikes[str(findings[3].event_id)].withdrawn_at == kst(2027, 4, 21, 10)
    assert "PersonnelActionReferred" not in types(decide(remedies, state, findings[4]))  # 4/20's was withdrawn
    third = decide(remedies, state, findings[5])
    assert types(third) == ["ApologyOwed", "RetrainingOrdered", "PersonnelActionReferred"]
    referral = third[-1]
    assert referral.case_id == cases[5].case_id
    assert (referral.payload.strikes, referral.payload.window_days, referral.payload.promise_id) == (3, 30, "D11")
    assert referral.payload.strike_event_ids == tuple(str(findings[i].event_id) for i in (2, 4, 5))
    assert decide(remedies, state, findings[5]) == []  # redelivered: the strike and the referral are kept once


def test_another_agencys_findings_do_not_count_toward_an_official_of_the_same_id(remedies: Remedies) -> None:
    """Officials are their agency's: B's "o-17" is not A's "o-17". D11 refers at 3 strikes."""
    state = InMemoryLedgerState()
    a = [case(n, "dangjin", agency="agency-a") for n in range(3)]
    b = [case(n, "dangjin", agency="agency-b") for n in range(10, 13)]
    finding = ev.DiscourtesyConfirmed(official_id="o-17", finding="불친절")
    a_found = [c.event(finding, kst(2027, 3, 3 + i, 10)) for i, c in enumerate(a)]
    b_found = [c.event(finding, kst(2027, 3, 10 + i, 10)) for i, c in enumerate(b)]
    decide(remedies, state, *[c.received for c in a + b])
    out = decide(remedies, state, *a_found[:2], *b_found[:2])
    assert "PersonnelActionReferred" not in types(out)  # four strikes on "o-17", two in each agency
    assert {(s.agency_id, s.official_id) for s in state.strikes.values()} == {("agency-a", "o-17"),
                                                                              ("agency-b", "o-17")}
    assert state.strikes_in_window("agency-a", "o-17", None, NOW) == [str(e.event_id) for e in a_found[:2]]
    third_b = decide(remedies, state, b_found[2])
    [referral] = [e for e in third_b if e.event_type == "PersonnelActionReferred"]
    assert referral.case_id == b[2].case_id  # B's official, on B's case, counting B's strikes only
    assert referral.payload.strike_event_ids == tuple(str(e.event_id) for e in b_found)
    # the id is derived as before strikes were kept per agency: the official and the third strike
    assert referral.payload.referral_id == policy.remedy_id("referral", "o-17", str(b_found[2].event_id))
    third_a = decide(remedies, state, a_found[2])
    [referral] = [e for e in third_a if e.event_type == "PersonnelActionReferred"]
    assert referral.payload.strike_event_ids == tuple(str(e.event_id) for e in a_found)


def test_a_finding_of_a_case_never_received_puts_a_strike_on_no_one(remedies: Remedies) -> None:
    """The agency an official belongs to is the case's: without the receipt there is none to count under."""
    state = InMemoryLedgerState()
    c = case(1, "dangjin")
    out = decide(remedies, state, c.event(ev.DiscourtesyConfirmed(official_id="o-17", finding="불친절"), NOW))
    assert "PersonnelActionReferred" not in types(out) and state.strikes == {}


def test_events_keep_their_derived_ids_versions_instants_and_producer(remedies: Remedies) -> None:
    state = InMemoryLedgerState()
    c = case(1, "seongnam")
    b = c.breach()
    [proposed, apology] = decide(remedies, state, c.received, b)
    voucher_id = proposed.payload.voucher_id
    events = uuid.UUID("3d2f8a61-97c4-4b1e-8f0a-6c5e4d3b2a19")
    assert proposed.event_id == uuid.uuid5(events, f"{voucher_id}|proposed")
    assert (proposed.case_version, proposed.occurred_at, proposed.recorded_at, proposed.producer) == (
        b.case_version, DUE, NOW, "compensation")
    assert proposed.charter == CharterRef("seongnam", c.charter.version)
    apology_id = str(uuid.uuid5(uuid.UUID("0b8c9d1e-6f3a-4c2b-9e7d-5a4f3c2b1a09"),
                                f"apology|{c.case_id}|statutory_deadline_missed"))
    assert apology.event_id == uuid.uuid5(events, f"apology|{apology_id}") and apology.payload.apology_id == apology_id
    at = kst(2027, 3, 15, 10)
    approved, issued = remedies.approve(state, voucher_id, "head-1", at)
    # an official's decision is no event of the case: version 0, recorded when decided
    assert [(e.case_version, e.occurred_at, e.recorded_at) for e in (approved, issued)] == [(0, at, at)] * 2
    assert issued.event_id == uuid.uuid5(events, f"{voucher_id}|issued") and issued.charter == proposed.charter


def test_an_official_acting_on_an_unknown_voucher_is_told(remedies: Remedies) -> None:
    with pytest.raises(VoucherNotFound):
        remedies.approve(InMemoryLedgerState(), "nope", "head-1", NOW)


def test_the_fold_of_what_the_decider_emitted_is_the_voucher_it_keeps(remedies: Remedies) -> None:
    state = InMemoryLedgerState()
    inputs: list[Envelope] = []
    for n, (municipality, resolved) in enumerate([("namhae", kst(2027, 3, 15, 11)), ("gochang", None),
                                                  ("busan-gangseo-gu", kst(2027, 3, 12, 13)), ("seongnam", None)]):
        c = case(n, municipality)
        inputs += [c.received, c.breach()]
        if resolved is not None:
            inputs.append(c.event(ev.PetitionResolved(outcome="accepted", explanation="완료"), resolved))
    emitted = decide(remedies, state, *inputs)
    [seongnam] = [v for v in state.vouchers.values() if v.approval == "department_head"]
    emitted += remedies.approve(state, seongnam.voucher_id, "head-1", NOW)
    emitted += remedies.deliver(state, seongnam.voucher_id, "clerk-1", NOW)
    emitted += remedies.issue_batch(state, "2027-03", "clerk-1", NOW, visible=lambda case_id: True)
    breaches = {str(e.event_id): found.breach for e in inputs if (found := cause_of(e)) is not None}
    assert {v.status for v in state.vouchers.values()} == {"issued", "cancelled", "delivered"}
    for voucher_id, kept in state.vouchers.items():
        own = [e for e in emitted if getattr(e.payload, "voucher_id", None) == voucher_id]
        assert voucher.fold(own, breaches[kept.cause_event_id]) == kept


# -- the SQL ledger decides the same ----------------------------------------------------
MUNICIPALITIES = ("dangjin", "dangjin-w30", "seongnam", "gochang", "namhae", "busan-gangseo-gu", "yeonje-gu")
INSTANTS = [kst(2027, 3, d, h) for d in (3, 10, 11, 12, 15, 22) for h in (9, 14, 18)] + [kst(2027, 4, 20, 10)]
FINDINGS = {"repeat_visit": lambda o: ev.RepeatVisitRecorded(official_id=o, cause="안내 누락"),
            "administrative_error": lambda o: ev.AdministrativeErrorConfirmed(description="오기", official_id=o),
            "insincere_handling": lambda o: ev.InsincereHandlingConfirmed(official_id=o, finding="불성실"),
            "discourtesy": lambda o: ev.DiscourtesyConfirmed(official_id=o, finding="불친절")}
CAUSES = ("statutory_deadline_missed", *FINDINGS)

step = st.one_of(
    st.tuples(st.just("breach"), st.integers(0, 3), st.sampled_from(INSTANTS), st.sampled_from(["3h", "7d"])),
    st.tuples(st.just("void"), st.integers(0, 3), st.sampled_from(INSTANTS)),
    st.tuples(st.just("resolve"), st.integers(0, 3), st.sampled_from(INSTANTS)),
    st.tuples(st.just("finding"), st.integers(0, 3), st.sampled_from(INSTANTS), st.sampled_from(sorted(FINDINGS)),
              st.sampled_from(["o-1", "o-2"])),
    st.tuples(st.just("withdraw"), st.integers(0, 3), st.sampled_from(INSTANTS), st.sampled_from(sorted(FINDINGS))),
    st.tuples(st.just("again"), st.integers(0, 40)),  # an event redelivered
    st.tuples(st.sampled_from(["approve", "reject", "deliver", "issue_one"]), st.integers(0, 3),
              st.sampled_from(CAUSES), st.sampled_from(INSTANTS)),
    st.tuples(st.just("issue_batch"), st.sampled_from(["2027-03", "2027-04"]), st.sampled_from(INSTANTS)),
)


def inputs(municipalities: list[str], steps: list[tuple]) -> Iterator[tuple[str, Any]]:
    """The scenario as (operation, arguments): events to record, officials' decisions to take."""
    # two agencies, whose officials share ids ("o-1", "o-2") but are different people
    cases = [case(n, m, agency=("a", "b")[n % 2]) for n, m in enumerate(municipalities)]
    seen: list[Envelope] = []
    for c in cases:
        seen.append(c.received)
        yield "record", c.received
    for kind, *args in steps:
        if kind == "again":
            yield "record", seen[args[0] % len(seen)]
            continue
        if kind == "issue_batch":
            yield kind, args
            continue
        c = cases[args[0] % len(cases)]
        if kind in ("approve", "reject", "deliver", "issue_one"):
            yield kind, (policy.voucher_id(c.case_id, args[1]), args[2])
            continue
        if kind == "breach":
            env = c.breach(args[1], args[2])
        elif kind == "void":
            env = c.voided(args[1])
        elif kind == "resolve":
            env = c.event(ev.PetitionResolved(outcome="accepted", explanation="완료"), args[1])
        elif kind == "finding":
            env = c.event(FINDINGS[args[2]](args[3]), args[1])
        else:
            env = c.event(ev.FindingWithdrawn(finding=args[2], reason="착오"), args[1])
        seen.append(env)
        yield "record", env


def run(op: str, args: Any, record: Any, act: Any) -> tuple[str, Any]:
    """One operation; what it emitted, or the refusal."""
    try:
        if op == "record":
            return "emitted", [e.to_dict() for e in record(args)]
        return "emitted", [e.to_dict() for e in act(op, args)]
    except TransitionRefused as refused:
        return "refused", (refused.rule, refused.detail)
    except VoucherNotFound:
        return "not found", None


def sql_ledger() -> sessionmaker[Session]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    VoucherRow.metadata.create_all(engine)  # the ledger's tables and the outbox it writes
    return sessionmaker(engine)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(municipalities=st.lists(st.sampled_from(MUNICIPALITIES), min_size=1, max_size=4),
       steps=st.lists(step, max_size=30))
# a withdrawal takes back the case's latest strike: the referral names the strikes left standing
@example(municipalities=["dangjin"], steps=[
    ("finding", 0, kst(2027, 3, 3, 9), "discourtesy", "o-1"), ("finding", 0, kst(2027, 3, 10, 9), "discourtesy", "o-1"),
    ("withdraw", 0, kst(2027, 3, 10, 14), "discourtesy"), ("finding", 0, kst(2027, 3, 11, 9), "discourtesy", "o-1"),
    ("finding", 0, kst(2027, 3, 12, 9), "discourtesy", "o-1")])
# a flat amount waiting for the department head is not settled again at resolution; then approved
@example(municipalities=["seongnam"], steps=[
    ("breach", 0, DUE, "7d"), ("resolve", 0, kst(2027, 3, 15, 9)),
    ("approve", 0, "statutory_deadline_missed", kst(2027, 3, 15, 14)),
    ("deliver", 0, "statutory_deadline_missed", kst(2027, 3, 16, 9))])
# resolved before the breach arrives (settled at once); a monthly batch, issued, then delivered
@example(municipalities=["namhae", "gochang", "busan-gangseo-gu"], steps=[
    ("resolve", 0, kst(2027, 3, 15, 11)), ("breach", 0, DUE, "3h"), ("breach", 1, DUE, "7d"),
    ("breach", 2, DUE, "7d"), ("resolve", 2, kst(2027, 3, 15, 10)), ("issue_batch", "2027-03", kst(2027, 4, 1, 10)),
    ("deliver", 1, "statutory_deadline_missed", kst(2027, 4, 2, 10)), ("void", 2, DUE), ("again", 4)])
@pytest.mark.parametrize("batched", [False, True], ids=["a transaction per event", "one batch"])
def test_the_sql_ledger_and_the_in_memory_state_decide_the_same(batched: bool, municipalities: list[str],
                                                                 steps: list[tuple]) -> None:
    """``batched``: every event in one transaction, a savepoint each, as the worker decides a batch
    (rows added earlier in the batch must be found before they are flushed)."""
    ledger, sessions = Ledger(CHARTERS, CALENDAR), sql_ledger()
    remedies, memory = Remedies(CHARTERS, CALENDAR), InMemoryLedgerState()
    batch = sessions() if batched else None

    @contextmanager
    def transaction() -> Iterator[Session]:
        if batch is None:
            with sessions.begin() as s:
                yield s
            return
        try:
            with batch.begin_nested():
                yield batch
        except BaseException:
            batch.info.pop("ledger_added", None)  # as the worker does: the savepoint took its rows with it
            raise

    def sql_record(env: Envelope) -> list[Envelope]:
        with transaction() as s:
            return ledger.record(s, env, NOW)

    def sql_act(op: str, args: Any) -> list[Envelope]:
        with transaction() as s:
            if op == "issue_batch":
                return ledger.issue_batch(s, args[0], "clerk-1", args[1], visible=lambda case_id: True)
            voucher_id, at = args
            if op == "reject":
                return ledger.reject(s, voucher_id, "head-1", "민원인 귀책", at)
            return getattr(ledger, op)(s, voucher_id, "head-1", at)

    def memory_act(op: str, args: Any) -> list[Envelope]:
        if op == "issue_batch":
            return remedies.issue_batch(memory, args[0], "clerk-1", args[1], visible=lambda case_id: True)
        voucher_id, at = args
        if op == "reject":
            return remedies.reject(memory, voucher_id, "head-1", "민원인 귀책", at)
        return getattr(remedies, op)(memory, voucher_id, "head-1", at)

    for op, args in inputs(municipalities, steps):
        ours = run(op, args, sql_record, sql_act)
        if ours[0] == "emitted":  # findings go to their own topic (the strike counter's); the strike rows are compared below
            ours = ("emitted", [e for e in ours[1] if e["event_type"] not in ("StrikeRecorded", "StrikeWithdrawn")])
        theirs = run(op, args, lambda env: remedies.record(memory, env, NOW), memory_act)
        if theirs[0] == "emitted":  # the referral is the strike counter's (tests/integration/test_strike_counter.py)
            theirs = ("emitted", [e for e in theirs[1] if e["event_type"] != "PersonnelActionReferred"])
        assert ours == theirs, (op, args)
    if batch is not None:
        batch.commit()
        batch.close()

    with sessions() as s:
        state = SqlLedgerState(s)
        assert {i: state.voucher(i) for i in s.execute(select(VoucherRow.voucher_id)).scalars()} == memory.vouchers
        history: dict[str, list[tuple]] = {}
        for t in s.execute(select(VoucherTransitionRow).order_by(VoucherTransitionRow.seq)).scalars():
            history.setdefault(t.voucher_id, []).append((t.event_id, t.status, t.at, t.actor, t.amount_won, t.reason))
        assert history == {voucher_id: [(str(t.event_id), t.voucher.status, t.at, t.actor, t.voucher.amount_won,
                                         t.reason) for t in steps] for voucher_id, steps in memory.history.items()}
        assert sorted(s.execute(select(RemedyActionRow.action_id)).scalars()) == sorted(
            i for i, a in memory.actions.items() if a.kind != "referral")  # referrals: the strike counter's rows
        strikes = s.execute(select(StrikeRow)).scalars()
        assert {r.event_id: (r.agency_id, r.official_id, r.case_id, r.confirmed_at, r.withdrawn_at)
                for r in strikes} == {k: (v.agency_id, v.official_id, v.case_id, v.confirmed_at, v.withdrawn_at)
                                      for k, v in memory.strikes.items()}
