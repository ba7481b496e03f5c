"""The three-node Kafka cluster of ``deploy/kafka/cluster.sh``, driven from a test: started on free ports
in a directory of its own, a node killed (``kill -9``) and started again, and asked who leads what."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "kafka" / "cluster.sh"
NODES = (1, 2, 3)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(start: int = 29192) -> int:
    """A base port P with P..P+2 (brokers) and P+100..P+102 (controllers) free: the script's layout."""
    for base in range(start, start + 2000, 7):
        if all(_free(base + d) for d in (0, 1, 2, 100, 101, 102)):
            return base
    raise AssertionError(f"no free block of ports from {start}")


class KafkaCluster:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.env = {**os.environ, "KAFKA_CLUSTER_DIR": str(data_dir), "KAFKA_CLUSTER_PORT": str(port),
                    "KAFKA_CLUSTER_CONTROLLER_PORT": str(port + 100)}
        self.bootstrap = ",".join(f"127.0.0.1:{port + n - 1}" for n in NODES)

    @staticmethod
    def missing() -> str | None:
        """What the script needs and this machine lacks, if anything."""
        if shutil.which("java") is None:
            return "java (Java 17) for deploy/kafka/cluster.sh"
        if shutil.which("mvn") is None and not any(Path.home().glob(".cache/charterwatch/kafka/*/libs/.complete")) \
                and not os.environ.get("KAFKA_CACHE_DIR"):
            return "mvn (Maven resolves Kafka's jars) for deploy/kafka/cluster.sh"
        return None

    def script(self, *args: str, timeout: float = 240) -> str:
        done = subprocess.run(["bash", str(SCRIPT), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"cluster.sh {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self, node: int | None = None) -> None:
        self.script("start", *([str(node)] if node else []))

    def kill(self, node: int) -> None:
        self.script("kill", str(node))

    def stop(self) -> None:
        self.script("stop", timeout=90)

    def running(self) -> set[int]:
        out = subprocess.run(["bash", str(SCRIPT), "status"], env=self.env, capture_output=True, text=True).stdout
        return {int(line.split()[1].rstrip(":")) for line in out.splitlines() if "running" in line}

    # -- what the brokers say --------------------------------------------------------------------------
    def _admin(self) -> Any:
        from kafka import KafkaAdminClient

        return KafkaAdminClient(bootstrap_servers=self.bootstrap.split(","), request_timeout_ms=10_000)

    def partitions(self, topics: list[str]) -> list[dict[str, Any]]:
        """Each partition of ``topics``: topic, partition, leader, replicas, isr."""
        admin = self._admin()
        try:
            described = admin.describe_topics(topics)
        finally:
            admin.close()
        return [{"topic": t["name"], "partition": p["partition_index"], "leader": p["leader_id"],
                 "replicas": list(p["replica_nodes"]), "isr": list(p["isr_nodes"])}
                for t in described for p in t["partitions"]]

    def busiest_leader(self, topics: list[str]) -> int:
        """The node leading most partitions of ``topics``: killing it moves the most leaders."""
        leaders = Counter(p["leader"] for p in self.partitions(topics) if p["leader"] in NODES)
        return leaders.most_common(1)[0][0]

    def under_replicated(self, topics: list[str]) -> list[dict[str, Any]]:
        return [p for p in self.partitions(topics) if sorted(p["isr"]) != sorted(p["replicas"])]

    def topic_config(self, topic: str, *names: str) -> dict[str, str]:
        from kafka.admin import ConfigResource, ConfigResourceType

        admin = self._admin()
        try:
            answer = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, list(names))])
        finally:
            admin.close()
        entries = answer["topic"][topic]
        return {name: entries[name]["value"] for name in names if name in entries}
