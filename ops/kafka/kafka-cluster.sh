#!/usr/bin/env bash
# Three Apache Kafka brokers in KRaft mode on 127.0.0.1, each broker and controller (a quorum of three),
# replicating like production: default replication factor 3, min.insync.replicas 2, internal topics
# replicated 3; a broker that stops heartbeating loses its partitions' leadership after 4 s (Kafka's
# default is 9 s). Built on kafka.sh (one data dir, pid and log per broker); heaps are small for 2-core boxes.
#
#   kafka-cluster.sh start          the three brokers; prints "127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>" last
#   kafka-cluster.sh stop           stop all three and delete their data
#   kafka-cluster.sh kill <n>       SIGKILL broker n (1–3), keeping its data
#   kafka-cluster.sh restart <n>    start broker n again on its data (after kill)
#   kafka-cluster.sh status         each broker's state
#
# Environment: KAFKA_CLUSTER_PORT (first client port, default 9192; broker n listens on PORT+2(n-1) and its
# controller on the next port), KAFKA_CLUSTER_DIR (/tmp/beedesk-kafka-cluster-<port>), KAFKA_HEAP_OPTS
# (-Xms64m -Xmx256m per broker), and kafka.sh's other variables.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${KAFKA_CLUSTER_PORT:-9192}"
DIR="${KAFKA_CLUSTER_DIR:-/tmp/beedesk-kafka-cluster-${PORT}}"
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms64m -Xmx256m}"

log() { printf 'kafka-cluster.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

port_of() { printf '%s' $((PORT + 2 * ($1 - 1))); }
voters() {
  local n out=()
  for n in 1 2 3; do out+=("${n}@127.0.0.1:$(($(port_of "${n}") + 1))"); done
  (IFS=,; printf '%s' "${out[*]}")
}
brokers() {
  local n out=()
  for n in 1 2 3; do out+=("127.0.0.1:$(port_of "${n}")"); done
  (IFS=,; printf '%s' "${out[*]}")
}

# Runs kafka.sh <command> for broker n with its ports, data dir and the cluster's settings.
broker() {
  local n="$1" command="$2"
  KAFKA_NODE_ID="${n}" KAFKA_PORT="$(port_of "${n}")" KAFKA_CONTROLLER_PORT="$(($(port_of "${n}") + 1))" \
    KAFKA_QUORUM_VOTERS="$(voters)" KAFKA_DATA_DIR="${DIR}/broker-${n}" \
    KAFKA_EXTRA_PROPERTIES="default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
unclean.leader.election.enable=false
replica.lag.time.max.ms=10000
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
${KAFKA_EXTRA_PROPERTIES:-}" \
    bash "${SCRIPT_DIR}/kafka.sh" "${command}"
}

cmd_start() {
  bash "${SCRIPT_DIR}/kafka.sh" fetch
  mkdir -p "${DIR}"
  [[ -f "${DIR}/cluster-id" ]] || head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | sed 's/^-/A/' >"${DIR}/cluster-id"
  export KAFKA_CLUSTER_ID
  KAFKA_CLUSTER_ID="$(<"${DIR}/cluster-id")"
  # A broker finishes starting only once a majority of the controllers runs: start all three at once.
  local n pids=()
  for n in 1 2 3; do
    broker "${n}" start >"${DIR}/start-${n}.out" 2>&1 &
    pids+=($!)
  done
  local failed=0
  for n in 1 2 3; do wait "${pids[$((n - 1))]}" || { failed=1; cat "${DIR}/start-${n}.out" >&2; }; done
  (( failed == 0 )) || { cmd_stop; die "a broker did not start"; }
  brokers
  printf '\n'
}

cmd_stop() {
  local n
  for n in 1 2 3; do broker "${n}" stop || true; done
  rm -rf "${DIR}"
}

cmd_kill() {
  local n="${1:?broker number 1-3}" pid
  pid="$(cat "${DIR}/broker-${n}/kafka.pid")"
  tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -q 'kafka\.Kafka' || die "pid ${pid} is not broker ${n}"
  kill -KILL "${pid}"
  while kill -0 "${pid}" 2>/dev/null; do sleep 0.05; done
}

cmd_restart() {
  local n="${1:?broker number 1-3}"
  broker "${n}" resume
}

cmd_status() {
  local n
  for n in 1 2 3; do broker "${n}" status || true; done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) cmd_kill "${2:-}" ;;
  restart) cmd_restart "${2:-}" ;;
  status) cmd_status ;;
  *) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
