"""The faust topics the monitor reads: raw bytes, decoded into domain envelopes at the edge."""
from __future__ import annotations

import faust

from services.platform.log.topics import Topics

PARTITIONS = 6


def case_facts(app: faust.App, topics: Topics) -> faust.TopicT:
    """Petition events, notice outcomes and operators' dead-letter decisions: all keyed by case with the
    same partition count, so one worker sees every fact of a case and every decision about it."""
    return app.topic(topics.petition_events, topics.notice_events, topics.dead_letter_decisions,
                     key_type=bytes, value_type=bytes,
                     key_serializer="raw", value_serializer="raw", partitions=PARTITIONS)
