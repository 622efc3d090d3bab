#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller) for tests and local dev,
# without Docker: jars come from Maven Central via ops/kafka/pom.xml.
#
#   kafka.sh fetch    download Kafka + runtime deps into the cache (no-op if cached)
#   kafka.sh start    fresh broker on 127.0.0.1:$KAFKA_PORT; prints "127.0.0.1:<port>" last
#   kafka.sh restart  stop it (KAFKA_RESTART_SIGNAL=TERM|KILL) and start it again on the same data
#   kafka.sh resume   start a stopped (killed) broker again on its data
#   kafka.sh stop     stop that broker and delete its data dir
#   kafka.sh status   exit 0 if the broker for $KAFKA_PORT is running
#
# See ops/kafka/README.md for the environment variables.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.2}"
KAFKA_SCALA_VERSION="${KAFKA_SCALA_VERSION:-2.13}"
CACHE_ROOT="${BEEDESK_CACHE_DIR:-${HOME:?HOME is not set}/.cache/beedesk}"
KAFKA_HOME_DIR="${CACHE_ROOT}/kafka-${KAFKA_VERSION}"
LIBS_DIR="${KAFKA_HOME_DIR}/libs"
CORE_JAR="${LIBS_DIR}/kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-/tmp/beedesk-kafka-${KAFKA_PORT}}"
KAFKA_NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-6}"
KAFKA_OFFSETS_PARTITIONS="${KAFKA_OFFSETS_PARTITIONS:-10}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms64m -Xmx384m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=64m -Xss512k -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"

if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
  JAVA="${JAVA_HOME}/bin/java"
else
  JAVA="java"
fi

PID_FILE="${KAFKA_DATA_DIR}/kafka.pid"
LOG_FILE="${KAFKA_DATA_DIR}/server.log"     # log4j INFO log
OUT_FILE="${KAFKA_DATA_DIR}/kafka.out"      # JVM stdout/stderr
PROPS_FILE="${KAFKA_DATA_DIR}/server.properties"
MARKER_FILE="${KAFKA_DATA_DIR}/.beedesk-kafka"  # we only ever rm -rf dirs carrying this

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

port_open() {
  # true if something accepts TCP connections on 127.0.0.1:$1
  if command -v timeout >/dev/null 2>&1; then
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
  else
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
  fi
}

# ---------------------------------------------------------------- fetch ----

is_fetched() {
  [[ -f "${LIBS_DIR}/.complete" && -f "${CORE_JAR}" ]]
}

cmd_fetch() {
  is_fetched && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found (Maven 3.6+ is needed to fetch Kafka)"
  mkdir -p "${KAFKA_HOME_DIR}"

  # Serialise concurrent fetches (e.g. two brokers started in parallel).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${KAFKA_HOME_DIR}/.fetch.lock"
    flock 9
    if is_fetched; then exec 9>&-; return 0; fi
  fi

  log "fetching Kafka ${KAFKA_VERSION} from Maven Central into ${LIBS_DIR} ..."
  local work
  work="$(mktemp -d "${KAFKA_HOME_DIR}/.fetch.XXXXXX")"
  # Run Maven on a copy of the pom so nothing (target/ etc.) lands in the repo.
  cp "${SCRIPT_DIR}/pom.xml" "${work}/pom.xml"
  # shellcheck disable=SC2086
  if ! (cd "${work}" && mvn -B -q -ntp ${KAFKA_MVN_ARGS:-} \
          -Dkafka.version="${KAFKA_VERSION}" \
          -Dscala.binary="${KAFKA_SCALA_VERSION}" \
          dependency:copy-dependencies \
          -DincludeScope=runtime \
          -DoutputDirectory="${work}/libs" >"${work}/mvn.log" 2>&1); then
    tail -n 40 "${work}/mvn.log" >&2 || true
    rm -rf "${work}"
    die "maven failed to fetch kafka_${KAFKA_SCALA_VERSION}:${KAFKA_VERSION}"
  fi
  [[ -f "${work}/libs/kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar" ]] \
    || { rm -rf "${work}"; die "maven ran but the Kafka core jar is missing"; }
  printf '%s\n' "${KAFKA_VERSION}" >"${work}/libs/.complete"
  rm -rf "${LIBS_DIR}"
  mv "${work}/libs" "${LIBS_DIR}"
  rm -rf "${work}"
  if command -v flock >/dev/null 2>&1; then exec 9>&-; fi
}

# ------------------------------------------------------------ lifecycle ----

read_pid() {
  [[ -f "${PID_FILE}" ]] || return 1
  local pid
  pid="$(<"${PID_FILE}")"
  is_uint "${pid}" || return 1
  printf '%s' "${pid}"
}

# true if $1 is alive and is a Kafka broker JVM (guards against pid reuse)
is_our_broker() {
  local pid="$1"
  kill -0 "${pid}" 2>/dev/null || return 1
  if [[ -r "/proc/${pid}/cmdline" ]]; then
    tr '\0' ' ' <"/proc/${pid}/cmdline" | grep -q 'kafka\.Kafka'
  else
    ps -p "${pid}" -o command= 2>/dev/null | grep -q 'kafka\.Kafka'
  fi
}

running_pid() {
  local pid
  pid="$(read_pid)" || return 1
  is_our_broker "${pid}" || return 1
  printf '%s' "${pid}"
}

safe_rm_data_dir() {
  [[ -e "${KAFKA_DATA_DIR}" ]] || return 0
  if [[ -f "${MARKER_FILE}" ]] || [[ -z "$(ls -A "${KAFKA_DATA_DIR}" 2>/dev/null)" ]]; then
    rm -rf "${KAFKA_DATA_DIR}"
  else
    die "refusing to delete ${KAFKA_DATA_DIR}: it was not created by kafka.sh (no .beedesk-kafka marker)"
  fi
}

kill_broker() {
  local pid="$1" waited=0
  kill -TERM "${pid}" 2>/dev/null || return 0
  while kill -0 "${pid}" 2>/dev/null; do
    if (( waited >= KAFKA_STOP_TIMEOUT * 10 )); then
      log "broker pid ${pid} still alive after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

random_cluster_id() {
  # Kafka Uuid string form: 16 random bytes, URL-safe base64, no padding.
  # Like Uuid.randomUuid(), avoid a leading '-' (confuses CLI parsing).
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "${id}" == -* ]] || break
  done
  printf '%s' "${id}"
}

write_properties() {
  cat >"${PROPS_FILE}" <<EOF
# generated by ops/kafka/kafka.sh — single-node KRaft dev/test broker
process.roles=broker,controller
node.id=${KAFKA_NODE_ID:-1}
controller.quorum.voters=${KAFKA_QUORUM_VOTERS:-1@127.0.0.1:${KAFKA_CONTROLLER_PORT}}
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${KAFKA_DATA_DIR}/data

auto.create.topics.enable=true
delete.topic.enable=true
num.partitions=${KAFKA_NUM_PARTITIONS}
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=${KAFKA_OFFSETS_PARTITIONS}
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=${KAFKA_OFFSETS_PARTITIONS}
group.initial.rebalance.delay.ms=0

# keep the footprint small on a 2-core box
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
EOF
  if [[ -n "${KAFKA_EXTRA_PROPERTIES:-}" ]]; then
    printf '\n# KAFKA_EXTRA_PROPERTIES\n%s\n' "${KAFKA_EXTRA_PROPERTIES}" >>"${PROPS_FILE}"
  fi
}

print_log_tail() {
  local f
  for f in "${OUT_FILE}" "${LOG_FILE}"; do
    if [[ -s "${f}" ]]; then
      printf -- '----- tail of %s -----\n' "${f}" >&2
      tail -n 40 "${f}" >&2 || true
    fi
  done
}

launch_and_wait() {
  # A restart must wait for its own "started" line and pid, not the previous run's.
  [[ -f "${LOG_FILE}" ]] && mv -f "${LOG_FILE}" "${LOG_FILE}.previous"
  rm -f "${PID_FILE}"
  local cp="${LIBS_DIR}/*"
  local log4j="-Dlog4j.configuration=file:${SCRIPT_DIR}/log4j.properties"
  # Launch detached (own session), so it outlives the calling shell/test runner.
  # The wrapper writes its own pid and then execs java, so the pid file is the JVM.
  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  # shellcheck disable=SC2086,SC2016
  nohup "${launcher[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "${PID_FILE}" \
    "${JAVA}" ${KAFKA_HEAP_OPTS} ${KAFKA_JVM_OPTS} ${log4j} -Dkafka.logs.dir="${KAFKA_DATA_DIR}" \
    -cp "${cp}" kafka.Kafka "${PROPS_FILE}" \
    </dev/null >"${OUT_FILE}" 2>&1 &
  local launched=$!

  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) pid=""
  while :; do
    [[ -z "${pid}" ]] && pid="$(read_pid || true)"
    if [[ -n "${pid}" ]] && ! kill -0 "${pid}" 2>/dev/null; then
      print_log_tail
      die "broker exited during startup (data dir kept: ${KAFKA_DATA_DIR})"
    fi
    if [[ -z "${pid}" ]] && ! kill -0 "${launched}" 2>/dev/null; then
      print_log_tail
      die "broker launcher exited before writing a pid"
    fi
    if [[ -n "${pid}" ]] && grep -q 'Kafka Server started' "${LOG_FILE}" 2>/dev/null \
        && port_open "${KAFKA_PORT}"; then
      break
    fi
    if (( SECONDS >= deadline )); then
      print_log_tail
      [[ -z "${pid}" ]] && { sleep 0.5; pid="$(read_pid || true)"; }
      kill_broker "${pid:-${launched}}"
      die "broker not ready within ${KAFKA_START_TIMEOUT}s (data dir kept: ${KAFKA_DATA_DIR})"
    fi
    sleep 0.2
  done

}

cmd_start() {
  is_uint "${KAFKA_PORT}" || die "KAFKA_PORT must be a number"
  is_uint "${KAFKA_CONTROLLER_PORT}" || die "KAFKA_CONTROLLER_PORT must be a number"
  is_uint "${KAFKA_START_TIMEOUT}" || die "KAFKA_START_TIMEOUT must be a number of seconds"
  command -v "${JAVA}" >/dev/null 2>&1 || die "java not found (Java 11+ needed; 17 recommended)"

  # Idempotent: already running for this port -> just report it.
  if running_pid >/dev/null; then
    printf '127.0.0.1:%s\n' "${KAFKA_PORT}"
    return 0
  fi

  local p
  for p in "${KAFKA_PORT}" "${KAFKA_CONTROLLER_PORT}"; do
    port_open "${p}" && die "port ${p} on 127.0.0.1 is already in use by another process"
  done

  cmd_fetch

  # Fresh storage every start (stale leftovers from a crashed run are wiped).
  safe_rm_data_dir
  mkdir -p "${KAFKA_DATA_DIR}"
  : >"${MARKER_FILE}"
  write_properties

  local cp="${LIBS_DIR}/*"
  local log4j="-Dlog4j.configuration=file:${SCRIPT_DIR}/log4j.properties"
  local cluster_id
  cluster_id="${KAFKA_CLUSTER_ID:-$(random_cluster_id)}"

  # Format KRaft storage. Short-lived JVM: C1 only, tiny heap.
  # shellcheck disable=SC2086
  if ! "${JAVA}" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        ${log4j} -Dkafka.logs.dir="${KAFKA_DATA_DIR}/format" -cp "${cp}" kafka.tools.StorageTool format \
        -t "${cluster_id}" -c "${PROPS_FILE}" >"${KAFKA_DATA_DIR}/format.out" 2>&1; then
    cat "${KAFKA_DATA_DIR}/format.out" >&2 || true
    die "formatting KRaft storage in ${KAFKA_DATA_DIR}/data failed"
  fi

  launch_and_wait
  printf '127.0.0.1:%s\n' "${KAFKA_PORT}"
}

# Stops the broker with KAFKA_RESTART_SIGNAL (TERM: a clean shutdown, KILL: a crash) and starts it
# again on the same data (same cluster, topics, offsets and producer state): a broker restart as
# production sees one. For tests that must survive one; never use it on a broker others share.
cmd_restart() {
  local pid signal="${KAFKA_RESTART_SIGNAL:-TERM}"
  pid="$(running_pid)" || die "no broker is running for port ${KAFKA_PORT}"
  is_our_broker "${pid}" || die "pid ${pid} is not a broker started by this script"
  if [[ "${signal}" == KILL ]]; then
    kill -KILL "${pid}" 2>/dev/null || true
    while kill -0 "${pid}" 2>/dev/null; do sleep 0.05; done
  else
    kill_broker "${pid}"
  fi
  launch_and_wait
  printf '127.0.0.1:%s\n' "${KAFKA_PORT}"
}

# Starts a stopped (killed) broker again on its data, as a crashed broker comes back.
cmd_resume() {
  if running_pid >/dev/null; then printf '127.0.0.1:%s\n' "${KAFKA_PORT}"; return 0; fi
  [[ -f "${PROPS_FILE}" ]] || die "no broker data in ${KAFKA_DATA_DIR} to resume"
  launch_and_wait
  printf '127.0.0.1:%s\n' "${KAFKA_PORT}"
}

cmd_stop() {
  local pid
  if pid="$(read_pid)" && is_our_broker "${pid}"; then
    kill_broker "${pid}"
  fi
  safe_rm_data_dir
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    printf 'running pid=%s 127.0.0.1:%s data=%s\n' "${pid}" "${KAFKA_PORT}" "${KAFKA_DATA_DIR}"
    return 0
  fi
  printf 'stopped (127.0.0.1:%s)\n' "${KAFKA_PORT}"
  return 1
}

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  start) cmd_start ;;
  restart) cmd_restart ;;
  resume) cmd_resume ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
