"""E-mail over SMTP (aiosmtplib), STARTTLS and authentication configurable.

SMTP has no idempotency key: a retry after a timeout that the server in fact accepted sends
twice. The Message-ID is the notice id, so a mail client or an archive can tell the copies
apart; the retry policy keeps that window to transient errors only.

A server's reply text often echoes the recipient (``550 5.1.1 <a@b.kr>: user unknown``): only its
code is kept (``services/notify/failures.py``).
"""
from __future__ import annotations

import asyncio
import base64
import socket
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses

import aiosmtplib

from services.notify.channels.port import DeliveryError, Message
from services.notify.failures import Failure, failure, smtp_reply

# A connection carries this many messages before it is closed and opened anew: servers cap messages per
# connection (Exim's default is 1,000), and a long-lived connection is one more thing to go stale.
MESSAGES_PER_CONNECTION = 100


class SmtpChannel:
    """Connections are kept open and reused while a batch of deliveries runs (one event loop), up to
    one per concurrent send, and closed by ``aclose`` at its end: a connection and its greeting,
    EHLO, STARTTLS and login cost more than the message itself on a local relay."""

    provider = "smtp"

    def __init__(self, host: str, port: int, sender: str, start_tls: bool = False, username: str | None = None,
                 password: str | None = None, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.start_tls, self.username, self.password, self.timeout = start_tls, username, password, timeout
        # the From header and the envelope sender, written once: parsing headers costs ~1.5 ms a message
        [(name, addr)] = getaddresses([sender]) or [("", sender)]
        self._envelope_from = addr
        self._from_header = formataddr((name, addr), charset="utf-8")
        self._idle: list[tuple[asyncio.AbstractEventLoop, aiosmtplib.SMTP, int]] = []
        self._local_hostname: str | None = None

    def build(self, m: Message) -> EmailMessage:
        """The message as the e-mail library writes it: for an address in Korean letters (SMTPUTF8), which
        the fast path below does not write."""
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = m.to or ""
        msg["Subject"] = m.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = f"<{m.notice_id}@charterwatch>"
        msg.set_content(m.text, charset="utf-8")
        return msg

    def render(self, m: Message, to: str) -> bytes:
        """The same message written directly: ASCII headers (the subject in RFC 2047 words), the body in
        base64 UTF-8, so any relay carries it unchanged."""
        body = base64.encodebytes(m.text.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
        return (f"From: {self._from_header}\r\nTo: {to}\r\nSubject: {_subject(m.subject)}\r\n"
                f"Date: {formatdate(localtime=False)}\r\nMessage-ID: <{m.notice_id}@charterwatch>\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
                f"Content-Transfer-Encoding: base64\r\n\r\n{body}").encode("ascii")

    async def send(self, m: Message) -> str | None:
        if not m.to:
            raise DeliveryError(failure("no_email"))
        to = recipient(m.to)
        if to is None:
            raise DeliveryError(failure("smtp_bad_address"))  # never quote the address: it is the contact
        reference = f"<{m.notice_id}@charterwatch>"
        try:
            message: bytes | EmailMessage = self.render(m, to) if to.isascii() else self.build(m)
        except (ValueError, TypeError):
            raise DeliveryError(failure("smtp_bad_address")) from None  # its text quotes the address
        try:
            if isinstance(message, bytes):
                await self._send_pooled(to, message)
            else:
                await aiosmtplib.send(message, hostname=self.host, port=self.port, start_tls=self.start_tls,
                                      username=self.username, password=self.password, timeout=self.timeout)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(classify(exc)) from None  # the chained error would carry the reply text
        return reference

    async def _send_pooled(self, to: str, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        client, sent = await self._take(loop)
        try:
            await client.sendmail(self._envelope_from, [to], data)
        except BaseException:
            client.close()  # its state is unknown after a failure: never reused
            raise
        if sent + 1 < MESSAGES_PER_CONNECTION:
            self._idle.append((loop, client, sent + 1))
        else:
            await _quit(client)

    async def _take(self, loop: asyncio.AbstractEventLoop) -> tuple[aiosmtplib.SMTP, int]:
        while self._idle:
            owner, client, sent = self._idle.pop()
            if owner is loop and client.is_connected:
                return client, sent
            if owner is loop:
                client.close()
        if self._local_hostname is None:  # aiosmtplib would look it up again for every connection
            self._local_hostname = await loop.run_in_executor(None, socket.getfqdn)
        client = aiosmtplib.SMTP(hostname=self.host, port=self.port, start_tls=self.start_tls, username=self.username,
                                 password=self.password, timeout=self.timeout, local_hostname=self._local_hostname)
        await client.connect()
        return client, 0

    async def aclose(self) -> None:
        """Close this event loop's idle connections (the end of a batch of deliveries)."""
        loop = asyncio.get_running_loop()
        mine = [client for owner, client, _ in self._idle if owner is loop]
        self._idle = [entry for entry in self._idle if entry[0] is not loop and not entry[0].is_closed()]
        await asyncio.gather(*(_quit(client) for client in mine))


def _subject(text: str) -> str:
    """The Subject's value, folded to RFC 5322's line length: in RFC 2047 words (each within 75 characters)
    unless it is plain printable ASCII."""
    plain = text.isascii() and text.isprintable()
    return Header(text, "us-ascii" if plain else "utf-8", header_name="Subject").encode(linesep="\r\n")


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()  # the message was accepted before this: a failed goodbye changes nothing
    except BaseException:  # cancelled while saying goodbye: the socket must not outlive the batch
        client.close()
        raise


def recipient(address: str) -> str | None:
    """The one mailbox a notice goes to, or None: an RFC 5322 addr-spec with a plain local part (no
    quotes) and a domain name with a dot (no address literal, no bare host name: the relay must not be
    pointed at internal hosts). An internationalised address (letters outside ASCII, sent with
    SMTPUTF8) is checked for the same shape: one ``@``, no spaces, controls or punctuation of headers."""
    address = address.strip()
    if not address.isascii():
        local, at, domain = address.rpartition("@")
        plain = all(c.isprintable() and not c.isspace() and c not in '<>(),;:"[]\\' for c in address)
        ok = bool(at and local and "@" not in local and plain)
    else:
        try:
            address = Address(addr_spec=address).addr_spec
        except (ValueError, IndexError, HeaderParseError):  # the parser's ways of saying "not an address"
            return None
        local, at, domain = address.rpartition("@")
        ok = bool(at and local and '"' not in local)
    labels = domain.split(".")
    return address if ok and len(labels) > 1 and all(labels) and not domain.startswith("[") else None


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
