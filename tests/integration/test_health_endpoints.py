"""Every service process serves /healthz, /readyz and /metrics (docs/alerts.md, "What is scraped").

Each `charterwatch <service>` runs as a real process (embedded mode; the faust SLA worker and the
compensation service on real Kafka too) and is asked the three paths on its HTTP port, or on
CHARTERWATCH_METRICS_PORT for the processes without an API. Readiness is 503 problem+json while the log
or a supervised loop is down; `up` serves one registry on every API of its process.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from services import wiring
from services.platform.http.health import Health, Probe, install, metrics_app
from services.platform.log.kafka import KafkaLog
from services.platform.supervisor import Supervisor
from services.topology import PARTS, parts_of, process
from tests.e2e.harness import free_port
from tests.integration.conftest import TEST_KEYS, make_container

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Command:
    argv: list[str]
    port_setting: str  # the setting its three paths are served on
    metrics: list[str]  # lines (or their beginnings) its /metrics must hold


# Each service's own figures: what its parts register in the process's registry.
COMMANDS = {
    "intake": Command(["intake"], "CHARTERWATCH_PORT",
                      ["# TYPE charterwatch_http_request_seconds histogram",
                       'charterwatch_outbox_oldest_age_seconds{producer="intake"}']),
    "compensation": Command(["compensation"], "CHARTERWATCH_COMPENSATION_PORT",
                            ['charterwatch_outbox_unpublished{producer="compensation"}',
                             'charterwatch_remedies_total{kind="apology"} 0.0',
                             'charterwatch_consumer_lag{consumer="compensation"}']),
    "notify": Command(["notify"], "CHARTERWATCH_NOTIFY_PORT",
                      ['charterwatch_outbox_unpublished{producer="notify"}', "# TYPE charterwatch_notices_total counter",
                       'charterwatch_consumer_lag{consumer="notify"}']),
    "audit": Command(["audit", "serve"], "CHARTERWATCH_AUDIT_PORT", ["# TYPE charterwatch_consumer_lag gauge"]),
    "console": Command(["console"], "CHARTERWATCH_CONSOLE_PORT", ['charterwatch_consumer_lag{consumer="console']),
    "webhooks": Command(["webhooks"], "CHARTERWATCH_WEBHOOKS_PORT",
                        ["charterwatch_webhook_subscriptions_disabled_total 0.0",
                         "# TYPE charterwatch_webhook_deliveries_total counter",
                         'charterwatch_consumer_lag{consumer="webhooks"}']),
    "project": Command(["project"], "CHARTERWATCH_METRICS_PORT", ["charterwatch_consumer_lag{consumer="]),
    "sla-monitor": Command(["sla-monitor"], "CHARTERWATCH_METRICS_PORT",
                           ["charterwatch_breach_detection_delay_seconds_count 0.0",
                            'charterwatch_consumer_lag{consumer="sla_monitor"}']),
}


class Running:
    def __init__(self, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        command = COMMANDS[name]
        (workdir / "var").mkdir(parents=True, exist_ok=True)
        self.output = workdir / f"{name}.out"
        self._out = self.output.open("wb")
        full = {k: v for k, v in os.environ.items() if not k.startswith("CHARTERWATCH_")}
        full.update({"CHARTERWATCH_DATA_DIR": str(workdir / "var"), "CHARTERWATCH_PII_KEYS": TEST_KEYS,
                     "CHARTERWATCH_HOST": "127.0.0.1", "CHARTERWATCH_METRICS_PORT": "0",
                     "PYTHONPATH": str(ROOT), **env, command.port_setting: str(self.port)})
        self.proc = subprocess.Popen([sys.executable, "-m", "services.cli", *command.argv], cwd=workdir, env=full,
                                     stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str) -> httpx.Response | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.text()[-3000:]}")
        try:
            return self.http.get(path)
        except httpx.TransportError:
            return None

    def wait(self, path: str, ok, what: str, timeout: float = 120) -> httpx.Response:  # type: ignore[no-untyped-def]
        """Polls until ``ok(response)``: waiting for the process, not a timing assertion."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.get(path)
            if last is not None and ok(last):
                return last
            time.sleep(0.3)
        body = last.text[-2000:] if last is not None else "no answer"
        raise AssertionError(f"{self.name}: timed out waiting for {what}; last {path}: {body}\n{self.text()[-3000:]}")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM to the process alone, as Kubernetes sends it: its exit code once it has stopped."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running {timeout} s after SIGTERM:\n{self.text()[-3000:]}")

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._out.close()


def check_three_paths(service: Running) -> None:
    health = service.wait("/healthz", lambda r: r.status_code == 200, "/healthz")
    assert health.json() == {"status": "ok"}
    ready = service.wait("/readyz", lambda r: r.status_code == 200, "/readyz to be 200")
    body = ready.json()
    assert body["status"] == "ready" and all(loop["up"] for loop in body["loops"].values()), body
    expected = COMMANDS[service.name].metrics
    metrics = service.wait("/metrics", lambda r: all(line in r.text for line in expected),
                           f"/metrics to hold {expected}")
    assert metrics.headers["content-type"].startswith("text/plain")


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Running]]:
    running: list[Running] = []
    yield running
    for service in running:
        service.stop()


def test_every_service_process_serves_healthz_readyz_and_metrics(tmp_path: Path, started: list[Running]) -> None:
    """Embedded mode, each service in its own process and data directory, all started at once."""
    started.extend(Running(name, tmp_path / name, {"CHARTERWATCH_MODE": "embedded"}) for name in COMMANDS)
    for service in started:
        check_three_paths(service)
    # Stopped as a pod is: SIGTERM ends each one cleanly (exit 0, its loops stopped), not at the signal's default.
    codes = {service.name: service.terminate() for service in started}
    assert codes == {name: 0 for name in COMMANDS}, {n: (c, s.text()[-1500:]) for (n, c), s in zip(codes.items(), started) if c}


@pytest.mark.kafka
def test_the_faust_worker_and_a_kafka_service_serve_the_three_paths(
        tmp_path: Path, started: list[Running], kafka_bootstrap: str, topic_prefix: str) -> None:
    env = {"CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CHARTERWATCH_TOPIC_PREFIX": topic_prefix}
    faust = Running("sla-monitor", tmp_path / "faust", env)
    started.append(faust)
    started.append(Running("compensation", tmp_path / "compensation", env))
    COMMANDS_FAUST = ["charterwatch_breach_detection_delay_seconds_count 0.0", "charterwatch_obligations_open"]
    check_three_paths(started[1])
    faust.wait("/healthz", lambda r: r.status_code == 200, "/healthz")
    faust.wait("/readyz", lambda r: r.status_code == 200 and r.json()["status"] == "ready", "/readyz")
    faust.wait("/metrics", lambda r: all(line in r.text for line in COMMANDS_FAUST), "the monitor's metrics")


# -- readiness: what makes a process not ready ----------------------------------------------------------------
def test_readyz_is_503_problem_json_while_the_log_does_not_answer(tmp_path: Path) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'readmodel.db'}",
                       log=KafkaLog("127.0.0.1:1", timeout_s=1), create_topics=False)
    try:
        for app in (wiring.compensation_app(c), wiring.notify_app(c), wiring.audit_app(c), wiring.console_app(c),
                    wiring.webhooks_app(c), wiring.intake_app(c)):
            http = TestClient(app)
            assert http.get("/healthz").status_code == 200  # alive: a peer down never restarts it
            ready = http.get("/readyz")
            assert ready.status_code == 503, (app.title, ready.text)
            assert ready.headers["content-type"] == "application/problem+json"
            assert ready.headers["retry-after"] == "5"
            problem = ready.json()
            assert problem["type"] == "/problems/unavailable" and problem["status"] == 503
            assert "log (" in problem["detail"] and "database" not in problem["detail"], problem
    finally:
        c.close()


def test_readyz_is_503_while_a_supervised_loop_is_down_and_200_once_it_runs_again() -> None:
    class Flaky:
        def __init__(self) -> None:
            self.fail = True
            self.stopping = False

        def run(self) -> None:
            if self.fail:
                raise ConnectionError("database went away")
            while not self.stopping:
                time.sleep(0.05)

        def stop(self) -> None:
            self.stopping = True

    loop = Flaky()
    supervisor = Supervisor(first_backoff=0.2)
    supervisor.start("compensation", loop)
    health = Health(loops=supervisor.status)
    http = TestClient(install(metrics_app(health), health))
    try:
        deadline = time.monotonic() + 30
        while supervisor.loops[0].restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        loop.fail = False  # fixed; the restart after the backoff runs
        down = http.get("/readyz")
        if down.status_code == 503:  # caught while it waits for its restart
            assert "loop compensation (ConnectionError)" in down.json()["detail"]
        while not supervisor.loops[0].up and time.monotonic() < deadline:
            time.sleep(0.05)
        ready = http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["loops"]["compensation"]["restarts"] == 1
    finally:
        supervisor.join(5)


def test_a_loop_that_is_down_makes_the_process_not_ready() -> None:
    health = Health(probes=[Probe("database:notify", lambda: None)],
                    loops=lambda: {"notify": {"up": False, "restarts": 3, "last_error": "OperationalError: gone"},
                                   "notify_api": {"up": True, "restarts": 0, "last_error": None}})
    ready = TestClient(metrics_app(health)).get("/readyz")
    assert ready.status_code == 503 and ready.json()["detail"] == "not ready: loop notify (OperationalError)"
    health.loops = lambda: {"notify": {"up": True, "restarts": 3, "last_error": "OperationalError: gone"}}
    assert TestClient(metrics_app(health)).get("/readyz").status_code == 200


def test_up_serves_one_registry_with_every_part_on_every_api(tmp_path: Path) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'readmodel.db'}")
    try:
        w = process(c, None)
        apps = [w.apps["intake"]]
        for part in PARTS:
            built = part.build(w)
            server = getattr(built, "server", None)
            if server is not None:
                apps.append(server.config.app)
        assert len(apps) == 6  # intake, compensation, notify, audit, console, webhooks
        texts = [TestClient(app).get("/metrics").text for app in apps]
        types = [{line for line in text.splitlines() if line.startswith("# TYPE") and "_created " not in line}
                 for text in texts]
        assert all(t == types[0] for t in types)  # the same metrics on every port
        assert {id(app.state.health.registry) for app in apps} == {id(w.registry)}
        for name in ("charterwatch_http_request_seconds", "charterwatch_consumer_lag", "charterwatch_notices_total",
                     "charterwatch_webhook_deliveries_total", "charterwatch_remedies_total",
                     "charterwatch_breach_detection_delay_seconds", "charterwatch_outbox_oldest_age_seconds"):
            assert f"# TYPE {name} " in texts[2], name
        assert 'charterwatch_outbox_unpublished{producer="notify"}' in texts[0]  # notify's outbox, on intake's port
    finally:
        c.close()


def test_a_service_process_registers_only_its_own_parts(tmp_path: Path) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'readmodel.db'}")
    try:
        w = process(c, "notify")
        for part in parts_of("notify"):
            part.build(w)
        names = {family.name for family in w.registry.collect()}
        assert "charterwatch_notices" in names and "charterwatch_breach_detection_delay_seconds" not in names
        assert "charterwatch_webhook_deliveries" not in names
    finally:
        c.close()
