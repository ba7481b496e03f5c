"""The console's read model: what the officials' pages and the statistics read, projected from the log.

Only the projection handler (``handler.py``) writes these tables, but ``console_report_publications``,
which records the console's own act of publishing a yearly satisfaction report. Every row carries the
agency it belongs to (or is reached through its case, which does), so every query can be scoped to one
agency.

A case is the agency's that handles it now (``CaseRow.agency_id``); what happened to it is the agency's
that handled it then. A fact, a breach, a voucher, a remedy and an evaluation each keep the agency handling
the case when it happened (a transfer to another agency is the sending agency's act) and a transfer never
moves them (Decree 13): the statistics count each for that agency. ``department`` on facts, breaches and
vouchers is, for an agency that has handed the case on, the department that last handled it there (stamped
at the transfer); for the agency handling the case now it is not used: the case's own department counts. Nothing here names the applicant: the sealed fields, the applicant reference and the body are
dropped before a petition fact is stored (``console_case_facts``); the title is kept (it is shown to
officials, as intake shows it).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.console.schema import Base


class CaseRow(Base):
    """One petition case as its petition facts fold (``shared.petition_case``) and its SLA events mark it."""

    __tablename__ = "console_cases"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The agency handling the case now: the filing one, or the one it was last transferred to (Decree 13).
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    municipality_id: Mapped[str] = mapped_column(String(64), nullable=False)
    charter_id: Mapped[str | None] = mapped_column(String(64))
    charter_version: Mapped[str | None] = mapped_column(String(32))
    petition_type: Mapped[str] = mapped_column(String(32), nullable=False)
    petition_kind: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)  # free text: shown, never logged
    # How people name the case (PetitionReceived v2; a case filed before has neither): the agency's receipt
    # number (접수번호, given at filing or at formal receipt) and the number intake assigned (민원번호). An
    # official searches by either; neither is unique across agencies, so every search is one agency's.
    receipt_number: Mapped[str | None] = mapped_column(String(64))
    case_number: Mapped[str | None] = mapped_column(String(80))
    department: Mapped[str | None] = mapped_column(String(100))
    official_id: Mapped[str | None] = mapped_column(String(64))
    official_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # shared.petition_case.Status
    arrived_at: Mapped[datetime] = mapped_column(nullable=False)
    received_at: Mapped[datetime | None] = mapped_column()  # the statutory clock starts here
    resolved_at: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(32))
    statutory_due_at: Mapped[datetime | None] = mapped_column()  # None while paused (Decree 20)
    statutory_period: Mapped[str | None] = mapped_column(String(8))  # "7d", "3h"
    counting: Mapped[str | None] = mapped_column(String(16))  # working_time (Act 19-1) / working_days (19-2)
    target_due_at: Mapped[datetime | None] = mapped_column()  # the charter's shorter target, if promised
    paused: Mapped[str | None] = mapped_column(String(32))  # the open pause's reason, or None
    remaining_working_seconds: Mapped[int | None] = mapped_column(Integer)  # when paused, time-counted
    remaining_working_days: Mapped[int | None] = mapped_column(Integer)  # when paused, day-counted
    # Working time from receipt to the result, pauses excluded: the processing time compared with the period.
    processing_working_seconds: Mapped[int | None] = mapped_column(Integer)
    extensions: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pauses: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    transfers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    at_risk: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # an obligation warned
    statutory_breached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    target_missed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # a warning, not a breach
    evaluation_score: Mapped[int | None] = mapped_column(Integer)  # the latest result evaluation (1-5)
    evaluation_comment: Mapped[str | None] = mapped_column(Text)
    evaluated_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False)  # petition facts folded: the case version
    last_event_at: Mapped[datetime] = mapped_column(nullable=False)  # the last fact's instant


class CaseFactRow(Base):
    """A petition fact, with the applicant's data removed: what the case is folded from again."""

    __tablename__ = "console_case_facts"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    envelope: Mapped[str] = mapped_column(Text, nullable=False)  # JSON, scrubbed (handler.scrub)
    # The agency handling the case when the fact happened (before it: a transfer is the sender's act).
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False)
    department: Mapped[str | None] = mapped_column(String(100))  # see the module's docstring


class SeenEventRow(Base):
    """SLA, compensation and notice events already applied: a redelivery changes nothing."""

    __tablename__ = "console_seen_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False)


class ObligationRow(Base):
    """One obligation of a case, as the SLA monitor last reported it."""

    __tablename__ = "console_obligations"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    obligation_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # open/at_risk/breached/discharged/suspended
    citizen_facing: Mapped[bool] = mapped_column(Boolean, nullable=False)
    severity: Mapped[str | None] = mapped_column(String(8))  # breach / warning, once breached
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # once discharged
    remaining_working_seconds: Mapped[int | None] = mapped_column(Integer)  # once suspended
    remaining_working_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class BreachRow(Base):
    """One ObligationBreached: an obligation can be breached more than once (an objection's new deadline)."""

    __tablename__ = "console_breaches"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False)  # handling the case when it was breached
    department: Mapped[str | None] = mapped_column(String(100))  # see the module's docstring
    obligation_id: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    severity: Mapped[str] = mapped_column(String(8), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)  # the breach's instant
    voided: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # a backdated fact met it


class NoticeRow(Base):
    __tablename__ = "console_notices"

    notice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)  # sent / failed
    at: Mapped[datetime] = mapped_column(nullable=False)
    template_id: Mapped[str] = mapped_column(String(64), nullable=False)
    template_version: Mapped[str] = mapped_column(String(32), nullable=False)


class VoucherRow(Base):
    __tablename__ = "console_vouchers"

    voucher_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    # The agency handling the case when the voucher was owed: its promise was broken.
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    department: Mapped[str | None] = mapped_column(String(100))  # see the module's docstring
    cause: Mapped[str] = mapped_column(String(32), nullable=False)
    amount_won: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # proposed/approved/issued/delivered/cancelled
    needs_approval: Mapped[bool] = mapped_column(Boolean, nullable=False)  # Seongnam: the department head's
    official_id: Mapped[str | None] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False)


class RemedyRow(Base):
    """An apology owed, a retraining order, a personnel-action referral, or a finding withdrawn."""

    __tablename__ = "console_remedies"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # apology/retraining/referral/finding_withdrawn
    cause: Mapped[str | None] = mapped_column(String(32))
    official_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(nullable=False)


class EvaluationRow(Base):
    """A result evaluation (처리결과 평가), attributed to the case's official, department and type at that time."""

    __tablename__ = "console_evaluations"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    agency_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    municipality_id: Mapped[str] = mapped_column(String(64), nullable=False)
    petition_type: Mapped[str] = mapped_column(String(32), nullable=False)
    department: Mapped[str | None] = mapped_column(String(100))
    official_id: Mapped[str | None] = mapped_column(String(64))
    official_name: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    at: Mapped[datetime] = mapped_column(nullable=False)


class ReportPublicationRow(Base):
    """When an agency published a municipality's yearly satisfaction report (Y5, D13): the first one counts."""

    __tablename__ = "console_report_publications"

    municipality_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(nullable=False)
    published_by: Mapped[str] = mapped_column(String(64), nullable=False)


Index("ix_console_cases_agency_status", CaseRow.agency_id, CaseRow.status)
Index("ix_console_case_facts_agency_occurred", CaseFactRow.agency_id, CaseFactRow.occurred_at)
Index("ix_console_breaches_agency_due", BreachRow.agency_id, BreachRow.due_at)
Index("ix_console_cases_agency_received", CaseRow.agency_id, CaseRow.received_at)
Index("ix_console_cases_agency_resolved", CaseRow.agency_id, CaseRow.resolved_at)
Index("ix_console_cases_agency_case_number", CaseRow.agency_id, CaseRow.case_number)
Index("ix_console_cases_agency_receipt_number", CaseRow.agency_id, CaseRow.receipt_number)
