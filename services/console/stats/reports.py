"""The yearly satisfaction report (고객만족도 조사; Yeonje-gu Y5, Dangjin D13): per municipality and
year, the survey period being the calendar year, and its publication as an obligation like the others:
it opens when the period closes and is breached if the report is not published within the charter's
``publish_within_days`` (``shared.charters.model.SatisfactionSurvey``).

The report is open data: scores, counts and response rates by petition type, department and month;
never an official's name nor a citizen's comment.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.console.projection.orm import CaseRow, ReportPublicationRow
from services.console.stats.common import month_of, period
from services.console.stats.satisfaction import (
    Group,
    Summary,
    grouped,
    groups_csv,
    scope,
    summarize,
)
from shared.charters import CharterBook, NoCharterInForce
from shared.charters.model import SatisfactionSurvey
from shared.instants import to_kst

PublicationStatus = Literal["not_promised", "survey_running", "open", "published_on_time", "published_late",
                            "breached"]


@dataclass(frozen=True)
class OpenPublication:
    """Where the publication stands, as open data says it: never who published it."""

    status: PublicationStatus
    promise_id: str | None
    publish_within_days: int | None
    opens_at: datetime  # the survey period closes: the obligation opens
    due_at: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class Publication(OpenPublication):
    """The publication as the console knows it: with the account that published it (its pages show it to the
    agency's officials; open data never does)."""

    published_by: str | None


@dataclass(frozen=True)
class YearlyReport:
    municipality_id: str
    municipality: str  # the charter's Korean name
    charter_id: str
    charter_version: str
    year: int
    start: datetime
    end: datetime
    summary: Summary
    by_petition_type: list[Group]
    by_department: list[Group]
    by_month: list[Group]
    publication: Publication


@dataclass(frozen=True)
class OpenReport:
    """The yearly report as open data (the statistics API, the page's .json): ``YearlyReport`` without the
    publisher."""

    municipality_id: str
    municipality: str
    charter_id: str
    charter_version: str
    year: int
    start: datetime
    end: datetime
    summary: Summary
    by_petition_type: list[Group]
    by_department: list[Group]
    by_month: list[Group]
    publication: OpenPublication


def open_report(r: YearlyReport) -> OpenReport:
    p = r.publication
    return OpenReport(r.municipality_id, r.municipality, r.charter_id, r.charter_version, r.year, r.start, r.end,
                      r.summary, r.by_petition_type, r.by_department, r.by_month,
                      OpenPublication(p.status, p.promise_id, p.publish_within_days, p.opens_at, p.due_at,
                                      p.published_at))


def publication_status(opens_at: datetime, due_at: datetime | None, published_at: datetime | None,
                       now: datetime) -> PublicationStatus:
    """Pure: where the publication obligation stands at ``now``."""
    if due_at is None:
        return "not_promised"
    if published_at is not None:
        return "published_on_time" if published_at <= due_at else "published_late"
    if now < opens_at:
        return "survey_running"
    return "open" if now <= due_at else "breached"


class UnknownMunicipality(LookupError):
    """No charter of this municipality was in force at the survey period's end, or the agency handles none of
    its petitions (``municipalities``): another agency's municipality is answered as one that has none."""


def municipalities(session: Session, agency_id: str) -> dict[str, int]:
    """The municipalities whose petitions this agency handles (or whose report it published): the first
    year it has a petition of each."""
    out: dict[str, int] = {}
    for municipality_id, first in session.execute(
            select(CaseRow.municipality_id, func.min(CaseRow.arrived_at)).where(CaseRow.agency_id == agency_id)
            .group_by(CaseRow.municipality_id)):
        out[municipality_id] = to_kst(first).year
    for municipality_id, year in session.execute(
            select(ReportPublicationRow.municipality_id, func.min(ReportPublicationRow.year))
            .where(ReportPublicationRow.agency_id == agency_id).group_by(ReportPublicationRow.municipality_id)):
        out[municipality_id] = min(out.get(municipality_id, year), year)
    return out


def yearly_report(session: Session, agency_id: str, municipality_id: str, year: int, charters: CharterBook,
                  now: datetime) -> YearlyReport:
    start, end = period(year)
    if municipality_id not in municipalities(session, agency_id):
        raise UnknownMunicipality(municipality_id)  # another agency's municipality: as if it had no charter
    try:
        charter = charters.in_force(municipality_id, end - timedelta(microseconds=1))
    except NoCharterInForce as exc:
        raise UnknownMunicipality(municipality_id) from exc
    survey = next(iter(charter.promises_of(SatisfactionSurvey)), None)
    due = end + timedelta(days=survey.publish_within_days) if survey else None  # calendar days from the close
    published = session.get(ReportPublicationRow, (municipality_id, year, agency_id))
    at = published.published_at if published else None
    evaluations, completed, evaluated = scope(session, agency_id, start, end, municipality_id)
    return YearlyReport(
        municipality_id, charter.municipality, charter.id, charter.version, year, start, end,
        summarize(evaluations, completed, evaluated),
        grouped(evaluations, completed, evaluated, lambda e: e.petition_type, lambda c: c.petition_type),
        grouped(evaluations, completed, evaluated, lambda e: e.department, lambda c: c.department),
        grouped(evaluations, completed, evaluated, lambda e: month_of(e.at), lambda c: month_of(c.resolved_at)),  # type: ignore[arg-type]
        Publication(publication_status(end, due, at, now), survey.id if survey else None,
                    survey.publish_within_days if survey else None, end, due, at,
                    published.published_by if published else None))


class NotClosed(ValueError):
    """A report is published once its survey period (the calendar year) has closed."""


def publish_report(session: Session, agency_id: str, municipality_id: str, year: int, at: datetime,
                   by: str) -> bool:
    """Record the publication (the caller commits); the first one counts. False when already published."""
    if at < period(year)[1]:
        raise NotClosed(f"the survey period of {year} closes at the end of the year")
    if session.get(ReportPublicationRow, (municipality_id, year, agency_id)) is not None:
        return False
    session.add(ReportPublicationRow(municipality_id=municipality_id, year=year, agency_id=agency_id,
                                     published_at=at, published_by=by))
    return True


def report_csv(r: YearlyReport) -> str:
    return groups_csv([("total", [Group("total", f"{r.municipality} {r.year}", r.summary)]),
                       ("petition_type", r.by_petition_type), ("department", r.by_department),
                       ("month", r.by_month)])
