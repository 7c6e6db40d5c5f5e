#!/usr/bin/env bash
# Installs cyclonus (an independent NetworkPolicy analyzer, used by the controller's tests to check
# what the NetworkPolicies it writes mean) from its Go module into a cache keyed by version, once
# per machine. Prints the binary's path. Called by the integration tests' setup and by .ci/run.
set -euo pipefail

version=v0.5.6
cache="${AI_API_GUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-api-guard}"
dir="$cache/tools/cyclonus-$version"
if [ -x "$dir/cyclonus" ]; then echo "$dir/cyclonus"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: the Go toolchain is needed to install cyclonus $version into $dir; install Go and retry." >&2
  exit 1
fi
mkdir -p "$cache/tools"
exec 9>"$cache/tools/.cyclonus.lock"
flock 9
if [ -x "$dir/cyclonus" ]; then echo "$dir/cyclonus"; exit 0; fi
echo "installing cyclonus $version, once per machine..." >&2
GOBIN="$dir.partial" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "github.com/mattfenwick/cyclonus/cmd/cyclonus@$version" >&2
mv "$dir.partial" "$dir"
echo "$dir/cyclonus"
