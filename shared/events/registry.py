"""(event type, schema version) -> payload model, and upcasters for old versions.

A published (type, version) never changes meaning: a changed payload is a new
version, and an upcaster turns the old one into the new one on read, so a log
written years ago still replays.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

P = TypeVar("P", bound=type[BaseModel])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_MODELS: dict[tuple[str, int], type[BaseModel]] = {}
_TYPES: dict[type[BaseModel], tuple[str, int]] = {}
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}
_LATEST: dict[str, int] = {}  # event type -> newest registered version: read on every decode


class UnknownEventType(ValueError):
    def __init__(self, event_type: str, version: int) -> None:
        known = sorted(v for (t, v) in _MODELS if t == event_type)
        hint = f"known versions: {known}" if known else "no such event type"
        super().__init__(f"event_type: unknown event {event_type!r} version {version} ({hint})")
        self.event_type = event_type
        self.version = version


def event(event_type: str, version: int) -> Callable[[P], P]:
    """Class decorator: register a payload model under (type, version)."""

    def register(model: P) -> P:
        key = (event_type, version)
        if key in _MODELS:
            raise RuntimeError(f"{event_type} v{version} is registered twice")
        _MODELS[key] = model
        _TYPES[model] = key
        _LATEST[event_type] = max(version, _LATEST.get(event_type, 0))
        return model

    return register


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function turning a v``from_version`` payload into v``from_version + 1``."""

    def register(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def type_of(model: type[BaseModel]) -> tuple[str, int]:
    try:
        return _TYPES[model]
    except KeyError:
        raise UnknownEventType(model.__name__, 0) from None


def payload_model(event_type: str, version: int) -> type[BaseModel]:
    try:
        return _MODELS[(event_type, version)]
    except KeyError:
        raise UnknownEventType(event_type, version) from None


def latest_version(event_type: str) -> int:
    try:
        return _LATEST[event_type]
    except KeyError:
        raise UnknownEventType(event_type, 0) from None


def upcast(event_type: str, version: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Apply upcasters until the newest registered version."""
    target = latest_version(event_type)
    while version < target:
        fn = _UPCASTERS.get((event_type, version))
        if fn is None:
            break  # no upcaster: the old model is still registered and read as is
        payload = fn(payload)
        version += 1
    return version, payload


def registered() -> dict[tuple[str, int], type[BaseModel]]:
    return dict(_MODELS)
