"""Fixtures for tests that wire real adapters: a database per test (SQLite or PostgreSQL) and a container."""
from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from services.bootstrap import Container, bootstrap
from services.platform.log.embedded import EmbeddedLog
from services.platform.log.port import EventLog
from services.platform.logs import configure
from services.platform.settings import Settings

TEST_KEYS = "test1:" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'readmodel.db'}"
        return
    admin_url = request.getfixturevalue("postgres_url")
    name = f"cw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def log_lines() -> io.StringIO:
    """Everything the services log during the test, as JSON lines."""
    stream = io.StringIO()
    configure("info", stream=stream)
    return stream


def make_container(tmp_path: Path, database_url: str, log: EventLog | None = None,
                   clock=lambda: datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc), create_topics: bool = True,
                   **settings: object) -> Container:
    s = Settings(data_dir=tmp_path, database_url=database_url, pii_keys=TEST_KEYS, **settings)
    c = bootstrap(s, clock=clock, log=log or EmbeddedLog(tmp_path / "eventlog.db"))
    if create_topics:
        c.log.create_topics(c.topics.specs())
    return c


@pytest.fixture(params=["embedded-log", pytest.param("kafka-log", marks=pytest.mark.kafka)])
def container(request: pytest.FixtureRequest, tmp_path: Path, database_url: str,
              log_lines: io.StringIO) -> Iterator[Container]:
    """A container on each log (embedded, real Kafka) and each database (SQLite, PostgreSQL)."""
    if request.param == "kafka-log":
        from services.platform.log.kafka import KafkaLog

        prefix = request.getfixturevalue("topic_prefix")
        c = make_container(tmp_path, database_url, log=KafkaLog(request.getfixturevalue("kafka_bootstrap")),
                           topic_prefix=prefix)
    else:
        c = make_container(tmp_path, database_url)
    yield c
    c.close()


def api_token(c: Container, agency_id: str) -> str:
    from services.platform.access.keys import issue_key

    with c.database("access").sessions.begin() as session:
        return issue_key(session, agency_id, c.clock()).token


def http_client(c: Container, agency_id: str = "agency-a"):
    from fastapi.testclient import TestClient

    from services.wiring import intake_app

    client = TestClient(intake_app(c))
    client.headers["Authorization"] = f"Bearer {api_token(c, agency_id)}"
    return client
