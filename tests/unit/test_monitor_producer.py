"""The faust monitor's producer is idempotent (acks=all): a send retried after a broker dies mid-request
must not write a breach twice. faust turns idempotence on only for transactions, so the app asks for it."""
from __future__ import annotations

import asyncio

from services.platform.settings import Settings
from services.sla_monitor.app import create_app


def test_the_monitor_producer_is_idempotent_with_acks_all() -> None:
    app = create_app(Settings(kafka_bootstrap_servers="127.0.0.1:1"))

    async def build() -> object:
        producer = app.producer._new_producer()  # what faust starts for the worker's sends
        try:
            return producer._txn_manager
        finally:
            await producer.stop()

    txn_manager = asyncio.run(build())
    assert txn_manager is not None  # aiokafka keeps a producer id and sequence numbers only when idempotent
    assert app.producer._settings_extra()["acks"] == "all"
