"""Topics delivered in adversarial order: notify and compensation read the derived topics (SLA,
compensation) before the petition facts they depend on. What they decide must not change: each
event waits for its facts, then is judged as the case was at that event, once."""
from __future__ import annotations

from pathlib import Path

from services import wiring
from services.compensation.schema import RUNTIME as COMPENSATION_RUNTIME
from services.notify.channels.files import FileChannel
from services.notify.channels.inbox import InboxChannel
from services.notify.delivery import RetryPolicy
from services.notify.schema import RUNTIME as NOTIFY_RUNTIME
from services.platform.log.embedded import EmbeddedLog
from services.sla_monitor.runner import read_all
from shared.events import decode
from tests.integration.conftest import make_container
from tests.integration.test_audit_replay import T0, Clock, World, scripted


def held(c, **where: str) -> int:  # type: ignore[no-untyped-def]
    """Events held back by compensation's and notify's consumers (each keeps its own)."""
    total = 0
    for service, runtime in (("compensation", COMPENSATION_RUNTIME), ("notify", NOTIFY_RUNTIME)):
        with c.database(service).sessions() as s:
            total += s.query(runtime.held).filter_by(**where).count()
    return total


def decided(c, tmp: Path, clock: Clock) -> tuple[set, set]:  # type: ignore[no-untyped-def]
    t = c.topics
    for loop in [wiring.compensation_consumer(c)]:
        loop.run(poll_timeout=0.2, until_caught_up=True)
    wiring.notify_worker(c, channels={"sms": FileChannel(tmp / "sms"), "email": FileChannel(tmp / "email"),
                                      "inbox": InboxChannel(c.database("notify").sessions, clock)},
                         policy=RetryPolicy(2, 0.01), decisions_topic=None).run(poll_timeout=0.2, until_caught_up=True)
    notices = {(e.payload.notice_id, e.payload.kind) for e in map(decode, (
        r.value for r in read_all(c.log, t.notice_events)[0])) if e.event_type == "NoticeSent"}
    remedies = {str(e.event_id) for e in map(decode, (r.value for r in read_all(c.log, t.compensation_events)[0]))
                if e.producer == "compensation"}
    return notices, remedies


def test_derived_topics_read_first_change_nothing(tmp_path: Path) -> None:
    clock = Clock(T0)
    live = make_container(tmp_path / "live", f"sqlite:///{tmp_path / 'live.db'}", clock=clock)
    world = World(live, clock, tmp_path / "live")
    try:
        scripted(world)
        t = live.topics
        source = {topic: read_all(live.log, topic)[0] for topic in (t.petition_events, t.sla_events)}
        expected_notices = {(e.payload.notice_id, e.payload.kind) for e in map(decode, (
            r.value for r in read_all(live.log, t.notice_events)[0])) if e.event_type == "NoticeSent"}
        expected_remedies = {str(e.event_id) for e in map(decode, (
            r.value for r in read_all(live.log, t.compensation_events)[0]))}
    finally:
        world.stop_monitor()
        live.close()
    assert expected_notices and expected_remedies

    # The same facts, on a fresh log and fresh databases: first only the SLA events (the monitor's topic
    # ran ahead), every service run to the end of what it can read; then the petition facts arrive.
    # every service's database fresh, but the vault's: the cases' data keys are not the services' to rebuild
    fresh = make_container(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}", clock=clock,
                           vault_database_url=f"sqlite:///{tmp_path / 'live.db'}",
                           log=EmbeddedLog(tmp_path / "fresh" / "log.db"))
    try:
        for r in source[t.sla_events]:
            fresh.log.append(t.sla_events, r.key, r.value)
        assert decided(fresh, tmp_path / "fresh", clock) == (set(), set())  # nothing known: everything waits
        assert held(fresh, state="waiting") > 0
        for r in source[t.petition_events]:
            fresh.log.append(t.petition_events, r.key, r.value)
        notices, remedies = decided(fresh, tmp_path / "fresh", clock)
        # officials' own decisions (approvals made over HTTP) are not replayed here: only what the events decide
        assert notices == expected_notices
        assert remedies <= expected_remedies and remedies
        assert held(fresh) == 0
    finally:
        fresh.close()
