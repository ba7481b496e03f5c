"""Scaling by partition: throughput of 1, 2 and 4 workers (separate processes) of the SLA monitor (faust),
compensation and notify, one run, each on its own consumer group sharing the topics' 6 partitions.

For each service and worker count: a fresh topic namespace and a fresh PostgreSQL database; the workers are
started (``python bench/scaling.py --worker <service>``, built as the service builds them, on Kafka) and the
bench waits until the consumer group is stable with every worker holding partitions; then --events input
events are appended and the clock runs until every output is on the log:
- monitor: Dangjin grievances received (PetitionReceived); done when each case has its obligations opened;
- compensation: breaches of a statutory deadline (each: a voucher proposed, approved, issued and an apology);
  done when every case's VoucherIssued is on the compensation topic;
- notify: receipts and resolutions of cases asking for e-mail (a receipt and a completion notice each, to
  files: no provider); done when every NoticeSent is on the notice topic.
Figures: events/s per worker count, with 1 worker as the baseline of 2 and 4.

Needs KAFKA_BOOTSTRAP_SERVERS (three brokers: deploy/kafka/cluster.sh start; bootstrap with cluster.sh
bootstrap; --replication 3) and --database-url (or CHARTERWATCH_TEST_POSTGRES_URL), a PostgreSQL the bench
may create databases in. On a machine with few cores the workers share them: the figures show that.
Run: python3 bench/scaling.py [--events 3000] [--workers 1,2,4] [--services monitor,compensation,notify]
"""
from __future__ import annotations

import argparse
import base64
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure, machine  # noqa: E402

from services.platform.log.kafka import KafkaLog  # noqa: E402
from services.platform.log.port import Record  # noqa: E402
from services.platform.log.topics import Topics  # noqa: E402
from services.platform.settings import Settings  # noqa: E402
from shared.events import Envelope, encode, sla  # noqa: E402
from shared.events import petition as ev  # noqa: E402
from shared.events.envelope import CharterRef  # noqa: E402
from shared.instants import KST  # noqa: E402
from shared.sealing import Sealed, seal  # noqa: E402

KEYS = "bench:" + base64.b64encode(b"k" * 32).decode()
RECEIVED = datetime(2027, 3, 2, 10, tzinfo=KST)
GROUPS = {"monitor": "charterwatch-sla-monitor", "compensation": "charterwatch-compensation",
          "notify": "charterwatch-notify"}


def settings(data: Path, database_url: str, prefix: str, replication: int) -> Settings:
    return Settings(mode="kafka", data_dir=data, database_url=database_url, pii_keys=KEYS, topic_prefix=prefix,
                    kafka_bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                    kafka_replication_factor=replication,
                    kafka_min_insync_replicas=min(2, replication))


def env_of(s: Settings, clock: Path) -> dict[str, str]:
    return {**os.environ, "CHARTERWATCH_MODE": "kafka", "CHARTERWATCH_DATA_DIR": str(s.data_dir),
            "CHARTERWATCH_DATABASE_URL": s.database_url or "", "CHARTERWATCH_PII_KEYS": KEYS,
            "CHARTERWATCH_TOPIC_PREFIX": s.topic_prefix, "CHARTERWATCH_KAFKA_REPLICATION_FACTOR":
                str(s.kafka_replication_factor), "CHARTERWATCH_KAFKA_MIN_INSYNC_REPLICAS":
                str(s.kafka_min_insync_replicas), "CHARTERWATCH_METRICS_PORT": "0",
            "CHARTERWATCH_CLOCK_FILE": str(clock), "CHARTERWATCH_LOG_LEVEL": "warning"}


def worker(service: str) -> None:
    """One worker process of compensation or notify, as the service runs it, until SIGTERM."""
    from services import wiring
    from services.bootstrap import bootstrap
    from services.platform.logs import configure

    configure("warning")
    c = bootstrap(Settings(), migrate_db=False)
    loop = wiring.compensation_consumer(c) if service == "compensation" else wiring.notify_worker(c)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop())
    loop.run(poll_timeout=0.2)
    c.close()


# -- inputs ---------------------------------------------------------------------------------------------
def receipt(case_id: str, channels: tuple[str, ...] = (), applicant: Sealed | None = None) -> Envelope:
    return Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=1, occurred_at=RECEIVED,
                    recorded_at=RECEIVED, producer="intake", charter=CharterRef("dangjin", "2024.1"),
                    payload=ev.PetitionReceived(municipality_id="dangjin", agency_id="bench", petition_type="grievance",
                                                channel="visit", title="민원",
                                                applicant=applicant or Sealed(kid="k", nonce="bg==", ciphertext="Yw=="),
                                                applicant_ref="r" * 32, notice_channels=channels,
                                                electronic_consent=False))


def breach(case_id: str, calendar_version: str) -> Envelope:
    due = RECEIVED + timedelta(days=9)
    proof = sla.Proof(rule="Act 19", started_at=RECEIVED, period="7d", counting="working_days",
                      calendar_version=calendar_version, basis_event_id=str(uuid.uuid4()))
    return Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=1, occurred_at=due, recorded_at=due,
                    producer="sla_monitor", charter=CharterRef("dangjin", "2024.1"),
                    payload=sla.ObligationBreached(obligation_id="statutory_deadline", kind="statutory_deadline",
                                                   due_at=due, citizen_facing=True, severity="breach", proof=proof))


def inputs(service: str, n: int, s: Settings) -> tuple[list[tuple[str, list[tuple[str, bytes]]]], str, int]:
    """(topic attribute, records) to append in order, the output topic attribute and how many outputs."""
    from services.bootstrap import bootstrap

    cases = [str(uuid.uuid4()) for _ in range(n)]
    if service == "monitor":
        return [("petition_events", [(c, encode(receipt(c))) for c in cases])], "sla_events", n
    if service == "compensation":
        from shared.holiday_source import korean_calendar

        version = korean_calendar().version
        return [("petition_events", [(c, encode(receipt(c))) for c in cases]),
                ("sla_events", [(c, encode(breach(c, version))) for c in cases])], "compensation_events", n
    c = bootstrap(s, migrate_db=False)
    items = []
    for case in cases[: n // 2]:
        received = receipt(case, ("email",), seal(c.keyring, {"name": "김", "email": "citizen@example.kr"}, case))
        resolved = Envelope(event_id=uuid.uuid4(), case_id=case, case_version=2, occurred_at=RECEIVED.replace(hour=15),
                            recorded_at=RECEIVED.replace(hour=15), producer="intake", charter=received.charter,
                            payload=ev.PetitionResolved(outcome="accepted", explanation="처리를 마쳤습니다."))
        items += [(case, encode(received)), (case, encode(resolved))]
    c.close()
    return [("petition_events", items)], "notice_events", (n // 2) * 2


def done_when(service: str) -> Callable[[Record], str | None]:
    """What output record counts once (its case, or its event), None for the others."""
    import json

    def mark(r: Record) -> str | None:
        data = json.loads(r.value)
        kind = data.get("event_type")
        if service == "monitor":
            return data["case_id"] if kind == "ObligationOpened" else None
        if service == "compensation":
            return data["case_id"] if kind == "VoucherIssued" else None
        return data["event_id"] if kind == "NoticeSent" else None
    return mark


# -- one step: k workers of one service -----------------------------------------------------------------
def group_ready(admin, group: str, k: int) -> bool:  # type: ignore[no-untyped-def]
    """The group is stable with ``k`` members, each holding partitions."""
    try:
        described = admin.describe_groups([group]).get(group) or {}
    except Exception:  # the group is not known yet
        return False
    members = [m for m in described.get("members") or []
               if any(a.get("partitions") for a in (m.get("member_assignment") or {}).get("assigned_partitions", []))]
    return described.get("group_state") == "Stable" and len(members) == k


def step(service: str, k: int, n: int, admin_url: str, replication: int, tmp: Path, timeout: float) -> float:
    from kafka import KafkaAdminClient
    from sqlalchemy import create_engine

    from services.bootstrap import bootstrap

    name = f"cw_scale_{uuid.uuid4().hex[:8]}"
    admin_db = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin_db.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    prefix = f"scale{uuid.uuid4().hex[:6]}."
    data = tmp / prefix.rstrip(".")
    s = settings(data, url, prefix, replication)
    c = bootstrap(s)  # migrates every service's tables
    topics = Topics.configured(s)
    c.log.create_topics(topics.specs())
    c.close()
    clock = data / "now"
    clock.write_text(RECEIVED.isoformat())
    batches, out_topic, expected = inputs(service, n, s)
    log = KafkaLog(os.environ["KAFKA_BOOTSTRAP_SERVERS"])
    admin = KafkaAdminClient(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(","))
    procs = []
    try:
        for i in range(k):
            env = env_of(s, clock)
            env["CHARTERWATCH_DATA_DIR"] = str(data / f"w{i}")  # faust keeps its own files per worker
            (data / f"w{i}").mkdir(parents=True, exist_ok=True)
            command = ([sys.executable, "-m", "services.cli", "sla-monitor"] if service == "monitor"
                       else [sys.executable, __file__, "--worker", service])
            out = (data / f"w{i}.log").open("wb")
            procs.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          cwd=Path(__file__).resolve().parents[1]))
        deadline = time.monotonic() + 180
        while not group_ready(admin, prefix + GROUPS[service], k):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"{service}: {k} workers never formed a stable group (see {data}/w*.log)")
            time.sleep(0.2)
        reader = log.reader(getattr(topics, out_topic))
        mark = done_when(service)
        seen: set[str] = set()
        t0 = time.perf_counter()
        for attr, items in batches:
            for i in range(0, len(items), 1000):
                log.append_many(getattr(topics, attr), items[i:i + 1000])
        deadline = time.monotonic() + timeout
        while len(seen) < expected:
            for r in reader.poll(max_records=5000, timeout=0.5):
                m = mark(r)
                if m is not None:
                    seen.add(m)
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"{service}: {len(seen)} of {expected} outputs with {k} workers")
        elapsed = time.perf_counter() - t0
        reader.close()
        return sum(len(items) for _, items in batches) / elapsed
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        admin.close()
        log.close()
        with admin_db.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin_db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--services", default="monitor,compensation,notify")
    parser.add_argument("--replication", type=int, default=3, help="3 on the three-broker cluster, 1 on one broker")
    parser.add_argument("--database-url", default=os.environ.get("CHARTERWATCH_TEST_POSTGRES_URL"))
    parser.add_argument("--timeout", type=float, default=600, help="seconds a step may take to finish its outputs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or not args.database_url:
        sys.exit("needs KAFKA_BOOTSTRAP_SERVERS and --database-url (PostgreSQL)")
    from services.platform.logs import configure

    configure("warning")
    machine("start")
    brokers = len(os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(","))
    print(f"{brokers} broker(s) at {os.environ['KAFKA_BOOTSTRAP_SERVERS']}, replication {args.replication}, "
          f"{os.cpu_count()} cores, {args.events:,} input events per step, 6 partitions per topic")
    counts = [int(k) for k in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp())
    table: dict[str, dict[int, float]] = {}
    failed: dict[str, str] = {}
    for service in args.services.split(","):
        for k in counts:
            try:
                table.setdefault(service, {})[k] = step(service, k, args.events, args.database_url, args.replication,
                                                        tmp, args.timeout)
            except RuntimeError as exc:  # told, and the other steps still run
                failed[f"{service} x{k}"] = str(exc)
                print(f"  {service}: {k} worker(s): failed: {exc}", flush=True)
                continue
            print(f"  {service}: {k} worker(s): {table[service][k]:,.0f} events/s", flush=True)
    print()
    print(f"{'service':<14}" + "".join(f"{f'{k} worker(s)':>16}" for k in counts) + f"{'best / 1':>10}")
    for service, rates in table.items():
        base = rates.get(counts[0])
        print(f"{service:<14}" + "".join(f"{rates[k]:>16,.0f}" if k in rates else f"{'failed':>16}" for k in counts) +
              (f"{max(rates.values()) / base:>9.2f}x" if base and rates else f"{'-':>10}"))
    print()
    for service, rates in table.items():
        base = rates.get(counts[0])
        for k in counts:
            if k not in rates:
                continue
            figure("scaling", f"{service}, {k} worker(s)", rates[k], "events/s",
                   f"{counts[0]} worker(s)" if k != counts[0] and base else None, base if k != counts[0] else None,
                   note=f"{brokers} broker(s), {os.cpu_count()} cores")
    for step_name, reason in failed.items():
        print(f"failed: {step_name}: {reason}")
    machine("end")


if __name__ == "__main__":
    main()
