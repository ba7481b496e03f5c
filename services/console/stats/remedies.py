"""What the remedies page reads from the console's projection besides the compensation API: personnel-action
referrals (Dangjin D11, Yeonje-gu Y4: strikes accumulated), findings withdrawn (their vouchers cancelled,
never deleted) with the reason the petition fact gives, and the names of the agency's officials.

Scoped to the calling agency like every statistic: rows of another agency's cases are never read. A
referral or a withdrawal is the agency's that handled the case then (its official's): it stays on its list
after the case was transferred to another agency, without the case's title or link (the case is no longer
the agency's to open).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from services.console.projection.orm import CaseFactRow, CaseRow, RemedyRow
from services.console.stats.privacy import without_contacts


@dataclass(frozen=True)
class Referral:
    case_id: str
    title: str | None  # None: the case was transferred to another agency since
    official_id: str | None
    cause: str | None
    at: datetime


@dataclass(frozen=True)
class Withdrawal:
    case_id: str
    title: str | None  # None: the case was transferred to another agency since
    finding: str | None
    reason: str
    at: datetime


def referrals(session: Session, agency_id: str) -> list[Referral]:
    """Personnel-action referrals (인사조치 회부), newest first."""
    rows = session.execute(select(RemedyRow, _title(agency_id)).join(CaseRow, CaseRow.case_id == RemedyRow.case_id)
                           .where(RemedyRow.agency_id == agency_id, RemedyRow.kind == "referral")
                           .order_by(RemedyRow.at.desc(), RemedyRow.event_id)).all()
    return [Referral(r.case_id, _masked(title), r.official_id, r.cause, r.at) for r, title in rows]


def _title(agency_id: str):  # type: ignore[no-untyped-def]
    """The case's title while the agency handles it; NULL once another agency does."""
    return case((CaseRow.agency_id == agency_id, CaseRow.title), else_=None)


def _masked(title: str | None) -> str | None:
    return without_contacts(title) if title is not None else None


def withdrawn_findings(session: Session, agency_id: str) -> list[Withdrawal]:
    """Findings withdrawn, newest first, each with the reason its FindingWithdrawn fact states."""
    rows = session.execute(select(RemedyRow, _title(agency_id)).join(CaseRow, CaseRow.case_id == RemedyRow.case_id)
                           .where(RemedyRow.agency_id == agency_id, RemedyRow.kind == "finding_withdrawn")
                           .order_by(RemedyRow.at.desc(), RemedyRow.event_id)).all()
    out = []
    for r, title in rows:
        reason = ""
        for envelope in session.execute(select(CaseFactRow.envelope).where(
                CaseFactRow.case_id == r.case_id, CaseFactRow.event_type == "FindingWithdrawn",
                CaseFactRow.occurred_at == r.at)).scalars():
            payload = json.loads(envelope).get("payload", {})
            if payload.get("finding") == r.cause:
                reason = str(payload.get("reason", ""))
        out.append(Withdrawal(r.case_id, _masked(title), r.cause, without_contacts(reason), r.at))
    return out


def official_names(session: Session, agency_id: str) -> dict[str, str]:
    """official id -> the name the agency's cases carry (the latest assignment's)."""
    rows = session.execute(select(CaseRow.official_id, CaseRow.official_name).where(
        CaseRow.agency_id == agency_id, CaseRow.official_id.is_not(None)).order_by(CaseRow.last_event_at)).all()
    return {oid: name for oid, name in rows if oid and name}


@dataclass(frozen=True)
class CaseLabel:
    """How a voucher's case is named on the page: its title and who handles it."""

    title: str
    department: str | None
    official_id: str | None
    official_name: str | None


def case_labels(session: Session, agency_id: str, case_ids: list[str]) -> dict[str, CaseLabel]:
    """The agency's cases among ``case_ids`` (another agency's are left out, as if missing)."""
    out: dict[str, CaseLabel] = {}
    for i in range(0, len(case_ids), 500):  # bounded IN lists
        for c in session.execute(select(CaseRow).where(CaseRow.agency_id == agency_id,
                                                       CaseRow.case_id.in_(case_ids[i:i + 500]))).scalars():
            out[c.case_id] = CaseLabel(without_contacts(c.title), c.department, c.official_id, c.official_name)
    return out
