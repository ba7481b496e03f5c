"""The AsyncAPI 3 document of every topic, generated from the code: the topics' names, partitions and
retention (``services.platform.log.topics``), and each event's envelope and payload schema from the
event registry (``shared.events``). Part of the composition root: it names which producer writes which
topic. ``charterwatch events asyncapi --out docs/asyncapi.json`` writes it; CI validates it with
AsyncAPI's own parser (``tests/asyncapi/validate.mjs``)."""
from __future__ import annotations

import re
from typing import Any

from services.platform.log.topics import FOREVER, Topics
from shared.events.envelope import ENVELOPE_VERSION
from shared.events.registry import latest_version, registered
from shared.events.schemas import ENVELOPE_SCHEMA

REF = "#/components/schemas/{model}"
# Which module's events each topic carries, who writes it and who reads it.
EVENT_TOPICS: dict[str, tuple[str, str, str, str]] = {
    # module: (Topics attribute, channel id, producer, consumers)
    "shared.events.petition": ("petition_events", "petitionEvents", "intake",
                               "intake (read model), sla_monitor, compensation, notify, console, webhooks, audit"),
    "shared.events.sla": ("sla_events", "slaEvents", "sla_monitor",
                           "compensation, notify, console, webhooks, audit"),
    "shared.events.compensation": ("compensation_events", "compensationEvents", "compensation",
                                   "notify, console, webhooks, audit"),
    "shared.events.notice": ("notice_events", "noticeEvents", "notify",
                             "intake (read model), sla_monitor, console, webhooks, audit"),
    "shared.events.findings": ("finding_events", "findingEvents", "compensation", "compensation (strike counter)"),
}
# The Kafka key of each topic's events: the case id, but for strikes, which follow the official.
KEYS = {"finding_events": "agency/official: one official's strikes stay in order on one partition, whichever "
                          "case they were found in (the envelope's case_id is this key; the payload names the case)"}
CASE_KEY = "the case id: one case's events stay in order on one partition"
DESCRIPTIONS = {
    "petition_events": "Facts of each petition (민원), in the order the case lived them: one stream per case, "
                       "gapless case_version, hash-chained (prev_hash).",
    "sla_events": "Obligations opened, at risk, breached, discharged, suspended: derived by the SLA monitor, "
                  "with deterministic ids and the charter and calendar versions used.",
    "compensation_events": "Remedies: vouchers proposed, approved, issued, delivered, cancelled; apologies, "
                           "retraining, referrals.",
    "notice_events": "Notices sent to the petitioner, or failed: the template and the SHA-256 of the text, "
                     "never the text or the contact.",
    "finding_events": "Strikes against an agency's official (confirmed discourtesies) and their withdrawals, "
                      "re-keyed by official so compensation's strike counter counts them across cases and "
                      "raises the personnel-action referral at the charter's threshold.",
}


def _name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def _schema_id(event_type: str, version: int) -> str:
    return f"{event_type}V{version}Payload"


def _payload_schema(model: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON Schema with its nested models moved to components.schemas (refs rewritten)."""
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        defs.setdefault(name, sub)
    return schema


def _envelope(event_type: str, version: int) -> dict[str, Any]:
    """The envelope with this event's type, version and payload fixed."""
    env = {k: v for k, v in ENVELOPE_SCHEMA.items() if k not in ("$schema", "title")}
    props = dict(env["properties"])
    props["event_type"] = {"const": event_type, "type": "string"}
    props["schema_version"] = {"const": version, "type": "integer"}
    props["payload"] = {"$ref": REF.format(model=_schema_id(event_type, version))}
    props["envelope_version"] = {"enum": [1, ENVELOPE_VERSION], "type": "integer"}
    return {**env, "properties": props}


def _json_schema_7(node: Any) -> Any:
    """AsyncAPI's default schema format is a superset of JSON Schema draft 7: ``type`` lists and
    ``const`` are fine; ``prefixItems`` (2020-12) is not, and nothing here uses it."""
    if isinstance(node, dict):
        return {k: _json_schema_7(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_schema_7(v) for v in node]
    return node


def document(topics: Topics, version: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for topics named by ``topics`` (their prefix included)."""
    defs: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    by_channel: dict[str, list[str]] = {}
    for (event_type, ver), model in sorted(registered().items()):
        module = model.__module__
        if module not in EVENT_TOPICS:
            continue
        attr, channel, producer, _ = EVENT_TOPICS[module]
        schemas[_schema_id(event_type, ver)] = _payload_schema(model, defs)
        name = _name(event_type, ver)
        current = ver == latest_version(event_type)
        doc = (model.__doc__ or "").strip()
        messages[_message_id(name)] = {
            "name": event_type, "title": f"{event_type} v{ver}",
            "summary": re.sub(r"\s+", " ", doc.split("\n\n")[0])[:300] or event_type,
            "description": (f"Written by {producer}. " +
                            ("The current version." if current else
                             f"An older version: read and upcast to v{latest_version(event_type)}, never written.")),
            "contentType": "application/json",
            "payload": _envelope(event_type, ver),
            "bindings": {"kafka": {"key": {"type": "string", "description": KEYS.get(attr, CASE_KEY)},
                                   "bindingVersion": "0.5.0"}},
        }
        by_channel.setdefault(channel, []).append(_message_id(name))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    specs = {s.name: s for s in topics.specs()}
    for module, (attr, channel, producer, consumers) in EVENT_TOPICS.items():
        address = getattr(topics, attr)
        spec = specs[address]
        refs = {m: {"$ref": f"#/components/messages/{m}"} for m in by_channel.get(channel, [])}
        channels[channel] = {
            "address": address, "title": attr.replace("_", " "), "description": DESCRIPTIONS[attr],
            "messages": refs,
            "bindings": {"kafka": {"topic": address, "partitions": spec.partitions,
                                   "topicConfiguration": {
                                       "cleanup.policy": [spec.cleanup_policy],
                                       "retention.ms": -1 if spec.retention_ms == FOREVER else spec.retention_ms},
                                   "bindingVersion": "0.5.0"}},
        }
        messages_of = [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in refs]
        operations[f"{producer}Writes{channel[0].upper()}{channel[1:]}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{channel}"}, "messages": messages_of,
            "summary": f"{producer} appends each event with {'its official' if attr in KEYS else 'the case id'} "
                       "as key (transactional outbox)."}
        operations[f"consumersRead{channel[0].upper()}{channel[1:]}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{channel}"}, "messages": messages_of,
            "summary": f"Read by {consumers}: at least once, deduplicated by event_id."}
    for attr, title, text in (
            ("dead_letter", "dead letters", "Events a consumer refused repeatedly, with the reason; the case waits "
                                            "until an operator decides (charterwatch dead-letters)."),
            ("dead_letter_decisions", "dead-letter decisions", "An operator's retry or skip of a dead-letter entry.")):
        address = getattr(topics, attr)
        spec = specs[address]
        channel = "deadLetters" if attr == "dead_letter" else "deadLetterDecisions"
        message = f"{channel}Entry"
        messages[message] = {"name": message, "title": title, "contentType": "application/json",
                             "payload": {"type": "object", "description": text}}
        channels[channel] = {"address": address, "title": title, "description": text,
                             "messages": {message: {"$ref": f"#/components/messages/{message}"}},
                             "bindings": {"kafka": {"topic": address, "partitions": spec.partitions,
                                                    "bindingVersion": "0.5.0"}}}
        operations[f"operatorsRead{channel[0].upper()}{channel[1:]}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}]}
    return _json_schema_7({
        "asyncapi": "3.0.0",
        "info": {"title": "CharterWatch events", "version": version,
                 "description": "Every change in CharterWatch is an event on Kafka, keyed by case id. One envelope "
                                "(versioned); a changed payload is a new schema_version with an upcaster. Times are "
                                "ISO 8601 with offset (Asia/Seoul, +09:00)."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": "localhost:9092", "protocol": "kafka",
                              "description": "KAFKA_BOOTSTRAP_SERVERS; topic names carry CHARTERWATCH_TOPIC_PREFIX"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {**defs, **schemas}},
    })


def _message_id(name: str) -> str:
    return name.replace(".", "_")
