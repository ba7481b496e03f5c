"""Korean particles (조사) chosen by the final consonant (받침) of the word before them: 을/를, 이/가,
은/는, 과/와, 으로/로 (로 also after ㄹ). Pure."""
from __future__ import annotations

import re

RIEUL = 8  # ㄹ: the final consonant after which 으로 is 로
# Digits as read in Korean (영 일 이 삼 사 오 육 칠 팔 구): the final consonant of each reading.
_DIGIT_FINALS = {"0": 21, "1": RIEUL, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": RIEUL, "8": RIEUL, "9": 0}


def final_consonant(word: str) -> int:
    """The final consonant's index (0: none) of the word's last syllable; a trailing parenthesis is
    skipped (질의민원(제도·절차) reads as 질의민원); digits as read; Latin letters are taken as vowels."""
    last = re.sub(r"\s*\([^()]*\)$", "", word.rstrip())[-1:] or " "
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28
    return _DIGIT_FINALS.get(last, 0)


def josa(word: str, after_consonant: str, after_vowel: str) -> str:
    """The word with its particle: 상품권 + 을/를 -> 상품권을; 문화상품권 + 으로/로 -> 문화상품권으로; 서울 + 으로/로 -> 서울로."""
    final = final_consonant(word)
    vowel = not final or (after_consonant == "으로" and final == RIEUL)
    return word + (after_vowel if vowel else after_consonant)
