"""The charterwatch command as a user types it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60)


def test_deadline_prints_one_line() -> None:
    r = run("deadline", "--received", "2026-02-13T16:00:00+09:00", "--period", "3d")
    assert r.returncode == 0 and r.stdout == "2026-02-23T16:00:00+09:00\n"


def test_deadline_converts_other_offsets_and_takes_pauses() -> None:
    r = run("deadline", "--received", "2026-11-25T00:00:00Z", "--period", "3d",
            "--pause", "2026-11-26T14:00:00+09:00/2026-11-30T11:00:00+09:00")
    assert r.stdout.strip() == "2026-12-01T16:00:00+09:00"


def test_deadline_with_extensions() -> None:
    base = ("deadline", "--received", "2026-03-03T10:00:00+09:00", "--period", "7d",
            "--pause", "2026-03-05T10:00:00+09:00/2026-03-09T15:00:00+09:00")
    assert run(*base, "--extend", "7d").stdout.strip() == "2026-03-24T18:00:00+09:00"
    r = run(*base, "--extend", "7d", "--extend", "3d")
    assert r.returncode != 0 and "consent" in r.stderr
    assert run(*base, "--extend", "7d", "--extend", "3d", "--consent").returncode == 0


def test_deadline_json_details() -> None:
    r = run("deadline", "--received", "2026-09-21T09:00:00+09:00", "--period", "14d", "--json")
    data = json.loads(r.stdout)
    assert data["counting_mode"] == "working_days" and data["due_at"] == "2026-10-14T18:00:00+09:00"
    assert data["holidays_skipped"] == ["2026-09-24", "2026-09-25", "2026-10-05", "2026-10-09"]
    assert data["calendar_version"].startswith("kr-holidays-")


def test_deadline_errors_name_the_problem() -> None:
    for args, needle in [
        (("--received", "2026-13-01T00:00:00+09:00", "--period", "3d"), "--received"),
        (("--received", "2026-11-25T09:00:00", "--period", "3d"), "offset"),
        (("--received", "2026-11-25T09:00:00+09:00", "--period", "0d"), "--period"),
        (("--received", "2026-11-25T09:00:00+09:00", "--period", "3d",
          "--pause", "2026-11-26T14:00:00+09:00/2026-11-26T10:00:00+09:00"), "--pause[0]"),
        (("--received", "2026-11-25T09:00:00+09:00", "--period", "3d",
          "--pause", "2026-11-24T14:00:00+09:00/2026-11-26T10:00:00+09:00"), "before the petition was received"),
    ]:
        r = run("deadline", *args)
        assert r.returncode != 0 and needle in r.stderr, (args, r.stderr)


def test_charters_check_reports_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\npromises: [{id: A, kind: callback}]\n", encoding="utf-8")
    r = run("charters", "check", str(bad))
    assert r.returncode == 1 and "promises[0].within" in r.stderr and "municipality" in r.stderr
    good = Path(__file__).resolve().parents[2] / "shared" / "charters" / "data" / "dangjin.yaml"
    assert run("charters", "check", str(good)).returncode == 0


def test_event_schemas_are_exported(tmp_path: Path) -> None:
    r = run("events", "schemas", "--out", str(tmp_path))
    assert r.returncode == 0
    schema = json.loads((tmp_path / "PetitionReceived.v1.json").read_text())
    assert "applicant" in schema["properties"] and (tmp_path / "envelope.v1.json").exists()
