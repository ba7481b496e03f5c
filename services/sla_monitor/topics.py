"""The faust topics the monitor reads: raw bytes, decoded into domain envelopes at the edge."""
from __future__ import annotations

import faust

from services.eventlog.topics import Topics

PARTITIONS = 6


def case_facts(app: faust.App, topics: Topics) -> faust.TopicT:
    """Petition events and notice outcomes: both keyed by case with the same partition count, so
    one worker sees every fact of a case."""
    return app.topic(topics.petition_events, topics.notice_events, key_type=bytes, value_type=bytes,
                     key_serializer="raw", value_serializer="raw", partitions=PARTITIONS)
