#!/usr/bin/env bash
# A three-node Apache Kafka cluster (KRaft) on 127.0.0.1, for the tests and benches that must see a
# replicated log: each node is a broker and a controller, so the controller quorum is three and
# survives the loss of any one node (kill -9 included). Same jars as kafka.sh (its cache, its fetch).
#
#   deploy/kafka/cluster.sh start       fetch, format storage if new, start the nodes not running, wait for all
#   deploy/kafka/cluster.sh stop        stop every node (SIGTERM, then SIGKILL after 30 s)
#   deploy/kafka/cluster.sh kill N      kill -9 node N (1..3): a machine lost, no controlled shutdown
#   deploy/kafka/cluster.sh start N     start node N alone (after a kill or a stop), wait until it runs
#   deploy/kafka/cluster.sh restart N   kill -9 node N if it runs, then start it again
#   deploy/kafka/cluster.sh stop N      stop node N gracefully (controlled shutdown: leaders move first)
#   deploy/kafka/cluster.sh status [N]  exit 0 when every node (or node N) runs; prints each node's state
#   deploy/kafka/cluster.sh bootstrap   print the bootstrap servers (127.0.0.1:P,127.0.0.1:P+1,127.0.0.1:P+2)
#
# Settings (environment):
#   KAFKA_CACHE_DIR          where the jars live        (default ~/.cache/charterwatch/kafka, as kafka.sh)
#   KAFKA_CLUSTER_DIR        storage, logs, pids        (default ~/.local/state/charterwatch/kafka-cluster)
#   KAFKA_CLUSTER_PORT       node 1's broker port       (default 9192; node N listens on PORT+N-1)
#   KAFKA_CLUSTER_CONTROLLER_PORT  node 1's controller port (default KAFKA_CLUSTER_PORT+100; node N: +N-1)
#   KAFKA_HEAP_OPTS          JVM heap of each node      (default -Xms128m -Xmx256m: three JVMs share the machine)
#
# Durability as in production (deploy/kafka/README.md): replication factor 3, min.insync.replicas 2, no
# unclean leader election; the internal topics (consumer offsets, transactions) replicated 3 times too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KAFKA_CACHE_DIR:-$HOME/.cache/charterwatch/kafka}
data=${KAFKA_CLUSTER_DIR:-$HOME/.local/state/charterwatch/kafka-cluster}
port=${KAFKA_CLUSTER_PORT:-9192}
cport=${KAFKA_CLUSTER_CONTROLLER_PORT:-$((port + 100))}
nodes=(1 2 3)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
libs="$cache/$version/libs"

broker_port() { echo $((port + $1 - 1)); }
controller_port() { echo $((cport + $1 - 1)); }
node_dir() { echo "$data/node$1"; }
pidfile() { echo "$(node_dir "$1")/kafka.pid"; }
running() { [ -f "$(pidfile "$1")" ] && kill -0 "$(cat "$(pidfile "$1")")" 2>/dev/null; }

check_node() {
  case "${1:-}" in 1|2|3) ;; *) echo "cluster.sh: node must be 1, 2 or 3 (got '${1:-}')" >&2; exit 2 ;; esac
}

java_args() {  # $1: node
  # shellcheck disable=SC2206
  JAVA_ARGS=(${KAFKA_HEAP_OPTS:--Xms128m -Xmx256m} -XX:+UseG1GC -Djava.awt.headless=true
    -Dkafka.logs.dir="$(node_dir "$1")/logs" -Dlog4j2.configurationFile="$here/log4j2.properties"
    -cp "$libs/*")
}

write_props() {  # $1: node
  local n=$1 dir voters="" i
  dir=$(node_dir "$n")
  for i in "${nodes[@]}"; do voters="$voters${voters:+,}$i@127.0.0.1:$(controller_port "$i")"; done
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/kraft-logs
num.partitions=6
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
# fewer than the default 50: every partition is three replicas on one small machine
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
# The log cleaner's buffer (compacted topics) is 128 MiB by default: half of a 256 MiB heap.
log.cleaner.dedupe.buffer.size=16777216
# A node killed outright is fenced (and dropped from every ISR) after this silence; the default 9 s
# would hold every acks=all write that long.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=6000
PROPS
}

format_node() {  # $1: node, $2: cluster id
  local dir
  dir=$(node_dir "$1")
  [ -f "$dir/kraft-logs/meta.properties" ] && return 0
  java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format -t "$2" -c "$dir/server.properties" \
    >"$dir/logs/format.log" 2>&1 || { cat "$dir/logs/format.log" >&2; exit 1; }
}

cluster_id() {
  # One id for the three nodes, kept beside them: a node formatted later must join the same cluster.
  # Kafka's form (16 random bytes, base64url, unpadded, never starting with '-'), made here rather than by
  # a JVM started only for it.
  while [ ! -s "$data/cluster.id" ]; do
    local id
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    case "$id" in -*) ;; *) echo "$id" > "$data/cluster.id" ;; esac
  done
  cat "$data/cluster.id"
}

prepare() {  # $1: node; writes its configuration and formats its storage if new
  mkdir -p "$(node_dir "$1")/logs"
  java_args "$1"
  write_props "$1"
  format_node "$1" "$(cluster_id)"
}

launch() {  # $1: node (prepared); returns once the process runs (not yet ready)
  local n=$1 dir
  dir=$(node_dir "$n")
  java_args "$n"
  : > "$dir/logs/server.log"  # readiness is read from this log: only this start's lines count
  # setsid: the node must outlive the shell that started it, and not get its signals.
  setsid nohup java "${JAVA_ARGS[@]}" kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$n")"
}

wait_ready() {  # nodes...
  local n pending=("$@")
  for _ in $(seq 1 240); do
    local left=()
    for n in "${pending[@]}"; do
      running "$n" || { echo "cluster.sh: node $n exited; see $(node_dir "$n")/logs/" >&2
                        tail -20 "$(node_dir "$n")/logs/stdout.log" >&2 || true; exit 1; }
      # The port opens a little before the broker is registered with the controller quorum.
      if ! { (exec 3<>"/dev/tcp/127.0.0.1/$(broker_port "$n")") 2>/dev/null \
             && grep -q "Kafka Server started" "$(node_dir "$n")/logs/server.log" 2>/dev/null; }; then
        left+=("$n")
      fi
    done
    [ ${#left[@]} -eq 0 ] && return 0
    pending=("${left[@]}")
    sleep 0.5
  done
  echo "cluster.sh: node(s) ${pending[*]} not ready in 120 s; see $data/node*/logs/" >&2
  exit 1
}

start() {  # [node]
  bash "$here/kafka.sh" fetch
  mkdir -p "$data"
  cluster_id >/dev/null
  local todo=() n
  if [ -n "${1:-}" ]; then check_node "$1"; todo=("$1"); else todo=("${nodes[@]}"); fi
  local down=()
  for n in "${todo[@]}"; do running "$n" || down+=("$n"); done
  if [ ${#down[@]} -gt 0 ]; then
    # Formatting starts a JVM per node: in parallel. Then all at once: a node's broker waits for a
    # controller quorum, which needs two of the three.
    local jobs=()
    for n in "${down[@]}"; do prepare "$n" & jobs+=($!); done
    for n in "${jobs[@]}"; do wait "$n"; done
    for n in "${down[@]}"; do launch "$n"; done
  fi
  wait_ready "${todo[@]}"
  echo "cluster.sh: node(s) ${todo[*]} ready; bootstrap $(bootstrap)" >&2
}

stop_pids() {  # signal, nodes...
  local sig=$1 n pids=()
  shift
  for n in "$@"; do
    if running "$n"; then pids+=("$(cat "$(pidfile "$n")")"); kill "-$sig" "${pids[-1]}"; fi
  done
  for _ in $(seq 1 60); do
    local alive=0 p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.5
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for n in "$@"; do rm -f "$(pidfile "$n")"; done
}

stop() {  # [node]
  if [ -n "${1:-}" ]; then check_node "$1"; stop_pids TERM "$1"; echo "cluster.sh: node $1 stopped" >&2; return; fi
  # Together: stopped one by one, the last nodes would wait for a quorum that is already gone.
  stop_pids TERM "${nodes[@]}"
  echo "cluster.sh: stopped" >&2
}

kill_node() {
  check_node "${1:-}"
  if ! running "$1"; then echo "cluster.sh: node $1 is not running" >&2; exit 1; fi
  local pid
  pid=$(cat "$(pidfile "$1")")
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$(pidfile "$1")"
  echo "cluster.sh: node $1 killed (pid $pid)" >&2
}

status() {  # [node]
  local n rc=0 todo=("${nodes[@]}")
  if [ -n "${1:-}" ]; then check_node "$1"; todo=("$1"); fi
  for n in "${todo[@]}"; do
    if running "$n"; then echo "node $n: running (pid $(cat "$(pidfile "$n")")) on 127.0.0.1:$(broker_port "$n")"
    else echo "node $n: down"; rc=1; fi
  done
  return "$rc"
}

bootstrap() {
  local n out=""
  for n in "${nodes[@]}"; do out="$out${out:+,}127.0.0.1:$(broker_port "$n")"; done
  echo "$out"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  kill) kill_node "${2:-}" ;;
  restart) check_node "${2:-}"; if running "$2"; then kill_node "$2"; fi; start "$2" ;;
  status) status "${2:-}" ;;
  bootstrap) bootstrap ;;
  *) echo "usage: $0 start [N] | stop [N] | kill N | restart N | status [N] | bootstrap" >&2; exit 2 ;;
esac
