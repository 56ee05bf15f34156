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

# An S3 server for the backup tests: versitygw, a real S3 API over a directory, built
# from the Go module proxy (not a dependency of the module itself).
vgw_version=$(sed -n 's/^const VersityGWVersion = "\(.*\)"/\1/p' "$REPO_ROOT/internal/dbtest/s3.go")
vgw="$STOWAGE_CACHE/bin/versitygw-$vgw_version"
if [[ ! -x "$vgw" ]]; then
  log "building versitygw $vgw_version (S3 server for the backup tests; a few minutes, once)"
  tmp=$(mktemp -d)
  GOBIN="$tmp" CGO_ENABLED=0 go install "github.com/versity/versitygw/cmd/versitygw@$vgw_version"
  mv "$tmp/versitygw" "$vgw"
  rm -rf "$tmp"
fi
