"""만족도 (/satisfaction): citizens' result evaluations (ResultEvaluated: a score of 1-5 and a comment) per
official, department, petition type and month; the response rate (cases completed in the period that
were evaluated); the comments; the trend against the same period a year earlier
(``services.console.stats.satisfaction``); and as CSV (``/satisfaction.csv``).

The comments are the citizens' own words: the console never shows the applicant's name or contacts
(the projection keeps neither), and a contact typed into a comment is shown masked (``stats.privacy``,
which masks it for the API and the CSVs too).

An official (담당 공무원) sees the agency's, departments' and types' figures and, of the per-official
figures and the comments, only their own: one official's evaluations are their department head's and
the auditors' to read (the evaluation feeds the official's review, D12), not their colleagues'.
"""
from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from services.console.accounts.users import User
from services.console.projection.orm import EvaluationRow
from services.console.stats.common import period
from services.console.stats.privacy import SEES_EVERY_OFFICIAL
from services.console.stats.satisfaction import (
    Group,
    Satisfaction,
    satisfaction,
    satisfaction_csv,
)
from services.console.web.pages.stats_words import (
    FORMATS,
    PETITION_TYPES,
    Chart,
    Chosen,
    charts_json,
    chosen_period,
    ko,
    month_words,
)
from services.console.web.render import render
from services.console.web.security import CurrentUser, console_of
from shared.working_time import WorkingCalendar

YearParam = Annotated[int | None, Query(ge=1, le=9999)]
MonthParam = Annotated[str | None, Query(max_length=2, pattern=r"^(|[1-9]|1[0-2])$")]  # "" from the form: all


def for_user(s: Satisfaction, user: User, own: set[tuple[str, object]]) -> Satisfaction:
    """What ``user`` may read of ``s``: all of it, or for an official their own per-official figures and the
    comments on evaluations of their own work (``own``: (case id, instant) of those evaluations)."""
    if user.role in SEES_EVERY_OFFICIAL:
        return s
    mine = [g for g in s.by_official if user.official_id is not None and g.key == user.official_id]
    return dataclasses.replace(s, by_official=mine, comments=[c for c in s.comments if (c.case_id, c.at) in own])


def _own_evaluations(request: Request, user: User, chosen: Chosen) -> set[tuple[str, object]]:
    if user.role in SEES_EVERY_OFFICIAL or user.official_id is None:
        return set()
    start, end = period(chosen.year, chosen.month)
    with console_of(request).db.readers() as session:
        return {(case_id, at) for case_id, at in session.execute(
            select(EvaluationRow.case_id, EvaluationRow.at).where(
                EvaluationRow.agency_id == user.agency_id, EvaluationRow.official_id == user.official_id,
                EvaluationRow.at >= start, EvaluationRow.at < end))}


def _by_month(groups: list[Group]) -> dict[int, Group]:
    return {int(g.key[5:]): g for g in groups if g.key}


def charts(s: Satisfaction, previous: Satisfaction, chosen: Chosen) -> dict[str, object]:
    scores = [f"{i}점" for i in range(1, 6)]
    made = [Chart("chart-scores", "bar", scores, "건")
            .add(f"{chosen.words}", [s.summary.distribution[i] for i in range(1, 6)])
            .add("전년 동기", [previous.summary.distribution[i] for i in range(1, 6)])]
    now, before = _by_month(s.by_month), _by_month(previous.by_month)
    months = sorted(set(now) | set(before))
    if months:
        made.append(Chart("chart-trend", "line", [f"{m}월" for m in months], "점", max=5)
                    .add(f"{chosen.year}년 평균 점수", [_avg(now.get(m)) for m in months])
                    .add(f"{chosen.year - 1}년 평균 점수", [_avg(before.get(m)) for m in months]))
    departments = s.by_department
    made.append(Chart("chart-departments", "bar", [g.label or "(미배정)" for g in departments], "점", max=5)
                .add("평균 점수", [_avg(g) for g in departments]))
    return charts_json(*made)


def _avg(g: Group | None) -> float | None:
    return None if g is None or g.summary.average_score is None else round(g.summary.average_score, 2)


def _month(value: str | None) -> int | None:
    return int(value) if value else None


def satisfaction_router(calendar: WorkingCalendar) -> APIRouter:
    router = APIRouter()

    def read(request: Request, user: User, year: int | None, month: str | None
             ) -> tuple[Chosen, Satisfaction, Satisfaction]:
        console = console_of(request)
        chosen = chosen_period(calendar, console.clock(), year, _month(month))
        with console.db.readers() as session:
            s = satisfaction(session, user.agency_id, chosen.year, chosen.month)
            previous = (satisfaction(session, user.agency_id, chosen.year - 1, chosen.month)
                        if chosen.year - 1 >= calendar.first_year else None)
        own = _own_evaluations(request, user, chosen)
        return chosen, for_user(s, user, own), previous or s  # no year before the calendar: compared to itself

    @router.get("/satisfaction", include_in_schema=False)
    def satisfaction_page(request: Request, user: CurrentUser, year: YearParam = None,
                          month: MonthParam = None) -> Response:
        chosen, s, previous = read(request, user, year, month)
        now, before = _by_month(s.by_month), _by_month(previous.by_month)
        trend = [(m, now.get(m), before.get(m)) for m in sorted(set(now) | set(before))]
        return render(request, "satisfaction.html", {
            "period": chosen, "s": s, "previous": previous, "trend": trend,
            "sees_every_official": user.role in SEES_EVERY_OFFICIAL,
            "comments": s.comments,  # contacts typed into them masked by the statistics (stats.privacy)
            "charts": charts(s, previous, chosen), "type_label": lambda t: ko(PETITION_TYPES, t),
            "month_words": month_words, **FORMATS}, nav="satisfaction")

    @router.get("/satisfaction.csv", include_in_schema=False)
    def satisfaction_download(request: Request, user: CurrentUser, year: YearParam = None,
                              month: MonthParam = None) -> Response:
        chosen, s, _ = read(request, user, year, month)
        return Response(satisfaction_csv(s), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="satisfaction-{chosen.suffix}.csv"',
                                 "Cache-Control": "no-store"})

    return router
