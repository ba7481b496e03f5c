"""One scheme of problem types across every API (issue 19, part 6): ``/problems/<slug>``, each slug listed in
``PROBLEM_TYPES`` (and in docs/intake.md), never a bare status number; messages without pydantic's prefix.
And no "(1 promises)" or "a issued" in the messages the code writes."""
from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from pydantic import BaseModel, field_validator

from services.platform.http import problems
from services.platform.http.problems import PROBLEM_TYPES, problem_type

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for p in (ROOT / "services").rglob("*.py") if "__pycache__" not in p.parts]


def test_every_problem_type_in_the_code_is_one_slug_of_the_registry() -> None:
    used: dict[str, list[str]] = {}
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for slug in re.findall(r'"/problems/([^"{}]+)"', text):
            used.setdefault(slug, []).append(str(path.relative_to(ROOT)))
        for call in re.finditer(r"problem\((?:[^()]|\([^()]*\))*\)", text, re.S):  # problem(...) and its kind=
            for slug in re.findall(r'kind="([^"]+)"', call.group(0)):
                used.setdefault(slug, []).append(str(path.relative_to(ROOT)))
        for mapping in re.findall(r'kind = \{([^}]*)\}', text):  # intake's status -> kind table
            for slug in re.findall(r':\s*"([^"]+)"', mapping):
                used.setdefault(slug, []).append(str(path.relative_to(ROOT)))
    assert used, "no problem types found: the scan is broken"
    unknown = {slug: where for slug, where in used.items() if slug not in PROBLEM_TYPES}
    assert unknown == {}
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", slug) for slug in PROBLEM_TYPES)
    documented = (ROOT / "docs" / "intake.md").read_text(encoding="utf-8")
    assert [s for s in PROBLEM_TYPES if f"`{s}`" not in documented] == []


def test_a_problem_without_a_named_kind_takes_its_statuss_slug() -> None:
    assert problem_type(None, 404) == "/problems/not-found"
    assert problem_type(None, 401) == "/problems/unauthorized"
    assert problem_type(None, 418) == "/problems/bad-request" and problem_type(None, 502) == "/problems/internal"
    assert all(problem_type(None, status).removeprefix("/problems/") in PROBLEM_TYPES
               for status in (400, 401, 403, 404, 405, 409, 410, 412, 413, 415, 422, 429, 500, 503))


class Body(BaseModel):
    when: str

    @field_validator("when")
    @classmethod
    def _when(cls, v: str) -> str:
        raise ValueError("when: is never right")


def test_http_errors_and_validation_answer_in_the_scheme_without_the_value_error_prefix() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/gone")
    def gone() -> None:
        raise HTTPException(410, "erased")

    @app.post("/checked")
    def checked(body: Body) -> None:
        return None

    http = TestClient(app)
    assert http.get("/nowhere").json()["type"] == "/problems/not-found"
    assert http.get("/gone").json()["type"] == "/problems/gone"
    assert http.post("/gone").json()["type"] == "/problems/method-not-allowed"
    r = http.post("/checked", json={"when": "x"})
    assert r.json()["type"] == "/problems/validation"
    assert r.json()["errors"][0] == {"field": "when", "message": "is never right", "code": "value_error"}
    assert "Value error" not in r.text


def test_no_message_says_1_promises_or_a_issued() -> None:
    """Counts agree with their nouns and articles with what follows, wherever the code writes a message."""
    bad = []
    for path in [*SOURCES, *(p for p in (ROOT / "shared").rglob("*.py") if "__pycache__" not in p.parts)]:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\{len\([^)]*\)\} [a-z]+s\b|\} [a-z]+\(s\)|\b[Aa] \{(status|[a-z_.]*type[a-z_.]*)\b", line):
                bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert bad == []
