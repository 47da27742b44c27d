// `--platform OS/ARCH[/VARIANT]` as docker and podman take it. Strata runs and builds for the
// host's platform only (no emulation); pulls and copies may name another one.
import { usageError } from "./errors.ts";

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** The platform this machine runs: linux and Node's architecture in OCI's words. */
export const hostPlatform = (): Platform => ({
  os: "linux",
  architecture: process.arch === "x64" ? "amd64" : process.arch === "ia32" ? "386" : process.arch,
});

export const formatPlatform = (p: Platform): string =>
  `${p.os}/${p.architecture}${p.variant === undefined ? "" : `/${p.variant}`}`;

/** Parses `OS/ARCH[/VARIANT]`; usage error otherwise. */
export function parsePlatform(text: string): Platform {
  const m = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/.exec(text.trim().toLowerCase());
  if (m === null) throw usageError(`Invalid --platform "${text}": expected OS/ARCH, like linux/amd64`);
  return { os: m[1] ?? "", architecture: m[2] ?? "", ...(m[3] === undefined ? {} : { variant: m[3] }) };
}

/** Accepts the host's own platform for commands that cannot emulate another one. */
export function requireHostPlatform(text: string | undefined, verb: "run" | "build"): void {
  if (text === undefined) return;
  const asked = parsePlatform(text);
  const host = hostPlatform();
  if (asked.os === host.os && asked.architecture === host.architecture) return;
  throw usageError(
    `Cannot ${verb} a "${formatPlatform(asked)}" image: Strata ${verb}s images for this machine's platform (${formatPlatform(host)}) only, without emulation`,
  );
}
