"""처리 현황 (/compliance): per department and month, petitions received and completed, on time against the
statutory deadline and the charter's target, processing time by petition type against the statutory
period, breaches and warnings by obligation, vouchers by cause, extensions, pauses and transfers
(``services.console.stats.compliance``), as charts with the same numbers in tables beside them, and as
CSV (``/compliance.csv``: the statistics API's CSV, served to the signed-in browser without an API key).

Every role of the agency reads it; every figure is the signed-in account's agency's.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.console.accounts.users import User
from services.console.stats.compliance import Compliance, compliance, compliance_csv
from services.console.web.pages.stats_words import (
    CAUSES,
    FORMATS,
    OBLIGATIONS,
    PETITION_TYPES,
    UNASSIGNED,
    Chart,
    Chosen,
    charts_json,
    chosen_period,
    department,
    ko,
    month_words,
    percent_value,
)
from services.console.web.render import render
from services.console.web.security import CurrentUser, console_of
from shared.working_time import WorkingCalendar

YearParam = Annotated[int | None, Query(ge=1, le=9999)]
MonthParam = Annotated[str | None, Query(max_length=2, pattern=r"^(|[1-9]|1[0-2])$")]  # "" from the form: all
DepartmentParam = Annotated[str | None, Query(max_length=100)]


@dataclass
class Totals:
    """Counts of one department, one month or the whole agency over the period shown (sums of entries)."""

    label: str
    received: int = 0
    completed: int = 0
    on_time_statutory: int = 0
    completed_with_target: int = 0
    on_time_target: int = 0
    extensions: int = 0
    pauses: int = 0
    transfers: int = 0
    breaches: int = 0
    warnings: int = 0
    vouchers: int = 0
    voucher_amount_won: int = 0

    def add(self, e: Compliance) -> None:
        for name in ("received", "completed", "on_time_statutory", "completed_with_target", "on_time_target",
                     "extensions", "pauses", "transfers"):
            setattr(self, name, getattr(self, name) + getattr(e, name))
        self.breaches += sum(e.breaches.values())
        self.warnings += sum(e.warnings.values())
        self.vouchers += sum(v.count for v in e.vouchers.values())
        self.voucher_amount_won += sum(v.amount_won for v in e.vouchers.values())

    @property
    def rate_statutory(self) -> float | None:
        return self.on_time_statutory / self.completed if self.completed else None

    @property
    def rate_target(self) -> float | None:
        return self.on_time_target / self.completed_with_target if self.completed_with_target else None


@dataclass
class TypeTotals:
    """Completed cases of one petition type over the period: averages weighted by each entry's cases."""

    petition_type: str
    cases: int = 0
    _days: float = 0.0
    _statutory: float = 0.0
    _with_period: int = 0

    @property
    def label(self) -> str:
        return ko(PETITION_TYPES, self.petition_type)

    @property
    def average_working_days(self) -> float | None:
        return self._days / self.cases if self.cases else None

    @property
    def average_statutory_days(self) -> float | None:
        return self._statutory / self._with_period if self._with_period else None


@dataclass
class KindTotals:
    label: str
    breaches: int = 0
    warnings: int = 0


@dataclass
class CauseTotals:
    label: str
    count: int = 0
    amount_won: int = 0


@dataclass
class Overview:
    """What the page shows, gathered from the entries (per department and month) of the period."""

    entries: list[Compliance]
    agency: Totals = field(default_factory=lambda: Totals("기관 전체"))
    departments: list[Totals] = field(default_factory=list)
    months: list[Totals] = field(default_factory=list)
    types: list[TypeTotals] = field(default_factory=list)
    kinds: list[KindTotals] = field(default_factory=list)
    causes: list[CauseTotals] = field(default_factory=list)


def overview(entries: list[Compliance]) -> Overview:
    out = Overview(entries)
    departments: dict[str, Totals] = {}
    months: dict[str, Totals] = {}
    types: dict[str, TypeTotals] = {}
    kinds: dict[str, KindTotals] = defaultdict(lambda: KindTotals(""))
    causes: dict[str, CauseTotals] = defaultdict(lambda: CauseTotals(""))
    for e in entries:  # sorted by department, then month
        out.agency.add(e)
        departments.setdefault(department(e.department), Totals(department(e.department))).add(e)
        months.setdefault(e.month, Totals(month_words(e.month))).add(e)
        for t, p in e.processing.items():
            x = types.setdefault(t, TypeTotals(t))
            x.cases += p.cases
            x._days += p.average_working_days * p.cases
            if p.average_statutory_days is not None:
                x._statutory += p.average_statutory_days * p.cases
                x._with_period += p.cases
        for kind, n in e.breaches.items():
            kinds[kind].breaches += n
        for kind, n in e.warnings.items():
            kinds[kind].warnings += n
        for cause, v in e.vouchers.items():
            causes[cause].count += v.count
            causes[cause].amount_won += v.amount_won
    out.departments = list(departments.values())
    out.months = [months[m] for m in sorted(months)]
    out.types = [types[t] for t in sorted(types, key=lambda t: ko(PETITION_TYPES, t))]
    out.kinds = [KindTotals(ko(OBLIGATIONS, k), v.breaches, v.warnings) for k, v in sorted(kinds.items())]
    out.causes = [CauseTotals(ko(CAUSES, k), v.count, v.amount_won) for k, v in sorted(causes.items())]
    return out


def charts(o: Overview, whole_year: bool) -> dict[str, object]:
    names = [d.label for d in o.departments]
    made = [
        Chart("chart-volume", "bar", names, "건")
        .add("접수", [d.received for d in o.departments]).add("완료", [d.completed for d in o.departments]),
        Chart("chart-on-time", "bar", names, "%", max=100)
        .add("법정 처리기한 내 처리율", [percent_value(d.rate_statutory) for d in o.departments])
        .add("헌장 목표기한 내 처리율", [percent_value(d.rate_target) for d in o.departments]),
        Chart("chart-processing", "bar", [t.label for t in o.types], "근무일", horizontal=True)
        .add("평균 처리기간", [_round(t.average_working_days) for t in o.types])
        .add("법정 처리기간", [_round(t.average_statutory_days) for t in o.types]),
        Chart("chart-breaches", "bar", [k.label for k in o.kinds], "건", horizontal=True)
        .add("위반", [k.breaches for k in o.kinds]).add("경고 (헌장 목표 미달 등)", [k.warnings for k in o.kinds]),
        Chart("chart-vouchers", "bar", [c.label for c in o.causes], "원", horizontal=True)
        .add("보상 금액", [c.amount_won for c in o.causes]),
    ]
    if whole_year:
        labels = [m.label for m in o.months]
        made.append(Chart("chart-months", "line", labels, "건").add("접수", [m.received for m in o.months])
                    .add("완료", [m.completed for m in o.months]))
    return charts_json(*made)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _month(value: str | None) -> int | None:
    return int(value) if value else None


def _department_filter(entries: list[Compliance], chosen: str | None) -> list[Compliance]:
    if not chosen:
        return entries
    return [e for e in entries if department(e.department) == chosen]


def compliance_router(calendar: WorkingCalendar) -> APIRouter:
    router = APIRouter()

    def read(request: Request, user: User, year: int | None, month: str | None
             ) -> tuple[Chosen, list[Compliance]]:
        console = console_of(request)
        chosen = chosen_period(calendar, console.clock(), year, _month(month))
        with console.db.readers() as session:
            return chosen, compliance(session, user.agency_id, chosen.year, chosen.month)

    @router.get("/compliance", include_in_schema=False)
    def compliance_page(request: Request, user: CurrentUser, year: YearParam = None, month: MonthParam = None,
                        department: DepartmentParam = None) -> Response:
        chosen, entries = read(request, user, year, month)
        names = sorted({d for d in (_name(e) for e in entries) if d != UNASSIGNED}) + (
            [UNASSIGNED] if any(e.department is None for e in entries) else [])
        shown = _department_filter(entries, department)
        o = overview(shown)
        query = urlencode({"year": chosen.year, "month": chosen.month or "", **({"department": department}
                                                                                if department else {})})
        return render(request, "compliance.html", {
            "period": chosen, "months": range(1, 13), "departments": names, "department": department or "",
            "o": o, "charts": charts(o, chosen.month is None), "csv_query": query,
            "PETITION_TYPES": PETITION_TYPES, "OBLIGATIONS": OBLIGATIONS, "CAUSES": CAUSES, **FORMATS},
            nav="compliance")

    @router.get("/compliance.csv", include_in_schema=False)
    def compliance_download(request: Request, user: CurrentUser, year: YearParam = None, month: MonthParam = None,
                            department: DepartmentParam = None) -> Response:
        chosen, entries = read(request, user, year, month)
        return Response(compliance_csv(_department_filter(entries, department)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="compliance-{chosen.suffix}.csv"',
                                 "Cache-Control": "no-store"})

    return router


def _name(e: Compliance) -> str:
    return department(e.department)
