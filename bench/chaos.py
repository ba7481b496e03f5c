"""The long chaos run: calm first, then with kills and a broker restart; one line each, and a JSON line.

    N cases, K kills, B broker restarts — lost L, missing M, duplicates D, unowed U, replay ok|FAIL

Needs the broker this script may restart (deploy/kafka/kafka.sh with KAFKA_PORT and KAFKA_DATA_DIR set,
as `make test` and `deploy/test.sh` set them) and a PostgreSQL (BENCH_POSTGRES_URL or
CHARTERWATCH_TEST_POSTGRES_URL). Figures are printed, never asserted.

Run: python3 bench/chaos.py [--cases 2000] [--kills 13] [--seed 7] [--only calm|chaos]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.harness import Chaos, fresh_database  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--kills", type=int, default=13)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only", choices=["calm", "chaos"])
    args = ap.parse_args()
    broker = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    pg = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("CHARTERWATCH_TEST_POSTGRES_URL")
    if not pg:
        sys.exit("bench/chaos.py: set BENCH_POSTGRES_URL (deploy/postgres/postgres.sh url)")
    runs = [("calm", 0, False), ("chaos", args.kills, True)]
    for name, kills, restart in runs:
        if args.only and name != args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            chaos = Chaos(Path(tmp), broker, fresh_database(pg), args.cases, kills, restart, seed=args.seed,
                          log=lambda line: print(line, file=sys.stderr, flush=True))
            result = chaos.run()
        print(f"{name}: {result.line()}", flush=True)
        print(json.dumps({"bench": "chaos", "run": name, "cases": result.cases, "kills": result.kills,
                          "broker_restarts": result.broker_restarts, **result.detail()}, ensure_ascii=False),
              flush=True)


if __name__ == "__main__":
    main()
