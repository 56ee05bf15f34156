# Shared helpers for the hack/ scripts; source it.
# shellcheck shell=bash
HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=versions.env
source "$HACK_DIR/versions.env"
STOWAGE_CACHE="${STOWAGE_CACHE:-$HOME/.cache/stowage}"
CLUSTER_NAME="${CLUSTER_NAME:-stowage}"
KUBECONFIG_PATH="${KUBECONFIG_PATH:-$STOWAGE_CACHE/kind/$CLUSTER_NAME.kubeconfig}"
KIND="$STOWAGE_CACHE/bin/kind-$KIND_VERSION"
K8S_BIN="$STOWAGE_CACHE/k8s/$K8S_VERSION"
mkdir -p "$STOWAGE_CACHE/bin" "$STOWAGE_CACHE/kind"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# lacks_sys_resource: true when this host's capability bounding set withholds
# CAP_SYS_RESOURCE (bit 24), which makes runc fail to start privileged containers and
# pod sandboxes ("unable to apply caps", "can't get final child's PID from pipe").
lacks_sys_resource() {
  local bnd
  bnd=$(awk '/^CapBnd:/{print $2}' /proc/self/status)
  (( ((16#$bnd) >> 24 & 1) == 0 ))
}

# apt_install installs Debian packages that are missing.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]} from Debian"
  [[ $(id -u) -eq 0 ]] || die "installing ${missing[*]} needs root"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# timed NAME CMD...: runs CMD and records its duration for the timing table.
timed() {
  local name=$1 start=$SECONDS; shift
  "$@"
  printf '%s\t%ss\n' "$name" "$((SECONDS - start))" >> "$STOWAGE_CACHE/kind/timings.tsv"
}
