#!/usr/bin/env bash
# usage: scripts/image-base.sh [TAG]
# A Node 24 base image made here, for machines that reach no image registry: a Debian bookworm root
# filesystem from Debian's packages (mmdebstrap, minimal variant, no docs or locales), the Node 24
# binary the project pins (npm's `node` package, already in node_modules) and npm from the npm
# registry. Committed to buildah's local storage as TAG (default localhost/ai-api-guard-base:node24).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${1:-localhost/ai-api-guard-base:node24}"
work="$(mktemp -d)"
container=""
cleanup() { [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  bookworm "$work/rootfs.tar"

node="$here/node_modules/node/bin/node"
[ -x "$node" ] || { echo "error: $node is missing: run npm ci first" >&2; exit 1; }
mkdir -p "$work/add/usr/local/bin" "$work/add/usr/local/lib/node_modules/npm"
cp "$node" "$work/add/usr/local/bin/node"
npm_version="$("$here/node_modules/.bin/npm" --version 2>/dev/null || npm --version)"
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
tar -xzf "$work"/npm-*.tgz -C "$work/add/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/add/usr/local/bin/npm"

container="$(buildah from scratch)"
buildah add --quiet "$container" "$work/rootfs.tar" /
buildah copy --quiet "$container" "$work/add" /
buildah config --env PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$container"
buildah commit --quiet --rm "$container" "$tag" >/dev/null
container=""
echo "$tag"
