"""The alert rules, prometheus.yml and the dashboard, checked offline.

- promtool (built from the Go module by deploy/promtool.sh, found through $PROMTOOL) checks the rules and
  the config, and runs the rules' unit tests (deploy/monitoring/prometheus/tests);
- every metric a rule or a panel names is one the services register (each process's registry as
  `charterwatch <service>` and `up` build it);
- the Kubernetes PrometheusRule holds the same groups as the rules file, and the generated files are
  what deploy/monitoring/generate.py writes;
- every alert has a severity, a `for:`, a summary, a description and a runbook section in docs/alerts.md.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULES = MONITORING / "prometheus" / "rules" / "charterwatch.yml"
CONFIG = MONITORING / "prometheus" / "prometheus.yml"
RULE_TESTS = sorted((MONITORING / "prometheus" / "tests").glob("*.yml"))
DASHBOARD = MONITORING / "grafana" / "dashboards" / "charterwatch.json"
ALERTS_DOC = ROOT / "docs" / "alerts.md"
PROMTOOL_VERSION = "v0.316.0"  # deploy/promtool.sh

sys.path.insert(0, str(MONITORING))
import generate  # noqa: E402  (deploy/monitoring/generate.py: not a package)


def promtool() -> str:
    """$PROMTOOL (deploy/test.sh exports it), else the binary deploy/promtool.sh leaves in its cache."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "charterwatch" / "bin"
    for candidate in (os.environ.get("PROMTOOL"), str(cache / f"promtool-{PROMTOOL_VERSION}")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    message = "promtool is not built: run deploy/promtool.sh and export PROMTOOL"
    if IN_CI:
        pytest.fail(f"{message}; CI=true forbids skipping")
    pytest.skip(message)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=300, cwd=ROOT)


# -- promtool ----------------------------------------------------------------------------------------------
def test_promtool_checks_the_rules() -> None:
    out = run("check", "rules", str(RULES))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr


def test_promtool_checks_the_config_and_the_rules_it_loads() -> None:
    out = run("check", "config", str(CONFIG))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "charterwatch.yml" in out.stdout + out.stderr  # the rule_files glob found the rules


def test_the_rules_unit_tests_pass() -> None:
    assert RULE_TESTS
    out = run("test", "rules", *map(str, RULE_TESTS))
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_rules_unit_test_can_fail(tmp_path: Path) -> None:
    """The unit tests would catch an alert that no longer fires: the same test against a threshold raised."""
    rules = RULES.read_text(encoding="utf-8").replace("charterwatch_outbox_oldest_age_seconds) > 300",
                                                      "charterwatch_outbox_oldest_age_seconds) > 30000")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "charterwatch.yml").write_text(rules, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    test = tmp_path / "tests" / RULE_TESTS[0].name
    test.write_text(RULE_TESTS[0].read_text(encoding="utf-8"), encoding="utf-8")
    out = run("test", "rules", str(test))
    assert out.returncode != 0 and "CharterwatchOutboxRelayStuck" in out.stdout + out.stderr


# -- every metric named exists in the code -------------------------------------------------------------------
# Series Prometheus makes itself for each target: no code registers them.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
             "scrape_series_added"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
            "offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects: not functions, label names, keywords or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    names = set()
    for m in re.finditer(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in KEYWORDS:
            continue
        names.add(name)
    return names


def rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


def exposed(registry) -> set[str]:  # type: ignore[no-untyped-def]
    """The names a registry's metrics are scraped under, by their type (a labelled metric with no child
    yet has no sample, but is exposed once it has one): counter x -> x_total, histogram x -> x_bucket,
    x_count, x_sum, ..."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "summary": ["", "_count", "_sum"],
                "gaugehistogram": ["_bucket", "_gcount", "_gsum"], "info": ["_info"]}
    names = set()
    for family in registry.collect():
        names.update(family.name + s for s in suffixes.get(family.type, [""]))
        names.update(s.name for s in family.samples)
    return names


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every name each process's registry exposes: `up`, and `charterwatch <service>` for each service,
    built as the commands build them (their parts constructed, not run)."""
    from services.topology import DATABASE, parts_of, process
    from tests.integration.conftest import make_container

    names: set[str] = set()
    tmp = tmp_path_factory.mktemp("processes")
    c = make_container(tmp, f"sqlite:///{tmp / 'readmodel.db'}")
    try:
        for service in (None, *DATABASE):
            w = process(c, service)
            for part in parts_of(service):
                part.build(w)
            names |= exposed(w.registry)
    finally:
        c.close()
    return names


def missing(exprs: list[str], registered: set[str], recorded: set[str]) -> dict[str, set[str]]:
    out = {}
    for expr in exprs:
        unknown = {n for n in metric_names(expr) if n not in registered | recorded | SYNTHETIC}
        if unknown:
            out[expr] = unknown
    return out


def recorded_names() -> set[str]:
    return {r["record"] for r in rules() if "record" in r}


def test_every_metric_the_rules_and_the_dashboard_name_is_registered_by_the_code(registered: set[str]) -> None:
    exprs = [r["expr"] for r in rules()] + dashboard_exprs()
    assert missing(exprs, registered, recorded_names()) == {}
    named = set().union(*(metric_names(e) for e in exprs))
    # what the rules stand on is there (the extraction finds names at all)
    assert {"charterwatch_consumer_lag", "charterwatch_outbox_oldest_age_seconds",
            "charterwatch_breach_detection_delay_seconds_bucket", "charterwatch_notices_total",
            "charterwatch_http_request_seconds_count", "charterwatch_webhook_deliveries_total",
            "charterwatch_webhook_subscriptions_disabled_total", "charterwatch_consumer_parked_cases",
            "charterwatch_remedies_total", "up"} <= named


def test_a_rule_naming_a_metric_the_code_does_not_register_is_found(registered: set[str]) -> None:
    recorded = recorded_names()
    assert missing(["rate(charterwatch_notices_sent_total[5m]) > 0"], registered, recorded) == {
        "rate(charterwatch_notices_sent_total[5m]) > 0": {"charterwatch_notices_sent_total"}}
    # a suffix the type does not have: a gauge has no _total, a counter no bare name, a histogram no _total
    for wrong in ("charterwatch_consumer_lag_total", "charterwatch_notices", "charterwatch_http_request_seconds_total"):
        assert missing([f"sum({wrong})"], registered, recorded) == {f"sum({wrong})": {wrong}}, wrong
    # the names in label matchers, by() lists and strings are not metrics
    assert missing(['sum by (no_such_label) (up{no_such="x_total"}) and on (other) up'], registered, recorded) == {}


def test_metric_names_are_read_from_promql() -> None:
    expr = ('histogram_quantile(0.99, sum by (service, le) (rate(charterwatch_http_request_seconds_bucket'
            '{route!~"/healthz|/readyz"}[5m]))) > 2 and on (service) service:charterwatch_x:ratio offset 5m')
    assert metric_names(expr) == {"charterwatch_http_request_seconds_bucket", "service:charterwatch_x:ratio"}


# -- the Kubernetes copies and the generated files --------------------------------------------------------------
def test_the_prometheus_rule_holds_the_rules_file_as_it_is() -> None:
    resource = yaml.safe_load((ROOT / "deploy/k8s/monitoring/prometheusrule.yaml").read_text(encoding="utf-8"))
    assert resource["kind"] == "PrometheusRule"
    assert resource["spec"]["groups"] == yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]


def test_the_generated_files_are_up_to_date() -> None:
    for path, text in generate.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python3 deploy/monitoring/generate.py"
    configmap = yaml.safe_load((ROOT / "deploy/k8s/monitoring/dashboard-configmap.yaml").read_text(encoding="utf-8"))
    assert json.loads(configmap["data"]["charterwatch.json"]) == json.loads(DASHBOARD.read_text(encoding="utf-8"))
    component = yaml.safe_load((ROOT / "deploy/k8s/monitoring/kustomization.yaml").read_text(encoding="utf-8"))
    assert component["kind"] == "Component"
    assert all((ROOT / "deploy/k8s/monitoring" / r).is_file() for r in component["resources"])


# -- every alert is documented and actionable ---------------------------------------------------------------------
def test_every_alert_has_severity_for_annotations_and_a_runbook_section() -> None:
    doc = ALERTS_DOC.read_text(encoding="utf-8")
    headings = {h.strip().lower() for h in re.findall(r"^## (\S+)\s*$", doc, re.M)}
    alerts = [r for r in rules() if "alert" in r]
    assert len(alerts) >= 10
    for r in alerts:
        name = r["alert"]
        assert r["labels"]["severity"] in {"critical", "warning"}, name
        assert re.fullmatch(r"\d+[smh]", r["for"]), name
        assert r["annotations"]["summary"] and r["annotations"]["description"], name
        assert r["annotations"]["runbook_url"] == f"docs/alerts.md#{name.lower()}", name
        assert name.lower() in headings, f"docs/alerts.md has no section ## {name}"


def test_every_alerted_figure_has_a_panel() -> None:
    """Each alert's series (or the series its recording rule reads) is drawn on the dashboard."""
    recorded = {r["record"]: metric_names(r["expr"]) for r in rules() if "record" in r}
    drawn = set().union(*(metric_names(e) for e in dashboard_exprs()))
    drawn |= set().union(*(recorded[n] for n in drawn if n in recorded))
    for r in rules():
        if "alert" in r:
            names = metric_names(r["expr"])
            names |= set().union(*(recorded[n] for n in names if n in recorded))
            assert names & drawn, r["alert"]
