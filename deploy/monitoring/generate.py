"""Writes the monitoring files that are derived, so they never drift from their sources:

- grafana/dashboards/charterwatch.json: the dashboard, from PANELS below (one panel per alerted figure, and
  the domain's figures beside them);
- deploy/k8s/monitoring/prometheusrule.yaml: the PrometheusRule, holding prometheus/rules/charterwatch.yml's
  groups as they are;
- deploy/k8s/monitoring/dashboard-configmap.yaml: the dashboard for Grafana's sidecar (label grafana_dashboard).

Run `python3 deploy/monitoring/generate.py` after changing the rules or the panels;
tests/deploy/test_alert_rules.py fails while a written file differs from what this would write.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RULES = HERE / "prometheus" / "rules" / "charterwatch.yml"
DASHBOARD = HERE / "grafana" / "dashboards" / "charterwatch.json"
K8S = ROOT / "deploy" / "k8s" / "monitoring"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# (title, unit, [(expr, legend)], description); a None title starts a row named by the unit field.
PANELS: list[tuple[str | None, str, list[tuple[str, str]], str]] = [
    (None, "Pipeline", [], ""),
    ("Processes up", "none", [('up{job="charterwatch"}', "{{service}} {{instance}}")],
     "1: scraped; 0: down (alert CharterwatchServiceDown)"),
    ("Consumer lag (records)", "short", [("max by (consumer) (charterwatch_consumer_lag)", "{{consumer}}")],
     "Records on the log not yet read, per consumer (alert CharterwatchConsumerLagHigh)"),
    ("Outbox: oldest event not on the log", "s",
     [("max by (producer) (charterwatch_outbox_oldest_age_seconds)", "{{producer}}")],
     "Per producing service's outbox (alert CharterwatchOutboxRelayStuck)"),
    ("Outbox: events not on the log", "short",
     [("max by (producer) (charterwatch_outbox_unpublished)", "{{producer}}")], "Per producing service's outbox"),
    ("Breach detection delay", "s",
     [("charterwatch_breach_detection_delay_seconds:p99_15m", "p99"),
      ("histogram_quantile(0.5, sum by (le) (rate(charterwatch_breach_detection_delay_seconds_bucket[15m])))",
       "p50")],
     "From a deadline to its breach event (alert CharterwatchBreachDetectionSlow)"),
    ("Cases parked behind a dead letter", "short",
     [("max by (consumer) (charterwatch_consumer_parked_cases)", "parked {{consumer}}"),
      ("max by (consumer) (charterwatch_consumer_waiting_cases)", "waiting {{consumer}}")],
     "Parked: an operator decides (alert CharterwatchDeadLetterParked); waiting: facts from another topic"),
    ("Events handled", "ops",
     [("sum by (consumer, outcome) (rate(charterwatch_consumer_events_total[5m]))", "{{consumer}} {{outcome}}")],
     "Per consumer, by outcome (handled, waiting, parked)"),
    (None, "Notices and webhooks", [], ""),
    ("Notices by provider", "ops",
     [("sum by (channel, provider, outcome) (rate(charterwatch_notices_total[5m]))",
       "{{channel}} {{provider}} {{outcome}}")], "Notices settled per second"),
    ("Notices failing", "percentunit",
     [("provider:charterwatch_notices_failed:ratio_rate15m", "{{channel}} {{provider}}")],
     "Share of notices failed per provider (alert CharterwatchNoticesFailing)"),
    ("Webhook delivery attempts", "ops",
     [("sum by (outcome, error) (rate(charterwatch_webhook_deliveries_total[5m]))", "{{outcome}} {{error}}")],
     "By outcome and error class"),
    ("Webhook failures and disabled subscriptions", "short",
     [("charterwatch_webhook_deliveries_failed:ratio_rate15m", "failed share"),
      ("sum(increase(charterwatch_webhook_subscriptions_disabled_total[1h]))", "disabled in the last hour")],
     "Alerts CharterwatchWebhookDeliveriesFailing, CharterwatchWebhookSubscriptionDisabled"),
    (None, "Intake", [], ""),
    ("Intake requests by status", "reqps",
     [('sum by (status) (service:charterwatch_http_requests:rate5m{service="intake"})', "{{status}}")], ""),
    ("Intake 5xx share", "percentunit",
     [('service:charterwatch_http_5xx:ratio_rate5m{service="intake"}', "5xx")],
     "Alert CharterwatchIntakeErrors"),
    ("Intake latency p99", "s",
     [('service:charterwatch_http_request_seconds:p99_5m{service="intake"}', "p99")],
     "Alert CharterwatchIntakeSlow"),
    (None, "Charters", [], ""),
    ("Open obligations", "short", [("sum by (kind) (charterwatch_obligations_open)", "{{kind}}")], ""),
    ("Breaches", "short",
     [("sum by (kind, severity) (increase(charterwatch_obligation_breaches_total[1h]))", "{{kind}} {{severity}}")],
     "Per hour"),
    ("Remedies", "short", [("sum by (kind) (increase(charterwatch_remedies_total[1d]))", "{{kind}}")],
     "Per day, by kind"),
]


def dashboard() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    x = y = 0
    for n, (title, unit, targets, description) in enumerate(PANELS, start=1):
        if title is None:
            y += 0 if x == 0 else 8
            x = 0
            panels.append({"id": n, "type": "row", "title": unit, "collapsed": False,
                           "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
            y += 1
            continue
        panels.append({
            "id": n, "type": "timeseries", "title": title, "description": description, "datasource": DATASOURCE,
            "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
            "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                        for i, (expr, legend) in enumerate(targets)],
        })
        x += 8
        if x >= 24:
            x, y = 0, y + 8
    return {
        "uid": "charterwatch", "title": "CharterWatch", "tags": ["charterwatch"], "timezone": "browser",
        "schemaVersion": 39, "version": 1, "editable": False, "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus",
                                 "current": {"text": "Prometheus", "value": "charterwatch-prometheus"}}]},
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_json() -> str:
    return json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (PromQL, the dashboard's JSON) as literal blocks, as a person writes them."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def _yaml(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


HEADER = "# Generated by deploy/monitoring/generate.py from {source}: edit that, then run it again.\n"


def prometheus_rule() -> str:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    doc = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
           "metadata": {"name": "charterwatch", "labels": {"app.kubernetes.io/part-of": "charterwatch"}},
           "spec": {"groups": groups}}
    return HEADER.format(source="deploy/monitoring/prometheus/rules/charterwatch.yml") + _yaml(doc)


def dashboard_configmap() -> str:
    doc = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "charterwatch-dashboard",
                        "labels": {"grafana_dashboard": "1", "app.kubernetes.io/part-of": "charterwatch"}},
           "data": {"charterwatch.json": dashboard_json()}}
    return HEADER.format(source="the panels in deploy/monitoring/generate.py") + _yaml(doc)


def outputs() -> dict[Path, str]:
    return {DASHBOARD: dashboard_json(), K8S / "prometheusrule.yaml": prometheus_rule(),
            K8S / "dashboard-configmap.yaml": dashboard_configmap()}


def main() -> int:
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
