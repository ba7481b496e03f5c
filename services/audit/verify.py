"""Tamper evidence: each case's petition stream is a hash chain (``Envelope.prev_hash``).

Reading the topic in offset order, a case's events must carry versions 1, 2, 3, ... and each
event's ``prev_hash`` must be the SHA-256 of the previous event's bytes as they are on the log.
A rewritten event breaks the link after it; a deleted one leaves a version gap; reordered events
arrive out of version order. The last event has no successor: its hash is compared with the
command store's copy (intake's ``case_streams``) when one is given.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from services.platform.log.port import Record
from shared.events import EventDecodeError, decode
from shared.events.envelope import chain_hash


@dataclass(frozen=True)
class BrokenLink:
    case_id: str
    case_version: int
    partition: int
    offset: int
    problem: str


@dataclass
class ChainReport:
    cases: int = 0
    events: int = 0
    unchained: int = 0  # envelope v1 events, written before the chain existed
    repeated: int = 0  # the same bytes again (an outbox relay that republished after a crash): not a break
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


@dataclass
class _Chain:
    version: int = 0
    head: str | None = None
    broken: bool = False
    links: list[bytes] = field(default_factory=list)  # digest of each version, to know a repeat from a rewrite


def verify_chains(records: Iterable[Record], stored_head: Callable[[str], str | None] | None = None) -> ChainReport:
    """Check every case's chain; report the first broken link of each broken case."""
    report = ChainReport()
    chains: dict[str, _Chain] = {}
    for r in records:
        report.events += 1
        chain = chains.get(r.key)
        if chain is None:
            chain = chains[r.key] = _Chain()
        if chain.broken:
            continue
        try:
            env = decode(r.value)
        except EventDecodeError as exc:
            _break(report, chain, r.key, chain.version + 1, r, f"undecodable: {exc}")
            continue
        expected = chain.version + 1
        if 0 < env.case_version <= chain.version and chain.links[env.case_version - 1] == hashlib.sha256(r.value).digest():
            report.repeated += 1
            continue
        if env.case_version != expected:
            problem = (f"version {expected} is missing (deleted?): found {env.case_version}"
                       if env.case_version > expected else
                       f"version {env.case_version} arrives after version {chain.version} (reordered or repeated)")
            _break(report, chain, env.case_id, env.case_version, r, problem)
            continue
        if env.prev_hash is None and expected > 1 and not _v1(r.value):
            _break(report, chain, env.case_id, env.case_version, r, "prev_hash missing")
            continue
        if env.prev_hash is not None and env.prev_hash != chain.head:
            _break(report, chain, env.case_id, env.case_version, r,
                   f"prev_hash does not match version {chain.version} as on the log (rewritten?)")
            continue
        if env.prev_hash is None and expected > 1:
            report.unchained += 1
        chain.version = expected
        chain.head = chain_hash(r.value)
        chain.links.append(bytes.fromhex(chain.head))
    report.cases = len(chains)
    if stored_head is not None:
        for case_id, chain in chains.items():
            stored = stored_head(case_id)
            if not chain.broken and stored is not None and stored != chain.head:
                report.broken.append(BrokenLink(case_id, chain.version, -1, -1,
                                                f"version {chain.version} differs from the command store's copy (rewritten?)"))
    return report


def _v1(raw: bytes) -> bool:
    return b'"envelope_version":1,' in raw[:40]


def _break(report: ChainReport, chain: _Chain, case_id: str, version: int, r: Record, problem: str) -> None:
    chain.broken = True
    report.broken.append(BrokenLink(case_id, version, r.partition, r.offset, problem))
