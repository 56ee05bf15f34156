#!/usr/bin/env bash
# `make e2e`: brings the kind cluster up, runs the Go e2e suite (test/e2e, build tag
# e2e) against it and brings it down again, whatever the outcome. Docker that cannot
# run at all is an error, never a silent skip.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
keep="${KEEP_CLUSTER:-}"
cleanup() { [[ -n "$keep" ]] || "$HACK_DIR/cluster-down.sh" || true; }
trap cleanup EXIT
# Every run starts from a new cluster, so no state leaks from an earlier run.
[[ -n "$keep" ]] || "$HACK_DIR/cluster-down.sh" >/dev/null 2>&1 || true
"$HACK_DIR/cluster-up.sh"
cd "$REPO_ROOT"
KUBECONFIG="$KUBECONFIG_PATH" STOWAGE_TIMINGS="$STOWAGE_CACHE/kind/timings.tsv" KUBECTL="$K8S_BIN/kubectl" \
  go test -tags e2e -count=1 -timeout 45m -v ./test/e2e/ 2>&1 | tee "$STOWAGE_CACHE/kind/e2e.log" |
  grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|e2e_test|_test.go|\|' || true
grep -qE '^(ok|PASS)' "$STOWAGE_CACHE/kind/e2e.log" && ! grep -qE '^(FAIL|--- FAIL)' "$STOWAGE_CACHE/kind/e2e.log"
