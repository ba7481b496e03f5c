"""Citizens' result evaluations (처리결과 평가, D12: a score of 1-5 and a comment): per official,
department, petition type and month; the response rate (completed cases evaluated); the comments; the
trend against the same period a year earlier.

An evaluation counts under the official, department and type the case had when it was given; a
completed case, under those it has now (the same, unless it moved after its result).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.console.projection.orm import CaseRow, EvaluationRow
from services.console.stats.common import (
    COMPLETED,
    csv_text,
    month_of,
    period,
    rate,
    within,
)
from services.console.stats.privacy import without_contacts


@dataclass(frozen=True)
class Summary:
    evaluations: int
    average_score: float | None
    distribution: dict[int, int]  # score (1-5) -> evaluations
    completed: int  # cases completed in the period
    evaluated_cases: int  # of those, the ones evaluated (whenever)
    response_rate: float | None


@dataclass(frozen=True)
class Group:
    key: str | None  # the official's id, the department, the petition type or the month (None: not assigned)
    label: str | None  # the official's name; otherwise the key
    summary: Summary


@dataclass(frozen=True)
class Comment:
    case_id: str
    at: datetime
    score: int
    comment: str
    department: str | None
    official_name: str | None
    petition_type: str


@dataclass(frozen=True)
class Trend:
    previous: Summary  # the same period a year earlier
    average_score_change: float | None
    response_rate_change: float | None
    evaluations_change: int


@dataclass(frozen=True)
class Satisfaction:
    start: datetime
    end: datetime
    summary: Summary
    by_official: list[Group]
    by_department: list[Group]
    by_petition_type: list[Group]
    by_month: list[Group]
    comments: list[Comment]  # newest first, contacts typed into them masked (stats.privacy)
    trend: Trend


def summarize(evaluations: list[EvaluationRow], completed: list[CaseRow], evaluated: set[str]) -> Summary:
    scores = [e.score for e in evaluations]
    answered = sum(c.case_id in evaluated for c in completed)
    return Summary(len(scores), sum(scores) / len(scores) if scores else None,
                   {s: scores.count(s) for s in range(1, 6)}, len(completed), answered, rate(answered, len(completed)))


def scope(session: Session, agency_id: str, start: datetime, end: datetime,
          municipality_id: str | None = None) -> tuple[list[EvaluationRow], list[CaseRow], set[str]]:
    """The period's evaluations, the cases completed in it, and which cases were ever evaluated."""
    e = select(EvaluationRow).where(EvaluationRow.agency_id == agency_id, EvaluationRow.at >= start,
                                    EvaluationRow.at < end)
    c = select(CaseRow).where(CaseRow.agency_id == agency_id, CaseRow.status.in_(COMPLETED),
                              CaseRow.resolved_at >= start, CaseRow.resolved_at < end)
    if municipality_id is not None:
        e, c = e.where(EvaluationRow.municipality_id == municipality_id), c.where(CaseRow.municipality_id == municipality_id)
    completed = list(session.execute(c).scalars())
    ids = [x.case_id for x in completed]
    evaluated: set[str] = set()
    for i in range(0, len(ids), 500):
        evaluated |= set(session.execute(select(EvaluationRow.case_id).where(
            EvaluationRow.agency_id == agency_id, EvaluationRow.case_id.in_(ids[i:i + 500]))).scalars())
    return list(session.execute(e.order_by(EvaluationRow.at)).scalars()), completed, evaluated


def grouped(evaluations: list[EvaluationRow], completed: list[CaseRow], evaluated: set[str],
            of_evaluation: Callable[[EvaluationRow], str | None], of_case: Callable[[CaseRow], str | None],
            labels: dict[str | None, str | None] | None = None) -> list[Group]:
    keys: Iterable[str | None] = {of_evaluation(e) for e in evaluations} | {of_case(c) for c in completed}
    return [Group(k, (labels or {}).get(k, k),
                  summarize([e for e in evaluations if of_evaluation(e) == k], [c for c in completed if of_case(c) == k],
                            evaluated))
            for k in sorted(keys, key=lambda k: (k is None, k or ""))]


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def satisfaction(session: Session, agency_id: str, year: int, month: int | None = None,
                 comments: int = 200) -> Satisfaction:
    start, end = period(year, month)
    evaluations, completed, evaluated = scope(session, agency_id, start, end)
    names: dict[str | None, str | None] = {c.official_id: c.official_name for c in completed}
    names.update({e.official_id: e.official_name for e in evaluations})  # the name when evaluated
    summary = summarize(evaluations, completed, evaluated)
    previous = summarize(*scope(session, agency_id, *period(year - 1, month)))
    return Satisfaction(
        start, end, summary,
        grouped(evaluations, completed, evaluated, lambda e: e.official_id, lambda c: c.official_id, names),
        grouped(evaluations, completed, evaluated, lambda e: e.department, lambda c: c.department),
        grouped(evaluations, completed, evaluated, lambda e: e.petition_type, lambda c: c.petition_type),
        grouped(evaluations, completed, evaluated, lambda e: month_of(e.at), lambda c: month_of(c.resolved_at)),  # type: ignore[arg-type]
        [Comment(e.case_id, e.at, e.score, without_contacts(e.comment), e.department, e.official_name,
                 e.petition_type)
         for e in reversed(evaluations) if e.comment and within(e.at, start, end)][:comments],
        Trend(previous, _change(summary.average_score, previous.average_score),
              _change(summary.response_rate, previous.response_rate), summary.evaluations - previous.evaluations))


def groups_csv(sections: list[tuple[str, list[Group]]]) -> str:
    """One row per group: what it is, its evaluations and scores, and its response rate."""
    rows: list[list[object]] = []
    for name, groups in sections:
        for g in groups:
            s = g.summary
            rows.append([name, g.key or "(미배정)", g.label or "", s.evaluations,
                         None if s.average_score is None else round(s.average_score, 3),
                         *[s.distribution[i] for i in range(1, 6)], s.completed, s.evaluated_cases,
                         None if s.response_rate is None else round(s.response_rate, 4)])
    return csv_text(["구분", "코드", "이름", "평가 건수", "평균 점수", "1점", "2점", "3점", "4점", "5점", "처리 완료",
                     "평가된 민원", "응답률"], rows)


def satisfaction_csv(s: Satisfaction) -> str:
    whole = Group("total", "전체", s.summary)
    return groups_csv([("total", [whole]), ("official", s.by_official), ("department", s.by_department),
                       ("petition_type", s.by_petition_type), ("month", s.by_month),
                       ("previous_year", [Group("total", "전년 동기", s.trend.previous)])])
