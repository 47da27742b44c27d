// Starts runc on a prepared bundle and waits for the container to exit. The container's root
// is mounted by the same process that becomes runc, in a private mount namespace of its own, so
// no mount ever shows on the host and none outlives the container, whatever ends it. Standard
// streams are passed through as file descriptors (no copying) or, for callers without them,
// through pipes; signals sent to Strata reach the container.
import { spawn, type StdioOptions } from "node:child_process";
import { open } from "node:fs/promises";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import { RunError } from "./errors.ts";

/** How the container's standard streams are connected. */
export type Stdio =
  /** This process's own descriptors; standard input only when `stdin` is set (else /dev/null). */
  | { readonly kind: "inherit"; readonly stdin: boolean }
  | {
      readonly kind: "pipe";
      readonly stdin?: Readable;
      readonly stdout: (chunk: Buffer) => void;
      readonly stderr: (chunk: Buffer) => void;
    };

export interface LaunchSpec {
  /** runc's state folder. */
  readonly runcRoot: string;
  readonly id: string;
  /** The bundle folder: config.json, whose root is `mount.merged`. */
  readonly bundle: string;
  /** overlayfs options and mount point: mounted privately just before runc starts. */
  readonly mount: { readonly options: string; readonly merged: string };
  readonly stdio: Stdio;
}

// Runs as `sh -c SCRIPT strata-run OPTIONS MERGED RUNC-ARGS…` inside `unshare --mount`.
const MOUNT_THEN_RUNC = 'mount -t overlay overlay -o "$1" "$2" || exit 125; shift 2; exec runc "$@"';

// The monitor of a detached container, as `sh -c SCRIPT strata-run OPTIONS MERGED STATUS RUNC-ARGS…`
// inside `unshare --mount`: it mounts the root, waits for runc and writes the exit status.
const MONITOR = [
  'status="$3"',
  'if ! mount -t overlay overlay -o "$1" "$2"; then echo 125 > "$status.tmp"; mv "$status.tmp" "$status"; exit 125; fi',
  "shift 3",
  'runc "$@"',
  'echo $? > "$status.tmp"',
  'mv "$status.tmp" "$status"',
].join("\n");

export interface DetachedSpec {
  readonly runcRoot: string;
  readonly id: string;
  readonly bundle: string;
  readonly mount: { readonly options: string; readonly merged: string };
  /** Where the monitor writes the exit status when the container ends. */
  readonly statusFile: string;
  /** Files the container's standard output and error are appended to. */
  readonly stdoutFile: string;
  readonly stderrFile: string;
}

/**
 * Starts a container in the background, in a session of its own: a shell in a private mount
 * namespace mounts the root, runs runc in the foreground and records the exit status; this
 * process may end meanwhile. Resolves to the monitor's pid once it has started.
 */
export async function launchDetached(spec: DetachedSpec): Promise<number> {
  const out = await open(spec.stdoutFile, "a");
  const err = await open(spec.stderrFile, "a");
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(
        "unshare",
        inPrivateMounts(MONITOR, [spec.mount.options, spec.mount.merged, spec.statusFile], runcRun(spec)),
        { stdio: ["ignore", out.fd, err.fd], detached: true },
      );
      child.on("error", (error: NodeJS.ErrnoException) =>
        reject(new RunError(`cannot start unshare: ${error.code ?? error.message}`)),
      );
      child.on("spawn", () => {
        child.unref();
        resolve(child.pid ?? 0);
      });
    });
  } finally {
    await out.close();
    await err.close();
  }
}

/** runc's arguments to run the bundle's container in the foreground. */
const runcRun = (spec: { runcRoot: string; bundle: string; id: string }) => [
  "--root",
  spec.runcRoot,
  "run",
  "--bundle",
  spec.bundle,
  spec.id,
];

/** unshare's arguments to run `script` with `args` then runc's in a private mount namespace. */
const inPrivateMounts = (script: string, args: readonly string[], runcArgs: readonly string[]) => [
  "--mount",
  "--propagation",
  "private",
  "sh",
  "-c",
  script,
  "strata-run",
  ...args,
  ...runcArgs,
];

const FORWARDED = ["SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/** Runs the container in the foreground; resolves to its exit status (128+n for signal n). */
export function launch(spec: LaunchSpec): Promise<number> {
  const args = inPrivateMounts(MOUNT_THEN_RUNC, [spec.mount.options, spec.mount.merged], runcRun(spec));
  const { stdio } = spec;
  const stdioOption: StdioOptions =
    stdio.kind === "inherit"
      ? [stdio.stdin ? 0 : "ignore", 1, 2]
      : [stdio.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"];
  return new Promise<number>((resolve, reject) => {
    const child = spawn("unshare", args, { stdio: stdioOption });
    // A terminal sends its interrupt to the whole foreground group, runc included: passing it on
    // again would deliver it twice.
    const fromTerminal = stdio.kind === "inherit" && process.stdin.isTTY;
    const handlers = FORWARDED.filter((s) => !(s === "SIGINT" && fromTerminal)).map((signal) => {
      const handler = () => child.kill(signal);
      process.on(signal, handler);
      return () => process.off(signal, handler);
    });
    if (stdio.kind === "pipe") {
      child.stdout?.on("data", stdio.stdout);
      child.stderr?.on("data", stdio.stderr);
      if (stdio.stdin !== undefined && child.stdin !== null) {
        child.stdin.on("error", () => undefined);
        stdio.stdin.pipe(child.stdin);
      }
    }
    child.on("error", (error: NodeJS.ErrnoException) => {
      for (const off of handlers) off();
      reject(new RunError(`cannot start unshare: ${error.code ?? error.message}`));
    });
    child.on("close", (code, signal) => {
      for (const off of handlers) off();
      if (stdio.kind === "pipe" && stdio.stdin !== undefined && child.stdin !== null)
        stdio.stdin.unpipe(child.stdin);
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
