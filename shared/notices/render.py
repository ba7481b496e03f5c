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
from shared.notices.wording import MONEY, document_date, present

TEMPLATES = Path(__file__).resolve().parent / "templates"
# apology v2: the particle after the voucher's kind chosen by its final consonant; v3: the missed deadline
# and how the voucher is collected. completion v2: the completion date. supplement_request v2: the second
# request (Decree 25). A Korean reader's pass (issue 19 §5; docs/notify.md "Wording"): receipt, transfer,
# extension, interim, refusal v2, completion v3, apology v4, supplement_request v3: instants in the 공문서
# form, the parenthesis on the word it explains, the official's line with no space before it, 처리기한 as
# the glossary writes it, money as 보상금 N원 (never "N원 상당의 보상금"), the interim notice saying when
# the clock is paused or the deadline passed, the transfer naming where and who, each sentence ended.
VERSIONS = {"receipt": "2", "transfer": "2", "extension": "2", "interim": "2", "completion": "3", "refusal": "2",
            "apology": "4", "supplement_request": "3"}
SUBJECTS = {"receipt": "민원 접수 안내", "transfer": "민원 이송 안내", "extension": "민원 처리기간 연장 안내",
            "interim": "민원 처리 중간 안내", "completion": "민원 처리 완료 안내", "refusal": "민원 처리 결과 안내",
            "apology": "민원 처리 사과 및 보상 안내", "supplement_request": "민원 보완 요청 안내"}
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
        self._env.filters["doc_date"] = document_date  # 2026. 11. 10.(화) 18:00
        self._env.globals["money"] = MONEY
        self._templates = {kind: self._env.get_template(f"{kind}.v{v}.j2") for kind, v in VERSIONS.items()}

    def render(self, kind: str, context: dict[str, Any], version: str | None = None) -> Rendered:
        """With today's template, or with ``version`` (a notice sent years ago is rendered again with the
        template it was sent with: every version file is kept)."""
        version = version or VERSIONS[kind]
        template = self._templates[kind] if version == VERSIONS[kind] else self._env.get_template(f"{kind}.v{version}.j2")
        text = template.render(**present(context)).strip() + "\n"
        # an apology without a voucher offers no 보상: its subject does not announce one (subjects are not hashed)
        title = "민원 처리 사과 안내" if kind == "apology" and not context.get("voucher_won") else SUBJECTS[kind]
        subject = f"[{context['municipality']}] {title}"
        return Rendered(kind, subject, text, kind, version)
