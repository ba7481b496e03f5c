"""Applicant data: sealed in events and read models, never in logs."""
import base64
import io
import json

import pytest

from services.platform.logs import configure, get_logger
from shared.sealing import Keyring, SealingError, seal, unseal

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()


def test_seal_round_trip_and_rotation() -> None:
    old = Keyring.parse(f"k1:{K1}")
    sealed = seal(old, {"name": "홍길동", "phone": "010-1234-5678"}, "case-1")
    assert "홍길동" not in sealed.model_dump_json() and sealed.kid == "k1"
    rotated = Keyring.parse(f"k2:{K2},k1:{K1}")
    assert unseal(rotated, sealed, "case-1")["name"] == "홍길동"
    assert seal(rotated, {"a": 1}, "case-1").kid == "k2"


def test_sealed_value_is_bound_to_its_case() -> None:
    ring = Keyring.parse(f"k1:{K1}")
    sealed = seal(ring, {"name": "x"}, "case-1")
    with pytest.raises(SealingError):
        unseal(ring, sealed, "case-2")


def test_keyring_rejects_short_keys() -> None:
    with pytest.raises(SealingError, match="32 bytes"):
        Keyring.parse("k:" + base64.b64encode(b"short").decode())


def test_personal_keys_are_redacted_in_logs() -> None:
    out = io.StringIO()
    configure("info", stream=out)
    get_logger("test").info("filed", case_id="c1", phone="010-1234-5678", name="홍길동")
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["case_id"] == "c1" and line["phone"] == "[redacted]" and line["name"] == "[redacted]"
    assert "010-1234-5678" not in out.getvalue()


def test_kafka_clients_closed_socket_read_is_a_warning_without_traceback() -> None:
    import logging

    out = io.StringIO()
    configure("info", out)
    transport = logging.getLogger("kafka.net.transport")
    try:
        None.recv(4096)  # type: ignore[attr-defined]  # what kafka-python's reader hits on a closed socket
    except AttributeError:
        transport.exception("%s: Error receiving network data closing socket", "<KafkaTCPTransport (closed)>")
    try:
        raise ValueError("something else")
    except ValueError:
        transport.exception("%s: Error receiving network data closing socket", "<KafkaTCPTransport>")
    race, other = (json.loads(line) for line in out.getvalue().splitlines())
    assert race["level"] == "warning" and "exception" not in race and "reconnects" in race["event"]
    assert other["level"] == "error" and "Traceback" in other["exception"]  # any other failure stays an error
