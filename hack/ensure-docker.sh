#!/usr/bin/env bash
# Makes a Docker engine answer: uses the one that runs, or installs Debian's docker.io
# and starts dockerd in the background (there is no systemd here). On hosts that
# withhold CAP_SYS_RESOURCE, dockerd gets runc-wrapper.sh as its default runtime.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then exit 0; fi
apt_install docker.io jq iptables
command -v dockerd >/dev/null || die "dockerd is not installed and could not be installed"

args=()
if lacks_sys_resource; then
  wrapper="$STOWAGE_CACHE/bin/stowage-runc"
  install -m 0755 "$HACK_DIR/kind/runc-wrapper.sh" "$wrapper"
  args+=(--add-runtime "stowage-runc=$wrapper" --default-runtime stowage-runc)
  log "this host withholds CAP_SYS_RESOURCE: dockerd runs containers through $wrapper"
fi
log "starting dockerd (log: $STOWAGE_CACHE/dockerd.log)"
nohup dockerd "${args[@]}" > "$STOWAGE_CACHE/dockerd.log" 2>&1 &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
tail -20 "$STOWAGE_CACHE/dockerd.log" >&2
die "dockerd did not come up within 60 s; the e2e tier cannot run without Docker"
