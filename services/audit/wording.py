"""Numbers an auditor reads: working time in days and hours, periods, amounts in won, instants in KST.

A working day is 8 working hours (Act 19-1: a period of 5 days or less is counted in working hours,
one day being 8 of them), so a count of working seconds reads as days and hours of 09:00-18:00 desk time.
"""
from __future__ import annotations

import re
from datetime import datetime

from shared.korean import josa  # noqa: F401  (re-exported: the audit's wording uses it)
from shared.notices.render import korean_instant
from shared.periods import Period
from shared.working_time import HOUR, WORKING_DAY_SECONDS


def working_duration(seconds: int) -> str:
    """687600 -> 23일 7시간; 5400 -> 1시간 30분; days are 8-hour working days."""
    if seconds <= 0:
        return "0분"
    days, rest = divmod(seconds, WORKING_DAY_SECONDS)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // 60
    parts = [f"{days}일" if days else "", f"{hours}시간" if hours else "", f"{minutes}분" if minutes else ""]
    return " ".join(p for p in parts if p) or "1분 미만"


def time_left(days: int | None, seconds: int | None) -> str | None:
    """What a paused count has left, both parts when both are there (an extension in hours of a period
    counted in days): 근무일 5일, 근무시간 2일, or 근무일 5일 + 근무시간 2일 (a working day is 8 hours)."""
    parts = []
    if days is not None:
        parts.append(f"근무일 {days}일")
    if seconds is not None:
        parts.append(f"근무시간 {working_duration(seconds)}")
    return " + ".join(parts) or None


def period_ko(text: str) -> str:
    """7d -> 7일, 3h -> 3시간 (근무시간); anything else (a calendar interval) as it is."""
    try:
        p = Period.parse(text)
    except ValueError:
        return text.replace(" calendar days", "일 (역일)")
    return f"{p.amount}일" if p.unit == "d" else f"{p.amount}시간 (근무시간)"


def period_phrase(text: str, counting: str) -> str:
    """7d, working_days -> 7일(근무일 기준); 3d, working_time -> 3일(근무시간 기준, 1일은 8시간); 3h -> 3시간(근무시간 기준)."""
    p = Period.parse(text)
    if p.unit == "h":
        return f"{p.amount}시간(근무시간 기준)"
    return f"{p.amount}일(근무일 기준)" if counting == "working_days" else f"{p.amount}일(근무시간 기준, 1일은 8시간)"


def won(amount: int) -> str:
    return f"{amount:,}원"


def instant(value: datetime | None, missing: str = "-") -> str:
    return korean_instant(value) if value is not None else missing


_LAWS = {"Act": "민원처리법", "Decree": "민원처리법 시행령", "정보공개법": "정보공개법"}
_CITATION = re.compile(r"(Act|Decree|정보공개법) ([0-9]+(?:-[0-9]+)?(?:, [0-9]+(?:-[0-9]+)?)*)")


def _article(ref: str) -> str:
    article, _, paragraph = ref.partition("-")
    return f"제{article}조" + (f" 제{paragraph}항" if paragraph else "")


def rule_ko(rule: str) -> str:
    """Act 19; Decree 17 -> 민원처리법 제19조; 민원처리법 시행령 제17조; charter dangjin D4 -> 헌장 약속 D4."""
    text = _CITATION.sub(lambda m: f"{_LAWS[m.group(1)]} " + "·".join(_article(a) for a in m.group(2).split(", ")),
                         rule)
    return re.sub(r"charter (?:\S+ )?([A-Z][0-9]+)$", r"헌장 약속 \1", text)

