// runc's command line on the runner's own state folder (`<state>/runc`): one way to call it for
// every query and control command, and the container states it reports.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { exists } from "./layers.ts";

/** runc's state folder inside the runner's state folder. */
export const runcRoot = (stateDir: string) => join(stateDir, "runc");

/** Runs `runc --root <state>/runc ARGS…`; never rejects (a runc that cannot start gives code null). */
export function runc(
  stateDir: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("runc", ["--root", runcRoot(stateDir), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => resolve({ code: null, stdout, stderr: error.message }));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** runc's status of a container ("created", "running", "paused", "stopped"), or undefined. */
export async function runcState(stateDir: string, name: string): Promise<string | undefined> {
  const { code, stdout } = await runc(stateDir, ["state", name]);
  try {
    return code === 0 ? (JSON.parse(stdout) as { status?: string }).status : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes what runc still keeps of a container (it does so itself, unless it was killed). */
export async function forgetRuncState(stateDir: string, name: string): Promise<void> {
  if (await exists(join(runcRoot(stateDir), name))) await runc(stateDir, ["delete", "-f", name]);
}
