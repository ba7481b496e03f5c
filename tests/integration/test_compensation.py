"""Compensation from events to ledger, on SQLite and PostgreSQL: every cause, every policy kind,
reversals, and the redelivery and crash cases that must still yield one voucher."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from services.compensation.ledger.book import (
    FINDINGS,
    Ledger,
    TransitionRefused,
    strike_counts,
)
from services.compensation.ledger.orm import (
    RemedyActionRow,
    StrikeRow,
    VoucherRow,
    VoucherTransitionRow,
)
from services.compensation.schema import CHAIN, RUNTIME, OutboxRow
from services.compensation.strikes.counter import SqlStrikeTally
from services.compensation.strikes.orm import OfficialStrikeRow
from services.platform.db.engine import make_engine, make_sessionmaker, migrate
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.topics import Topics
from services.platform.outbox.publisher import Outbox
from services.sla_monitor.runner import read_all
from shared.charters import CharterBook
from shared.compensation.strikes import StrikeCounter
from shared.events import Envelope, decode, encode, sla
from shared.events import petition as ev
from shared.holiday_source import korean_calendar
from tests.unit.test_obligations import Case, kst

CHARTERS = CharterBook.bundled()
CALENDAR = korean_calendar()
NOW = kst(2027, 4, 1, 9)


@pytest.fixture
def sessions(database_url: str) -> Iterator:
    engine = make_engine(database_url)
    migrate(engine, CHAIN)  # the ledger's own tables: nothing else is needed
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(CHARTERS, CALENDAR)


def breach(case: Case, due: datetime, period: str = "7d", kind: str = "statutory_deadline",
           citizen_facing: bool = True) -> Envelope:
    proof = sla.Proof(rule="Act 19", started_at=case.received.occurred_at, period=period, counting="working_days",
                      calendar_version=CALENDAR.version, basis_event_id=str(case.received.event_id))
    payload = sla.ObligationBreached(obligation_id=kind, kind=kind, due_at=due, citizen_facing=citizen_facing,
                                     severity="breach" if citizen_facing else "warning", proof=proof)
    return Envelope(event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{case.case_id}|{kind}|{due}"), case_id=case.case_id,
                    case_version=case.version, occurred_at=due, recorded_at=due, producer="sla_monitor",
                    payload=payload, charter=case.received.charter)


def voided(case: Case, due: datetime) -> Envelope:
    payload = sla.ObligationDischarged(obligation_id="statutory_deadline", kind="statutory_deadline", due_at=due,
                                       citizen_facing=True, discharged_by_event_id="e-resolved", on_time=True,
                                       voids_breach=True)
    return Envelope(event_id=uuid.uuid4(), case_id=case.case_id, case_version=case.version, occurred_at=due,
                    recorded_at=due, producer="sla_monitor", payload=payload, charter=case.received.charter)


def feed(sessions, ledger: Ledger, *events: Envelope) -> list[Envelope]:
    """The ledger's decisions; its strikes (findings, keyed by official) go through the strike counter, as
    the counter reads them from the findings topic, and the referrals it decides are in the result."""
    out: list[Envelope] = []
    for env in events:
        with sessions.begin() as s:
            decided = ledger.record(s, env, NOW)
        out += [e for e in decided if not isinstance(e.payload, FINDINGS)]
        for finding in (e for e in decided if isinstance(e.payload, FINDINGS)):
            with sessions.begin() as s:
                out += StrikeCounter(CHARTERS).record(SqlStrikeTally(s), finding, NOW)
    return out


def types(events: list[Envelope]) -> list[str]:
    return [e.event_type for e in events]


def vouchers(sessions, case: Case | None = None) -> list[VoucherRow]:
    with sessions() as s:
        q = select(VoucherRow)
        if case is not None:
            q = q.where(VoucherRow.case_id == case.case_id)
        return list(s.execute(q).scalars())


def test_a_missed_statutory_deadline_pays_the_flat_voucher_with_an_apology(sessions, ledger) -> None:
    case = Case(municipality="dangjin", at=kst(2027, 3, 2, 10))
    out = feed(sessions, ledger, case.received, breach(case, kst(2027, 3, 11, 18)))
    assert types(out) == ["VoucherProposed", "VoucherApproved", "VoucherIssued", "ApologyOwed"]
    proposed = out[0].payload
    assert proposed.amount_won == 10_000 and proposed.voucher_kind == "gift_certificate" and proposed.settled
    assert proposed.policy.promise_id == "D10" and out[0].charter.charter_id == "dangjin"
    assert out[0].occurred_at == kst(2027, 3, 11, 18) and out[0].recorded_at == NOW
    [row] = vouchers(sessions, case)
    assert (row.status, row.amount_won, row.approved_by) == ("issued", 10_000, "policy")


def test_a_charter_target_warning_never_compensates(sessions, ledger) -> None:
    case = Case(municipality="dangjin", at=kst(2027, 3, 2, 10))
    out = feed(sessions, ledger, case.received,
               breach(case, kst(2027, 3, 9, 10), kind="charter_target", citizen_facing=False))
    assert out == [] and vouchers(sessions, case) == []


def test_yeonje_gu_repeat_visit_and_administrative_error_one_voucher_per_cause(sessions, ledger) -> None:
    case = Case(municipality="yeonje-gu", at=kst(2027, 3, 2, 10))
    visit = ev.RepeatVisitRecorded(official_id="o-1", cause="서류 안내 누락")
    out = feed(sessions, ledger, case.received, case.event(visit, kst(2027, 3, 3, 10)),
               case.event(visit, kst(2027, 3, 4, 10)),  # a second repeat visit: still one voucher for the cause
               case.event(ev.AdministrativeErrorConfirmed(description="주소 오기"), kst(2027, 3, 5, 10)))
    causes = sorted((r.cause, r.amount_won, r.status, r.promise_id) for r in vouchers(sessions, case))
    assert causes == [("administrative_error", 10_000, "issued", "Y3"), ("repeat_visit", 10_000, "issued", "Y3")]
    assert types(out).count("ApologyOwed") == 2


def test_dangjin_insincere_handling_pays_once_confirmed(sessions, ledger) -> None:
    case = Case(municipality="dangjin", at=kst(2027, 3, 2, 10))
    feed(sessions, ledger, case.received,
         case.event(ev.InsincereHandlingConfirmed(official_id="o-2", finding="불성실 응대"), kst(2027, 3, 8, 10)))
    [row] = vouchers(sessions, case)
    assert (row.cause, row.amount_won, row.official_id) == ("insincere_handling", 10_000, "o-2")


def test_the_third_discourtesy_strike_raises_a_personnel_referral(sessions, ledger) -> None:
    out: list[Envelope] = []
    for day in (3, 10, 17):
        case = Case(municipality="dangjin", at=kst(2027, 3, day, 10))
        out += feed(sessions, ledger, case.received,
                    case.event(ev.DiscourtesyConfirmed(official_id="o-9", finding="불친절"), kst(2027, 3, day, 15)))
    assert types(out).count("RetrainingOrdered") == 3 and types(out).count("ApologyOwed") == 3
    [referral] = [e for e in out if e.event_type == "PersonnelActionReferred"]
    assert referral.payload.official_id == "o-9" and referral.payload.strikes == 3
    assert len(referral.payload.strike_event_ids) == 3 and referral.payload.promise_id == "D11"
    assert vouchers(sessions) == []  # discourtesy: no voucher in Dangjin's charter


def test_strikes_and_referrals_count_one_agencys_official(sessions, ledger) -> None:
    """Officials are their agency's: agency B's "o-17" is someone else than agency A's "o-17", so B's
    findings never push A's official towards the referral (D11: three strikes)."""
    def finding(agency: str, day: int) -> list[Envelope]:
        case = Case(municipality="dangjin", at=kst(2027, 3, day, 10), agency=agency)
        return feed(sessions, ledger, case.received,
                    case.event(ev.DiscourtesyConfirmed(official_id="o-17", finding="불친절"), kst(2027, 3, day, 15)))

    out = finding("agency-a", 3) + finding("agency-a", 4)
    for day in (10, 11):
        out += finding("agency-b", day)
    assert "PersonnelActionReferred" not in types(out)  # four strikes on "o-17": two in each agency
    third_b = finding("agency-b", 12)
    [referral] = [e for e in third_b if e.event_type == "PersonnelActionReferred"]
    with sessions() as s:
        b_strikes = s.execute(select(StrikeRow.event_id).where(StrikeRow.agency_id == "agency-b")
                              .order_by(StrikeRow.confirmed_at)).scalars().all()
        assert tuple(b_strikes) == referral.payload.strike_event_ids and referral.payload.strikes == 3
        assert strike_counts(s, "agency-a") == [("o-17", 2, 0)] and strike_counts(s, "agency-b") == [("o-17", 3, 0)]
        assert strike_counts(s, "agency-c") == []
        counted = s.execute(select(OfficialStrikeRow.agency_id, func.count()).group_by(OfficialStrikeRow.agency_id))
        assert sorted(counted.all()) == [("agency-a", 2), ("agency-b", 3)]  # the counter's own, by official
    third_a = finding("agency-a", 17)
    [referral] = [e for e in third_a if e.event_type == "PersonnelActionReferred"]
    assert referral.payload.strikes == 3 and not set(referral.payload.strike_event_ids) & set(b_strikes)


def test_strikes_of_the_one_agency_schema_get_their_cases_agency(tmp_path: Path) -> None:
    """Migration 0002: strikes written before they were kept per agency take their case's agency, and
    the official's lock is kept per (agency, official)."""
    from alembic import command

    from services.platform.db.engine import alembic_config

    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    cfg = alembic_config(engine.url.render_as_string(hide_password=False), CHAIN.location)
    cfg.attributes["version_table"] = CHAIN.version_table
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO compensation_cases (case_id, agency_id) VALUES ('c-a', 'agency-a'), "
                          "('c-b', 'agency-b')"))
        conn.execute(text("INSERT INTO strikes (event_id, official_id, case_id, confirmed_at) VALUES "
                          "('e1', 'o-17', 'c-a', '2027-03-03 06:00:00'), ('e2', 'o-17', 'c-b', '2027-03-04 06:00:00'),"
                          "('e3', 'o-17', 'c-lost', '2027-03-05 06:00:00')"))
        conn.execute(text("INSERT INTO official_locks (official_id) VALUES ('o-17')"))
    migrate(engine, CHAIN)
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT event_id, agency_id FROM strikes")).all()) == [
            ("e1", "agency-a"), ("e2", "agency-b"), ("e3", "")]  # a case never received: no agency's
        assert sorted(conn.execute(text("SELECT agency_id, official_id FROM official_locks")).all()) == [
            ("", "o-17"), ("agency-a", "o-17"), ("agency-b", "o-17")]
    with make_sessionmaker(engine)() as s:
        assert strike_counts(s, "agency-a") == [("o-17", 1, 0)]
    engine.dispose()


def test_yeonje_gu_discourtesy_orders_retraining_only(sessions, ledger) -> None:
    out: list[Envelope] = []
    for day in (3, 4, 5):
        case = Case(municipality="yeonje-gu", at=kst(2027, 3, day, 10))
        out += feed(sessions, ledger, case.received,
                    case.event(ev.DiscourtesyConfirmed(official_id="o-7", finding="전화 불친절"), kst(2027, 3, day, 15)))
    assert types(out) == ["RetrainingOrdered"] * 3  # Y4: no apology promised, no referral threshold


@pytest.mark.parametrize(("period", "resolved", "amount"), [
    ("3h", kst(2027, 3, 2, 15), 5_000),  # due 14:00 (3 working hours, lunch excluded); one hour late
    ("3h", kst(2027, 3, 2, 16, 30), 7_000),  # 3 started hours late: 5,000 + 2 x 1,000
    ("7d", kst(2027, 3, 15, 11), 15_000),  # due Thu 18:00; Fri 8 h + Mon 2 h late: 2 started days: 10,000 + 5,000
    ("7d", kst(2027, 4, 15, 11), 30_000),  # weeks late: capped
])
def test_namhae_escalates_and_settles_at_resolution(sessions, ledger, period: str, resolved: datetime,
                                                     amount: int) -> None:
    case = Case(municipality="namhae", at=kst(2027, 3, 2, 10))
    due = kst(2027, 3, 2, 14) if period == "3h" else kst(2027, 3, 11, 18)
    out = feed(sessions, ledger, case.received, breach(case, due, period=period))
    assert types(out) == ["VoucherProposed", "ApologyOwed"] and not out[0].payload.settled
    with sessions.begin() as s, pytest.raises(TransitionRefused):
        ledger.approve(s, out[0].payload.voucher_id, "head-1", NOW)  # not before the amount is settled
    out = feed(sessions, ledger, case.event(ev.PetitionResolved(outcome="accepted", explanation="완료"), resolved))
    assert types(out) == ["VoucherSettled", "VoucherApproved", "VoucherIssued"]
    assert out[0].payload.amount_won == amount and out[0].payload.lateness.completed_at == resolved
    [row] = vouchers(sessions, case)
    assert (row.status, row.amount_won, row.settled) == ("issued", amount, True)


def test_seongnam_waits_for_the_department_head(sessions, ledger) -> None:
    case = Case(municipality="seongnam", at=kst(2027, 3, 2, 10))
    other = Case(municipality="seongnam", at=kst(2027, 3, 2, 10))
    out = feed(sessions, ledger, case.received, other.received, breach(case, kst(2027, 3, 11, 18)),
               breach(other, kst(2027, 3, 11, 18)))
    assert types(out) == ["VoucherProposed", "ApologyOwed"] * 2
    with sessions.begin() as s:
        approved = ledger.approve(s, out[0].payload.voucher_id, "head-1", NOW)
        rejected = ledger.reject(s, out[2].payload.voucher_id, "head-1", "민원인 귀책", NOW)
    assert types(approved) == ["VoucherApproved", "VoucherIssued"] and approved[0].payload.approved_by == "head-1"
    assert types(rejected) == ["VoucherCancelled"] and "민원인 귀책" in rejected[0].payload.reason
    with sessions.begin() as s, pytest.raises(TransitionRefused):
        ledger.approve(s, out[2].payload.voucher_id, "head-1", NOW)  # a rejected voucher stays rejected


def test_gochang_pays_in_a_monthly_batch(sessions, ledger) -> None:
    case = Case(municipality="gochang", at=kst(2027, 3, 2, 10))
    out = feed(sessions, ledger, case.received, breach(case, kst(2027, 3, 11, 18)))
    assert types(out) == ["VoucherProposed", "VoucherApproved", "ApologyOwed"]
    [row] = vouchers(sessions, case)
    assert (row.status, row.batch_month, row.voucher_kind) == ("approved", "2027-03", "culture_voucher")
    with sessions.begin() as s:
        issued = ledger.issue_batch(s, "2027-03", "clerk-1", NOW, visible=lambda case_id: True)
    assert types(issued) == ["VoucherIssued"] and issued[0].payload.batch_month == "2027-03"


@pytest.mark.parametrize(("resolved", "status", "amount"), [
    (kst(2027, 3, 12, 13), "cancelled", 0),  # 4 working hours late: less than a day
    (kst(2027, 3, 15, 10), "approved", 10_000),  # 9 working hours late
])
def test_busan_gangseo_gu_pays_from_one_day_late(sessions, ledger, resolved: datetime, status: str,
                                                 amount: int) -> None:
    case = Case(municipality="busan-gangseo-gu", at=kst(2027, 3, 2, 10))
    feed(sessions, ledger, case.received, breach(case, kst(2027, 3, 11, 18)),
         case.event(ev.PetitionResolved(outcome="accepted", explanation="완료"), resolved))
    [row] = vouchers(sessions, case)
    assert (row.status, row.amount_won, row.voucher_kind) == (status, amount, "bank_transfer")


def test_reversals_cancel_with_a_reason_and_keep_the_row(sessions, ledger) -> None:
    case = Case(municipality="yeonje-gu", at=kst(2027, 3, 2, 10))
    due = kst(2027, 3, 11, 18)
    dangjin = Case(municipality="dangjin", at=kst(2027, 3, 2, 10))
    feed(sessions, ledger, case.received, dangjin.received,
         case.event(ev.RepeatVisitRecorded(official_id="o-1", cause="안내 오류"), kst(2027, 3, 3, 10)),
         breach(dangjin, due))
    out = feed(sessions, ledger, case.event(ev.FindingWithdrawn(finding="repeat_visit", reason="민원인 착오로 확인"),
                                            kst(2027, 3, 4, 10)),
               voided(dangjin, due), voided(dangjin, due))  # the void redelivered: one cancellation
    assert types(out) == ["VoucherCancelled", "VoucherCancelled"]
    rows = {r.case_id: r for r in vouchers(sessions)}
    assert rows[case.case_id].status == "cancelled" and "민원인 착오" in rows[case.case_id].cancel_reason
    assert rows[dangjin.case_id].status == "cancelled" and "breach voided" in rows[dangjin.case_id].cancel_reason
    with sessions() as s:
        steps = list(s.execute(select(VoucherTransitionRow.status).where(
            VoucherTransitionRow.voucher_id == rows[case.case_id].voucher_id).order_by(VoucherTransitionRow.seq)).scalars())
    assert steps == ["proposed", "approved", "issued", "cancelled"]


def test_redelivered_five_times_and_killed_around_the_ledger_commit_still_one_voucher(
        sessions, ledger, tmp_path: Path) -> None:
    from services.compensation.worker import NAME, LedgerHandler
    from services.platform.consumer import Consumer

    log = EmbeddedLog(tmp_path / "log.db")
    topics = Topics("")
    log.create_topics(topics.specs())
    case = Case(municipality="dangjin", at=kst(2027, 3, 2, 10))
    log.append(topics.petition_events, case.case_id, encode(case.received))
    b = breach(case, kst(2027, 3, 11, 18))
    for _ in range(5):
        log.append(topics.sla_events, case.case_id, encode(b))
    outbox = Outbox(log, topics.compensation_events, sessions, OutboxRow, "compensation")

    class Killed(Exception):
        pass

    class DiesMidBatch(LedgerHandler):
        """The process dies inside the transaction, after the ledger rows were written."""
        def handle(self, session, env, raw):  # type: ignore[no-untyped-def]
            out = super().handle(session, env, raw)
            if env.producer == "sla_monitor":
                raise ConnectionError("killed mid-batch")
            return out

    def consumer(handler: LedgerHandler, after_commit=lambda: None) -> Consumer:  # type: ignore[no-untyped-def]
        return Consumer(NAME, log, [topics.petition_events, topics.sla_events], sessions, RUNTIME, handler,
                        topics.dead_letter, topics.dead_letter_decisions, lambda: NOW, after_commit=after_commit)

    with pytest.raises(ConnectionError):  # transient: the batch rolls back, nothing is committed
        consumer(DiesMidBatch(ledger, lambda: NOW)).run(poll_timeout=0.2, until_caught_up=True)
    assert not vouchers(sessions, case)
    with sessions() as s:
        assert s.execute(select(func.count()).select_from(RUNTIME.position)).scalar_one() == 0

    calls = []

    def kill_after_commit() -> None:
        calls.append(1)
        if len(calls) > 1:  # the first call publishes leftovers at start; the second follows the commit
            raise Killed

    with pytest.raises(Killed):
        consumer(LedgerHandler(ledger, lambda: NOW), kill_after_commit).run(poll_timeout=0.2, until_caught_up=True)
    with sessions() as s:  # the ledger and the positions committed together; the outbox is not published yet
        assert s.execute(select(func.count()).select_from(OutboxRow).where(OutboxRow.published.is_(False))
                         ).scalar_one() == 4
    consumer(LedgerHandler(ledger, lambda: NOW), outbox.publish).run(poll_timeout=0.2, until_caught_up=True)
    assert len(vouchers(sessions, case)) == 1
    with sessions() as s:
        assert s.execute(select(func.count()).select_from(RemedyActionRow)).scalar_one() == 1  # one apology
        assert s.execute(select(func.count()).select_from(OutboxRow).where(OutboxRow.published.is_(False))
                         ).scalar_one() == 0
    published = [decode(r.value) for r in read_all(log, topics.compensation_events)[0]]
    assert sorted(types(published)) == ["ApologyOwed", "VoucherApproved", "VoucherIssued", "VoucherProposed"]


def test_a_refused_breach_in_a_batch_runs_it_again_with_savepoints_and_decides_the_rest_once(
        sessions, ledger, tmp_path: Path) -> None:
    """The worker runs a batch without a savepoint per event (its rows flushed together) and with the
    batch's cases read up front; one refused event rolls that back and the batch runs again, each event in
    its own savepoint: the refused one parked, every other decided once, each outcome counted once."""
    from services.compensation.worker import NAME, LedgerHandler
    from services.platform.consumer import Consumer

    log = EmbeddedLog(tmp_path / "log.db")
    topics = Topics("")
    log.create_topics(topics.specs())
    cases = [Case(municipality="dangjin", at=kst(2027, 3, 2, 10)) for _ in range(6)]
    for case in cases:
        log.append(topics.petition_events, case.case_id, encode(case.received))
    sick = breach(cases[2], kst(2027, 3, 11, 18))
    for case in cases:
        b = breach(case, kst(2027, 3, 11, 18))
        for _ in range(2):  # each breach delivered twice in the one batch
            log.append(topics.sla_events, case.case_id, encode(b))

    class RefusesOne(LedgerHandler):
        runs: list[bool] = []

        def handle(self, session, env, raw):  # type: ignore[no-untyped-def]
            out = super().handle(session, env, raw)
            if env.event_id == sick.event_id:
                raise ValueError("a breach this ledger cannot decide")
            return out

    assert LedgerHandler.optimistic
    consumer = Consumer(NAME, log, [topics.petition_events, topics.sla_events], sessions, RUNTIME,
                        RefusesOne(ledger, lambda: NOW), topics.dead_letter, topics.dead_letter_decisions,
                        lambda: NOW, retry_delay=0.001)
    consumer.run(poll_timeout=0.2, until_caught_up=True)
    rows = vouchers(sessions)
    assert sorted(r.case_id for r in rows) == sorted(c.case_id for c in cases if c is not cases[2])
    with sessions() as s:
        assert s.execute(select(func.count()).select_from(RemedyActionRow)).scalar_one() == 5  # one apology each
        assert s.execute(select(func.count()).select_from(OutboxRow)).scalar_one() == 5 * 4
        held = list(s.execute(select(RUNTIME.held.case_id, RUNTIME.held.state)))
    assert sorted(held) == sorted([(cases[2].case_id, "parked"), (cases[2].case_id, "held")])
    [entry] = read_all(log, topics.dead_letter)[0]
    assert b"cannot decide" in entry.value
    counted = {s.labels["outcome"]: s.value for m in consumer.metrics.registry.collect() for s in m.samples
               if s.name == "charterwatch_consumer_events_total"}
    assert counted == {"handled": 6 + 5 * 2, "parked": 1}
    assert consumer.handled == 6 + 5 * 2
