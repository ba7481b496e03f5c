"""The embedded log: Kafka's semantics on one SQLite file, for a single-process run.

Same partitioning as Kafka's default partitioner (murmur2 of the key), so a
case lands in the same partition number in both modes.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from services.platform.files import private_sqlite
from services.platform.log.partitioner import partition_for
from services.platform.log.port import (
    AllPartitions,
    LogUnavailable,
    Position,
    Rebalance,
    Record,
    TopicSpec,
    assigned_partitions,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY, partitions INTEGER NOT NULL, retention_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    key TEXT NOT NULL, value BLOB NOT NULL, timestamp_ms INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
) WITHOUT ROWID;
"""


class EmbeddedLog:
    def __init__(self, path: Path | str, default_partitions: int = 6) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            private_sqlite(Path(self.path))  # 0600 before SQLite opens it: its WAL and shared-memory files follow
        self._default_partitions = default_partitions
        self._write_lock = threading.Lock()
        self._appended = threading.Condition()
        self._local = threading.local()
        self._partitions: dict[str, int] = {}
        with self._conn() as conn:
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # append returns only when durable
            self._local.conn = conn
        return conn

    # -- topics ---------------------------------------------------------------
    def create_topics(self, specs: Sequence[TopicSpec]) -> list[str]:
        created = []
        with self._write_lock:
            conn = self._conn()
            for spec in specs:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO topics(name, partitions, retention_ms) VALUES (?, ?, ?)",
                    (spec.name, spec.partitions, spec.retention_ms),
                )
                if cur.rowcount:
                    created.append(spec.name)
        return created

    def partitions(self, topic: str) -> int:
        n = self._partitions.get(topic)
        if n is None:
            row = self._conn().execute("SELECT partitions FROM topics WHERE name = ?", (topic,)).fetchone()
            if row is None:  # like auto.create.topics.enable
                self.create_topics([TopicSpec(topic, self._default_partitions, -1)])
                return self.partitions(topic)
            n = self._partitions[topic] = int(row[0])
        return n

    # -- writing --------------------------------------------------------------
    def append(self, topic: str, key: str, value: bytes) -> Position:
        return self.append_many(topic, [(key, value)])[0]

    def append_many(self, topic: str, items: Sequence[tuple[str, bytes]]) -> list[Position]:
        n = self.partitions(topic)
        now = int(time.time() * 1000)
        out: list[Position] = []
        try:
            with self._write_lock:
                conn = self._conn()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    next_offsets: dict[int, int] = {}
                    rows = []
                    for key, value in items:
                        p = partition_for(key, n)
                        if p not in next_offsets:
                            row = conn.execute(
                                "SELECT MAX(offset) FROM records WHERE topic = ? AND partition = ?", (topic, p)
                            ).fetchone()
                            next_offsets[p] = -1 if row[0] is None else int(row[0])
                        next_offsets[p] += 1
                        rows.append((topic, p, next_offsets[p], key, value, now))
                        out.append(Position(topic, p, next_offsets[p]))
                    conn.executemany(
                        "INSERT INTO records(topic, partition, offset, key, value, timestamp_ms) VALUES (?,?,?,?,?,?)",
                        rows,
                    )
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:
            raise LogUnavailable(f"embedded log {self.path}: {exc}") from exc
        with self._appended:
            self._appended.notify_all()
        return out

    # -- reading --------------------------------------------------------------
    def end_offsets(self, topic: str) -> dict[int, int]:
        n = self.partitions(topic)
        ends = {p: 0 for p in range(n)}
        for p, last in self._conn().execute(
            "SELECT partition, MAX(offset) FROM records WHERE topic = ? GROUP BY partition", (topic,)
        ):
            ends[int(p)] = int(last) + 1
        return ends

    def reader(self, topic: str, positions: Mapping[int, int] | None = None,
               partitions: Collection[int] | None = None) -> "EmbeddedReader":
        return EmbeddedReader(self, topic, positions or {}, partitions)

    def join(self, group: str | None, topics: Sequence[str], listener: Rebalance) -> AllPartitions:
        """One process owns the file: its one member reads every partition, whatever the group."""
        return AllPartitions(self, topics, listener)

    def _wait_for_append(self, timeout: float) -> None:
        with self._appended:
            self._appended.wait(timeout)

    # -- consumer groups ------------------------------------------------------
    def committed(self, group: str, topic: str) -> dict[int, int]:
        rows = self._conn().execute(
            "SELECT partition, next_offset FROM group_offsets WHERE grp = ? AND topic = ?", (group, topic)
        )
        return {int(p): int(o) for p, o in rows}

    def commit(self, group: str, topic: str, positions: Mapping[int, int]) -> None:
        with self._write_lock:
            self._conn().executemany(
                "INSERT INTO group_offsets(grp, topic, partition, next_offset) VALUES (?,?,?,?) "
                "ON CONFLICT(grp, topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
                [(group, topic, p, o) for p, o in positions.items()],
            )

    def reopened(self) -> EmbeddedLog:
        return EmbeddedLog(self.path, self._default_partitions)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class EmbeddedReader:
    # Another process may append to the same file; its appends wake nobody here,
    # so an idle reader also re-checks on this interval.
    _RECHECK_SECONDS = 0.1

    def __init__(self, log: EmbeddedLog, topic: str, positions: Mapping[int, int],
                 partitions: Collection[int] | None = None) -> None:
        self._log = log
        self._topic = topic
        self._positions = {p: int(positions.get(p, 0)) for p in assigned_partitions(log.partitions(topic), partitions)}

    def poll(self, max_records: int = 500, timeout: float = 1.0) -> list[Record]:
        deadline = time.monotonic() + timeout
        while True:
            records = self._fetch(max_records)
            remaining = deadline - time.monotonic()
            if records or remaining <= 0:
                return records
            self._log._wait_for_append(min(remaining, self._RECHECK_SECONDS))

    def _fetch(self, max_records: int) -> list[Record]:
        conn = self._log._conn()
        out: list[Record] = []
        per_partition = max(1, max_records // max(1, len(self._positions)))
        for p, start in self._positions.items():
            rows = conn.execute(
                "SELECT offset, key, value, timestamp_ms FROM records "
                "WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (self._topic, p, start, per_partition),
            ).fetchall()
            for offset, key, value, ts in rows:
                out.append(Record(self._topic, p, int(offset), key, bytes(value), int(ts)))
            if rows:
                self._positions[p] = int(rows[-1][0]) + 1
        return out

    def positions(self) -> dict[int, int]:
        return dict(self._positions)

    def close(self) -> None:
        pass
