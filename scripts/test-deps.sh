#!/usr/bin/env bash
# Installs the Debian tools the integration and e2e tests use. As root it apt-installs what is
# missing; otherwise it stops and names the packages to install.
set -euo pipefail

declare -A need=(
  [skopeo]=skopeo
  [umoci]=umoci
  [runc]=runc
  [busybox]=busybox-static
  [docker-registry]=docker-registry
  [podman]=podman
  [buildah]=buildah
  [ctr]=containerd # and the containerd daemon
  [mmdebstrap]=mmdebstrap
  [qemu-img]=qemu-utils
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then missing+=(postgresql); fi

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing test tools: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
