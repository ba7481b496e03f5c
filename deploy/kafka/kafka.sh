#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: broker + controller in one process) on
# 127.0.0.1, run straight from jars that Maven resolves. No Docker needed.
#
#   deploy/kafka/kafka.sh fetch   resolve the jars into the cache (idempotent)
#   deploy/kafka/kafka.sh start   fetch, format storage if new, start, wait until it accepts connections
#   deploy/kafka/kafka.sh stop    stop the broker this script started
#   deploy/kafka/kafka.sh status  exit 0 when it runs
#
# Settings (environment):
#   KAFKA_CACHE_DIR  where the jars live    (default ~/.cache/charterwatch/kafka)
#   KAFKA_DATA_DIR   storage, logs, pid     (default ~/.local/state/charterwatch/kafka)
#   KAFKA_PORT       broker port            (default 9092; the controller takes KAFKA_PORT+1)
#   KAFKA_HEAP_OPTS  JVM heap               (default -Xms256m -Xmx1g)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KAFKA_CACHE_DIR:-$HOME/.cache/charterwatch/kafka}
data=${KAFKA_DATA_DIR:-$HOME/.local/state/charterwatch/kafka}
port=${KAFKA_PORT:-9092}
cport=$((port + 1))
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
libs="$cache/$version/libs"
pidfile="$data/kafka.pid"

fetch() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || { echo "kafka.sh: mvn not found (Java 17 and Maven are required)" >&2; exit 1; }
  mkdir -p "$libs"
  echo "kafka.sh: resolving org.apache.kafka:kafka_2.13:$version through Maven into $libs" >&2
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

java_args() {
  # shellcheck disable=SC2206
  JAVA_ARGS=(${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true
    -Dkafka.logs.dir="$data/logs" -Dlog4j2.configurationFile="$here/log4j2.properties"
    -cp "$libs/*")
}

write_props() {
  cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/kraft-logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
}

wait_ready() {
  for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      # The port opens a little before the broker is registered with the controller.
      if grep -q "Kafka Server started" "$data/logs/server.log" 2>/dev/null; then return 0; fi
    fi
    running || { echo "kafka.sh: broker exited; see $data/logs/" >&2; tail -20 "$data/logs/stdout.log" >&2 || true; exit 1; }
    sleep 0.5
  done
  echo "kafka.sh: broker did not become ready in 60 s; see $data/logs/" >&2
  exit 1
}

start() {
  fetch
  if running; then echo "kafka.sh: already running (pid $(cat "$pidfile")) on 127.0.0.1:$port" >&2; return 0; fi
  mkdir -p "$data/logs"
  java_args
  write_props
  if [ ! -f "$data/kraft-logs/meta.properties" ]; then
    cluster_id=$(java "${JAVA_ARGS[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" \
      -c "$data/server.properties" >"$data/logs/format.log" 2>&1 \
      || { cat "$data/logs/format.log" >&2; exit 1; }
  fi
  # setsid: the broker must outlive the shell that started it, and not get its signals.
  setsid nohup java "${JAVA_ARGS[@]}" kafka.Kafka "$data/server.properties" >"$data/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  wait_ready
  echo "kafka.sh: broker ready on 127.0.0.1:$port (pid $(cat "$pidfile"))" >&2
}

stop() {
  if ! running; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "kafka.sh: stopped" >&2
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) running ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
