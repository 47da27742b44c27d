// The OS identity from os-release(5): /etc/os-release, else /usr/lib/os-release. Lines are
// KEY=VALUE, the value bare or in single or double quotes with backslash escapes; comments and
// blank lines are skipped, and a line that is none of these is ignored, as systemd does.
import type { OsIdentity } from "./model.ts";
import type { FileSource } from "./source.ts";
import { cleanText } from "./text.ts";

export const OS_RELEASE_PATHS = ["/etc/os-release", "/usr/lib/os-release"] as const;
/** Largest os-release read (its own spec keeps it a few lines). */
export const MAX_OS_RELEASE = 64 * 1024;

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2)
    return value.slice(1, -1).replace(/\\(.)/g, "$1");
  return value.replace(/\\(.)/g, "$1");
}

export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z][A-Z0-9_]*)=(.*?)\s*$/.exec(line);
    if (m?.[1] !== undefined) fields[m[1]] = cleanText(unquote(m[2] ?? ""));
  }
  return fields;
}

/** The identity os-release gives, or undefined when the root has none or it names no ID. */
export async function readOsIdentity(source: FileSource): Promise<OsIdentity | undefined> {
  for (const path of OS_RELEASE_PATHS) {
    const bytes = await source.readFile(path, MAX_OS_RELEASE);
    if (bytes === undefined) continue;
    const f = parseOsRelease(bytes.toString("utf8"));
    const id = f.ID?.toLowerCase();
    if (id === undefined || id === "") return undefined;
    const idLike = f.ID_LIKE?.split(/\s+/).filter((w) => w !== "");
    return {
      id,
      ...(f.VERSION_ID ? { versionId: f.VERSION_ID } : {}),
      ...(f.PRETTY_NAME ? { prettyName: f.PRETTY_NAME } : {}),
      ...(f.VERSION_CODENAME ? { versionCodename: f.VERSION_CODENAME } : {}),
      ...(idLike !== undefined && idLike.length > 0 ? { idLike } : {}),
    };
  }
  return undefined;
}
