"""Personal data over its lifetime: a case's personal data is erased by destroying its data key
(crypto-shredding). The walk-through: a petition is filed, notified, breached and compensated; its
personal data is erased; then no plaintext of it remains anywhere under the data dir (the log, every
service's database, outgoing files, dead letters), the sealed copies cannot be opened, and the audit
still replays every deadline, breach and voucher of the case."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services import wiring
from services.audit.service import case_report
from services.platform.log.reading import read_all
from shared.events import decode
from shared.instants import KST
from shared.sealing import Erased, unseal
from tests.integration.conftest import make_container
from tests.integration.test_audit_replay import T0, Clock, World
from tests.integration.test_lifecycle import OFFICIAL, do

SEEDS = {"name": "설다은비", "phone": "010-9731-5580", "email": "seol.erase.me@example.kr",
         "address": "충남 당진시 지움로 77"}


def _needles() -> list[bytes]:
    out = []
    for value in SEEDS.values():
        out += [value.encode(), value.replace("-", "").encode(), value.encode("unicode_escape")]
    return out


def _plaintext_under(root: Path) -> list[str]:
    """Every file under the data dir (databases with their WAL files, the log, outgoing messages) that
    holds any seeded value, in any of its spellings."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(root)}: {n!r}" for n in _needles() if n in data]
    return found


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}", clock=clock)
    w = World(c, clock, tmp_path)
    w.notify = wiring.notify_worker(c, decisions_topic=None, clock=clock)  # the stand-in channels: outgoing files
    yield w
    w.stop_monitor()
    c.close()


def test_an_erased_case_leaves_no_plaintext_and_still_replays(world: World, tmp_path: Path) -> None:
    w = world
    r = w.http.post("/v1/petitions", json={
        "municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "보도블록 파손",
        "received_at": w.at(T0), "applicant": SEEDS, "notice_channels": ["sms", "email", "inbox"]})
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    do(w.http, case_id, "assignment", w.at(T0 + timedelta(hours=1)), official=OFFICIAL)
    w.pump()
    w.clock.now = datetime(2026, 11, 13, 9, tzinfo=KST)  # the 7-day deadline (11-11 18:00) has passed
    w.pump()
    do(w.http, case_id, "resolution", w.at(datetime(2026, 11, 13, 10, tzinfo=KST)), outcome="accepted",
       explanation="보수를 마쳤습니다.")
    w.pump()
    recorded = {decode(x.value).event_type for x in read_all(w.c.log, w.c.topics.compensation_events)[0]}
    assert "VoucherProposed" in recorded  # a breach and its remedy: what the audit must still re-derive
    assert _plaintext_under(tmp_path), "the stand-in channels wrote the contact before the erasure"
    assert w.http.get(f"/v1/petitions/{case_id}/applicant").json()["name"] == SEEDS["name"]

    assert wiring.erase_personal_data(w.c, case_id, "erased on request 2026-77") is True
    w.pump()

    assert _plaintext_under(tmp_path) == []
    received = next(decode(x.value) for x in read_all(w.c.log, w.c.topics.petition_events)[0]
                    if x.key == case_id and decode(x.value).event_type == "PetitionReceived")
    with pytest.raises(Erased):
        unseal(wiring.case_keys(w.c), received.payload.applicant, case_id)  # the log's copy: gone for good
    gone = w.http.get(f"/v1/petitions/{case_id}/applicant")
    assert gone.status_code == 410 and gone.headers["content-type"].startswith("application/problem+json")
    assert w.http.get(f"/v1/petitions/{case_id}").json()["status"] == "resolved"  # the case itself stays
    report = case_report(w.audit, case_id)
    assert report is not None and report["agrees"], report["differences"]
    assert report["rederived"].get("compensation", 0) > 0 and report["rederived"].get("sla", 0) > 0
    assert wiring.erase_personal_data(w.c, case_id, "again") is False  # once
    again = w.http.post("/v1/petitions", json={  # the same citizen, the same petition, after the erasure
        "municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "보도블록 파손",
        "received_at": w.at(datetime(2026, 11, 14, 9, tzinfo=KST)), "applicant": SEEDS, "notice_channels": ["inbox"]})
    w.pump()
    assert w.http.get(f"/v1/petitions/{again.json()['case_id']}").json()["duplicate_of"] is None  # not linked


def test_the_retention_rule_erases_cases_closed_before_a_date(world: World) -> None:
    w = world
    cases = []
    for title in ("닫힌 민원", "열린 민원"):
        r = w.http.post("/v1/petitions", json={
            "municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": title,
            "received_at": w.at(T0), "applicant": SEEDS, "notice_channels": ["inbox"]})
        cases.append(r.json()["case_id"])
    do(w.http, cases[0], "resolution", w.at(T0 + timedelta(hours=2)), outcome="accepted", explanation="처리")
    do(w.http, cases[0], "closure", w.at(T0 + timedelta(hours=3)))
    w.pump()
    due = wiring.cases_closed_before(w.c, T0 + timedelta(days=1))
    assert due == [cases[0]]
    for case_id in due:
        wiring.erase_personal_data(w.c, case_id, "retention: closed before 2026-11-03")
    w.pump()
    assert w.http.get(f"/v1/petitions/{cases[0]}/applicant").status_code == 410
    assert w.http.get(f"/v1/petitions/{cases[1]}/applicant").status_code == 200
    assert wiring.cases_closed_before(w.c, T0 + timedelta(days=1)) == []  # erased: not due again
