// What the live ISO adds to Debian's initramfs: a cpio archive appended to the root's own initrd
// (the kernel unpacks concatenated archives in order, later files win). It holds the boot script
// /scripts/strata-live, which initramfs-tools sources for `boot=strata-live` and whose mountroot
// finds the CD, mounts the root file system image from it read-only through a loop device and puts
// a tmpfs overlay on top, plus the kernel modules that needs under /strata-live/modules.
//
// Layout of the appended archive (nothing else, so no entry replaces a directory or a symlink of
// Debian's initrd, such as merged-/usr's lib -> usr/lib):
//   scripts/strata-live            the boot script
//   strata-live/                   our own folder
//   strata-live/modules/ORDER      module names, one a line, dependencies first
//   strata-live/modules/NAME.ko    each module, uncompressed
import { writeNewc, type CpioEntry } from "./iso-cpio.ts";
import type { LiveModule } from "./iso-modules.ts";

/** Where the ISO keeps the root file system image, relative to the ISO's root. */
export const ROOT_IMAGE_PATH = "live/root.ext4";

/** The cpio archive to append to Debian's initrd. */
export function liveInitramfsOverlay(
  modules: readonly LiveModule[],
  options: { mtime?: number } = {},
): Buffer {
  const entries: CpioEntry[] = [
    { kind: "file", path: "scripts/strata-live", data: Buffer.from(LIVE_SCRIPT), mode: 0o755 },
    { kind: "dir", path: "strata-live" },
    { kind: "dir", path: "strata-live/modules" },
    {
      kind: "file",
      path: "strata-live/modules/ORDER",
      data: Buffer.from(modules.map((m) => `${m.name}\n`).join("")),
    },
    ...modules.map((m): CpioEntry => ({
      kind: "file",
      path: `strata-live/modules/${m.name}.ko`,
      data: m.data,
    })),
  ];
  return writeNewc(entries, options.mtime === undefined ? {} : { mtime: options.mtime });
}

/**
 * The boot script. initramfs-tools' /init sources /scripts/local, /scripts/nfs and then this, so
 * the mount_* functions here replace theirs; it then calls mount_top, mount_premount, mountroot
 * and, after mountroot, moves /run (and with it everything under /run/live) into the new root.
 */
export const LIVE_SCRIPT = `# Live boot of a Strata ISO (boot=strata-live): the root is live/root.ext4 on the CD, mounted
# read-only through a loop device, under a writable tmpfs overlay. Mounts live under /run/live,
# which /init moves into the new root: /run/live/medium (the ISO), /run/live/rootfs (the image),
# /run/live/overlay (the tmpfs with the overlay's upper and work folders).

strata_live_modules()
{
	local m
	for m in $(cat /strata-live/modules/ORDER); do
		modprobe -q "$m" 2>/dev/null || insmod "/strata-live/modules/$m.ko" 2>/dev/null || true
	done
}

# Mounts the first CD (or disk labelled as the ISO) that holds the root image at /run/live/medium.
strata_live_find_medium()
{
	local tries dev
	tries=0
	while [ "$tries" -lt 60 ]; do
		for dev in /dev/sr* /dev/disk/by-label/*; do
			[ -b "$dev" ] || continue
			if mount -t iso9660 -r "$dev" /run/live/medium 2>/dev/null; then
				if [ -f "/run/live/medium/${ROOT_IMAGE_PATH}" ]; then
					echo "strata-live: medium $dev"
					return 0
				fi
				umount /run/live/medium
			fi
		done
		tries=$((tries + 1))
		sleep 1
	done
	return 1
}

# The root's fstab names the disk the image was made for; on the live system those devices do not
# exist, so their lines are kept as comments in the overlay's copy (the image is unchanged).
strata_live_fstab()
{
	local line fstab
	[ -f "\${rootmnt}/etc/fstab" ] || return 0
	# The initramfs has no rm, so the new text is kept in a variable rather than a temporary file.
	fstab=$(
		while IFS= read -r line || [ -n "$line" ]; do
			set -f
			# shellcheck disable=SC2086
			set -- $line
			set +f
			case "\${1-}" in
			UUID=* | LABEL=* | PARTUUID=* | PARTLABEL=* | /dev/*)
				printf '# not on the live system: %s\\n' "$line" ;;
			*)
				printf '%s\\n' "$line" ;;
			esac
		done <"\${rootmnt}/etc/fstab"
	)
	printf '%s\\n' "$fstab" >"\${rootmnt}/etc/fstab"
}

strata_live_mount_root()
{
	local loop
	strata_live_modules
	mkdir -p /run/live/medium /run/live/rootfs /run/live/overlay
	wait_for_udev 10
	strata_live_find_medium || panic "strata-live: no CD with /${ROOT_IMAGE_PATH} found"
	loop=$(losetup -f 2>/dev/null)
	[ -n "$loop" ] || loop=/dev/loop0
	losetup "$loop" "/run/live/medium/${ROOT_IMAGE_PATH}" ||
		panic "strata-live: cannot attach /${ROOT_IMAGE_PATH} to $loop"
	mount -t ext4 -r "$loop" /run/live/rootfs ||
		panic "strata-live: cannot mount the root image from $loop"
	mount -t tmpfs -o mode=0755 tmpfs /run/live/overlay ||
		panic "strata-live: cannot mount the overlay's tmpfs"
	mkdir -p /run/live/overlay/upper /run/live/overlay/work
	mount -t overlay -o lowerdir=/run/live/rootfs,upperdir=/run/live/overlay/upper,workdir=/run/live/overlay/work \\
		overlay "\${rootmnt}" || panic "strata-live: cannot mount the overlay at \${rootmnt}"
	strata_live_fstab
}

mountroot()
{
	strata_live_mount_root
}

mount_top()
{
	local_top
}

mount_premount()
{
	local_premount
}

mount_bottom()
{
	local_bottom
}
`;
