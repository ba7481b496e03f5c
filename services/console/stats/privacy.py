"""What the console never shows of the citizens, and whose evaluations an official may read.

- **Contacts**: the projection keeps no applicant data (``projection.handler.scrub``), but citizens and
  officials type free text: a title, a comment, a supplement request's items, a reason. A phone number,
  e-mail address or resident registration number in such text is masked (``without_contacts``) wherever
  the console shows or returns it: pages, the statistics API, CSVs. The statistics functions mask what
  they return, so every way out shares one rule.
- **Evaluations** (처리결과 평가, D12) feed the review of the official evaluated: an official reads the
  evaluations of their own work only; department heads, auditors and administrators read the agency's.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "(연락처 가림)"
# Contacts a citizen may type into free text: shown masked (the console never shows a citizen's contacts).
_CONTACTS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail
    r"|\d{6}\s*-\s*[1-8]\d{6}"  # resident registration number
    r"|(?:\+?82[-.\s]?)?0?1[016789][-.\s]?\d{3,4}[-.\s]?\d{4}"  # mobile
    r"|0\d{1,2}[-.\s)]\s*\d{3,4}[-.\s]?\d{4}")  # landline

# Roles that read every official's evaluations; an official reads their own.
SEES_EVERY_OFFICIAL = frozenset({"department_head", "auditor", "administrator"})


def without_contacts(text: str) -> str:
    """Free text with any e-mail address, phone number or resident number masked."""
    return _CONTACTS.sub(MASK, text)


def masked(value: Any) -> Any:
    """``without_contacts`` applied to every string in a JSON-like value (a stored fact's payload)."""
    if isinstance(value, str):
        return without_contacts(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def sees_evaluation(role: str, official_id: str | None, evaluated: str | None) -> bool:
    """May an account of ``role`` (an official: ``official_id``) read an evaluation of the work of the
    official ``evaluated`` (the one the case was assigned to when it was evaluated)?"""
    return role in SEES_EVERY_OFFICIAL or (official_id is not None and evaluated == official_id)
