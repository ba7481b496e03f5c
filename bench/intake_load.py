"""Intake under a fixed request rate over the real broker: sustained commands/s and p50/p99 latency.

An intake server runs in one process; the load generator in a second process
sends an open-loop schedule (requests leave at fixed intervals, latency is
measured from the scheduled instant, so a slow server cannot hide its queue).
Half the commands file petitions, half assign an official to a filed one.
The bare kafka-python producer rate to the same broker is printed beside it.

Run: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 python3 bench/intake_load.py [--rate 200] [--seconds 20]
     [--database-url postgresql://...]   (default: SQLite in a temporary folder)
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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure, free_port  # noqa: E402

FILE = {"municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit", "title": "가로등 고장",
        "body": "시청 앞 가로등이 꺼져 있습니다", "received_at": "2026-11-02T10:00:00+09:00",
        "applicant": {"name": "부하시험", "phone": "010-1234-5678"}}
OFFICIAL = {"official_id": "o-1", "name": "박주무관", "department": "도로과", "phone": "041-350-1234",
            "email": "park@dangjin.go.kr"}


async def generate(url: str, token: str, rate: float, seconds: float) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    filed: list[str] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30, limits=limits) as client:
        async def one(i: int, scheduled: float) -> None:
            if i % 2 == 1 and filed:
                case_id = filed.pop()
                request = client.post(f"/v1/petitions/{case_id}/assignment",
                                      json={"occurred_at": "2026-11-02T11:00:00+09:00", "official": OFFICIAL})
            else:
                request = client.post("/v1/petitions", json=FILE)
            try:
                response = await request
                status = response.status_code
                if status == 201 and i % 2 == 0:
                    filed.append(response.json()["case_id"])
            except httpx.HTTPError:
                status = 0
            latencies.append(time.perf_counter() - scheduled)
            statuses[status] = statuses.get(status, 0) + 1

        start = time.perf_counter() + 0.2
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--code", type=Path, help="run the intake server from this checkout (a before/after run)")
    parser.add_argument("--generate", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:  # the second process
        print(json.dumps(asyncio.run(generate(args.generate[0], args.generate[1], args.rate, args.seconds))))
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
    server = subprocess.Popen([*cli, "intake"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=code)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        warm = subprocess.run([sys.executable, __file__, "--generate", url, token, "--rate", "20", "--seconds", "1"],
                              capture_output=True, text=True, check=True)
        del warm
        result = json.loads(subprocess.run(
            [sys.executable, __file__, "--generate", url, token, "--rate", str(args.rate), "--seconds",
             str(args.seconds)], capture_output=True, text=True, check=True).stdout)
    finally:
        server.terminate()
        server.wait(30)
    from producer_rate import bare_producer_rate, events

    from services.platform.log.kafka import KafkaLog
    from services.platform.log.port import TopicSpec

    topic = f"bench.bare.{uuid.uuid4().hex[:6]}"
    log = KafkaLog(servers)
    log.create_topics([TopicSpec(topic, 6, -1)])
    log.close()
    bare = bare_producer_rate(servers, topic, events(10_000))
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"intake over Kafka at {servers}, read/command store on {database}, offered {args.rate:.0f} req/s "
          f"for {args.seconds:.0f} s (open loop, second process)")
    print(f"sustained: {result['commands_per_s']:8.1f} commands/s  ({result['ok']}/{result['sent']} answered 201; "
          f"statuses {result['statuses']})")
    print(f"latency:   p50 {result['p50_ms']:7.1f} ms   p99 {result['p99_ms']:7.1f} ms")
    print(f"bare kafka-python producer, same broker: {bare:8.0f} events/s  "
          f"(intake sustains {result['commands_per_s'] / bare:.3f}x of it)")
    figure("intake_load", f"intake sustained ({database}, {args.rate:.0f} req/s offered)", result["commands_per_s"],
           "commands/s", "bare kafka-python producer", bare, goal=1500 if args.rate >= 1500 else None,
           note="the issue's baseline is a bare FastAPI endpoint producing with aiokafka: not built here")
    figure("intake_load", f"intake p99 ({database}, {args.rate:.0f} req/s offered)", result["p99_ms"], "ms",
           goal=50 if args.rate >= 1000 else None, lower_is_better=True, note=f"p50 {result['p50_ms']:.1f} ms")
    print(json.dumps({"bench": "intake_load", "code": str(code), "database": database, "offered": args.rate,
                      **{k: result[k] for k in ("commands_per_s", "p50_ms", "p99_ms", "ok", "sent")},
                      "bare_producer": bare}))


if __name__ == "__main__":
    main()
