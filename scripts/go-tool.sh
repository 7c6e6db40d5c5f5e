#!/usr/bin/env bash
# Installs one Go command (NAME from MODULE_PATH@VERSION) into the tools cache, once per machine, under a
# lock so parallel test runs wait for the first install. Prints the binary's path. Used for the tools the
# tests and benchmarks compare against: cyclonus (NetworkPolicy analyzer), gitleaks (secret scanner).
# usage: scripts/go-tool.sh NAME MODULE_PATH VERSION
set -euo pipefail

name="$1" package="$2" version="$3"
cache="${AI_API_GUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-api-guard}"
dir="$cache/tools/$name-$version"
if [ -x "$dir/$name" ]; then echo "$dir/$name"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: the Go toolchain is needed to install $name $version into $dir; install Go and retry." >&2
  exit 1
fi
mkdir -p "$cache/tools"
exec 9>"$cache/tools/.$name.lock"
flock 9
if [ -x "$dir/$name" ]; then echo "$dir/$name"; exit 0; fi
echo "installing $name $version from its Go module, once per machine..." >&2
rm -rf "$dir.partial"
GOBIN="$dir.partial" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$package@$version" >&2
mv "$dir.partial" "$dir"
echo "$dir/$name"
