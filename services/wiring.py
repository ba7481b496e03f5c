"""The composition root's builders: each service assembled from the container, given only what it
uses (its own database, the log, the clock, the calendar, the charters, its channels). Services never
see the container; ``services.topology`` runs what these build, and tests build through them too.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from services.audit.deps import Audit
from services.bootstrap import Container
from services.compensation.api.deps import Compensation
from services.compensation.ledger.book import Ledger
from services.compensation.metrics import CompensationMetrics
from services.console.clients import AgencyKeys, AuditClient, CompensationClient
from services.console.web.deps import Console
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
from services.platform.http.health import (
    Health,
    Probe,
    database_probe,
    install,
    log_probe,
)
from services.platform.outbox.publisher import Outbox, OutboxMetrics
from services.platform.vault.case_keys import CaseKeys
from services.sla_monitor.metrics import MonitorMetrics
from services.sla_monitor.runner import MonitorLoop
from shared.notices.render import Renderer


# -- intake ----------------------------------------------------------------------------------------
def case_keys(c: Container) -> CaseKeys:
    """Each case's data key, in the vault's database, wrapped by the keyring: what applicant data is
    sealed and opened with, everywhere."""
    vault = c.database("vault")
    return CaseKeys(vault.sessions, vault.readers, c.keyring, c.now)


def rules(c: Container) -> Rules:
    return Rules(c.now, c.calendar, c.charters, case_keys(c), c.applicant_ref_key)


def intake(c: Container, metrics: IntakeMetrics | None = None) -> Intake:
    metrics = metrics or IntakeMetrics()
    db = c.database("intake")
    outbox = Outbox(c.log, c.topics.petition_events, db.sessions, IntakeOutboxRow, "intake",
                    metrics=OutboxMetrics(metrics.registry))
    keys = case_keys(c)
    return Intake(Rules(c.now, c.calendar, c.charters, keys, c.applicant_ref_key), db, c.log, c.topics.petition_events,
                  outbox, metrics, timedelta(days=c.settings.duplicate_window_days), keys.prepare, keys.prepare_many)


def intake_app(c: Container) -> FastAPI:
    from services.intake.api.app import create_app

    return create_app(intake(c), c.database("access").readers, c.settings.max_body_bytes)


def petition_projection(c: Container) -> PetitionProjection:
    return PetitionProjection(c.calendar, c.charters, timedelta(days=c.settings.duplicate_window_days))


def shared(consumer: Consumer, c: Container, service: str) -> Consumer:
    """The consumer as one worker of the service's consumer group (Kafka): workers share its partitions."""
    consumer.group = c.topics.group(service)
    return consumer


def petition_projection_runner(c: Container, metrics: ConsumerMetrics | None = None) -> ProjectionRunner:
    t = c.topics
    runner = ProjectionRunner(c.log, t.petition_events, c.database("intake").sessions, petition_projection(c),
                              t.dead_letter, t.dead_letter_decisions, metrics=metrics, notice_topic=t.notice_events)
    shared(runner.consumer, c, "projection")
    return runner


# -- the SLA monitor (embedded) ---------------------------------------------------------------------
def monitor_loop(c: Container, registry: CollectorRegistry | None = None,
                 consumer_metrics: ConsumerMetrics | None = None,
                 monitor_metrics: MonitorMetrics | None = None) -> MonitorLoop:
    """``registry``: where to publish the monitor's metrics, unless ``monitor_metrics`` are given."""
    return MonitorLoop(c.log, c.topics, c.dead_letters("sla_monitor"), c.calendar, c.charters, c.now,
                       metrics=monitor_metrics or MonitorMetrics(registry),
                       sessions=c.database("sla_monitor").sessions, consumer_metrics=consumer_metrics)


# -- every HTTP API: /healthz, /readyz, /metrics (services.platform.http.health) ---------------------
def probes(c: Container, *databases: str) -> list[Probe]:
    """What a part of ``c`` cannot work without: its databases (by service) and the log."""
    return [*(database_probe(f"database:{d}", c.database(d).engine) for d in databases),
            log_probe(c.log, c.topics.petition_events)]


def _served(app: FastAPI, c: Container, *databases: str) -> FastAPI:
    """The app with the three paths; its process replaces ``app.state.health`` with its own."""
    return install(app, Health(probes=probes(c, *databases, "access")))


# -- compensation -------------------------------------------------------------------------------------
def compensation_outbox(c: Container, metrics: OutboxMetrics | None = None,
                        remedies: CompensationMetrics | None = None) -> Outbox:
    """``remedies``: counts the remedies the outbox puts on the log (one per process's registry)."""
    from services.compensation.schema import OutboxRow

    return Outbox(c.log, c.topics.compensation_events, c.database("compensation").sessions, OutboxRow,
                  "compensation", metrics=metrics, on_published=(remedies or CompensationMetrics()).published)


def findings_outbox(c: Container, metrics: OutboxMetrics | None = None) -> Outbox:
    """Compensation's second outbox: strikes and their withdrawals for the findings topic, keyed by official."""
    from services.compensation.schema import FindingOutboxRow

    return Outbox(c.log, c.topics.finding_events, c.database("compensation").sessions, FindingOutboxRow,
                  "compensation_findings", metrics=metrics)


def compensation(c: Container, outbox: Outbox | None = None) -> Compensation:
    return Compensation(c.database("compensation"), Ledger(c.charters, c.calendar),
                        outbox or compensation_outbox(c), c.now)


def compensation_consumer(c: Container, outbox: Outbox | None = None,
                          metrics: ConsumerMetrics | None = None, findings: Outbox | None = None) -> Consumer:
    from services.compensation import worker

    return shared(worker.consumer(c.log, c.topics, c.database("compensation").sessions, Ledger(c.charters, c.calendar),
                                  outbox or compensation_outbox(c), c.now, metrics, findings or findings_outbox(c)),
                  c, "compensation")


def strike_counter(c: Container, outbox: Outbox | None = None, metrics: ConsumerMetrics | None = None) -> Consumer:
    """Compensation's strike counter: the findings topic (by official) into referrals, in its database."""
    from services.compensation.strikes import counter

    return shared(counter.consumer(c.log, c.topics, c.database("compensation").sessions, c.charters,
                                   outbox or compensation_outbox(c), c.now, metrics), c, "strike-counter")


def compensation_app(c: Container, outbox: Outbox | None = None) -> FastAPI:
    from services.compensation.api.app import create_app

    return _served(create_app(compensation(c, outbox), c.database("access").readers, c.settings.max_body_bytes),
                   c, "compensation")


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
        out["email"] = FileChannel(outgoing(c, "email"))
        log.warning("channel_not_configured", channel="email", writes_to=str(outgoing(c, "email")))
    if s.sms_gateway_url:
        out["sms"] = SmsGateway(s.sms_gateway_url, s.sms_api_key or "", s.sms_user_id, s.sms_sender)
    else:
        out["sms"] = FileChannel(outgoing(c, "sms"))
        log.warning("channel_not_configured", channel="sms", writes_to=str(outgoing(c, "sms")))
    return out


def outgoing(c: Container, channel: str) -> Path:
    """Where a channel with no provider configured writes its messages instead of sending them."""
    return c.settings.data_dir / "outgoing" / channel


def outgoing_files_forgetter(c: Container):  # type: ignore[no-untyped-def]
    """What erasure removes of a case's notices outside notify's database: the files the stand-in
    channels wrote (they hold the recipient and the text)."""
    roots = [outgoing(c, channel) for channel in ("email", "sms")]

    def forget(notice_ids: list[str]) -> None:
        for root in roots:
            for notice_id in notice_ids:
                (root / f"{notice_id}.json").unlink(missing_ok=True)
    return forget


def notify_worker(c: Container, metrics: ConsumerMetrics | None = None, **overrides: Any) -> NotifyWorker:
    """``overrides``: any of NotifyWorker's keyword arguments (channels, policy, concurrency, notice_metrics,
    ...), and ``outbox_metrics`` for its outbox."""
    t = c.topics
    sessions = c.database("notify").sessions
    args: dict[str, Any] = {
        "channels": None, "policy": RetryPolicy(c.settings.notify_attempts, c.settings.notify_retry_base_s),
        "concurrency": c.settings.notify_concurrency, "decisions_topic": t.dead_letter_decisions,
        "metrics": metrics, "forget": outgoing_files_forgetter(c), **overrides}
    if args["channels"] is None:
        args["channels"] = channels(c)
    worker = NotifyWorker(c.log, [t.petition_events, t.sla_events, t.compensation_events], t.notice_events,
                          sessions, case_keys(c), c.charters, c.calendar, Renderer(), args.pop("channels"),
                          Outbox(c.log, t.notice_events, sessions, NotifyOutboxRow, NOTIFY,
                                 metrics=args.pop("outbox_metrics", None)),
                          c.dead_letters("notify"), args.pop("clock", c.now), **args)
    shared(worker.consumer, c, "notify")
    return worker


def notify_app(c: Container) -> FastAPI:
    from services.notify.api import create_app

    return _served(create_app(c.database("notify").readers, c.database("access").readers), c, "notify")


# -- audit --------------------------------------------------------------------------------------------
def audit(c: Container) -> Audit:
    return Audit(c.log, c.topics, c.calendar, c.charters, c.now)


def audit_app(c: Container) -> FastAPI:
    from services.audit.app import create_app

    return _served(create_app(audit(c), c.database("access").readers, c.settings.max_body_bytes), c)


def stored_head(c: Container):  # type: ignore[no-untyped-def]
    """Intake's command store, as the audit's chain check asks it: a case's last chain hash."""
    from services.intake.store.heads import last_chain_hash

    readers = c.database("intake").readers

    def lookup(case_id: str) -> str | None:
        with readers() as session:
            return last_chain_hash(session, case_id)
    return lookup


# -- the officials' console: its web application (its projection: console_projection, below) ----------
def console(c: Container) -> Console:
    """The console's dependencies: its own database, the clock, and clients of the compensation and audit
    APIs that call as the signed-in user's agency with keys the console issues itself (in the access
    module's database)."""
    s = c.settings
    keys = AgencyKeys(c.database("access").sessions, c.now)
    return Console(
        db=c.database("console"), clock=c.now, keys=keys,
        compensation=CompensationClient(keys, s.console_compensation_url or f"http://127.0.0.1:{s.compensation_port}"),
        audit=AuditClient(keys, s.console_audit_url or f"http://127.0.0.1:{s.audit_port}"),
        secure_cookies=s.console_secure_cookies, max_body_bytes=s.max_body_bytes)


def console_app(c: Container, deps: Console | None = None) -> FastAPI:
    """The console's web application. ``deps``: a ready ``Console`` (tests give clients bound to the
    other services' in-process apps); built from the container otherwise."""
    from services.console.web.app import create_app

    return _served(create_app(deps or console(c), routers=console_routers(c)), c, "console")


def console_routers(c: Container) -> list[APIRouter]:
    """The console's pages and APIs built on its foundation (issue 18: the pages, the statistics API).
    Each is an APIRouter whose routes depend on ``services.console.web.security.current_user``."""
    from services.console.api import Stats, stats_router
    from services.console.web.pages import cases, overdue, queue, remedies
    from services.console.web.pages.compliance import compliance_router
    from services.console.web.pages.reports import reports_router
    from services.console.web.pages.satisfaction import satisfaction_router

    routers: list[APIRouter] = []
    # the daily work: 작업 목록, 기한 경과 검토, 민원 상세, 보상
    routers += [queue.router(c.calendar), overdue.router(c.calendar), cases.router(c.calendar), remedies.router()]
    # statistics pages: 처리 현황, 만족도, 연간 보고서
    routers += [compliance_router(c.calendar), satisfaction_router(c.calendar), reports_router(c.calendar, c.charters)]
    # the same statistics as JSON and CSV, with the agency's API key (GET /v1/stats/...)
    routers.append(stats_router(Stats(c.database("console").readers, c.calendar, c.charters, c.now),
                                c.database("access").readers))
    return routers


# -- personal data over its lifetime ------------------------------------------------------------------
def erase_personal_data(c: Container, case_id: str, reason: str) -> bool:
    """Crypto-shred one case (개인정보 보호법 Art. 21): its data key is destroyed in the vault, so every
    sealed copy (the log, intake's read model, notify's deliveries, dead letters) is unreadable, and
    ``PersonalDataErased`` is recorded on the case so each service drops what it kept (notify: the inbox
    messages and the files its stand-in channels wrote). The case's deadlines, breaches and remedies
    stay, and the audit still replays them. False if the case was erased before; LookupError if there is
    no such case."""
    from services.intake.commands import load_case, record_fact
    from shared.events.petition import PersonalDataErased

    intake_deps = intake(c)
    with intake_deps.db.sessions() as session:
        state, _, _ = load_case(session, case_id)
    if not state.exists:
        raise LookupError(f"no petition {case_id}")
    case_keys(c).erase(case_id, reason)  # first: if recording the fact fails, the data is gone already
    if state.personal_data_erased:
        return False
    with intake_deps.db.sessions() as session:
        record_fact(session, intake_deps.rules, case_id, PersonalDataErased(reason=reason), c.now(),
                    state.agency_id, None)
        session.commit()
    intake_deps.outbox.publish_soon()  # the relay sends it if the log is down now
    return True


def cases_closed_before(c: Container, before: datetime) -> list[str]:
    """The retention rule: cases closed before ``before`` (from intake's read model), not yet erased."""
    from sqlalchemy import select

    from services.intake.readmodel.orm import PetitionRow

    with c.database("intake").readers() as session:
        rows = session.execute(select(PetitionRow.case_id, PetitionRow.applicant_sealed)
                               .where(PetitionRow.closed_at.is_not(None), PetitionRow.closed_at < before)
                               .order_by(PetitionRow.closed_at, PetitionRow.case_id)).all()
    return [case_id for case_id, sealed in rows if sealed]


# -- the console ------------------------------------------------------------------------------------
def console_projection(c: Container, metrics: ConsumerMetrics | None = None) -> Consumer:
    """The console's read model (cases, obligations, notices, vouchers, remedies) from every topic."""
    from services.console.projection.runner import projection_consumer

    return shared(projection_consumer(c.log, c.topics, c.database("console").sessions, c.calendar, c.charters,
                                      c.now, metrics), c, "console")


# -- webhooks: each event of an agency's cases pushed to its subscribed URLs (docs/webhooks.md) ----------
def webhooks_sender(c: Container, **overrides: Any):  # type: ignore[no-untyped-def]
    """The sender loop. ``overrides``: any of Sender's fields (resolver, wall, policy, poll_s, ...)."""
    from services.webhooks.sender import Policy, Sender

    s = c.settings
    args: dict[str, Any] = {
        "allow_private": s.webhooks_allow_private_targets, "concurrency": s.webhooks_concurrency,
        "policy": Policy(retry_window=timedelta(hours=s.webhooks_retry_hours),
                         disable_after=timedelta(days=s.webhooks_disable_after_days), timeout_s=s.webhooks_timeout_s),
        **overrides}
    return Sender(c.database("webhooks").sessions, c.keyring, c.now, **args)


def webhooks_consumer(c: Container, metrics: ConsumerMetrics | None = None, wake=lambda: None) -> Consumer:  # type: ignore[no-untyped-def]
    """The worker that turns each event into deliveries; ``wake``: the sender's (new deliveries are due now)."""
    from services.webhooks import worker

    return shared(worker.consumer(c.log, c.topics, c.database("webhooks").sessions, c.now, metrics,
                                  after_commit=wake), c, "webhooks")


def webhooks_app(c: Container, wake=lambda: None, **overrides: Any) -> FastAPI:  # type: ignore[no-untyped-def]
    """The subscriptions API. Secrets are sealed with the platform keyring (they must be usable to sign).
    ``overrides``: any of Webhooks' fields (allow_private, resolver, max_subscriptions)."""
    from services.webhooks.api.app import create_app
    from services.webhooks.api.deps import Webhooks

    args: dict[str, Any] = {"allow_private": c.settings.webhooks_allow_private_targets, **overrides}
    deps = Webhooks(c.database("webhooks"), c.keyring, c.now, wake=wake, **args)
    return _served(create_app(deps, c.database("access").readers, c.settings.max_body_bytes), c, "webhooks")
