"""`charterwatch projections rebuild`: the read models re-projected from the log, compared with the live ones."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from services.intake.readmodel.orm import (
    PetitionAccessRow,
    PetitionNoticeRow,
    PetitionRow,
    TimelineRow,
)
from services.intake.readmodel.projection import PetitionProjection
from services.intake.readmodel.runner import ProjectionRunner
from services.intake.schema import CHAIN, RUNTIME
from services.platform.db.engine import make_engine, make_sessionmaker, migrate
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics

TABLES = (PetitionRow, PetitionAccessRow, TimelineRow, PetitionNoticeRow)


@dataclass
class RebuildResult:
    events: int = 0
    rows: int = 0
    differences: list[str] = field(default_factory=list)


def _rows(sessions: sessionmaker, table: type) -> dict[tuple, dict[str, Any]]:
    keys = [c.name for c in table.__table__.primary_key.columns]
    cols = [c.name for c in table.__table__.columns]
    with sessions() as session:
        return {tuple(getattr(r, k) for k in keys): {c: getattr(r, c) for c in cols}
                for r in session.execute(select(table)).scalars()}


def compare(live: sessionmaker, rebuilt: sessionmaker) -> tuple[int, list[str]]:
    out: list[str] = []
    total = 0
    for table in TABLES:
        a, b = _rows(live, table), _rows(rebuilt, table)
        total += len(b)
        for key in sorted(a.keys() | b.keys(), key=str):
            if key not in b:
                out.append(f"{table.__tablename__} {key}: in the live read model only")
            elif key not in a:
                out.append(f"{table.__tablename__} {key}: missing from the live read model")
            else:
                fields = [c for c in a[key] if a[key][c] != b[key][c]]
                if fields:
                    out.append(f"{table.__tablename__} {key}: {', '.join(fields)} differ")
    return total, out


def rebuild(log: EventLog, topics: Topics, sessions: sessionmaker, projection: PetitionProjection,
            progress: Callable[[int], None] | None = None) -> RebuildResult:
    """Project the whole log into a scratch copy of intake's tables and compare; then the live read
    model (in ``sessions``, intake's database) is dropped and projected again."""
    result = RebuildResult()
    runner = ProjectionRunner(log, topics.petition_events, sessions, projection, topics.dead_letter,
                              topics.dead_letter_decisions, notice_topic=topics.notice_events)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = make_engine(f"sqlite:///{Path(tmp) / 'rebuilt.db'}")
        migrate(scratch, CHAIN)
        scratch_sessions = make_sessionmaker(scratch)
        # Records the live projection parked are parked again only in a scratch log, not on the real one.
        scratch_log = EmbeddedLog(":memory:")
        scratch_log.create_topics(topics.specs())
        fresh = ProjectionRunner(log, topics.petition_events, scratch_sessions, projection,
                                 topics.dead_letter, name="projection-rebuild", dead_letter_log=scratch_log,
                                 notice_topic=topics.notice_events)
        result.events = fresh.run(poll_timeout=0.2, until_caught_up=True, progress=progress)
        result.rows, result.differences = compare(sessions, scratch_sessions)
        scratch.dispose()
    # The live read model, dropped and projected again from the log.
    with sessions.begin() as session:
        for table in TABLES:
            session.execute(delete(table))
        session.execute(delete(RUNTIME.position).where(RUNTIME.position.consumer == runner.consumer.name))
        session.execute(delete(RUNTIME.held).where(RUNTIME.held.consumer == runner.consumer.name))
    runner.run(poll_timeout=0.2, until_caught_up=True)
    return result
