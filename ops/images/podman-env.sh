# Sourced by the image scripts: podman as it runs on these machines (no systemd, no cgroup v2
# delegation, no raisable ulimits), set up here so nobody has to remember it.
#   - runc instead of crun, cgroupfs instead of systemd: `--runtime runc --cgroup-manager=cgroupfs`;
#   - a containers.conf with `default_ulimits = []` (the default nofile ulimit cannot be set here).
# Installs podman, buildah, mmdebstrap and runc from Debian when missing and we are root.

IMAGES_STATE_DIR="${IMAGES_STATE_DIR:-${HOME}/.cache/beedesk/images}"
mkdir -p "$IMAGES_STATE_DIR"

images_require_tools() {
  local missing=()
  for tool in podman buildah mmdebstrap runc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} from Debian" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah mmdebstrap runc >/dev/null
  else
    echo "missing ${missing[*]}: install them (apt-get install podman buildah mmdebstrap runc)" >&2
    return 1
  fi
}

export CONTAINERS_CONF="$IMAGES_STATE_DIR/containers.conf"
cat >"$CONTAINERS_CONF" <<'CONF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF

# podman with the flags this machine needs (also in containers.conf, said twice on purpose: a user's
# own ~/.config/containers/containers.conf may override the file above, the flags cannot be).
pm() { podman --runtime runc --cgroup-manager=cgroupfs "$@"; }
