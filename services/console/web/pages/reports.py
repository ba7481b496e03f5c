"""연간 보고서 (/reports): the yearly satisfaction report per municipality and year
(``services.console.stats.reports``), and its publication as an obligation (Yeonje-gu Y5, Dangjin D13:
published within ``publish_within_days`` of the survey period's close).

- ``/reports``: the agency's municipalities and years, each with its obligation's status and due date.
- ``/reports/{municipality}/{year}``: the report as a printable page (print CSS), its obligation, and the
  publishing form for a department head or an administrator (POST, CSRF: the first publication counts).
- ``.pdf`` (typeset with a Korean font by ``services.platform.pdf``), ``.csv`` and ``.json``: the report
  as a document and as open data, with its publication date. Everyone of the agency downloads a published
  report; before publication, the draft is downloaded by those who publish it.

The report is open data: scores, counts and response rates by petition type, department and month;
never an official's name nor a citizen's comment.
"""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from services.console.accounts.users import User
from services.console.projection.orm import ReportPublicationRow
from services.console.stats.common import csv_text, period
from services.console.stats.reports import (
    NotClosed,
    Publication,
    UnknownMunicipality,
    YearlyReport,
    municipalities,
    open_report,
    publication_status,
    publish_report,
    yearly_report,
)
from services.console.stats.satisfaction import Group
from services.console.web.pages.stats_words import (
    FORMATS,
    PETITION_TYPES,
    PUBLICATION,
    Chart,
    charts_json,
    date_words,
    ko,
    last_day_words,
)
from services.console.web.render import render, templates
from services.console.web.security import CurrentUser, console_of, require_role
from services.platform.logs import get_logger
from services.platform.pdf import PdfUnavailable, as_pdf
from shared.charters import CharterBook, NoCharterInForce
from shared.charters.model import SatisfactionSurvey
from shared.instants import to_kst
from shared.working_time import WorkingCalendar

log = get_logger("console")
PUBLISHERS = ("department_head", "administrator")
Municipality = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
Year = Annotated[int, Path(ge=1, le=9999)]
Publisher = Annotated[User, Depends(require_role(*PUBLISHERS))]


@dataclasses.dataclass(frozen=True)
class Obligation:
    """One row of the index: a municipality's year and where its publication stands."""

    municipality_id: str
    municipality: str
    year: int
    promise_id: str | None
    promise_text: str | None
    publication: Publication

    @property
    def href(self) -> str:
        return f"/reports/{self.municipality_id}/{self.year}"


def obligation(session: Session, agency_id: str, municipality_id: str, year: int, charters: CharterBook,
               now: datetime) -> Obligation | None:
    """The publication obligation alone (the index lists many years: no statistics are read), as
    ``yearly_report`` states it; None when no charter of the municipality was in force at the year's end."""
    start, end = period(year)
    try:
        charter = charters.in_force(municipality_id, end - timedelta(microseconds=1))
    except NoCharterInForce:
        return None
    survey = next(iter(charter.promises_of(SatisfactionSurvey)), None)
    due = end + timedelta(days=survey.publish_within_days) if survey else None
    row = session.get(ReportPublicationRow, (municipality_id, year, agency_id))
    at = row.published_at if row else None
    return Obligation(municipality_id, charter.municipality, year, survey.id if survey else None,
                      survey.text if survey else None,
                      Publication(publication_status(end, due, at, now), survey.id if survey else None,
                                  survey.publish_within_days if survey else None, end, due, at,
                                  row.published_by if row else None))


def open_data_csv(r: YearlyReport) -> str:
    """The report as open data: one row per group, each naming the municipality, the year and the
    publication date (empty before publication)."""
    published = to_kst(r.publication.published_at).date().isoformat() if r.publication.published_at else ""
    rows: list[list[object]] = []
    sections: list[tuple[str, list[Group]]] = [
        ("total", [Group("total", "전체", r.summary)]), ("petition_type", r.by_petition_type),
        ("department", r.by_department), ("month", r.by_month)]
    for name, groups in sections:
        for g in groups:
            s = g.summary
            label = ko(PETITION_TYPES, g.key) if name == "petition_type" else (g.label or "(미배정)")
            rows.append([r.municipality_id, r.municipality, r.year, published, name, g.key or "(미배정)", label,
                         s.evaluations, None if s.average_score is None else round(s.average_score, 3),
                         *[s.distribution[i] for i in range(1, 6)], s.completed, s.evaluated_cases,
                         None if s.response_rate is None else round(s.response_rate, 4)])
    return csv_text(["지자체코드", "지자체", "연도", "공표일", "구분", "코드", "이름", "평가 건수", "평균 점수", "1점", "2점",
                     "3점", "4점", "5점", "처리 완료", "평가된 민원", "응답률"], rows)


def open_data_json(r: YearlyReport) -> dict[str, Any]:
    """The report as the statistics API gives it (open data: never who published it), with ``published_on``."""
    data: dict[str, Any] = jsonable_encoder(open_report(r))
    data["published_on"] = (to_kst(r.publication.published_at).date().isoformat()
                            if r.publication.published_at else None)
    return data


def report_charts(r: YearlyReport) -> dict[str, object]:
    months = [g for g in r.by_month if g.key]
    return charts_json(
        Chart("chart-scores", "bar", [f"{i}점" for i in range(1, 6)], "건")
        .add("평가 건수", [r.summary.distribution[i] for i in range(1, 6)]),
        Chart("chart-months", "line", [f"{int(g.key[5:])}월" for g in months if g.key], "점", max=5)
        .add("평균 점수", [None if g.summary.average_score is None else round(g.summary.average_score, 2)
                         for g in months]))


def reports_router(calendar: WorkingCalendar, charters: CharterBook) -> APIRouter:
    router = APIRouter()

    def report(request: Request, user: User, municipality: str, year: int) -> YearlyReport:
        if not calendar.first_year <= year <= calendar.last_year:
            raise HTTPException(404, "no such year")
        console = console_of(request)
        with console.db.readers() as session:
            try:  # another agency's municipality answers as one with no charter: not shown
                return yearly_report(session, user.agency_id, municipality, year, charters, console.clock())
            except UnknownMunicipality as exc:
                raise HTTPException(404, "no such report") from exc

    def downloadable(user: User, r: YearlyReport) -> None:
        """A published report: everyone of the agency; a draft: those who publish it."""
        if r.publication.published_at is None and user.role not in PUBLISHERS:
            raise HTTPException(403, "not published yet")

    def context(r: YearlyReport) -> dict[str, Any]:
        words, colour = PUBLICATION[r.publication.status]
        charter = charters.get(r.charter_id, r.charter_version)
        survey = next(iter(charter.promises_of(SatisfactionSurvey)), None)
        return {"r": r, "status_words": words, "status_colour": colour, "promise_text": survey.text if survey else None,
                "period_words": f"{date_words(r.start)} ~ {last_day_words(r.end)}", "type_label":
                lambda t: ko(PETITION_TYPES, t), "name": f"satisfaction-report-{r.municipality_id}-{r.year}",
                **FORMATS}

    @router.get("/reports", include_in_schema=False)
    def reports_index(request: Request, user: CurrentUser) -> Response:
        console = console_of(request)
        now = console.clock()
        this_year = to_kst(now).year
        rows: list[Obligation] = []
        with console.db.readers() as session:
            for municipality_id, first in sorted(municipalities(session, user.agency_id).items()):
                for year in range(min(this_year, calendar.last_year), max(first, calendar.first_year) - 1, -1):
                    o = obligation(session, user.agency_id, municipality_id, year, charters, now)
                    if o is not None:
                        rows.append(o)
        rows.sort(key=lambda o: (-o.year, o.municipality))
        return render(request, "reports.html", {"rows": rows, "PUBLICATION": PUBLICATION, **FORMATS}, nav="reports")

    @router.get("/reports/{municipality}/{year}.pdf", include_in_schema=False)
    async def report_pdf(request: Request, user: CurrentUser, municipality: Municipality, year: Year) -> Response:
        r = await run_in_threadpool(report, request, user, municipality, year)
        downloadable(user, r)
        values = context(r)
        html = templates.get_template("report_document.html").render(values)
        try:
            pdf = await run_in_threadpool(as_pdf, html)
        except PdfUnavailable as exc:
            log.warning("console_report_pdf_unavailable", reason=str(exc))
            raise HTTPException(503, "PDF unavailable") from exc
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{values["name"]}.pdf"', "Cache-Control": "no-store"})

    @router.get("/reports/{municipality}/{year}.csv", include_in_schema=False)
    def report_csv_download(request: Request, user: CurrentUser, municipality: Municipality, year: Year) -> Response:
        r = report(request, user, municipality, year)
        downloadable(user, r)
        return Response(open_data_csv(r), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="satisfaction-report-{municipality}-{year}.csv"',
            "Cache-Control": "no-store"})

    @router.get("/reports/{municipality}/{year}.json", include_in_schema=False)
    def report_json_download(request: Request, user: CurrentUser, municipality: Municipality, year: Year) -> Response:
        r = report(request, user, municipality, year)
        downloadable(user, r)
        return Response(json.dumps(open_data_json(r), ensure_ascii=False, indent=2), media_type="application/json",
                        headers={"Content-Disposition":
                                 f'attachment; filename="satisfaction-report-{municipality}-{year}.json"',
                                 "Cache-Control": "no-store"})

    @router.get("/reports/{municipality}/{year}", include_in_schema=False)
    def report_page(request: Request, user: CurrentUser, municipality: Municipality, year: Year,
                    published: str | None = None) -> Response:
        r = report(request, user, municipality, year)
        closed = console_of(request).clock() >= r.end
        return render(request, "report.html", {
            **context(r), "charts": report_charts(r), "just_published": published == "1" and r.publication.published_at is not None,
            "may_publish": user.role in PUBLISHERS, "closed": closed,
            "may_download": r.publication.published_at is not None or user.role in PUBLISHERS}, nav="reports")

    @router.post("/reports/{municipality}/{year}/publish", include_in_schema=False)
    def publish(request: Request, user: Publisher, municipality: Municipality, year: Year) -> Response:
        report(request, user, municipality, year)  # 404 for a municipality or year the agency cannot see
        console = console_of(request)
        with console.db.sessions.begin() as session:
            try:
                first = publish_report(session, user.agency_id, municipality, year, console.clock(), user.actor_id)
            except NotClosed:
                return render(request, "error.html", {
                    "status": 409, "title": "아직 공표할 수 없음",
                    "message": f"{year}년 조사 기간이 끝난 뒤(다음 해 1월 1일부터) 공표할 수 있습니다."}, status_code=409)
        log.info("console_report_published", user_id=user.user_id, municipality_id=municipality, year=year,
                 first=first)
        return RedirectResponse(f"/reports/{municipality}/{year}" + ("?published=1" if first else ""),
                                status_code=303)

    return router
