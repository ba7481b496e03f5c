"""Prometheus metrics of compensation: remedies by kind, counted as their events leave the outbox.

Counted where every remedy passes, whether the worker decided it or an official issued it through the
API: the compensation outbox. A relay that repeats a batch after a crash counts it again (rare; the
ledger itself never holds a remedy twice)."""
from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter

from shared.events import EventDecodeError, decode

# The remedy each event records (시정 및 보상조치), by event type.
REMEDIES = {
    "VoucherProposed": "voucher_proposed",
    "VoucherApproved": "voucher_approved",
    "VoucherIssued": "voucher_issued",
    "VoucherDelivered": "voucher_delivered",
    "VoucherCancelled": "voucher_cancelled",
    "ApologyOwed": "apology",
    "RetrainingOrdered": "retraining",
    "PersonnelActionReferred": "personnel_action",
}


class CompensationMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.remedies = Counter("charterwatch_remedies_total", "Remedies recorded on the log, by kind", ["kind"],
                                registry=self.registry)
        for kind in REMEDIES.values():  # every kind present from the start: rate() needs a first sample
            self.remedies.labels(kind)

    def published(self, values: Iterable[bytes]) -> None:
        """The outbox's hook: the events it appended to the log."""
        for value in values:
            try:
                kind = REMEDIES.get(decode(value).event_type)
            except EventDecodeError:  # not ours to judge here: consumers park what they cannot read
                continue
            if kind is not None:
                self.remedies.labels(kind).inc()
