// The kernel modules the live boot needs before it can mount its root (the CD drive, iso9660, the
// loop device, ext4 and overlayfs), found in the root's modules.dep with their dependencies, in the
// order they must be loaded. Modules built into the kernel are left out; compressed modules are
// decompressed, because the initramfs's insmod (klibc's) hands the file to the kernel as it is.
import { spawn } from "node:child_process";
import { access, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DiskError } from "./errors.ts";

/** Needed to mount the root: a missing one is an error. */
export const REQUIRED_MODULES = ["cdrom", "sr_mod", "isofs", "loop", "ext4", "overlay"] as const;
/** Helpful when present: CD controllers (IDE on QEMU's pc machine, AHCI on q35) and crc32c for ext4's checksums. */
export const OPTIONAL_MODULES = ["ata_piix", "ahci", "crc32c_generic", "crc32c_intel"] as const;

export interface LiveModule {
  /** The module name with "-" as "_", as the kernel names it. */
  readonly name: string;
  /** The uncompressed .ko. */
  readonly data: Buffer;
}

/** The folder of the kernel's modules in a root: usr/lib/modules/VER (merged /usr) or lib/modules/VER. */
export async function modulesDir(root: string, kernelVersion: string): Promise<string> {
  for (const dir of [
    join(root, "usr/lib/modules", kernelVersion),
    join(root, "lib/modules", kernelVersion),
  ]) {
    try {
      await access(join(dir, "modules.dep"));
      return dir;
    } catch {
      // try the next
    }
  }
  throw new DiskError(
    "NOT_BOOTABLE",
    `Cannot make a live ISO: the root has no modules.dep for kernel "${kernelVersion}": install the kernel's modules (depmod runs with the kernel package)`,
  );
}

const moduleName = (path: string) =>
  basename(path)
    .replace(/\.ko(\.(xz|zst|gz))?$/, "")
    .replace(/-/g, "_");

/** Parses modules.dep: module name → { path, deps (paths) }. */
export function parseModulesDep(text: string): Map<string, { path: string; deps: string[] }> {
  const byName = new Map<string, { path: string; deps: string[] }>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((d) => d !== "");
    byName.set(moduleName(path), { path, deps });
  }
  return byName;
}

/** Names of the modules built into the kernel, from modules.builtin. */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .map(moduleName),
  );
}

/**
 * The modules to load, dependencies first, each once: the required ones (an error when neither a
 * module nor built in) and the optional ones that exist.
 */
export function loadOrder(
  dep: Map<string, { path: string; deps: string[] }>,
  builtin: Set<string>,
  kernelVersion: string,
): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name) || visiting.has(name)) return;
    const entry = dep.get(name);
    if (entry === undefined) return;
    visiting.add(name);
    for (const d of entry.deps) visit(moduleName(d));
    visiting.delete(name);
    order.push(name);
  };
  for (const name of REQUIRED_MODULES) {
    if (builtin.has(name)) continue;
    if (!dep.has(name)) {
      throw new DiskError(
        "NOT_BOOTABLE",
        `Cannot make a live ISO: kernel "${kernelVersion}" has no module "${name}" and does not build it in: a live boot needs ${REQUIRED_MODULES.join(", ")}`,
      );
    }
    visit(name);
  }
  for (const name of OPTIONAL_MODULES) if (!builtin.has(name)) visit(name);
  return order;
}

/** The modules of the live boot, read from the root, uncompressed, in load order. */
export async function liveModules(root: string, kernelVersion: string): Promise<LiveModule[]> {
  const dir = await modulesDir(root, kernelVersion);
  const dep = parseModulesDep(await readFile(join(dir, "modules.dep"), "utf8"));
  let builtin = new Set<string>();
  try {
    builtin = parseModulesBuiltin(await readFile(join(dir, "modules.builtin"), "utf8"));
  } catch {
    // a kernel without modules.builtin builds nothing in that we look for
  }
  const modules: LiveModule[] = [];
  for (const name of loadOrder(dep, builtin, kernelVersion)) {
    const path = join(dir, dep.get(name)?.path ?? "");
    modules.push({ name, data: await uncompressed(path) });
  }
  return modules;
}

async function uncompressed(path: string): Promise<Buffer> {
  if (path.endsWith(".ko")) return readFile(path);
  if (path.endsWith(".ko.gz")) return gunzipSync(await readFile(path));
  if (path.endsWith(".ko.xz")) return decompress("xz", path);
  if (path.endsWith(".ko.zst")) return decompress("zstd", path);
  throw new DiskError(
    "NOT_BOOTABLE",
    `Cannot make a live ISO: module "${path}" is in a format the live boot cannot load`,
  );
}

function decompress(tool: "xz" | "zstd", path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, ["-d", "-c", "--", path], { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) =>
      reject(new DiskError("TOOL_FAILED", `Cannot decompress module "${path}": ${tool}: ${error.message}`)),
    );
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(
          new DiskError(
            "TOOL_FAILED",
            `Cannot decompress module "${path}": ${tool} exited ${code}: ${stderr.trim()}`,
          ),
        );
    });
  });
}
