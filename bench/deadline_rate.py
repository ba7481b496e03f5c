"""Deadline computations per second: CharterWatch's legal clock vs pandas CustomBusinessHour.

Same cases for both: random receipt instants 2024-2030 (to the second, KST) and
periods of 1-40 working hours (time-counted under Act 19-1), with the same
Korean holidays. pandas moves a count that ends exactly at 12:00 or 18:00 to
the next opening, which the law does not; those disagreements are counted and
any other disagreement is reported as an error.

Run: python3 bench/deadline_rate.py [--cases N]
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta

import pandas as pd

from shared.deadline import compute_deadline, due_epoch
from shared.holiday_source import korean_calendar
from shared.instants import KST
from shared.periods import Period


def cases(n: int, seed: int = 19) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=KST)
    span = int((datetime(2030, 12, 1, tzinfo=KST) - start).total_seconds())
    return [(start + timedelta(seconds=rng.randrange(span)), rng.randint(1, 40)) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20_000)
    args = parser.parse_args()
    cal = korean_calendar()
    work = cases(args.cases)
    periods = {h: Period(h, "h") for h in range(1, 41)}

    t0 = time.perf_counter()
    ours = [compute_deadline(cal, received, periods[hours]).due_at for received, hours in work]
    ours_s = time.perf_counter() - t0
    epochs = [(int(received.timestamp()), periods[hours]) for received, hours in work]
    t0 = time.perf_counter()
    fast = [due_epoch(cal, e, p) for e, p in epochs]
    fast_s = time.perf_counter() - t0
    assert fast == [int(d.timestamp()) for d in ours], "fast path and full computation disagree"

    holidays = sorted(d for d in cal.holidays if 2023 <= d.year <= 2032)
    offsets = {h: pd.offsets.CustomBusinessHour(n=h, start=["09:00", "13:00"], end=["12:00", "18:00"],
                                                holidays=holidays) for h in range(1, 41)}
    naive = [(received.replace(tzinfo=None), hours) for received, hours in work]
    t0 = time.perf_counter()
    theirs = [ts + offsets[hours] for ts, hours in ((pd.Timestamp(r), h) for r, h in naive)]
    pandas_s = time.perf_counter() - t0

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
    ours_rate, fast_rate, pandas_rate = n / ours_s, n / fast_s, n / pandas_s
    print(f"cases: {n} (periods 1-40 working hours, receipts 2024-2030)")
    print(f"pandas CustomBusinessHour:                 {pandas_rate:12,.0f} deadlines/s  (baseline)")
    print(f"charterwatch compute_deadline (+details):  {ours_rate:12,.0f} deadlines/s  "
          f"{ours_rate / pandas_rate:8,.1f}x pandas")
    print(f"charterwatch due_epoch (monitor hot path): {fast_rate:12,.0f} deadlines/s  "
          f"{fast_rate / pandas_rate:8,.1f}x pandas")
    print(f"disagreements at 12:00/18:00 boundaries (pandas moves them to the next opening): {boundary}")
    print(f"other disagreements (should be 0): {other}")


if __name__ == "__main__":
    main()
