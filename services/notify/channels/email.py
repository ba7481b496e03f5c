"""E-mail over SMTP (aiosmtplib), STARTTLS and authentication configurable.

SMTP has no idempotency key: a retry after a timeout that the server in fact accepted sends
twice. The Message-ID is the notice id, so a mail client or an archive can tell the copies
apart; the retry policy keeps that window to transient errors only.

A server's reply text often echoes the recipient (``550 5.1.1 <a@b.kr>: user unknown``): only its
code is kept (``services/notify/failures.py``).
"""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.notify.channels.port import DeliveryError, Message
from services.notify.failures import Failure, failure, smtp_reply


class SmtpChannel:
    provider = "smtp"

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
            raise DeliveryError(failure("no_email"))
        try:
            message = self.build(m)
        except (ValueError, TypeError):
            raise DeliveryError(failure("smtp_bad_address")) from None  # its text quotes the address
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, start_tls=self.start_tls,
                                  username=self.username, password=self.password, timeout=self.timeout)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(classify(exc)) from None  # the chained error would carry the reply text
        return f"<{m.notice_id}@charterwatch>"


def classify(exc: BaseException) -> Failure:
    """aiosmtplib's errors by the stage of the conversation that failed; 5xx refused, 4xx deferred."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):  # every recipient refused (we send to one)
        first = exc.recipients[0] if exc.recipients else None
        return smtp_reply("recipient", first.code, first.message) if first else failure("smtp_error", "RCPT")
    stages: tuple[tuple[type[BaseException], str], ...] = (
        (aiosmtplib.SMTPRecipientRefused, "recipient"), (aiosmtplib.SMTPSenderRefused, "sender"),
        (aiosmtplib.SMTPDataError, "message"), (aiosmtplib.SMTPAuthenticationError, "auth"))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        stage = next((name for kind, name in stages if isinstance(exc, kind)), "session")
        return smtp_reply(stage, exc.code, exc.message)
    if isinstance(exc, TimeoutError):  # aiosmtplib's timeouts are TimeoutErrors too
        return failure("smtp_timeout", type(exc).__name__)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return failure("smtp_disconnected", type(exc).__name__)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return failure("smtp_not_supported", type(exc).__name__)
    if isinstance(exc, OSError):  # connection refused, no route, DNS: SMTPConnectError is one too
        return failure("smtp_unreachable", type(exc).__name__)
    return failure("smtp_error", type(exc).__name__)
