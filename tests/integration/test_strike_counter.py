"""Strikes by official on their own topic, counted exactly once (on each log and each database).

The ledger publishes each confirmed discourtesy, keyed ``agency/official``, on the findings topic; the
strike counter counts them and raises the referral at the third (D11, Dangjin). A counter that dies
after counting, before committing, counts nothing; one that dies after committing, before publishing,
leaves the referral in the outbox, published once at the next start; strikes delivered again add no
strike and no referral. The processes die as ``kill -9`` would (``services.platform.failpoints``).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services import wiring
from services.bootstrap import Container
from services.compensation.ledger.orm import RemedyActionRow
from services.compensation.strikes.orm import OfficialStrikeRow
from services.platform.log.reading import read_all
from shared.compensation.strikes import stream_key
from shared.events import decode, encode
from shared.events import petition as ev
from tests.unit.test_obligations import Case, kst

ROOT = Path(__file__).resolve().parents[2]


def child() -> None:
    """The strike counter in a process of its own, on the test's log and database (its environment)."""
    from services.platform.log.kafka import KafkaLog
    from tests.integration.conftest import make_container

    data = Path(os.environ["STRIKES_DATA_DIR"])
    bootstrap = os.environ.get("STRIKES_KAFKA")
    c = make_container(data, os.environ["STRIKES_DATABASE_URL"], create_topics=False,
                       log=KafkaLog(bootstrap) if bootstrap else None,
                       **({"topic_prefix": os.environ["STRIKES_PREFIX"]} if bootstrap else {}))
    wiring.strike_counter(c).run(poll_timeout=0.2, until_caught_up=True)
    c.close()


def run_child(c: Container, failpoint: str) -> int:
    from services.platform.log.kafka import KafkaLog

    env = {**os.environ, "CHARTERWATCH_FAILPOINT": failpoint, "STRIKES_DATA_DIR": str(c.settings.data_dir),
           "STRIKES_DATABASE_URL": c.settings.database_url or ""}
    if isinstance(c.log, KafkaLog):
        env.update(STRIKES_KAFKA=c.log.bootstrap_servers, STRIKES_PREFIX=c.topics.prefix)
    done = subprocess.run([sys.executable, "-c", "from tests.integration.test_strike_counter import child; child()"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    return done.returncode


def referrals(c: Container) -> list[str]:
    return [str(decode(r.value).event_id) for r in read_all(c.log, c.topics.compensation_events)[0]
            if decode(r.value).event_type == "PersonnelActionReferred"]


def counted(c: Container) -> tuple[int, int]:
    with c.database("compensation").sessions() as s:
        strikes = s.scalar(select(func.count()).select_from(OfficialStrikeRow))
        actions = s.scalar(select(func.count()).select_from(RemedyActionRow).where(RemedyActionRow.kind == "referral"))
    return int(strikes or 0), int(actions or 0)


def count_until(c: Container, done, limit: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Run the counter until ``done`` (on Kafka, the dead process's member holds its partitions until its
    session times out: a run meanwhile reads only the others)."""
    deadline = time.monotonic() + limit
    while True:
        wiring.strike_counter(c).run(poll_timeout=0.2, until_caught_up=True)
        if done():
            return
        if time.monotonic() > deadline:
            pytest.fail("the strike counter never caught up")


def test_strikes_are_counted_once_through_crashes_and_redelivery(container: Container) -> None:
    c = container
    for day in (3, 10, 17):  # three of Dangjin's cases, one official (D11: referral at the third strike)
        case = Case(municipality="dangjin", at=kst(2027, 3, day, 10), agency="agency-a")
        found = case.event(ev.DiscourtesyConfirmed(official_id="o-9", finding="불친절"), kst(2027, 3, day, 15))
        c.log.append_many(c.topics.petition_events, [(e.case_id, encode(e)) for e in (case.received, found)])
    wiring.compensation_consumer(c).run(poll_timeout=0.2, until_caught_up=True)
    findings = read_all(c.log, c.topics.finding_events)[0]
    assert [decode(r.value).event_type for r in findings] == ["StrikeRecorded"] * 3
    assert {r.key for r in findings} == {stream_key("agency-a", "o-9")}  # keyed by the official, not the case
    assert referrals(c) == []  # the ledger no longer counts: the counter does

    # dies after counting the third strike, before its batch commits: nothing was counted
    assert run_child(c, "strike_counted") == 137
    assert counted(c) == (0, 0) and referrals(c) == []
    # dies after committing the referral, before publishing it: counted, in the outbox, not on the log
    count_until_child = run_child(c, "referral_committed")
    assert count_until_child == 137
    assert counted(c) == (3, 1) and referrals(c) == []
    # the next start publishes what the crash left in the outbox
    count_until(c, lambda: len(referrals(c)) == 1)
    [referral] = referrals(c)

    # the same strikes delivered again (a relay repeating itself): no strike, no referral more
    c.log.append_many(c.topics.finding_events, [(r.key, r.value) for r in findings])
    count_until(c, lambda: True)
    wiring.strike_counter(c).run(poll_timeout=0.2, until_caught_up=True)
    assert counted(c) == (3, 1) and referrals(c) == [referral]
    [event] = [decode(r.value) for r in read_all(c.log, c.topics.compensation_events)[0]
               if str(decode(r.value).event_id) == referral]
    assert event.payload.strikes == 3 and event.payload.official_id == "o-9" and event.payload.promise_id == "D11"
