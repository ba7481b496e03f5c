"""`charterwatch projections rebuild`: the read models re-projected from the log, compared with the live ones."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from services.bootstrap import Container
from services.platform.log.embedded import EmbeddedLog
from services.platform.db.engine import make_engine, make_sessionmaker
from services.bootstrap import migrate
from services.intake.readmodel.orm import (
    PetitionAccessRow,
    PetitionRow,
    TimelineRow,
)
from services.platform.consumer_orm import ConsumerPosition, HeldEvent
from services.intake.readmodel.runner import (
    ProjectionRunner,
    petition_projection_runner,
)

TABLES = (PetitionRow, PetitionAccessRow, TimelineRow)


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


def rebuild(c: Container, progress: Callable[[int], None] | None = None) -> RebuildResult:
    result = RebuildResult()
    runner = petition_projection_runner(c)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = make_engine(f"sqlite:///{Path(tmp) / 'rebuilt.db'}")
        migrate(scratch)
        scratch_sessions = make_sessionmaker(scratch)
        # Records the live projection parked are parked again only in a scratch log, not on the real one.
        scratch_log = EmbeddedLog(":memory:")
        scratch_log.create_topics(c.topics.specs())
        fresh = ProjectionRunner(c.log, c.topics.petition_events, scratch_sessions, runner.projection,
                                 c.topics.dead_letter, name="projection-rebuild", dead_letter_log=scratch_log)
        result.events = fresh.run(poll_timeout=0.2, until_caught_up=True, progress=progress)
        result.rows, result.differences = compare(c.sessions, scratch_sessions)
        scratch.dispose()
    # The live read model, dropped and projected again from the log.
    with c.sessions.begin() as session:
        for table in TABLES:
            session.execute(delete(table))
        session.execute(delete(ConsumerPosition).where(ConsumerPosition.consumer == runner.consumer.name))
        session.execute(delete(HeldEvent).where(HeldEvent.consumer == runner.consumer.name))
    runner.run(poll_timeout=0.2, until_caught_up=True)
    return result
