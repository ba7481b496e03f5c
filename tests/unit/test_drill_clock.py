"""The drill clock file: read as it is written (``echo … > clock`` empties it for an instant), a bad
value keeps the last good instant, and the first read needs a good one."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from services.bootstrap import file_clock
from shared.instants import KST


def test_an_empty_or_bad_file_keeps_the_last_good_instant(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    path.write_text("2026-12-01T10:00:00+09:00")
    now = file_clock(path)
    assert now() == datetime(2026, 12, 1, 10, tzinfo=KST)
    path.write_text("")  # the instant `>` truncated it
    assert now() == datetime(2026, 12, 1, 10, tzinfo=KST)
    path.write_text("2026-12-0")  # a typo, or a half-written line
    assert now() == datetime(2026, 12, 1, 10, tzinfo=KST)
    path.unlink()
    assert now() == datetime(2026, 12, 1, 10, tzinfo=KST)
    path.write_text("2026-12-02T09:00:00+09:00\n")
    assert now() == datetime(2026, 12, 2, 9, tzinfo=KST)


def test_the_first_read_needs_a_good_instant(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    path.write_text("tomorrow")
    with pytest.raises(ValueError, match="clock_file"):
        file_clock(path)()
