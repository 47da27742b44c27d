// The `disk:` section of the image template: the formats to write, the disk's size and boot
// mode, the boot test (how long the guest may take to get ready, its memory, and the gates run
// inside it) and the `kind: vm` definition the disk is published to, as the same version as the
// image (`gallery.version`). Checked like the rest of the template; every field but `tests` and
// `image` has a default.
import { parseSize } from "../lib/size.ts";
import { show, type Checker } from "./template-checker.ts";

export const DISK_FORMATS = ["raw", "qcow2", "vhd", "vmdk", "vdi", "iso"] as const;
export type DiskFormatName = (typeof DISK_FORMATS)[number];

/** A check inside the booted guest: a command, a path, or a systemd service. */
export interface GuestGate {
  readonly name: string;
  /** Run by the guest's shell; passes on `exitCode` (default 0) and, when given, `stdout` matching. */
  readonly command?: string;
  readonly exitCode?: number;
  /** A regular expression the command's standard output must match. */
  readonly stdout?: string;
  /** An absolute path in the guest that must exist (or, with `exists: false`, must not). */
  readonly path?: string;
  readonly exists?: boolean;
  /** A unit `systemctl is-active` must report active. */
  readonly service?: string;
}

export interface DiskSection {
  /** Default [qcow2]. */
  readonly formats: readonly DiskFormatName[];
  /** Bytes, a whole number of MiB; default the content plus headroom. */
  readonly size?: number;
  /** Default bios. */
  readonly boot: "bios" | "uefi";
  /** Seconds the guest may take to get ready; default 120. */
  readonly readyTimeout: number;
  /** MiB of guest memory for the boot test; default 1024. */
  readonly memory: number;
  readonly tests: readonly GuestGate[];
  /** GALLERY/NAME of the `kind: vm` definition the disk is published to. */
  readonly image?: string;
}

const DISK = ["formats", "size", "boot", "readyTimeout", "memory", "tests", "image"];
const COMMAND = ["name", "command", "exitCode", "stdout"];
const PATH = ["name", "path", "exists"];
const SERVICE = ["name", "service"];
const MIB = 2 ** 20;
const MAX_SIZE = 2 * 2 ** 40;
const MAX_READY_SECONDS = 3600;
const MIN_MEMORY = 128;
const MAX_MEMORY = 1024 * 1024;
const SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };
/** systemd unit names: letters, digits and `:-_.\@`, with an optional `.type` suffix. */
const UNIT_RE = /^[A-Za-z0-9:_.\\@-]{1,255}$/;

export function diskSection(c: Checker, value: unknown): DiskSection {
  // `disk:` with nothing under it asks for a disk with every default.
  const raw = c.object(value ?? {}, "disk", DISK);
  return {
    formats: raw.formats === undefined ? ["qcow2"] : formats(c, raw.formats),
    ...(raw.size === undefined ? {} : { size: size(c, raw.size) }),
    boot: raw.boot === undefined ? "bios" : boot(c, raw.boot),
    readyTimeout: raw.readyTimeout === undefined ? 120 : readyTimeout(c, raw.readyTimeout),
    memory: raw.memory === undefined ? 1024 : memory(c, raw.memory),
    tests: raw.tests === undefined || raw.tests === null ? [] : guestGates(c, raw.tests),
    ...(raw.image === undefined ? {} : { image: c.imageName(raw.image, "disk.image") }),
  };
}

function formats(c: Checker, value: unknown): DiskFormatName[] {
  if (!Array.isArray(value))
    c.fail("disk.formats", `expected a list of formats (${DISK_FORMATS.join(", ")}), got ${show(value)}`);
  if (value.length === 0) c.fail("disk.formats", "must not be empty");
  const seen = new Set<string>();
  return value.map((v, i) => {
    const path = `disk.formats[${i}]`;
    const text = c.string(v, path);
    if (!(DISK_FORMATS as readonly string[]).includes(text))
      c.fail(path, `expected one of ${DISK_FORMATS.join(", ")}, got "${text}"`);
    if (seen.has(text)) c.fail(path, `"${text}" is listed twice`);
    seen.add(text);
    return text as DiskFormatName;
  });
}

function size(c: Checker, value: unknown): number {
  if (typeof value !== "string" && typeof value !== "number")
    c.fail("disk.size", `expected a size such as "4GiB" or "2048MiB", got ${show(value)}`);
  const bytes = parseSize(value);
  if (bytes === undefined)
    c.fail("disk.size", `expected a size such as "4GiB" or "2048MiB", got ${show(value)}`);
  if (bytes < MIB || bytes > MAX_SIZE) c.fail("disk.size", `expected 1MiB to 2TiB, got ${show(value)}`);
  // vhd (as Azure takes it) needs a whole number of MiB, and every format is made from one raw disk.
  if (bytes % MIB !== 0)
    c.fail(
      "disk.size",
      `must be a whole number of MiB, got ${bytes} bytes (e.g. ${Math.ceil(bytes / MIB)}MiB)`,
    );
  return bytes;
}

function boot(c: Checker, value: unknown): "bios" | "uefi" {
  const text = c.string(value, "disk.boot");
  if (text !== "bios" && text !== "uefi") c.fail("disk.boot", `expected bios or uefi, got "${text}"`);
  return text;
}

/** Seconds: a number, or a duration such as "90s", "2m" or "1m30s". */
function readyTimeout(c: Checker, value: unknown): number {
  let seconds: number | undefined;
  if (typeof value === "number") seconds = value;
  else if (typeof value === "string" && /^(?:\d+[smh])+$/.test(value.trim()))
    seconds = [...value.trim().matchAll(/(\d+)([smh])/g)].reduce(
      (sum, [, n, unit]) => sum + Number(n) * (SECONDS[unit ?? "s"] ?? 1),
      0,
    );
  else if (typeof value === "string" && /^\d+$/.test(value.trim())) seconds = Number(value.trim());
  if (seconds === undefined || !Number.isInteger(seconds))
    c.fail(
      "disk.readyTimeout",
      `expected whole seconds or a duration such as "90s" or "2m", got ${show(value)}`,
    );
  if (seconds < 1 || seconds > MAX_READY_SECONDS)
    c.fail("disk.readyTimeout", `expected 1 to ${MAX_READY_SECONDS} seconds, got ${seconds}`);
  return seconds;
}

/** MiB: a number, or a size such as "2GiB". */
function memory(c: Checker, value: unknown): number {
  let mib: number | undefined;
  if (typeof value === "number") mib = value;
  else if (typeof value === "string") {
    const bytes = /^\d+$/.test(value.trim()) ? Number(value.trim()) * MIB : parseSize(value);
    if (bytes !== undefined && bytes % MIB === 0) mib = bytes / MIB;
  }
  if (mib === undefined || !Number.isInteger(mib))
    c.fail("disk.memory", `expected whole MiB (1024) or a size such as "2GiB", got ${show(value)}`);
  if (mib < MIN_MEMORY || mib > MAX_MEMORY)
    c.fail("disk.memory", `expected ${MIN_MEMORY} to ${MAX_MEMORY} MiB, got ${mib}`);
  return mib;
}

function guestGates(c: Checker, value: unknown): GuestGate[] {
  if (!Array.isArray(value)) c.fail("disk.tests", `expected a list of tests, got ${show(value)}`);
  const names = new Set<string>();
  return value.map((v, i) => guestGate(c, v, `disk.tests[${i}]`, names));
}

function guestGate(c: Checker, value: unknown, path: string, names: Set<string>): GuestGate {
  const { raw, name } = c.gateHead(value, path, names, {
    allowed: [...new Set([...COMMAND, ...PATH, ...SERVICE])],
    kinds: ["command", "path", "service"],
    what: "a guest test",
  });
  if (raw.command !== undefined) {
    c.object(raw, path, COMMAND);
    if (typeof raw.command !== "string")
      c.fail(`${path}.command`, `expected a string (run by the guest's shell), got ${show(raw.command)}`);
    const command = c.string(raw.command, `${path}.command`);
    const exitCode = c.exitCode(raw.exitCode, `${path}.exitCode`);
    return {
      name,
      command,
      exitCode: exitCode ?? 0,
      ...(raw.stdout === undefined ? {} : { stdout: c.regex(raw.stdout, `${path}.stdout`) }),
    };
  }
  if (raw.path !== undefined) {
    c.object(raw, path, PATH);
    const file = c.absolutePath(raw.path, `${path}.path`);
    return {
      name,
      path: file,
      exists: raw.exists === undefined ? true : c.boolean(raw.exists, `${path}.exists`),
    };
  }
  c.object(raw, path, SERVICE);
  const service = c.string(raw.service, `${path}.service`);
  if (!UNIT_RE.test(service))
    c.fail(
      `${path}.service`,
      `expected a systemd unit name such as "ssh" or "nginx.service", got "${service}"`,
    );
  return { name, service };
}
