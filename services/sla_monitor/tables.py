"""The monitor's faust table: one snapshot per case, backed by a changelog topic.

A snapshot holds the case's facts (petition events and notices sent) and the marks
a replay of those facts cannot tell (breaches and at-risk warnings fired by the
clock). On restart or reassignment faust restores the table from its changelog and
the obligation book is rebuilt from the snapshots of the partitions now held.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import faust
import orjson

from services.platform.log.partitioner import partition_for
from services.sla_monitor.topics import PARTITIONS
from shared.events import Envelope, decode, encode


def case_snapshots(app: faust.App) -> faust.Table:
    # use_partitioner: the timer writes marks outside stream iteration; the producer's murmur2
    # partitioner puts a case's key on the partition its facts come from.
    return app.Table("case-snapshots", default=None, key_type=bytes, value_type=bytes,  # bytes: raw serializers
                     partitions=PARTITIONS, use_partitioner=True)


@dataclass
class Snapshot:
    facts: list[bytes] = field(default_factory=list)
    marks: dict[str, list[list]] = field(default_factory=dict)
    # A fact the book refused (on the dead-letter topic), and the case's later facts held behind it.
    parked: dict[str, Any] | None = None
    held: list[bytes] = field(default_factory=list)

    @classmethod
    def load(cls, raw: bytes | None) -> Snapshot:
        if raw is None:
            return cls()
        data = orjson.loads(raw)
        return cls([f.encode() for f in data["facts"]], data["marks"], data.get("parked"),
                   [h.encode() for h in data.get("held", [])])

    def dump(self) -> bytes:
        return orjson.dumps({"facts": [f.decode() for f in self.facts], "marks": self.marks, "parked": self.parked,
                             "held": [h.decode() for h in self.held]})

    def envelopes(self) -> list[Envelope]:
        return [decode(f) for f in self.facts]

    def with_fact(self, env: Envelope) -> Snapshot:
        return Snapshot(self.facts + [encode(env)], self.marks, self.parked, self.held)


def held(key: bytes, partitions: set[int]) -> bool:
    """The memory store keeps keys written live after their partition moved away: filter them."""
    return partition_for(key.decode(), PARTITIONS) in partitions
