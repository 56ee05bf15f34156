#!/usr/bin/env bash
# Installs the database servers the data-plane tier runs on loopback (Debian packages).
# Their init scripts are never started: tests run their own processes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
apt_install mariadb-server mariadb-client redis-server

# nats-server as a separate process (so a test can SIGKILL it), built from the version
# in go.mod — the one the operator embeds and its default image runs.
version=$(cd "$REPO_ROOT" && go list -m -f '{{.Version}}' github.com/nats-io/nats-server/v2)
bin="$STOWAGE_CACHE/bin/nats-server-$version"
if [[ ! -x "$bin" ]]; then
  log "building nats-server $version"
  (cd "$REPO_ROOT" && CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" github.com/nats-io/nats-server/v2) && mv "$bin.tmp" "$bin"
fi
