"""The chaos run: every service its own process on real Kafka and PostgreSQL, killed at random moments.

A driver files petitions through the HTTP API with Idempotency-Keys and retries (as a careful
integrator does), resolves half of them in time, moves the drill clock so the other half fall due,
then resolves those late. Meanwhile every service is ``kill -9``-ed at random and restarted, and
the broker is restarted once. What reached the outside world is recorded by a real SMTP server
and an SMS gateway that, unlike a kind one, does not deduplicate by reference.

Every figure is then checked from the topics, the recorded deliveries and the audit, against
expectations computed here from the scenario alone (not from what the system says it did):

- lost: commands answered 201 whose event is not on the log; or petitions on the log nobody filed;
- missing: breaches, vouchers or notices owed and not there;
- duplicates: a second breach or voucher for one cause, or a notice delivered twice;
- unowed: a breach, voucher or notice the scenario does not owe;
- replay: ``charterwatch audit replay --all`` and ``audit verify`` agree with the log.
"""
from __future__ import annotations

import email
import email.policy
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from shared.instants import KST

ROOT = Path(__file__).resolve().parents[2]
PII_KEYS = "chaos1:" + "Y2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtMTI="  # 32 bytes, base64
SERVICES = ("intake", "project", "sla-monitor", "compensation", "notify")
RECEIVED = datetime(2026, 11, 2, 10, 0, tzinfo=KST)  # Mon; a 7-day grievance is due 11-10 18:00 (Act 19-2)
DEADLINE = datetime(2026, 11, 10, 18, 0, tzinfo=KST)
IN_TIME = datetime(2026, 11, 5, 15, 0, tzinfo=KST)
LATE = datetime(2026, 11, 12, 9, 0, tzinfo=KST)
SUBJECTS = {"민원 접수 안내": "receipt", "민원 처리 완료 안내": "completion", "민원 처리 사과 및 보상 안내": "apology"}
OFFICIAL = {"official_id": "o-1", "name": "박주무관", "department": "도로과", "phone": "041-350-1234",
            "email": "park@dangjin.go.kr"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the outside world: a recording SMTP server and a forgetful SMS gateway ------------------------
class Mailbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({"to": str(msg["To"]), "subject": str(msg["Subject"]),
                                  "id": str(msg["Message-ID"])})
        return "250 OK"


class ForgetfulGateway:
    """Speaks the SMS gateway contract and delivers every request it accepts, the same reference twice too."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                form = {k: v[0] for k, v in urllib.parse.parse_qs(
                    self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
                with gateway.lock:
                    gateway.requests.append(form)
                data = json.dumps({"result_code": "1", "message": "success", "msg_id": str(uuid.uuid4())}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


# -- the services, each its own process ------------------------------------------------------------
class Service:
    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.env = env
        self.out = (workdir / f"{name}.log").open("ab")
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.exits = 0  # ended by itself (a worker that gives up exits for its supervisor to restart it)
        self.lock = threading.Lock()
        self.held_down = False  # killed on purpose: the chaos restarts it, not the supervisor

    def revive(self) -> None:
        """What a process supervisor does: start again a process that ended by itself."""
        with self.lock:
            if self.held_down or self.proc is None or self.proc.poll() is None:
                return
            self.exits += 1
            self._start()

    def start(self) -> None:
        with self.lock:
            self.held_down = False
            self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "services.cli", self.name], env=self.env, cwd=ROOT,
                                     stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        with self.lock:
            self.held_down = True
            if self.proc is not None and self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                self.kills += 1

    def stop(self) -> None:
        with self.lock:
            self.held_down = True
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()


@dataclass
class Result:
    cases: int
    kills: int
    broker_restarts: int
    lost: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    unowed: dict[str, int] = field(default_factory=dict)
    kills_by_service: dict[str, int] = field(default_factory=dict)
    replay_ok: bool = False
    verify_ok: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(sum(d.values()) for d in (self.lost, self.missing, self.duplicates, self.unowed)) \
            and self.replay_ok and self.verify_ok

    def line(self) -> str:
        replay = "ok" if self.replay_ok and self.verify_ok else "FAIL"
        return (f"{self.cases} cases, {self.kills} kills, {self.broker_restarts} broker restarts — "
                f"lost {sum(self.lost.values())}, missing {sum(self.missing.values())}, "
                f"duplicates {sum(self.duplicates.values())}, unowed {sum(self.unowed.values())}, replay {replay}")

    def detail(self) -> dict[str, Any]:
        return {"kills_by_service": self.kills_by_service, "lost": self.lost, "missing": self.missing, "duplicates": self.duplicates, "unowed": self.unowed,
                "replay_ok": self.replay_ok, "verify_ok": self.verify_ok, "seconds": round(self.seconds, 1),
                "notes": self.notes}


class Chaos:
    def __init__(self, workdir: Path, kafka_bootstrap: str, database_url: str, cases: int, kills: int,
                 broker_restart: bool, seed: int = 7, writers: int = 4, log: Any = print) -> None:
        self.workdir = workdir
        self.kafka_bootstrap = kafka_bootstrap
        self.database_url = database_url
        self.n = cases
        self.kill_budget = kills
        self.broker_restart = broker_restart
        self.rng = random.Random(seed)
        self.writers = writers
        self.say = log
        self.prefix = f"chaos{uuid.uuid4().hex[:8]}."
        self.clock = workdir / "clock"
        self.ports = {"intake": free_port(), "compensation": free_port(), "notify": free_port(),
                      "console": free_port(), "webhooks": free_port()}
        self.acked: dict[str, dict[str, str]] = {}  # idempotency key -> the 201 answer
        self.acked_lock = threading.Lock()
        self.broker_restarts = 0
        self.stopping = threading.Event()

    # -- setup ---------------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {**os.environ, "CHARTERWATCH_MODE": "kafka", "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "CHARTERWATCH_TOPIC_PREFIX": self.prefix, "CHARTERWATCH_DATABASE_URL": self.database_url,
                "CHARTERWATCH_DATA_DIR": str(self.workdir / "var"), "CHARTERWATCH_CLOCK_FILE": str(self.clock),
                "CHARTERWATCH_PII_KEYS": PII_KEYS, "CHARTERWATCH_PORT": str(self.ports["intake"]),
                "CHARTERWATCH_COMPENSATION_PORT": str(self.ports["compensation"]),
                "CHARTERWATCH_NOTIFY_PORT": str(self.ports["notify"]), "CHARTERWATCH_SMTP_HOST": "127.0.0.1",
                "CHARTERWATCH_CONSOLE_PORT": str(self.ports["console"]),
                "CHARTERWATCH_WEBHOOKS_PORT": str(self.ports["webhooks"]),
                "CHARTERWATCH_SMTP_PORT": str(self.smtp_port), "CHARTERWATCH_SMS_GATEWAY_URL": self.gateway.url,
                "CHARTERWATCH_SMS_API_KEY": "k", "CHARTERWATCH_NOTIFY_RETRY_BASE_S": "0.2",
                "CHARTERWATCH_MONITOR_SESSION_TIMEOUT_S": "8", "CHARTERWATCH_APPEND_TIMEOUT_S": "5",
                "CHARTERWATCH_LOG_LEVEL": "warning"}

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services.cli", *args], env=self.env(), cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)

    def set_clock(self, at: datetime) -> None:
        tmp = self.clock.with_suffix(".tmp")
        tmp.write_text(at.isoformat())
        tmp.replace(self.clock)  # atomic: a reader never sees it empty

    # -- the run ---------------------------------------------------------------------------------------
    def run(self) -> Result:
        from aiosmtpd.controller import Controller

        started = time.monotonic()
        self.box = Mailbox()
        self.smtp_port = free_port()
        controller = Controller(self.box, hostname="127.0.0.1", port=self.smtp_port)
        controller.start()
        self.gateway = ForgetfulGateway()
        self.set_clock(RECEIVED + timedelta(hours=1))
        services: dict[str, Service] = {}
        try:
            created = self.cli("topics", "create")
            assert created.returncode == 0, created.stderr
            key = self.cli("keys", "create", "--agency", "chaos")
            assert key.returncode == 0, key.stderr
            self.token = key.stdout.strip().splitlines()[-1]
            services = {name: Service(name, self.env(), self.workdir) for name in SERVICES}
            for s in services.values():
                s.start()
            self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.ports['intake']}", timeout=10,
                                     headers={"Authorization": f"Bearer {self.token}"})
            self._wait(lambda: self._up(), 90, "intake to answer")
            killer = threading.Thread(target=self._killer, args=(services,), daemon=True)
            killer.start()
            threading.Thread(target=self._supervise, args=(services,), daemon=True).start()
            cases = self._phase_file()
            self._settle(cases, "filing")
            self._phase_resolve([c for i, c in enumerate(cases) if i % 2 == 0], IN_TIME)
            self._settle(cases, "in-time resolutions")
            self.set_clock(LATE)  # the unresolved half falls due: 11-10 18:00 has passed
            self._wait(lambda: self._breaches() >= len(cases) // 2, 240, "the breaches")
            self._phase_resolve([c for i, c in enumerate(cases) if i % 2 == 1], LATE)
            killer.join(600)  # the whole budget of kills is spent, part of it while the late half settles
            self.stopping.set()
            for s in services.values():  # every service up at the end, to finish what it started
                if s.proc is None or s.proc.poll() is not None:
                    s.start()
            self._settle(cases, "late resolutions", final=True)
            result = self._check(cases, sum(s.kills for s in services.values()))
            result.kills_by_service = {name: s.kills for name, s in services.items()}
            result.notes += [f"{name} exited by itself {s.exits}x and was restarted" for name, s in services.items()
                             if s.exits]
        finally:
            self.stopping.set()
            for s in services.values():
                s.stop()
            controller.stop()
            self.gateway.close()
        result.seconds = time.monotonic() - started
        return result

    def _up(self) -> bool:
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def _wait(self, condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"chaos: timed out waiting for {what}")
            time.sleep(0.5)

    def _supervise(self, services: dict[str, Service]) -> None:
        while not self.stopping.wait(1.0):
            for s in services.values():
                s.revive()

    def _killer(self, services: dict[str, Service]) -> None:
        """kill -9 a random service every few seconds until the budget is spent; restart it; the broker once."""
        spent = 0
        restart_broker_at = min(2, self.kill_budget) if self.broker_restart else -1
        order: list[str] = []
        while spent < self.kill_budget and not self.stopping.wait(self.rng.uniform(1.0, 4.0)):
            if not order:  # every service in turn, in a shuffled order: none is spared
                order = self.rng.sample(SERVICES, len(SERVICES))
            victim = services[order.pop()]
            victim.kill()
            spent += 1
            self.say(f"chaos: kill -9 {victim.name} ({spent}/{self.kill_budget})")
            if spent == restart_broker_at:
                self._restart_broker()
            self.stopping.wait(self.rng.uniform(0.2, 2.0))
            victim.start()

    def _restart_broker(self) -> None:
        script = ROOT / "deploy" / "kafka" / "kafka.sh"
        if not os.environ.get("KAFKA_DATA_DIR"):
            self.say("chaos: KAFKA_DATA_DIR unset: the broker is not ours to restart")
            return
        subprocess.run(["bash", str(script), "stop"], check=True, capture_output=True)
        time.sleep(self.rng.uniform(1.0, 4.0))
        subprocess.run(["bash", str(script), "start"], check=True, capture_output=True)
        self.broker_restarts += 1
        self.say("chaos: broker restarted")

    # -- the integrator ----------------------------------------------------------------------------
    def _command(self, key: str, path: str, body: dict[str, Any]) -> dict[str, str]:
        """POST until answered, with the same Idempotency-Key, as a careful integrator does."""
        delay = 0.2
        deadline = time.monotonic() + 300
        while True:
            try:
                r = self.http.post(path, json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                r = None
            if r is not None and r.status_code == 201:
                answer = r.json()
                with self.acked_lock:
                    self.acked[key] = {"case_id": answer["case_id"], "event_id": answer["event_id"],
                                       "event_type": answer["event_type"]}
                return self.acked[key]
            if r is not None and r.status_code not in (409, 500, 502, 503, 504) or time.monotonic() > deadline:
                raise AssertionError(f"chaos: {path} answered {r.status_code if r else 'nothing'}: "
                                     f"{r.text[:300] if r else ''}")
            time.sleep(delay)  # 409: the first try is still in progress; 5xx/no answer: down for a moment
            delay = min(2.0, delay * 1.5)

    def _phase_file(self) -> list[str]:
        cases: list[str | None] = [None] * self.n

        def writer(indexes: list[int]) -> None:
            for i in indexes:
                body = {"municipality_id": "dangjin", "petition_type": "grievance", "channel": "visit",
                        "title": f"가로등 고장 {i}", "received_at": RECEIVED.isoformat(),
                        "applicant": {"name": f"시민{i}", "phone": f"010-{1000 + i // 10000:04d}-{i % 10000:04d}",
                                      "email": f"citizen{i}@example.kr"},
                        "notice_channels": ["sms", "email"]}
                case_id = self._command(f"file-{self.prefix}{i}", "/v1/petitions", body)["case_id"]
                cases[i] = case_id
                self._command(f"assign-{self.prefix}{i}", f"/v1/petitions/{case_id}/assignment",
                              {"occurred_at": (RECEIVED + timedelta(minutes=30)).isoformat(), "official": OFFICIAL})

        self._parallel(writer, list(range(self.n)))
        return [c for c in cases if c is not None]

    def _phase_resolve(self, cases: list[str], at: datetime) -> None:
        self.set_clock(max(at, self._clock_now()))

        def writer(indexes: list[int]) -> None:
            for i in indexes:
                self._command(f"resolve-{cases[i]}", f"/v1/petitions/{cases[i]}/resolution",
                              {"occurred_at": at.isoformat(), "outcome": "accepted",
                               "explanation": "가로등을 교체하였습니다."})

        self._parallel(writer, list(range(len(cases))))

    def _clock_now(self) -> datetime:
        return datetime.fromisoformat(self.clock.read_text())

    def _parallel(self, work: Any, items: list[int]) -> None:
        shares = [items[k::self.writers] for k in range(self.writers)]
        errors: list[BaseException] = []

        def run(share: list[int]) -> None:
            try:
                work(share)
            except BaseException as exc:  # re-raised below, in the driver's thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(s,)) for s in shares if s]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    # -- reading the outcome ------------------------------------------------------------------------
    def _topic(self, name: str) -> list[dict[str, Any]]:
        from services.platform.log.kafka import KafkaLog
        from services.sla_monitor.runner import read_all

        log = KafkaLog(self.kafka_bootstrap, timeout_s=10)
        try:
            return [json.loads(r.value) for r in read_all(log, self.prefix + name)[0]]
        finally:
            log.close()

    def _breaches(self) -> int:
        try:
            return len({e["payload"]["obligation_id"] + e["case_id"] for e in self._topic("charterwatch.sla-events")
                        if e["event_type"] == "ObligationBreached" and e["payload"]["kind"] == "statutory_deadline"})
        except Exception:  # the broker may be restarting: not yet
            return 0

    def _settle(self, cases: list[str], what: str, final: bool = False) -> None:
        """Until every acknowledged command is on the log and nothing moves on any topic or channel for a while."""
        def acked_on_log() -> bool:
            try:
                on_log = {e["event_id"] for e in self._topic("charterwatch.petition-events")}
            except Exception:  # the broker may be restarting
                return False
            with self.acked_lock:
                return {a["event_id"] for a in self.acked.values()} <= on_log

        self._wait(acked_on_log, 300, f"the acknowledged {what} on the log")
        quiet_for = 12.0 if final else 6.0
        last: tuple[int, ...] = ()
        since = time.monotonic()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                now = tuple(len(self._topic(t)) for t in ("charterwatch.sla-events", "charterwatch.compensation-events",
                                                          "charterwatch.notice-events")) + (
                    len(self.box.messages), len(self.gateway.requests))
            except Exception:
                now = ()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > quiet_for:
                return
            time.sleep(1.0)

    def _check(self, cases: list[str], kills: int) -> Result:
        r = Result(len(cases), kills, self.broker_restarts)
        petition = {e["event_id"]: e for e in self._topic("charterwatch.petition-events")}
        with self.acked_lock:
            acked = dict(self.acked)
        acked_events = {a["event_id"] for a in acked.values()}
        r.lost["acknowledged commands not on the log"] = len(acked_events - petition.keys())
        r.lost["events on the log nobody acknowledged"] = len(petition.keys() - acked_events)
        filed = {a["case_id"] for k, a in acked.items() if k.startswith("file-")}
        on_log = {e["case_id"] for e in petition.values() if e["event_type"] == "PetitionReceived"}
        r.lost["phantom cases"] = len(on_log - filed)
        versions = Counter((e["case_id"], e["case_version"]) for e in petition.values())
        r.duplicates["petition events with one case version"] = sum(n - 1 for n in versions.values() if n > 1)

        late = {c for i, c in enumerate(cases) if i % 2 == 1}
        sla = self._topic("charterwatch.sla-events")
        breaches: dict[str, set[str]] = {}
        for e in sla:
            if e["event_type"] == "ObligationBreached" and e["payload"]["kind"] == "statutory_deadline":
                breaches.setdefault(e["case_id"], set()).add(e["event_id"])
        r.missing["statutory breaches"] = len(late - breaches.keys())
        r.unowed["statutory breaches of cases resolved in time"] = len(breaches.keys() - late)
        r.duplicates["statutory breaches"] = sum(len(ids) - 1 for ids in breaches.values())

        comp = self._topic("charterwatch.compensation-events")
        vouchers: dict[str, set[str]] = {}
        for e in comp:
            if e["event_type"] == "VoucherProposed":
                vouchers.setdefault(e["case_id"], set()).add(e["payload"]["voucher_id"])
        r.missing["vouchers"] = len(late - vouchers.keys())
        r.unowed["vouchers"] = len(vouchers.keys() - late)
        r.duplicates["vouchers"] = sum(len(ids) - 1 for ids in vouchers.values())

        # Notices owed by the scenario: receipt for every case, completion for every case, apology for the late.
        case_of_email = {f"citizen{i}@example.kr": c for i, c in enumerate(cases)}
        case_of_phone = {f"010{1000 + i // 10000:04d}{i % 10000:04d}": c for i, c in enumerate(cases)}
        owed = {(c, kind, ch) for c in cases for kind in ("receipt", "completion") for ch in ("sms", "email")}
        owed |= {(c, "apology", ch) for c in late for ch in ("sms", "email")}
        delivered: Counter[tuple[str, str, str]] = Counter()
        refs: Counter[tuple[str, str, str, str]] = Counter()
        for m in self.box.messages:
            kind = next((k for subject, k in SUBJECTS.items() if subject in m["subject"]), "other")
            key = (case_of_email.get(m["to"].strip(), m["to"]), kind, "email")
            delivered[key] += 1
            refs[(*key, m["id"])] += 1
        for req in self.gateway.requests:
            text = req.get("msg", "")
            first = text.split("\n", 1)[0]
            kind = ("apology" if "사과드립니다" in first else "completion" if "완료되었습니다" in first
                    else "receipt" if "접수되었습니다" in first else "other")
            key = (case_of_phone.get(req.get("receiver", "").replace("-", ""), req.get("receiver", "")), kind, "sms")
            delivered[key] += 1
            refs[(*key, req.get("ref", "").rsplit(":", 1)[0])] += 1
        r.missing["notices never sent"] = len(owed - delivered.keys())
        r.unowed["notices no event owed"] = sum(n for k, n in delivered.items() if k not in owed)
        same_ref = sum(n - 1 for n in refs.values() if n > 1)
        r.duplicates["notices delivered twice"] = sum(n - 1 for k, n in delivered.items() if n > 1 and k in owed)
        if same_ref:
            r.notes.append(f"{same_ref} of the repeated deliveries carried the same reference (sent, then the "
                           "sender was killed before it could record the send)")

        replay = self.cli("audit", "replay", "--all", "--workers", "1", timeout=900)
        r.replay_ok = replay.returncode == 0
        if not r.replay_ok:
            r.notes.append("audit replay: " + (replay.stdout[-1500:] or replay.stderr[-1500:]))
        verify = self.cli("audit", "verify", timeout=600)
        r.verify_ok = verify.returncode == 0
        if not r.verify_ok:
            r.notes.append("audit verify: " + (verify.stdout[-1500:] or verify.stderr[-1500:]))
        return r


def fresh_database(admin_url: str) -> str:
    """A new PostgreSQL database for one run."""
    from sqlalchemy import create_engine, text

    name = f"chaos_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
