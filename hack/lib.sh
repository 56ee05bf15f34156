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

# go_tool NAME MODULE VERSION PACKAGE: builds a command from the module proxy through a
# throw-away wrapper module and prints the binary's path.
go_tool() {
  local name=$1 module=$2 version=$3 pkg=$4
  local out="$STOWAGE_CACHE/bin/$name-$version"
  if [[ ! -x "$out" ]]; then
    log "building $name $version from the module proxy"
    local w="$STOWAGE_CACHE/gobuild/$name-$version"
    rm -rf "$w" && mkdir -p "$w"
    (
      cd "$w"
      export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0
      printf 'module stowage.dev/build/%s\n\ngo 1.24\n' "$name" > go.mod
      printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > tools.go
      go get "$module@$version" 2>&1 | grep -v '^go: \(downloading\|added\|upgraded\)' || true
      go mod tidy 2>&1 | grep -v '^go: downloading' || true
      go build -trimpath -ldflags "-s -w" -o "$out.tmp" "$pkg"
    ) >&2
    mv "$out.tmp" "$out"
  fi
  echo "$out"
}
