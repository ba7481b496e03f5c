"""Notify's SMS channel and the numbers intake stores (issue 19, part 5): E.164 goes to the gateway as dialled
in Korea, a number stored by an earlier release goes as it was, and a number that is no mobile gets no SMS."""
from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import httpx
import pytest

from services.notify.channels.port import DeliveryError, Message
from services.notify.channels.sms import SmsGateway


def send(to: str) -> list[dict[str, list[str]]]:
    seen: list[dict[str, list[str]]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(200, json={"result_code": 1, "msg_id": "m-1"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as client:
            sms = SmsGateway("http://gateway.test", "key", "user", "0413501234", client=client)
            await sms.send(Message("n-1", "sms", to, "민원 접수 안내", "접수되었습니다", "c-1", "receipt", "r", "a"))

    asyncio.run(go())
    return seen


@pytest.mark.parametrize("stored, receiver", [("+821012345678", "01012345678"), ("+82111234567", "0111234567"),
                                              ("010-1234-5678", "010-1234-5678")])
def test_a_mobile_number_reaches_the_gateway_as_dialled_in_korea(stored: str, receiver: str) -> None:
    [request] = send(stored)
    assert request["receiver"] == [receiver]


@pytest.mark.parametrize("stored", ["+8221234567", "+827012345678", "+8215881234", "02-123-4567"])
def test_a_number_that_is_no_mobile_gets_no_sms(stored: str) -> None:
    with pytest.raises(DeliveryError) as refused:
        send(stored)
    assert refused.value.failure.error_class == "sms_invalid_number"
