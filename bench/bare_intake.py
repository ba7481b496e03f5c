"""The issue's intake baseline: a bare FastAPI endpoint that validates a filing and produces it with
aiokafka (acks=all, awaited), nothing else: no key check, no database, no fold, no sealing.

bench/intake_load.py runs it in its own process under uvicorn (uvloop, httptools) beside CharterWatch's
intake and loads both the same way, so their ratio is measured in one run on one broker.

Run: KAFKA_BOOTSTRAP_SERVERS=... BARE_TOPIC=t python3 bench/bare_intake.py PORT
"""
from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from pydantic import BaseModel


class Filing(BaseModel):
    municipality_id: str
    petition_type: str
    channel: str
    title: str
    body: str
    received_at: str
    applicant: dict[str, str]


class Assignment(BaseModel):
    occurred_at: str
    official: dict[str, str]


producer: AIOKafkaProducer | None = None
TOPIC = os.environ.get("BARE_TOPIC", "bench.bare")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global producer
    producer = AIOKafkaProducer(bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
                                acks="all", enable_idempotence=True)
    await producer.start()
    yield
    await producer.stop()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/petitions", status_code=201)
async def file(filing: Filing) -> dict[str, str]:
    case_id = str(uuid.uuid4())
    assert producer is not None
    await producer.send_and_wait(TOPIC, filing.model_dump_json().encode(), key=case_id.encode())
    return {"case_id": case_id}


@app.post("/v1/petitions/{case_id}/assignment", status_code=201)
async def assign(case_id: str, assignment: Assignment) -> dict[str, str]:
    assert producer is not None
    await producer.send_and_wait(TOPIC, assignment.model_dump_json().encode(), key=case_id.encode())
    return {"case_id": case_id}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", loop="uvloop", http="httptools")
