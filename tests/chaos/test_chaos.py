"""A short chaos run in CI: calm first (a calm run must be all zeros before chaos means anything),
then with every service killed at random and the broker restarted once. `bench/chaos.py` is the
long run."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.chaos.harness import Chaos, fresh_database

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.mark.parametrize("kills, broker_restart", [(0, False), (8, True)], ids=["calm", "chaos"])
def test_nothing_lost_nothing_twice(tmp_path: Path, kafka_bootstrap: str, postgres_url: str, kills: int,
                                    broker_restart: bool) -> None:
    cases = int(os.environ.get("CHARTERWATCH_CHAOS_CASES", "40"))
    chaos = Chaos(tmp_path, kafka_bootstrap, fresh_database(postgres_url), cases, kills, broker_restart,
                  log=lambda line: print(line, flush=True))
    result = chaos.run()
    print(result.line())
    print(json.dumps(result.detail(), ensure_ascii=False, indent=2))
    assert result.kills == kills
    assert sum(result.lost.values()) == 0, result.detail()
    assert sum(result.missing.values()) == 0, result.detail()
    assert sum(result.unowed.values()) == 0, result.detail()
    assert result.replay_ok and result.verify_ok, result.detail()
    # A notice sent, then notify killed before it recorded the send, goes out again with its reference:
    # at most one per kill of notify (one send in flight). Nothing else may repeat.
    repeated = result.duplicates.pop("notices delivered twice")
    assert repeated <= result.kills_by_service.get("notify", 0), result.detail()
    assert sum(result.duplicates.values()) == 0, result.detail()
