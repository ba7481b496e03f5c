"""The faust monitor's snapshot table across releases: a snapshot of facts written before the compact form
is folded on restore and rewritten compact at its case's next write; a snapshot this release cannot read
leaves its case waiting (reported, its later facts held), never misread and never fatal."""
from __future__ import annotations

import asyncio

import orjson

from shared.events import encode
from shared.events import petition as ev
from shared.working_time import WorkingCalendar
from tests.integration.test_live_and_replay_agree import (
    Clock,
    DictTable,
    InProcessFaust,
)
from tests.unit.test_obligations import OFFICIAL, Case, kst


def legacy(facts: list) -> bytes:
    """A snapshot as releases before the compact form wrote it: the case's facts and the clock's marks."""
    return orjson.dumps({"facts": [encode(f).decode() for f in facts], "marks": {"breached": [], "at_risk": []},
                         "parked": None, "held": []})


def test_a_snapshot_of_facts_is_folded_then_rewritten_compact(calendar: WorkingCalendar) -> None:
    case = Case()
    assigned = case.event(ev.OfficialAssigned(official=OFFICIAL), kst(2026, 11, 2, 11))
    key = case.case_id.encode()
    table, out = DictTable({key: legacy([case.received, assigned])}), []
    clock = Clock(kst(2026, 11, 2, 12))
    monitor = InProcessFaust(calendar, clock, table, out)
    monitor.rebuild()
    assert monitor.book.open_count() == 3 and not monitor.parked

    resolved = case.event(ev.PetitionResolved(outcome="accepted", explanation="done"), kst(2026, 11, 3, 10))
    clock.now = kst(2026, 11, 3, 10)
    asyncio.run(monitor.observe(resolved))
    assert {e.event_type for e in out} == {"ObligationDischarged"}
    written = orjson.loads(table[key])
    assert "facts" not in written and written["case"]["state"]["status"] == "resolved"

    again = InProcessFaust(calendar, clock, table, [])  # a restart reads the compact form
    again.rebuild()
    assert again.book.snapshot_of(case.case_id) == monitor.book.snapshot_of(case.case_id)


def test_a_snapshot_this_release_cannot_read_leaves_its_case_waiting(calendar: WorkingCalendar) -> None:
    case, other = Case(), Case()
    table = DictTable({case.case_id.encode(): orjson.dumps({"case": {"format": 99}, "parked": None, "held": []}),
                       other.case_id.encode(): legacy([other.received])})
    clock, out = Clock(kst(2026, 11, 2, 12)), []
    monitor = InProcessFaust(calendar, clock, table, out)
    monitor.rebuild()
    assert case.case_id in monitor.parked and other.case_id not in monitor.parked
    assert monitor.book.open_count() == 3  # the other case was restored

    later = case.event(ev.OfficialAssigned(official=OFFICIAL), kst(2026, 11, 2, 12))
    asyncio.run(monitor.on_message(_Message(later)))
    assert out == [] and orjson.loads(table[case.case_id.encode()])["held"] == [encode(later).decode()]
    assert orjson.loads(table[case.case_id.encode()])["case"] == {"format": 99}  # kept for a release that reads it


class _Message:
    def __init__(self, env: object) -> None:
        self.topic, self.partition, self.offset, self.timestamp = "petition-events", 0, 0, 0
        self.key, self.value = env.case_id.encode(), encode(env)  # type: ignore[attr-defined]
