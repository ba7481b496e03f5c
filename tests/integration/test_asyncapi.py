"""docs/asyncapi.json is generated from the code (every topic, every event version) and is valid for
AsyncAPI's own parser."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

from services.asyncapi import EVENT_TOPICS, document
from services.platform.log.topics import Topics
from shared.events.registry import registered
from tests.conftest import _missing

ROOT = Path(__file__).resolve().parents[2]


def test_the_published_document_is_what_the_code_generates() -> None:
    generated = document(Topics(""), version("charterwatch"))
    published = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    assert published == generated, "docs/asyncapi.json is stale: run charterwatch events asyncapi"
    names = {m["title"] for m in generated["components"]["messages"].values()}
    # every event version of the four topics, old ones too (tests register their own probe events elsewhere)
    ours = {f"{t} v{v}" for (t, v), model in registered().items() if model.__module__ in EVENT_TOPICS}
    assert len(ours) > 40 and ours <= names
    sla = generated["channels"]["slaEvents"]["bindings"]["kafka"]
    assert sla["partitions"] == 6 and sla["topicConfiguration"]["retention.ms"] == -1


def test_asyncapi_parser_accepts_it_and_refuses_a_broken_one(tmp_path: Path) -> None:
    tools = os.environ.get("ASYNCAPI_TOOLS")
    if not tools or not Path(tools, "@asyncapi", "parser").is_dir() or shutil.which("node") is None:
        _missing("AsyncAPI's parser (deploy/asyncapi-tools.sh; export ASYNCAPI_TOOLS)")
    script = ROOT / "tests" / "asyncapi" / "validate.mjs"
    good = subprocess.run(["node", str(script), str(ROOT / "docs" / "asyncapi.json")], capture_output=True, text=True,
                          timeout=120)
    assert good.returncode == 0 and "valid AsyncAPI 3.0.0" in good.stdout, good.stdout + good.stderr
    broken = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    broken["operations"]["noChannel"] = {"action": "publish"}
    (tmp_path / "bad.json").write_text(json.dumps(broken), encoding="utf-8")
    bad = subprocess.run(["node", str(script), str(tmp_path / "bad.json")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "invalid" in bad.stdout
