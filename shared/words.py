"""English words in messages that count or name things: "1 case", "2 cases"; "a proposed", "an issued"."""
from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun agreeing with it: count(1, "promise") == "1 promise", count(3, "case") == "3 cases"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def a(word: str) -> str:
    """The word with its indefinite article by its first letter: a(`proposed`) == "a proposed", "an issued"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
