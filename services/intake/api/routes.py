"""Intake's HTTP routes (v1)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, text

from services.bootstrap import Container
from shared.deadline_report import deadline_dict
from services.intake.api.schemas import PetitionFiledOut, PetitionIn, PetitionOut, TimelineEntryOut
from services.intake.commands import Applicant, CommandRejected, FilePetition, file_petition
from services.intake.readmodel.orm import PetitionRow, TimelineRow
from services.logs import get_logger
from shared.deadline import DeadlineInputError, Pause, compute_deadline
from shared.instants import parse_instant
from shared.periods import Period

router = APIRouter()
log = get_logger("intake")


def container(request: Request) -> Container:
    return request.app.state.container


def agency(request: Request) -> str:
    """The calling agency. Until per-agency API keys exist, every caller is the local agency."""
    return "local"


Deps = Annotated[Container, Depends(container)]


@router.post("/v1/petitions", status_code=201, response_model=PetitionFiledOut, tags=["petitions"],
             summary="File a petition: appends PetitionReceived; 201 only once the log has it")
async def post_petition(body: PetitionIn, response: Response, c: Deps,
                        agency_id: Annotated[str, Depends(agency)]) -> dict:
    cmd = FilePetition(
        agency_id=agency_id,
        municipality_id=body.municipality_id,
        petition_type=body.petition_type,
        petition_kind=body.petition_kind,
        channel=body.channel,
        title=body.title,
        body=body.body,
        received_at=body.received_at,
        applicant=Applicant(**body.applicant.model_dump()),
        notice_channels=tuple(body.notice_channels),
        electronic_consent=body.electronic_consent,
    )
    filed = await run_in_threadpool(file_petition, cmd, c)
    env = filed.envelope
    log.info("petition_received", case_id=env.case_id, event_id=str(env.event_id),
             partition=filed.position.partition, offset=filed.position.offset)
    response.headers["Location"] = f"/v1/petitions/{env.case_id}"
    return {
        "case_id": env.case_id,
        "event_id": str(env.event_id),
        "state": "received",
        "charter_id": env.charter.charter_id if env.charter else "",
        "charter_version": env.charter.version if env.charter else "",
        "statutory_deadline": deadline_dict(filed.deadline),
        "position": {"partition": filed.position.partition, "offset": filed.position.offset},
    }


def _row(c: Container, case_id: str) -> PetitionRow:
    with c.sessions() as session:
        row = session.get(PetitionRow, case_id)
    if row is None:
        raise HTTPException(404, f"no petition {case_id} (a case just filed appears once it is projected)")
    return row


@router.get("/v1/petitions/{case_id}", response_model=PetitionOut, tags=["petitions"])
def get_petition(case_id: str, c: Deps) -> PetitionRow:
    return _row(c, case_id)


@router.get("/v1/petitions/{case_id}/timeline", response_model=list[TimelineEntryOut], tags=["petitions"])
def get_timeline(case_id: str, c: Deps) -> list[TimelineRow]:
    _row(c, case_id)
    with c.sessions() as session:
        return list(session.execute(
            select(TimelineRow).where(TimelineRow.case_id == case_id).order_by(TimelineRow.version)
        ).scalars())


@router.get("/v1/deadline", tags=["legal clock"],
            summary="When a processing period runs out (Act 19), with the working details")
def get_deadline(
    c: Deps,
    received: Annotated[str, Query(description="instant of receipt, ISO 8601 with offset")],
    period: Annotated[str, Query(description="Nh (working hours) or Nd (days)", examples=["3d"])],
    pause: Annotated[list[str] | None, Query(description="START/END, ISO 8601 instants; END may be empty while open")] = None,
) -> dict:
    try:
        received_at = parse_instant(received, "received")
    except ValueError as exc:
        raise DeadlineInputError("received", str(exc).split(": ", 1)[-1]) from exc
    try:
        p = Period.parse(period)
    except ValueError as exc:
        raise DeadlineInputError("period", str(exc).split(": ", 1)[-1]) from exc
    pauses = [parse_pause(raw, f"pause[{i}]") for i, raw in enumerate(pause or [])]
    return deadline_dict(compute_deadline(c.calendar, received_at, p, pauses))


def parse_pause(raw: str, field: str) -> Pause:
    start_text, sep, end_text = raw.partition("/")
    if not sep:
        raise DeadlineInputError(field, f"{raw!r} is not START/END")
    try:
        start = parse_instant(start_text, "start")
        end = parse_instant(end_text, "end") if end_text.strip() else None
    except ValueError as exc:
        raise DeadlineInputError(field, str(exc)) from exc
    return Pause(start, end)


@router.get("/healthz", tags=["operations"], summary="The process is up")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", tags=["operations"], summary="The log and the read-model database answer")
def readyz(c: Deps) -> Response:
    problems = {}
    try:
        c.log.partitions(c.topics.petition_events)
    except Exception as exc:  # any failure means not ready; reported, not swallowed
        problems["log"] = type(exc).__name__
    try:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        problems["database"] = type(exc).__name__
    if problems:
        raise HTTPException(503, f"not ready: {problems}", headers={"Retry-After": "5"})
    return Response('{"status":"ready"}', media_type="application/json")


__all__ = ["router", "CommandRejected"]
