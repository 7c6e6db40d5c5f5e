#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, helm and kwok (with
# its stage files) from their Go modules into a cache keyed by version, once per machine. Prints the
# bin folder. Called by the test harness and by .ci/run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="$here/test/controlplane"
k8s=$(awk '$1 == "k8s.io/kubernetes" {print $2; exit}' "$module/go.mod")
etcd=$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$module/go.mod")
helm=$(cat "$module/helm.version")
kwok=$(cat "$module/kwok.version")
cache="${AI_API_GUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-api-guard}"
bin="$cache/controlplane/k8s-$k8s-etcd-$etcd-helm-$helm-kwok-$kwok/bin"

have_all() {
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl helm kwok; do [ -x "$bin/$b" ] || return 1; done
  [ -s "$bin/kwok-stages.yaml" ]
}
if have_all; then echo "$bin"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: the Go toolchain (go 1.24 or newer) is needed to build the local control plane" >&2
  echo "       (etcd $etcd, Kubernetes $k8s, helm $helm, kwok $kwok) into $bin; install Go and retry." >&2
  exit 1
fi

# One build at a time per machine: parallel test runs wait for the first build instead of racing it.
mkdir -p "$(dirname "$bin")"
exec 9>"$(dirname "$bin")/.build.lock"
flock 9
if have_all; then echo "$bin"; exit 0; fi
mkdir -p "$bin.partial"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
minor=$(echo "$k8s" | cut -d. -f2)
version_flags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
build() { # name, package, ldflags
  [ -x "$bin.partial/$1" ] && return 0
  echo "building $1 ($2), once per machine; this takes minutes..." >&2
  (cd "$module" && go build -trimpath -ldflags "$3" -o "$bin.partial/$1" "$2")
}
build etcd go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$version_flags"
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$version_flags"
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$version_flags"
build kubectl k8s.io/kubernetes/cmd/kubectl "$version_flags"
if [ ! -x "$bin.partial/helm" ]; then
  echo "building helm $helm, once per machine..." >&2
  GOBIN="$bin.partial" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$helm" "helm.sh/helm/v3/cmd/helm@$helm"
fi
if [ ! -x "$bin.partial/kwok" ]; then
  echo "building kwok $kwok, once per machine..." >&2
  GOBIN="$bin.partial" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok"
fi
# kwok refuses to start without stages: take the fast node and pod lifecycles its module ships.
stages="$(go mod download -json "sigs.k8s.io/kwok@$kwok" | awk -F'"' '$2 == "Dir" {print $4}')/kustomize/stage"
for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
  printf -- '---\n'; cat "$stages/$f"
done > "$bin.partial/kwok-stages.yaml"
rm -rf "$bin" && mv "$bin.partial" "$bin"
echo "$bin"
