#!/usr/bin/env bash
# Every benchmark, one after the other, in one run (figures printed, never asserted).
# Needs a broker (KAFKA_BOOTSTRAP_SERVERS) and, for the PostgreSQL intake figure, BENCH_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== legal clock (issue 4)"; python3 bench/deadline_rate.py
echo "== log producer (issue 3)"; python3 bench/producer_rate.py
echo "== intake under load, SQLite (issue 5)"; python3 bench/intake_load.py --rate 80 --seconds 20
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  echo "== intake under load, PostgreSQL (issue 5)"
  python3 bench/intake_load.py --rate 80 --seconds 20 --database-url "$BENCH_POSTGRES_URL"
fi
echo "== SLA monitor (issue 6)"; python3 bench/sla_monitor.py
echo "== compensation (issue 7)"; python3 bench/compensation_rate.py
echo "== notify (issue 8)"; python3 bench/notify_rate.py
echo "== audit replay (issue 9)"; python3 bench/replay_rate.py
