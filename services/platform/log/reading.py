"""Reading a whole topic (or some of its partitions) to its current end."""
from __future__ import annotations

from collections.abc import Callable, Collection

from services.platform.log.port import EventLog, Record


def read_all(event_log: EventLog, topic: str, progress: Callable[[int], None] | None = None,
             partitions: Collection[int] | None = None) -> tuple[list[Record], dict[int, int]]:
    """Every record now in the topic (or in these of its partitions), and the positions after them;
    ``progress`` hears each batch's size."""
    ends = event_log.end_offsets(topic)
    if partitions is not None:
        ends = {p: e for p, e in ends.items() if p in partitions}
    reader = event_log.reader(topic, partitions=partitions)
    records: list[Record] = []
    try:
        while any(reader.positions().get(p, 0) < e for p, e in ends.items()):
            batch = reader.poll(max_records=5000, timeout=0.5)
            records.extend(batch)
            if progress is not None:
                progress(len(batch))
    finally:
        reader.close()
    return records, ends
