"""One rendering of a computed deadline, shared by the HTTP API and the CLI's --json."""
from __future__ import annotations

from typing import Any

from shared.deadline import Deadline
from shared.instants import isoformat_kst


def deadline_dict(d: Deadline) -> dict[str, Any]:
    return {
        "received_at": isoformat_kst(d.received_at),
        "period": str(d.period),
        "counting_mode": d.mode.value,
        "due_at": isoformat_kst(d.due_at) if d.due_at else None,
        "paused": d.paused,
        "remaining_working_seconds": d.remaining_working_seconds,
        "remaining_working_days": d.remaining_working_days,
        "pauses_applied": [
            {
                "start": isoformat_kst(p.start),
                "end": isoformat_kst(p.end) if p.end else None,
                "reason": p.reason,
                "working_seconds_not_counted": p.working_seconds,
                "working_days_not_counted": p.working_days,
            }
            for p in d.pauses_applied
        ],
        "extensions": [{"period": str(e.period), "consented": e.consented} for e in d.extensions],
        "holidays_skipped": [h.isoformat() for h in d.holidays_skipped],
        "calendar_version": d.calendar_version,
    }
