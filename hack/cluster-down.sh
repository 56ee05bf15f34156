#!/usr/bin/env bash
# `make down`: deletes the kind cluster (images stay cached in Docker).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if [[ -x "$KIND" ]] && docker info >/dev/null 2>&1; then
  "$KIND" delete cluster --name "$CLUSTER_NAME"
fi
rm -f "$KUBECONFIG_PATH"
