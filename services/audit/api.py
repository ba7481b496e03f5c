"""The replay report over HTTP, for the auditors of the agency that holds the case (served by intake)."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AwareDatetime
from sqlalchemy import select

from services.api_deps import Agency, Deps
from services.audit.report import as_html
from services.audit.service import case_report
from services.intake.readmodel.orm import PetitionAccessRow

router = APIRouter()


@router.get("/v1/audit/cases/{case_id}", tags=["audit"], response_model=None,
            summary="Replay a case from the log: every decision re-derived and compared (JSON or printable HTML)")
async def audit_case(case_id: str, c: Deps, agency_id: Agency, as_of: AwareDatetime | None = None,
                     format: Literal["json", "html"] = Query(default="json")) -> JSONResponse | HTMLResponse:  # noqa: A002
    with c.readers() as session:
        allowed = session.execute(select(PetitionAccessRow).where(PetitionAccessRow.case_id == case_id,
                                                                  PetitionAccessRow.agency_id == agency_id)).first()
    if allowed is None:
        raise HTTPException(404, f"no petition {case_id}")
    report = await run_in_threadpool(case_report, c, case_id, as_of)
    if report is None:
        raise HTTPException(404, f"no events for case {case_id} on the log")
    if format == "html":
        return HTMLResponse(as_html(report))
    return JSONResponse(report)
