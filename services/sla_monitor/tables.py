"""The monitor's faust table: one snapshot per case, backed by a changelog topic.

A snapshot holds the case as the obligation book folded it (its state, the breaches and
at-risk warnings the clock fired, the notices counted), in the book's compact form, so a
restart restores a case in one step however many facts it had. On restart or reassignment
faust restores the table from its changelog and the obligation book is rebuilt from the
snapshots of the partitions now held.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import faust
import orjson

from services.platform.log.partitioner import partition_for
from services.sla_monitor.topics import PARTITIONS
from shared.events import Envelope, decode


def case_snapshots(app: faust.App) -> faust.Table:
    # use_partitioner: the timer writes marks outside stream iteration; the producer's murmur2
    # partitioner puts a case's key on the partition its facts come from.
    return app.Table("case-snapshots", default=None, key_type=bytes, value_type=bytes,  # bytes: raw serializers
                     partitions=PARTITIONS, use_partitioner=True)


@dataclass
class Snapshot:
    # The case as the book holds it (``ObligationBook.snapshot_of``): restored in one step, whatever
    # its history. None until the book has seen the case.
    case: dict[str, Any] | None = None
    # A fact the book refused (on the dead-letter topic), and the case's later facts held behind it.
    parked: dict[str, Any] | None = None
    held: list[bytes] = field(default_factory=list)
    # Written by releases before the compact form: the case's facts and the clock's marks, folded
    # on restore (the upcast); the case's next write replaces them with ``case``.
    facts: list[bytes] = field(default_factory=list)
    marks: dict[str, list[list]] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: bytes | None) -> Snapshot:
        if raw is None:
            return cls()
        data = orjson.loads(raw)
        return cls(data.get("case"), data.get("parked"), [h.encode() for h in data.get("held", [])],
                   [f.encode() for f in data.get("facts", [])], data.get("marks", {}))

    def dump(self) -> bytes:
        out: dict[str, Any] = {"case": self.case, "parked": self.parked, "held": [h.decode() for h in self.held]}
        if self.facts:  # not yet rewritten in the compact form
            out |= {"facts": [f.decode() for f in self.facts], "marks": self.marks}
        return orjson.dumps(out)

    def envelopes(self) -> list[Envelope]:
        return [decode(f) for f in self.facts]


def held(key: bytes, partitions: set[int]) -> bool:
    """The memory store keeps keys written live after their partition moved away: filter them."""
    return partition_for(key.decode(), PARTITIONS) in partitions
