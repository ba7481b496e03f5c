"""Copying a frozen, slotted dataclass without running its ``__init__``: the folds make one such copy per
event (a case's state) and the monitor one per obligation kept, so ``dataclasses.replace`` (which runs
``__init__`` and ``__post_init__`` again) was their largest cost."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def copier(cls: type[T]) -> Callable[..., T]:
    """``copy(obj, **changes)``: every field of ``obj`` (``init=False`` ones too), then ``changes``."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    read = attrgetter(*names)

    def copy(obj: T, **changes: Any) -> T:
        new = object.__new__(cls)
        put = object.__setattr__
        for name, value in zip(names, read(obj)):
            put(new, name, value)
        for name, value in changes.items():
            put(new, name, value)
        return new

    return copy
