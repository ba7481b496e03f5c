"""A folded case in a compact, JSON-ready form: what the monitor's snapshot keeps instead of the facts.

Restoring a case from its facts folds all of them, so a restart took as long as the longest
histories (issue 21: 6× longer for cases of 50 facts than for cases of one). The fold's result is a
frozen dataclass of plain values; this module turns such a dataclass into a dict and back, driven
by its type hints, so restoring costs the same whatever the history.

Fields equal to their default are left out: a snapshot stays small, and a field added later (with a
default, as every ``CaseState`` field has) reads old snapshots as they were. A field the reader does
not know is an error, never silently dropped: that snapshot came from a newer release.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, Literal, Union

from pydantic import BaseModel

from shared.petition_case import CaseState

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _optional(enc: Encode, dec: Decode) -> tuple[Encode, Decode]:
    return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))


def _codec(tp: Any) -> tuple[Encode, Decode]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1:
            raise TypeError(f"no snapshot codec for the union {tp}")
        return _optional(*_codec(present[0]))
    if tp in (str, int, bool) or origin is Literal:
        return _identity, _identity
    if tp is datetime:
        return datetime.isoformat, datetime.fromisoformat
    if isinstance(tp, type) and issubclass(tp, Enum):
        return (lambda v: v.value), tp
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return (lambda v: v.model_dump(mode="json")), tp.model_validate
    if origin is frozenset:
        enc, dec = _codec(args[0])
        return (lambda v: sorted(enc(x) for x in v)), (lambda v: frozenset(dec(x) for x in v))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        enc, dec = _codec(args[0])
        return (lambda v: [enc(x) for x in v]), (lambda v: tuple(dec(x) for x in v))
    if origin is tuple:
        parts = [_codec(a) for a in args]
        return ((lambda v: [e(x) for (e, _), x in zip(parts, v)]),
                (lambda v: tuple(d(x) for (_, d), x in zip(parts, v))))
    if dataclasses.is_dataclass(tp):
        return record_codec(tp)
    raise TypeError(f"no snapshot codec for {tp}")


@cache
def record_codec(cls: type, exclude: frozenset[str] = frozenset()) -> tuple[Encode, Decode]:
    """(encode, decode) for a frozen dataclass: a dict of the fields that differ from their defaults.
    ``exclude``: fields kept out of the snapshot (they must have defaults: decoding gives those). Fields
    not set by ``__init__`` are derived from the others, so left out too."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init and f.name not in exclude]  # not init: derived
    codecs = {f.name: _codec(hints[f.name]) for f in fields}
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}

    def encode(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (enc, _) in codecs.items():
            v = getattr(value, name)
            if name in defaults and v == defaults[name]:
                continue
            out[name] = enc(v)
        return out

    def decode(data: dict[str, Any]) -> Any:
        unknown = data.keys() - codecs.keys()
        if unknown:
            raise ValueError(f"{cls.__name__} snapshot has fields this release does not know: {sorted(unknown)}")
        return cls(**{name: codecs[name][1](v) for name, v in data.items()})

    return encode, decode


def encode_state(state: CaseState) -> dict[str, Any]:
    return record_codec(CaseState)[0](state)


def decode_state(data: dict[str, Any]) -> CaseState:
    return record_codec(CaseState)[1](data)
