"""The replay report over HTTP, for the auditors of the agency that holds the case."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import AwareDatetime

from services.audit.deps import Audit
from services.audit.pdf import PdfUnavailable, as_pdf
from services.audit.report import as_html
from services.audit.service import case_report
from services.platform.http.auth import Agency
from services.platform.http.problems import PROBLEM_JSON, CommandRejected, problem
from shared.bounds import in_calendar

router = APIRouter()


def audit(request: Request) -> Audit:
    return request.app.state.audit  # type: ignore[no-any-return]


Deps = Annotated[Audit, Depends(audit)]


REPORTS: dict[int | str, dict[str, Any]] = {
    200: {"description": "the report: JSON, printable HTML, or PDF (A4, Korean fonts embedded)",
          "content": {"text/html": {"schema": {"type": "string"}},
                      "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
    503: {"description": "this server cannot typeset a PDF (no WeasyPrint or no Korean font)",
          "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}}


@router.get("/v1/audit/cases/{case_id}", tags=["audit"], response_model=None, responses=REPORTS,
            summary="Replay a case from the log: every decision re-derived and compared (JSON, printable HTML or PDF)")
async def audit_case(case_id: str, a: Deps, agency_id: Agency, as_of: AwareDatetime | None = None,
                     format: Literal["json", "html", "pdf"] = Query(default="json")  # noqa: A002
                     ) -> Response:
    if as_of is not None:
        as_of = in_calendar(a.calendar, as_of, "as_of")  # OutOfBounds: a 422 naming the field
        if as_of > a.clock():  # a state the case has not reached: nothing to compare it with
            raise CommandRejected("as_of", "is in the future")
    report = await run_in_threadpool(case_report, a, case_id, as_of, agency_id)
    if report is None:  # missing, or another agency's: the same answer
        raise HTTPException(404, f"no petition {case_id}")
    if format == "html":
        return HTMLResponse(as_html(report))
    if format == "pdf":
        try:  # typesetting takes about a second: off the event loop
            pdf = await run_in_threadpool(as_pdf, as_html(report))
        except PdfUnavailable as exc:
            return problem(503, "PDF unavailable", str(exc), kind="pdf-unavailable")
        name = "".join(ch for ch in case_id if ch.isascii() and (ch.isalnum() or ch in "-_"))[:80] or "case"
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="audit-{name}.pdf"'})
    return JSONResponse(report)
