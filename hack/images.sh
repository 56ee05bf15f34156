#!/usr/bin/env bash
# Builds every image the kind cluster needs with no registry: the node image (Debian
# base + Kubernetes built from the module proxy + preloaded control-plane images), the
# engine images (MariaDB and Redis from Debian, NATS from our go.mod) and the operator.
# Each piece is cached (binaries under $STOWAGE_CACHE, images in Docker), so a second
# run only rebuilds what changed. Writes the image names to $STOWAGE_CACHE/kind/images.env.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BASE_IMAGE="stowage.local/debian:$DEBIAN_SUITE"
NODE_IMAGE="${NODE_IMAGE:-stowage.local/kindnode:$K8S_VERSION}"
MARIADB_IMAGE="${MARIADB_IMAGE:-stowage.local/mariadb:10.11}"
REDIS_IMAGE="${REDIS_IMAGE:-stowage.local/redis:7}"
NATS_IMAGE="${NATS_IMAGE:-stowage.local/nats:2}"
OPERATOR_IMAGE="${OPERATOR_IMAGE:-stowage.local/stowage-operator:dev}"
LPP_IMAGE="stowage.local/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION"
CTX="$STOWAGE_CACHE/images"
mkdir -p "$CTX"

# build TAG CONTEXT [docker build args...]
build() {
  local tag=$1 ctx=$2; shift 2
  log "image $tag"
  local out
  if ! out=$(docker build -q -t "$tag" "$@" "$ctx" 2>&1); then
    printf '%s\n' "$out" >&2
    die "building $tag failed"
  fi
}

base_image() {
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  apt_install debootstrap
  local mirror
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n "$mirror" ]] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n "$mirror" ]] || die "no Debian mirror configured in /etc/apt"
  local rootfs; rootfs=$(mktemp -d)
  log "debootstrap $DEBIAN_SUITE from $mirror (about 2 minutes)"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$STOWAGE_CACHE/kind/debootstrap.log" 2>&1 ||
    { tail -20 "$STOWAGE_CACHE/kind/debootstrap.log" >&2; die "debootstrap failed"; }
  tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

# scratch_image TAG BINARY [ENTRYPOINT-NAME]: a static command alone in an image.
scratch_image() {
  local tag=$1 bin=$2 name=${3:-$(basename "$2")}
  local ctx="$CTX/scratch-$name"
  mkdir -p "$ctx" && cp "$bin" "$ctx/$name"
  printf 'FROM scratch\nCOPY %s /usr/local/bin/%s\nENV PATH=/usr/local/bin\nENTRYPOINT ["/usr/local/bin/%s"]\n' \
    "$name" "$name" "$name" > "$ctx/Dockerfile"
  build "$tag" "$ctx"
}

# debian_image TAG BINARY [PACKAGES]: a command that needs a userland.
debian_image() {
  local tag=$1 bin=$2 packages=${3:-}
  local ctx; ctx="$CTX/debian-$(basename "$bin")"
  mkdir -p "$ctx" && cp "$bin" "$ctx/" && cp "$HACK_DIR/images/k8s/debian.Dockerfile" "$ctx/Dockerfile"
  build "$tag" "$ctx" --build-arg "BASE=$BASE_IMAGE" --build-arg "BIN=$(basename "$bin")" --build-arg "PACKAGES=$packages"
}

pause_binary() {
  local out="$STOWAGE_CACHE/bin/pause-$K8S_VERSION"
  if [[ ! -x "$out" ]]; then
    local src
    src="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')/build/pause/linux/pause.c"
    [[ -f "$src" ]] || die "pause.c not found in the kubernetes module ($src)"
    gcc -Os -static -DVERSION="$K8S_VERSION-stowage" -o "$out" "$src" && strip "$out"
  fi
  echo "$out"
}

control_plane_images() {
  "$HACK_DIR/k8s-binaries.sh" kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm kubectl etcd >/dev/null
  local c
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    scratch_image "registry.k8s.io/$c:$K8S_VERSION" "$K8S_BIN/$c"
  done
  debian_image "registry.k8s.io/kube-proxy:$K8S_VERSION" "$K8S_BIN/kube-proxy" "iptables nftables conntrack ipset kmod"
  "$K8S_BIN/etcd" --version | grep -q "etcd Version: $ETCD_VERSION" || die "built etcd is not $ETCD_VERSION; update ETCD_VERSION and hack/kind/cluster.yaml"
  debian_image "registry.k8s.io/etcd:$ETCD_VERSION-0" "$K8S_BIN/etcd"
  scratch_image "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" \
    "$(go_tool coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns)" coredns
  local pause; pause=$(pause_binary)
  scratch_image registry.k8s.io/pause:3.10 "$pause" pause
  docker tag registry.k8s.io/pause:3.10 registry.k8s.io/pause:3.10.1
  scratch_image "$LPP_IMAGE" "$(go_tool local-path-provisioner github.com/rancher/local-path-provisioner \
    "$LOCAL_PATH_PROVISIONER_VERSION" github.com/rancher/local-path-provisioner)" local-path-provisioner
}

PRELOADED=(
  "registry.k8s.io/kube-apiserver:$K8S_VERSION" "registry.k8s.io/kube-controller-manager:$K8S_VERSION"
  "registry.k8s.io/kube-scheduler:$K8S_VERSION" "registry.k8s.io/kube-proxy:$K8S_VERSION"
  "registry.k8s.io/etcd:$ETCD_VERSION-0" "registry.k8s.io/coredns/coredns:$COREDNS_VERSION"
  registry.k8s.io/pause:3.10 registry.k8s.io/pause:3.10.1 "$LPP_IMAGE" "$BASE_IMAGE"
)

node_image() {
  local kind_dir
  kind_dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  [[ -d "$kind_dir/images/base/files" ]] || die "kind's base files not found in the module cache ($kind_dir)"
  local ctx="$CTX/kindbase"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -r "$kind_dir/images/base/files" "$ctx/files" && chmod -R u+w "$ctx/files"
  cp "$HACK_DIR/images/kindbase/Dockerfile" "$ctx/"
  build stowage.local/kindbase:"$KIND_VERSION" "$ctx" --build-arg "BASE=$BASE_IMAGE"

  ctx="$CTX/kindnode"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" "$ctx/"
  cp "$HACK_DIR/images/kindnode/Dockerfile" "$HACK_DIR/kind/runc-wrapper.sh" \
     "$HACK_DIR/kind/10-stowage-ptp.conflist" "$HACK_DIR/kind/local-path-storage.yaml" "$ctx/"
  local wrap=0
  lacks_sys_resource && wrap=1
  build "stowage.local/kindnode-stage:$K8S_VERSION" "$ctx" --build-arg "BASE=stowage.local/kindbase:$KIND_VERSION" \
    --build-arg "K8S_VERSION=$K8S_VERSION" --build-arg "WRAP_RUNC=$wrap"

  # The node is rebuilt only when the stage or a preloaded image changed.
  local inputs
  inputs=$(for i in "stowage.local/kindnode-stage:$K8S_VERSION" "${PRELOADED[@]}"; do docker image inspect -f '{{.Id}}' "$i"; done | sha256sum | cut -c1-16)
  if [[ "$(docker image inspect -f '{{index .Config.Labels "stowage.inputs"}}' "$NODE_IMAGE" 2>/dev/null || true)" == "$inputs" ]]; then
    log "image $NODE_IMAGE is current"
    return 0
  fi
  log "image $NODE_IMAGE: preloading ${#PRELOADED[@]} images into the node's containerd"
  local cid
  cid=$(docker run -d --privileged --entrypoint=sleep "stowage.local/kindnode-stage:$K8S_VERSION" infinity)
  # shellcheck disable=SC2064
  trap "docker rm -f $cid >/dev/null 2>&1 || true" RETURN
  docker exec "$cid" bash -c 'nohup containerd > /var/log/containerd.log 2>&1 &'
  for _ in $(seq 1 30); do docker exec "$cid" ctr version >/dev/null 2>&1 && break; sleep 1; done
  docker save "${PRELOADED[@]}" |
    docker exec -i "$cid" ctr -n k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null
  docker exec "$cid" bash -c 'kill $(pidof containerd); while pidof containerd >/dev/null; do sleep 0.2; done'
  docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' --change 'CMD []' \
    --change "LABEL stowage.inputs=$inputs" "$cid" "$NODE_IMAGE" >/dev/null
}

engine_images() {
  build "$MARIADB_IMAGE" "$HACK_DIR/images/mariadb" --build-arg "BASE=$BASE_IMAGE"
  build "$REDIS_IMAGE" "$HACK_DIR/images/redis" --build-arg "BASE=$BASE_IMAGE"
  local ctx="$CTX/nats"
  mkdir -p "$ctx" && cp "$HACK_DIR/images/nats/Dockerfile" "$ctx/"
  (cd "$REPO_ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/nats-server" github.com/nats-io/nats-server/v2)
  build "$NATS_IMAGE" "$ctx"
}

operator_image() {
  (cd "$REPO_ROOT" && make -s build)
  local ctx="$CTX/operator"
  mkdir -p "$ctx/bin" && cp "$REPO_ROOT/bin/stowage-operator" "$ctx/bin/" && cp "$HACK_DIR/operator.Dockerfile" "$ctx/Dockerfile"
  build "$OPERATOR_IMAGE" "$ctx"
}

main() {
  "$HACK_DIR/ensure-docker.sh"
  timed "base image" base_image
  timed "control-plane images" control_plane_images
  timed "node image" node_image
  timed "engine images" engine_images
  timed "operator image" operator_image
  cat > "$STOWAGE_CACHE/kind/images.env" <<ENV
NODE_IMAGE=$NODE_IMAGE
MARIADB_IMAGE=$MARIADB_IMAGE
REDIS_IMAGE=$REDIS_IMAGE
NATS_IMAGE=$NATS_IMAGE
OPERATOR_IMAGE=$OPERATOR_IMAGE
ENV
}
main "$@"
