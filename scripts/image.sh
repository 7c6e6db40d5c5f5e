#!/usr/bin/env bash
# npm run image: builds the Dockerfile into TAG (default localhost/ai-api-guard:<version>). With a Docker
# engine: `docker build` from the public Node 24 base. Without one: buildah (vfs storage, chroot
# isolation: no daemon, no privileges beyond root) from BASE, by default a local base made from Debian
# packages (scripts/image-base.sh; scripts/install-image-tools.sh installs buildah and mmdebstrap).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The CAs this machine trusts (e.g. a TLS-inspecting proxy's) reach `npm ci` in the build as a secret.
secret=()
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ] && secret=(--secret "id=ca,src=$NODE_EXTRA_CA_CERTS")
tag="${TAG:-localhost/ai-api-guard:$(node -p 'require("./package.json").version')}"
if docker info >/dev/null 2>&1; then
  docker build "${secret[@]}" ${BASE:+--build-arg BASE="$BASE"} -t "$tag" .
  echo "$tag"
  exit 0
fi
command -v buildah >/dev/null 2>&1 || { echo "error: no Docker engine and no buildah: run scripts/install-image-tools.sh" >&2; exit 1; }
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}" BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"
base="${BASE:-localhost/ai-api-guard-base:node24}"
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  [ -n "${BASE:-}" ] && { echo "error: the base image $base is not in buildah's storage" >&2; exit 1; }
  bash scripts/image-base.sh "$base" >/dev/null
fi
buildah bud --quiet --layers=false "${secret[@]}" --build-arg BASE="$base" -t "$tag" . >/dev/null
echo "$tag"
