"""Webhooks routes (v1): an agency's subscriptions, their secrets, their delivery log. Another agency's
subscription answers 404, as a missing one does."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.platform.http.auth import Agency
from services.platform.http.paging import decode_cursor, encode_cursor, keyset_page
from services.platform.http.problems import CommandRejected
from services.webhooks import store, targets
from services.webhooks.api import examples
from services.webhooks.api.deps import Deps, Webhooks
from services.webhooks.api.schemas import (
    AttemptOut,
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    Filters,
    NewSecret,
    NoticeOut,
    SecretOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
)
from services.webhooks.api.schemas import event_types as known_event_types
from services.webhooks.orm import AttemptRow, DeliveryRow, NoticeRow, SubscriptionRow

router = APIRouter()
WebhookId = Annotated[str, Path(min_length=1, max_length=64, description="the subscription's id")]
DeliveryId = Annotated[str, Path(min_length=1, max_length=64, description="the delivery's id")]
TAG = ["webhooks"]
# The request bodies with their Korean examples in the docs
NewSubscription = Annotated[SubscriptionIn, Body(openapi_examples=examples.SUBSCRIPTION)]
Change = Annotated[SubscriptionPatch, Body(openapi_examples=examples.CHANGE)]
# Each operation's error answers in its own words (problem+json: services.platform.http.openapi adds the body).
NO_WEBHOOK: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such webhook for this agency (another agency's answers as a missing one)"}}
NO_DELIVERY: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such webhook for this agency, or no such delivery of it"}}
TARGET = ("a field is invalid, or the URL may not be a target (field `url`: not http(s), credentials in it, or "
          "a name resolving to a private, loopback or link-local address)")


def _out(session: Session, sub: SubscriptionRow, c: Webhooks) -> SubscriptionOut:
    secrets = store.secrets_in_force(session, sub.webhook_id, c.clock())
    return SubscriptionOut(
        webhook_id=sub.webhook_id, url=sub.url, event_types=list(sub.event_types),
        filters=Filters(municipality_ids=sub.municipality_ids, petition_types=sub.petition_types,
                        obligation_kinds=sub.obligation_kinds),
        description=sub.description, status="enabled" if sub.enabled else "disabled",
        disabled_at=sub.disabled_at, disabled_reason=sub.disabled_reason, failing_since=sub.failing_since,
        last_success_at=sub.last_success_at, created_at=sub.created_at, updated_at=sub.updated_at,
        secrets=[SecretOut(secret_id=s.secret_id, created_at=s.created_at, expires_at=s.expires_at) for s in secrets])


def _mine(session: Session, webhook_id: str, agency_id: str) -> SubscriptionRow:
    sub = session.get(SubscriptionRow, webhook_id)
    if sub is None or sub.agency_id != agency_id:
        raise HTTPException(404, f"no webhook {webhook_id}")
    return sub


def _checked(c: Webhooks, url: str) -> str:
    try:
        targets.check(url, c.allow_private, c.resolver)
    except targets.TargetRefused as exc:
        raise CommandRejected("url", str(exc)) from exc
    return url


def _filters(sub: SubscriptionRow, f: Filters) -> None:
    sub.municipality_ids = f.municipality_ids or None
    sub.petition_types = [p.value for p in f.petition_types] if f.petition_types else None
    sub.obligation_kinds = list(f.obligation_kinds) if f.obligation_kinds else None


@router.post("/v1/webhooks", response_model=SubscriptionCreated, status_code=201, tags=TAG,
             summary="Subscribe a URL to events of the agency's cases; the signing secret is shown once",
             responses={201: {"description": "Subscribed. Keep `secret`: it is never shown again."},
                        409: {"description": "the agency has as many webhooks as it may (`rule`: webhooks-per-agency)"},
                        422: {"description": TARGET}})
def create(body: NewSubscription, c: Deps, agency_id: Agency, response: Response) -> SubscriptionCreated:
    url = _checked(c, body.url)
    now = c.clock()
    with c.db.sessions.begin() as session:
        count = session.execute(select(func.count()).select_from(SubscriptionRow)
                                .where(SubscriptionRow.agency_id == agency_id)).scalar_one()
        if count >= c.max_subscriptions:
            raise CommandRejected("url", f"an agency may have at most {c.max_subscriptions} webhooks; delete one "
                                  "first", 409, rule="webhooks-per-agency")
        sub = SubscriptionRow(webhook_id=str(uuid.uuid4()), agency_id=agency_id, url=url,
                              event_types=list(body.event_types), description=body.description, enabled=True,
                              created_at=now, updated_at=now)
        _filters(sub, body.filters)
        session.add(sub)
        session.flush()
        _, secret = store.add_secret(session, c.keys, sub.webhook_id, now)
        out = _out(session, sub, c)
    response.headers["Location"] = f"/v1/webhooks/{out.webhook_id}"
    return SubscriptionCreated(**out.model_dump(), secret=secret)


@router.get("/v1/webhooks", response_model=SubscriptionPage, tags=TAG, summary="The agency's webhooks")
def list_webhooks(c: Deps, agency_id: Agency,
                  cursor: str | None = Query(default=None, max_length=400,
                                             description="the next_cursor of the previous page"),
                  limit: int = Query(default=50, ge=1, le=200)) -> SubscriptionPage:
    with c.db.readers() as session:
        rows, next_cursor = keyset_page(session, select(SubscriptionRow).where(SubscriptionRow.agency_id == agency_id),
                                        SubscriptionRow.webhook_id, cursor, limit)
        return SubscriptionPage(items=[_out(session, r, c) for r in rows], next_cursor=next_cursor)


@router.get("/v1/webhooks/{webhook_id}", response_model=SubscriptionOut, tags=TAG, summary="One webhook",
            responses=NO_WEBHOOK)
def get_webhook(webhook_id: WebhookId, c: Deps, agency_id: Agency) -> SubscriptionOut:
    with c.db.readers() as session:
        return _out(session, _mine(session, webhook_id, agency_id), c)


@router.patch("/v1/webhooks/{webhook_id}", response_model=SubscriptionOut, tags=TAG,
              summary="Change a webhook's URL, event types, filters or description, or pause it (enabled: false)",
              responses={**NO_WEBHOOK, 422: {"description": TARGET + "; url or event_types given as null"}})
def patch_webhook(webhook_id: WebhookId, body: Change, c: Deps, agency_id: Agency) -> SubscriptionOut:
    fields = body.model_fields_set
    for name in ("url", "event_types"):
        if name in fields and getattr(body, name) is None:
            raise CommandRejected(name, "may not be null")
    url = _checked(c, body.url) if body.url is not None else None
    now = c.clock()
    with c.db.sessions.begin() as session:
        sub = _mine(session, webhook_id, agency_id)
        if url is not None:
            sub.url = url
        if body.event_types is not None:
            sub.event_types = list(body.event_types)
        if "filters" in fields:
            _filters(sub, body.filters or Filters())
        if "description" in fields:
            sub.description = body.description
        if body.enabled is True and not sub.enabled:
            store.enable(session, sub, now)
        elif body.enabled is False and sub.enabled:
            store.disable(session, sub, now, "paused by the agency", notice=False)
        sub.updated_at = now
        out = _out(session, sub, c)
    c.wake()
    return out


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, tags=TAG,
               summary="Delete a webhook with its secrets and delivery log; nothing more is sent", responses=NO_WEBHOOK)
def delete_webhook(webhook_id: WebhookId, c: Deps, agency_id: Agency) -> Response:
    with c.db.sessions.begin() as session:
        store.delete(session, _mine(session, webhook_id, agency_id))
    return Response(status_code=204)


@router.post("/v1/webhooks/{webhook_id}/secrets", response_model=NewSecret, status_code=201, tags=TAG,
             summary="Rotate the signing secret: a new one (shown once); the one before still signs for 24 hours",
             responses=NO_WEBHOOK)
def rotate(webhook_id: WebhookId, c: Deps, agency_id: Agency) -> NewSecret:
    now = c.clock()
    with c.db.sessions.begin() as session:
        sub = _mine(session, webhook_id, agency_id)
        row, secret = store.add_secret(session, c.keys, sub.webhook_id, now)
        older = [s.expires_at for s in store.secrets_in_force(session, sub.webhook_id, now)
                 if s.secret_id != row.secret_id and s.expires_at is not None]
        return NewSecret(secret_id=row.secret_id, secret=secret, created_at=row.created_at,
                         previous_valid_until=max(older) if older else None)


@router.post("/v1/webhooks/{webhook_id}/enable", response_model=SubscriptionOut, tags=TAG,
             summary="Enable a webhook (after it was disabled for failing, or paused): what waited is sent, in order",
             responses={**NO_WEBHOOK, 422: {"description": "the URL may no longer be a target (field `url`: its "
                                                           "name now resolves to a refused address)"}})
def enable(webhook_id: WebhookId, c: Deps, agency_id: Agency) -> SubscriptionOut:
    url_check: str | None = None
    with c.db.readers() as session:
        url_check = _mine(session, webhook_id, agency_id).url
    _checked(c, url_check)  # the target may have changed since (a name now resolving elsewhere)
    with c.db.sessions.begin() as session:
        sub = _mine(session, webhook_id, agency_id)
        store.enable(session, sub, c.clock())
        out = _out(session, sub, c)
    c.wake()
    return out


def _delivery_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    raw = decode_cursor(cursor, 1)[0]
    if not raw.isdigit():
        raise CommandRejected("cursor", "is not a cursor this API returned", 400)
    return int(raw)


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage, tags=TAG,
            summary="The delivery log, newest first: attempts, status codes, next attempt, errors by class",
            responses={**NO_WEBHOOK, 400: {"description": "a cursor this API did not return"}})
def deliveries(webhook_id: WebhookId, c: Deps, agency_id: Agency,
               status: str | None = Query(default=None, pattern="^(pending|succeeded|failed)$"),
               case_id: str | None = Query(default=None, max_length=64),
               event_type: str | None = Query(default=None, max_length=64),
               cursor: str | None = Query(default=None, max_length=400,
                                          description="the next_cursor of the previous page"),
               limit: int = Query(default=50, ge=1, le=500)) -> DeliveryPage:
    before = _delivery_cursor(cursor)
    with c.db.readers() as session:
        _mine(session, webhook_id, agency_id)
        q = select(DeliveryRow).where(DeliveryRow.webhook_id == webhook_id)
        for column, value in ((DeliveryRow.status, status), (DeliveryRow.case_id, case_id),
                              (DeliveryRow.event_type, event_type)):
            if value is not None:
                q = q.where(column == value)
        if before is not None:
            q = q.where(DeliveryRow.seq < before)
        rows = list(session.execute(q.order_by(DeliveryRow.seq.desc()).limit(limit + 1)).scalars())
    page = rows[:limit]
    return DeliveryPage(items=[DeliveryOut.model_validate(r) for r in page],
                        next_cursor=encode_cursor(str(page[-1].seq)) if len(rows) > limit else None)


def _delivery(session: Session, webhook_id: str, delivery_id: str) -> DeliveryRow:
    row = session.execute(select(DeliveryRow).where(DeliveryRow.delivery_id == delivery_id,
                                                    DeliveryRow.webhook_id == webhook_id)).scalar_one_or_none()
    if row is None:
        raise HTTPException(404, f"no delivery {delivery_id}")
    return row


def _detail(session: Session, row: DeliveryRow) -> DeliveryDetail:
    attempts = session.execute(select(AttemptRow).where(AttemptRow.delivery_id == row.delivery_id)
                               .order_by(AttemptRow.seq)).scalars()
    return DeliveryDetail(**DeliveryOut.model_validate(row).model_dump(),
                          attempt_log=[AttemptOut.model_validate(a) for a in attempts])


@router.get("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryDetail, tags=TAG,
            summary="One delivery with each attempt", responses=NO_DELIVERY)
def delivery(webhook_id: WebhookId, delivery_id: DeliveryId, c: Deps, agency_id: Agency) -> DeliveryDetail:
    with c.db.readers() as session:
        _mine(session, webhook_id, agency_id)
        return _detail(session, _delivery(session, webhook_id, delivery_id))


@router.post("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryDetail,
             status_code=202, tags=TAG,
             summary="Send a delivery's event again (same body and webhook-id), after the case's pending ones",
             responses=NO_DELIVERY)
def redeliver(webhook_id: WebhookId, delivery_id: DeliveryId, c: Deps, agency_id: Agency) -> DeliveryDetail:
    with c.db.sessions.begin() as session:
        _mine(session, webhook_id, agency_id)
        row = store.redeliver(session, _delivery(session, webhook_id, delivery_id), c.clock())
        out = _detail(session, row)
    c.wake()
    return out


@router.get("/v1/webhook-notices", response_model=list[NoticeOut], tags=TAG,
            summary="What webhooks told the agency, newest first: subscriptions disabled after failing for days")
def notices(c: Deps, agency_id: Agency, limit: int = Query(default=50, ge=1, le=500)) -> list[NoticeOut]:
    with c.db.readers() as session:
        rows = session.execute(select(NoticeRow).where(NoticeRow.agency_id == agency_id)
                               .order_by(NoticeRow.at.desc(), NoticeRow.notice_id).limit(limit)).scalars()
        return [NoticeOut.model_validate(r) for r in rows]


@router.get("/v1/webhook-event-types", response_model=list[str], tags=TAG,
            summary="The event types a webhook may subscribe to")
def event_types() -> list[str]:
    return known_event_types()


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}
