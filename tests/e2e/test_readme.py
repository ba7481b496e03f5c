"""The README's walk-through ("Try it"), run as written in an empty folder with bash: a newcomer's
first session. The commands are the README's own (its first bash block under "Try it"), so the two
cannot drift apart; only the ports are moved to free ones, so it can run beside other tests. It must
file a desk petition and an electronic one, record the electronic one's formal receipt, assign an
official, send a notice, and leave no formal_receipt breach."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def walk_through() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Try it"):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_readme_walk_through_runs_as_written(tmp_path: Path) -> None:
    script = walk_through()
    ports = {8080: free_port(), 8081: free_port(), 8082: free_port(), 8083: free_port()}
    for default, port in ports.items():
        script = script.replace(f"localhost:{default}", f"localhost:{port}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTERWATCH_")}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               CHARTERWATCH_PORT=str(ports[8080]), CHARTERWATCH_COMPENSATION_PORT=str(ports[8081]),
               CHARTERWATCH_NOTIFY_PORT=str(ports[8082]), CHARTERWATCH_AUDIT_PORT=str(ports[8083]),
               CHARTERWATCH_CONSOLE_PORT=str(free_port()), CHARTERWATCH_WEBHOOKS_PORT=str(free_port()),
               CHARTERWATCH_LOG_LEVEL="warning")
    # a file, not a pipe: `charterwatch up &` inherits it, and a pipe would stay open as long as it runs
    with (tmp_path / "out.txt").open("w") as sink:
        proc = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path, env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.wait(timeout=240)
        finally:
            try:  # charterwatch up, if the script stopped before its `kill %1`
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    out = (tmp_path / "out.txt").read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, out[-4000:]
    case = re.search(r'"case_id":"([0-9a-f-]{36})"', out)
    assert case, out[-4000:]
    assert '"status":"received"' in out and '"event_type":"OfficialAssigned"' in out  # read back, then assigned
    filed = json.loads((tmp_path / "filed.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"dangjin-20[0-9]{2}-000001", filed["case_number"]) and filed["reference"] == filed["case_number"]
    assert filed["clock"] == "running" and filed["statutory_deadline"]["remaining_working_days"] is not None
    assert out.count(f'"case_id":"{case.group(1)}"') >= 3  # read, found by its number, assigned
    # the electronic petition: no deadline until its formal receipt, then received with the agency's number
    web = json.loads((tmp_path / "web.json").read_text(encoding="utf-8"))
    assert web["status"] == "filed" and web["statutory_deadline"] is None and web["clock"] == "awaiting_formal_receipt"
    assert web["notice_channels"] == ["inbox", "email"] and web["notice_channels_chosen_by"] == "default"
    assert '"event_type":"ReceiptRecorded"' in out
    receipt = re.search(r'"obligation_id":"formal_receipt".*?"notices":', out)
    assert receipt and '"state":"kept"' in receipt.group(0) and '"breached_due_at":[]' in receipt.group(0), out[-4000:]
    assert '"voided_breach":false' in receipt.group(0)  # kept in time, never breached first
    # a notice went out: the receipt SMS of the visit, sent
    assert re.search(r'"kind":"receipt","channel":"[a-z]+","cause_event_id":"[^"]+","template_id":"[^"]+",'
                     r'"template_version":"[^"]+","content_sha256":"[^"]*","status":"sent"', out), out[-4000:]
    assert "민원 재현 감사 보고서" in (tmp_path / "case.html").read_text(encoding="utf-8")
    assert "erased the personal data of 1 case;" in out
    assert "2026-02-23T16:00:00+09:00" in out
    assert list((tmp_path / "var" / "outgoing" / "sms").iterdir()) == []  # the erased case's SMS files went too
