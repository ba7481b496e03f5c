#!/usr/bin/env bash
# Every benchmark, one after the other, in one run; each figure printed beside its same-run baseline and
# written as a JSON line to $BENCH_JSON (default bench/out/results.jsonl, emptied first); the run ends with
# ONE table of them all and the machine's load at start and end (figures printed, never asserted).
#
# Needs a broker (KAFKA_BOOTSTRAP_SERVERS) and, for the PostgreSQL intake figure, BENCH_POSTGRES_URL.
# BENCH_SIZE=small runs every bench at a size that proves it works in a few minutes (figures then noisy);
# the default sizes are the issue's (a million open obligations, a million events replayed).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export BENCH_JSON="${BENCH_JSON:-$PWD/bench/out/results.jsonl}"
mkdir -p "$(dirname "$BENCH_JSON")"
: > "$BENCH_JSON"
if [ "${BENCH_SIZE:-}" = small ]; then
  deadline=(--cases 5000 --rounds 2); producer=(--events 5000 --single 500); clients=(--messages 20000)
  intake=(--rate 100 --seconds 5 --concurrency 32 --bulk-seconds 4)
  monitor=(--obligations 50000 --burst 5000 --history 1,10 --history-cases 1000 --throughput 1000 --idle 5)
  compensation=(--breaches 5000); notify=(--notices 400); replay=(--events 50000)
else
  deadline=(); producer=(); clients=(); intake=(--rate 1000 --seconds 5 --concurrency 64); monitor=(); compensation=(); notify=()
  replay=()
fi
failed=()
run() {  # one bench; a failing one is named at the end and fails the run, after the table
  local title=$1; shift
  echo "== $title"
  "$@" || failed+=("$title")
}
python3 bench/table.py --mark start
run "legal clock (goal 6)" python3 bench/deadline_rate.py "${deadline[@]}"
run "Kafka clients side by side, crc32c (goal 7)" python3 bench/clients.py "${clients[@]}"
run "log producer" python3 bench/producer_rate.py "${producer[@]}"
run "intake under load, SQLite (goal 1)" python3 bench/intake_load.py "${intake[@]}"
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  run "intake under load, PostgreSQL (goal 1)" python3 bench/intake_load.py "${intake[@]}" --database-url "$BENCH_POSTGRES_URL"
fi
run "SLA monitor, the faust worker (goal 3)" python3 bench/sla_monitor.py "${monitor[@]}"
run "compensation (goal 5)" python3 bench/compensation_rate.py "${compensation[@]}"
run "notify (goal 5)" python3 bench/notify_rate.py "${notify[@]}"
run "audit replay (goal 4)" python3 bench/replay_rate.py "${replay[@]}"
python3 bench/table.py --mark end
echo "== all figures ($BENCH_JSON)"
python3 bench/table.py "$BENCH_JSON"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'bench failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
