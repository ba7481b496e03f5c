"""Korean telephone numbers: read as people write them, kept in E.164, told apart by kind. Pure.

Accepted: mobiles (010-1234-5678, and the old 011/016/017/018/019), landlines with their area code
(02-123-4567, 031-123-4567 ... 064), internet telephones (070), personal numbers (0502-0508), toll-free
numbers (080) and nationwide representative numbers (1588-1234), written with or without separators
(spaces, hyphens, dots, brackets), or in international form (+82 10-1234-5678, +82 (0)2 123 4567,
0082-10-...). Kept as E.164 (+821012345678). Only a mobile can receive an SMS (Act 27 notices by text).

A bounded regular expression on at most 30 characters, not a library: the Korean numbering plan is
short, and the same function serves intake (validation) and notify (may this number get an SMS?).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PhoneKind = Literal["mobile", "landline", "internet_phone", "personal_number", "toll_free", "representative"]

MAX_LENGTH = 30
_WRITTEN = re.compile(r"^(\+|\()?[0-9][0-9 ().-]{5,28}$")
_SEPARATORS = re.compile(r"[ ().-]")
# national significant numbers (after the trunk 0), by kind
_KINDS: tuple[tuple[PhoneKind, re.Pattern[str]], ...] = (
    ("mobile", re.compile(r"^(10[0-9]{8}|1[16789][0-9]{7,8})$")),
    ("landline", re.compile(r"^(2|3[1-3]|4[1-4]|5[1-5]|6[1-4])[1-9][0-9]{6,7}$")),
    ("internet_phone", re.compile(r"^70[1-9][0-9]{6,7}$")),
    ("personal_number", re.compile(r"^50[2-8][0-9]{7,8}$")),
    ("toll_free", re.compile(r"^80[0-9]{7,8}$")),
)
_REPRESENTATIVE = re.compile(r"^1[5-9][0-9]{2}[0-9]{4}$")  # 1588-1234: dialled as is, no trunk 0
_E164 = re.compile(r"^\+82[0-9]{8,11}$")


class NotAKoreanNumber(ValueError):
    pass


@dataclass(frozen=True)
class Phone:
    e164: str  # +821012345678
    kind: PhoneKind

    @property
    def sms_capable(self) -> bool:
        return self.kind == "mobile"

    @property
    def domestic(self) -> str:
        """As dialled in Korea, digits only: 01012345678, 021234567, 15881234."""
        return domestic(self.e164)


def parse(text: str) -> Phone:
    """A Korean number as written, or NotAKoreanNumber saying why not."""
    written = text.strip()
    if len(written) > MAX_LENGTH or not _WRITTEN.match(written):
        raise NotAKoreanNumber("not a telephone number")
    digits = _SEPARATORS.sub("", written)
    if digits.startswith("+") or digits.startswith("00"):
        international = digits.removeprefix("+").removeprefix("00")
        if not international.startswith("82"):
            raise NotAKoreanNumber("not a Korean number (+82)")
        national = international[2:]
        national = national[1:] if national.startswith("0") else national  # +82 (0)10 ...
    elif _REPRESENTATIVE.match(digits):
        return Phone("+82" + digits, "representative")
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        raise NotAKoreanNumber("a Korean number starts with its area or mobile code (0) or +82")
    if _REPRESENTATIVE.match(national):
        return Phone("+82" + national, "representative")
    for kind, pattern in _KINDS:
        if pattern.match(national):
            return Phone("+82" + national, kind)
    raise NotAKoreanNumber("not a Korean number: no such area or mobile code, or the wrong number of digits")


def kind_of(number: str | None) -> PhoneKind | None:
    """The kind of a stored number (E.164, or as an earlier release stored it), None if it reads as none."""
    if not number:
        return None
    try:
        return parse(number).kind
    except NotAKoreanNumber:
        return None


def domestic(number: str) -> str:
    """A stored E.164 number as dialled in Korea (what Korean SMS gateways take); anything else as given."""
    if not _E164.match(number):
        return number
    national = number[3:]
    return national if _REPRESENTATIVE.match(national) else "0" + national
