"""CharterWatch's topics, with partition counts and retention set in code; replication is the
deployment's (settings), the same for every topic."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from services.platform.log.port import TopicSpec

if TYPE_CHECKING:
    from services.platform.settings import Settings

FOREVER = -1
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Topics:
    """Topic names under an optional prefix (tests take one per run so runs never share state), and the
    replication they are created with (one copy suits one broker; a cluster wants 3 and 2)."""

    prefix: str = ""
    replication_factor: int = 1
    min_insync_replicas: int = 1

    @classmethod
    def configured(cls, settings: Settings) -> Topics:
        """The deployment's topics: its prefix and replication (CHARTERWATCH_TOPIC_PREFIX, _KAFKA_*)."""
        return cls(settings.topic_prefix, settings.kafka_replication_factor, settings.kafka_min_insync_replicas)

    @property
    def petition_events(self) -> str:
        return self.prefix + "charterwatch.petition-events"  # the system of record

    @property
    def sla_events(self) -> str:
        return self.prefix + "charterwatch.sla-events"

    @property
    def compensation_events(self) -> str:
        return self.prefix + "charterwatch.compensation-events"

    @property
    def notice_events(self) -> str:
        return self.prefix + "charterwatch.notice-events"

    @property
    def finding_events(self) -> str:
        """Confirmed and withdrawn findings against an official, keyed ``agency/official``: strikes are
        counted across cases, so they follow the official, not the case (docs/compensation.md)."""
        return self.prefix + "charterwatch.finding-events"

    @property
    def dead_letter(self) -> str:
        return self.prefix + "charterwatch.dead-letter"

    @property
    def dead_letter_decisions(self) -> str:
        """Operators' retry/skip decisions, keyed by case: they reach the worker that holds the case."""
        return self.prefix + "charterwatch.dead-letter-decisions"

    @property
    def monitor_snapshots(self) -> str:
        """The faust monitor's table changelog (faust names it ``<app id>-<table>-changelog``)."""
        return self.prefix + "charterwatch-sla-monitor-case-snapshots-changelog"

    def group(self, service: str) -> str:
        """The consumer group a service's workers share partitions through."""
        return f"{self.prefix}charterwatch-{service}"

    def specs(self) -> tuple[TopicSpec, ...]:
        # Every event topic is kept forever: audit replay re-derives decisions years later.
        return tuple(replace(spec, replication_factor=self.replication_factor,
                             min_insync_replicas=self.min_insync_replicas) for spec in (
            TopicSpec(self.petition_events, partitions=6, retention_ms=FOREVER),
            TopicSpec(self.sla_events, partitions=6, retention_ms=FOREVER),
            TopicSpec(self.compensation_events, partitions=6, retention_ms=FOREVER),
            TopicSpec(self.notice_events, partitions=6, retention_ms=FOREVER),
            TopicSpec(self.finding_events, partitions=6, retention_ms=FOREVER),
            TopicSpec(self.dead_letter, partitions=1, retention_ms=FOREVER),  # an operator reads every entry
            TopicSpec(self.dead_letter_decisions, partitions=6, retention_ms=FOREVER),
            # created before the monitor's first snapshot write, compacted: the last snapshot per case
            TopicSpec(self.monitor_snapshots, partitions=6, retention_ms=FOREVER, cleanup_policy="compact"),
        ))
