"""The compensation HTTP API over a real ledger (SQLite and PostgreSQL), fed through the worker."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import wiring
from services.sla_monitor.runner import read_all
from shared.events import decode, encode
from shared.events import petition as ev
from tests.integration.conftest import api_token, make_container
from tests.integration.test_compensation import breach
from tests.unit.test_obligations import Case, kst


@pytest.fixture
def world(tmp_path: Path, database_url: str):
    c = make_container(tmp_path, database_url)
    seongnam = [Case(municipality="seongnam", at=kst(2027, 3, 2, 10)) for _ in range(3)]
    gochang = Case(municipality="gochang", at=kst(2027, 3, 2, 10))
    dangjin = Case(municipality="dangjin", at=kst(2027, 3, 2, 10))
    for case in seongnam + [gochang, dangjin]:
        c.log.append(c.topics.petition_events, case.case_id, encode(case.received))
        c.log.append(c.topics.sla_events, case.case_id, encode(breach(case, kst(2027, 3, 11, 18))))
    for official, n in (("o-1", 2), ("o-2", 1)):
        for _ in range(n):
            case = Case(municipality="dangjin", at=kst(2027, 3, 2, 10))
            c.log.append(c.topics.petition_events, case.case_id, encode(case.received))
            c.log.append(c.topics.petition_events, case.case_id,
                         encode(case.event(ev.DiscourtesyConfirmed(official_id=official, finding="불친절"),
                                           kst(2027, 3, 3, 10))))
    wiring.compensation_consumer(c).run(poll_timeout=0.2, until_caught_up=True)
    client = TestClient(wiring.compensation_app(c))
    client.headers["Authorization"] = f"Bearer {api_token(c, 'a')}"  # the test cases' agency
    yield c, client, seongnam, gochang
    c.close()


def test_list_and_filter_only_the_callers_vouchers(world) -> None:
    c, client, seongnam, gochang = world
    page = client.get("/v1/vouchers", params={"status": "proposed"}).json()
    assert sorted(v["case_id"] for v in page["items"]) == sorted(s.case_id for s in seongnam)
    assert all(v["amount_won"] == 10_000 and v["approval"] == "department_head" for v in page["items"])
    first = client.get("/v1/vouchers", params={"limit": 2}).json()
    second = client.get("/v1/vouchers", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 2 and not {v["voucher_id"] for v in first["items"]} & {v["voucher_id"] for v in second["items"]}
    bad = client.get("/v1/vouchers", params={"cursor": "not-a-cursor"})  # one paging style, one answer to a bad cursor
    assert bad.status_code == 400 and bad.json()["field"] == "cursor"
    assert client.get("/v1/vouchers", params={"cause": "repeat_visit"}).json()["items"] == []
    other = TestClient(client.app)
    other.headers["Authorization"] = f"Bearer {api_token(c, 'another-agency')}"
    assert other.get("/v1/vouchers").json()["items"] == []
    assert client.get("/v1/vouchers", headers={"Authorization": ""}).status_code == 401


def test_approve_reject_and_refusals_answer_problem_json(world) -> None:
    c, client, seongnam, _ = world
    ids = {v["case_id"]: v["voucher_id"] for v in client.get("/v1/vouchers", params={"status": "proposed"}).json()["items"]}
    a, b = ids[seongnam[0].case_id], ids[seongnam[1].case_id]
    r = client.post(f"/v1/vouchers/{a}/approval", json={"official_id": "head-1"})
    assert r.status_code == 200 and r.json()["status"] == "issued" and r.json()["approved_by"] == "head-1"
    assert [t["status"] for t in r.json()["transitions"]] == ["proposed", "approved", "issued"]
    again = client.post(f"/v1/vouchers/{a}/approval", json={"official_id": "head-1"})
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert again.json()["rule"] == "voucher-state" and again.json()["field"] == "status"
    missing = client.post(f"/v1/vouchers/{b}/rejection", json={"official_id": "head-1"})
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    r = client.post(f"/v1/vouchers/{b}/rejection", json={"official_id": "head-1", "reason": "민원인 사정으로 지연"})
    assert r.json()["status"] == "cancelled" and "민원인 사정" in r.json()["cancel_reason"]
    assert client.post("/v1/vouchers/nope/approval", json={"official_id": "h"}).status_code == 404
    delivered = client.post(f"/v1/vouchers/{a}/delivery", json={"official_id": "clerk-1"})
    assert delivered.json()["status"] == "delivered"
    published = [decode(r.value).event_type for r in read_all(c.log, c.topics.compensation_events)[0]]
    assert {"VoucherApproved", "VoucherIssued", "VoucherCancelled", "VoucherDelivered"} <= set(published)


def test_monthly_batch_csv_opens_in_korean_excel_and_issues(world) -> None:
    _, client, _, gochang = world
    r = client.get("/v1/voucher-batches/2027-03.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["바우처ID", "민원번호", "사유", "사유코드", "금액(원)"]
    assert [(row[1], row[2], row[4], row[5], row[6]) for row in rows[1:]] == \
        [(gochang.case_id, "처리기한 초과", "10000", "문화상품권", "approved")]
    issued = client.post("/v1/voucher-batches/2027-03/issue", json={"official_id": "clerk-1"}).json()
    assert [(v["case_id"], v["status"], v["batch_month"]) for v in issued] == [(gochang.case_id, "issued", "2027-03")]
    assert client.post("/v1/voucher-batches/2027-03/issue", json={"official_id": "clerk-1"}).json() == []
    bad = client.get("/v1/voucher-batches/2027-13.csv")
    assert bad.status_code == 422 and bad.json()["field"] == "month"


def test_strike_counts_per_official(world) -> None:
    _, client, _, _ = world
    assert client.get("/v1/strikes").json() == [{"official_id": "o-1", "strikes": 2, "withdrawn": 0},
                                                {"official_id": "o-2", "strikes": 1, "withdrawn": 0}]
    assert client.get("/v1/strikes", params={"official_id": "o-2"}).json()[0]["strikes"] == 1
    bad = client.get("/v1/strikes", params={"official_id": "=cmd|' /C calc'!A0"})
    assert bad.status_code == 422 and bad.json()["field"] == "official_id"


def test_strikes_are_the_calling_agencys_own(world) -> None:
    """Agency B's officials are not agency A's, even under the same id: B's findings neither count toward
    A's "o-1" (whose third strike would be a referral, D11) nor show in A's list, and B sees only its own."""
    c, client, _, _ = world
    for official in ("o-1", "o-1", "o-9"):
        case = Case(municipality="dangjin", at=kst(2027, 3, 2, 10), agency="agency-b")
        c.log.append(c.topics.petition_events, case.case_id, encode(case.received))
        c.log.append(c.topics.petition_events, case.case_id,
                     encode(case.event(ev.DiscourtesyConfirmed(official_id=official, finding="불친절"),
                                       kst(2027, 3, 4, 10))))
    wiring.compensation_consumer(c).run(poll_timeout=0.2, until_caught_up=True)
    assert client.get("/v1/strikes").json() == [{"official_id": "o-1", "strikes": 2, "withdrawn": 0},
                                                {"official_id": "o-2", "strikes": 1, "withdrawn": 0}]
    assert client.get("/v1/strikes", params={"official_id": "o-9"}).json() == []
    b = TestClient(client.app)
    b.headers["Authorization"] = f"Bearer {api_token(c, 'agency-b')}"
    assert b.get("/v1/strikes").json() == [{"official_id": "o-1", "strikes": 2, "withdrawn": 0},
                                           {"official_id": "o-9", "strikes": 1, "withdrawn": 0}]
    published = [decode(r.value) for r in read_all(c.log, c.topics.compensation_events)[0]]
    assert "PersonnelActionReferred" not in {e.event_type for e in published}  # four strikes on "o-1", two each
