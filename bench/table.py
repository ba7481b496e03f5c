"""One table of every figure a bench run wrote (bench/figures.py's JSON lines), with the machine's load.

Run: python3 bench/table.py [results.jsonl]          print the table
     python3 bench/table.py --mark start|end         record the load average and CPU count now
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import machine, results_path  # noqa: E402


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def goal_text(line: dict) -> str:
    sign = "<=" if line.get("lower_is_better") else ">="
    parts = []
    if line.get("goal_ratio") is not None:
        parts.append(f"{sign}{line['goal_ratio']:g}x")
    if line.get("goal") is not None:
        parts.append(f"{sign}{line['goal']:,g}")
    return " & ".join(parts) or "-"


def render(lines: list[dict]) -> str:
    figures = [ln for ln in lines if "name" in ln]
    marks = [ln for ln in lines if "machine" in ln]
    head = ("bench", "figure", "value", "unit", "baseline", "baseline value", "ratio", "goal", "verdict")
    rows = [head] + [(f["bench"], f["name"], fmt(f["value"]), f["unit"], f.get("baseline") or "-",
                      fmt(f.get("baseline_value")), "-" if f.get("ratio") is None else f"{f['ratio']:,.3f}x",
                      goal_text(f), f.get("verdict") or "-") for f in figures]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    out = []
    for n, row in enumerate(rows):
        out.append(" | ".join(str(c).ljust(w) if i < 2 or i in (3, 4) else str(c).rjust(w)
                              for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    for m in marks:
        at = datetime.fromtimestamp(m["at"]).strftime("%H:%M:%S")
        load = ", ".join(f"{x:.2f}" for x in m["loadavg"])
        out.append(f"machine at {m['machine']} ({at}): load average {load} (1/5/15 min), {m['cpus']} CPUs")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", nargs="?", type=Path)
    parser.add_argument("--mark", choices=["start", "end"])
    args = parser.parse_args()
    if args.mark:
        machine(args.mark)
        return
    path = args.path or results_path()
    lines = [json.loads(t) for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
    print(render(lines))


if __name__ == "__main__":
    main()
