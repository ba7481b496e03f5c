"""One service's database handle: its engine and its two kinds of sessions."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from services.platform.db.engine import make_engine, make_sessionmaker


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker = field(init=False)  # writers
    readers: sessionmaker = field(init=False)  # queries that must not queue behind writers

    def __post_init__(self) -> None:
        self.sessions = make_sessionmaker(self.engine)
        self.readers = make_sessionmaker(self.engine, read_only=True)

    @classmethod
    def open(cls, url: str, schema: str | None = None) -> Database:
        return cls(make_engine(url, schema))

    def close(self) -> None:
        self.engine.dispose()
