"""Shared fixtures: the calendar, and real peers (Kafka, PostgreSQL) found through the environment.

Under CI=true a test that needs a peer must never be skipped: a missing peer
fails it. Locally, without the peer, such tests are skipped with the reason.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from shared.holiday_source import korean_calendar
from shared.working_time import WorkingCalendar

IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is not available, and CI=true forbids skipping (start it with .ci/run)")
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return korean_calendar()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if servers:
        yield servers
        return
    try:  # where Docker exists, a container stands in for deploy/kafka
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as kafka:
            yield kafka.get_bootstrap_server()
            return
    except Exception:  # no Docker engine here: the broker is simply unavailable
        pass
    _missing("Kafka (set KAFKA_BOOTSTRAP_SERVERS; deploy/kafka/kafka.sh start)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("CHARTERWATCH_TEST_POSTGRES_URL")
    if not url:
        _missing("PostgreSQL (set CHARTERWATCH_TEST_POSTGRES_URL; deploy/postgres/postgres.sh start)")
    return url  # type: ignore[return-value]


@pytest.fixture
def topic_prefix() -> str:
    """A fresh topic namespace per test: runs never see each other's records."""
    return f"t{uuid.uuid4().hex[:10]}."
