"""deploy/compose/compose.yaml, read as Docker Compose reads it (YAML with anchors; no engine runs here):
every CHARTERWATCH_* variable is a real setting, every command a real CLI command, every service chain
has its database, and Prometheus and Grafana get deploy/monitoring's files."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from services.bootstrap import CHAINS
from services.cli import app
from tests.deploy.conftest import ROOT
from tests.deploy.test_manifests import setting_names

COMPOSE = ROOT / "deploy" / "compose"
SERVICES = {"intake", "project", "sla-monitor", "compensation", "notify", "console", "webhooks", "audit"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE / "compose.yaml").read_text())  # type: ignore[no-any-return]


def charterwatch(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if "deploy/docker/Dockerfile" in str(s.get("build"))}


def test_every_process_and_peer_is_there(compose: dict[str, Any]) -> None:
    assert set(charterwatch(compose)) == SERVICES | {"topics", "migrate"}
    assert {"kafka", "postgres", "prometheus", "grafana", "mailpit"} <= set(compose["services"])
    runner = CliRunner()
    for name, service in charterwatch(compose).items():
        result = runner.invoke(app, [*service["command"], "--help"])
        assert result.exit_code == 0, f"{name}: {service['command']}: {result.output}"
        if name in SERVICES:
            ready = service["depends_on"]
            assert ready["migrate"]["condition"] == ready["topics"]["condition"] == "service_completed_successfully"


def test_every_variable_is_a_setting(compose: dict[str, Any]) -> None:
    known = setting_names()
    for name, service in charterwatch(compose).items():
        named = {k for k in service["environment"] if k.startswith(("CHARTERWATCH_", "KAFKA_"))}
        assert named and not sorted(named - known), f"{name}: not settings: {sorted(named - known)}"
    assert "CHARTERWATCH_NOT_A_SETTING" not in known


def test_every_chain_has_its_database(compose: dict[str, Any]) -> None:
    env = compose["services"]["intake"]["environment"]
    init = (COMPOSE / "postgres-init.sh").read_text()
    created = set(re.search(r"for chain in ([^;]+);", init).group(1).split())  # type: ignore[union-attr]
    assert created == set(CHAINS)
    for chain in CHAINS:
        # compose substitutes ${CHARTERWATCH_DB_PASSWORD:?...} from .env
        url = urlsplit(re.sub(r"\$\{[^}]*\}", "password", env[f"CHARTERWATCH_{chain.upper()}_DATABASE_URL"]))
        assert (url.hostname, url.username, url.path) == ("postgres", chain, f"/{chain}")
    mounts = compose["services"]["postgres"]["volumes"]
    assert "./postgres-init.sh:/docker-entrypoint-initdb.d/10-charterwatch.sh:ro" in mounts


def test_monitoring_files_are_mounted_and_scrape_these_services(compose: dict[str, Any]) -> None:
    for peer in ("prometheus", "grafana"):
        for mount in compose["services"][peer]["volumes"]:
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE / source).exists(), f"{peer}: {source}"
    prometheus = yaml.safe_load((ROOT / "deploy/monitoring/prometheus/prometheus.yml").read_text())
    targets = {t.split(":")[0] for job in prometheus["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]} - {"localhost"}
    assert targets == SERVICES
    datasources = yaml.safe_load((ROOT / "deploy/monitoring/grafana/provisioning/datasources/prometheus.yml")
                                 .read_text())
    assert datasources["datasources"][0]["url"] == "http://prometheus:9090"


def test_mail_goes_to_the_mail_catcher(compose: dict[str, Any]) -> None:
    env = compose["services"]["notify"]["environment"]
    assert env["CHARTERWATCH_SMTP_HOST"] == "mailpit" and env["CHARTERWATCH_SMTP_PORT"] == "1025"
    assert env["CHARTERWATCH_CONSOLE_COMPENSATION_URL"] == "http://compensation:8081"


def test_env_example_names_every_required_variable(compose: dict[str, Any]) -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (COMPOSE / "compose.yaml").read_text()))
    example = {line.split("=", 1)[0] for line in (COMPOSE / "env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert required and required <= example, required - example


def test_the_image_paths_exist() -> None:
    assert (ROOT / "deploy/docker/Dockerfile").is_file()
    assert Path(COMPOSE / "../..").resolve() == ROOT
