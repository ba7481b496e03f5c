"""Stand-in for a provider that is not configured (the embedded mode a newcomer runs): each message
is written as a file under the data directory instead of being sent. Never used when SMTP or an
SMS gateway is configured."""
from __future__ import annotations

import errno
import json
from pathlib import Path

from services.notify.channels.port import DeliveryError, Message
from services.notify.failures import failure


class FileChannel:
    provider = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, m: Message) -> str | None:
        path = self.directory / f"{m.notice_id}.json"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.touch(mode=0o600)  # it names the recipient: private from its creation (the umask only narrows)
            path.write_text(json.dumps({"to": m.to, "subject": m.subject, "text": m.text, "kind": m.kind},
                                       ensure_ascii=False), encoding="utf-8")
        except OSError as exc:  # a full disk, a read-only mount: worth another try; the path is not kept
            raise DeliveryError(failure("file_write_failed", errno.errorcode.get(exc.errno or 0, type(exc).__name__))
                                ) from None
        return str(path.name)
