#!/usr/bin/env bash
# `npm run images:smoke`: the gateway and the five subgraphs from the images (ops/images/build.sh), with
# `--network host` against the host's Redis and Kafka, answer a question through the gateway.
#   REDIS_URL (redis://127.0.0.1:6379), KAFKA_BROKERS (127.0.0.1:9092), SMOKE_PORT_BASE (16810: the
#   gateway; the subgraphs take the next four ports), IMAGE_TAG (latest).
# Uses its own Redis key prefix (deleted at the end), Kafka topic and consumer group, and container names.
set -euo pipefail
cd "$(dirname "$0")/../.."
source ops/images/podman-env.sh
images_require_tools

TAG="${IMAGE_TAG:-latest}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
base="${SMOKE_PORT_BASE:-16810}"
run_id="smoke$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
secret="smoke-jwt-secret-$run_id"
started=$(date +%s%N)
ms() { echo $((($(date +%s%N) - started) / 1000000)); }
declare -A PORTS=([gateway]=$base [tenant]=$((base + 1)) [session]=$((base + 2)) [answer]=$((base + 3)) [inference]=$((base + 4)) [handoff]=$((base + 5)))
SERVICES=(tenant session answer inference handoff gateway)

for service in "${SERVICES[@]}"; do
  pm image exists "beedesk-$service:$TAG" || { echo "no image beedesk-$service:$TAG: run npm run images first" >&2; exit 1; }
done
errors=$(mktemp)
cleanup() {
  rm -f "$errors"
  for service in "${SERVICES[@]}"; do pm rm -f -t 5 "$run_id-$service" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

for service in "${SERVICES[@]}"; do
  # No systemd here to time health checks (podman still says so on stderr, kept unless the run fails):
  # `--health-interval disable`, and we run them ourselves below.
  # Run as Kubernetes runs it (ops/k8s/base): read-only root filesystem, no capabilities.
  pm run -d --name "$run_id-$service" --network host --health-interval disable 2>"$errors" \
    --read-only --cap-drop=ALL --security-opt=no-new-privileges \
    -e HOST=127.0.0.1 -e PORT="${PORTS[$service]}" -e NODE_ENV=production -e LOG_LEVEL=warn \
    -e REDIS_URL="$REDIS_URL" -e KAFKA_BROKERS="$KAFKA_BROKERS" -e REDIS_KEY_PREFIX="$run_id" \
    -e KAFKA_TOPIC="inference.requests.$run_id" -e KAFKA_GROUP_ID="group-$run_id" -e KAFKA_PARTITIONS=3 \
    -e JWT_SECRET="$secret" -e INTERNAL_SECRET="smoke-internal-secret-$run_id" \
    -e SUBGRAPH_URL_TENANT="http://127.0.0.1:${PORTS[tenant]}/graphql" \
    -e SUBGRAPH_URL_SESSION="http://127.0.0.1:${PORTS[session]}/graphql" \
    -e SUBGRAPH_URL_ANSWER="http://127.0.0.1:${PORTS[answer]}/graphql" \
    -e SUBGRAPH_URL_INFERENCE="http://127.0.0.1:${PORTS[inference]}/graphql" \
    -e SUBGRAPH_URL_HANDOFF="http://127.0.0.1:${PORTS[handoff]}/graphql" \
    "beedesk-$service:$TAG" >/dev/null || { cat "$errors" >&2; exit 1; }
  # The image's own HEALTHCHECK (node /app/healthcheck.js inside the container) decides when it is up;
  # the gateway composes from the subgraphs, so they come first.
  for _ in $(seq 120); do
    pm healthcheck run "$run_id-$service" >/dev/null 2>&1 && break
    if [ "$(pm inspect -f '{{.State.Running}}' "$run_id-$service")" != true ]; then
      pm logs "$run_id-$service" >&2; echo "$service exited" >&2; exit 1
    fi
    sleep 0.5
  done
  pm healthcheck run "$run_id-$service" >/dev/null || { pm logs "$run_id-$service" >&2; echo "$service not healthy" >&2; exit 1; }
  echo "[smoke $(ms) ms] $service healthy on port ${PORTS[$service]} (user $(pm exec "$run_id-$service" id -un))" >&2
done

[ -f ops/dist/images/smoke-ask.js ] || npx turbo run build --filter=@beedesk/ops --output-logs=errors-only >&2
node ops/dist/images/smoke-ask.js "http://127.0.0.1:${PORTS[gateway]}/graphql" "$secret" smoke-bank "$REDIS_URL" "$run_id"
echo "[smoke $(ms) ms] images smoke test passed" >&2
