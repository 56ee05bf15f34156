#!/usr/bin/env bash
# Builds Kubernetes and etcd binaries from the Go module proxy into a cache, because
# setup-envtest and the kind node image both want binaries this machine cannot download.
#
#   hack/k8s-binaries.sh [component ...]      prints the directory holding them
#
# Components: kube-apiserver kube-controller-manager kube-scheduler kubelet kubeadm
# kubectl kube-proxy etcd (default: what envtest needs). One wrapper module serves all of
# them, so envtest and the kind node image share a single Kubernetes build; missing
# commands are compiled in one `go build` so shared packages compile once.
#
# Env: K8S_VERSION (default from hack/versions.env), STOWAGE_CACHE (default ~/.cache/stowage)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
version="v${K8S_VERSION#v}"
cache="${STOWAGE_CACHE:-$HOME/.cache/stowage}"
out="$cache/k8s/$version"
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(kube-apiserver kube-controller-manager etcd)

missing=()
for c in "${components[@]}"; do [[ -x "$out/$c" ]] || missing+=("$c"); done
if [[ ${#missing[@]} -eq 0 ]]; then echo "$out"; exit 0; fi

log() { echo "k8s-binaries: $*" >&2; }
mkdir -p "$out"
# The lock keeps a background build and a test run from building the same tree twice.
exec 9>"$out/.lock"
flock 9
missing=()
for c in "${components[@]}"; do [[ -x "$out/$c" ]] || missing+=("$c"); done
if [[ ${#missing[@]} -eq 0 ]]; then echo "$out"; exit 0; fi

export CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod
wrapper="$cache/k8s/wrapper-$version"
if [[ ! -f "$wrapper/go.sum" ]]; then
  log "resolving k8s.io/kubernetes@$version"
  rm -rf "$wrapper" && mkdir -p "$wrapper"
  kmod="$(cd "$wrapper" && go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
  [[ -f "$kmod" ]] || { log "k8s.io/kubernetes@$version is not served by the module proxy"; exit 1; }
  staging="v0.${version#v1.}"
  {
    printf 'module stowage.dev/k8s-binaries\n\ngo %s\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' \
      "$(awk '$1=="go"{print $2; exit}' "$kmod")" "$version"
    # kubernetes' go.mod pins its staging repos at v0.0.0 with ./staging replaces;
    # the published v0.<minor>.<patch> tags are the same code.
    awk -v s="$staging" '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print "\t" $1 " => " $1 " " s }' "$kmod"
    printf ')\n'
  } > "$wrapper/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for c in kube-apiserver kube-controller-manager kube-scheduler kubelet kubeadm kubectl kube-proxy; do
      printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"
    done
    printf '\t_ "go.etcd.io/etcd/server/v3/etcdmain"\n)\n'
  } > "$wrapper/tools.go"
  mkdir -p "$wrapper/cmd/etcd"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' \
    > "$wrapper/cmd/etcd/main.go"
  (cd "$wrapper" && go mod tidy >&2)
fi

major="${version#v}"; major="${major%%.*}"
minor="${version#v*.}"; minor="${minor%%.*}"
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=$major -X $p.gitMinor=$minor"
  ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=2025-01-01T00:00:00Z"
done
pkgs=()
for c in "${missing[@]}"; do
  case "$c" in
    etcd) pkgs+=("./cmd/etcd") ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kubeadm|kubectl|kube-proxy)
      pkgs+=("k8s.io/kubernetes/cmd/$c") ;;
    *) log "unknown component $c"; exit 2 ;;
  esac
done
log "building ${missing[*]} ($version); a cold build takes 10-30 min on 2 cores"
start=$SECONDS
tmp="$out/.build" && rm -rf "$tmp" && mkdir -p "$tmp"
(cd "$wrapper" && go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}")
for c in "${missing[@]}"; do mv "$tmp/$c" "$out/$c"; done
rmdir "$tmp"
log "built in $((SECONDS - start))s"
echo "$out"
