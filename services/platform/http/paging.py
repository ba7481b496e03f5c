"""One paging style for every list endpoint: ``?cursor=`` in, ``next_cursor`` out, opaque to callers.

A cursor is the sort key of the last row served, base64-encoded; the next page starts strictly
after it (keyset paging: stable under inserts, no offsets). A cursor this API did not return is
a 400 naming the field ``cursor``.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.platform.http.problems import CommandRejected

SEPARATOR = "|"


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(SEPARATOR.join(parts).encode()).decode()


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode().split(SEPARATOR, parts - 1)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise CommandRejected("cursor", "is not a cursor this API returned", 400) from exc
    if len(decoded) != parts or not all(decoded):
        raise CommandRejected("cursor", "is not a cursor this API returned", 400)
    return decoded


def keyset_page(session: Session, query: Select, key: InstrumentedAttribute, cursor: str | None,
                limit: int) -> tuple[list[Any], str | None]:
    """One page of rows ordered by a unique key, and the cursor for the next (None on the last page)."""
    if cursor is not None:
        query = query.where(key > decode_cursor(cursor, 1)[0])
    rows = list(session.execute(query.order_by(key).limit(limit + 1)).scalars())
    page = rows[:limit]
    return page, (encode_cursor(getattr(page[-1], key.key)) if len(rows) > limit else None)
