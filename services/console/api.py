"""The console's statistics over HTTP, as JSON and CSV, for the agencies' own reporting.

Authenticated like every other API, with an agency's API key (``charterwatch keys create``), every answer
scoped to the calling agency; errors as problem+json (the app installs ``services.platform.http.problems``);
inputs bounded (a year the working calendar counts, a month 1-12, a limit).

Two ways in: ``stats_router(stats, keys)`` is bound to what it reads (the console app includes it as it
is); ``router`` finds them on the app, as the other services' routes do (``install(app, stats)``, with the
access module's read sessions in ``app.state.keys``).
"""
# No ``from __future__ import annotations``: the routes are defined in ``build`` and FastAPI must read their
# parameter types (local Annotated aliases) as objects, not as names to look up in this module.
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
)
from fastapi.responses import Response
from sqlalchemy.orm import sessionmaker

from services.console.stats.common import year_bounds
from services.console.stats.compliance import Compliance, compliance, compliance_csv
from services.console.stats.overdue import OverdueCase, overdue_cases, overdue_csv
from services.console.stats.queue import QueueFilter, QueueItem, work_queue
from services.console.stats.reports import (
    OpenReport,
    UnknownMunicipality,
    YearlyReport,
    open_report,
    report_csv,
    yearly_report,
)
from services.console.stats.satisfaction import (
    Satisfaction,
    satisfaction,
    satisfaction_csv,
)
from services.platform.http.auth import agency as agency_of_app
from services.platform.http.auth import agency_of
from shared.charters import CharterBook
from shared.events.ids import ID_PATTERN
from shared.events.petition import Channel
from shared.instants import to_kst
from shared.periods import PetitionType
from shared.working_time import WorkingCalendar


@dataclass(frozen=True)
class Stats:
    """What the routes read: the console database's read sessions, the calendar, the charters, the clock."""

    readers: sessionmaker
    calendar: WorkingCalendar
    charters: CharterBook
    clock: Callable[[], datetime]


Year = Annotated[int | None, Query(ge=1, le=9999, description="the calendar year (default: this year)")]
Month = Annotated[int | None, Query(ge=1, le=12, description="1-12; none: the whole year")]
Municipality = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", description="the charter's id")]
ReportYear = Annotated[int, Path(ge=1, le=9999)]
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def _csv(text: str, name: str) -> Response:
    return Response(content=text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _year(s: Stats, year: int | None) -> int:
    chosen = year if year is not None else to_kst(s.clock()).year
    year_bounds(s.calendar, chosen)  # 422 naming ``year`` outside the calendar's years
    return chosen


def _report(s: Stats, agency_id: str, municipality: str, year: int) -> YearlyReport:
    year_bounds(s.calendar, year)
    with s.readers() as session:
        try:
            return yearly_report(session, agency_id, municipality, year, s.charters, s.clock())
        except UnknownMunicipality as exc:  # no charter, or a municipality the agency handles no petition of
            raise HTTPException(404, f"no report of {municipality} for {year}") from exc


def build(stats: Callable[..., Stats], caller: Callable[..., str]) -> APIRouter:
    """The routes, reading ``Stats`` and the calling agency through these dependencies."""
    Deps = Annotated[Stats, Depends(stats)]
    Agency = Annotated[str, Depends(caller)]
    router = APIRouter(prefix="/v1/stats", tags=["statistics"])

    @router.get("/queue", response_model=list[QueueItem], summary="Open cases, at risk or overdue first, then by the "
                                                                 "working time left on their nearest clock")
    def queue(s: Deps, agency_id: Agency, department: str | None = Query(default=None, min_length=1, max_length=100),
              official_id: str | None = Query(default=None, max_length=64, pattern=ID_PATTERN),
              petition_type: PetitionType | None = None, channel: Channel | None = None,
              number: str | None = Query(default=None, max_length=80, description=(
                  "a case number (dangjin-2026-000123) or the agency's receipt number (접수번호), exact: the "
                  "agency's cases of that number, whatever their status")),
              limit: int = Query(default=100, ge=1, le=1000)) -> list[QueueItem]:
        filters = QueueFilter(department, official_id, petition_type.value if petition_type else None,
                              channel.value if channel else None, number=number)
        with s.readers() as session:
            return work_queue(session, agency_id, s.calendar, s.clock(), filters, limit)

    @router.get("/overdue", response_model=list[OverdueCase],
                summary="Cases past their statutory deadline, open or completed late within a month (Decree 18)")
    def overdue(s: Deps, agency_id: Agency) -> list[OverdueCase]:
        with s.readers() as session:
            return overdue_cases(session, agency_id, s.calendar, s.clock())

    @router.get("/overdue.csv", response_class=Response, responses=CSV,
                summary="The overdue review as CSV (UTF-8 with BOM: opens in Korean Excel)")
    def overdue_as_csv(s: Deps, agency_id: Agency) -> Response:
        now = s.clock()
        with s.readers() as session:
            return _csv(overdue_csv(overdue_cases(session, agency_id, s.calendar, now)), f"overdue-{now:%Y-%m-%d}")

    @router.get("/compliance", response_model=list[Compliance], summary="Per department and month: received, completed, "
                "on time, processing time, breaches, vouchers, extensions, pauses, transfers")
    def compliance_json(s: Deps, agency_id: Agency, year: Year = None, month: Month = None) -> list[Compliance]:
        chosen = _year(s, year)
        with s.readers() as session:
            return compliance(session, agency_id, chosen, month)

    @router.get("/compliance.csv", response_class=Response, responses=CSV, summary="Compliance as CSV, one figure a row")
    def compliance_as_csv(s: Deps, agency_id: Agency, year: Year = None, month: Month = None) -> Response:
        chosen = _year(s, year)
        with s.readers() as session:
            text = compliance_csv(compliance(session, agency_id, chosen, month))
        return _csv(text, f"compliance-{chosen}" + (f"-{month:02d}" if month else ""))

    @router.get("/satisfaction", response_model=Satisfaction,
                summary="Result evaluations per official, department, type and month; response rate; trend")
    def satisfaction_json(s: Deps, agency_id: Agency, year: Year = None, month: Month = None) -> Satisfaction:
        chosen = _year(s, year)
        with s.readers() as session:
            return satisfaction(session, agency_id, chosen, month)

    @router.get("/satisfaction.csv", response_class=Response, responses=CSV, summary="Satisfaction as CSV, one group a row")
    def satisfaction_as_csv(s: Deps, agency_id: Agency, year: Year = None, month: Month = None) -> Response:
        chosen = _year(s, year)
        with s.readers() as session:
            text = satisfaction_csv(satisfaction(session, agency_id, chosen, month))
        return _csv(text, f"satisfaction-{chosen}" + (f"-{month:02d}" if month else ""))

    # The suffixed routes first: "{year}" alone would take "2026.json" and refuse it as no year.
    @router.get("/reports/{municipality}/{year}.json", response_model=OpenReport,
                summary="The yearly satisfaction report as open data (JSON), with its publication's status")
    def report_json(s: Deps, agency_id: Agency, municipality: Municipality, year: ReportYear) -> OpenReport:
        return open_report(_report(s, agency_id, municipality, year))

    @router.get("/reports/{municipality}/{year}.csv", response_class=Response, responses=CSV,
                summary="The yearly satisfaction report as open data (CSV)")
    def report_as_csv(s: Deps, agency_id: Agency, municipality: Municipality, year: ReportYear) -> Response:
        return _csv(report_csv(_report(s, agency_id, municipality, year)), f"satisfaction-report-{municipality}-{year}")

    @router.get("/reports/{municipality}/{year}", response_model=OpenReport,
                summary="The yearly satisfaction report (JSON, open data: never who published it)")
    def report(s: Deps, agency_id: Agency, municipality: Municipality, year: ReportYear) -> OpenReport:
        return open_report(_report(s, agency_id, municipality, year))

    return router


def _stats_of_app(request: Request) -> Stats:
    return request.app.state.stats  # type: ignore[no-any-return]


router = build(_stats_of_app, agency_of_app)


def install(app: FastAPI, stats: Stats) -> None:
    """Serve ``router`` from ``app``, which holds the access module's read sessions in ``app.state.keys``
    and has problem+json installed."""
    app.state.stats = stats
    app.include_router(router)


def stats_router(stats: Stats, keys: sessionmaker) -> APIRouter:
    """The routes bound to ``stats`` and to ``keys`` (the access module's read sessions): nothing on the app."""
    def caller(authorization: Annotated[str | None, Header(description="Bearer cw_<key id>.<secret>")] = None) -> str:
        return agency_of(keys, authorization)

    return build(lambda: stats, caller)
