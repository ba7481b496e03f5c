"""Notify's HTTP API: the homepage inbox the citizen portal reads, and a notice's delivery record.

Schemas live here as small pydantic models; the ORM rows stay in ``store/orm.py``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from services.notify.access import case_visible
from services.notify.store.orm import InboxMessageRow, NoticeDeliveryRow
from services.platform.http import docs, headers, problems
from services.platform.http.auth import Agency
from services.platform.http.paging import keyset_page

router = APIRouter()


class InboxMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    message_id: str
    case_id: str
    kind: str
    subject: str
    body: str
    created_at: datetime


class InboxPage(BaseModel):
    items: list[InboxMessageOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class DeliveryErrorOut(BaseModel):
    """Why the delivery failed, classified: never the provider's text, which may echo the contact."""

    error_class: str = Field(description="e.g. smtp_recipient_refused, sms_invalid_number, sms_timeout, no_phone")
    provider: str = Field(description="smtp, sms, inbox or file; notify when no provider was asked")
    code: str | None = Field(description="SMTP reply (550 5.1.1), gateway result (result:-201), HTTP status "
                                         "(http:503) or the transport error's type")
    retryable: bool | None = Field(description="whether the error was worth another try")
    description: str


class DeliveryOut(BaseModel):
    """A notice's delivery record: never the body or the contact, which stay sealed."""

    model_config = ConfigDict(from_attributes=True)
    notice_id: str
    case_id: str
    kind: str
    channel: str
    cause_event_id: str
    template_id: str
    template_version: str
    content_sha256: str
    status: str
    attempts: int
    provider_reference: str | None
    last_error: str | None = Field(description="the fixed description of the last error's class (see error)")
    error: DeliveryErrorOut | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: NoticeDeliveryRow) -> "DeliveryOut":
        error = None
        if row.error_class is not None:
            error = DeliveryErrorOut(error_class=row.error_class, provider=row.error_provider or "unknown",
                                     code=row.error_code, retryable=row.error_retryable,
                                     description=row.last_error or "")
        return cls.model_validate({**{k: getattr(row, k) for k in cls.model_fields if k != "error"}, "error": error})


def readers(request: Request) -> sessionmaker:
    """Read sessions of notify's own database."""
    return request.app.state.readers  # type: ignore[no-any-return]


Readers = Annotated[sessionmaker, Depends(readers)]


@router.get("/v1/inbox", response_model=InboxPage, tags=["inbox"],
            summary="The homepage inbox of one applicant (by the applicant reference intake returned)")
def inbox(readers: Readers, agency_id: Agency, applicant_ref: str = Query(min_length=16, max_length=64),
          cursor: str | None = Query(default=None, max_length=400), limit: int = Query(default=50, ge=1, le=200)) -> InboxPage:
    # only the calling agency's own messages: an applicant reference known to another agency shows nothing
    q = select(InboxMessageRow).where(InboxMessageRow.applicant_ref == applicant_ref,
                                      InboxMessageRow.agency_id == agency_id)
    with readers() as session:
        rows, next_cursor = keyset_page(session, q, InboxMessageRow.message_id, cursor, limit)
    return InboxPage(items=[InboxMessageOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/notices", response_model=list[DeliveryOut], tags=["notices"],
            summary="Every notice of a case and how its delivery went",
            responses={404: {"description": "no such case, or another agency's: the same answer"}})
def notices(readers: Readers, agency_id: Agency, case_id: str = Query(min_length=1, max_length=64)) -> list[DeliveryOut]:
    with readers() as session:
        if not case_visible(session, case_id, agency_id):  # missing, or another agency's: told apart nowhere
            raise HTTPException(404, f"no notices for case {case_id}")
        rows = list(session.execute(select(NoticeDeliveryRow).where(NoticeDeliveryRow.case_id == case_id)
                                    .order_by(NoticeDeliveryRow.created_at, NoticeDeliveryRow.notice_id)).scalars())
    return [DeliveryOut.of(r) for r in rows]


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(readers: sessionmaker, keys: sessionmaker) -> FastAPI:
    """``readers``: notify's own database; ``keys``: the access module's (API keys)."""
    app = FastAPI(docs_url=None, redoc_url=None,  # served locally: docs.install
                  title="CharterWatch notify", version="1",
                  description="Notices to petitioners (통지): the homepage inbox and delivery records.")
    app.state.readers = readers
    app.state.keys = keys
    problems.install(app)
    app.include_router(router)
    docs.install(app)
    headers.install(app)
    return app
