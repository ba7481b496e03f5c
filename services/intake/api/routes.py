"""Intake's HTTP routes (v1): commands that append one event each, and read models."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
)
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field, create_model
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.intake.api import examples
from services.intake.api.deps import Deps, Intake
from services.intake.api.schemas import (
    ApplicantOut,
    ObligationsOut,
    PetitionFiledOut,
    PetitionIn,
    PetitionOut,
    PetitionPage,
    RecordedOut,
    TimelineEntryOut,
)
from services.intake.commands import (
    Applicant,
    CommandRejected,
    FilePetition,
    Recorded,
    Rules,
    commit_filing,
    formal_receipt_due,
    prepare_filing,
    record_fact,
)
from services.intake.metrics import IntakeMetrics
from services.intake.readmodel.orm import (
    PetitionAccessRow,
    PetitionNoticeRow,
    PetitionRow,
    TimelineRow,
)
from services.intake.readmodel.projection import similar_elsewhere
from services.intake.store.orm import IdempotencyRow
from services.platform.failpoints import failpoint
from services.platform.http.auth import Agency
from services.platform.http.paging import decode_cursor, encode_cursor
from services.platform.logs import get_logger
from services.platform.outbox.publisher import Outbox
from shared.bounds import in_calendar
from shared.case_clocks import Clock, Remaining, case_clocks, remaining
from shared.deadline_report import InputNames, calculate, deadline_dict
from shared.events import decode
from shared.events import petition as ev
from shared.instants import to_kst
from shared.periods import PetitionType
from shared.petition_case import OPEN, CaseState, Status
from shared.petition_clock import period_for
from shared.sealing import Erased, Sealed, unseal

router = APIRouter()
log = get_logger("intake")


# Dependencies that only read app.state are async: a plain def would cost a thread-pool hop each.
async def metrics(request: Request) -> IntakeMetrics:
    return request.app.state.metrics


async def outbox(request: Request) -> Outbox:
    return request.app.state.outbox


Metrics = Annotated[IntakeMetrics, Depends(metrics)]
IntakeOutbox = Annotated[Outbox, Depends(outbox)]
IdempotencyKey = Annotated[str | None, Header(max_length=200, description="a retry with the same key returns the first answer")]
IfMatch = Annotated[str | None, Header(description="the case version you read (ETag); a stale one is 412")]


def rules(c: Intake) -> Rules:
    return c.rules


def _clock_of(state: CaseState) -> str:
    if state.status is Status.FILED:
        return "awaiting_formal_receipt"
    if state.status not in OPEN:
        return "stopped"
    return "paused" if state.open_pause else "running"


def _recorded_body(c: Intake, r: Recorded) -> dict[str, Any]:
    env = r.envelope
    filed = r.state.status is Status.FILED and r.state.arrived_at is not None
    deadline = deadline_dict(r.deadline) if r.deadline else None
    if deadline is not None and r.deadline is not None and r.deadline.due_at is not None and r.state.status in OPEN:
        now = to_kst(c.rules.clock())  # a running clock: the working time left at the answer, as GET counts it
        left = remaining(c.rules.calendar, r.deadline.due_at, r.deadline.mode.value, max(now, r.deadline.received_at))
        deadline.update(remaining_working_seconds=left.working_seconds, remaining_working_days=left.working_days,
                        time_left=left.text, remaining_as_of=left.as_of.isoformat())
    return {
        "case_id": env.case_id, "event_id": str(env.event_id), "event_type": env.event_type,
        "case_version": env.case_version, "status": r.state.status.value if r.state.status else "unknown",
        "occurred_at": env.occurred_at.isoformat(),
        "statutory_deadline": deadline,
        "clock": _clock_of(r.state),
        "formal_receipt_due_at": formal_receipt_due(c.rules, r.state.arrived_at).isoformat() if filed else None,  # type: ignore[arg-type]
    }


def _execute(c: Intake, m: IntakeMetrics, outbox: Outbox, agency_id: str, idem_key: str | None,
             request_body: Any, action: Callable[[Session], tuple[dict[str, Any], Recorded]]) -> JSONResponse:
    """Run one command in one transaction: idempotency record, case-stream row and the event in the
    outbox commit together; then the outbox is published (the relay does it if the log is down)."""
    digest = request_digest(request_body)
    with c.db.sessions() as session:
        if idem_key:
            existing = session.get(IdempotencyRow, (agency_id, idem_key))
            if existing is not None:
                return _replay(existing, digest)
            try:
                claim_key(session, agency_id, idem_key, digest, c.rules.clock())  # before anything is appended
            except IntegrityError:
                session.rollback()
                with c.db.sessions() as fresh:
                    return _replay(fresh.get(IdempotencyRow, (agency_id, idem_key)), digest)  # type: ignore[arg-type]
        body, recorded = action(session)
        headers = answer_headers(recorded)
        if idem_key:
            keep_answer(session, agency_id, idem_key, 201, body, headers)
        failpoint("intake.before_commit")
        session.commit()
    failpoint("intake.after_commit")
    m.events_appended.labels(recorded.envelope.event_type).inc()
    log.info("event_recorded", case_id=recorded.envelope.case_id, event_type=recorded.envelope.event_type,
             case_version=recorded.envelope.case_version, agency_id=agency_id)
    outbox.publish_soon()
    failpoint("intake.after_publish")
    return JSONResponse(body, status_code=201, headers=headers)


def request_digest(request_body: Any) -> str:
    """What an Idempotency-Key is bound to: the request as validated (a bulk item hashes like its twin)."""
    return hashlib.sha256(json.dumps(request_body, sort_keys=True, default=str).encode()).hexdigest()


def claim_key(session: Session, agency_id: str, key: str, digest: str, now: datetime) -> None:
    """Claims the key in the caller's transaction (IntegrityError: another request holds it)."""
    session.execute(insert(IdempotencyRow.__table__), {  # type: ignore[arg-type]
        "agency_id": agency_id, "key": key, "request_hash": digest, "status_code": 0, "response": {},
        "headers": {}, "created_at": now})


def keep_answer(session: Session, agency_id: str, key: str, status: int, body: dict[str, Any],
                headers: dict[str, str]) -> None:
    t = IdempotencyRow.__table__
    session.execute(update(t).where(t.c.agency_id == agency_id, t.c.key == key)
                    .values(status_code=status, response=body, headers=headers))


def answer_headers(recorded: Recorded) -> dict[str, str]:
    return {"ETag": f'"{recorded.envelope.case_version}"', "Location": f"/v1/petitions/{recorded.envelope.case_id}"}


def _replay(row: IdempotencyRow, digest: str) -> JSONResponse:
    if row.request_hash != digest:
        raise CommandRejected("Idempotency-Key", "was used before with a different request", 422)
    if row.status_code == 0:
        raise CommandRejected("Idempotency-Key", "the first request with this key is still in progress", 409)
    return JSONResponse(row.response, status_code=row.status_code, headers={**row.headers, "Idempotent-Replay": "true"})


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    raw = text.removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):  # "²" is a digit to Python, not to int()
        raise CommandRejected("If-Match", "must be the case version from the ETag, e.g. \"3\"", 400)
    if text.startswith("W/"):  # RFC 9110: If-Match compares strongly; a weak tag matches nothing
        raise CommandRejected("If-Match", "a weak entity tag never matches; send the ETag as given", 412,
                              rule="stale-version")
    return int(raw)


@router.post("/v1/petitions", status_code=201, response_model=PetitionFiledOut, tags=["petitions"],
             summary="File a petition (records PetitionReceived; 201 once it is committed with its outbox row, "
                     "which the relay puts on the log in the case's order)")
async def post_petition(body: Annotated[PetitionIn, Body(openapi_examples=examples.PETITION)], c: Deps, m: Metrics,
                        ob: IntakeOutbox, agency_id: Agency, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    cmd = filing_command(body, agency_id)

    def run() -> JSONResponse:  # one thread-pool hop for the whole command
        # The case's data key exists (committed) before the transaction that seals the applicant under it,
        # and is sealed under as made (not read back); the checks and the sealing run before the
        # transaction, its writes inside.
        prepared = prepare_filing(cmd, c.sealing_rules([cmd.case_id]))
        return _execute(c, m, ob, agency_id, idempotency_key, body.model_dump(mode="json"),
                        lambda session: filed_body(c, commit_filing(session, prepared, rules(c))))

    return await run_in_threadpool(run)


def filing_command(body: PetitionIn, agency_id: str) -> FilePetition:
    return FilePetition(
        agency_id=agency_id, municipality_id=body.municipality_id, petition_type=body.petition_type,
        petition_kind=body.petition_kind, channel=body.channel, title=body.title, body=body.body,
        received_at=body.received_at, applicant=Applicant(**body.applicant.model_dump()),
        notice_channels=None if body.notice_channels is None else tuple(body.notice_channels),
        electronic_consent=body.electronic_consent, receipt_number=body.receipt_number,
    )


def filed_body(c: Intake, recorded: Recorded) -> tuple[dict[str, Any], Recorded]:
    """The answer to a filing."""
    assert recorded.envelope.charter is not None and recorded.notices is not None
    p: ev.PetitionReceived = recorded.envelope.payload  # type: ignore[assignment]
    return {**_recorded_body(c, recorded), "charter_id": recorded.envelope.charter.charter_id,
            "charter_version": recorded.envelope.charter.version, "inbox_ref": p.applicant_ref,
            "case_number": p.case_number, "receipt_number": p.receipt_number,
            "reference": recorded.state.reference, "notice_channels": list(recorded.notices.channels),
            "notice_channels_chosen_by": recorded.notices.chosen_by,
            "warnings": list(recorded.notices.warnings)}, recorded


COMMANDS: list[tuple[str, type[BaseModel], str]] = [
    ("receipt", ev.ReceiptRecorded, "Record formal receipt of an electronic petition (Decree 6-7)"),
    ("assignment", ev.OfficialAssigned, "Assign a department, official and guardian official (후견인)"),
    ("transfers", ev.PetitionTransferred, "Transfer (이송) within the agency or to another agency (Decree 13)"),
    ("supplement-requests", ev.SupplementRequested, "Request a supplement (보완): the clock pauses (Act 22)"),
    ("supplements", ev.SupplementReceived, "Record the supplement's arrival: the clock resumes"),
    ("field-investigation/start", ev.FieldInvestigationStarted, "Start a field investigation of a grievance (Decree 17)"),
    ("field-investigation/end", ev.FieldInvestigationEnded, "End the field investigation"),
    ("extensions", ev.ProcessingExtended, "Extend the processing period (Decree 21)"),
    ("interim-notices", ev.InterimNoticeRecorded, "Record an interim notice (Decree 23)"),
    ("resolution", ev.PetitionResolved, "Resolve: outcome and plain explanation; a refusal states reasons and remedies"),
    ("closure", ev.PetitionClosed, "Close a resolved case"),
    ("objections", ev.ObjectionFiled, "Reopen on objection (이의신청), within 60 days of the result (Act 35)"),
    ("evaluations", ev.ResultEvaluated, "The applicant's evaluation of the result: 1-5, once per result (D12)"),
    ("callback-promises", ev.CallbackPromised, "Promise a callback for an absent official (Yeonje-gu Y1)"),
    ("callbacks", ev.CallbackMade, "Record a promised callback as made"),
    ("opinions", ev.OpinionRecorded, "Record an opinion or complaint with its answer class (Yeonje-gu Y2)"),
    ("opinion-acknowledgements", ev.OpinionAcknowledged, "Record that the expected answer date was given"),
    ("opinion-answers", ev.OpinionAnswered, "Record the answer to an opinion"),
    ("repeat-visits", ev.RepeatVisitRecorded, "Record a repeat visit caused by an official (Y3, D10)"),
    ("administrative-errors", ev.AdministrativeErrorConfirmed, "Confirm an administrative error (Y3)"),
    ("discourtesy-findings", ev.DiscourtesyConfirmed, "Confirm discourtesy by an official (D11, Y4)"),
    ("insincere-handling-findings", ev.InsincereHandlingConfirmed, "Confirm insincere handling (D10)"),
    ("finding-withdrawals", ev.FindingWithdrawn, "Withdraw a confirmed fault: its voucher is cancelled with the reason"),
    ("disclosure-steps", ev.DisclosureStepRecorded, "Record the next information-disclosure step (D7)"),
]


# Each command's request body and the fact it records, by path: the bulk endpoint validates its items with them.
BODY_MODELS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {}


def fact_of(payload_type: type[BaseModel], body: BaseModel) -> tuple[BaseModel, datetime]:
    data = body.model_dump()
    occurred_at: datetime = data.pop("occurred_at")
    return payload_type.model_validate(data), occurred_at


def _command_route(path: str, payload_type: type[BaseModel], summary: str) -> None:
    body_model = create_model(  # the fact's fields plus when it happened
        f"{payload_type.__name__}Command", __base__=payload_type,
        occurred_at=(AwareDatetime, Field(description="when it happened, with its UTC offset")),
    )
    BODY_MODELS[path] = (body_model, payload_type)

    async def endpoint(case_id: str, body: body_model, c: Deps, m: Metrics, ob: IntakeOutbox,  # type: ignore[valid-type]
                       agency_id: Agency,
                       idempotency_key: IdempotencyKey = None, if_match: IfMatch = None) -> JSONResponse:
        payload, occurred_at = fact_of(payload_type, body)
        expected = _if_match(if_match)

        def action(session: Session) -> tuple[dict[str, Any], Recorded]:
            recorded = record_fact(session, rules(c), case_id, payload, occurred_at, agency_id, expected)
            return _recorded_body(c, recorded), recorded

        request_body = {"case_id": case_id, "path": path, **body.model_dump(mode="json")}  # type: ignore[attr-defined]
        return await run_in_threadpool(_execute, c, m, ob, agency_id, idempotency_key, request_body, action)

    endpoint.__name__ = f"record_{payload_type.__name__}"
    example = examples.COMMANDS.get(path)
    # a local class: the string annotation would not resolve; a Korean example where one is written
    endpoint.__annotations__["body"] = body_model if example is None else \
        Annotated[body_model, Body(openapi_examples={"example": example})]
    router.add_api_route(f"/v1/petitions/{{case_id}}/{path}", endpoint, methods=["POST"], status_code=201,
                         response_model=RecordedOut, tags=["commands"], summary=summary,
                         responses={404: {"description": "no such case for this agency"},
                                    409: {"description": "the rules forbid it now"},
                                    412: {"description": "stale If-Match"}})


for _path, _payload, _summary in COMMANDS:
    _command_route(_path, _payload, _summary)


def _visible(c: Intake, session: Session, case_id: str, agency_id: str) -> PetitionRow:
    row = session.execute(
        select(PetitionRow).join(PetitionAccessRow, PetitionAccessRow.case_id == PetitionRow.case_id)
        .where(PetitionRow.case_id == case_id, PetitionAccessRow.agency_id == agency_id)
    ).scalar_one_or_none()
    if row is None:
        raise HTTPException(404, f"no petition {case_id} (a case just filed appears once it is projected)")
    return row


@router.get("/v1/petitions/{case_id}", response_model=PetitionOut, tags=["petitions"],
            summary="A case as projected: state, deadlines known so far, responsible official")
def get_petition(case_id: str, c: Deps, agency_id: Agency, response: Response) -> PetitionOut:
    with c.db.readers() as session:
        row = _visible(c, session, case_id, agency_id)
        elsewhere = similar_elsewhere(session, row, c.duplicate_window)
        duplicate_of = _seen(session, [row.duplicate_of], agency_id)
    response.headers["ETag"] = f'"{row.version}"'
    return _out(c, row, to_kst(c.rules.clock())).model_copy(
        update={"similar_elsewhere": elsewhere, "duplicate_of": row.duplicate_of if duplicate_of else None})


def _counting(c: Intake, row: PetitionRow) -> str:
    """How the statutory period of a projected case is counted (working_time or working_days)."""
    if row.status == Status.REOPENED.value:
        return "working_days"  # Act 35: 10 days
    try:
        charter = c.rules.charters.get(row.charter_id, row.charter_version or "") if row.charter_id else None
        return period_for(charter, PetitionType(row.petition_type), row.petition_kind).mode.value
    except (LookupError, ValueError):  # a charter or kind this release no longer has: counted in time
        return "working_time"


def _out(c: Intake, row: PetitionRow, now: datetime) -> PetitionOut:
    """A projected case with its clock as of ``now``: the working time left on a running clock is counted at
    the request (the read model keeps it only for a paused one, as of the pause)."""
    out = PetitionOut.model_validate(row, from_attributes=True)
    numbered = row.case_number is not None  # a case filed before numbers keeps its case id
    update: dict[str, Any] = {"reference": (row.receipt_number or row.case_number) if numbered else row.case_id}
    if row.status == Status.FILED.value:
        update.update(clock="awaiting_formal_receipt", formal_receipt_due_at=formal_receipt_due(c.rules, row.arrived_at))
    elif row.status not in {s.value for s in OPEN}:
        update.update(clock="stopped", remaining_working_seconds=None, remaining_working_days=None)
    elif row.paused:
        left = Remaining(now, row.remaining_working_seconds or 0, row.remaining_working_days or 0,
                         day_counted=row.remaining_working_days is not None)
        update.update(clock="paused", remaining_as_of=now, time_left=left.text)  # it stands still while paused
    else:
        update["clock"] = "running"
        if row.statutory_due_at is not None:
            left = remaining(c.rules.calendar, row.statutory_due_at, _counting(c, row), now)
            update.update(remaining_working_seconds=left.working_seconds, remaining_working_days=left.working_days,
                          remaining_as_of=now, time_left=left.text)
    return out.model_copy(update=update)


@router.get("/v1/petitions/{case_id}/obligations", response_model=ObligationsOut, tags=["petitions"],
            summary="Every clock of the case: due, working time left, running or paused, kept or breached, "
                    "and the notices that discharged it")
def get_obligations(case_id: str, c: Deps, agency_id: Agency) -> dict:
    """Derived here, from the case's events as projected and the notices notify sent, by the same core as the
    SLA monitor (``shared.case_clocks``): what the monitor decided, as of now. A clock's working time left is
    counted at the request (a paused one's stands still at what was left when it paused)."""
    now = to_kst(c.rules.clock())
    with c.db.readers() as session:
        _visible(c, session, case_id, agency_id)
        events = [decode(raw.encode()) for raw in session.execute(
            select(TimelineRow.envelope).where(TimelineRow.case_id == case_id).order_by(TimelineRow.version)).scalars()]
        notices = [decode(raw.encode()) for raw in session.execute(
            select(PetitionNoticeRow.envelope).where(PetitionNoticeRow.case_id == case_id)).scalars()]
    clocks = case_clocks(case_id, events, notices, c.rules.charters, c.rules.calendar, now)
    return {"case_id": case_id, "as_of": now, "obligations": [_clock_out(k) for k in clocks]}


def _clock_out(k: Clock) -> dict[str, Any]:
    left = k.remaining
    return {
        "obligation_id": k.obligation_id, "kind": k.kind, "rule": k.rule, "citizen_facing": k.citizen_facing,
        "promise_id": k.promise_id, "state": k.state, "started_at": k.started_at, "due_at": k.due_at,
        "period": k.period, "counting": k.counting, "at_risk": k.at_risk,
        "remaining_working_seconds": left.working_seconds if left else None,
        "remaining_working_days": left.working_days if left else None,
        "remaining_as_of": left.as_of if left else None, "time_left": left.text if left else None,
        "discharged_by": vars(k.discharged_by) if k.discharged_by else None,
        "breached_due_at": list(k.breached_due_at), "notices": [vars(n) for n in k.notices],
    }


def _seen(session: Session, case_ids: list[str | None], agency_id: str) -> set[str]:
    """Which of these cases the agency may see: a duplicate link names only those (a case transferred to
    another agency must not show it the filing agency's other cases)."""
    wanted = {case for case in case_ids if case}
    if not wanted:
        return set()
    return set(session.execute(select(PetitionAccessRow.case_id).where(PetitionAccessRow.agency_id == agency_id,
                                                                       PetitionAccessRow.case_id.in_(wanted))).scalars())


@router.get("/v1/petitions/{case_id}/applicant", response_model=ApplicantOut, tags=["petitions"],
            responses={410: {"description": "the applicant's personal data was erased"}},
            summary="The applicant's personal data, decrypted for the agencies that handle the case")
def get_applicant(case_id: str, c: Deps, agency_id: Agency) -> dict:
    with c.db.readers() as session:
        row = _visible(c, session, case_id, agency_id)
    log.info("applicant_read", case_id=case_id, agency_id=agency_id)  # an access trail, without the data
    try:
        if not row.applicant_sealed:
            raise Erased(case_id)
        return unseal(c.rules.keyring, Sealed.model_validate(row.applicant_sealed), case_id)
    except Erased as exc:
        raise HTTPException(410, "the applicant's personal data was erased") from exc


@router.get("/v1/petitions/{case_id}/timeline", response_model=list[TimelineEntryOut], tags=["petitions"])
def get_timeline(case_id: str, c: Deps, agency_id: Agency) -> list[TimelineRow]:
    with c.db.readers() as session:
        _visible(c, session, case_id, agency_id)
        return list(session.execute(
            select(TimelineRow).where(TimelineRow.case_id == case_id).order_by(TimelineRow.version)).scalars())


def _cursor(row: PetitionRow) -> str:
    return encode_cursor(row.arrived_at.isoformat(), row.case_id)


def _uncursor(c: Intake, cursor: str) -> tuple[datetime, str]:
    at, case_id = decode_cursor(cursor, 2)
    try:
        return in_calendar(c.rules.calendar, datetime.fromisoformat(at), "cursor"), case_id
    except (ValueError, TypeError) as exc:  # not an instant, naive, or out of range: not ours
        raise CommandRejected("cursor", "is not a cursor this API returned", 400) from exc


@router.get("/v1/petitions", response_model=PetitionPage, tags=["petitions"],
            summary="Cases this agency can see, oldest arrival first, filtered, with cursor pagination")
def list_petitions(
    c: Deps, agency_id: Agency,
    status: Annotated[str | None, Query(pattern="^(filed|received|resolved|closed|reopened)$")] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    official_id: Annotated[str | None, Query(max_length=64)] = None,
    overdue: Annotated[bool | None, Query(description="open and past the statutory deadline")] = None,
    received_from: Annotated[AwareDatetime | None, Query()] = None,
    received_to: Annotated[AwareDatetime | None, Query()] = None,
    duplicates: Annotated[bool | None, Query(description="only cases linked to an earlier duplicate")] = None,
    number: Annotated[str | None, Query(max_length=80, description=(
        "a case number (dangjin-2026-000123) or the agency's receipt number (접수번호): the cases of this agency "
        "that carry it"))] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> dict:
    q = select(PetitionRow).join(PetitionAccessRow, PetitionAccessRow.case_id == PetitionRow.case_id).where(
        PetitionAccessRow.agency_id == agency_id)
    if status:
        q = q.where(PetitionRow.status == status)
    if department:
        q = q.where(PetitionRow.department == department)
    if official_id:
        q = q.where(PetitionRow.official_id == official_id)
    if overdue is not None:
        late = and_(PetitionRow.status.in_([s.value for s in OPEN]), PetitionRow.statutory_due_at < c.rules.clock())
        q = q.where(late if overdue else ~late)
    if received_from:
        q = q.where(PetitionRow.received_at >= in_calendar(c.rules.calendar, received_from, "received_from"))
    if received_to:
        q = q.where(PetitionRow.received_at < in_calendar(c.rules.calendar, received_to, "received_to"))
    if duplicates is not None:  # linked to a case this agency may see (the only links it is shown)
        mine = select(PetitionAccessRow.case_id).where(PetitionAccessRow.agency_id == agency_id)
        linked = and_(PetitionRow.duplicate_of.is_not(None), PetitionRow.duplicate_of.in_(mine))
        q = q.where(linked if duplicates else ~linked)
    if number:
        wanted = number.strip()
        q = q.where(or_(PetitionRow.case_number == wanted, PetitionRow.receipt_number == wanted))
    if cursor:
        at, case_id = _uncursor(c, cursor)
        q = q.where(or_(PetitionRow.arrived_at > at, and_(PetitionRow.arrived_at == at, PetitionRow.case_id > case_id)))
    q = q.order_by(PetitionRow.arrived_at, PetitionRow.case_id).limit(limit + 1)
    with c.db.readers() as session:
        rows = list(session.execute(q).scalars())
        more = len(rows) > limit
        rows = rows[:limit]
        seen = _seen(session, [r.duplicate_of for r in rows], agency_id)
    now = to_kst(c.rules.clock())
    items = [_out(c, r, now).model_copy(update={"duplicate_of": r.duplicate_of if r.duplicate_of in seen else None})
             for r in rows]
    return {"items": items, "next_cursor": _cursor(rows[-1]) if more and rows else None}


DEADLINE_QUERY = InputNames(received="received", period="period", pause="pause", extend="extend", consent="consent",
                            give_consent="consent=true")


@router.get("/v1/deadline", tags=["legal clock"],
            summary="When a processing period runs out (Act 19), with the working details")
def get_deadline(
    c: Deps,
    received: Annotated[str, Query(description="instant of receipt, ISO 8601 with offset")],
    period: Annotated[str, Query(description="Nh (working hours) or Nd (days)", examples=["3d"])],
    pause: Annotated[list[str] | None, Query(description="START/END, ISO 8601 instants; END may be empty while open")] = None,
    extend: Annotated[list[str] | None, Query(description="an extension (Decree 21), Nh or Nd, no longer than the "
                                                          "period; at most two, the second with consent")] = None,
    consent: Annotated[bool, Query(description="the petitioner consented to the second extension")] = False,
) -> dict:
    """Errors are problem+json naming the query parameter at fault: received, period, pause[i],
    extend[i] or consent."""
    return deadline_dict(calculate(c.rules.calendar, received, period, pause or [], extend or [], consent,
                                   names=DEADLINE_QUERY))
