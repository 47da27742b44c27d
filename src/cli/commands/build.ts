// `strata build`: builds an image from a Containerfile (or Dockerfile) without a daemon and
// writes it to an OCI layout. Reproducible by default: times come from SOURCE_DATE_EPOCH (0 when
// unset), so the same inputs give the same digest.
import { readFile, stat } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import type { Command } from "commander";
import { collect, parsePairs } from "../args.ts";
import { usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { printJson } from "../output.ts";
import { VERSION } from "../version.ts";

interface BuildFlags {
  file?: string;
  tag: string;
  buildArg?: string[];
  target?: string;
  network?: string;
  json?: boolean;
  cacheDir?: string;
  cache?: boolean;
}

/** $XDG_CACHE_HOME/strata/build, else ~/.cache/strata/build. */
function defaultCacheDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "strata", "build");
  if (env.HOME) return join(env.HOME, ".cache", "strata", "build");
  return undefined;
}

async function findContainerfile(context: string, file: string | undefined): Promise<string> {
  if (file !== undefined) return isAbsolute(file) ? file : resolve(file);
  for (const name of ["Containerfile", "Dockerfile"]) {
    const path = join(context, name);
    if ((await stat(path).catch(() => undefined)) !== undefined) return path;
  }
  throw usageError(`No Containerfile or Dockerfile in "${context}": name one with -f`);
}

export function registerBuild(program: Command, io: CliIo): void {
  program
    .command("build [context]")
    .description("Build an image from a Containerfile, without a daemon, into an OCI layout")
    .option("-f, --file <path>", "the Containerfile (default CONTEXT/Containerfile, else CONTEXT/Dockerfile)")
    .requiredOption("-t, --tag <ref>", "where to write the image: oci-layout:PATH:TAG")
    .option("--build-arg <key=value>", "a build argument; repeatable", collect)
    .option("--target <stage>", "build this stage (name or index) instead of the last")
    .option("--network <mode>", "network for RUN steps: none (default) or host", "none")
    .option(
      "--cache-dir <dir>",
      "where layers are kept between builds (default $XDG_CACHE_HOME/strata/build or ~/.cache/strata/build)",
    )
    .option("--no-cache", "build every step, neither reading nor filling the cache")
    .option("--json", "print a JSON summary instead of progress")
    .action(async (contextArg: string | undefined, flags: BuildFlags) => {
      const {
        attachToLayout,
        build,
        buildWorkDir,
        createLayerCache,
        NO_CACHE,
        parseContainerfile,
        provenanceStatement,
        serialize,
        writeImageToLayout,
      } = await import("../../build/index.ts");
      const context = resolve(contextArg ?? ".");
      if (!(await stat(context).catch(() => undefined))?.isDirectory())
        throw usageError(`Build context "${context}" is not a directory`);
      const m = /^oci-layout:(.+):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$/.exec(flags.tag);
      if (m === null) {
        throw usageError(
          `Invalid --tag "${flags.tag}": expected oci-layout:PATH:TAG (pushing to a registry is not supported yet; copy the layout with skopeo)`,
        );
      }
      if (flags.network !== "none" && flags.network !== "host")
        throw usageError(`Invalid --network "${flags.network}": expected none or host`);
      const epochText = io.env.SOURCE_DATE_EPOCH ?? "0";
      if (!/^\d{1,12}$/.test(epochText))
        throw usageError(`Invalid SOURCE_DATE_EPOCH "${epochText}": expected seconds since 1970`);
      const buildArgs = parsePairs("--build-arg", flags.buildArg) ?? {};
      const file = await findContainerfile(context, flags.file);
      const text = await readFile(file, "utf8").catch((error: unknown) => {
        throw usageError(
          `Cannot read "${file}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      });
      const containerfile = parseContainerfile(text, flags.file ?? file.slice(context.length + 1));
      const scratch = await buildWorkDir();
      const started = Date.now();
      try {
        const quiet = flags.json === true;
        const cacheDir = flags.cacheDir ?? defaultCacheDir(io.env);
        const cache =
          flags.cache === false || cacheDir === undefined ? NO_CACHE : createLayerCache(resolve(cacheDir));
        const startedOn = new Date();
        const { image, cached, built, inputs } = await build({
          cache,
          containerfile,
          context,
          buildArgs,
          ...(flags.target === undefined ? {} : { target: flags.target }),
          epoch: Number(epochText),
          workDir: scratch.path,
          network: flags.network,
          ...(quiet
            ? {}
            : {
                progress: (line: string) => io.stderr.write(`${line}\n`),
                output: (chunk: Buffer) => io.stderr.write(chunk),
              }),
        });
        const layout = resolve(m[1] ?? "");
        const digest = await writeImageToLayout(layout, image, m[2] ?? "");
        const statement = provenanceStatement({
          name: `oci-layout:${layout}:${m[2]}`,
          digest,
          containerfile: { path: flags.file ?? file.slice(context.length + 1), text },
          buildArgs,
          ...(flags.target === undefined ? {} : { target: flags.target }),
          network: flags.network ?? "none",
          inputs,
          builderId: `https://strata.dev/builder/strata@${VERSION}`,
          startedOn,
          finishedOn: new Date(),
        });
        const provenance = await attachToLayout(
          layout,
          { digest, size: serialize(image).manifest.length },
          statement,
        );
        const summary = {
          image: `oci-layout:${layout}:${m[2]}`,
          digest,
          layers: image.layers.map((l, i) => ({
            digest: l.digest,
            size: l.size,
            createdBy: image.config.history?.filter((h) => h.empty_layer !== true)[i]?.created_by,
          })),
          provenance,
          cached,
          built,
          seconds: (Date.now() - started) / 1000,
        };
        if (quiet) printJson(io, summary);
        else
          io.stdout.write(
            `Built ${summary.image} ${digest} (${image.layers.length} layers, ${cached} steps cached, ${built} built, ${summary.seconds.toFixed(1)} s)\n`,
          );
      } finally {
        await scratch.remove();
      }
    });
}
