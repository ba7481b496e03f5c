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

from services.notify.store.orm import InboxMessageRow, NoticeDeliveryRow
from services.platform.http import problems
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
    last_error: str | None
    created_at: datetime
    updated_at: datetime


def readers(request: Request) -> sessionmaker:
    """Read sessions of notify's own database."""
    return request.app.state.readers  # type: ignore[no-any-return]


Readers = Annotated[sessionmaker, Depends(readers)]


@router.get("/v1/inbox", response_model=InboxPage, tags=["inbox"],
            summary="The homepage inbox of one applicant (by the applicant reference intake returned)")
def inbox(readers: Readers, agency_id: Agency, applicant_ref: str = Query(min_length=16, max_length=64),
          cursor: str | None = Query(default=None, max_length=400), limit: int = Query(default=50, ge=1, le=200)) -> InboxPage:
    q = select(InboxMessageRow).where(InboxMessageRow.applicant_ref == applicant_ref,
                                      InboxMessageRow.agency_id == agency_id)
    with readers() as session:
        rows, next_cursor = keyset_page(session, q, InboxMessageRow.message_id, cursor, limit)
    return InboxPage(items=[InboxMessageOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/notices", response_model=list[DeliveryOut], tags=["notices"],
            summary="Every notice of a case and how its delivery went")
def notices(readers: Readers, agency_id: Agency, case_id: str = Query(min_length=1, max_length=64)) -> list[DeliveryOut]:
    with readers() as session:
        owner = session.execute(select(InboxMessageRow.agency_id).where(InboxMessageRow.case_id == case_id).limit(1)
                                ).scalar_one_or_none()
        rows = list(session.execute(select(NoticeDeliveryRow).where(NoticeDeliveryRow.case_id == case_id)
                                    .order_by(NoticeDeliveryRow.created_at, NoticeDeliveryRow.notice_id)).scalars())
    if owner is not None and owner != agency_id:
        raise HTTPException(404, f"no notices for case {case_id}")
    return [DeliveryOut.model_validate(r) for r in rows]


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(readers: sessionmaker, keys: sessionmaker) -> FastAPI:
    """``readers``: notify's own database; ``keys``: the access module's (API keys)."""
    app = FastAPI(title="CharterWatch notify", version="1",
                  description="Notices to petitioners (통지): the homepage inbox and delivery records.")
    app.state.readers = readers
    app.state.keys = keys
    problems.install(app)
    app.include_router(router)
    return app
