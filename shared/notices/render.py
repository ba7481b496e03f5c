"""Rendering notices from versioned Jinja2 templates. A rendered notice records its template id,
version and the SHA-256 of its text: what was said can be proven without storing it in a log."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from shared.instants import KST
from shared.korean import josa

TEMPLATES = Path(__file__).resolve().parent / "templates"
# apology v2: the particle after the voucher's kind chosen by its final consonant; v3: the missed deadline
# and how the voucher is collected. completion v2: the completion date.
VERSIONS = {"receipt": "1", "transfer": "1", "extension": "1", "interim": "1", "completion": "2", "refusal": "1",
            "apology": "3", "supplement_request": "2"}  # supplement_request v2: the second request (Decree 25)
SUBJECTS = {"receipt": "민원 접수 안내", "transfer": "민원 이송 안내", "extension": "민원 처리기간 연장 안내",
            "interim": "민원 처리 중간 안내", "completion": "민원 처리 완료 안내", "refusal": "민원 처리 결과 안내",
            "apology": "민원 처리 사과 및 보상 안내", "supplement_request": "민원 보완 요청"}
WEEKDAYS = "월화수목금토일"


def korean_instant(value: datetime) -> str:
    """2026년 12월 2일(수) 18:00, in KST."""
    k = value.astimezone(KST)
    return f"{k.year}년 {k.month}월 {k.day}일({WEEKDAYS[k.weekday()]}) {k:%H:%M}"


@dataclass(frozen=True)
class Rendered:
    kind: str
    subject: str
    text: str
    template_id: str
    template_version: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class Renderer:
    """Built once at start (reads the bundled templates); rendering itself is pure."""

    def __init__(self, directory: Path = TEMPLATES) -> None:
        self._env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(directory)), autoescape=False,
                                       undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
                                       trim_blocks=True, lstrip_blocks=True)
        self._env.filters["josa"] = josa  # {{ word|josa("을", "를") }}: 상품권을, 문화상품권을
        self._templates = {kind: self._env.get_template(f"{kind}.v{v}.j2") for kind, v in VERSIONS.items()}

    def render(self, kind: str, context: dict[str, Any], version: str | None = None) -> Rendered:
        """With today's template, or with ``version`` (a notice sent years ago is rendered again with the
        template it was sent with: every version file is kept)."""
        version = version or VERSIONS[kind]
        template = self._templates[kind] if version == VERSIONS[kind] else self._env.get_template(f"{kind}.v{version}.j2")
        text = template.render(**context).strip() + "\n"
        subject = f"[{context['municipality']}] {SUBJECTS[kind]}"
        return Rendered(kind, subject, text, kind, version)
