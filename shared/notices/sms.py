"""Korean SMS sizing. Gateways count bytes in EUC-KR (CP949 in practice, which covers every
Hangul syllable): up to 90 bytes is an SMS; longer is an LMS of up to 2,000 bytes; longer
still is split into numbered LMS parts at line ends. Every decision is returned, never hidden."""
from __future__ import annotations

from dataclasses import dataclass

SMS_BYTES = 90
LMS_BYTES = 2000
ENCODING = "cp949"


def size(text: str) -> int:
    return len(text.encode(ENCODING, errors="replace"))


@dataclass(frozen=True)
class SmsPlan:
    message_type: str  # "SMS" or "LMS"
    parts: tuple[str, ...]
    bytes: int  # of the whole text
    unencodable: int  # characters CP949 cannot carry (sent as '?')

    @property
    def split(self) -> bool:
        return len(self.parts) > 1


def plan(text: str) -> SmsPlan:
    unencodable = sum(1 for ch in text if not _encodable(ch))
    total = size(text)
    if total <= SMS_BYTES:
        return SmsPlan("SMS", (text,), total, unencodable)
    if total <= LMS_BYTES:
        return SmsPlan("LMS", (text,), total, unencodable)
    return SmsPlan("LMS", _split(text), total, unencodable)


def _encodable(ch: str) -> bool:
    try:
        ch.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _split(text: str) -> tuple[str, ...]:
    budget = LMS_BYTES - size("(99/99)\n")  # room for the part label
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while size(line) > budget:  # a single overlong line is cut by characters
            cut = len(line)
            while size(line[:cut]) > budget:
                cut -= 1
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        if size(current + line) > budget:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    n = len(parts)
    return tuple(f"({i}/{n})\n{p}" for i, p in enumerate(parts, 1))
