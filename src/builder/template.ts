// The image template, `strata.yaml`: what to build (a Containerfile, or its steps inline), with
// which build arguments, target and tags; the metadata of the gallery version it is published
// as; the test gates the image must pass before anything is pushed or published; and the disk
// made from it (template-disk.ts). Every field is checked, and an error names the file and the
// field (`strata.yaml: tests[2].mode: …`).
import { parseDocument } from "yaml";
import { BuildError } from "./errors.ts";
import type { Gate } from "./gates.ts";
import { Checker, show } from "./template-checker.ts";
import { diskSection, type DiskSection } from "./template-disk.ts";

export type { DiskSection, GuestGate } from "./template-disk.ts";

export interface GalleryMetadata {
  /** GALLERY/NAME. */
  readonly image?: string;
  readonly version?: string;
  readonly changelog?: string;
  readonly owner?: string;
  /** A date (2027-06-30) or an RFC 3339 date-time. */
  readonly eol?: string;
  readonly buildId?: string;
  readonly sourceRevision?: string;
  readonly excludeFromLatest?: boolean;
}

export interface Template {
  /** The template file as given, for errors and provenance. */
  readonly file: string;
  readonly text: string;
  /** Relative to the template's folder; absent when `steps` is given. */
  readonly containerfile?: string;
  /** Containerfile lines, inline. */
  readonly steps?: readonly string[];
  /** Relative to the template's folder; default the folder itself. */
  readonly context?: string;
  readonly target?: string;
  readonly args: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
  readonly gallery?: GalleryMetadata;
  readonly tests: readonly Gate[];
  /** A bootable disk made from the image, boot-tested and published beside it. */
  readonly disk?: DiskSection;
}

const TOP = ["containerfile", "steps", "context", "target", "args", "tags", "gallery", "tests", "disk"];
const GALLERY = [
  "image",
  "version",
  "changelog",
  "owner",
  "eol",
  "buildId",
  "sourceRevision",
  "excludeFromLatest",
];
const COMMAND = ["name", "command", "exitCode", "stdout", "stderr", "stdoutNot"];
const FILE = ["name", "path", "exists", "type", "mode", "contains"];
const METADATA = ["name", "metadata"];
const METADATA_FIELDS = ["env", "entrypoint", "cmd", "user", "workingDir", "exposedPorts", "labels"];

function gate(c: Checker, value: unknown, path: string, names: Set<string>): Gate {
  const { raw, name } = c.gateHead(value, path, names, {
    allowed: [...new Set([...COMMAND, ...FILE, ...METADATA])],
    kinds: ["command", "path", "metadata"],
    what: "a test",
  });
  if (raw.command !== undefined) {
    c.object(raw, path, COMMAND);
    const command =
      typeof raw.command === "string"
        ? c.string(raw.command, `${path}.command`)
        : c.strings(raw.command, `${path}.command`);
    if (Array.isArray(command) && command.length === 0) c.fail(`${path}.command`, "must not be empty");
    const exitCode = c.exitCode(raw.exitCode, `${path}.exitCode`);
    return {
      name,
      command,
      ...(exitCode === undefined ? {} : { exitCode }),
      ...(raw.stdout === undefined ? {} : { stdout: c.regex(raw.stdout, `${path}.stdout`) }),
      ...(raw.stderr === undefined ? {} : { stderr: c.regex(raw.stderr, `${path}.stderr`) }),
      ...(raw.stdoutNot === undefined ? {} : { stdoutNot: c.regex(raw.stdoutNot, `${path}.stdoutNot`) }),
    };
  }
  if (raw.path !== undefined) {
    c.object(raw, path, FILE);
    const file = c.absolutePath(raw.path, `${path}.path`);
    let type: "file" | "directory" | "symlink" | undefined;
    if (raw.type !== undefined) {
      const t = c.string(raw.type, `${path}.type`);
      if (t !== "file" && t !== "directory" && t !== "symlink")
        c.fail(`${path}.type`, `expected file, directory or symlink, got "${t}"`);
      type = t;
    }
    let mode: string | undefined;
    if (raw.mode !== undefined) {
      // YAML reads 0755 as the number 493 and "0755" as text: only the text form is exact.
      if (typeof raw.mode !== "string" || !/^0?[0-7]{3,4}$/.test(raw.mode))
        c.fail(`${path}.mode`, `expected octal digits in quotes, e.g. "0755", got ${show(raw.mode)}`);
      mode = raw.mode;
    }
    return {
      name,
      path: file,
      ...(raw.exists === undefined ? {} : { exists: c.boolean(raw.exists, `${path}.exists`) }),
      ...(type === undefined ? {} : { type }),
      ...(mode === undefined ? {} : { mode }),
      ...(raw.contains === undefined ? {} : { contains: c.regex(raw.contains, `${path}.contains`) }),
    };
  }
  c.object(raw, path, METADATA);
  const m = c.object(raw.metadata, `${path}.metadata`, METADATA_FIELDS);
  const p = `${path}.metadata`;
  return {
    name,
    metadata: {
      ...(m.env === undefined ? {} : { env: c.map(m.env, `${p}.env`) }),
      ...(m.entrypoint === undefined ? {} : { entrypoint: c.strings(m.entrypoint, `${p}.entrypoint`) }),
      ...(m.cmd === undefined ? {} : { cmd: c.strings(m.cmd, `${p}.cmd`) }),
      ...(m.user === undefined ? {} : { user: c.string(m.user, `${p}.user`, { nonEmpty: false }) }),
      ...(m.workingDir === undefined ? {} : { workingDir: c.string(m.workingDir, `${p}.workingDir`) }),
      ...(m.exposedPorts === undefined
        ? {}
        : { exposedPorts: c.strings(m.exposedPorts, `${p}.exposedPorts`) }),
      ...(m.labels === undefined ? {} : { labels: c.map(m.labels, `${p}.labels`) }),
    },
  };
}

/** Parses and checks a template; `file` names it in errors. */
export function parseTemplate(text: string, file: string): Template {
  const c = new Checker(file);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const problem = doc.errors[0];
  if (problem !== undefined) {
    const line = problem.linePos?.[0]?.line;
    throw new BuildError(`invalid YAML: ${problem.message.split("\n")[0] ?? ""}`, {
      file,
      ...(line === undefined ? {} : { line }),
    });
  }
  const raw = c.object(doc.toJS() ?? {}, "", TOP);
  const hasFile = raw.containerfile !== undefined;
  const hasSteps = raw.steps !== undefined;
  if (hasFile === hasSteps)
    c.fail(
      hasFile ? "steps" : "containerfile",
      "give exactly one of containerfile (a file) and steps (inline lines)",
    );
  const steps = hasSteps ? c.strings(raw.steps, "steps") : undefined;
  if (steps !== undefined && steps.length === 0) c.fail("steps", "must not be empty");
  const names = new Set<string>();
  let gallery: GalleryMetadata | undefined;
  if (raw.gallery !== undefined) {
    const g = c.object(raw.gallery, "gallery", GALLERY);
    const image = g.image === undefined ? undefined : c.imageName(g.image, "gallery.image");
    gallery = {
      ...(image === undefined ? {} : { image }),
      ...(g.version === undefined ? {} : { version: c.string(g.version, "gallery.version") }),
      ...(g.changelog === undefined
        ? {}
        : { changelog: c.string(g.changelog, "gallery.changelog", { max: 65536 }) }),
      ...(g.owner === undefined ? {} : { owner: c.string(g.owner, "gallery.owner") }),
      ...(g.eol === undefined ? {} : { eol: eolText(c, g.eol) }),
      ...(g.buildId === undefined ? {} : { buildId: c.string(g.buildId, "gallery.buildId") }),
      ...(g.sourceRevision === undefined
        ? {}
        : { sourceRevision: c.string(g.sourceRevision, "gallery.sourceRevision") }),
      ...(g.excludeFromLatest === undefined
        ? {}
        : { excludeFromLatest: c.boolean(g.excludeFromLatest, "gallery.excludeFromLatest") }),
    };
  }
  const tests: unknown[] = [];
  if (raw.tests !== undefined && raw.tests !== null) {
    if (!Array.isArray(raw.tests)) c.fail("tests", `expected a list of tests, got ${show(raw.tests)}`);
    tests.push(...(raw.tests as unknown[]));
  }
  return {
    file,
    text,
    ...(hasFile ? { containerfile: c.string(raw.containerfile, "containerfile") } : {}),
    ...(steps === undefined ? {} : { steps }),
    ...(raw.context === undefined ? {} : { context: c.string(raw.context, "context") }),
    ...(raw.target === undefined ? {} : { target: c.string(raw.target, "target") }),
    args: raw.args === undefined ? {} : c.map(raw.args, "args"),
    tags: raw.tags === undefined ? [] : c.strings(raw.tags, "tags"),
    ...(gallery === undefined ? {} : { gallery }),
    tests: tests.map((t, i) => gate(c, t, `tests[${i}]`, names)),
    ...(raw.disk === undefined ? {} : { disk: diskSection(c, raw.disk) }),
  };
}

/** YAML reads an unquoted 2027-06-30 as text in the core schema; a Date is accepted too. */
function eolText(c: Checker, value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return c.string(value, "gallery.eol");
}
