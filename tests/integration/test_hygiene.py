"""Safe for many agencies, the hygiene part: a private data dir, the local key kept out of logs, bounded
metric labels, ids with a pattern, and the headers every API answers with."""
from __future__ import annotations

import json
import os
import re
import stat
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import wiring
from services.bootstrap import Container
from services.platform.access.keys import issue_key
from services.platform.http.headers import CSP
from shared.events import decode, encode
from shared.events import petition as ev
from shared.events.envelope import Envelope
from shared.instants import KST
from tests.integration.conftest import api_token, make_container
from tests.integration.test_lifecycle import T0
from tests.integration.test_lifecycle import file as file_petition

REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The process as a test or an embedding program may start it: without the command line's umask."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[Container]:
    data = tmp_path / "var"
    c = make_container(data, f"sqlite:///{data / 'readmodel.db'}")
    yield c
    c.close()


def test_every_file_under_the_data_dir_is_private_without_the_command_lines_umask(
        tmp_path: Path, permissive_umask: None) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)  # as an earlier release left it
    c = make_container(data, f"sqlite:///{data / 'readmodel.db'}")
    try:
        http = TestClient(wiring.intake_app(c))
        http.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
        file_petition(http)
        wiring.petition_projection_runner(c).run(poll_timeout=0.2, until_caught_up=True)
        wiring.notify_worker(c).run(poll_timeout=0.2, until_caught_up=True)  # files: no SMS gateway configured
        modes = {p.relative_to(data).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [data, *data.rglob("*")]}
    finally:
        c.close()
    assert {"eventlog.db", "eventlog.db-wal", "readmodel.db", "readmodel.db-wal", "readmodel.db-shm"} <= modes.keys()
    assert any(name.startswith("outgoing/sms/") for name in modes), sorted(modes)
    wrong = {name: oct(mode) for name, mode in modes.items() if mode != (0o700 if (data / name).is_dir() else 0o600)}
    assert not wrong, wrong


def test_the_local_key_is_shown_on_a_terminal_only_and_once(system: Container) -> None:
    from services.cli import _local_key

    redirected = _local_key(system, terminal=False)
    token = (system.settings.data_dir / "local-api-key").read_text().strip()
    assert token.startswith("cw_") and token not in redirected and "local-api-key" in redirected
    assert stat.S_IMODE((system.settings.data_dir / "local-api-key").stat().st_mode) == 0o600
    assert token not in _local_key(system, terminal=True)  # issued before: never shown again


def test_the_local_key_is_on_the_terminal_when_there_is_one(system: Container) -> None:
    from services.cli import _local_key

    note = _local_key(system, terminal=True)
    assert (system.settings.data_dir / "local-api-key").read_text().strip() in note


def test_metric_labels_are_bounded_whatever_the_client_sends(system: Container) -> None:
    http = TestClient(wiring.intake_app(system))
    http.headers["Authorization"] = f"Bearer {api_token(system, 'agency-a')}"
    case_id = file_petition(http)
    http.get(f"/v1/petitions/{case_id}")
    http.request("FROBNICATE", f"/v1/petitions/{case_id}")
    http.request("BREW", f"/v1/unknown/{uuid.uuid4()}")
    text = http.get("/metrics").text
    series = [line for line in text.splitlines() if line.startswith("charterwatch_http_request_seconds_count")]
    assert any('method="GET",route="/v1/petitions/{case_id}"' in s for s in series), series
    assert any('method="other",route="/v1/petitions/{case_id}"' in s for s in series), series
    assert any('method="other",route="unmatched"' in s for s in series), series
    assert case_id not in text and "FROBNICATE" not in text and "BREW" not in text and "/v1/unknown" not in text


@pytest.mark.parametrize("bad", ["=cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", ".hidden", "o 17", "o\n17", "x" * 65])
def test_an_official_id_must_be_an_id(system: Container, bad: str) -> None:
    http = TestClient(wiring.intake_app(system))
    http.headers["Authorization"] = f"Bearer {api_token(system, 'agency-a')}"
    case_id = file_petition(http)
    r = http.post(f"/v1/petitions/{case_id}/discourtesy-findings",
                  json={"occurred_at": T0, "official_id": bad, "finding": "불친절"})
    assert r.status_code == 422 and r.json()["field"] == "official_id", r.text
    r = http.post(f"/v1/petitions/{case_id}/administrative-errors",
                  json={"occurred_at": T0, "official_id": bad, "description": "오기"})
    assert r.status_code == 422 and r.json()["field"] == "official_id", r.text
    comp = TestClient(wiring.compensation_app(system))
    comp.headers["Authorization"] = http.headers["Authorization"]
    r = comp.post("/v1/voucher-batches/2026-11/issue", json={"official_id": bad})
    assert r.status_code == 422 and r.json()["field"] == "official_id", r.text
    assert comp.get("/v1/strikes", params={"official_id": bad}).status_code == 422
    with pytest.raises(ValueError, match="agency_id"), system.database("access").sessions.begin() as s:
        issue_key(s, bad, system.clock())


def test_ids_recorded_before_the_pattern_still_decode() -> None:
    """The log keeps every event: an id an earlier release accepted ('-' first; no pattern at all for an
    administrative error's official) is read back as it was written."""
    at = datetime(2026, 11, 2, 10, tzinfo=KST)
    for payload in ({"official_id": "-o17", "finding": "불친절"}, {"official_id": ".o17", "finding": "불친절"}):
        raw = json.loads(encode(Envelope(event_id=uuid.uuid4(), case_id="c-1", occurred_at=at, recorded_at=at,
                                         producer="intake", payload=ev.DiscourtesyConfirmed(official_id="o", finding="f"),
                                         case_version=2)))
        raw["payload"] = payload
        assert decode(json.dumps(raw).encode()).payload.official_id == payload["official_id"]
        with pytest.raises(ValueError):
            ev.DiscourtesyConfirmed(**payload)  # a new fact may not
    raw["event_type"], raw["payload"] = "AdministrativeErrorConfirmed", {"description": "오기", "official_id": "홍 길동"}
    assert decode(json.dumps(raw).encode()).payload.official_id == "홍 길동"


def test_every_api_answers_with_nosniff_and_a_content_security_policy(system: Container) -> None:
    token = api_token(system, "agency-a")
    apps = {"intake": wiring.intake_app(system), "compensation": wiring.compensation_app(system),
            "notify": wiring.notify_app(system), "audit": wiring.audit_app(system)}
    for name, app in apps.items():
        client = TestClient(app)
        for path, auth in (("/healthz", None), ("/openapi.json", None), ("/nowhere", None), ("/v1/strikes", "bad")):
            r = client.get(path, headers={"Authorization": f"Bearer {auth}"} if auth else {})
            assert r.headers["x-content-type-options"] == "nosniff", (name, path)
            assert r.headers["content-security-policy"] == CSP == REPORT_CSP, (name, path)
        docs = client.get("/docs")
        policy = docs.headers["content-security-policy"]
        assert docs.status_code == 200 and "script-src 'self' 'unsafe-inline'" in policy and \
            "frame-ancestors 'none'" in policy and "http" not in policy  # nothing from another origin
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", docs.text)
        assert assets and all(a.startswith("/") for a in assets), assets  # no CDN: closed networks
        assert all(client.get(a).status_code == 200 for a in assets), assets
        too_large = client.post("/v1/anything", content=b"x" * 2_000_000, headers={"Authorization": f"Bearer {token}"})
        if name != "notify":  # notify takes no bodies: it has no body limit
            assert too_large.status_code == 413, name
        assert too_large.headers["x-content-type-options"] == "nosniff", name
    http = TestClient(apps["intake"])
    http.headers["Authorization"] = f"Bearer {token}"
    case_id = file_petition(http)
    audit = TestClient(apps["audit"])
    audit.headers["Authorization"] = f"Bearer {token}"
    html = audit.get(f"/v1/audit/cases/{case_id}", params={"format": "html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.headers["content-security-policy"] == REPORT_CSP and html.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in html.text and "<img" not in html.text and "<link" not in html.text


def test_a_transfer_names_an_agency_by_an_id(system: Container) -> None:
    http = TestClient(wiring.intake_app(system))
    http.headers["Authorization"] = f"Bearer {api_token(system, 'agency-a')}"
    case_id = file_petition(http)
    r = http.post(f"/v1/petitions/{case_id}/transfers", json={
        "occurred_at": T0, "scope": "other_agency", "to_agency_id": "=HYPERLINK(\"x\")", "reason": "소관 아님"})
    assert r.status_code == 422 and r.json()["field"] == "to_agency_id", r.text
