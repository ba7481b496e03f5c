"""The composition root's builders: each service assembled from the container, given only what it
uses (its own database, the log, the clock, the calendar, the charters, its channels). Services never
see the container; ``services.topology`` runs what these build, and tests build through them too.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.audit.deps import Audit
from services.bootstrap import Container
from services.compensation.api.deps import Compensation
from services.compensation.ledger.book import Ledger
from services.intake.api.deps import Intake
from services.intake.commands import Rules
from services.intake.metrics import IntakeMetrics
from services.intake.readmodel.projection import PetitionProjection
from services.intake.readmodel.runner import ProjectionRunner
from services.intake.schema import OutboxRow as IntakeOutboxRow
from services.notify.channels.port import Channel
from services.notify.delivery import RetryPolicy
from services.notify.schema import OutboxRow as NotifyOutboxRow
from services.notify.worker import PRODUCER as NOTIFY
from services.notify.worker import NotifyWorker
from services.platform.consumer import Consumer, ConsumerMetrics
from services.platform.files import private_tree
from services.platform.outbox.publisher import Outbox, OutboxMetrics
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.runner import MonitorLoop
from shared.notices.render import Renderer


# -- intake ----------------------------------------------------------------------------------------
def rules(c: Container) -> Rules:
    return Rules(c.now, c.calendar, c.charters, c.keyring, c.applicant_ref_key)


def intake(c: Container, metrics: IntakeMetrics | None = None) -> Intake:
    metrics = metrics or IntakeMetrics()
    db = c.database("intake")
    outbox = Outbox(c.log, c.topics.petition_events, db.sessions, IntakeOutboxRow, "intake",
                    metrics=OutboxMetrics(metrics.registry))
    return Intake(rules(c), db, c.log, c.topics.petition_events, outbox, metrics,
                  timedelta(days=c.settings.duplicate_window_days))


def intake_app(c: Container) -> FastAPI:
    from services.intake.api.app import create_app

    return create_app(intake(c), c.database("access").readers, c.settings.max_body_bytes)


def petition_projection(c: Container) -> PetitionProjection:
    return PetitionProjection(c.calendar, c.charters, timedelta(days=c.settings.duplicate_window_days))


def petition_projection_runner(c: Container, metrics: ConsumerMetrics | None = None) -> ProjectionRunner:
    t = c.topics
    return ProjectionRunner(c.log, t.petition_events, c.database("intake").sessions, petition_projection(c),
                            t.dead_letter, t.dead_letter_decisions, metrics=metrics)


# -- the SLA monitor (embedded) ---------------------------------------------------------------------
def monitor_loop(c: Container, registry: CollectorRegistry | None = None,
                 consumer_metrics: ConsumerMetrics | None = None,
                 monitor_metrics: MonitorMetrics | None = None) -> MonitorLoop:
    """``registry``: where to publish the monitor's metrics, unless ``monitor_metrics`` are given."""
    return MonitorLoop(c.log, c.topics, c.dead_letters("sla_monitor"), c.calendar, c.charters, c.now,
                       metrics=monitor_metrics or MonitorMetrics(registry),
                       sessions=c.database("sla_monitor").sessions, consumer_metrics=consumer_metrics)


# -- compensation -------------------------------------------------------------------------------------
def compensation_outbox(c: Container, metrics: OutboxMetrics | None = None) -> Outbox:
    from services.compensation.schema import OutboxRow

    return Outbox(c.log, c.topics.compensation_events, c.database("compensation").sessions, OutboxRow,
                  "compensation", metrics=metrics)


def compensation(c: Container, outbox: Outbox | None = None) -> Compensation:
    return Compensation(c.database("compensation"), Ledger(c.charters, c.calendar),
                        outbox or compensation_outbox(c), c.now)


def compensation_consumer(c: Container, outbox: Outbox | None = None,
                          metrics: ConsumerMetrics | None = None) -> Consumer:
    from services.compensation import worker

    return worker.consumer(c.log, c.topics, c.database("compensation").sessions, Ledger(c.charters, c.calendar),
                           outbox or compensation_outbox(c), c.now, metrics)


def compensation_app(c: Container, outbox: Outbox | None = None) -> FastAPI:
    from services.compensation.api.app import create_app

    return create_app(compensation(c, outbox), c.database("access").readers, c.settings.max_body_bytes)


# -- notify -------------------------------------------------------------------------------------------
def channels(c: Container) -> dict[str, Channel]:
    """Real providers when configured; otherwise files under the data directory (the embedded newcomer mode)."""
    from services.notify.channels.email import SmtpChannel
    from services.notify.channels.files import FileChannel
    from services.notify.channels.inbox import InboxChannel
    from services.notify.channels.sms import SmsGateway
    from services.platform.logs import get_logger

    log = get_logger("notify")
    s = c.settings
    out: dict[str, Channel] = {"inbox": InboxChannel(c.database("notify").sessions, c.now)}
    if not (s.smtp_host and s.sms_gateway_url):
        private_tree(s.data_dir / "outgoing")  # the messages name their recipients: 0700 and 0600
    if s.smtp_host:
        out["email"] = SmtpChannel(s.smtp_host, s.smtp_port, s.smtp_sender, s.smtp_starttls, s.smtp_username,
                                   s.smtp_password)
    else:
        out["email"] = FileChannel(s.data_dir / "outgoing" / "email")
        log.warning("channel_not_configured", channel="email", writes_to=str(s.data_dir / "outgoing" / "email"))
    if s.sms_gateway_url:
        out["sms"] = SmsGateway(s.sms_gateway_url, s.sms_api_key or "", s.sms_user_id, s.sms_sender)
    else:
        out["sms"] = FileChannel(s.data_dir / "outgoing" / "sms")
        log.warning("channel_not_configured", channel="sms", writes_to=str(s.data_dir / "outgoing" / "sms"))
    return out


def notify_worker(c: Container, metrics: ConsumerMetrics | None = None, **overrides: Any) -> NotifyWorker:
    """``overrides``: any of NotifyWorker's keyword arguments (channels, policy, concurrency, ...)."""
    t = c.topics
    sessions = c.database("notify").sessions
    args: dict[str, Any] = {
        "channels": None, "policy": RetryPolicy(c.settings.notify_attempts, c.settings.notify_retry_base_s),
        "concurrency": c.settings.notify_concurrency, "decisions_topic": t.dead_letter_decisions,
        "metrics": metrics, **overrides}
    if args["channels"] is None:
        args["channels"] = channels(c)
    return NotifyWorker(c.log, [t.petition_events, t.sla_events, t.compensation_events], t.notice_events,
                        sessions, c.keyring, c.charters, c.calendar, Renderer(), args.pop("channels"),
                        Outbox(c.log, t.notice_events, sessions, NotifyOutboxRow, NOTIFY),
                        c.dead_letters("notify"), args.pop("clock", c.now), **args)


def notify_app(c: Container) -> FastAPI:
    from services.notify.api import create_app

    return create_app(c.database("notify").readers, c.database("access").readers)


# -- audit --------------------------------------------------------------------------------------------
def audit(c: Container) -> Audit:
    return Audit(c.log, c.topics, c.calendar, c.charters)


def audit_app(c: Container) -> FastAPI:
    from services.audit.app import create_app

    return create_app(audit(c), c.database("access").readers, c.settings.max_body_bytes)


def stored_head(c: Container):  # type: ignore[no-untyped-def]
    """Intake's command store, as the audit's chain check asks it: a case's last chain hash."""
    from services.intake.store.heads import last_chain_hash

    readers = c.database("intake").readers

    def lookup(case_id: str) -> str | None:
        with readers() as session:
            return last_chain_hash(session, case_id)
    return lookup
