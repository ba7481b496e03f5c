"""Event schemas: the envelope, the registry of payload types, and the payloads.

Importing this package registers every payload type.
"""
from shared.events import compensation, findings, notice, petition, sla  # noqa: F401  (registers payloads)
from shared.events.envelope import Envelope, EventDecodeError, decode, encode
from shared.events.registry import UnknownEventType, payload_model, registered

__all__ = ["Envelope", "EventDecodeError", "UnknownEventType", "decode", "encode", "payload_model", "registered"]
