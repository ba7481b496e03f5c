"""SMS through an HTTP gateway, on a request/response contract modelled on common Korean SMS APIs
(Aligo-style ``POST {base}/send/``, form-encoded).

Request fields: ``key``, ``user_id``, ``sender``, ``receiver``, ``msg``, ``msg_type`` (SMS | LMS),
``title`` (LMS), and ``ref``, our idempotency reference (the notice id and the part number): a
gateway that honours it never delivers one reference twice. Response: JSON with ``result_code``
(1 = accepted; negative = refused, with ``message``) and ``msg_id``. A timeout, a connection
error, a 5xx, 408 or 429, and the "slow down" result code are transient; any other 4xx or negative
result code is not (``services/notify/failures.py``). The gateway's ``message`` often echoes the
number, so it is never read.

Intake stores numbers in E.164 (+821012345678); Korean gateways take them as dialled in Korea, so the
``receiver`` is sent so (01012345678); a number an earlier release stored (010-1234-5678) goes as it was.
An SMS goes to mobiles only: a landline (or any number that is no mobile) is refused here, never sent.
"""
from __future__ import annotations

import httpx

from services.notify.channels.port import DeliveryError, Message
from services.notify.failures import failure, gateway_result, gateway_status
from shared.notices import sms
from shared.phones import domestic, kind_of


class SmsGateway:
    provider = "sms"

    def __init__(self, base_url: str, api_key: str, user_id: str, sender: str, timeout: float = 5.0,
                 client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key, self.user_id, self.sender, self.timeout = api_key, user_id, sender, timeout
        self._client = client

    async def send(self, m: Message) -> str | None:
        if not m.to:
            raise DeliveryError(failure("no_phone"))
        if kind_of(m.to) not in ("mobile", None):  # a landline, 070, 080...: no SMS can reach it
            raise DeliveryError(failure("sms_invalid_number"))
        plan = sms.plan(m.text)
        refs: list[str] = []
        client = self._client or httpx.AsyncClient(timeout=self.timeout)
        try:
            for i, part in enumerate(plan.parts, 1):
                refs.append(await self._send_part(client, m, part, plan.message_type, f"{m.notice_id}:{i}"))
        finally:
            if self._client is None:
                await client.aclose()
        return ",".join(refs)

    async def _send_part(self, client: httpx.AsyncClient, m: Message, text: str, msg_type: str, ref: str) -> str:
        data = {"key": self.api_key, "user_id": self.user_id, "sender": self.sender, "receiver": domestic(m.to or ""),
                "msg": text, "msg_type": msg_type, "ref": ref}
        if msg_type == "LMS":
            data["title"] = m.subject[:44]
        try:
            r = await client.post(f"{self.base_url}/send/", data=data, timeout=self.timeout)
        except httpx.TimeoutException as exc:
            raise DeliveryError(failure("sms_timeout", type(exc).__name__)) from None
        except httpx.HTTPError as exc:  # the request carried the number: its error may quote it
            raise DeliveryError(failure("sms_unreachable", type(exc).__name__)) from None
        if r.status_code >= 400:
            raise DeliveryError(gateway_status(r.status_code))
        try:
            body = r.json()
            code = int(body.get("result_code", -999))
        except (ValueError, TypeError, AttributeError):
            raise DeliveryError(failure("sms_bad_answer")) from None
        if code < 1:
            raise DeliveryError(gateway_result(code))
        return str(body.get("msg_id", ref))
