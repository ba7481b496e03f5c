"""The log port (an append-only, per-key ordered, partitioned log) and its adapters."""
from services.platform.log.port import (
    EventLog,
    LogUnavailable,
    Position,
    Record,
    TopicSpec,
)

__all__ = ["EventLog", "LogUnavailable", "Position", "Record", "TopicSpec"]
