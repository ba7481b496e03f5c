"""The Kubernetes manifests (deploy/k8s), rendered by kustomize as `kubectl apply -k` would and checked
offline: every built-in object against Kubernetes' own schemas (kubernetes-validate), the operators'
custom resources (Strimzi, CloudNativePG) by their structure, and everything against the code: the
commands, ports, settings, databases and topics it names.

kustomize comes from deploy/k8s-tools.sh (KUSTOMIZE, else its cache folder, else PATH). The Strimzi and
CloudNativePG CRD schemas are not in kubernetes-validate and are not fetched here: their resources are
checked field by field below instead.
"""
from __future__ import annotations

import copy
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from services.bootstrap import CHAINS
from services.cli import app
from services.platform.log.topics import Topics
from services.platform.settings import Settings
from services.topology import PARTS
from tests.deploy.conftest import ROOT, tool

K8S = ROOT / "deploy" / "k8s"
OVERLAY = K8S / "overlays" / "example"
KUBERNETES_VERSION = "1.32.0"  # the oldest minor release still maintained upstream when this was written
CUSTOM_GROUPS = ("kafka.strimzi.io", "postgresql.cnpg.io", "monitoring.coreos.com")
HTTP_PORTS = {"intake": "port", "compensation": "compensation_port", "notify": "notify_port", "audit": "audit_port",
              "console": "console_port", "webhooks": "webhooks_port"}
NO_API = ("project", "sla-monitor")  # health and metrics on CHARTERWATCH_METRICS_PORT
STATELESS_HTTP = ("intake", "console", "webhooks")


def kustomize() -> str:
    given = os.environ.get("KUSTOMIZE")
    if given and Path(given).is_file():
        return given
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "charterwatch" / "bin"
    built = sorted(cache.glob("kustomize-v*"))
    if built:
        return str(built[-1])
    return tool("kustomize", "deploy/k8s-tools.sh builds it; deploy/test.sh runs it")


def render(folder: Path) -> list[dict[str, Any]]:
    out = subprocess.run([kustomize(), "build", str(folder)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render(OVERLAY)


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def container(obj: dict[str, Any]) -> dict[str, Any]:
    (only,) = obj["spec"]["template"]["spec"]["containers"]
    return only  # type: ignore[no-any-return]


# --- Kubernetes' schemas ----------------------------------------------------------------------------------

def builtin(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (o for o in objects if o["apiVersion"].split("/")[0] not in CUSTOM_GROUPS)


def test_every_builtin_object_is_valid(objects: list[dict[str, Any]]) -> None:
    checked = 0
    for obj in builtin(objects):
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)  # raises on the first error
        checked += 1
    assert checked >= 40


def test_an_invalid_manifest_is_refused(objects: list[dict[str, Any]]) -> None:
    deployment = copy.deepcopy(of_kind(objects, "Deployment")["intake"])
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    probe = copy.deepcopy(of_kind(objects, "Deployment")["intake"])
    container(probe)["readinessProbe"]["httpGett"] = container(probe)["readinessProbe"].pop("httpGet")
    with pytest.raises(kubernetes_validate.ValidationError):  # strict: an unknown field is an error
        kubernetes_validate.validate(probe, KUBERNETES_VERSION, strict=True)


# --- the operators' resources, by structure -------------------------------------------------------------

def custom_problems(obj: dict[str, Any]) -> list[str]:
    """What is wrong with a Strimzi or CloudNativePG resource, by the fields their operators require."""
    problems: list[str] = []
    spec = obj.get("spec") or {}

    def need(path: str, kind: type | tuple[type, ...]) -> Any:
        value: Any = spec
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            problems.append(f"{obj['kind']} {obj['metadata'].get('name')}: spec.{path} must be {kind}")
        return value

    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", obj["metadata"].get("name", "")):
        problems.append(f"{obj['kind']}: metadata.name is not a DNS name")
    kind, group = obj["kind"], obj["apiVersion"].split("/")[0]
    if group == "kafka.strimzi.io":
        if obj["apiVersion"] != "kafka.strimzi.io/v1beta2":
            problems.append(f"{kind}: apiVersion {obj['apiVersion']}")
        if kind != "Kafka" and "strimzi.io/cluster" not in obj["metadata"].get("labels", {}):
            problems.append(f"{kind} {obj['metadata']['name']}: no strimzi.io/cluster label")
        if kind == "Kafka":
            need("kafka.listeners", list)
            need("kafka.config", dict)
            for key in ("strimzi.io/kraft", "strimzi.io/node-pools"):
                if obj["metadata"].get("annotations", {}).get(key) != "enabled":
                    problems.append(f"Kafka: annotation {key} must be enabled (KRaft node pools)")
            if "zookeeper" in spec:
                problems.append("Kafka: spec.zookeeper (KRaft clusters have none)")
        elif kind == "KafkaNodePool":
            need("replicas", int)
            if not set(need("roles", list) or []) <= {"controller", "broker"}:
                problems.append("KafkaNodePool: roles are controller and broker")
            need("storage.type", str)
        elif kind == "KafkaTopic":
            need("partitions", int)
            need("replicas", int)
            need("config", dict)
        else:
            problems.append(f"unexpected Strimzi kind {kind}")
    elif group == "monitoring.coreos.com":  # deploy/k8s/monitoring: its own tests check the rules
        if obj["apiVersion"] != "monitoring.coreos.com/v1" or kind not in ("PodMonitor", "PrometheusRule"):
            problems.append(f"unexpected Prometheus Operator resource {obj['apiVersion']} {kind}")
    elif group == "postgresql.cnpg.io":
        if obj["apiVersion"] != "postgresql.cnpg.io/v1":
            problems.append(f"{kind}: apiVersion {obj['apiVersion']}")
        if kind == "Cluster":
            need("instances", int)
            need("storage.size", str)
            for role in need("managed.roles", list) or []:
                if not role.get("name") or not (role.get("passwordSecret") or {}).get("name"):
                    problems.append(f"Cluster: managed role without a name or passwordSecret: {role}")
        elif kind == "Database":
            need("cluster.name", str)
            need("name", str)
            need("owner", str)
        else:
            problems.append(f"unexpected CloudNativePG kind {kind}")
    return problems


def test_the_operators_resources_are_well_formed(objects: list[dict[str, Any]]) -> None:
    custom = [o for o in objects if o["apiVersion"].split("/")[0] in CUSTOM_GROUPS]
    assert {o["kind"] for o in custom} >= {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "Database"}
    assert [p for o in custom for p in custom_problems(o)] == []


def test_a_malformed_custom_resource_is_reported(objects: list[dict[str, Any]]) -> None:
    topic = copy.deepcopy(next(iter(of_kind(objects, "KafkaTopic").values())))
    topic["spec"]["partitions"] = "6"
    del topic["metadata"]["labels"]["strimzi.io/cluster"]
    assert len(custom_problems(topic)) == 2


def test_kafka_keeps_three_copies_and_acknowledges_two(objects: list[dict[str, Any]]) -> None:
    (kafka,) = of_kind(objects, "Kafka").values()
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["offsets.topic.replication.factor"] == 3
    pools = of_kind(objects, "KafkaNodePool").values()
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    assert brokers == 3 and controllers == 3
    cluster = kafka["metadata"]["name"]
    for topic in of_kind(objects, "KafkaTopic").values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster
        assert topic["spec"]["replicas"] == 3 and topic["spec"]["config"]["min.insync.replicas"] == 2
    settings = of_kind(objects, "ConfigMap")["charterwatch-config"]["data"]
    assert settings["CHARTERWATCH_KAFKA_REPLICATION_FACTOR"] == "3"  # the topics the code creates itself
    assert settings["CHARTERWATCH_KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    assert settings["CHARTERWATCH_KAFKA_BOOTSTRAP_SERVERS"] == f"{cluster}-kafka-bootstrap:9092"


def test_the_kafka_topics_are_the_codes(objects: list[dict[str, Any]]) -> None:
    from deploy.k8s import generate_topics  # type: ignore[import-not-found]

    assert (K8S / "base" / "kafka-topics.yaml").read_text() == generate_topics.render(), \
        "run: python deploy/k8s/generate_topics.py"
    rendered = {t["spec"]["topicName"]: t["spec"] for t in of_kind(objects, "KafkaTopic").values()}
    specs = {s.name: s for s in Topics().specs()}
    assert set(rendered) == set(specs)
    for name, spec in specs.items():
        assert rendered[name]["partitions"] == spec.partitions
        assert rendered[name]["config"]["retention.ms"] == spec.retention_ms
        assert rendered[name]["config"]["cleanup.policy"] == spec.cleanup_policy


def test_one_database_and_role_per_service_chain(objects: list[dict[str, Any]]) -> None:
    (cluster,) = of_kind(objects, "Cluster").values()
    assert cluster["spec"]["instances"] == 3
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    databases = {initdb["database"]: initdb["owner"]} | {
        d["spec"]["name"]: d["spec"]["owner"] for d in of_kind(objects, "Database").values()}
    assert databases == {chain: chain for chain in CHAINS}
    secrets = of_kind(objects, "Secret")
    roles = {r["name"]: r["passwordSecret"]["name"] for r in cluster["spec"]["managed"]["roles"]}
    roles[initdb["owner"]] = initdb["secret"]["name"]
    urls = env_file(OVERLAY / "secrets" / "databases.env")
    for chain in CHAINS:
        assert roles[chain] in secrets, f"the role {chain}'s password Secret {roles[chain]}"
        url = urlsplit(urls[f"CHARTERWATCH_{chain.upper()}_DATABASE_URL"])
        password = (OVERLAY / "secrets" / "pg" / f"{chain}.password").read_text().strip()
        # the service logs in as the role CloudNativePG made, with the password it was given
        assert (url.username, url.password, url.path) == (chain, password, f"/{chain}")
        assert url.hostname == f"{cluster['metadata']['name']}-rw"


# --- the workloads against the code --------------------------------------------------------------------

def test_every_command_is_the_clis(objects: list[dict[str, Any]]) -> None:
    runner = CliRunner()
    workloads = {**of_kind(objects, "Deployment"), **of_kind(objects, "Job")}
    for name, obj in workloads.items():
        c = container(obj)
        result = runner.invoke(app, [*c["args"], "--help"])
        assert result.exit_code == 0, f"{name}: charterwatch {' '.join(c['args'])}: {result.output}"
    services = {" ".join(container(d)["args"]) for d in of_kind(objects, "Deployment").values()}
    assert services == {"intake", "project", "sla-monitor", "compensation", "notify", "console", "webhooks",
                        "audit serve"}
    jobs = {" ".join(container(j)["args"]) for j in of_kind(objects, "Job").values()}
    assert jobs == {"db upgrade", "topics create"}


def test_probes_ports_and_services(objects: list[dict[str, Any]]) -> None:
    defaults = Settings()
    metrics_port = int(of_kind(objects, "ConfigMap")["charterwatch-config"]["data"]["CHARTERWATCH_METRICS_PORT"])
    services = of_kind(objects, "Service")
    for name, deployment in of_kind(objects, "Deployment").items():
        c = container(deployment)
        (port,) = c["ports"]
        want = metrics_port if name in NO_API else getattr(defaults, HTTP_PORTS[name])
        assert port["containerPort"] == want, name
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}, name
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}, name
        # the PodMonitor (deploy/k8s/monitoring) names a target's service by this label
        assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == name
        service = services[name]
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"], name
        assert [p["targetPort"] for p in service["spec"]["ports"]] == [port["name"]], name


def test_pods_run_locked_down(objects: list[dict[str, Any]]) -> None:
    for name, obj in {**of_kind(objects, "Deployment"), **of_kind(objects, "Job")}.items():
        pod = obj["spec"]["template"]["spec"]
        c = container(obj)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], name
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        data_dir = of_kind(objects, "ConfigMap")["charterwatch-config"]["data"]["CHARTERWATCH_DATA_DIR"]
        assert "emptyDir" in volumes[mounts[data_dir]] and "emptyDir" in volumes[mounts["/tmp"]], name
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{name} {kind}"


def test_disruption_budgets_autoscalers_and_workers(objects: list[dict[str, Any]]) -> None:
    deployments = of_kind(objects, "Deployment")
    budgets = {b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for b in
               of_kind(objects, "PodDisruptionBudget").values()}
    assert budgets == set(deployments)
    autoscaled = {h["spec"]["scaleTargetRef"]["name"]: h["spec"] for h in
                  of_kind(objects, "HorizontalPodAutoscaler").values()}
    assert set(autoscaled) == set(STATELESS_HTTP)
    partitions = {spec.name: spec.partitions for spec in Topics().specs()}
    topics = Topics()
    for name, deployment in deployments.items():
        reads = [getattr(topics, r) for p in PARTS if p.service == name and p.consumer
                 for r in p.reads]
        if not reads:
            continue
        bound = min(partitions[t] for t in reads)  # a consumer group gives each partition to one member
        most = autoscaled[name]["maxReplicas"] if name in autoscaled else deployment["spec"]["replicas"]
        assert most <= bound, f"{name}: {most} replicas, {bound} partitions"
        pod = deployment["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= 30 and "preStop" in container(deployment)["lifecycle"], name


def test_every_reference_resolves(objects: list[dict[str, Any]]) -> None:
    secrets, maps = of_kind(objects, "Secret"), of_kind(objects, "ConfigMap")
    for name, obj in {**of_kind(objects, "Deployment"), **of_kind(objects, "Job")}.items():
        c = container(obj)
        for source in c.get("envFrom", []):
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, name
            else:
                assert source["configMapRef"]["name"] in maps, name
        for var in c.get("env", []):
            ref = (var.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets[ref["name"]]["data"], f"{name}: {var['name']}"
    for ingress in of_kind(objects, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] in of_kind(objects, "Service")


# --- settings ----------------------------------------------------------------------------------------------

def setting_names() -> set[str]:
    """Every environment variable Settings reads (its fields under the prefix, and their aliases)."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for field, info in Settings.model_fields.items():
        names.add(f"{prefix}{field}".upper())
        alias = info.validation_alias
        for choice in getattr(alias, "choices", [alias] if isinstance(alias, str) else []):
            names.add(str(choice).upper())
    return names


def env_file(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_every_setting_named_is_a_setting(objects: list[dict[str, Any]]) -> None:
    named = set(of_kind(objects, "ConfigMap")["charterwatch-config"]["data"])
    for path in (OVERLAY / "secrets").glob("*.env"):
        named |= set(env_file(path))
    for obj in {**of_kind(objects, "Deployment"), **of_kind(objects, "Job")}.values():
        named |= {v["name"] for v in container(obj).get("env", [])} - {"HOME"}
    unknown = sorted(n for n in named if n not in setting_names())
    assert not unknown, f"not settings (services/platform/settings.py): {unknown}"
    assert "CHARTERWATCH_NOT_A_SETTING" not in setting_names()  # the check can fail
