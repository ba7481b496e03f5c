"""What every bench shares: a free port, and one figure printed beside its same-run baseline and written as
a JSON line (``BENCH_JSON``, default bench/out/results.jsonl) for bench/table.py.

A figure is judged against the issue's goal (issue 21): a ratio to its baseline (``goal_ratio``), an absolute
bound (``goal``), or both; ``lower_is_better`` for latencies, memory and restart times. A figure without a goal is
printed and kept, and judged by nobody.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "results.jsonl"


def free_port() -> int:
    """A port nobody holds now (bound to 0): a port derived from the pid can be a running system's."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def results_path() -> Path:
    return Path(os.environ.get("BENCH_JSON") or OUT)


def write(line: dict[str, object]) -> None:
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def figure(bench: str, name: str, value: float, unit: str, baseline: str | None = None,
           baseline_value: float | None = None, goal_ratio: float | None = None, goal: float | None = None,
           lower_is_better: bool = False, note: str = "") -> dict[str, object]:
    """Print one figure with its baseline and ratio, and append its JSON line."""
    ratio = value / baseline_value if baseline_value else None
    verdicts = []
    if goal_ratio is not None and ratio is not None:
        verdicts.append(ratio <= goal_ratio if lower_is_better else ratio >= goal_ratio)
    if goal is not None:
        verdicts.append(value <= goal if lower_is_better else value >= goal)
    verdict = None if not verdicts else ("pass" if all(verdicts) else "miss")
    line = {"bench": bench, "name": name, "value": value, "unit": unit, "baseline": baseline,
            "baseline_value": baseline_value, "ratio": ratio, "goal_ratio": goal_ratio, "goal": goal,
            "lower_is_better": lower_is_better, "verdict": verdict, "note": note, "at": time.time()}
    text = f"{name}: {value:,.3f} {unit}" if value < 10 else f"{name}: {value:,.0f} {unit}"
    if baseline is not None and baseline_value is not None:
        text += f"   | baseline {baseline}: {baseline_value:,.3f}" if baseline_value < 10 else \
            f"   | baseline {baseline}: {baseline_value:,.0f}"
        if ratio is not None:
            text += f"   | ratio {ratio:,.3f}x"
    wanted = []
    if goal_ratio is not None:
        wanted.append(f"{'<=' if lower_is_better else '>='} {goal_ratio:g}x")
    if goal is not None:
        wanted.append(f"{'<=' if lower_is_better else '>='} {goal:,g} {unit}")
    if wanted:
        text += f"   | goal {' and '.join(wanted)}: {verdict}"
    if note:
        text += f"   ({note})"
    print(text, flush=True)
    write(line)
    return line


def machine(mark: str) -> None:
    """The machine's load and CPU count at the start or end of a run: shared machines make noisy figures."""
    one, five, fifteen = os.getloadavg()
    write({"machine": mark, "loadavg": [one, five, fifteen], "cpus": os.cpu_count(), "at": time.time()})
