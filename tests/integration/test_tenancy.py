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
