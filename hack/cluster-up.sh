#!/usr/bin/env bash
# `make up`: a kind cluster named $CLUSTER_NAME with the operator and the three samples,
# Ready. Starts Docker when none answers, builds kind from the module proxy, and builds
# every image offline unless the upstream images can be pulled (STOWAGE_IMAGES=auto,
# the default; or offline / upstream). Re-running it reuses what exists.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SAMPLES_NS="${SAMPLES_NS:-stowage-samples}"
: > "$STOWAGE_CACHE/kind/timings.tsv"

"$HACK_DIR/ensure-docker.sh"
"$HACK_DIR/k8s-binaries.sh" kubectl >/dev/null
kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }
KIND=$(go_tool kind sigs.k8s.io/kind "$KIND_VERSION" sigs.k8s.io/kind)

mode="${STOWAGE_IMAGES:-auto}"
if [[ "$mode" == auto ]]; then
  if docker image inspect "stowage.local/kindnode:$K8S_VERSION" >/dev/null 2>&1; then
    mode=offline
  elif timeout 30 docker pull -q "$UPSTREAM_NODE_IMAGE" >/dev/null 2>&1; then
    mode=upstream
  else
    log "no registry answers: building every image offline"
    mode=offline
  fi
fi
if [[ "$mode" == offline ]]; then
  timed "images build (offline)" "$HACK_DIR/images.sh"
  # shellcheck disable=SC1091
  source "$STOWAGE_CACHE/kind/images.env"
  overlay=config/kind
  engine_images=("$MARIADB_IMAGE" "$REDIS_IMAGE" "$NATS_IMAGE")
else
  NODE_IMAGE="$UPSTREAM_NODE_IMAGE"
  OPERATOR_IMAGE="${OPERATOR_IMAGE:-stowage.local/stowage-operator:dev}"
  (cd "$REPO_ROOT" && make -s image IMG="$OPERATOR_IMAGE")
  overlay=config/default
  engine_images=()
fi

# A cluster whose node stopped with a previous dockerd cannot be revived; replace it.
if "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  "$KIND" get kubeconfig --name "$CLUSTER_NAME" > "$KUBECONFIG_PATH" 2>/dev/null || true
  if ! timeout 20 "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1; then
    log "kind cluster $CLUSTER_NAME does not answer; recreating it"
    "$KIND" delete cluster --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
  fi
fi
if ! "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "creating kind cluster $CLUSTER_NAME from $NODE_IMAGE"
  timed "cluster create" "$KIND" create cluster --name "$CLUSTER_NAME" --image "$NODE_IMAGE" \
    --config "$HACK_DIR/kind/cluster.yaml" --kubeconfig "$KUBECONFIG_PATH" --wait 5m
fi
"$KIND" get kubeconfig --name "$CLUSTER_NAME" > "$KUBECONFIG_PATH"

log "loading images into the cluster"
timed "images load" "$KIND" load docker-image --name "$CLUSTER_NAME" "${engine_images[@]}" "$OPERATOR_IMAGE"

log "installing the operator ($overlay)"
start=$SECONDS
(cd "$REPO_ROOT" && kubectl apply --server-side --force-conflicts -k "$overlay" >/dev/null)
if [[ "$mode" == upstream ]]; then
  kubectl -n stowage-system set image deployment/stowage-operator manager="$OPERATOR_IMAGE" >/dev/null
fi
# A rebuilt image keeps its tag; restart so the operator runs what was just loaded.
kubectl -n stowage-system rollout restart deployment/stowage-operator >/dev/null
kubectl -n stowage-system rollout status deployment/stowage-operator --timeout=180s >/dev/null
printf 'operator install\t%ss\n' "$((SECONDS - start))" >> "$STOWAGE_CACHE/kind/timings.tsv"

log "applying the samples in namespace $SAMPLES_NS"
kubectl create namespace "$SAMPLES_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
(cd "$REPO_ROOT" && kubectl apply -n "$SAMPLES_NS" -k config/samples >/dev/null)
for c in mysqlcluster/mysql-sample rediscluster/redis-sample natscluster/nats-sample; do
  start=$SECONDS
  if ! kubectl -n "$SAMPLES_NS" wait --for=condition=Ready "$c" --timeout=10m >/dev/null; then
    kubectl -n "$SAMPLES_NS" get "$c" -o wide >&2 || true
    kubectl -n "$SAMPLES_NS" get pods,pvc -o wide >&2 || true
    kubectl -n "$SAMPLES_NS" describe pods >&2 || true
    die "$c did not become Ready"
  fi
  printf '%s ready (wait)\t%ss\n' "${c%%/*}" "$((SECONDS - start))" >> "$STOWAGE_CACHE/kind/timings.tsv"
done

cat <<MSG

Stowage is up: kind cluster "$CLUSTER_NAME", operator in stowage-system, samples in $SAMPLES_NS.
  export KUBECONFIG=$KUBECONFIG_PATH
  kubectl get mysqlclusters,redisclusters,natsclusters -n $SAMPLES_NS

Reach each sample (credentials stay in the <cluster>-credentials Secrets):
  MySQL : kubectl -n $SAMPLES_NS exec -it mysql-sample-0 -- sh -c 'MYSQL_PWD="\$MARIADB_ROOT_PASSWORD" mariadb -h mysql-sample-primary -uroot'
  Redis : kubectl -n $SAMPLES_NS exec -it redis-sample-0 -- redis-cli -h redis-sample-primary
  NATS  : kubectl -n $SAMPLES_NS port-forward svc/nats-sample 4222   # user "stowage", password in nats-sample-credentials
Timings:
$(column -t -s $'\t' "$STOWAGE_CACHE/kind/timings.tsv" 2>/dev/null || cat "$STOWAGE_CACHE/kind/timings.tsv")
MSG
