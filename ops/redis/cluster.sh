#!/usr/bin/env bash
# A local Redis Cluster of real redis-server processes on 127.0.0.1: three masters and three replicas
# (REDIS_CLUSTER_MASTERS, REDIS_CLUSTER_REPLICAS), for tests, benchmarks and `npm run cluster:start`.
#
#   cluster.sh start    six nodes on ports REDIS_CLUSTER_PORT..+5 (cluster bus: port+10000), slots
#                       assigned, replicas attached; prints the seed list "127.0.0.1:<port>,…" last
#   cluster.sh stop     stop every node of that cluster and delete its data dir
#   cluster.sh status   exit 0 when the cluster answers `cluster_state:ok`
#   cluster.sh nodes    the `CLUSTER NODES` view of the first node that answers
#
# Environment: REDIS_CLUSTER_PORT (first port, default 7000), REDIS_CLUSTER_MASTERS (3),
# REDIS_CLUSTER_REPLICAS (replicas per master, 1), REDIS_CLUSTER_NODE_TIMEOUT (ms a node may be silent
# before its replica takes over, 3000), REDIS_CLUSTER_DIR (/tmp/beedesk-redis-cluster-<port>).
set -euo pipefail

PORT="${REDIS_CLUSTER_PORT:-7000}"
MASTERS="${REDIS_CLUSTER_MASTERS:-3}"
REPLICAS="${REDIS_CLUSTER_REPLICAS:-1}"
NODE_TIMEOUT="${REDIS_CLUSTER_NODE_TIMEOUT:-3000}"
DIR="${REDIS_CLUSTER_DIR:-/tmp/beedesk-redis-cluster-${PORT}}"
MARKER="${DIR}/.beedesk-redis-cluster"
COUNT=$((MASTERS * (REPLICAS + 1)))

log() { printf 'redis cluster.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ports() { seq "${PORT}" $((PORT + COUNT - 1)); }
seeds() { ports | sed 's/^/127.0.0.1:/' | paste -sd, -; }
cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

node_pid() {
  local file="${DIR}/$1/redis.pid" pid
  [[ -f "${file}" ]] || return 1
  pid="$(<"${file}")"
  [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q "redis-server" || return 1
  printf '%s' "${pid}"
}

cluster_ok() {
  local p
  for p in $(ports); do
    cli "${p}" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && return 0
  done
  return 1
}

cmd_start() {
  command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server; 7.0+ for sharded pub/sub)"
  if cluster_ok && node_pid "${PORT}" >/dev/null; then seeds; return 0; fi
  local p
  for p in $(ports); do
    cli "${p}" ping >/dev/null 2>&1 && die "port ${p} on 127.0.0.1 is already in use"
  done
  cmd_stop
  mkdir -p "${DIR}"
  : >"${MARKER}"
  for p in $(ports); do
    mkdir -p "${DIR}/${p}"
    redis-server --port "${p}" --bind 127.0.0.1 --dir "${DIR}/${p}" --daemonize yes \
      --pidfile "${DIR}/${p}/redis.pid" --logfile "${DIR}/${p}/redis.log" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "${NODE_TIMEOUT}" \
      --cluster-replica-validity-factor 0 --cluster-allow-reads-when-down no \
      --appendonly yes --appendfsync everysec --save '' --protected-mode yes >/dev/null
  done
  for p in $(ports); do
    for _ in $(seq 50); do cli "${p}" ping >/dev/null 2>&1 && break; sleep 0.1; done
    cli "${p}" ping >/dev/null 2>&1 || die "node ${p} did not start (see ${DIR}/${p}/redis.log)"
  done
  # shellcheck disable=SC2046
  redis-cli --cluster create $(ports | sed 's/^/127.0.0.1:/') --cluster-replicas "${REPLICAS}" --cluster-yes >"${DIR}/create.log" 2>&1 \
    || { cat "${DIR}/create.log" >&2; die "redis-cli --cluster create failed"; }
  for _ in $(seq 100); do
    if cluster_ok && [[ "$(cli "${PORT}" cluster nodes | grep -c 'slave\|master')" -eq "${COUNT}" ]]; then
      # Every node must agree before clients are pointed at it.
      local agreed=1
      for p in $(ports); do cli "${p}" cluster info | grep -q '^cluster_state:ok' || agreed=0; done
      if [[ "${agreed}" -eq 1 ]]; then seeds; return 0; fi
    fi
    sleep 0.2
  done
  die "cluster did not reach cluster_state:ok (see ${DIR}/create.log)"
}

cmd_stop() {
  local p pid
  for p in $(ports); do
    if pid="$(node_pid "${p}")"; then kill -TERM "${pid}" 2>/dev/null || true; fi
  done
  for p in $(ports); do
    if pid="$(node_pid "${p}")"; then
      for _ in $(seq 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  done
  if [[ -e "${DIR}" ]]; then
    [[ -f "${MARKER}" ]] || die "refusing to delete ${DIR}: not created by cluster.sh"
    rm -rf "${DIR}"
  fi
}

cmd_status() {
  if cluster_ok; then printf 'ok %s\n' "$(seeds)"; return 0; fi
  printf 'down (%s)\n' "$(seeds)"
  return 1
}

cmd_nodes() {
  local p
  for p in $(ports); do
    cli "${p}" cluster nodes 2>/dev/null && return 0
  done
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  nodes) cmd_nodes ;;
  *) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
