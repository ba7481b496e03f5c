"""Agencies never see, name or change each other's cases: duplicates (D14) are linked within an
agency; across agencies only the municipality where a similar petition was filed is told."""
from __future__ import annotations

from services.bootstrap import Container
from tests.integration.conftest import http_client
from tests.integration.test_intake_api import PETITION, project


def test_the_same_petition_to_two_agencies_is_never_linked_across_them(container: Container) -> None:
    a, b = http_client(container, "agency-a"), http_client(container, "agency-b")
    first_a = a.post("/v1/petitions", json=PETITION).json()["case_id"]
    again_a = a.post("/v1/petitions", json={**PETITION, "received_at": "2026-11-25T11:00:00+09:00"}).json()["case_id"]
    # agency B, backdated before A's filings: in earlier releases this rewrote A's rows to point at B's case
    at_b = b.post("/v1/petitions", json={**PETITION, "municipality_id": "namhae",
                                         "received_at": "2026-11-25T09:00:00+09:00"}).json()["case_id"]
    project(container)
    seen_a = {case: a.get(f"/v1/petitions/{case}").json() for case in (first_a, again_a)}
    seen_b = b.get(f"/v1/petitions/{at_b}").json()
    assert seen_a[first_a]["duplicate_of"] is None and seen_a[again_a]["duplicate_of"] == first_a
    assert seen_b["duplicate_of"] is None
    assert seen_b["similar_elsewhere"] == ["dangjin"] and seen_a[first_a]["similar_elsewhere"] == ["namhae"]
    for body in (*seen_a.values(), seen_b):  # no case id of the other agency anywhere in the answer
        other = {at_b} if body["agency_id"] == "agency-a" else {first_a, again_a}
        assert not any(case in str(body) for case in other)
    assert a.get(f"/v1/petitions/{at_b}").status_code == b.get(f"/v1/petitions/{first_a}").status_code == 404
    assert a.get(f"/v1/petitions/{at_b}").json()["detail"].replace(at_b, "X") == \
        a.get("/v1/petitions/no-such-case").json()["detail"].replace("no-such-case", "X")
    listed_b = b.get("/v1/petitions", params={"duplicates": True}).json()["items"]
    assert listed_b == []


def test_remedies_follow_the_case_to_the_agency_it_was_transferred_to(container: Container) -> None:
    from fastapi.testclient import TestClient

    from services import wiring
    from tests.integration.conftest import api_token

    a = http_client(container, "agency-a")
    case_id = a.post("/v1/petitions", json=PETITION).json()["case_id"]
    visit = a.post(f"/v1/petitions/{case_id}/repeat-visits",
                   json={"occurred_at": "2026-11-25T11:00:00+09:00", "official_id": "o-17", "cause": "서류 누락"})
    assert visit.status_code == 201, visit.text
    moved = a.post(f"/v1/petitions/{case_id}/transfers", json={
        "occurred_at": "2026-11-25T11:30:00+09:00", "scope": "other_agency", "to_agency_id": "agency-b",
        "reason": "소관 기관"})
    assert moved.status_code == 201, moved.text
    wiring.compensation_consumer(container).run(poll_timeout=0.1, until_caught_up=True)
    api = TestClient(wiring.compensation_app(container))

    def vouchers(agency: str) -> list[dict]:
        return api.get("/v1/vouchers", headers={"Authorization": f"Bearer {api_token(container, agency)}"}
                       ).json()["items"]

    filed, received, other = vouchers("agency-a"), vouchers("agency-b"), vouchers("agency-c")
    assert [v["case_id"] for v in filed] == [case_id] and received == filed  # the same rule as intake's reads
    assert other == []
    voucher_id = filed[0]["voucher_id"]
    c_key = {"Authorization": f"Bearer {api_token(container, 'agency-c')}"}
    foreign, missing = api.get(f"/v1/vouchers/{voucher_id}", headers=c_key), api.get("/v1/vouchers/nope", headers=c_key)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(voucher_id, "X") == missing.json()["detail"].replace("nope", "X")


def test_findings_after_a_transfer_count_toward_the_receiving_agency(container: Container) -> None:
    """Agency B, handling a case transferred from A, confirms discourtesy three times: the strikes are
    B's official's, never A's official of the same id; A's strikes stay empty."""
    from fastapi.testclient import TestClient

    from services import wiring
    from tests.integration.conftest import api_token

    a = http_client(container, "agency-a")
    b = http_client(container, "agency-b")
    case_id = a.post("/v1/petitions", json=PETITION).json()["case_id"]
    moved = a.post(f"/v1/petitions/{case_id}/transfers", json={
        "occurred_at": "2026-11-25T10:30:00+09:00", "scope": "other_agency", "to_agency_id": "agency-b",
        "reason": "소관 기관"})
    assert moved.status_code == 201, moved.text
    for minute in (40, 41, 42):
        r = b.post(f"/v1/petitions/{case_id}/discourtesy-findings",
                   json={"occurred_at": f"2026-11-25T10:{minute}:00+09:00", "official_id": "o-99", "finding": "불친절"})
        assert r.status_code == 201, r.text
    wiring.compensation_consumer(container).run(poll_timeout=0.1, until_caught_up=True)
    api = TestClient(wiring.compensation_app(container))

    def strikes(agency: str) -> list[dict]:
        return api.get("/v1/strikes", headers={"Authorization": f"Bearer {api_token(container, agency)}"}).json()

    assert strikes("agency-a") == []
    assert [s["official_id"] for s in strikes("agency-b")] == ["o-99"]


def test_a_transferred_case_never_shows_the_filing_agency_its_other_cases(container: Container) -> None:
    a, b = http_client(container, "agency-a"), http_client(container, "agency-b")
    first = a.post("/v1/petitions", json=PETITION).json()["case_id"]
    later = a.post("/v1/petitions", json={**PETITION, "received_at": "2026-11-25T10:05:00+09:00"}).json()["case_id"]
    assert a.post(f"/v1/petitions/{later}/transfers", json={
        "occurred_at": "2026-11-25T10:30:00+09:00", "scope": "other_agency", "to_agency_id": "agency-b",
        "reason": "소관 기관"}).status_code == 201
    project(container)
    assert a.get(f"/v1/petitions/{later}").json()["duplicate_of"] == first  # A sees its own link
    seen_by_b = b.get(f"/v1/petitions/{later}").json()
    assert seen_by_b["duplicate_of"] is None and first not in str(seen_by_b)
    assert b.get("/v1/petitions", params={"duplicates": True}).json()["items"] == []
    assert first not in str(b.get("/v1/petitions").json())


def test_transfers_name_another_agency(container: Container) -> None:
    a = http_client(container, "agency-a")
    case_id = a.post("/v1/petitions", json=PETITION).json()["case_id"]
    to_self = a.post(f"/v1/petitions/{case_id}/transfers", json={
        "occurred_at": "2026-11-25T10:30:00+09:00", "scope": "other_agency", "to_agency_id": "agency-a", "reason": "x"})
    assert to_self.status_code == 409 and to_self.json()["rule"] == "Decree 13"
    mixed = a.post(f"/v1/petitions/{case_id}/transfers", json={
        "occurred_at": "2026-11-25T10:30:00+09:00", "scope": "within_agency", "to_department": "도로과",
        "to_agency_id": "agency-b", "reason": "x"})
    assert mixed.status_code == 422 and mixed.json()["field"] == "to_agency_id"
    weak = a.post(f"/v1/petitions/{case_id}/transfers", headers={"If-Match": 'W/"1"'}, json={
        "occurred_at": "2026-11-25T10:30:00+09:00", "scope": "within_agency", "to_department": "도로과", "reason": "x"})
    assert weak.status_code == 412  # a weak tag never matches (RFC 9110)
    late = a.post(f"/v1/petitions/{case_id}/resolution", json={
        "occurred_at": "2026-11-25T10:10:00+09:00", "outcome": "accepted", "explanation": "처리"})
    assert late.status_code == 201
    backdated = a.post(f"/v1/petitions/{case_id}/closure", json={"occurred_at": "2026-11-25T10:05:00+09:00"})
    assert backdated.status_code == 409 and backdated.json()["rule"] == "time-order"  # before its resolution
