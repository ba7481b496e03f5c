"""structlog configured for JSON lines, with applicant personal data kept out.

Logs carry case ids, event types, offsets: never a name, phone, e-mail or
address. The redaction processor is a second line of defence behind the rule
of never binding such values: any key that names personal data is masked.
Standard-library logging (uvicorn, kafka, faust) goes through the same JSON
renderer, so every line of a service's output is one JSON object.
"""
from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

PERSONAL_KEYS = frozenset({"name", "phone", "email", "e_mail", "address", "applicant", "applicant_name", "contact", "body"})


def _redact(_: object, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key.lower() in PERSONAL_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _redact,
]


class _ClosedSocketRead(logging.Filter):
    """kafka-python 3.0 reads a connection its own other thread has just closed and logs the resulting
    ``AttributeError`` at error level with a traceback; it then reconnects, nothing is lost. Told as what
    it is, a warning, so an operator's error alerts and a reader of the log are not sent after it."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, AttributeError) and "Error receiving network data" in str(record.msg):
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.msg} (socket closed under the read; the client reconnects)"
        return True


def configure(level: str = "info", stream: TextIO = sys.stdout) -> None:
    numeric = getattr(logging, level.upper())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_SHARED],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Third-party libraries log at their own verbosity; only their warnings here.
    for noisy in ("kafka", "aiokafka", "faust", "mode", "uvicorn.access", "sqlalchemy", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    transport = logging.getLogger("kafka.net.transport")
    if not any(isinstance(f, _ClosedSocketRead) for f in transport.filters):
        transport.addFilter(_ClosedSocketRead())
    structlog.configure(
        processors=[*_SHARED, structlog.processors.format_exc_info, structlog.processors.JSONRenderer(ensure_ascii=False)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


def get_logger(service: str) -> Any:
    """A lazy logger: it picks up the configuration in force when it first logs, not at import."""
    return structlog.get_logger(service=service)
