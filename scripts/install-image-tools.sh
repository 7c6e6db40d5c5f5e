#!/usr/bin/env bash
# Installs what building the container image needs when no Docker engine runs here: buildah (builds
# the Dockerfile without a daemon) and mmdebstrap (makes the local base image from Debian packages).
# Debian or Ubuntu, as root. Nothing happens when they are already there or a Docker engine answers.
set -euo pipefail
if docker info >/dev/null 2>&1; then echo "a Docker engine answers: nothing to install"; exit 0; fi
missing=()
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
if [ ${#missing[@]} -eq 0 ]; then echo "buildah and mmdebstrap are installed"; exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "error: install ${missing[*]} (Debian packages) or run a Docker engine, then retry" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap >/dev/null
echo "installed ${missing[*]}"
