// Parses Containerfile (Dockerfile) text into stages of instructions. Every error names the
// file and line; nothing is executed or expanded here.
import { BuildError } from "../errors.ts";
import type { CommandForm, Containerfile, Instruction, Stage } from "./instructions.ts";
import { splitLines } from "./lines.ts";
import { parseJsonArray, parsePairs, splitWords } from "./words.ts";

const MAX_BYTES = 1024 * 1024;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAGE_NAME_RE = /^[a-z][a-z0-9._-]{0,127}$/;
const PORT_RE = /^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\d{1,5}(-\d{1,5})?)(\/(tcp|udp|sctp))?$/i;
const KNOWN = new Set([
  "FROM",
  "ARG",
  "ENV",
  "LABEL",
  "WORKDIR",
  "USER",
  "COPY",
  "ADD",
  "RUN",
  "CMD",
  "ENTRYPOINT",
  "SHELL",
  "EXPOSE",
  "VOLUME",
  "STOPSIGNAL",
  "MAINTAINER",
]);
const UNSUPPORTED: Record<string, string> = {
  ONBUILD: "ONBUILD triggers are not supported: they run hidden steps in someone else's build",
  HEALTHCHECK: "HEALTHCHECK is not supported yet",
};

interface Flags {
  readonly flags: Map<string, string>;
  readonly rest: string;
}

/** Leading `--name=value` (or `--name` for booleans) flags of an instruction. */
function takeFlags(text: string, allowed: readonly string[], fail: (message: string) => never): Flags {
  const flags = new Map<string, string>();
  let rest = text;
  for (;;) {
    const m = /^--([a-z][a-z-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (m === null) break;
    const name = m[1] ?? "";
    if (!allowed.includes(name)) {
      fail(
        `unknown flag --${name}${allowed.length > 0 ? ` (known: ${allowed.map((a) => `--${a}`).join(", ")})` : ""}`,
      );
    }
    if (flags.has(name)) fail(`flag --${name} is given twice`);
    if (m[2] === undefined || m[2] === "") fail(`flag --${name} needs a value: --${name}=VALUE`);
    flags.set(name, m[2]);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest: rest.trim() };
}

function commandForm(text: string): CommandForm {
  const exec = parseJsonArray(text);
  return exec === undefined ? { shell: text } : { exec };
}

export function parseContainerfile(text: string, file = "Containerfile"): Containerfile {
  if (Buffer.byteLength(text) > MAX_BYTES) throw new BuildError(`larger than ${MAX_BYTES} bytes`, { file });
  if (text.includes("\u0000")) throw new BuildError("not a text file (it contains NUL bytes)", { file });
  const { escape, lines } = splitLines(text, file);
  const words = (s: string) => splitWords(s, { escape });
  const globalArgs: { name: string; default?: string }[] = [];
  const stages: {
    index: number;
    name?: string;
    base: string;
    platform?: string;
    line: number;
    instructions: Instruction[];
  }[] = [];

  for (const { line, text: logical } of lines) {
    const fail = (message: string): never => {
      throw new BuildError(message, { file, line });
    };
    const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(logical);
    const keyword = (m?.[1] ?? "").toUpperCase();
    const args = (m?.[2] ?? "").trim();
    if (UNSUPPORTED[keyword] !== undefined) fail(UNSUPPORTED[keyword]);
    if (!KNOWN.has(keyword)) fail(`unknown instruction "${(m?.[1] ?? "").slice(0, 40)}"`);
    const guard = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (error) {
        if (error instanceof BuildError) throw error;
        return fail(`${keyword}: ${(error as Error).message}`);
      }
    };

    if (keyword === "FROM") {
      const { flags, rest } = takeFlags(args, ["platform"], fail);
      const parts = guard(() => words(rest));
      if (parts.length !== 1 && !(parts.length === 3 && parts[1]?.toUpperCase() === "AS")) {
        fail("FROM takes an image and an optional AS name: FROM IMAGE [AS NAME]");
      }
      const base = parts[0] ?? "";
      const name = parts[2]?.toLowerCase();
      if (name !== undefined) {
        if (!STAGE_NAME_RE.test(name))
          fail(
            `invalid stage name "${parts[2]}": lowercase letters, digits, ".", "_", "-", starting with a letter`,
          );
        if (stages.some((s) => s.name === name)) fail(`stage name "${name}" is used twice`);
      }
      stages.push({
        index: stages.length,
        ...(name === undefined ? {} : { name }),
        base,
        ...(flags.has("platform") ? { platform: flags.get("platform") ?? "" } : {}),
        line,
        instructions: [],
      });
      continue;
    }

    if (keyword === "ARG") {
      if (args === "") fail("ARG needs a name: ARG NAME[=DEFAULT]");
      const parsed = guard(() =>
        words(args).map((w) => {
          const eq = w.indexOf("=");
          const name = eq < 0 ? w : w.slice(0, eq);
          if (!NAME_RE.test(name)) throw new Error(`invalid name "${name}"`);
          return eq < 0 ? { name } : { name, default: w.slice(eq + 1) };
        }),
      );
      const current = stages.at(-1);
      if (current === undefined) globalArgs.push(...parsed);
      else current.instructions.push({ kind: "ARG", line, args: parsed });
      continue;
    }

    const stage = stages.at(-1);
    if (stage === undefined) fail(`${keyword} before the first FROM (only ARG may come first)`);
    const push = (instruction: Instruction) => stage?.instructions.push(instruction);
    const needArgs = (usage: string) => {
      if (args === "") fail(`${keyword} needs arguments: ${usage}`);
    };

    switch (keyword) {
      case "ENV":
      case "LABEL": {
        needArgs(`${keyword} KEY=VALUE …`);
        const pairs = guard(() => parsePairs(args, { escape, legacy: keyword === "ENV" }));
        if (keyword === "ENV")
          for (const [k] of pairs) if (!NAME_RE.test(k)) fail(`ENV: invalid name "${k}"`);
        for (const [k] of pairs) if (k === "") fail(`${keyword}: empty key`);
        push({ kind: keyword, line, pairs });
        break;
      }
      case "WORKDIR":
        needArgs("WORKDIR PATH");
        push({ kind: "WORKDIR", line, path: guard(() => words(args)).join(" ") });
        break;
      case "USER":
        needArgs("USER NAME[:GROUP]");
        if (guard(() => words(args)).length !== 1)
          fail("USER takes one word: USER NAME[:GROUP] or UID[:GID]");
        push({ kind: "USER", line, user: guard(() => words(args))[0] ?? "" });
        break;
      case "COPY":
      case "ADD": {
        const { flags, rest } = takeFlags(
          args,
          keyword === "COPY" ? ["chown", "chmod", "from"] : ["chown", "chmod"],
          fail,
        );
        const paths = parseJsonArray(rest) ?? guard(() => words(rest));
        if (paths.length < 2) fail(`${keyword} needs a source and a destination: ${keyword} SRC… DEST`);
        const chmod = flags.get("chmod");
        if (chmod !== undefined && !/^[0-7]{3,4}$/.test(chmod))
          fail(`invalid --chmod "${chmod}": expected octal such as 0755`);
        push({
          kind: keyword,
          line,
          sources: paths.slice(0, -1),
          dest: paths.at(-1) ?? "",
          ...(flags.has("chown") ? { chown: flags.get("chown") ?? "" } : {}),
          ...(chmod === undefined ? {} : { chmod }),
          ...(flags.has("from") ? { from: flags.get("from") ?? "" } : {}),
        });
        break;
      }
      case "RUN": {
        const { flags, rest } = takeFlags(args, ["network"], fail);
        if (rest === "") fail("RUN needs a command");
        const network = flags.get("network");
        if (network !== undefined && network !== "none" && network !== "host" && network !== "default") {
          fail(`invalid --network "${network}": expected none, host or default`);
        }
        const command = commandForm(rest);
        if ("exec" in command && command.exec.length === 0) fail("RUN with an empty command");
        push({
          kind: "RUN",
          line,
          command,
          ...(network === undefined ? {} : { network: network as "none" | "host" | "default" }),
        });
        break;
      }
      case "CMD":
      case "ENTRYPOINT":
        needArgs(`${keyword} ["executable", "arg", …] or ${keyword} command`);
        push({ kind: keyword, line, command: commandForm(args) });
        break;
      case "SHELL": {
        const shell = parseJsonArray(args);
        if (shell === undefined || shell.length === 0)
          fail('SHELL takes a JSON array: SHELL ["/bin/sh", "-c"]');
        push({ kind: "SHELL", line, shell: shell ?? [] });
        break;
      }
      case "EXPOSE": {
        needArgs("EXPOSE PORT[/PROTOCOL] …");
        const ports = guard(() => words(args));
        for (const port of ports)
          if (!PORT_RE.test(port))
            fail(`invalid port "${port}": expected PORT, PORT/tcp, PORT/udp or FROM-TO`);
        push({ kind: "EXPOSE", line, ports });
        break;
      }
      case "VOLUME": {
        needArgs("VOLUME PATH …");
        push({ kind: "VOLUME", line, paths: parseJsonArray(args) ?? guard(() => words(args)) });
        break;
      }
      case "STOPSIGNAL":
        needArgs("STOPSIGNAL SIGNAL");
        push({ kind: "STOPSIGNAL", line, signal: args });
        break;
      case "MAINTAINER":
        needArgs("MAINTAINER NAME");
        push({ kind: "MAINTAINER", line, maintainer: args });
        break;
    }
  }
  if (stages.length === 0)
    throw new BuildError("no FROM instruction: a build needs at least one stage", { file });
  return { file, escape, globalArgs, stages: stages as Stage[] };
}

/** The stage `--target` names (by name or index); the last stage when undefined. */
export function targetStage(containerfile: Containerfile, target?: string): Stage {
  const stages = containerfile.stages;
  if (target === undefined) return stages.at(-1) as Stage;
  const found = stages.find((s) => s.name === target.toLowerCase() || String(s.index) === target);
  if (found === undefined) {
    const names = stages.map((s) => s.name ?? String(s.index)).join(", ");
    throw new BuildError(`target stage "${target}" is not in the file (stages: ${names})`, {
      file: containerfile.file,
    });
  }
  return found;
}
