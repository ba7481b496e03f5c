"""The faust topics the monitor reads: raw bytes, decoded into domain envelopes at the edge."""
from __future__ import annotations

import faust

from services.eventlog.topics import Topics


def petition_events(app: faust.App, topics: Topics) -> faust.TopicT:
    return app.topic(topics.petition_events, key_type=bytes, value_type=bytes,
                     key_serializer="raw", value_serializer="raw", partitions=6)
