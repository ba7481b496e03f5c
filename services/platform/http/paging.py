"""Keyset paging for the list endpoints: ordered by a unique key, continued with ?after=<last key>."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session


def keyset_page(session: Session, query: Select, key: InstrumentedAttribute, after: str | None,
                limit: int) -> tuple[list[Any], str | None]:
    """One page of rows and the cursor for the next one (None on the last page)."""
    if after is not None:
        query = query.where(key > after)
    rows = list(session.execute(query.order_by(key).limit(limit + 1)).scalars())
    page = rows[:limit]
    return page, (getattr(page[-1], key.key) if len(rows) > limit else None)
