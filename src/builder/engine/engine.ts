// The build: evaluates the stages a target needs, each on its own root filesystem, turning
// metadata instructions into config changes and COPY/ADD into layers (the root's differences,
// written reproducibly), and RUN into a layer of what its command changed, run in runc.
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { MediaType, type ExecutionConfig } from "../../oci/index.ts";
import type { Containerfile, Stage } from "../containerfile/index.ts";
import { substitute, targetStage } from "../containerfile/index.ts";
import { BuildError } from "../errors.ts";
import { appendLayer, scratchImage, withConfig, withCreated, type Image, type LayerBlob } from "../image.ts";
import {
  diffSnapshots,
  extractLayer,
  snapshotTree,
  writeLayer,
  type WrittenLayer as WrittenLayerResult,
} from "../layer/index.ts";
import { readImageFromLayout } from "../oci-layout.ts";
import { copySources } from "./copy.ts";
import { loadIgnore } from "./ignore.ts";
import { cacheKey, hashSources, NO_CACHE, type LayerCache } from "./cache.ts";
import { resolveInRoot } from "./paths.ts";
import { lookupId, runInRoot } from "./run.ts";
import { resolveSources } from "./sources.ts";

export interface BuildOptions {
  readonly containerfile: Containerfile;
  readonly context: string;
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly target?: string;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH): layer times are clamped to it, created is set to it. */
  readonly epoch?: number;
  /** A scratch folder for roots and layer blobs; removed by the caller. */
  readonly workDir: string;
  readonly platform?: { os: string; architecture: string };
  /** Reports each step as it runs. */
  readonly progress?: (line: string) => void;
  /** RUN's output as it comes. */
  readonly output?: (chunk: Buffer) => void;
  /** Where layers are kept between builds; none when undefined. */
  readonly cache?: LayerCache;
  /** "host" gives every RUN the host's network; default none (RUN --network=host asks for it per step). */
  readonly network?: "none" | "host";
  /**
   * Reads a base image that is neither scratch, an earlier stage nor an OCI layout (a registry
   * or gallery reference); its layers must be local files. Without it such bases are refused.
   */
  readonly resolveBase?: (ref: string) => Promise<Image>;
}

/** Something the build read, for provenance: a base image or the content a COPY/ADD took. */
export interface BuildInput {
  readonly uri: string;
  /** Hex sha256. */
  readonly sha256: string;
}

export interface BuildResult {
  readonly image: Image;
  readonly stage: Stage;
  readonly inputs: readonly BuildInput[];
  /** Layer steps found in the cache and layer steps run. */
  readonly cached: number;
  readonly built: number;
  /** Every layer step's cache key and layer, in order (what a cache export carries). */
  readonly steps: readonly { readonly key: string; readonly layer: LayerBlob }[];
}

interface StageResult {
  readonly image: Image;
  /** The registry or gallery image the stage's chain starts from. */
  readonly base?: { readonly name: string; readonly digest: string };
  /** The cache key of the stage's final state. */
  readonly key: string;
  /** The stage's root filesystem, unpacked on first use. */
  materialize(): Promise<string>;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const hostPlatform = () => ({ os: "linux", architecture: process.arch === "x64" ? "amd64" : process.arch });

export async function build(options: BuildOptions): Promise<BuildResult> {
  const file = options.containerfile;
  const target = targetStage(file, options.target);
  const ignore = await loadIgnore(options.context);
  const buildArgs = new Map(Object.entries(options.buildArgs ?? {}));
  const globalArgs = new Map<string, string>();
  for (const arg of file.globalArgs) {
    const value = buildArgs.get(arg.name) ?? arg.default;
    if (value !== undefined) globalArgs.set(arg.name, substitute(value, globalArgs, file.escape));
  }
  const done = new Map<number, StageResult>();
  const cache = options.cache ?? NO_CACHE;
  let layers = 0;
  let cachedSteps = 0;
  const inputs: BuildInput[] = [];
  let builtSteps = 0;
  const steps: { key: string; layer: LayerBlob }[] = [];

  const fail = (line: number, message: string, cause?: unknown): never => {
    throw new BuildError(message, { file: file.file, line, ...(cause === undefined ? {} : { cause }) });
  };

  async function stageByRef(ref: string): Promise<Stage | undefined> {
    return file.stages.find((s) => s.name === ref.toLowerCase() || String(s.index) === ref);
  }

  async function runStage(stage: Stage): Promise<StageResult> {
    const cached = done.get(stage.index);
    if (cached !== undefined) return cached;
    const baseRef = substitute(stage.base, globalArgs, file.escape);
    const root = join(options.workDir, `stage-${stage.index}`);
    let image: Image;
    let key: string;
    let base: { name: string; digest: string } | undefined;
    // The root is unpacked only when a step has to run: a build whose steps are all cached
    // never unpacks anything.
    let pending: { layer: LayerBlob; name: string }[] = [];
    let pendingDirs: string[] = [];
    let materialized = false;
    const earlier = await stageByRef(baseRef);
    if (earlier !== undefined && earlier.index < stage.index) {
      const from = await runStage(earlier);
      image = from.image;
      key = from.key;
      base = from.base;
      pending = image.layers.map((layer, i) => ({ layer, name: `${baseRef} layer ${i + 1}` }));
    } else if (baseRef === "scratch") {
      image = scratchImage(options.platform ?? hostPlatform());
      key = cacheKey("scratch", JSON.stringify(image.config));
    } else if (baseRef.startsWith("oci-layout:")) {
      const spec = baseRef.slice("oci-layout:".length);
      const colon = spec.lastIndexOf(":");
      if (colon <= 0) fail(stage.line, `invalid base "${baseRef}": expected oci-layout:PATH:TAG`);
      const dir = posix.isAbsolute(spec.slice(0, colon))
        ? spec.slice(0, colon)
        : join(options.context, spec.slice(0, colon));
      image = await readImageFromLayout(dir, spec.slice(colon + 1)).catch((error: unknown) =>
        fail(stage.line, (error as Error).message, error),
      );
      key = cacheKey("base", JSON.stringify(image.config), ...image.layers.map((l) => l.digest));
      if (image.source !== undefined)
        inputs.push({ uri: baseRef, sha256: image.source.slice("sha256:".length) });
      pending = image.layers.map((layer, i) => ({ layer, name: `${baseRef} layer ${i + 1}` }));
    } else if (options.resolveBase !== undefined) {
      const resolve = options.resolveBase;
      image = await resolve(baseRef).catch((error: unknown) =>
        fail(stage.line, `base "${baseRef}": ${(error as Error).message}`, error),
      );
      key = cacheKey("base", JSON.stringify(image.config), ...image.layers.map((l) => l.digest));
      if (image.source !== undefined) {
        inputs.push({ uri: baseRef, sha256: image.source.slice("sha256:".length) });
        base = { name: baseRef, digest: image.source };
      }
      image = { config: image.config, layers: image.layers };
      pending = image.layers.map((layer, i) => ({ layer, name: `${baseRef} layer ${i + 1}` }));
    } else {
      return fail(
        stage.line,
        `base "${baseRef}" is not supported here: use scratch, an earlier stage or oci-layout:PATH:TAG`,
      );
    }
    const materialize = async (): Promise<string> => {
      if (!materialized) {
        await mkdir(root, { recursive: true });
        materialized = true;
      }
      for (const { layer, name } of pending) {
        await extractLayer(layer.path, root, { name }).catch((error: unknown) =>
          fail(stage.line, (error as Error).message, error),
        );
      }
      pending = [];
      return root;
    };
    /** Creates the WORKDIRs named since the last layer; called after a step's first snapshot, so
     *  they belong to that step's layer (and a cached layer has them already). */
    const takeDirs = async (root: string): Promise<void> => {
      for (const dir of pendingDirs)
        await mkdir(await resolveInRoot(root, dir, { followLast: true }), { recursive: true });
      pendingDirs = [];
    };
    /** Runs `change` on the root and writes what it changed (and the pending WORKDIRs) as a layer. */
    const captureLayer = async (
      root: string,
      change: () => Promise<unknown>,
    ): Promise<WrittenLayerResult> => {
      const before = await snapshotTree(root);
      await takeDirs(root);
      await change();
      const after = await snapshotTree(root);
      return writeLayer(
        root,
        after,
        diffSnapshots(before, after),
        join(options.workDir, `layer-${++layers}.tar.gz`),
        {
          ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
        },
      );
    };
    /** A layer step: the cached layer when there is one, else `produce` on the unpacked root. */
    const layerStep = async (
      stepKey: string,
      shown: string,
      produce: (root: string) => Promise<WrittenLayerResult>,
    ) => {
      const hit = await cache.get(stepKey);
      let layer: LayerBlob;
      if (hit !== undefined) {
        cachedSteps++;
        layer = hit;
        pending.push({ layer: hit, name: shown });
        pendingDirs = [];
        // An unpacked root must follow; an unpacked one is brought up to date only when needed.
        if (materialized) await materialize();
        options.progress?.(`[stage ${stage.name ?? stage.index}] CACHED ${shown}`);
      } else {
        builtSteps++;
        const written = await produce(await materialize());
        layer = await cache.put(stepKey, written, MediaType.ImageLayerGzip);
        options.progress?.(`[stage ${stage.name ?? stage.index}] ${shown}: ${layer.size} bytes`);
      }
      image = appendLayer(image, layer, { created_by: shown, comment: "strata build" });
      key = stepKey;
      steps.push({ key: stepKey, layer });
    };
    options.progress?.(`[stage ${stage.name ?? stage.index}] FROM ${baseRef}`);

    // Variables: ENV from the base image, then ARG and ENV as they come.
    const env = new Map<string, string>();
    for (const entry of image.config.config?.Env ?? []) {
      const eq = entry.indexOf("=");
      if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    const args = new Map<string, string>();
    let shell = ["/bin/sh", "-c"];
    let cmdSetHere = false;
    const vars = () => new Map([...args, ...env]);
    const expand = (text: string, line: number): string => {
      try {
        return substitute(text, vars(), file.escape);
      } catch (error) {
        return fail(line, (error as Error).message, error);
      }
    };
    const patch = (change: (c: ExecutionConfig) => ExecutionConfig, shown: string) => {
      image = withConfig(image, change, { created_by: shown, comment: "strata build" });
      key = cacheKey(key, shown);
    };

    for (const instruction of stage.instructions) {
      const line = instruction.line;
      switch (instruction.kind) {
        case "ARG":
          for (const arg of instruction.args) {
            const value =
              buildArgs.get(arg.name) ??
              globalArgs.get(arg.name) ??
              (arg.default === undefined ? undefined : expand(arg.default, line));
            if (value !== undefined) args.set(arg.name, value);
          }
          break;
        case "ENV": {
          const pairs = instruction.pairs.map(([k, v]) => [k, expand(v, line)] as const);
          for (const [k, v] of pairs) env.set(k, v);
          patch(
            (c) => {
              const current = new Map(
                (c.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const),
              );
              for (const [k, v] of pairs) current.set(k, v);
              return { ...c, Env: [...current].map(([k, v]) => `${k}=${v}`) };
            },
            `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`,
          );
          break;
        }
        case "LABEL": {
          const pairs = instruction.pairs.map(([k, v]) => [expand(k, line), expand(v, line)] as const);
          patch(
            (c) => ({ ...c, Labels: { ...(c.Labels ?? {}), ...Object.fromEntries(pairs) } }),
            `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(" ")}`,
          );
          break;
        }
        case "WORKDIR": {
          const dir = posix.resolve(image.config.config?.WorkingDir ?? "/", expand(instruction.path, line));
          pendingDirs.push(dir);
          patch((c) => ({ ...c, WorkingDir: dir }), `WORKDIR ${dir}`);
          break;
        }
        case "USER": {
          const user = expand(instruction.user, line);
          patch((c) => ({ ...c, User: user }), `USER ${user}`);
          break;
        }
        case "EXPOSE": {
          const ports = instruction.ports
            .map((p) => expand(p, line))
            .map((p) => (p.includes("/") ? p.toLowerCase() : `${p}/tcp`));
          patch(
            (c) => ({
              ...c,
              ExposedPorts: { ...(c.ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) },
            }),
            `EXPOSE ${ports.join(" ")}`,
          );
          break;
        }
        case "VOLUME": {
          const paths = instruction.paths.map((p) => expand(p, line));
          patch(
            (c) => ({
              ...c,
              Volumes: { ...(c.Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) },
            }),
            `VOLUME ${paths.join(" ")}`,
          );
          break;
        }
        case "STOPSIGNAL": {
          const signal = expand(instruction.signal, line);
          patch((c) => ({ ...c, StopSignal: signal }), `STOPSIGNAL ${signal}`);
          break;
        }
        case "MAINTAINER":
          image = { ...image, config: { ...image.config, author: instruction.maintainer } };
          key = cacheKey(key, `MAINTAINER ${instruction.maintainer}`);
          break;
        case "CMD":
        case "ENTRYPOINT": {
          const command =
            "exec" in instruction.command
              ? [...instruction.command.exec]
              : ["/bin/sh", "-c", instruction.command.shell];
          if (instruction.kind === "CMD") {
            cmdSetHere = true;
            patch((c) => ({ ...c, Cmd: command }), `CMD ${JSON.stringify(command)}`);
          } else {
            // As Docker does: an ENTRYPOINT drops a CMD inherited from the base image.
            const keepCmd = cmdSetHere;
            patch(
              (c) => {
                const { Cmd, ...rest } = c;
                return keepCmd && Cmd !== undefined
                  ? { ...rest, Cmd, Entrypoint: command }
                  : { ...rest, Entrypoint: command };
              },
              `ENTRYPOINT ${JSON.stringify(command)}`,
            );
          }
          break;
        }
        case "SHELL":
          shell = [...instruction.shell];
          break;
        case "RUN": {
          const command =
            "exec" in instruction.command
              ? [...instruction.command.exec]
              : [...shell, instruction.command.shell];
          const configEnv = image.config.config?.Env ?? [];
          const envNames = new Set(configEnv.map((e) => e.slice(0, e.indexOf("="))));
          const runEnv = [
            ...(envNames.has("PATH") ? [] : [`PATH=${DEFAULT_PATH}`]),
            ...configEnv,
            ...[...args].filter(([k]) => !envNames.has(k)).map(([k, v]) => `${k}=${v}`),
          ];
          const network =
            instruction.network === "host" || (instruction.network !== "none" && options.network === "host")
              ? "host"
              : "none";
          const shown = `RUN ${"exec" in instruction.command ? JSON.stringify(command) : instruction.command.shell}`;
          const user = image.config.config?.User;
          const cwd = image.config.config?.WorkingDir || "/";
          await layerStep(
            cacheKey(key, shown, JSON.stringify(command), JSON.stringify(runEnv), cwd, user ?? "", network),
            shown,
            async (root) =>
              captureLayer(root, async () => {
                options.progress?.(`[stage ${stage.name ?? stage.index}] ${shown}`);
                const outcome = await runInRoot({
                  root,
                  args: command,
                  env: runEnv,
                  cwd,
                  ...(user === undefined ? {} : { user }),
                  network,
                  workDir: options.workDir,
                  ...(options.output === undefined ? {} : { output: options.output }),
                }).catch((error: unknown) => fail(line, (error as Error).message, error));
                if (outcome.exitCode !== 0) {
                  const tail = outcome.tail.trim().split("\n").slice(-5).join("\n");
                  fail(line, `RUN exited with code ${outcome.exitCode}${tail === "" ? "" : `: ${tail}`}`);
                }
              }),
          );
          break;
        }
        case "COPY":
        case "ADD": {
          const dest = expand(instruction.dest, line);
          const destInRoot = dest.startsWith("/")
            ? dest
            : posix.join(image.config.config?.WorkingDir ?? "/", dest) + (dest.endsWith("/") ? "/" : "");
          let base = options.context;
          let sourceIgnore = ignore;
          let fromKey = "";
          if (instruction.kind === "COPY" && instruction.from !== undefined) {
            const from = await stageByRef(expand(instruction.from, line));
            if (from === undefined || from.index >= stage.index)
              fail(line, `COPY --from="${instruction.from}" names no earlier stage`);
            const fromStage = await runStage(from as Stage);
            base = await fromStage.materialize();
            fromKey = fromStage.key;
            sourceIgnore = [];
          }
          const sources = await resolveSources(
            base,
            instruction.sources.map((s) => expand(s, line)),
            { ignore: sourceIgnore, what: instruction.kind },
          ).catch((error: unknown) => fail(line, (error as Error).message, error));
          const chown = instruction.chown === undefined ? undefined : expand(instruction.chown, line);
          const shown = `${instruction.kind} ${sources.map((src) => src.relative || ".").join(" ")} ${dest}`;
          const sourcesHash = await hashSources(sources, sourceIgnore);
          if (fromKey === "") {
            inputs.push({
              uri: `context:${sources.map((src) => src.relative || ".").join(",")}`,
              sha256: sourcesHash,
            });
          }
          const stepKey = cacheKey(
            key,
            shown,
            instruction.from ?? "",
            fromKey,
            sourcesHash,
            chown ?? "",
            instruction.chmod ?? "",
            destInRoot,
          );
          await layerStep(stepKey, shown, async (root) => {
            const owner =
              chown === undefined
                ? undefined
                : await parseOwner(root, chown).catch((error: unknown) =>
                    fail(line, (error as Error).message, error),
                  );
            return captureLayer(root, () =>
              copySources(root, sources, destInRoot, {
                base,
                ignore: sourceIgnore,
                extractArchives: instruction.kind === "ADD",
                ...(owner === undefined ? {} : { owner }),
                ...(instruction.chmod === undefined ? {} : { mode: parseInt(instruction.chmod, 8) }),
              }).catch((error: unknown) => fail(line, (error as Error).message, error)),
            );
          });
          break;
        }
      }
    }
    const result: StageResult = { image, key, materialize, ...(base === undefined ? {} : { base }) };
    done.set(stage.index, result);
    return result;
  }

  const result = await runStage(target);
  let image =
    options.epoch === undefined
      ? result.image
      : withCreated(result.image, new Date(options.epoch * 1000).toISOString());
  if (result.base !== undefined) {
    // The image-spec's base annotations: what the gallery's revocation cascade follows.
    image = {
      ...image,
      annotations: {
        "org.opencontainers.image.base.name": result.base.name,
        "org.opencontainers.image.base.digest": result.base.digest,
      },
    };
  }
  return { image, stage: target, inputs, cached: cachedSteps, built: builtSteps, steps };
}

/** `UID[:GID]` numerically, or names looked up in the root's /etc/passwd and /etc/group. */
async function parseOwner(root: string, spec: string): Promise<{ uid: number; gid: number }> {
  const [user = "", group] = spec.split(":");
  const lookup = async (file: string, name: string): Promise<number> => {
    const id = await lookupId(root, file, name);
    if (id === undefined) {
      throw new BuildError(
        `--chown: no ${file === "/etc/passwd" ? "user" : "group"} "${name}" in the image's ${file}`,
      );
    }
    return id;
  };
  const uid = await lookup("/etc/passwd", user);
  const gid = group === undefined ? uid : await lookup("/etc/group", group);
  return { uid, gid };
}

/** A fresh scratch folder for a build. */
export async function buildWorkDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "strata-build-"));
  await chmod(path, 0o700);
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
