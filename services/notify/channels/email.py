"""E-mail over SMTP (aiosmtplib), STARTTLS and authentication configurable.

SMTP has no idempotency key: a retry after a timeout that the server in fact accepted sends
twice. The Message-ID is the notice id, so a mail client or an archive can tell the copies
apart; the retry policy keeps that window to timeouts only.
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.notify.channels.port import DeliveryError, Message


class SmtpChannel:
    def __init__(self, host: str, port: int, sender: str, start_tls: bool = False, username: str | None = None,
                 password: str | None = None, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.start_tls, self.username, self.password, self.timeout = start_tls, username, password, timeout

    def build(self, m: Message) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = m.to or ""
        msg["Subject"] = m.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{m.notice_id}@charterwatch>"
        msg.set_content(m.text, charset="utf-8")
        return msg

    async def send(self, m: Message) -> str | None:
        if not m.to:
            raise DeliveryError("no e-mail address", transient=False)
        try:
            await aiosmtplib.send(self.build(m), hostname=self.host, port=self.port, start_tls=self.start_tls,
                                  username=self.username, password=self.password, timeout=self.timeout)
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: try again later; 5xx: the server refuses this message for good
            raise DeliveryError(f"smtp {exc.code}: {exc.message}", transient=400 <= exc.code < 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}: {exc}", transient=True) from exc
        return f"<{m.notice_id}@charterwatch>"
