"""Bulk ingest: many commands in one request, for systems that sync their backlog (issue 21).

``POST /v1/petitions:bulk`` takes NDJSON (``application/x-ndjson``, one command a line) or a JSON array of
commands. Each command names the single endpoint it stands for (``path``) and carries that endpoint's body
and its own ``idempotency_key``; it is validated and checked exactly as that request would be (the same
models, the same rules, the same tenancy) and gets what that request would answer, in order, one result
each: 201 with the same body, or the same problem+json. Partial success is the rule: one refused command
refuses nothing else.

The accepted commands are written in one transaction, one commit for the batch (group commit; each
command in its own savepoint, so one that loses a race on its case's version leaves the others), and
published through the outbox like any other. Replaying a batch with the same keys answers the same
results and stores nothing twice.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.intake.api import examples
from services.intake.api.deps import Deps, Intake
from services.intake.api.routes import (
    BODY_MODELS,
    IntakeOutbox,
    Metrics,
    _if_match,
    _recorded_body,
    answer_headers,
    claim_key,
    fact_of,
    filed_body,
    filing_command,
    keep_answer,
    log,
    request_digest,
    rules,
)
from services.intake.api.schemas import PetitionIn, Strict
from services.intake.commands import (
    FilePetition,
    PreparedFiling,
    Recorded,
    commit_filing,
    commit_filings,
    prepare_filing,
    record_fact,
)
from services.intake.metrics import IntakeMetrics
from services.intake.store.orm import IdempotencyRow
from services.platform.http.auth import Agency
from services.platform.http.problems import CommandRejected as Rejected
from services.platform.http.problems import (
    problem,
    rejected_problem,
    validation_problem,
    wants_korean,
)
from services.platform.outbox.publisher import Outbox

PATH = "/v1/petitions:bulk"
NDJSON = "application/x-ndjson"
FACT_PATH = re.compile(r"^/v1/petitions/([^/]+)/([a-z-]+(?:/[a-z]+)?)$")

router = APIRouter()


class BulkCommand(Strict):
    """One command of a bulk request: the single request it stands for."""

    idempotency_key: str = Field(min_length=1, max_length=200, description=(
        "required: a retry of the batch with the same key answers the first result and stores nothing twice"))
    path: str = Field(max_length=300, description=(
        "the single endpoint: /v1/petitions (file a petition) or /v1/petitions/{case_id}/<command>"),
        examples=["/v1/petitions", "/v1/petitions/0b6f.../assignment"])
    body: dict[str, Any] = Field(description="that endpoint's request body, as it takes it")
    if_match: str | None = Field(default=None, max_length=20, description="as that endpoint's If-Match header")


class BulkResult(BaseModel):
    index: int = Field(description="the command's place in the request, from 0")
    idempotency_key: str | None
    status: int = Field(description="what the single request would answer: 201, or the problem's status")
    case_id: str | None = None
    answer: dict[str, Any] | None = Field(default=None, description="the single endpoint's 201 body")
    problem: dict[str, Any] | None = Field(default=None, description="the single endpoint's problem+json body")
    idempotent_replay: bool = False


class BulkOut(BaseModel):
    recorded: int = Field(description="commands that appended an event now (not replays)")
    refused: int
    results: list[BulkResult]


@dataclass
class _Item:
    index: int
    key: str | None = None
    digest: str = ""
    filing: PreparedFiling | None = None
    fact: tuple[str, str, BaseModel, datetime, int | None] | None = None  # case id, path, fact, occurred at, if-match
    result: BulkResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _refused(index: int, key: str | None, response: JSONResponse) -> BulkResult:
    return BulkResult(index=index, idempotency_key=key, status=response.status_code, problem=json.loads(response.body))


def _parse(raw: bytes, content_type: str, c: Intake, korean: bool) -> list[BulkCommand] | JSONResponse:
    """The commands, or the whole request's problem: 415, 413, and 400/422 when the request itself is
    malformed (a line that is not JSON, a command without its key or path: ``[i].field``). Only what a
    command's own endpoint would refuse is answered per command."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == NDJSON:
        items: list[Any] = []
        for number, line in enumerate(raw.split(b"\n")):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except ValueError:
                return problem(400, "Malformed JSON", f"line {number + 1} is not JSON",
                               [{"field": f"[{len(items)}]", "message": "not valid JSON", "code": "json_invalid"}],
                               kind="malformed-json")
            if len(items) > c.bulk_max_items:
                break
    elif media == "application/json":
        try:
            items = json.loads(raw)
        except ValueError as exc:
            return problem(400, "Malformed JSON", f"the request body is not valid JSON: {exc}",
                           [{"field": "body", "message": "not valid JSON", "code": "json_invalid"}], kind="malformed-json")
        if not isinstance(items, list):
            return problem(422, "Invalid request", "body: must be an array of commands",
                           [{"field": "body", "message": "must be an array of commands", "code": "list_type"}],
                           kind="validation")
    else:
        return problem(415, "Unsupported media type", f"send {NDJSON} or application/json, not {media or 'nothing'}",
                       [{"field": "Content-Type", "message": f"must be {NDJSON} or application/json"}])
    if len(items) > c.bulk_max_items:
        return problem(413, "Too many commands", f"a bulk request takes at most {c.bulk_max_items} commands",
                       [{"field": "body", "message": f"more than {c.bulk_max_items} commands"}], kind="body-too-large")
    try:
        return _COMMANDS.validate_python(items)
    except ValidationError as exc:
        return validation_problem([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()], korean)


_COMMANDS = TypeAdapter(list[BulkCommand])


def _validate(index: int, command: BulkCommand, agency_id: str, korean: bool) -> _Item:
    """The checks the single endpoint makes before its transaction: the body against its model, If-Match."""
    item = _Item(index)
    item.key = command.idempotency_key
    try:
        if command.path == "/v1/petitions":
            petition = PetitionIn.model_validate(command.body)
            item.digest = request_digest(petition.model_dump(mode="json"))
            item.extra["command"] = filing_command(petition, agency_id)
            return item
        matched = FACT_PATH.match(command.path)
        if matched is None or matched.group(2) not in BODY_MODELS:
            item.result = _refused(index, item.key, problem(
                404, "Not found", f"path: no command at {command.path}",
                [{"field": "path", "message": "is not /v1/petitions nor /v1/petitions/{case_id}/<command>"}]))
            return item
        case_id, name = matched.groups()
        body_model, payload_type = BODY_MODELS[name]
        body = body_model.model_validate(command.body)
        fact, occurred_at = fact_of(payload_type, body)
        item.digest = request_digest({"case_id": case_id, "path": name, **body.model_dump(mode="json")})
        item.fact = (case_id, name, fact, occurred_at, _if_match(command.if_match))
    except ValidationError as exc:  # located as FastAPI locates a request body's errors: the same field names
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        item.result = _refused(index, item.key, validation_problem(errors, korean))
    except Rejected as exc:
        item.result = _refused(index, item.key, rejected_problem(exc))
    return item


def _run(c: Intake, m: IntakeMetrics, ob: Outbox, agency_id: str, sent: list[BulkCommand], korean: bool) -> BulkOut:
    items = [_validate(i, s, agency_id, korean) for i, s in enumerate(sent)]
    filings = [it for it in items if it.result is None and "command" in it.extra]
    # Data keys for the new cases, committed before the transaction that seals under them (one commit).
    sealing = c.sealing_rules([it.extra["command"].case_id for it in filings])
    for it in filings:
        cmd: FilePetition = it.extra["command"]
        try:
            it.filing = prepare_filing(cmd, sealing)
        except Rejected as exc:
            it.result = _refused(it.index, it.key, rejected_problem(exc))
    recorded: list[Recorded] = []
    with c.db.sessions() as session:
        keys = sorted({it.key for it in items if it.result is None and it.key})
        stored = {row.key: row for row in session.execute(select(IdempotencyRow).where(
            IdempotencyRow.agency_id == agency_id, IdempotencyRow.key.in_(keys))).scalars()} if keys else {}
        answered: dict[str, tuple[str, int, dict[str, Any]]] = {
            k: (r.request_hash, r.status_code, r.response) for k, r in stored.items()}
        recorded += _file_batched(session, c, items, answered, agency_id)
        for it in items:
            if it.result is not None:
                continue
            assert it.key is not None
            if it.key in answered:  # answered before (or earlier in this batch): its first answer
                digest, status, body = answered[it.key]
                it.result = _replayed(it, digest, status, body)
                continue
            try:
                with session.begin_nested():
                    claim_key(session, agency_id, it.key, it.digest, c.rules.clock())
                    body, rec = _record(session, c, it, agency_id)
                    keep_answer(session, agency_id, it.key, 201, body, answer_headers(rec))
            except Rejected as exc:
                it.result = _refused(it.index, it.key, rejected_problem(exc))
                continue
            except IntegrityError:  # another request claimed the key meanwhile and has not answered yet
                it.result = _refused(it.index, it.key, rejected_problem(Rejected(
                    "Idempotency-Key", "the first request with this key is still in progress", 409)))
                continue
            answered[it.key] = (it.digest, 201, body)
            recorded.append(rec)
            it.result = BulkResult(index=it.index, idempotency_key=it.key, status=201, case_id=rec.envelope.case_id,
                                   answer=body)
        session.commit()
    for rec in recorded:
        m.events_appended.labels(rec.envelope.event_type).inc()
    if recorded:
        log.info("bulk_recorded", agency_id=agency_id, events=len(recorded), commands=len(items))
        ob.publish_soon()
    results = [it.result for it in items if it.result is not None]
    return BulkOut(recorded=len(recorded), refused=sum(1 for r in results if r.status >= 400), results=results)


def _file_batched(session: Session, c: Intake, items: list[_Item], answered: dict[str, tuple[str, int, dict[str, Any]]],
                  agency_id: str) -> list[Recorded]:
    """The batch's new filings with keys not seen before, written with multi-row inserts in a savepoint (group
    commit). A collision (a key claimed meanwhile by a concurrent request) rolls them back: the ordered
    one-by-one path then answers each as its single request would."""
    fresh: list[_Item] = []
    keys: set[str] = set()
    for it in items:
        if it.result is None and it.filing is not None and it.key not in answered and it.key not in keys:
            fresh.append(it)
            keys.add(it.key)  # type: ignore[arg-type]
    if not fresh:
        return []
    try:
        with session.begin_nested():
            recorded = commit_filings(session, [it.filing for it in fresh], rules(c))  # type: ignore[misc]
            answers = [filed_body(c, rec)[0] for rec in recorded]
            now = c.rules.clock()
            session.execute(insert(IdempotencyRow.__table__), [  # type: ignore[arg-type]
                {"agency_id": agency_id, "key": it.key, "request_hash": it.digest, "status_code": 201, "response": body,
                 "headers": answer_headers(rec), "created_at": now} for it, rec, body in zip(fresh, recorded, answers)])
    except IntegrityError:
        return []
    for it, rec, body in zip(fresh, recorded, answers):
        assert it.key is not None
        answered[it.key] = (it.digest, 201, body)
        it.result = BulkResult(index=it.index, idempotency_key=it.key, status=201, case_id=rec.envelope.case_id,
                               answer=body)
    return recorded


def _record(session: Session, c: Intake, it: _Item, agency_id: str) -> tuple[dict[str, Any], Recorded]:
    if it.filing is not None:
        return filed_body(c, commit_filing(session, it.filing, rules(c)))
    assert it.fact is not None
    case_id, _, fact, occurred_at, expected = it.fact
    rec = record_fact(session, rules(c), case_id, fact, occurred_at, agency_id, expected)
    return _recorded_body(c, rec), rec


def _replayed(it: _Item, digest: str, status: int, body: dict[str, Any]) -> BulkResult:
    if digest != it.digest:
        return _refused(it.index, it.key, rejected_problem(
            Rejected("Idempotency-Key", "was used before with a different request", 422)))
    if status == 0:
        return _refused(it.index, it.key, rejected_problem(
            Rejected("Idempotency-Key", "the first request with this key is still in progress", 409)))
    return BulkResult(index=it.index, idempotency_key=it.key, status=status, case_id=body.get("case_id"),
                      answer=body, idempotent_replay=True)


@router.post(PATH, response_model=BulkOut, tags=["commands"], status_code=200,
             summary="Many commands at once (NDJSON or a JSON array): one result per command, in order",
             openapi_extra={"requestBody": {"required": True, "content": {
                 NDJSON: {"schema": {"type": "string", "description": "one BulkCommand (JSON) a line"},
                          "example": "\n".join(json.dumps(x, ensure_ascii=False) for x in examples.BULK) + "\n"},
                 "application/json": {"schema": {"type": "array", "items": BulkCommand.model_json_schema()},
                                      "example": examples.BULK}}}},
             responses={413: {"description": "more commands or bytes than a bulk request takes"},
                        415: {"description": "neither NDJSON nor JSON"},
                        422: {"description": "a command lacks its idempotency_key, path or body (nothing is stored)"}})
async def post_bulk(request: Request, c: Deps, m: Metrics, ob: IntakeOutbox, agency_id: Agency) -> Any:
    """Each command is validated, authorised and answered as its single request would be (partial success);
    the accepted ones are written in one transaction and published through the outbox. At most
    ``bulk_max_items`` commands and ``bulk_max_bytes`` bytes (413 beyond)."""
    korean = wants_korean(request)
    sent = _parse(await request.body(), request.headers.get("content-type", ""), c, korean)
    if isinstance(sent, JSONResponse):
        return sent
    out = await run_in_threadpool(_run, c, m, ob, agency_id, sent, korean)
    return JSONResponse(out.model_dump(mode="json"))

