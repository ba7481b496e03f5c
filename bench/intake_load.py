"""Intake over the real broker beside the issue's baseline, a bare FastAPI endpoint producing with aiokafka
(bench/bare_intake.py), both loaded the same way in one run: saturated commands/s and p50/p99 latency.

Each server runs in its own process, the load generator in another. Runs per server: closed loop
(``--concurrency`` clients, each sending as soon as answered: the saturated rate), then for intake bulk
ingest (``--bulk-seconds``: batches of ``--bulk-size`` filings, against the bare kafka-python producer),
then open loop at ``--rate`` (requests leave at fixed intervals, latency measured from the scheduled
instant, so a slow server cannot hide its queue; last, since its backlog outlives it). Half the
per-request commands file petitions, half assign an official to one filed.

Run: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python3 bench/intake_load.py [--rate 200] [--seconds 20]
     [--concurrency 64] [--bulk-seconds 10] [--workers N] [--database-url postgresql://...]
     (default: SQLite in a temporary folder)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure, free_port  # noqa: E402

FILE = {"municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "가로등 고장",
        "body": "시청 앞 가로등이 꺼져 있습니다", "received_at": "2026-11-02T10:00:00+09:00",
        "applicant": {"name": "부하시험", "phone": "010-1234-5678"}}
OFFICIAL = {"official_id": "o-1", "name": "박주무관", "department": "도로과", "phone": "041-350-1234",
            "email": "park@dangjin.go.kr"}


def _request(client: aiohttp.ClientSession, url: str, i: int, filed: list[str]):  # type: ignore[no-untyped-def]
    """Half the commands file a petition, half assign an official to one filed before."""
    if i % 2 == 1 and filed:
        return client.post(f"{url}/v1/petitions/{filed.pop()}/assignment",
                           json={"occurred_at": "2026-11-02T11:00:00+09:00", "official": OFFICIAL}), False
    return client.post(f"{url}/v1/petitions", json=FILE), True


async def generate(url: str, token: str, rate: float, seconds: float, concurrency: int = 0) -> dict:
    """Open loop at ``rate`` (latency from each request's scheduled instant), or, with ``concurrency``,
    closed loop: that many clients each sending its next command as soon as the last is answered (the
    server's saturated rate). aiohttp, not httpx: httpx's pool spent a whole core on ~110 requests/s."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    filed: list[str] = []
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(headers=headers, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:
        async def one(i: int, scheduled: float) -> None:
            request, filing = _request(client, url, i, filed)
            try:
                async with request as response:
                    status = response.status
                    body = await response.json() if status == 201 and filing else None
                if body is not None:
                    filed.append(body["case_id"])
            except (aiohttp.ClientError, asyncio.TimeoutError):
                status = 0
            latencies.append(time.perf_counter() - scheduled)
            statuses[status] = statuses.get(status, 0) + 1

        start = time.perf_counter() + 0.2
        total = 0
        if concurrency:
            await asyncio.sleep(0.2)
            ends = start + seconds
            counter = iter(range(10**9))

            async def client_loop() -> None:
                while time.perf_counter() < ends:
                    await one(next(counter), time.perf_counter())

            await asyncio.gather(*(client_loop() for _ in range(concurrency)))
            total = sum(statuses.values())
        else:
            tasks = []
            total = int(rate * seconds)
            for i in range(total):
                scheduled = start + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i, scheduled)))
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    latencies.sort()
    ok = statuses.get(201, 0)
    return {"sent": total, "ok": ok, "statuses": statuses, "elapsed_s": elapsed, "commands_per_s": ok / elapsed,
            "p50_ms": 1000 * latencies[len(latencies) // 2], "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)]}


async def bulk_load(url: str, token: str, seconds: float, clients: int, size: int) -> dict:
    """Bulk ingest: ``clients`` each sending batches of ``size`` filings (NDJSON, each with its own key) as
    soon as the last is answered, for ``seconds``: events recorded per second."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    recorded = refused = batches = 0
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=120)) as client:
        ends = time.perf_counter() + seconds
        start = time.perf_counter()

        async def loop() -> None:
            nonlocal recorded, refused, batches
            while time.perf_counter() < ends:
                body = "\n".join(json.dumps({"idempotency_key": uuid.uuid4().hex, "path": "/v1/petitions",
                                              "body": FILE}, ensure_ascii=False) for _ in range(size))
                async with client.post(f"{url}/v1/petitions:bulk", data=body.encode()) as response:
                    answer = await response.json()
                if response.status == 200:
                    recorded += answer["recorded"]
                    refused += answer["refused"]
                batches += 1

        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return {"recorded": recorded, "refused": refused, "batches": batches, "elapsed_s": elapsed,
            "events_per_s": recorded / elapsed}


def _wait_healthy(url: str, server: subprocess.Popen) -> None:
    for _ in range(150):
        if server.poll() is not None:
            raise SystemExit(f"the server at {url} exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server at {url} never answered /healthz")


def _load(url: str, token: str, rate: float, seconds: float, concurrency: int = 0) -> dict:
    """One generator run, in a second process (the server keeps its own cores' worth of GIL)."""
    out = subprocess.run([sys.executable, __file__, "--generate", url, token, "--rate", str(rate), "--seconds",
                          str(seconds), "--concurrency", str(concurrency)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _bulk(url: str, token: str, args: argparse.Namespace) -> dict:
    out = subprocess.run([sys.executable, __file__, "--generate-bulk", url, token, "--seconds",
                          str(args.bulk_seconds), "--bulk-size", str(args.bulk_size)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _measure(url: str, token: str, args: argparse.Namespace, bulk: bool = False) -> tuple[dict, dict, dict | None]:
    """(open loop at the offered rate, closed loop at saturation, bulk), after a short warm-up. The open
    loop runs last: offered more than it serves, a server is still working off that queue (requests
    their clients gave up on included) long after the run, and would slow whatever came next."""
    _load(url, token, 20, 1)
    saturated = _load(url, token, 0, args.seconds, args.concurrency)
    bulked = _bulk(url, token, args) if bulk else None
    offered = _load(url, token, args.rate, args.seconds)
    return offered, saturated, bulked


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200, help="requests/s offered, open loop (latency)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=64, help="clients of the closed-loop (saturated) run")
    parser.add_argument("--workers", type=int, default=0, help="intake worker processes (0: intake's default)")
    parser.add_argument("--database-url")
    parser.add_argument("--code", type=Path, help="run the intake server from this checkout (a before/after run)")
    parser.add_argument("--bulk-seconds", type=float, default=10, help="bulk ingest run (0: none)")
    parser.add_argument("--bulk-size", type=int, default=1000, help="filings per bulk request")
    parser.add_argument("--generate", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    parser.add_argument("--generate-bulk", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:  # the second process
        print(json.dumps(asyncio.run(generate(args.generate[0], args.generate[1], args.rate, args.seconds,
                                              args.concurrency))))
        return
    if args.generate_bulk:
        print(json.dumps(asyncio.run(bulk_load(args.generate_bulk[0], args.generate_bulk[1], args.bulk_seconds,
                                               2, args.bulk_size))))
        return

    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    work = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    port = free_port()
    env = {**os.environ, "CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": servers,
           "CHARTERWATCH_TOPIC_PREFIX": f"bench{uuid.uuid4().hex[:6]}.", "CHARTERWATCH_DATA_DIR": str(work),
           "CHARTERWATCH_PORT": str(port), "CHARTERWATCH_LOG_LEVEL": "warning"}
    if args.database_url:
        env["CHARTERWATCH_DATABASE_URL"] = args.database_url
    code = (args.code or Path(__file__).resolve().parents[1]).resolve()
    env["PYTHONPATH"] = str(code)
    cli = [sys.executable, "-m", "services.cli"]
    subprocess.run([*cli, "topics", "create"], env=env, check=True, capture_output=True, cwd=code)
    token = subprocess.run([*cli, "keys", "create", "--agency", "bench"], env=env, check=True,
                           capture_output=True, text=True, cwd=code).stdout.strip().splitlines()[-1]
    workers = ["--workers", str(args.workers)] if args.workers else []
    server = subprocess.Popen([*cli, "intake", *workers], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=code)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        offered, saturated, bulk = _measure(url, token, args, bulk=bool(args.bulk_seconds))
    finally:
        _stop(server)

    from services.platform.log.kafka import KafkaLog
    from services.platform.log.port import TopicSpec

    topic = f"bench.bare.{uuid.uuid4().hex[:6]}"
    log = KafkaLog(servers)
    log.create_topics([TopicSpec(topic, 6, -1)])
    log.close()
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, str(Path(__file__).resolve().parent / "bare_intake.py"), str(bare_port)],
                            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": servers, "BARE_TOPIC": topic},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare_url = f"http://127.0.0.1:{bare_port}"
    try:
        _wait_healthy(bare_url, bare)
        bare_offered, bare_saturated, _ = _measure(bare_url, "none", args)
    finally:
        _stop(bare)

    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"intake over Kafka at {servers}, read/command store on {database}; open loop {args.rate:.0f} req/s "
          f"for {args.seconds:.0f} s, closed loop {args.concurrency} clients (generator in a second process)")
    for label, o, sat in (("intake", offered, saturated), ("bare FastAPI + aiokafka", bare_offered, bare_saturated)):
        print(f"{label:>24}: saturated {sat['commands_per_s']:8.1f} commands/s (statuses {sat['statuses']}); "
              f"at {args.rate:.0f} req/s: {o['commands_per_s']:.1f}/s answered 201, "
              f"p50 {o['p50_ms']:.1f} ms, p99 {o['p99_ms']:.1f} ms (statuses {o['statuses']})")
    figure("intake_load", f"intake saturated ({database}, {args.concurrency} clients)", saturated["commands_per_s"],
           "commands/s", "bare FastAPI endpoint producing with aiokafka", bare_saturated["commands_per_s"],
           goal_ratio=0.6, goal=1500)
    figure("intake_load", f"intake p99 ({database}, {args.rate:.0f} req/s offered)", offered["p99_ms"], "ms",
           "bare endpoint p99", bare_offered["p99_ms"], goal=50 if args.rate >= 1000 else None, lower_is_better=True,
           note=f"p50 {offered['p50_ms']:.1f} ms; {offered['commands_per_s']:.0f}/s answered 201 of "
                f"{args.rate:.0f} offered")
    if bulk is not None:
        from producer_rate import bare_producer_rate, events

        producer = bare_producer_rate(servers, topic, events(20_000))
        print(f"bulk ingest: {bulk['recorded']:,} filings recorded in {bulk['batches']} requests of "
              f"{args.bulk_size} ({bulk['refused']} refused) in {bulk['elapsed_s']:.1f} s")
        figure("intake_load", f"bulk ingest ({database}, {args.bulk_size} filings a request)", bulk["events_per_s"],
               "events/s", "bare kafka-python producer (crc32c)", producer, goal_ratio=0.5, goal=10_000)
    print(json.dumps({"bench": "intake_load", "code": str(code), "database": database, "offered": args.rate,
                      "intake": {"offered": offered, "saturated": saturated},
                      "bare": {"offered": bare_offered, "saturated": bare_saturated}, "bulk": bulk}))


if __name__ == "__main__":
    main()
