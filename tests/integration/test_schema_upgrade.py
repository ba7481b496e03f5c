"""A database written before each service owned its tables (one Alembic chain, head 0003) upgrades in
place: every row kept, the shared outbox and consumer-runtime rows moved to each service's own tables,
the old shared tables gone, and the services carry on from where they stood.

The data comes from ``tests/fixtures/legacy_schema`` (written by that release's own code, see its
README); on PostgreSQL the same rows are loaded into the old schema first.
"""
from __future__ import annotations

import json
import shutil
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, create_engine, inspect, select, text

from services import wiring
from services.bootstrap import CHAINS, Container
from services.compensation.schema import RUNTIME as COMPENSATION_RUNTIME
from services.intake.schema import RUNTIME as INTAKE_RUNTIME
from services.legacy_schema import LEGACY
from services.notify.schema import RUNTIME as NOTIFY_RUNTIME
from services.platform.db.engine import make_engine, migrate
from services.platform.log.embedded import EmbeddedLog
from services.sla_monitor.schema import RUNTIME as SLA_RUNTIME
from tests.integration.conftest import TEST_KEYS, make_container

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "legacy_schema" / "charterwatch-0003"
SHARED = {"outbox", "consumer_positions", "consumer_held_events", "alembic_version"}
OUTBOXES = {"intake": "intake_outbox", "compensation": "compensation_outbox", "notify": "notify_outbox"}
# which service's runtime tables each consumer of the old schema moved to
CONSUMERS = {"projection": ("intake", INTAKE_RUNTIME), "sla_monitor": ("sla_monitor", SLA_RUNTIME),
             "compensation": ("compensation", COMPENSATION_RUNTIME), "notify": ("notify", NOTIFY_RUNTIME)}


@pytest.fixture
def manifest() -> dict[str, Any]:
    return json.loads((FIXTURE / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def legacy_copy(tmp_path: Path) -> Path:
    for name in ("charterwatch.db", "eventlog.db"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    return tmp_path


def _container(tmp: Path, url: str, manifest: dict[str, Any]) -> Container:
    from datetime import datetime

    at = datetime.fromisoformat(manifest["clock_at_end"])
    assert manifest["key_spec"] == TEST_KEYS  # the fixture's data was sealed with the tests' key
    return make_container(tmp, url, log=EmbeddedLog(tmp / "eventlog.db"), clock=lambda: at, create_topics=False)


def _rows(engine: Engine, table: str, columns: str, order: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {columns} FROM {table} ORDER BY {order}"))]


def check_upgraded(c: Container, manifest: dict[str, Any]) -> None:
    engine = c.database("intake").engine
    tables = set(inspect(engine).get_table_names())
    assert not tables & SHARED, "the shared tables of the old schema are gone"
    assert {chain.version_table for chain in CHAINS.values()} <= tables

    # Every table the old schema had, and that one service now owns, keeps every row.
    with engine.connect() as conn:
        for table, count in manifest["row_counts"].items():
            if table in SHARED:
                continue
            keys = manifest["primary_keys"][table]
            cols = ", ".join(f'"{k}"' for k in keys["columns"])
            found = sorted([list(r) for r in conn.execute(text(f"SELECT {cols} FROM {table}"))])
            assert len(found) == count, table
            assert found == sorted(keys["values"]), table

    # The shared outbox, split by producer: same event ids, same order, same published flags.
    for producer, table in OUTBOXES.items():
        expected = [(seq, event_id, case_id, bool(published))
                    for seq, event_id, p, case_id, published in manifest["outbox"] if p == producer]
        moved = [(seq, event_id, case_id, bool(published))
                 for seq, event_id, case_id, published in _rows(engine, table, "seq, event_id, case_id, published", "seq")]
        assert moved == expected and expected, producer

    # Consumer positions and held events, each in its service's own tables.
    for consumer, (service, runtime) in CONSUMERS.items():
        expected = sorted(tuple(r[1:]) for r in manifest["consumer_positions"] if r[0] == consumer)
        t = runtime.position.__tablename__
        assert sorted(r[1:] for r in _rows(engine, t, "consumer, topic, partition, next_offset", "topic, partition")
                      ) == expected and expected, consumer
    held = [(consumer, case, topic, partition, offset, state)
            for _, consumer, case, topic, partition, offset, state in manifest["consumer_held_events"]]
    found = _rows(engine, NOTIFY_RUNTIME.held.__tablename__, 'consumer, case_id, topic, partition, "offset", state', "seq")
    assert found == held


def check_services_carry_on(c: Container, manifest: dict[str, Any]) -> None:
    """The upgraded database is the services' own: intake answers, the relay publishes what the old
    outbox held back, the projection resumes from its positions, compensation lists its vouchers."""
    cases = manifest["cases"]
    intake = TestClient(wiring.intake_app(c))
    intake.headers["Authorization"] = f"Bearer {manifest['api_tokens']['agency-a']}"
    a1 = intake.get(f"/v1/petitions/{cases['a1']}")
    assert a1.status_code == 200, a1.text
    assert intake.get(f"/v1/petitions/{cases['a1']}/applicant").json()["name"]  # the sealed data still opens
    assert intake.get(f"/v1/petitions/{cases['b1']}").status_code == 404  # another agency's
    unpublished = cases["b3_unpublished"]
    before = sum(c.log.end_offsets(c.topics.petition_events).values())
    wiring.intake(c).outbox.publish()
    assert sum(c.log.end_offsets(c.topics.petition_events).values()) == before + 1
    projected = wiring.petition_projection_runner(c).run(poll_timeout=0.1, until_caught_up=True)
    assert projected == 1  # only the event the outbox held back: the others were projected before
    b = TestClient(wiring.intake_app(c))
    b.headers["Authorization"] = f"Bearer {manifest['api_tokens']['agency-b']}"
    assert b.get(f"/v1/petitions/{unpublished}").status_code == 200
    comp = TestClient(wiring.compensation_app(c))
    comp.headers["Authorization"] = f"Bearer {manifest['api_tokens']['agency-b']}"
    listed = {v["voucher_id"] for v in comp.get("/v1/vouchers").json()["items"]}
    agency_b = {case for case, agency, *_ in manifest["petitions"] if agency == "agency-b"}
    assert listed == {v[0] for v in manifest["vouchers"] if v[1] in agency_b} and listed


def test_a_sqlite_database_of_the_one_chain_schema_upgrades_in_place(legacy_copy: Path,
                                                                     manifest: dict[str, Any]) -> None:
    url = f"sqlite:///{legacy_copy / 'charterwatch.db'}"
    with create_engine(url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == manifest["alembic_version"]
    c = _container(legacy_copy, url, manifest)
    try:
        check_upgraded(c, manifest)
        c.migrate()  # a second upgrade changes nothing
        check_upgraded(c, manifest)
        check_services_carry_on(c, manifest)
    finally:
        c.close()


@pytest.mark.postgres
def test_a_postgresql_database_of_the_one_chain_schema_upgrades_in_place(
        legacy_copy: Path, manifest: dict[str, Any], postgres_url: str) -> None:
    url = _fresh_database(postgres_url)
    legacy = make_engine(url)
    migrate(legacy, LEGACY)  # the old chain, to its head, on PostgreSQL
    _load(create_engine(f"sqlite:///{legacy_copy / 'charterwatch.db'}"), legacy)
    legacy.dispose()
    c = _container(legacy_copy, url, manifest)
    try:
        check_upgraded(c, manifest)
        check_services_carry_on(c, manifest)
    finally:
        c.close()


def _fresh_database(admin_url: str) -> str:
    import uuid

    name = f"cw_upgrade_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _load(source: Engine, target: Engine) -> None:
    """Every row of the fixture into the same tables on PostgreSQL, as that release would have written them."""
    src, dst = MetaData(), MetaData()
    src.reflect(source)
    dst.reflect(target)
    with source.connect() as read, target.begin() as write:
        for name, table in src.tables.items():
            if name == "alembic_version":
                continue
            rows = [dict(r._mapping) for r in read.execute(select(table))]
            for row in rows:
                for key, value in row.items():
                    if hasattr(value, "tzinfo") and value.tzinfo is None and hasattr(value, "hour"):
                        row[key] = value.replace(tzinfo=timezone.utc)  # SQLite kept UTC without an offset
            if rows:
                write.execute(dst.tables[name].insert(), rows)
            if "seq" in dst.tables[name].c:
                write.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'seq'), "
                                   f"COALESCE((SELECT max(seq) FROM {name}), 0) + 1, false)"))
