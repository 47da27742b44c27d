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
  [qemu-system-x86_64]=qemu-system-x86
  [mke2fs]=e2fsprogs
  [sfdisk]=fdisk
  [mkfs.fat]=dosfstools
  [mcopy]=mtools
  [grub-mkimage]=grub-common
  [grub-mkrescue]=grub-common
  [xorriso]=xorriso
  [faketime]=faketime
  [setfattr]=attr
  [cpio]=cpio
  [zstd]=zstd
  [rpm]=rpm
  [rpmbuild]=rpm
  [kubectl]=kubernetes-client # Debian's kubectl: real objects for the admission webhook tests
  [chromium]=chromium          # the web console's browser test, driven through playwright-core
)
# Files a package brings without a command of its own: GRUB's BIOS and UEFI modules, OVMF.
declare -A need_file=(
  [/usr/lib/grub/i386-pc/boot.img]=grub-pc-bin
  [/usr/lib/grub/x86_64-efi/linux.mod]=grub-efi-amd64-bin
  [/usr/share/ovmf/OVMF.fd]=ovmf
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
for file in "${!need_file[@]}"; do
  [ -e "$file" ] || missing+=("${need_file[$file]}")
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
