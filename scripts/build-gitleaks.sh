#!/usr/bin/env bash
# Builds gitleaks from its Go module into the tools cache, once per machine, for `npm run eval:corpus`
# (the baseline our detection is compared with). Prints the binary's path.
set -euo pipefail

version="v8.28.0"
cache="${AI_API_GUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-api-guard}"
bin="$cache/tools/gitleaks-$version"
if [ -x "$bin/gitleaks" ]; then echo "$bin/gitleaks"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: the Go toolchain is needed to build gitleaks $version into $bin; install Go and retry." >&2
  exit 1
fi
mkdir -p "$bin"
exec 9>"$bin/.build.lock"
flock 9
if [ -x "$bin/gitleaks" ]; then echo "$bin/gitleaks"; exit 0; fi
echo "building gitleaks $version, once per machine..." >&2
CGO_ENABLED=0 GOBIN="$bin" go install -trimpath -ldflags "-s -w" "github.com/zricethezav/gitleaks/v8@$version" >&2
echo "$bin/gitleaks"
