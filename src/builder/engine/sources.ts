// The sources of COPY and ADD: paths or globs relative to the build context (or to another
// stage's root for COPY --from), with `.containerignore` applied. Nothing outside the base may
// be read: a source that climbs out, or a symlink that points out, is refused.
import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { BuildError } from "../errors.ts";
import { isIgnored, type IgnoreRule } from "./ignore.ts";

export interface Source {
  /** Host path of the source. */
  readonly path: string;
  /** Path relative to the base, `/`-separated. */
  readonly relative: string;
  readonly isDirectory: boolean;
}

function globRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, "[^/]*")
      .replace(/\?/g, "[^/]")}$`,
  );
}

const inside = (base: string, path: string): boolean => {
  const rel = relative(base, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && rel !== "..");
};

/** Refuses a symlink under `base` whose target resolves outside `base`. */
export async function checkLink(base: string, path: string, shown: string): Promise<void> {
  const target = await readlink(path);
  const resolved = target.startsWith("/") ? target : join(dirname(path), target);
  let real: string;
  try {
    real = await realpath(resolved);
  } catch {
    real = resolved; // dangling: judged by where it points
  }
  if (!inside(base, real) || !inside(base, resolved)) {
    throw new BuildError(`symlink "${shown}" in the build context points outside it (to "${target}")`);
  }
}

export async function resolveSources(
  base: string,
  patterns: readonly string[],
  options: { ignore: readonly IgnoreRule[]; what: string },
): Promise<Source[]> {
  const realBase = await realpath(base);
  const out: Source[] = [];
  for (const pattern of patterns) {
    const clean = pattern.split("/").filter((p) => p !== "" && p !== ".");
    let depth = 0;
    for (const part of clean) {
      depth += part === ".." ? -1 : 1;
      if (depth < 0) throw new BuildError(`${options.what} source "${pattern}" is outside the build context`);
    }
    const normalized = relative(realBase, join(realBase, ...clean))
      .split(sep)
      .join("/");
    let matches: string[];
    if (/[*?]/.test(normalized)) {
      matches = await expandGlob(realBase, normalized);
    } else {
      matches =
        (await lstat(join(realBase, normalized)).catch(() => undefined)) === undefined ? [] : [normalized];
    }
    matches = matches.filter((m) => m === "" || !isIgnored(options.ignore, m));
    if (matches.length === 0)
      throw new BuildError(`${options.what} source "${pattern}" matches no file in the build context`);
    for (const match of matches) {
      const path = join(realBase, match);
      const stats = await lstat(path);
      if (stats.isSymbolicLink()) {
        await checkLink(realBase, path, match);
        const real = await realpath(path);
        out.push({ path: real, relative: match, isDirectory: (await lstat(real)).isDirectory() });
      } else {
        out.push({ path, relative: match, isDirectory: stats.isDirectory() });
      }
    }
  }
  return out;
}

async function expandGlob(base: string, pattern: string): Promise<string[]> {
  const parts = pattern.split("/");
  let current = [""];
  for (const [i, part] of parts.entries()) {
    const next: string[] = [];
    for (const dir of current) {
      if (!/[*?]/.test(part)) {
        const candidate = dir === "" ? part : `${dir}/${part}`;
        if ((await lstat(join(base, candidate)).catch(() => undefined)) !== undefined) next.push(candidate);
        continue;
      }
      const names = await readdir(join(base, dir)).catch(() => [] as string[]);
      const re = globRegExp(part);
      for (const name of names.sort()) {
        if (!re.test(name)) continue;
        const candidate = dir === "" ? name : `${dir}/${name}`;
        if (i < parts.length - 1 && !(await lstat(join(base, candidate))).isDirectory()) continue;
        next.push(candidate);
      }
    }
    current = next;
  }
  return current;
}
