"""The replay report over HTTP, for the auditors of the agency that holds the case."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AwareDatetime

from services.audit.deps import Audit
from services.audit.report import as_html
from services.audit.service import case_report
from services.platform.http.auth import Agency
from services.platform.http.problems import CommandRejected
from shared.bounds import in_calendar

router = APIRouter()


def audit(request: Request) -> Audit:
    return request.app.state.audit  # type: ignore[no-any-return]


Deps = Annotated[Audit, Depends(audit)]


@router.get("/v1/audit/cases/{case_id}", tags=["audit"], response_model=None,
            summary="Replay a case from the log: every decision re-derived and compared (JSON or printable HTML)")
async def audit_case(case_id: str, a: Deps, agency_id: Agency, as_of: AwareDatetime | None = None,
                     format: Literal["json", "html"] = Query(default="json")) -> JSONResponse | HTMLResponse:  # noqa: A002
    if as_of is not None:
        as_of = in_calendar(a.calendar, as_of, "as_of")  # OutOfBounds: a 422 naming the field
        if as_of > a.clock():  # a state the case has not reached: nothing to compare it with
            raise CommandRejected("as_of", "is in the future")
    report = await run_in_threadpool(case_report, a, case_id, as_of, agency_id)
    if report is None:  # missing, or another agency's: the same answer
        raise HTTPException(404, f"no petition {case_id}")
    if format == "html":
        return HTMLResponse(as_html(report))
    return JSONResponse(report)
