"""작업 목록 (/queue): the agency's open cases, at risk or overdue first, then by the working time left on
their nearest clock (``stats.queue.work_queue``); filters by department, official, type and channel as a
GET form; "내 민원" for an official (the cases assigned to ``user.official_id``). The same form finds a case
by its case number (민원번호) or the agency's receipt number (접수번호): exact, spaces around it ignored,
whatever the case's status, only among the agency's own cases."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.console.projection.orm import CaseRow
from services.console.stats.common import OPEN
from services.console.stats.queue import QueueFilter, work_queue
from services.console.web.labels import CHANNELS, PETITION_TYPES
from services.console.web.render import render
from services.console.web.security import CurrentUser, console_of
from shared.working_time import WorkingCalendar

PAGE_SIZE = 50
Choice = Annotated[str | None, Query(max_length=100)]


def _options(session: Session, agency_id: str) -> dict[str, list[tuple[str, str]]]:
    """What the filters offer: the departments, officials, types and channels of the agency's open cases."""
    rows = session.execute(select(CaseRow.department, CaseRow.official_id, CaseRow.official_name,
                                  CaseRow.petition_type, CaseRow.channel)
                           .where(CaseRow.agency_id == agency_id, CaseRow.status.in_(OPEN))).all()
    departments = sorted({r.department for r in rows if r.department})
    officials = sorted({(r.official_id, r.official_name or r.official_id) for r in rows if r.official_id},
                       key=lambda o: (o[1], o[0]))
    types = sorted({r.petition_type for r in rows}, key=lambda t: list(PETITION_TYPES).index(t)
                   if t in PETITION_TYPES else 99)
    channels = sorted({r.channel for r in rows}, key=lambda c: list(CHANNELS).index(c) if c in CHANNELS else 99)
    return {"department": [(d, d) for d in departments], "official": officials,
            "type": [(t, PETITION_TYPES.get(t, t)) for t in types],
            "channel": [(c, CHANNELS.get(c, c)) for c in channels]}


def router(calendar: WorkingCalendar) -> APIRouter:
    r = APIRouter()

    @r.get("/queue", include_in_schema=False)
    def queue(request: Request, user: CurrentUser, department: Choice = None, official: Choice = None,
              type: Choice = None, channel: Choice = None, number: Choice = None,  # noqa: A002
              mine: Annotated[bool, Query()] = False, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
        console = console_of(request)
        chosen = {k: (v or None) for k, v in (("department", department), ("official", official), ("type", type),
                                               ("channel", channel), ("number", (number or "").strip()))}
        mine = mine and user.official_id is not None
        filters = QueueFilter(chosen["department"], chosen["official"], chosen["type"], chosen["channel"],
                              user.official_id if mine else None, chosen["number"])
        now = console.clock()
        with console.db.readers() as session:
            items = work_queue(session, user.agency_id, calendar, now, filters)
            options = _options(session, user.agency_id)
        pages = max(1, -(-len(items) // PAGE_SIZE))
        page = min(page, pages)
        shown = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        query = {k: v for k, v in chosen.items() if v}
        if mine:
            query["mine"] = "1"
        return render(request, "queue.html", {
            "items": shown, "total": len(items), "urgent": sum(i.at_risk or i.overdue for i in items),
            "first_rank": (page - 1) * PAGE_SIZE + 1, "page": page, "pages": pages, "query": query,
            "chosen": chosen, "mine": mine, "options": options, "now": now,
            "filtered": any(chosen.values())}, nav="queue")

    return r
