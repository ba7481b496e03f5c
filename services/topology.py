"""The topology, declared once: every loop of every service, what it reads and what it writes.

`charterwatch up` runs every part; `charterwatch <service>` runs that service's parts (the service
names are the commands: intake, project, sla-monitor, compensation, notify, console, webhooks, and
`audit serve`);
`charterwatch topology` prints this table. Part of the composition root: it names concrete
services, which nothing below it does.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from services import wiring
from services.bootstrap import Container
from services.compensation.metrics import CompensationMetrics
from services.notify.metrics import NoticeMetrics
from services.platform.consumer import ConsumerMetrics
from services.platform.http.health import Health
from services.platform.outbox.publisher import Outbox, OutboxMetrics
from services.platform.supervisor import ChildProcess, HttpServer, Loop
from services.webhooks.metrics import WebhookMetrics


@dataclass
class Wiring:
    """What the parts of one process share: the container, one metrics registry, the outboxes, the HTTP apps,
    and its health (``health``: every app of the process serves it on /healthz, /readyz, /metrics)."""

    c: Container
    consumer_metrics: ConsumerMetrics
    outbox_metrics: OutboxMetrics
    monitor_metrics: Any
    http_port: dict[str, int] = field(default_factory=dict)
    _outboxes: dict[str, Outbox] = field(default_factory=dict)
    apps: dict[str, Any] = field(default_factory=dict)
    _senders: dict[str, Any] = field(default_factory=dict)
    health: Health | None = None
    _metrics: dict[type, Any] = field(default_factory=dict)

    @property
    def registry(self) -> CollectorRegistry:
        return self.consumer_metrics.registry

    def metrics(self, kind: type) -> Any:
        """One of a service's metrics objects per process (a part restarted does not register them again)."""
        if kind not in self._metrics:
            self._metrics[kind] = kind(self.registry)
        return self._metrics[kind]

    def compensation_outbox(self) -> Outbox:
        """One compensation outbox per process, shared by its worker, its API and its relay."""
        if "compensation" not in self._outboxes:
            self._outboxes["compensation"] = wiring.compensation_outbox(self.c, self.outbox_metrics,
                                                                        self.metrics(CompensationMetrics))
        return self._outboxes["compensation"]

    def findings_outbox(self) -> Outbox:
        """Compensation's findings outbox (strikes by official), shared by its worker and its relay."""
        if "findings" not in self._outboxes:
            self._outboxes["findings"] = wiring.findings_outbox(self.c, self.outbox_metrics)
        return self._outboxes["findings"]

    def webhooks_sender(self) -> Any:
        """One webhook sender per process: its worker and its API wake it when deliveries are due."""
        if "webhooks" not in self._senders:
            self._senders["webhooks"] = wiring.webhooks_sender(self.c, metrics=self.metrics(WebhookMetrics))
        return self._senders["webhooks"]

    def serve(self, app: Any, name: str, port: int) -> HttpServer:
        """An API of this process: it serves the process's health (its probes joined to the process's)."""
        if self.health is not None:
            self.health.add(app.state.health.probes)
            app.state.health = self.health
        return HttpServer(app, self.c.settings.host, self.http_port.get(name, port))


@dataclass(frozen=True)
class Part:
    name: str
    service: str
    reads: tuple[str, ...]  # Topics attribute names
    writes: tuple[str, ...]
    build: Callable[[Wiring], Loop]
    consumer: bool = False  # its status (parked, waiting cases) is reported by /readyz


def _intake_relay(w: Wiring) -> Loop:
    return w.apps["intake"].state.outbox  # type: ignore[no-any-return]


def _projection(w: Wiring) -> Loop:
    return wiring.petition_projection_runner(w.c, w.consumer_metrics)


def _monitor(w: Wiring) -> Loop:
    if w.c.settings.mode == "kafka":  # the faust worker, its own process
        return ChildProcess([sys.executable, "-m", "services.cli", "sla-monitor"])
    return wiring.monitor_loop(w.c, consumer_metrics=w.consumer_metrics, monitor_metrics=w.monitor_metrics)


def _compensation(w: Wiring) -> Loop:
    return wiring.compensation_consumer(w.c, w.compensation_outbox(), w.consumer_metrics, w.findings_outbox())


def _strike_counter(w: Wiring) -> Loop:
    return wiring.strike_counter(w.c, w.compensation_outbox(), w.consumer_metrics)


def _compensation_api(w: Wiring) -> Loop:
    return w.serve(wiring.compensation_app(w.c, w.compensation_outbox()), "compensation",
                   w.c.settings.compensation_port)


def _notify(w: Wiring) -> Loop:
    return wiring.notify_worker(w.c, w.consumer_metrics, outbox_metrics=w.outbox_metrics,
                                notice_metrics=w.metrics(NoticeMetrics))


def _notify_api(w: Wiring) -> Loop:
    return w.serve(wiring.notify_app(w.c), "notify", w.c.settings.notify_port)


def _audit_api(w: Wiring) -> Loop:
    return w.serve(wiring.audit_app(w.c), "audit", w.c.settings.audit_port)


def _console_projection(w: Wiring) -> Loop:
    return wiring.console_projection(w.c, w.consumer_metrics)


def _console_web(w: Wiring) -> Loop:
    return w.serve(wiring.console_app(w.c), "console", w.c.settings.console_port)


def _webhooks(w: Wiring) -> Loop:
    return wiring.webhooks_consumer(w.c, w.consumer_metrics, wake=w.webhooks_sender().wake)


def _webhooks_sender(w: Wiring) -> Loop:
    return w.webhooks_sender()  # type: ignore[no-any-return]


def _webhooks_api(w: Wiring) -> Loop:
    return w.serve(wiring.webhooks_app(w.c, wake=w.webhooks_sender().wake), "webhooks", w.c.settings.webhooks_port)


PARTS: tuple[Part, ...] = (
    Part("intake_relay", "intake", (), ("petition_events",), _intake_relay),
    Part("projection", "project", ("petition_events", "notice_events", "dead_letter_decisions"), ("dead_letter",), _projection,
         consumer=True),
    Part("sla_monitor", "sla-monitor", ("petition_events", "notice_events", "dead_letter_decisions"),
         ("sla_events", "dead_letter"), _monitor, consumer=True),
    Part("compensation_relay", "compensation", (), ("compensation_events",), lambda w: w.compensation_outbox()),
    Part("compensation", "compensation", ("petition_events", "sla_events", "dead_letter_decisions"),
         ("compensation_events", "finding_events", "dead_letter"), _compensation, consumer=True),
    Part("compensation_api", "compensation", (), ("compensation_events",), _compensation_api),
    # Strikes cross cases: the ledger publishes each, keyed by official, and the counter counts them there.
    Part("findings_relay", "compensation", (), ("finding_events",), lambda w: w.findings_outbox()),
    Part("strike_counter", "compensation", ("finding_events", "dead_letter_decisions"),
         ("compensation_events", "dead_letter"), _strike_counter, consumer=True),
    Part("notify", "notify", ("petition_events", "sla_events", "compensation_events", "dead_letter_decisions"),
         ("notice_events", "dead_letter"), _notify, consumer=True),
    Part("notify_api", "notify", (), (), _notify_api),
    Part("audit_api", "audit", ("petition_events", "sla_events", "compensation_events", "notice_events"), (),
         _audit_api),
    Part("console_projection", "console", ("petition_events", "sla_events", "compensation_events", "notice_events",
                                           "dead_letter_decisions"), ("dead_letter",), _console_projection,
         consumer=True),
    # The console's pages write through the compensation API, never to the log themselves.
    Part("console_web", "console", (), (), _console_web),
    # Webhooks: events into deliveries (the worker), posted to the agencies' URLs (the sender), and the API.
    Part("webhooks", "webhooks", ("petition_events", "sla_events", "compensation_events", "notice_events",
                                  "dead_letter_decisions"), ("dead_letter",), _webhooks, consumer=True),
    Part("webhooks_sender", "webhooks", (), (), _webhooks_sender),
    Part("webhooks_api", "webhooks", (), (), _webhooks_api),
)


def parts_of(service: str | None) -> list[Part]:
    return [p for p in PARTS if service is None or p.service == service]


# The intake API is the process's HTTP server itself (uvicorn in `up` and `charterwatch intake`), not a
# supervised part; it is listed with the others.
INTAKE_API = Part("intake_api", "intake", (), ("petition_events",), lambda w: w.apps["intake"])
# Whose database each service's parts use (the `project` command runs intake's projection).
DATABASE = {"intake": "intake", "project": "intake", "sla-monitor": "sla_monitor", "compensation": "compensation",
            "notify": "notify", "audit": None, "console": "console", "webhooks": "webhooks"}


def process(c: Container, service: str | None, http_port: dict[str, int] | None = None) -> Wiring:
    """What the parts of one process share: ``service`` None is `up` (every part in one process).

    One registry and one health per process. Intake's API is the process's server under `up` and
    `charterwatch intake`: its registry and health are the process's. Any other service starts its own."""
    from services.platform.http.health import Health
    from services.sla_monitor.metrics import MonitorMetrics

    if service in (None, "intake"):
        api = wiring.intake_app(c)
        registry = api.state.metrics.registry
        return Wiring(c, ConsumerMetrics(registry), api.state.outbox.metrics,
                      MonitorMetrics(registry if service is None else None), http_port=http_port or {},
                      apps={"intake": api}, health=api.state.health)
    registry = CollectorRegistry()
    database = DATABASE[service]
    health = Health(registry, wiring.probes(c, *([database] if database else [])))
    # the monitor's metrics only where it runs: no empty series elsewhere
    return Wiring(c, ConsumerMetrics(registry), OutboxMetrics(registry),
                  MonitorMetrics(registry if service == "sla-monitor" else None), http_port=http_port or {},
                  health=health)


def describe(c: Container) -> list[str]:
    """One line per part: its service, what it reads and writes, and the database it keeps its state in."""
    t = c.topics
    out = []
    for p in (INTAKE_API, *PARTS):
        db = DATABASE[p.service]
        where = "the log only" if db is None else (
            "the faust table's changelog" if p.name == "sla_monitor" and c.settings.mode == "kafka"
            else f"{db} tables in {_where(c, db)}")
        out.append(f"{p.service:<13} {p.name:<19} reads {', '.join(getattr(t, r) for r in p.reads) or '-'}; "
                   f"writes {', '.join(getattr(t, w) for w in p.writes) or '-'}; state: {where}")
    out.append(f"{'(every API)':<13} {'api keys':<19} access tables in {_where(c, 'access')}")
    return out


def _where(c: Container, service: str) -> str:
    url, schema = c.settings.database_for(service)
    shown = c.database(service).engine.url.render_as_string(hide_password=True) if url else "-"
    return shown + (f" (schema {schema})" if schema else "")
