"""Each service owns its tables: given its own database (or its own PostgreSQL schema), it creates
only its own tables there, with its own version table, and the system works across them."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from services import wiring
from services.bootstrap import CHAINS, bootstrap
from services.platform.log.embedded import EmbeddedLog
from services.platform.settings import Settings
from tests.integration.conftest import TEST_KEYS, api_token
from tests.integration.test_intake_api import PETITION

OWN = {  # a table each service must have, and one it must not
    "access": ("api_keys", "petitions"),
    "intake": ("case_streams", "vouchers"),
    "sla_monitor": ("sla_monitor_consumer_positions", "intake_outbox"),
    "compensation": ("vouchers", "notice_deliveries"),
    "notify": ("notice_deliveries", "case_streams"),
    "console": ("console_users", "vouchers"),
    "webhooks": ("webhooks_deliveries", "notice_deliveries"),
}


def _file_and_follow(c) -> None:  # type: ignore[no-untyped-def]
    http = TestClient(wiring.intake_app(c))
    http.headers["Authorization"] = f"Bearer {api_token(c, 'agency-a')}"
    r = http.post("/v1/petitions", json=PETITION)
    assert r.status_code == 201, r.text
    assert wiring.petition_projection_runner(c).run(poll_timeout=0.1, until_caught_up=True) == 1
    assert http.get(f"/v1/petitions/{r.json()['case_id']}").status_code == 200
    wiring.compensation_consumer(c).run(poll_timeout=0.1, until_caught_up=True)


def test_each_service_in_its_own_sqlite_database(tmp_path: Path) -> None:
    urls = {service: f"sqlite:///{tmp_path / f'{service}.db'}" for service in CHAINS}
    s = Settings(data_dir=tmp_path, pii_keys=TEST_KEYS, **{f"{svc}_database_url": u for svc, u in urls.items()})
    c = bootstrap(s, clock=lambda: datetime(2026, 11, 25, 3, tzinfo=timezone.utc),
                  log=EmbeddedLog(tmp_path / "log.db"))
    c.log.create_topics(c.topics.specs())
    try:
        for service, (mine, theirs) in OWN.items():
            tables = set(inspect(c.database(service).engine).get_table_names())
            assert mine in tables and theirs not in tables, service
            assert f"alembic_version_{service}" in tables
            assert {f"alembic_version_{other}" for other in CHAINS if other != service}.isdisjoint(tables)
        _file_and_follow(c)
    finally:
        c.close()
    assert not (tmp_path / "readmodel.db").exists()  # nothing fell back to the shared file


@pytest.mark.postgres
def test_one_postgresql_database_with_a_schema_per_service(tmp_path: Path, postgres_url: str) -> None:
    name = f"cw_schemas_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    s = Settings(data_dir=tmp_path, pii_keys=TEST_KEYS, database_url=url,
                 **{f"{svc}_database_schema": f"cw_{svc}" for svc in CHAINS})
    c = bootstrap(s, clock=lambda: datetime(2026, 11, 25, 3, tzinfo=timezone.utc),
                  log=EmbeddedLog(tmp_path / "log.db"))
    c.log.create_topics(c.topics.specs())
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        insp = inspect(engine)
        for service, (mine, theirs) in OWN.items():
            tables = set(insp.get_table_names(schema=f"cw_{service}"))
            assert mine in tables and theirs not in tables, service
            assert f"alembic_version_{service}" in tables
        assert insp.get_table_names(schema="public") == []  # nothing outside the services' schemas
        engine.dispose()
        _file_and_follow(c)
    finally:
        c.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
