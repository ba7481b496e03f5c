"""Notify's batch path, against a real SMTP server (aiosmtpd): what a batch reads ahead, the SMTP
connections it keeps open, and the addresses it refuses before any server hears them."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from services import wiring
from services.notify.channels.email import SmtpChannel, recipient
from services.notify.delivery import RetryPolicy
from services.sla_monitor.runner import read_all
from shared.events import encode
from shared.sealing import Erased, seal, unseal
from tests.e2e.harness import free_port
from tests.integration.test_notify import APPLICANT, Mailbox, c, outcomes, petition  # noqa: F401 (c: the fixture)

REFUSED = "nobody@example.kr"


class Relay(Mailbox):
    """The recording server of the notify tests, counting connections and greetings too; refuses one
    mailbox (550), as a relay would an unknown user."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: set[int] = set()
        self.greetings = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 (aiosmtpd's hook)
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address == REFUSED:
            return "550 5.1.1 user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        self.sessions.add(id(session))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    box = Relay()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def run(c, port: int, concurrency: int = 1) -> None:  # noqa: F811
    wiring.notify_worker(c, channels={"email": SmtpChannel("127.0.0.1", port, "당진시 <minwon@dangjin.go.kr>")},
                         policy=RetryPolicy(2, 0.01), concurrency=concurrency,
                         decisions_topic=None).run(poll_timeout=0.2, until_caught_up=True)


def test_every_event_twice_in_one_batch_decides_each_notice_once(c, relay) -> None:  # noqa: F811
    """The second copy of an event, in the same batch as the first, finds it among what the batch added
    (not yet in the database) and decides nothing: one commit, no duplicate delivery."""
    box, port = relay
    cases = [petition(c, channels=("email",)) for _ in range(3)]
    for case_id, events in cases:
        for e in events + events:
            c.log.append(c.topics.petition_events, case_id, encode(e))
    run(c, port)
    sent = [e for e in outcomes(c) if e.event_type == "NoticeSent" and e.payload.channel == "email"]
    assert len(box.messages) == len(sent) == 3 * 3
    assert len({e.payload.notice_id for e in sent}) == len(sent)


def test_one_connection_carries_many_messages_and_a_refusal_does_not_spoil_it(c, relay) -> None:  # noqa: F811
    """Sent one at a time, a batch's notices share a connection (one greeting for many messages); a
    recipient the relay refuses fails its notice alone, and the next goes out on a fresh connection."""
    box, port = relay
    good = [petition(c, channels=("email",)) for _ in range(4)]
    refused = petition(c, channels=("email",), applicant={**APPLICANT, "email": REFUSED})
    for case_id, events in [good[0], refused, *good[1:]]:
        for e in events:
            c.log.append(c.topics.petition_events, case_id, encode(e))
    run(c, port)
    assert len(box.messages) == 4 * 3
    assert box.greetings < len(box.messages) / 2 and len(box.sessions) < len(box.messages) / 2
    failed = [e for e in outcomes(c) if e.event_type == "NoticeFailed" and e.case_id == refused[0]
              and e.payload.channel == "email"]
    assert failed and {e.payload.error_class for e in failed} == {"smtp_recipient_refused"}
    assert {m["To"] for m in box.messages} == {APPLICANT["email"]}
    assert {m["Subject"] for m in box.messages} == {"[당진시] 민원 접수 안내", "[당진시] 민원 처리기간 연장 안내",
                                                    "[당진시] 민원 처리 완료 안내"}
    assert {str(m["From"]) for m in box.messages} == {"당진시 <minwon@dangjin.go.kr>"}


@pytest.mark.parametrize("address", [
    "a@example.kr, b@example.kr",  # a list: one notice must reach one applicant
    "a@example.kr\r\nBcc: b@example.kr",  # a header smuggled in
    "김민원 <a@example.kr>",  # a display name is no address
    "not an address", "a@", "@example.kr", "a b@example.kr",
])
def test_an_address_that_is_no_single_mailbox_is_refused_before_any_server_hears_it(c, relay, address) -> None:  # noqa: F811
    box, port = relay
    case_id, events = petition(c, channels=("email",), applicant={**APPLICANT, "email": address})
    for e in events:
        c.log.append(c.topics.petition_events, case_id, encode(e))
    run(c, port)
    assert box.messages == [] and box.greetings == 0
    failed = [e for e in outcomes(c) if e.event_type == "NoticeFailed" and e.payload.channel == "email"]
    assert failed and {(e.payload.error_class, e.payload.attempts) for e in failed} == {("smtp_bad_address", 1)}


def test_an_internationalised_address_keeps_its_letters() -> None:
    assert recipient("김민원@예시.kr") == "김민원@예시.kr"
    assert recipient(" a.b+c@example.kr ") == "a.b+c@example.kr"
    assert recipient("김민원@예시.kr\nBcc: x@y.kr") is None


def test_keys_read_for_a_batch_open_as_the_vault_does_and_see_an_erasure_made_before(c) -> None:  # noqa: F811
    keys = wiring.case_keys(c)
    live, erased, missing = "case-live", "case-erased", "case-never-keyed"
    keys.prepare(live)
    keys.prepare(erased)
    sealed = seal(keys, {"email": "a@example.kr"}, live)
    keys.erase(erased, "test")
    scoped = keys.scoped([live, erased, missing])
    assert unseal(scoped, sealed, live) == {"email": "a@example.kr"}
    assert scoped.sealing_key(live) == keys.sealing_key(live)
    assert scoped.sealing_key(missing) == keys.sealing_key(missing)  # filed before per-case keys: the keyring's
    with pytest.raises(Erased):
        scoped.sealing_key(erased)
    with pytest.raises(Erased):
        scoped.opening_key("case", missing)
    assert scoped.sealing_key("outside-the-scope") == keys.sealing_key("outside-the-scope")


def test_a_stored_event_that_no_longer_decodes_parks_its_case_alone(c, relay) -> None:  # noqa: F811
    """A batch reads its cases' stored events ahead; one that cannot be read must not stop the batch (and
    with it every case): its case's event is refused and parked, the others are decided."""
    from sqlalchemy import update

    from services.notify.store.orm import NotifyCaseEventRow

    box, port = relay
    broken, healthy = petition(c, channels=("email",)), petition(c, channels=("email",))
    for case_id, events in (broken, healthy):
        c.log.append(c.topics.petition_events, case_id, encode(events[0]))
    run(c, port)
    db = c.database("notify")
    with db.sessions.begin() as s:
        s.execute(update(NotifyCaseEventRow).where(NotifyCaseEventRow.case_id == broken[0]).values(envelope="{not json"))
    for case_id, events in (broken, healthy):
        for e in events[1:]:
            c.log.append(c.topics.petition_events, case_id, encode(e))
    run(c, port)
    kinds = [m["Subject"] for m in box.messages]
    assert kinds.count("[당진시] 민원 접수 안내") == 2 and kinds.count("[당진시] 민원 처리 완료 안내") == 1
    parked = read_all(c.log, c.topics.dead_letter)[0]
    assert parked and {r.key for r in parked} == {broken[0]}
