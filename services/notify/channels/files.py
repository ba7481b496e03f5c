"""Stand-in for a provider that is not configured (the embedded mode a newcomer runs): each message
is written as a file under the data directory instead of being sent. Never used when SMTP or an
SMS gateway is configured."""
from __future__ import annotations

import json
from pathlib import Path

from services.notify.channels.port import Message


class FileChannel:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, m: Message) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{m.notice_id}.json"
        path.write_text(json.dumps({"to": m.to, "subject": m.subject, "text": m.text, "kind": m.kind},
                                   ensure_ascii=False), encoding="utf-8")
        return str(path.name)
