"""The audit report of a case the live services handled, in its three forms (issue 17): JSON with the
Korean conclusion, HTML, and PDF over HTTP (application/pdf) and from the CLI (--format pdf); none
names the applicant."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services import cli, wiring
from services.audit.pdf import PdfUnavailable, as_pdf
from shared.instants import KST
from tests.conftest import _missing
from tests.integration.conftest import make_container
from tests.integration.test_audit_replay import T0, Clock, World
from tests.integration.test_lifecycle import APPLICANT, OFFICIAL, do


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = Clock(T0)
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'rm.db'}", clock=clock)
    w = World(c, clock, tmp_path)
    yield w
    w.stop_monitor()
    c.close()


def late_case(w: World) -> str:
    """Received Mon 11-02 10:00 (7 days: due Tue 11-10 18:00), assigned, resolved Thu 11-12 10:00."""
    case_id = w.file()
    do(w.http, case_id, "assignment", w.at(T0 + timedelta(hours=1)), official=OFFICIAL)
    w.pump()
    w.stop_monitor()  # down while the deadline passes; on recovery it records the breach
    w.clock.now = datetime(2026, 11, 12, 9, tzinfo=KST)
    w.start_monitor()
    w.pump()
    do(w.http, case_id, "resolution", w.at(datetime(2026, 11, 12, 10, tzinfo=KST)), outcome="accepted",
       explanation="보도블록 교체 완료")
    w.pump()
    return case_id


def pdf_text(data: bytes, spaced: bool = False) -> str:
    """The PDF's text; without white space (lines wrap anywhere) unless ``spaced``."""
    try:
        import pypdfium2
    except ImportError:
        _missing("pypdfium2 (pip install -e '.[test]')")
    text = "\n".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(data))
    return text if spaced else re.sub(r"\s+", "", text)


def no_applicant(text: str) -> None:
    for value in APPLICANT.values():
        assert value not in text and value.replace("-", "") not in text, value


def test_json_html_and_pdf_over_http_say_the_same_and_name_no_applicant(world: World) -> None:
    case_id = late_case(world)
    audit = TestClient(wiring.audit_app(world.c))
    audit.headers["Authorization"] = world.http.headers["Authorization"]
    r = audit.get(f"/v1/audit/cases/{case_id}")
    assert r.status_code == 200 and r.json()["agrees"], r.json()["differences"]
    report: dict[str, Any] = r.json()
    text = report["conclusion"]
    assert "담당 공무원 도로과 박주무관이 2026년 11월 12일(목) 10:00에 처리를 마쳤으나" in text
    assert "법정 처리기한을 근무시간 기준 1일 1시간 넘겼습니다(법정 처리기한 위반)" in text
    assert "상품권 10,000원" in text and "모두 로그에서 다시 계산한 결과와 일치합니다" in text
    assert report["findings"]["rounds"][0]["statutory_result"]["late_working_seconds"] == 9 * 3600
    assert report["officials"][0]["email"] == OFFICIAL["email"]  # the official is named (real-name rule)
    no_applicant(r.text)

    html = audit.get(f"/v1/audit/cases/{case_id}", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and text in html.text
    no_applicant(html.text)

    pdf = audit.get(f"/v1/audit/cases/{case_id}", params={"format": "pdf"})
    if pdf.status_code == 503:
        _missing(f"the PDF report: {pdf.json()['detail']}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'inline; filename="audit-{case_id}.pdf"'
    assert pdf.content.startswith(b"%PDF-")
    words = pdf_text(pdf.content)
    assert re.sub(r"\s+", "", text) in words and "민원재현감사보고서" in words
    no_applicant(pdf_text(pdf.content, spaced=True))  # spaced: "이 민원은" is no applicant named 이민원
    assert audit.get("/v1/audit/cases/unknown", params={"format": "pdf"}).status_code == 404


class Kept:
    """The world's container, handed to the CLI, which closes what it is given: the test closes it."""

    def __init__(self, c: Any) -> None:
        self._c = c

    def __getattr__(self, name: str) -> Any:
        return getattr(self._c, name)

    def close(self) -> None:
        pass


def test_the_cli_writes_the_pdf_to_a_file_or_to_stdout(world: World, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = late_case(world)
    try:
        as_pdf("<p>한글</p>")
    except PdfUnavailable as exc:
        _missing(f"the PDF report: {exc}")
    monkeypatch.setattr(cli, "_settings", lambda mode=None, **overrides: world.c.settings)
    monkeypatch.setattr("services.bootstrap.bootstrap", lambda settings: Kept(world.c))
    runner = CliRunner()
    out = tmp_path / "report.pdf"
    written = runner.invoke(cli.app, ["audit", "replay", "--case", case_id, "--format", "pdf", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_bytes().startswith(b"%PDF-") and "민원재현감사보고서" in pdf_text(out.read_bytes())
    piped = runner.invoke(cli.app, ["audit", "replay", "--case", case_id, "--format", "pdf"])
    assert piped.exit_code == 0 and piped.stdout_bytes.startswith(b"%PDF-")
    as_json = runner.invoke(cli.app, ["audit", "replay", "--case", case_id])
    assert json.loads(as_json.stdout)["conclusion"].startswith("이 민원은 2026년 11월 2일(월) 10:00에 접수된 고충민원으로")
    everything = runner.invoke(cli.app, ["audit", "replay", "--all", "--format", "pdf"])
    assert everything.exit_code == 2 and "one case" in everything.output
