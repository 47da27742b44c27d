// The root filesystem of a disk: the image's layers unpacked in order (whiteouts applied, device
// nodes and extended attributes kept, owners kept), and what in it makes it bootable — a kernel,
// the initramfs that goes with it, its modules and an init.
import { lstat, readdir, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { extractLayer } from "../builder/index.ts";
import { DiskError } from "./errors.ts";

/** An image to make a disk of: its manifest digest and its layer blobs (files), base first. */
export interface DiskSource {
  readonly digest: string;
  readonly layers: readonly { readonly path: string; readonly mediaType: string }[];
}

export interface BootFiles {
  readonly kernelVersion: string;
  /** Paths inside the root, absolute: /boot/vmlinuz-6.1.0-28-amd64 … */
  readonly kernel: string;
  readonly initrd: string;
  readonly init: string;
}

/** Unpacks the image's layers onto `dir` (an empty folder), as root does: owners, devices, xattrs. */
export async function unpackRoot(source: DiskSource, dir: string): Promise<void> {
  for (const [i, layer] of source.layers.entries()) {
    await extractLayer(layer.path, dir, {
      name: `layer ${i + 1} of ${source.digest}`,
      chown: true,
      devices: "create",
      xattrs: "apply",
    });
  }
}

const NEEDS =
  "a bootable image needs a Linux kernel (/boot/vmlinuz-VERSION), its initramfs " +
  "(/boot/initrd.img-VERSION) and modules (/lib/modules/VERSION), and an init (/sbin/init); " +
  "on Debian install linux-image-amd64 and systemd-sysv (initramfs-tools comes with the kernel)";

/** Compares kernel versions the way `sort -V` would, enough for 6.1.0-28 < 6.1.0-30 < 6.10.2. */
function versionCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    if (x === y) continue;
    const nx = Number(x);
    const ny = Number(y);
    if (i % 2 === 1 && Number.isFinite(nx) && Number.isFinite(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Follows symlinks inside the root (never out of it); undefined when the path does not resolve. */
async function resolveInside(root: string, path: string, depth = 0): Promise<string | undefined> {
  if (depth > 40) return undefined;
  const parts = path.split("/").filter((p) => p !== "");
  let current = "/";
  for (const [i, part] of parts.entries()) {
    const next = posix.join(current, part);
    const stats = await lstat(join(root, next)).catch(() => undefined);
    if (stats === undefined) return undefined;
    if (stats.isSymbolicLink()) {
      const target = await readlink(join(root, next));
      const resolved = posix.resolve(current, target);
      const rest = parts.slice(i + 1).join("/");
      return resolveInside(root, rest === "" ? resolved : `${resolved}/${rest}`, depth + 1);
    }
    current = next;
  }
  return current;
}

async function isFile(root: string, path: string): Promise<string | undefined> {
  const resolved = await resolveInside(root, path);
  if (resolved === undefined) return undefined;
  const stats = await lstat(join(root, resolved)).catch(() => undefined);
  return stats?.isFile() === true ? resolved : undefined;
}

/** The newest kernel with its initramfs and modules, and the init; NOT_BOOTABLE says what is missing. */
export async function findBootFiles(root: string): Promise<BootFiles> {
  const boot = await readdir(join(root, "boot")).catch(() => [] as string[]);
  const versions = boot
    .filter((name) => name.startsWith("vmlinuz-"))
    .map((name) => name.slice("vmlinuz-".length))
    .sort(versionCompare);
  const kernelVersion = versions.at(-1);
  if (kernelVersion === undefined) throw new DiskError("NOT_BOOTABLE", `The image has no kernel: ${NEEDS}`);
  const kernel = `/boot/vmlinuz-${kernelVersion}`;
  const initrd = await isFile(root, `/boot/initrd.img-${kernelVersion}`);
  if (initrd === undefined)
    throw new DiskError(
      "NOT_BOOTABLE",
      `The image has the kernel ${kernelVersion} but no initramfs for it (/boot/initrd.img-${kernelVersion}): ${NEEDS}`,
    );
  const modules = await lstat(join(root, "lib/modules", kernelVersion)).catch(() => undefined);
  if (modules?.isDirectory() !== true)
    throw new DiskError(
      "NOT_BOOTABLE",
      `The image has the kernel ${kernelVersion} but not its modules (/lib/modules/${kernelVersion}): ${NEEDS}`,
    );
  for (const candidate of ["/sbin/init", "/lib/systemd/systemd", "/usr/lib/systemd/systemd"]) {
    const init = await isFile(root, candidate);
    if (init !== undefined) return { kernelVersion, kernel, initrd, init: candidate };
  }
  throw new DiskError("NOT_BOOTABLE", `The image has a kernel but no init (/sbin/init): ${NEEDS}`);
}
