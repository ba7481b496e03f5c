"""``charterwatch``: the single entry point (Typer)."""
from __future__ import annotations

import faulthandler
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from services.platform.settings import Settings
from shared.words import count

if TYPE_CHECKING:
    from services.bootstrap import Container

app = typer.Typer(help="CharterWatch: enforceable administrative service charters (행정서비스헌장).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
db_app = typer.Typer(help="Read-model database.", no_args_is_help=True)
charters_app = typer.Typer(help="Charter files.", no_args_is_help=True)
events_app = typer.Typer(help="Event schemas.", no_args_is_help=True)
keys_app = typer.Typer(help="Integrating agencies' API keys.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit: replay decisions from the log, verify the hash chains.", no_args_is_help=True)
projections_app = typer.Typer(help="Read models rebuilt from the log.", no_args_is_help=True)
dead_app = typer.Typer(help="Events a service could not act on, parked with their reason: list, show, retry, skip.",
                       no_args_is_help=True)
app.add_typer(dead_app, name="dead-letters")
app.add_typer(audit_app, name="audit")
app.add_typer(projections_app, name="projections")
app.add_typer(topics_app, name="topics")
app.add_typer(db_app, name="db")
app.add_typer(charters_app, name="charters")
app.add_typer(events_app, name="events")
pii_app = typer.Typer(help="Personal data over its lifetime: erase a case's (crypto-shredding).", no_args_is_help=True)
app.add_typer(pii_app, name="pii")
app.add_typer(keys_app, name="keys")
users_app = typer.Typer(help="The console's accounts (officials, department heads, auditors, administrators).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")

Mode = Annotated[Optional[str], typer.Option(help="embedded (default) or kafka; overrides CHARTERWATCH_MODE")]


def _settings(mode: str | None = None, **overrides: object) -> Settings:
    from services.platform.logs import configure

    settings = Settings()
    updates = {k: v for k, v in {"mode": mode, **overrides}.items() if v is not None}
    if updates:
        settings = Settings(**{**settings.model_dump(), **updates})
    configure(settings.log_level)
    _crash_reports()
    return settings


def _crash_reports() -> None:
    """A process that crashes in native code (a driver, the event loop) prints every thread's stack to
    stderr instead of dying with a bare -11: every command, since every one reads its settings first
    (intake and `audit serve` as much as `up`). Only where stderr is a real file."""
    try:
        faulthandler.enable()
    except (AttributeError, ValueError, io.UnsupportedOperation):  # stderr replaced (a test's runner)
        pass


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"charterwatch: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def up(mode: Mode = None, port: Annotated[Optional[int], typer.Option(help="HTTP port")] = None,
       host: Annotated[Optional[str], typer.Option(help="HTTP host")] = None) -> None:
    """Run the whole system: every part of the topology (`charterwatch topology`) in one process.

    Each part runs supervised: one that fails is restarted with backoff while the others keep serving."""
    import uvicorn

    from services.bootstrap import bootstrap
    from services.topology import PARTS, process

    settings = _settings(mode, port=port, host=host)
    _require_free_ports(settings)  # before anything starts: a second `up` must not claim to be up
    c = bootstrap(settings)
    c.log.create_topics(c.topics.specs())
    key_note = _local_key(c, sys.stderr.isatty())
    if settings.clock_file:  # a drill: say so loudly, once, where the operator looks
        typer.echo(f"DRILL CLOCK ACTIVE: 'now' is read from {settings.clock_file} (now {c.now().isoformat()}), "
                   "not the wall clock. Unset CHARTERWATCH_CLOCK_FILE for real use.", err=True)
    wiring = process(c, None)  # one /metrics for the whole process, on every API of it
    api = wiring.apps["intake"]
    server = uvicorn.Server(uvicorn.Config(api, host=settings.host, port=settings.port,
                                           log_config=None, access_log=False))
    supervisor, consumers = _start_parts(wiring, PARTS)
    _watch(api.state.health, supervisor, consumers)
    typer.echo(f"CharterWatch is up ({settings.mode} mode): API on http://{settings.host}:{settings.port} "
               f"(OpenAPI at http://{settings.host}:{settings.port}/docs), compensation API on "
               f"http://{settings.host}:{settings.compensation_port}, inbox API on "
               f"http://{settings.host}:{settings.notify_port}, audit API on http://{settings.host}:{settings.audit_port}, "
               f"console on http://{settings.host}:{settings.console_port}, "
               f"webhooks API on http://{settings.host}:{settings.webhooks_port}. "
               f"{key_note} Ctrl-C stops it.", err=True)
    _stop_on_sigterm()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.join()
        c.close()
    if not server.started:
        raise typer.Exit(1)


def _require_free_ports(settings: Settings) -> None:
    """Every port `up` will serve on must be free now; otherwise exit 1 naming the ports taken."""
    import socket

    ports = {"API": settings.port, "compensation": settings.compensation_port, "inbox": settings.notify_port,
             "audit": settings.audit_port, "console": settings.console_port, "webhooks": settings.webhooks_port}
    taken = []
    for name, number in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((settings.host, number))
            except OSError:
                taken.append(f"{name} {settings.host}:{number}")
    if taken:
        _fail(f"already in use: {', '.join(taken)}. Is CharterWatch already running? Stop it, or choose other "
              "ports (CHARTERWATCH_PORT, CHARTERWATCH_COMPENSATION_PORT, ... see the README's settings).", 1)


def _start_parts(wiring, parts):  # type: ignore[no-untyped-def]
    """Start each part supervised; returns the supervisor and the consumers by name (for /readyz)."""
    from services.platform.supervisor import Supervisor

    supervisor = Supervisor()
    consumers: dict[str, object] = {}

    def tracked(part):  # type: ignore[no-untyped-def]
        def build():  # type: ignore[no-untyped-def]
            loop = part.build(wiring)
            if part.consumer:
                consumers[part.name] = loop
            return loop
        return build

    for part in parts:
        supervisor.start(part.name, tracked(part))
    return supervisor, consumers


def _watch(health, supervisor, consumers) -> None:  # type: ignore[no-untyped-def]
    """/readyz of the process: its supervised loops (one down: not ready), and each consumer's status."""
    health.loops = supervisor.status
    health.detail = lambda: {name: getattr(loop, "consumer", loop).status() for name, loop in consumers.items()}


def _serve_health(health, settings: Settings) -> Callable[[], None]:  # type: ignore[no-untyped-def]
    """/healthz, /readyz and /metrics on CHARTERWATCH_METRICS_PORT (0: not served), for a process without an
    API of its own. A port in use is told once and not retried: the process's work goes on without them.
    Returns what stops the server: called before the process closes its databases and exits, so no request
    thread is left running into the interpreter's shutdown (an embedded monitor once died there, SIGSEGV)."""
    import threading

    from services.platform.http.health import metrics_app
    from services.platform.logs import get_logger
    from services.platform.supervisor import HttpServer

    if not settings.metrics_port:
        return lambda: None
    server = HttpServer(metrics_app(health), settings.host, settings.metrics_port)

    def serve() -> None:
        try:
            server.run()
        except (RuntimeError, OSError) as exc:
            get_logger("runtime").warning("metrics_port_unavailable", port=settings.metrics_port, reason=str(exc))
    thread = threading.Thread(target=serve, name="metrics_http", daemon=True)
    thread.start()

    def stop() -> None:
        server.stop()
        thread.join(10)
    return stop


def _stop_on_sigterm() -> None:
    """SIGTERM (what Kubernetes and compose send before SIGKILL) stops the process as Ctrl-C does: every loop
    finishes or rolls back its batch and the process exits, instead of dying mid-batch at the default action."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _run_service(service: str, settings: Settings, http_port: dict[str, int] | None = None) -> None:
    """Run one service's parts of the topology until Ctrl-C; each restarts with backoff when it fails.

    The process has one metrics registry and one health, served by its APIs; a service without an API
    (project, sla-monitor) serves /healthz, /readyz and /metrics on CHARTERWATCH_METRICS_PORT."""
    from services.bootstrap import bootstrap
    from services.topology import parts_of, process

    c = bootstrap(settings)
    wiring = process(c, service, http_port)
    supervisor, consumers = _start_parts(wiring, parts_of(service))
    _watch(wiring.health, supervisor, consumers)
    stop_health = _serve_health(wiring.health, settings) if not http_port else (lambda: None)
    _stop_on_sigterm()
    try:
        for t in supervisor.threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.join()
        stop_health()
        c.close()


@app.command()
def topology(mode: Mode = None) -> None:
    """Every part of every service: what it reads and what it writes (the one declaration `up` runs)."""
    from services.bootstrap import bootstrap
    from services.topology import describe

    c = bootstrap(_settings(mode), migrate_db=False)
    try:
        for line in describe(c):
            typer.echo(line)
    finally:
        c.close()


def _local_key(c: Container, terminal: bool) -> str:
    """A first run has no API keys: issue one for the agency 'local' and keep it in the data dir (0600).

    The note is for the person at the terminal, never for the JSON log: the key itself is in it only
    when ``terminal`` (stderr is a terminal) and only the once it is issued. Stderr redirected (a
    service manager's journal, a log file) gets the file's path instead."""
    from services.platform.access.keys import issue_key, list_keys
    from services.platform.files import write_private

    path = c.settings.data_dir / "local-api-key"
    with c.database("access").sessions.begin() as session:
        if list_keys(session):
            return f"API key for agency 'local': see {path}." if path.exists() else "Use an agency's API key."
        issued = issue_key(session, "local", c.clock(), label="created by charterwatch up")
    write_private(path, issued.token + "\n", replace=True)
    if terminal:
        return f"API key for agency 'local' (shown once; also in {path}): {issued.token}"
    return f"API key for agency 'local': in {path} (not shown: this output is not a terminal)."


@app.command()
def intake(mode: Mode = None, workers: Annotated[Optional[int], typer.Option(
        min=1, max=64, help="worker processes, each with its own engine and relay; default: 1 on SQLite (one "
                            "writer: more would only queue on its lock), the CPUs (at most 4) on PostgreSQL")] = None,
           ) -> None:
    """Run only the intake HTTP API, with its outbox relay."""
    import uvicorn

    if (processes := _intake_workers(_settings(mode), workers)) > 1:
        _serve_intake_workers(_settings(mode), processes)
        return

    from services.bootstrap import bootstrap
    from services.topology import parts_of, process

    settings = _settings(mode)
    c = bootstrap(settings)
    wiring = process(c, "intake")
    api = wiring.apps["intake"]
    supervisor, consumers = _start_parts(wiring, parts_of("intake"))  # publishes what a crash or a down log left behind
    _watch(api.state.health, supervisor, consumers)
    _stop_on_sigterm()  # uvicorn re-raises the signal after its graceful shutdown: the relay then stops too
    try:
        uvicorn.run(api, host=settings.host, port=settings.port, log_config=None, access_log=False)
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.join()


def _intake_workers(settings: Settings, asked: int | None) -> int:
    """SQLite has one writer (and its outbox relay takes no lock across processes): one worker only."""
    sqlite = settings.database_for("intake")[0].startswith("sqlite")
    if sqlite and asked is not None and asked > 1:
        _fail("--workers above 1 needs PostgreSQL (CHARTERWATCH_DATABASE_URL): SQLite has one writer")
    if asked is not None:
        return asked
    return 1 if sqlite else max(1, min(4, os.cpu_count() or 1))


def _serve_intake_workers(settings: Settings, processes: int) -> None:
    """uvicorn's worker processes, each building its own app, engine and relay (``intake_worker_app``);
    the relays share the outbox through PostgreSQL's advisory lock, so events keep their order."""
    import uvicorn

    os.environ["CHARTERWATCH_MODE"] = settings.mode  # the workers read their settings from the environment
    uvicorn.run("services.cli:intake_worker_app", factory=True, workers=processes, host=settings.host,
                port=settings.port, log_config=None, access_log=False)


def intake_worker_app():  # type: ignore[no-untyped-def]
    """One worker process of `charterwatch intake --workers N`: the API and its relay."""
    from services.bootstrap import bootstrap
    from services.topology import parts_of, process

    wiring = process(bootstrap(_settings()), "intake")
    api = wiring.apps["intake"]
    supervisor, consumers = _start_parts(wiring, parts_of("intake"))
    _watch(api.state.health, supervisor, consumers)
    api.router.on_shutdown.append(supervisor.join)
    return api


@app.command()
def project(mode: Mode = None) -> None:
    """Run only the read-model projection."""
    _run_service("project", _settings(mode))


@app.command("sla-monitor")
def sla_monitor(mode: Mode = None) -> None:
    """Run only the SLA monitor (faust worker on Kafka; a consumer loop in embedded mode)."""
    settings = _settings(mode)
    if settings.mode == "kafka":
        import faust

        from services.bootstrap import load_calendar, settings_clock
        from services.platform.log.kafka import KafkaLog
        from services.platform.log.topics import Topics
        from services.sla_monitor.agents import register
        from services.sla_monitor.app import create_app as create_faust_app
        from shared.charters import CharterBook

        admin = KafkaLog(settings.kafka_bootstrap_servers)
        try:  # every topic, the table's changelog included, exists before the first write
            admin.create_topics(Topics.configured(settings).specs())
        finally:
            admin.close()
        faust_app = create_faust_app(settings)
        monitor = register(faust_app, Topics(settings.topic_prefix), load_calendar(settings.holiday_overrides_file),
                           CharterBook.bundled(), settings_clock(settings), settings.monitor_stall_s)
        from services.platform.http.health import Health, log_probe

        # /readyz: the broker answers (the worker's own loop is faust's); /metrics: the monitor's registry
        probe = log_probe(KafkaLog(settings.kafka_bootstrap_servers), Topics(settings.topic_prefix).petition_events)
        stop_health = _serve_health(Health(monitor.metrics.registry, [probe]), settings)
        worker = faust.Worker(faust_app, loglevel="WARNING", quiet=True)
        worker.spinner = None  # a terminal spinner would interleave escape codes with the JSON log lines
        try:
            worker.execute_from_commandline()
        finally:
            stop_health()
        return
    _run_service("sla-monitor", settings)


@app.command()
def compensation(mode: Mode = None, port: Annotated[Optional[int], typer.Option(help="HTTP port")] = None) -> None:
    """Run only the compensation service: its consumer, its outbox relay and its HTTP API."""
    settings = _settings(mode)
    _run_service("compensation", settings, {"compensation": port or settings.compensation_port})


@app.command()
def notify(mode: Mode = None, port: Annotated[Optional[int], typer.Option(help="HTTP port")] = None) -> None:
    """Run only the notify service: its consumer and the inbox API."""
    settings = _settings(mode)
    _run_service("notify", settings, {"notify": port or settings.notify_port})


@app.command()
def console(mode: Mode = None, port: Annotated[Optional[int], typer.Option(help="HTTP port")] = None) -> None:
    """Run only the officials' console (web pages; create accounts with `charterwatch users create`)."""
    settings = _settings(mode)
    _run_service("console", settings, {"console": port or settings.console_port})


@app.command()
def webhooks(mode: Mode = None, port: Annotated[Optional[int], typer.Option(help="HTTP port")] = None) -> None:
    """Run only the webhooks service: its worker (events into deliveries), its sender and its API."""
    settings = _settings(mode)
    _run_service("webhooks", settings, {"webhooks": port or settings.webhooks_port})


@users_app.command("create")
def users_create(
    agency: Annotated[str, typer.Option(help="the agency the account belongs to (it sees only this agency's cases)")],
    username: Annotated[str, typer.Option(help="the sign-in name")],
    role: Annotated[str, typer.Option(help="official, department_head, auditor or administrator")],
    official_id: Annotated[Optional[str], typer.Option(
        help="the official's id as petition assignments carry it (their 'my cases')")] = None,
    department: Annotated[Optional[str], typer.Option(help="the department (부서)")] = None,
    display_name: Annotated[Optional[str], typer.Option(help="the name shown in the console (default: username)")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="read the password from the first line of stdin instead of a prompt")] = False,
) -> None:
    """Create a console account. The password is asked for (twice), or read from stdin; never an argument,
    which would stay in the shell's history and the process list."""
    from services.bootstrap import bootstrap
    from services.console.accounts.users import (
        InvalidAccount,
        check_password,
        create_user,
    )

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password(password)
    except InvalidAccount as exc:
        _fail(str(exc))
    c = bootstrap(_settings())
    try:
        with c.database("console").sessions.begin() as session:
            user = create_user(session, agency_id=agency, username=username, password=password, role=role,
                               now=c.clock(), display_name=display_name, official_id=official_id,
                               department=department)
    except InvalidAccount as exc:
        raise typer.BadParameter(str(exc), param_hint=f"--{exc.field.replace('_', '-')}") from None
    finally:
        c.close()
    typer.echo(f"created {user.username} ({user.role}, agency {user.agency_id})")


@users_app.command("list")
def users_list(agency: Annotated[Optional[str], typer.Option(help="only this agency's accounts")] = None) -> None:
    """Accounts: username, agency, role, state, official id, department (never a password hash)."""
    from services.bootstrap import bootstrap
    from services.console.accounts.users import list_users

    c = bootstrap(_settings())
    try:
        with c.database("console").readers() as session:
            rows = list_users(session, agency)
        now = c.clock()
        for u in rows:
            state = "disabled" if u.disabled else (
                f"locked until {u.locked_until.isoformat()}" if u.locked_until and u.locked_until > now else "active")
            typer.echo(f"{u.username}\t{u.agency_id}\t{u.role}\t{state}\t{u.official_id or '-'}\t{u.department or '-'}")
    finally:
        c.close()


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable an account: it cannot sign in, and its open sessions end at once."""
    from services.bootstrap import bootstrap
    from services.console.accounts.users import disable_user

    c = bootstrap(_settings())
    try:
        with c.database("console").sessions.begin() as session:
            if not disable_user(session, username):
                _fail(f"no account {username}", 1)
    finally:
        c.close()
    typer.echo(f"disabled {username}")


@topics_app.command("create")
def topics_create(mode: Mode = None) -> None:
    """Create every topic with its partitions and retention (idempotent)."""
    from services.bootstrap import make_log
    from services.platform.log.port import LogUnavailable
    from services.platform.log.topics import Topics

    settings = _settings(mode)
    log = make_log(settings)
    try:
        created = log.create_topics(Topics.configured(settings).specs())
    except LogUnavailable as exc:
        _fail(str(exc), 1)
    finally:
        log.close()
    typer.echo(f"created {count(len(created), 'topic')}: {', '.join(created) or '(all existed)'}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every service's migrations (Alembic) to its own database (CHARTERWATCH_<SERVICE>_DATABASE_URL,
    else CHARTERWATCH_DATABASE_URL). A database written before each service had its own chain is upgraded
    in place."""
    from services.bootstrap import CHAINS, bootstrap

    c = bootstrap(_settings(), migrate_db=False)
    try:
        c.migrate()
        for service in CHAINS:
            url, schema = c.settings.database_for(service)
            where = c.database(service).engine.url.render_as_string(hide_password=True)
            typer.echo(f"{service:<13} at its newest migration in {where}" + (f" (schema {schema})" if schema else ""))
    finally:
        c.close()


@app.command()
def deadline(
    received: Annotated[str, typer.Option(help="instant of receipt, ISO 8601 with an offset (Z allowed)")],
    period: Annotated[str, typer.Option(help="Nh (working hours) or Nd (days; the law decides hours vs days)")],
    pause: Annotated[Optional[list[str]], typer.Option(help="START/END (ISO 8601); END empty while open; repeatable")] = None,
    extend: Annotated[Optional[list[str]], typer.Option(help="extension period, Nh or Nd (Decree 21); repeatable")] = None,
    consent: Annotated[bool, typer.Option(help="the petitioner consented to the second --extend")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the working details")] = False,
) -> None:
    """When a processing period runs out under Act 19 (to the second, +09:00).

    While a pause is open there is no deadline: prints the time left, in working days and hours.
    """
    from services.bootstrap import load_calendar
    from shared.deadline import DeadlineInputError
    from shared.deadline_report import (
        InputNames,
        calculate,
        deadline_dict,
        time_left_text,
    )
    from shared.instants import isoformat_kst

    names = InputNames(received="--received", period="--period", pause="--pause", extend="--extend",
                       consent="--consent", give_consent="--consent")
    settings = Settings()
    try:
        calendar = load_calendar(settings.holiday_overrides_file)
    except (OSError, ValueError) as exc:
        _fail(f"holiday overrides ({settings.holiday_overrides_file}): {exc}")
    try:
        result = calculate(calendar, received, period, pause or [], extend or [], consent, names=names)
    except DeadlineInputError as exc:
        _fail(f"{exc.field}: {exc.message}")
    if as_json:
        typer.echo(json.dumps(deadline_dict(result), ensure_ascii=False, indent=2))
        return
    typer.echo(isoformat_kst(result.due_at) if result.due_at else f"paused: {time_left_text(result)}")
    for note in result.notes:  # e.g. an extension added to the time left while the pause is open
        typer.echo(f"note: {note}", err=True)


@charters_app.command("list")
def charters_list() -> None:
    """The bundled charters and their versions."""
    from shared.charters import CharterBook

    book = CharterBook.bundled()
    for cid in book.ids():
        for c in book.versions(cid):
            typer.echo(f"{c.id}\t{c.version}\tfrom {c.effective_from}\t{c.municipality} ({count(len(c.promises), 'promise')})")


@charters_app.command("check")
def charters_check(files: list[Path]) -> None:
    """Validate charter files; every problem is printed with its path in the file."""
    from shared.charters import CharterFileError, parse_charter

    bad = 0
    for f in files:
        try:
            c = parse_charter(f.read_text(encoding="utf-8"), str(f))
            typer.echo(f"{f}: ok ({c.id} {c.version}, {count(len(c.promises), 'promise')})")
        except CharterFileError as exc:
            bad += 1
            for problem in exc.problems:
                typer.echo(f"{f}: {problem}", err=True)
    if bad:
        raise typer.Exit(1)


@events_app.command("schemas")
def events_schemas(out: Annotated[Path, typer.Option(help="folder for the JSON Schemas")] = Path("docs/events")) -> None:
    """Export a JSON Schema for every (event type, version) and the envelope."""
    from shared.events.schemas import all_schemas

    out.mkdir(parents=True, exist_ok=True)
    schemas = all_schemas()
    for name, schema in schemas.items():
        (out / name).write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"wrote {count(len(schemas), 'schema')} to {out}")


@events_app.command("asyncapi")
def events_asyncapi(out: Annotated[Path, typer.Option(help="where to write the AsyncAPI 3 document (JSON)")] = Path(
        "docs/asyncapi.json")) -> None:
    """Write the AsyncAPI 3.0 document of every topic and event (generated from the code)."""
    from importlib.metadata import version

    from services.asyncapi import document
    from services.platform.log.topics import Topics

    doc = document(Topics(_settings().topic_prefix), version("charterwatch"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}: {count(len(doc['channels']), 'channel')}, {count(len(doc['components']['messages']), 'message')}")


@keys_app.command("create")
def keys_create(agency: Annotated[str, typer.Option(help="the integrating agency's id")],
                label: Annotated[str, typer.Option(help="what the key is for")] = "") -> None:
    """Issue an API key; the token is printed once and only its hash is kept."""
    from services.bootstrap import bootstrap
    from services.platform.access.keys import issue_key

    c = bootstrap(_settings())
    try:
        with c.database("access").sessions.begin() as session:
            issued = issue_key(session, agency, c.clock(), label)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--agency") from None
    typer.echo(issued.token)


@keys_app.command("list")
def keys_list() -> None:
    """Key ids, agencies and states (never the secrets)."""
    from services.bootstrap import bootstrap
    from services.platform.access.keys import list_keys

    c = bootstrap(_settings())
    with c.database("access").sessions() as session:
        for k in list_keys(session):
            state = f"revoked {k.revoked_at.isoformat()}" if k.revoked_at else "active"
            typer.echo(f"{k.key_id}\t{k.agency_id}\t{state}\t{k.label}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key at once."""
    from services.bootstrap import bootstrap
    from services.platform.access.keys import revoke_key

    c = bootstrap(_settings())
    with c.database("access").sessions.begin() as session:
        if not revoke_key(session, key_id, c.clock()):
            _fail(f"no active key {key_id}", 1)
    typer.echo(f"revoked {key_id}")


@audit_app.command("replay")
def audit_replay(
    case: Annotated[Optional[str], typer.Option("--case", help="one case id")] = None,
    all_cases: Annotated[bool, typer.Option("--all", help="every case on the log")] = False,
    as_of: Annotated[Optional[str], typer.Option(help="the case as it stood at this instant (ISO 8601)")] = None,
    received_from: Annotated[Optional[str], typer.Option("--from", help="--all: cases received from (ISO 8601)")] = None,
    received_to: Annotated[Optional[str], typer.Option("--to", help="--all: cases received before (ISO 8601)")] = None,
    output: Annotated[str, typer.Option("--format", help="json, html or pdf (one case; pdf: --out FILE, or "
                                                         "stdout redirected to a file)")] = "json",
    out: Annotated[Optional[Path], typer.Option(help="write the report here instead of stdout")] = None,
    workers: Annotated[Optional[int], typer.Option(
        min=1, help="--all: worker processes, each replaying its share of the partitions (default: one per CPU)")] = None,
    mode: Mode = None,
) -> None:
    """Re-derive every deadline, breach, remedy and notice from the log and compare with what was recorded.
    Exits 1 when any decision disagrees."""
    import json as _json

    from services.audit import service
    from services.audit.report import as_html
    from services.bootstrap import bootstrap
    from services.wiring import audit
    from shared.instants import parse_instant

    if (case is None) == (not all_cases):
        raise typer.BadParameter("give --case ID or --all")
    if output not in ("json", "html", "pdf"):
        raise typer.BadParameter("--format: json, html or pdf")
    if output == "pdf" and (case is None or (out is None and sys.stdout.isatty())):
        raise typer.BadParameter("--format pdf: one case (--case), written to --out FILE or to a redirected stdout")
    c = bootstrap(_settings(mode))
    a = audit(c)
    try:
        if case is not None:
            report = service.case_report(a, case, parse_instant(as_of, "as_of") if as_of else None)
            if report is None:
                typer.echo(f"no events for case {case}", err=True)
                raise typer.Exit(2)
            if output == "pdf":
                from services.audit.pdf import PdfUnavailable, as_pdf

                try:
                    pdf = as_pdf(as_html(report))
                except PdfUnavailable as exc:
                    typer.echo(f"cannot write the PDF: {exc}", err=True)
                    raise typer.Exit(2) from exc
                if out:
                    out.write_bytes(pdf)
                else:
                    sys.stdout.buffer.write(pdf)
                    sys.stdout.buffer.flush()
            else:
                text = as_html(report) if output == "html" else _json.dumps(report, ensure_ascii=False, indent=2)
                if out:
                    out.write_text(text, encoding="utf-8")
                else:
                    typer.echo(text)
            if not report["agrees"]:
                raise typer.Exit(1)
            return
        from services.audit.shards import default_workers
        from services.audit.source import ends

        with typer.progressbar(length=ends(c.log, c.topics), label="reading the log", file=sys.stderr) as bar:
            summary = service.replay_all(a, parse_instant(received_from, "from") if received_from else None,
                                         parse_instant(received_to, "to") if received_to else None, bar.update,
                                         workers or default_workers())
        result = {"cases": summary.cases, "events": summary.events, "decisions_rederived": summary.decisions,
                  "agreed": summary.agreed, "disagreements": summary.disagreements,
                  "disagreeing_cases": summary.disagreeing_cases[:100], "undecodable": summary.undecodable,
                  "undecided_cases": dict(list(summary.undecided.items())[:100])}
        text = _json.dumps(result, ensure_ascii=False, indent=2)
        if out:
            out.write_text(text, encoding="utf-8")
        typer.echo(text)
        if not summary.ok:
            raise typer.Exit(1)
    finally:
        c.close()


@audit_app.command("serve")
def audit_serve(mode: Mode = None, port: Annotated[Optional[int], typer.Option(help="HTTP port")] = None) -> None:
    """Run only the audit API (a case's replay report over HTTP)."""
    settings = _settings(mode)
    _run_service("audit", settings, {"audit": port or settings.audit_port})


@audit_app.command("verify")
def audit_verify(mode: Mode = None) -> None:
    """Check every case's hash chain on the petition topic; name the first broken link. Exits 1 if any."""
    from services.audit import service
    from services.bootstrap import bootstrap
    from services.wiring import audit, stored_head

    c = bootstrap(_settings(mode))
    try:
        report = service.verify(audit(c), stored_head(c))
    finally:
        c.close()
    for b in report.broken:
        typer.echo(f"BROKEN case {b.case_id} version {b.case_version} (partition {b.partition}, offset {b.offset}): "
                   f"{b.problem}")
    typer.echo(f"{report.cases} cases, {report.events} events, {len(report.broken)} broken, "
               f"{report.unchained} written before the chain existed, {report.repeated} repeated by a relay")
    if not report.ok:
        raise typer.Exit(1)


@projections_app.command("rebuild")
def projections_rebuild(mode: Mode = None) -> None:
    """Rebuild every read model from the log into a scratch database, check it equals the live one,
    then rebuild the live one from the log. Exits 1 if they differed (the live one is rebuilt anyway)."""
    from services.bootstrap import bootstrap
    from services.intake.readmodel.rebuild import rebuild
    from services.wiring import petition_projection

    c = bootstrap(_settings(mode))
    try:
        with typer.progressbar(length=sum(c.log.end_offsets(c.topics.petition_events).values()),
                               label="projecting", file=sys.stderr) as bar:
            result = rebuild(c.log, c.topics, c.database("intake").sessions, petition_projection(c), bar.update)
    finally:
        c.close()
    for line in result.differences[:50]:
        typer.echo(f"DIFFERS {line}")
    typer.echo(f"rebuilt {result.rows} rows from {result.events} events; "
               f"{'equal to' if not result.differences else 'different from'} the live read model")
    if result.differences:
        raise typer.Exit(1)


def _dead_letters(mode: str | None):  # type: ignore[no-untyped-def]
    from services.bootstrap import make_log
    from services.platform.dead_letters import DeadLetterBook
    from services.platform.log.topics import Topics

    settings = _settings(mode)
    return DeadLetterBook(make_log(settings), Topics(settings.topic_prefix))


@dead_app.command("list")
def dead_letters_list(service: Annotated[Optional[str], typer.Option(help="only this service's entries")] = None,
                      all_entries: Annotated[bool, typer.Option("--all", help="decided entries too")] = False,
                      mode: Mode = None) -> None:
    """Parked entries waiting for a decision (their cases wait behind them)."""
    book = _dead_letters(mode)
    try:
        entries = book.entries()
    finally:
        book.close()
    shown = 0
    for e in entries:
        if (service and e.service != service) or (e.decision and not all_entries):
            continue
        shown += 1
        typer.echo(f"{e.entry_id}\t{e.service}\t{e.case_id}\t{e.event_type or '-'}\t{e.parked_at}\t"
                   f"{e.decision or 'open'}\t{e.reason}")
    typer.echo(f"{shown} entr{'y' if shown == 1 else 'ies'}", err=True)


@dead_app.command("show")
def dead_letters_show(entry_id: str, mode: Mode = None) -> None:
    """One entry: where it sat on the log, the event's type and case, the reason, the decision."""
    book = _dead_letters(mode)
    try:
        entry = book.find(entry_id)
    finally:
        book.close()
    if entry is None:
        _fail(f"no dead-letter entry {entry_id}", 1)
    typer.echo(json.dumps(entry.summary(), ensure_ascii=False, indent=2))


def _decide(entry_id: str, action: str, by: str, mode: str | None) -> None:
    book = _dead_letters(mode)
    try:
        message = book.decide(entry_id, action, by)
    except LookupError as exc:
        _fail(str(exc), 1)
    finally:
        book.close()
    typer.echo(message)


@dead_app.command("retry")
def dead_letters_retry(entry_id: str, by: Annotated[str, typer.Option(help="who decides")] = "operator",
                       mode: Mode = None) -> None:
    """Hand the event to its service again (after a fix); the case's held events follow in order."""
    _decide(entry_id, "retry", by, mode)


@dead_app.command("skip")
def dead_letters_skip(entry_id: str, by: Annotated[str, typer.Option(help="who decides")] = "operator",
                      mode: Mode = None) -> None:
    """Drop the event for that service (it stays on the log); the case's held events go on."""
    _decide(entry_id, "skip", by, mode)


@pii_app.command("erase")
def pii_erase(
    case: Annotated[Optional[str], typer.Option("--case", help="one case id")] = None,
    closed_before: Annotated[Optional[str], typer.Option(
        help="the retention rule: every case closed before this instant (ISO 8601)")] = None,
    reason: Annotated[str, typer.Option(help="why, recorded on the case (e.g. the request's reference)")] = "",
    mode: Mode = None,
) -> None:
    """Destroy a case's personal data for good: its data key, so every sealed copy on the log and in every
    service is unreadable, and what services kept of it. Deadlines, breaches and remedies stay."""
    from services.bootstrap import bootstrap
    from services.wiring import cases_closed_before, erase_personal_data
    from shared.instants import parse_instant

    if (case is None) == (closed_before is None):
        raise typer.BadParameter("give --case ID or --closed-before INSTANT")
    c = bootstrap(_settings(mode))
    try:
        if case is not None:
            cases, why = [case], reason or "erased on request"
        else:
            cutoff = parse_instant(closed_before or "", "closed_before")
            cases, why = cases_closed_before(c, cutoff), reason or f"retention: closed before {cutoff.date()}"
        erased = 0
        for case_id in cases:
            try:
                erased += int(erase_personal_data(c, case_id, why))
            except LookupError as exc:
                _fail(str(exc), 1)
        typer.echo(f"erased the personal data of {count(erased, 'case')}; {len(cases) - erased} had been erased before")
    finally:
        c.close()


def main() -> None:
    # Before anything is created: every file and directory the process makes (the data dir, SQLite
    # databases with their WAL files, keys, outgoing messages) is its user's alone, 0600 and 0700.
    os.umask(0o077)
    app()


if __name__ == "__main__":
    main()
