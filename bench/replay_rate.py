"""Audit replay figures, one run, printed side by side, over one log of --events events (default
1,000,000) in the embedded log: Dangjin grievances received, assigned and resolved, with the
obligation events the monitor derives for them (nine events a case).

1. raw read: every record of the four topics read back (no decoding);
2. replay: read, decode, group by case, re-derive every obligation event and compare it with the
   recorded one (remedies and notices are checked too; these cases owe none), as
   ``charterwatch audit replay --all`` does: once with one worker process, once with --workers
   (default: one per CPU), each worker taking its share of the partitions.

Run: python3 bench/replay_rate.py [--events 1000000] [--workers N]
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402

from services.audit.shards import Scope, default_workers, replay_everything  # noqa: E402
from services.platform.log.embedded import EmbeddedLog  # noqa: E402
from services.platform.log.topics import Topics  # noqa: E402
from services.platform.logs import configure  # noqa: E402
from services.sla_monitor.runner import read_all  # noqa: E402
from shared.charters import CharterBook  # noqa: E402
from shared.events import Envelope, encode  # noqa: E402
from shared.events import petition as ev  # noqa: E402
from shared.events.envelope import CharterRef  # noqa: E402
from shared.holiday_source import korean_calendar  # noqa: E402
from shared.instants import KST  # noqa: E402
from shared.obligations import ObligationBook  # noqa: E402
from shared.sealing import Sealed  # noqa: E402

SEALED = Sealed(kid="k", nonce="bm9uY2U=", ciphertext="Y2lwaGVy")
OFFICIAL = ev.Official(official_id="o-1", name="박주무관", department="도로과", phone="041-350-1234", email="p@x.kr")


def case_events(i: int, charter: CharterRef) -> list[Envelope]:
    case_id = str(uuid.UUID(int=i + 1))
    at = datetime(2027, 3, 2, 9, tzinfo=KST) + timedelta(seconds=97 * i)  # every case its own instants
    payloads = [ev.PetitionReceived(municipality_id="dangjin", agency_id="bench", petition_type="grievance",
                                    channel="visit", title="민원", applicant=SEALED, applicant_ref="r" * 32),
                ev.OfficialAssigned(official=OFFICIAL),
                ev.PetitionResolved(outcome="accepted", explanation="처리 완료")]
    times = [at, at + timedelta(hours=1), at + timedelta(days=2)]
    return [Envelope(event_id=uuid.uuid4(), case_id=case_id, case_version=n + 1, occurred_at=t, recorded_at=t,
                     producer="bench", payload=p, charter=charter) for n, (p, t) in enumerate(zip(payloads, times,
                                                                                               strict=True))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=default_workers(), help="default: one per CPU")
    args = parser.parse_args()
    configure("warning")
    calendar, charters = korean_calendar(), CharterBook.bundled()
    charter = CharterRef("dangjin", charters.in_force("dangjin", datetime(2027, 3, 2, tzinfo=KST)).version)
    tmp = Path(tempfile.mkdtemp())
    log = EmbeddedLog(tmp / "log.db")
    topics = Topics("")
    log.create_topics(topics.specs())

    t0 = time.perf_counter()
    written = cases = 0
    petition: list[tuple[str, bytes]] = []
    sla: list[tuple[str, bytes]] = []
    while written + len(petition) + len(sla) < args.events:
        book = ObligationBook(calendar, charters)  # what the live monitor recorded for this case
        for env in case_events(cases, charter):
            petition.append((env.case_id, encode(env)))
            sla += [(e.case_id, encode(e)) for e in book.due(env.recorded_at) + book.observe(env, env.recorded_at)]
        cases += 1
        if len(petition) >= 30_000:
            log.append_many(topics.petition_events, petition)
            log.append_many(topics.sla_events, sla)
            written += len(petition) + len(sla)
            petition, sla = [], []
    log.append_many(topics.petition_events, petition)
    log.append_many(topics.sla_events, sla)
    build_s = time.perf_counter() - t0
    total = sum(sum(log.end_offsets(t).values()) for t in (topics.petition_events, topics.sla_events))

    t0 = time.perf_counter()
    raw = sum(len(read_all(log, t)[0]) for t in (topics.petition_events, topics.sla_events, topics.compensation_events,
                                                topics.notice_events))
    raw_rate = raw / (time.perf_counter() - t0)
    print(f"log: {total:,} events ({cases:,} cases) built in {build_s:.0f} s")
    print(f"raw read: {raw:,} records at {raw_rate:,.0f} records/s")

    scope = Scope(log, topics, calendar, charters)
    rates = {}
    for workers in sorted({1, args.workers}):
        t0 = time.perf_counter()
        summary = replay_everything(scope, workers)  # as `charterwatch audit replay --all --workers N` does
        replay_s = time.perf_counter() - t0
        rates[workers] = rate = summary.events / replay_s
        print(f"replay, {workers} worker(s): {summary.events:,} events in {replay_s:.1f} s: {rate:,.0f} events/s, "
              f"{summary.decisions:,} decisions re-derived, {summary.cases:,} cases, disagreements: "
              f"{summary.disagreements or 'none'}; {rate / raw_rate:.3f}x the raw read rate (goal >= 50,000 events/s)")
    for workers, rate in rates.items():
        figure("replay_rate", f"audit replay, {workers} worker(s)", rate, "events/s", "raw read", raw_rate,
               goal_ratio=0.25, goal=50_000)
    if len(rates) > 1:
        print(f"scaling: {args.workers} workers replay {rates[args.workers] / rates[1]:.2f}x as fast as one")
    # ru_maxrss is in KiB on Linux; the parent's peak includes the one-worker run, done in-process
    print(f"peak memory: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB, "
          f"largest worker {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:,.0f} MiB")
    log.close()
    shutil.rmtree(tmp)

if __name__ == "__main__":
    main()
