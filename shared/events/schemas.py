"""JSON Schemas of the envelope and of every registered payload (written to docs/events/ by the CLI)."""
from __future__ import annotations

from typing import Any

from shared.events.envelope import ENVELOPE_VERSION
from shared.events.registry import registered

ENVELOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": f"CharterWatch event envelope v{ENVELOPE_VERSION}",
    "type": "object",
    "additionalProperties": False,
    "required": ["envelope_version", "event_id", "case_id", "case_version", "event_type", "schema_version", "occurred_at",
                 "recorded_at", "producer", "charter", "payload"],
    "properties": {
        "envelope_version": {"enum": [1, ENVELOPE_VERSION], "description": "1 had no prev_hash"},
        "prev_hash": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$",
                      "description": "SHA-256 of the previous event of the case's stream as on the log; null first"},
        "event_id": {"type": "string", "format": "uuid"},
        "case_id": {"type": "string", "minLength": 1, "description": "the Kafka key: one case's events stay in order"},
        "case_version": {"type": "integer", "minimum": 0,
                         "description": "gapless position in the case's petition stream (optimistic concurrency)"},
        "event_type": {"type": "string", "description": "a fact in the past tense, e.g. PetitionReceived"},
        "schema_version": {"type": "integer", "minimum": 1, "description": "version of this event type's payload"},
        "occurred_at": {"type": "string", "format": "date-time", "description": "when it happened (+09:00)"},
        "recorded_at": {"type": "string", "format": "date-time", "description": "when CharterWatch recorded it"},
        "producer": {"type": "string"},
        "charter": {
            "oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["charter_id", "version"],
                 "properties": {"charter_id": {"type": "string"}, "version": {"type": "string"}}},
            ]
        },
        "payload": {"type": "object", "description": "per (event_type, schema_version); see the other schemas"},
    },
}


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for the envelope and each (type, version)."""
    out = {"envelope.v1.json": ENVELOPE_SCHEMA}
    for (event_type, version), model in sorted(registered().items()):
        schema = model.model_json_schema()
        schema["title"] = f"{event_type} v{version} payload"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[f"{event_type}.v{version}.json"] = schema
    return out
