"""Replaying the whole log in shards: one worker process per group of partitions.

A case's events share one partition number on every topic (the case id is the key, the
partitioner is Kafka's, and the four topics have equal partition counts), so a worker reads
only its partitions and re-derives the deadlines, breaches and notices of its cases alone.
Remedies are not split: an agency's official's strikes count across its cases in every partition, so the
cases that can owe a remedy come back to the parent with what was found so far, and go
through one scratch ledger together, their events merged in the order they were recorded.
The result is the same for any number of workers (tested).
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from services.audit.replay import (
    CaseLog,
    CompensationReplayer,
    Replay,
    needs_ledger,
    replay_decisions,
    replay_remedies,
)
from services.audit.source import LogSnapshot, read_log, shared_partition_count
from services.audit.summary import Summary
from services.platform.log.port import EventLog
from services.platform.log.topics import Topics
from shared.charters import CharterBook
from shared.notices.render import Renderer
from shared.working_time import WorkingCalendar

_LATEST = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Scope:
    """What to replay and with which rules."""
    log: EventLog
    topics: Topics
    calendar: WorkingCalendar
    charters: CharterBook
    received_from: datetime | None = None
    received_to: datetime | None = None


@dataclass
class ShardResult:
    summary: Summary = field(default_factory=Summary)
    # Cases that can owe a remedy, with their decisions replayed so far: the ledger is next.
    pending: list[tuple[CaseLog, Replay]] = field(default_factory=list)


def replay_shard(scope: Scope, snap: LogSnapshot) -> ShardResult:
    """Re-derive every case's decisions in ``snap`` (emptied as it goes); remedies are left pending."""
    out = ShardResult(Summary(events=snap.events, undecodable=snap.undecodable))
    renderer = Renderer()
    while snap.cases:  # each case let go once replayed: its parsed events with it
        _, case = snap.cases.popitem()
        received = case.petition[0].occurred_at if case.petition else None
        if received is None or (scope.received_from and received < scope.received_from) or (
                scope.received_to and received >= scope.received_to):
            continue
        report = replay_decisions(case, scope.calendar, scope.charters, renderer)
        if needs_ledger(case):
            out.pending.append((case, report))
        else:
            out.summary.add(report)
    return out


def settle(scope: Scope, results: list[ShardResult]) -> Summary:
    """Every shard's pending cases through one ledger together; then one summary."""
    summary = Summary()
    for r in results:
        summary.merge(r.summary)
    pending = sorted((p for r in results for p in r.pending),
                     key=lambda p: (p[0].petition[0].recorded_at if p[0].petition else _LATEST, p[0].case_id))
    ledger = CompensationReplayer(scope.calendar, scope.charters)
    try:
        replay_remedies(pending, ledger)
    finally:
        ledger.close()
    for _, report in pending:
        summary.add(report)
    summary.disagreeing_cases.sort()
    return summary


def replay_everything(scope: Scope, workers: int = 1, progress: Callable[[int], None] | None = None) -> Summary:
    """The whole log, over ``workers`` processes (at most one per partition)."""
    n = shared_partition_count(scope.log, scope.topics)
    if n is None:  # unequal counts: a case's events may sit in different partition numbers
        return settle(scope, [_read_and_replay(scope, scope.log, None, progress)])
    workers = max(1, min(workers, n))
    if workers == 1:
        return settle(scope, [_read_and_replay(scope, scope.log, list(range(n)), progress)])
    groups = [[p for p in range(n) if p % workers == k] for k in range(workers)]
    ctx = multiprocessing.get_context("fork")  # workers inherit the rules loaded here; each opens its own client
    counter = ctx.Value("q", 0)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start_worker,
                             initargs=(scope, counter)) as pool:
        futures = [pool.submit(_replay_partitions, group) for group in groups]
        seen = 0
        while True:
            done, running = wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
            if progress is not None and counter.value > seen:
                progress(counter.value - seen)
                seen = counter.value
            if not running or any(f.exception() for f in done):
                break
        results = [f.result() for f in futures]  # re-raises a worker's failure
    return settle(scope, results)


def _read_and_replay(scope: Scope, log: EventLog, partitions: list[int] | None,
                     progress: Callable[[int], None] | None) -> ShardResult:
    """One partition at a time (all of a case is in one), so a worker holds one partition's cases
    in memory, not its whole share of the log; ``None``: the whole log at once."""
    out = ShardResult()
    for part in [[p] for p in partitions] if partitions is not None else [None]:
        snap = read_log(log, scope.topics, progress=progress, partitions=part)
        gc.freeze()  # the decoded partition stays until it is replayed: keep the collector from rescanning it
        try:
            result = replay_shard(scope, snap)
        finally:
            gc.unfreeze()
        out.summary.merge(result.summary)
        out.pending += result.pending
    return out


_worker: dict[str, Any] = {}


def _start_worker(scope: Scope, counter: Any) -> None:
    _worker.update(scope=scope, counter=counter, log=scope.log.reopened())


def _replay_partitions(partitions: list[int]) -> ShardResult:
    counter = _worker["counter"]

    def progress(n: int) -> None:
        with counter.get_lock():
            counter.value += n

    return _read_and_replay(_worker["scope"], _worker["log"], partitions, progress)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
