"""Deadline computations per second: CharterWatch's legal clock vs pandas CustomBusinessHour.

Same cases for both: random receipt instants 2024-2030 (to the second, KST) and
periods of 1-40 working hours (time-counted under Act 19-1), with the same
Korean holidays. pandas moves a count that ends exactly at 12:00 or 18:00 to
the next opening, which the law does not; those disagreements are counted and
any other disagreement is reported as an error.

Each side runs --rounds times, interleaved, and keeps its best round: on a shared machine a round
that another process interrupted says nothing about the code. compute_deadline's memo is emptied before
each of its rounds (every case is new to it, as in a replay).

Run: python3 bench/deadline_rate.py [--cases N] [--rounds 3]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402

from shared.deadline import _compute_deadline, compute_deadline, due_epoch  # noqa: E402
from shared.holiday_source import korean_calendar  # noqa: E402
from shared.instants import KST  # noqa: E402
from shared.periods import Period  # noqa: E402


def cases(n: int, seed: int = 19) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=KST)
    span = int((datetime(2030, 12, 1, tzinfo=KST) - start).total_seconds())
    return [(start + timedelta(seconds=rng.randrange(span)), rng.randint(1, 40)) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cal = korean_calendar()
    work = cases(args.cases)
    periods = {h: Period(h, "h") for h in range(1, 41)}

    epochs = [(int(received.timestamp()), periods[hours]) for received, hours in work]
    holidays = sorted(d for d in cal.holidays if 2023 <= d.year <= 2032)
    offsets = {h: pd.offsets.CustomBusinessHour(n=h, start=["09:00", "13:00"], end=["12:00", "18:00"],
                                                holidays=holidays) for h in range(1, 41)}
    naive = [(received.replace(tzinfo=None), hours) for received, hours in work]
    out: dict[str, list] = {}

    def full() -> list:
        _compute_deadline.cache_clear()
        return [compute_deadline(cal, received, periods[hours]).due_at for received, hours in work]

    sides: dict[str, Callable[[], list]] = {
        "full": full,
        "fast": lambda: [due_epoch(cal, e, p) for e, p in epochs],
        "pandas": lambda: [ts + offsets[hours] for ts, hours in ((pd.Timestamp(r), h) for r, h in naive)],
    }
    best = {name: float("inf") for name in sides}
    for _ in range(args.rounds):
        for name, run in sides.items():
            t0 = time.perf_counter()
            out[name] = run()
            best[name] = min(best[name], time.perf_counter() - t0)
    ours, fast, theirs = out["full"], out["fast"], out["pandas"]
    assert fast == [int(d.timestamp()) for d in ours], "fast path and full computation disagree"

    boundary = other = 0
    for mine, their in zip(ours, theirs):
        mine_local = mine.replace(tzinfo=None)
        their_dt = their.to_pydatetime()
        if mine_local == their_dt:
            continue
        if mine_local.time().hour in (12, 18) and mine_local.minute == 0 and mine_local.second == 0:
            boundary += 1  # pandas moved a count ending at 12:00/18:00 to the next opening
        else:
            other += 1
    n = len(work)
    ours_rate, fast_rate, pandas_rate = n / best["full"], n / best["fast"], n / best["pandas"]
    print(f"cases: {n} (periods 1-40 working hours, receipts 2024-2030)")
    print(f"pandas CustomBusinessHour:                 {pandas_rate:12,.0f} deadlines/s  (baseline)")
    print(f"charterwatch compute_deadline (+details):  {ours_rate:12,.0f} deadlines/s  "
          f"{ours_rate / pandas_rate:8,.1f}x pandas")
    print(f"charterwatch due_epoch (monitor hot path): {fast_rate:12,.0f} deadlines/s  "
          f"{fast_rate / pandas_rate:8,.1f}x pandas")
    print(f"disagreements at 12:00/18:00 boundaries (pandas moves them to the next opening): {boundary}")
    print(f"other disagreements (should be 0): {other}")
    figure("deadline_rate", "due_epoch (monitor hot path)", fast_rate, "deadlines/s", "pandas CustomBusinessHour",
           pandas_rate, goal_ratio=100)
    figure("deadline_rate", "compute_deadline (full details)", ours_rate, "deadlines/s", "pandas CustomBusinessHour",
           pandas_rate, goal_ratio=20)
    if other:
        raise SystemExit(f"{other} deadlines disagree with pandas beyond the 12:00/18:00 boundary")


if __name__ == "__main__":
    main()
