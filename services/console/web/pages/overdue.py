"""기한 경과 검토 (/overdue, Decree 18: cases past their processing period reviewed at least monthly): the
agency's open cases past their statutory deadline and the cases completed late within the last month, with
the working days overdue and what the petitioner was told (``stats.overdue``); ``/overdue.csv`` is the
monthly review's export (UTF-8 with a BOM: Korean Excel opens it as such)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console.stats.common import month_before
from services.console.stats.overdue import overdue_cases, overdue_csv
from services.console.web.render import render
from services.console.web.security import CurrentUser, console_of
from shared.instants import to_kst
from shared.working_time import WorkingCalendar

# What tells the petitioner the case is late (Decree 21, 23): an extension or an interim notice.
TOLD_OF_DELAY = ("extension", "interim", "apology")


def router(calendar: WorkingCalendar) -> APIRouter:
    r = APIRouter()

    @r.get("/overdue", include_in_schema=False)
    def overdue(request: Request, user: CurrentUser) -> Response:
        console = console_of(request)
        now = console.clock()
        with console.db.readers() as session:
            items = overdue_cases(session, user.agency_id, calendar, now)
        open_items = [o for o in items if o.state == "open"]
        return render(request, "overdue.html", {
            "items": items, "now": now, "since": month_before(now), "open_count": len(open_items),
            "late_count": len(items) - len(open_items),
            "untold": sum(not any(t.kind in TOLD_OF_DELAY for t in o.told) for o in open_items),
            "told_of_delay": TOLD_OF_DELAY}, nav="overdue")

    @r.get("/overdue.csv", include_in_schema=False)
    def overdue_export(request: Request, user: CurrentUser) -> Response:
        console = console_of(request)
        now = console.clock()
        with console.db.readers() as session:
            text = overdue_csv(overdue_cases(session, user.agency_id, calendar, now))
        name = f"overdue-{user.agency_id}-{to_kst(now):%Y-%m-%d}.csv"
        return Response(content=text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})

    return r
