// A diff for people: plain text for the terminal and Markdown for the gallery (shown beside the
// human changelog). Every string that came from an image (paths, package names, env values,
// labels) is escaped: control characters as \xNN in text; in Markdown also the characters that
// would make markup or HTML.
import type { MapDiff, ValueChange } from "./config.ts";
import type { ImageDiff } from "./diff-images.ts";
import type { FileChange, FileInfo } from "./files.ts";
import type { PackageChange, PackageEntry } from "./packages.ts";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1.5 MiB, 12 KiB, 300 B. */
export function formatSize(bytes: number): string {
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown =
    unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
  return bytes < 0 ? `-${shown}` : shown;
}

const signed = (bytes: number): string => (bytes >= 0 ? `+${formatSize(bytes)}` : formatSize(bytes));

/** Control characters (and DEL, and C1) as \xNN. */
const safe = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** Safe text inside Markdown: control characters escaped, markup and HTML characters quoted. */
const md = (s: string): string =>
  safe(s).replace(/[\\`*_{}[\]()<>#+\-.!|~&]/g, (c) =>
    c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "&" ? "&amp;" : `\\${c}`,
  );

type Escape = (s: string) => string;

const short = (digest: string): string => digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1…");

function pkgName(p: { name: string; arch?: string }, e: Escape): string {
  return p.arch === undefined ? e(p.name) : `${e(p.name)}:${e(p.arch)}`;
}

function packageLines(diff: ImageDiff, e: Escape): string[] {
  const p = diff.packages;
  if (p === undefined) return [];
  if (!p.available) return [`Packages: ${e(p.note)}`];
  const head = [
    `${p.upgraded.length} upgraded`,
    `${p.downgraded.length} downgraded`,
    `${p.added.length} added`,
    `${p.removed.length} removed`,
    ...(p.changed.length > 0 ? [`${p.changed.length} changed`] : []),
    `${p.unchanged} unchanged`,
  ].join(", ");
  const change = (mark: string) => (c: PackageChange) => {
    const arch =
      c.from.arch === c.to.arch ? "" : ` (${e(c.from.arch ?? "none")} → ${e(c.to.arch ?? "none")})`;
    const source =
      c.from.source === c.to.source
        ? ""
        : ` (source ${e(c.from.source ?? "none")} → ${e(c.to.source ?? "none")})`;
    return `  ${mark} ${e(c.name)} ${e(c.from.version)} → ${e(c.to.version)}${arch}${source}`;
  };
  const entry = (mark: string) => (x: PackageEntry) => `  ${mark} ${pkgName(x, e)} ${e(x.version)}`;
  const os = p.os === undefined ? [] : [`  OS: ${e(osText(p.os.from))} → ${e(osText(p.os.to))}`];
  return [
    `Packages: ${head}`,
    ...os,
    ...p.upgraded.map(change("~")),
    ...p.downgraded.map(change("<")),
    ...p.changed.map(change("*")),
    ...p.added.map(entry("+")),
    ...p.removed.map(entry("-")),
  ];
}

function osText(os: { id: string; versionId?: string } | undefined): string {
  return os === undefined ? "unknown" : `${os.id}${os.versionId === undefined ? "" : ` ${os.versionId}`}`;
}

function fileInfo(f: Omit<FileInfo, "path">, e: Escape): string {
  const target = f.target === undefined ? "" : ` → ${e(f.target)}`;
  const size = f.type === "file" || f.type === "hardlink" ? ` ${formatSize(f.size)}` : "";
  return `${f.type}${size} ${f.mode} ${f.uid}:${f.gid}${target}`;
}

function changeText(c: FileChange, e: Escape): string {
  const parts = c.changes.map((k) => {
    switch (k) {
      case "content":
        return "content";
      case "size":
        return `size ${formatSize(c.before.size)} → ${formatSize(c.after.size)}`;
      case "mode":
        return `mode ${c.before.mode} → ${c.after.mode}`;
      case "owner":
        return `owner ${c.before.uid}:${c.before.gid} → ${c.after.uid}:${c.after.gid}`;
      case "type":
        return `type ${c.before.type} → ${c.after.type}`;
      case "target":
        return `target ${e(c.before.target ?? "")} → ${e(c.after.target ?? "")}`;
    }
  });
  return parts.join(", ");
}

function fileLines(diff: ImageDiff, e: Escape): string[] {
  const f = diff.files;
  if (f === undefined) return [];
  const t = f.totals;
  const lines = [
    `Files: ${t.added.count} added (${formatSize(t.added.bytes)}), ${t.removed.count} removed (${formatSize(t.removed.bytes)}), ` +
      `${t.changed.count} changed (${signed(t.changed.bytesAfter - t.changed.bytesBefore)}); size ${signed(t.sizeDelta)}`,
    ...f.added.map((x) => `  + ${e(x.path)}  ${fileInfo(x, e)}`),
    ...f.removed.map((x) => `  - ${e(x.path)}  ${fileInfo(x, e)}`),
    ...f.changed.map((x) => `  ~ ${e(x.path)}  ${changeText(x, e)}`),
  ];
  const omitted = [
    f.omitted.added > 0 ? `${f.omitted.added} added` : "",
    f.omitted.removed > 0 ? `${f.omitted.removed} removed` : "",
    f.omitted.changed > 0 ? `${f.omitted.changed} changed` : "",
  ].filter((s) => s !== "");
  if (omitted.length > 0) lines.push(`  … and ${omitted.join(", ")} not listed (--max-files)`);
  return lines;
}

const json = (v: readonly string[] | undefined): string => (v === undefined ? "(none)" : JSON.stringify(v));
const value = (v: string | undefined): string => (v === undefined ? "(none)" : v);

function mapLines(label: string, m: MapDiff, e: Escape): string[] {
  return [
    ...m.added.map((x) => `  ${label} + ${e(x.key)}=${e(x.value)}`),
    ...m.changed.map((x) => `  ${label} ~ ${e(x.key)}: ${e(x.from)} → ${e(x.to)}`),
    ...m.removed.map((x) => `  ${label} - ${e(x.key)}=${e(x.value)}`),
  ];
}

function configLines(diff: ImageDiff, e: Escape): string[] {
  const c = diff.config;
  if (c === undefined) return [];
  if (c.unchanged) return ["Config: unchanged"];
  const scalar = (label: string, v: ValueChange<string> | undefined) =>
    v === undefined ? [] : [`  ${label}: ${e(value(v.from))} → ${e(value(v.to))}`];
  const list = (label: string, v: ValueChange<readonly string[]> | undefined) =>
    v === undefined ? [] : [`  ${label}: ${e(json(v.from))} → ${e(json(v.to))}`];
  return [
    "Config:",
    ...scalar("platform", c.platform),
    ...list("entrypoint", c.entrypoint),
    ...list("cmd", c.cmd),
    ...scalar("user", c.user),
    ...scalar("workdir", c.workingDir),
    ...scalar("stop signal", c.stopSignal),
    ...mapLines("env", c.env, e),
    ...mapLines("label", c.labels, e),
    ...c.exposedPorts.added.map((p) => `  port + ${e(p)}`),
    ...c.exposedPorts.removed.map((p) => `  port - ${e(p)}`),
    ...c.volumes.added.map((v) => `  volume + ${e(v)}`),
    ...c.volumes.removed.map((v) => `  volume - ${e(v)}`),
  ];
}

function heading(diff: ImageDiff, e: Escape): string[] {
  const side = (s: ImageDiff["before"]) => `${e(s.name)} (${short(s.digest)})`;
  const lines = [`${side(diff.before)} → ${side(diff.after)}`];
  if (diff.disk !== undefined)
    lines.push(
      diff.disk.same
        ? "Disks: the same disk artifact"
        : `Disks: ${short(diff.disk.before ?? "none")} → ${short(diff.disk.after ?? "none")} (the disks differ; compared through the images they were built from)`,
    );
  if (diff.sameImage) lines.push("The same image: nothing differs");
  return lines;
}

/** The diff as plain text, one section after another. */
export function renderText(diff: ImageDiff): string {
  const sections = [
    heading(diff, safe),
    packageLines(diff, safe),
    fileLines(diff, safe),
    configLines(diff, safe),
  ];
  return `${sections
    .filter((s) => s.length > 0)
    .map((s) => s.join("\n"))
    .join("\n\n")}\n`;
}

/** The diff as Markdown: a heading per section and the text lines as lists. */
export function renderMarkdown(diff: ImageDiff): string {
  const code = (s: string) => md(s);
  const section = (title: string, lines: string[]) => {
    if (lines.length === 0) return "";
    const [first, ...rest] = lines;
    const summary = (first ?? "").replace(/^[A-Za-z]+: ?/, "");
    return `### ${title}\n\n${summary === "" ? "" : `${summary}\n\n`}${rest.map((l) => `- ${l.trim()}`).join("\n")}${rest.length > 0 ? "\n" : ""}`;
  };
  const head = heading(diff, code);
  return [
    `## Changes: ${head[0] ?? ""}\n${head
      .slice(1)
      .map((l) => `\n${l}\n`)
      .join("")}`,
    section("Packages", packageLines(diff, code)),
    section("Files", fileLines(diff, code)),
    section("Config", configLines(diff, code)),
  ]
    .filter((s) => s !== "")
    .join("\n");
}
