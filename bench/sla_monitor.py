"""SLA monitor figures from the real faust worker (the production path), with its book loaded.

The worker runs in a process of its own, built as ``charterwatch sla-monitor`` builds it (services/cli.py)
except for its clock: the wall clock shifted onto a working Tuesday (2027-03-02 KST), so a burst falls due at a
known wall instant. Its book is loaded the way a restart loads it: the table's changelog holds one snapshot per
case (written here beforehand, in bulk), faust restores the table and the worker rebuilds the book from it.
This process only writes the log, reads it and watches the worker from outside.

1. restart with --obligations open (default 1,000,000: 50,000 'other' petitions of Yeonje-gu due 3 working
   hours after receipt, at 14:00:00, and question_system petitions due a week later), the time from starting
   the worker until it is ready, and its memory (RSS when ready minus RSS when faust had started, per open
   obligation);
2. idle CPU of the worker holding that book (nothing due for --idle seconds), as a share of one core,
   measured once the at-risk warnings given at start are out and their cases' snapshots rewritten;
3. the burst: --burst obligations falling due in the same second (14:00:00), the delay from that instant until
   each breach can be read from the log (p50/p99/max, read by this process: fetch latency included);
4. restart time against history length: --history-cases cases of 1, 10, ... facts each, their snapshots in the
   compact form the worker writes (the case folded), and the longest again as snapshots of facts (the form
   earlier releases wrote, folded at restore);
5. throughput over Kafka: --throughput petitions appended to the fact topic while the worker runs, until the
   worker has appended every obligation event they derive, beside a bare kafka-python producer, same broker.

Needs KAFKA_BOOTSTRAP_SERVERS (a real broker).
Run: python3 bench/sla_monitor.py [--obligations 1000000] [--burst 50000] [--history 1,10,50]
     [--history-cases 5000] [--throughput 20000] [--idle 10]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared.charters import CharterBook  # noqa: E402
from shared.events import Envelope, encode  # noqa: E402
from shared.events import petition as ev  # noqa: E402
from shared.events.envelope import CharterRef  # noqa: E402
from shared.instants import KST  # noqa: E402
from shared.sealing import Sealed  # noqa: E402

SEALED = Sealed(kid="k", nonce="bm9uY2U=", ciphertext="Y2lwaGVy")
RECEIVED = datetime(2027, 3, 2, 10, tzinfo=KST)  # 'other' petitions received then are due at 14:00 (3 working hours)
DUE = datetime(2027, 3, 2, 14, tzinfo=KST)
START = DUE - timedelta(minutes=30)  # the worker's clock at start: past the burst's at-risk warnings (13:15)
CASE_MARK, EVENT_MARK = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
OFFICIAL = ev.Official(official_id="o-1", name="박주무관", department="도로과", phone="041-350-1234", email="p@x.kr")


def yeonje() -> CharterRef:
    return CharterRef("yeonje-gu", CharterBook.bundled().in_force("yeonje-gu", RECEIVED).version)


def received(at: datetime, petition_type: str, charter: CharterRef, case_id: str | None = None) -> Envelope:
    """A receipt; with ``case_id`` (a template's mark) its event id is the template's mark too."""
    payload = ev.PetitionReceived(municipality_id=charter.charter_id, agency_id="bench", petition_type=petition_type,
                                  channel="visit", title="민원", applicant=SEALED, applicant_ref="r" * 32)
    event_id = uuid.UUID(EVENT_MARK) if case_id else uuid.uuid4()
    return Envelope(event_id=event_id, case_id=case_id or str(uuid.uuid4()), case_version=1, occurred_at=at,
                    recorded_at=at, producer="bench", payload=payload, charter=charter)


def history(length: int, charter: CharterRef) -> list[Envelope]:
    """A case's facts: its receipt, then reassignments (a case can be handed on any number of times)."""
    facts = [received(RECEIVED, "question_system", charter, CASE_MARK)]
    for n in range(2, length + 1):
        at = RECEIVED + timedelta(minutes=n)
        facts.append(Envelope(event_id=uuid.UUID(EVENT_MARK), case_id=CASE_MARK, case_version=n, occurred_at=at,
                              recorded_at=at, producer="bench", payload=ev.OfficialAssigned(official=OFFICIAL),
                              charter=charter))
    return facts


def snapshot_template(facts: list[Envelope], legacy: bool = False) -> str:
    """A case's snapshot as the worker writes it: the case folded by an obligation book, in the book's compact
    form. ``legacy``: as releases before that form wrote it (the facts, folded again at every restore)."""
    import orjson

    from services.sla_monitor.tables import Snapshot
    from shared.holiday_source import korean_calendar
    from shared.obligations import ObligationBook

    if legacy:
        return orjson.dumps({"facts": [encode(f).decode() for f in facts], "marks": {"breached": [], "at_risk": []},
                             "parked": None, "held": []}).decode()
    book = ObligationBook(korean_calendar(), CharterBook.bundled())
    for env in facts:
        book.observe(env, env.recorded_at)
    return Snapshot(case=book.snapshot_of(CASE_MARK)).dump().decode()


def snapshots(n: int, template: str, first: int) -> Iterator[tuple[bytes, bytes]]:
    """(key, snapshot) per case, from a template case whose ids are swapped (same length, still valid)."""
    for i in range(first, first + n):
        case_id = str(uuid.UUID(int=i))
        yield case_id.encode(), template.replace(CASE_MARK, case_id).replace(EVENT_MARK, str(uuid.uuid4())).encode()


def produce(servers: str, topic: str, items: Iterator[tuple[bytes, bytes]]) -> int:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=servers.split(","), acks="all", linger_ms=5, batch_size=256 * 1024,
                             max_request_size=8 * 1024 * 1024)
    count = 0
    for key, value in items:
        producer.send(topic, key=key, value=value)
        count += 1
    producer.flush()
    producer.close()
    return count


def rss_of(pid: int | None = None) -> int:
    with open(f"/proc/{pid or 'self'}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the worker (its own process) -----------------------------------------------------------------------------
def worker(status: Path, arm: Path) -> None:
    """``charterwatch sla-monitor`` in kafka mode, with a shifted wall clock and a task reporting to ``status``."""
    import asyncio

    import faust

    from services.bootstrap import load_calendar
    from services.platform.log.topics import Topics
    from services.platform.logs import configure
    from services.platform.settings import Settings
    from services.sla_monitor.agents import register
    from services.sla_monitor.app import create_app

    settings = Settings()
    configure(settings.log_level)  # as the CLI does
    shift = [START - datetime.now(timezone.utc)]

    def clock() -> datetime:
        return datetime.now(timezone.utc) + shift[0]

    def report(**line: object) -> None:
        with status.open("a") as fh:
            fh.write(json.dumps({**line, "t": time.time(), "rss": rss_of()}) + "\n")

    app = create_app(settings)
    monitor = register(app, Topics(settings.topic_prefix), load_calendar(settings.holiday_overrides_file),
                       CharterBook.bundled(), clock, settings.monitor_stall_s)

    @app.task
    async def bench_status() -> None:
        report(event="started")
        await monitor.ready.wait()
        report(event="ready", open=monitor.book.open_count())
        while not arm.exists():
            await asyncio.sleep(0.05)
        lead = float(arm.read_text())
        shift[0] = DUE - timedelta(seconds=lead) - datetime.now(timezone.utc)
        report(event="armed", due_wall=DUE.timestamp() - shift[0].total_seconds())

    w = faust.Worker(app, loglevel="WARNING", quiet=True)
    w.spinner = None
    w.execute_from_commandline()


class Watched:
    """A worker process started here, and what it reports."""

    def __init__(self, servers: str, prefix: str, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.status, self.arm = work / "status.jsonl", work / "arm"
        env = {**os.environ, "CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": servers,
               "CHARTERWATCH_TOPIC_PREFIX": prefix, "CHARTERWATCH_DATA_DIR": str(work),
               "CHARTERWATCH_LOG_LEVEL": "warning", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        self.spawned = time.time()
        self.out = (work / "worker.log").open("w")
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", str(self.status), str(self.arm)], env=env,
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def wait_for(self, event: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the worker exited ({self.proc.returncode}); see {self.out.name}")
            if self.status.exists():
                for line in self.status.read_text().splitlines():
                    seen = json.loads(line)
                    if seen["event"] == event:
                        return seen
            time.sleep(0.1)
        raise SystemExit(f"the worker did not report {event!r} within {timeout:.0f} s; see {self.out.name}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


class Reader:
    """The SLA topic read from its end, here: when each record became readable."""

    def __init__(self, servers: str, topic: str) -> None:
        from kafka import KafkaConsumer, TopicPartition

        self.consumer = KafkaConsumer(bootstrap_servers=servers.split(","), enable_auto_commit=False, group_id=None,
                                      max_poll_records=5000, fetch_max_wait_ms=20)
        tps = [TopicPartition(topic, p) for p in range(6)]
        self.consumer.assign(tps)
        self.consumer.seek_to_end()
        for tp in tps:  # seek_to_end is lazy: resolved now, or records written before the first poll are missed
            self.consumer.position(tp)

    def until(self, wanted: bytes, count: int, timeout: float, quiet: float | None = None) -> list[float]:
        """Arrival times of records containing ``wanted``, until ``count`` (or ``quiet`` s with none new)."""
        arrivals: list[float] = []
        deadline, last = time.monotonic() + timeout, time.monotonic()
        while len(arrivals) < count and time.monotonic() < deadline:
            polled = self.consumer.poll(timeout_ms=200)
            now = time.time()
            got = [now for records in polled.values() for r in records if wanted in r.value]
            arrivals += got
            if got:
                last = time.monotonic()
            elif quiet is not None and time.monotonic() - last > quiet:
                break
        return arrivals

    def close(self) -> None:
        self.consumer.close()


def fresh_topics(servers: str) -> tuple[str, object]:
    from services.platform.log.kafka import KafkaLog
    from services.platform.log.topics import Topics

    prefix = f"bench{uuid.uuid4().hex[:6]}."
    topics = Topics(prefix)
    log = KafkaLog(servers)
    log.create_topics(topics.specs())
    log.close()
    return prefix, topics


def restart_time(servers: str, cases: int, length: int, work: Path, legacy: bool = False,
                 attempt: int = 1) -> tuple[float, int]:
    prefix, topics = fresh_topics(servers)
    produce(servers, topics.monitor_snapshots, snapshots(cases, snapshot_template(history(length, yeonje()), legacy), 1))
    watched = Watched(servers, prefix, work / f"history-{length}{'-legacy' if legacy else ''}-{attempt}")
    try:
        ready = watched.wait_for("ready", 1800)
    finally:
        watched.stop()
    return ready["t"] - watched.spawned, ready["open"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--obligations", type=int, default=1_000_000, help="open when the burst falls due")
    parser.add_argument("--burst", type=int, default=50_000, help="obligations due in the same second")
    parser.add_argument("--history", default="1,10,50", help="facts per case, for the restart-time figure")
    parser.add_argument("--history-cases", type=int, default=5_000)
    parser.add_argument("--throughput", type=int, default=20_000, help="petitions for the throughput figure")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured")
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return

    from figures import figure
    from producer_rate import bare_producer_rate, events

    from services.platform.log.kafka import KafkaLog
    from services.platform.log.port import TopicSpec

    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        raise SystemExit("sla_monitor.py measures the faust worker: set KAFKA_BOOTSTRAP_SERVERS")
    work = Path(tempfile.mkdtemp(prefix="cw-bench-monitor-"))
    charter = yeonje()

    # 1. the book in the changelog, as a restart finds it: burst cases (2 obligations each, the at-risk warning
    # at 13:15 and the deadline at 14:00) and background cases (2 each: a week's deadline, an interim notice)
    prefix, topics = fresh_topics(servers)
    background = max(0, (args.obligations - 2 * args.burst) // 2)
    t0 = time.perf_counter()
    written = produce(servers, topics.monitor_snapshots, snapshots(args.burst, snapshot_template([received(
        RECEIVED, "other", charter, CASE_MARK)]), 1))
    written += produce(servers, topics.monitor_snapshots, snapshots(background, snapshot_template(history(1, charter)),
                                                                    args.burst + 1))
    print(f"changelog: {written:,} case snapshots written in {time.perf_counter() - t0:.0f} s")

    reader = Reader(servers, topics.sla_events)
    watched = Watched(servers, prefix, work / "burst")
    try:
        started = watched.wait_for("started", 300)
        ready = watched.wait_for("ready", 3600)
        restart_s = ready["t"] - watched.spawned
        open_count = ready["open"]
        per_obligation = (ready["rss"] - started["rss"]) / max(open_count, 1)
        print(f"worker ready {restart_s:.1f} s after it was started, {open_count:,} obligations open, "
              f"RSS {ready['rss'] / 2**20:,.0f} MiB ({started['rss'] / 2**20:,.0f} MiB before the table was restored)")
        # the burst's at-risk warnings (13:15) go out as soon as the worker is ready: wait for them to pass
        warned = reader.until(b"ObligationAtRisk", args.burst, 600, quiet=20)
        # then the warned cases' snapshots are rewritten: work, not idle; measured once the worker settles
        settle0 = time.monotonic()
        while time.monotonic() - settle0 < 300:
            cpu0 = cpu_seconds(watched.proc.pid)
            time.sleep(1.0)
            if cpu_seconds(watched.proc.pid) - cpu0 < 0.1:
                break
        settled = time.monotonic() - settle0
        cpu0, wall0 = cpu_seconds(watched.proc.pid), time.monotonic()
        time.sleep(args.idle)
        idle = (cpu_seconds(watched.proc.pid) - cpu0) / (time.monotonic() - wall0)
        watched.arm.write_text("10")
        armed = watched.wait_for("armed", 60)
        arrivals = reader.until(b"ObligationBreached", args.burst, 600)
        delays = sorted(a - armed["due_wall"] for a in arrivals)

        # 5. throughput: petitions appended while the worker runs, until their obligation events are all out
        per_case = 2  # a question_system receipt opens a deadline and an interim notice (ObligationOpened each)
        now = DUE + timedelta(minutes=1)
        batch = [(e.case_id, encode(e)) for e in (received(now, "question_system", charter)
                                                  for _ in range(args.throughput))]
        log = KafkaLog(servers)
        t0 = time.time()
        for i in range(0, len(batch), 1000):
            log.append_many(topics.petition_events, batch[i:i + 1000])
        opened = reader.until(b"ObligationOpened", per_case * args.throughput, 600)
        monitor_rate = len(opened) / per_case / (max(opened) - t0) if opened else 0.0
        log.close()
    finally:
        watched.stop()
        reader.close()
    bare_topic = f"bench.bare.{uuid.uuid4().hex[:6]}"
    admin = KafkaLog(servers)
    admin.create_topics([TopicSpec(bare_topic, 6, -1)])
    admin.close()
    bare = bare_producer_rate(servers, bare_topic, events(10_000))

    # 4. restart time against history length (small books: the figure is the slope, not the size)
    lengths = [int(x) for x in args.history.split(",") if x]
    # best of two: the worker's own start (faust, topics, a consumer group) varies by a second or more run to run
    restarts = {n: min(restart_time(servers, args.history_cases, n, work, attempt=a) for a in (1, 2)) for n in lengths}
    # the same longest cases, snapshots of facts as releases before the compact form wrote them (folded at restore)
    folded = restart_time(servers, args.history_cases, max(lengths), work, legacy=True) if lengths else None

    print(f"at-risk warnings before the burst: {len(warned):,}, their snapshots rewritten in {settled:.1f} s; "
          f"idle CPU over {args.idle:.0f} s: {idle * 100:.2f}%")
    figure("sla_monitor", f"burst of {args.burst:,} due in one second, p99 delay ({open_count:,} open)",
           delays[int(len(delays) * 0.99)] if delays else float("inf"), "s", goal=1.0, lower_is_better=True,
           note=f"{len(delays):,} breaches read; p50 {delays[len(delays) // 2] if delays else 0:.3f} s, "
                f"max {delays[-1] if delays else 0:.3f} s")
    figure("sla_monitor", "memory per open obligation", per_obligation, "bytes", goal=600, lower_is_better=True,
           note=f"worker RSS ready minus started, {open_count:,} open")
    figure("sla_monitor", f"restart with {open_count:,} open", restart_s, "s", lower_is_better=True,
           note="worker start to ready: table restored from its changelog, book rebuilt")
    figure("sla_monitor", "idle CPU with the book loaded", idle * 100, "% of a core", goal=5, lower_is_better=True)
    figure("sla_monitor", "faust worker, petitions through the monitor", monitor_rate, "petitions/s",
           "bare kafka-python producer", bare, goal_ratio=0.6, note=f"{args.throughput:,} petitions, 2 events each")
    if len(lengths) > 1:
        shortest, longest = min(lengths), max(lengths)
        for n in lengths:
            print(f"restart, {args.history_cases:,} cases of {n} facts: {restarts[n][0]:.1f} s "
                  f"({restarts[n][1]:,} open)")
        figure("sla_monitor", f"restart, cases of {longest} facts", restarts[longest][0], "s",
               f"cases of {shortest} fact(s)", restarts[shortest][0], goal_ratio=1.2, lower_is_better=True,
               note=f"{args.history_cases:,} cases; independent of history length: ratio near 1")
    if folded is not None:
        print(f"restart, {args.history_cases:,} cases of {max(lengths)} facts, snapshots of facts: {folded[0]:.1f} s")
        figure("sla_monitor", f"restart, cases of {max(lengths)} facts, snapshots of facts (before)", folded[0], "s",
               "the same cases, compact snapshots", restarts[max(lengths)][0], lower_is_better=True,
               note="the upcast path: snapshots written before the compact form are folded fact by fact")


if __name__ == "__main__":
    main()
