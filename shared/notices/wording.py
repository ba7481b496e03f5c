"""How the current templates word what a notice context holds (공문서 style). Pure.

A context keeps its values as the release that decided it wrote them: the audit replay renders a notice
sent years ago from today's context with the template version it was sent with, and a pending delivery
keeps the context sealed by the release that decided it. So the context's instants stay in the one form
``korean_instant`` wrote them (2026년 11월 10일(화) 18:00), and the current templates rewrite that form
into the 공문서 form (2026. 11. 10.(화) 18:00: 행정업무의 운영 및 혁신에 관한 규정 시행규칙 제2조),
and keys added later get a default here, so a context sealed before them still renders.
"""
from __future__ import annotations

import re
from typing import Any

_KOREAN_INSTANT = re.compile(r"(\d{4})년 (\d{1,2})월 (\d{1,2})일(\([월화수목금토일]\))")
# Voucher kinds that are money, not a certificate: "보상금 10,000원을", never "10,000원 상당의 보상금을".
MONEY = ("보상금", "보상금(계좌이체)")
# Keys a context decided by an earlier release lacks (the transfer's scope and who transferred it; the
# clock's state, which ``as_of`` adds only when the context has a clock).
DEFAULTS: dict[str, Any] = {"scope": "within_agency", "transferred_by": None, "clock_paused": False,
                            "overdue": False}


def document_date(text: str) -> str:
    """2026년 11월 10일(화) 18:00 -> 2026. 11. 10.(화) 18:00; anything else as it is."""
    return _KOREAN_INSTANT.sub(r"\1. \2. \3.\4", text)


def present(context: dict[str, Any]) -> dict[str, Any]:
    """The context with a default for every key the current templates read that an older one lacks."""
    return {**DEFAULTS, **context}
