// `strata build`: builds an image from a Containerfile (or Dockerfile) or an image template
// (strata.yaml) without a daemon, runs the template's test gates, and only when every gate
// passes writes it: to an OCI layout, to the local image store, pushed to a registry (with its
// provenance as a referrer) and published as a gallery version. Reproducible by default: times
// come from SOURCE_DATE_EPOCH (0 when unset), so the same inputs give the same digest.
import { readFile, rm, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { Option, type Command } from "commander";
import type { Gate, Image, LayerCache, Referrer, Template } from "../../builder/index.ts";
import { clientFor } from "../api-client.ts";
import { buildCacheDir } from "../build-cache.ts";
import { collect, defined, imagePath, parsePairs, parseVersionRef, registryReference } from "../args.ts";
import { CliError, usageError } from "../errors.ts";
import type { CliIo } from "../io.ts";
import { localImages, parseImageLocation, registryClient, resolveImage, type ImageRef } from "../images.ts";
import { printJson } from "../output.ts";
import { requireHostPlatform } from "../platform.ts";
import { createProgress, type Progress } from "../progress.ts";
import { VERSION } from "../version.ts";
import { publishDisk } from "../disk-publish.ts";
import { buildTemplateDisk, type TemplateDisk } from "../disk-template.ts";
import { MediaType } from "../../oci/index.ts";
import { imageSboms, pushSboms, sbomSummary, type ImageSboms } from "../image-sboms.ts";
import { keyForSign, signPushed } from "../sign-content.ts";
import type { SigningKey } from "../../sign/index.ts";

interface BuildFlags {
  file?: string;
  tag?: string[];
  buildArg?: string[];
  target?: string;
  network?: string;
  json?: boolean;
  cacheDir?: string;
  cache?: boolean;
  cacheFrom?: string[];
  cacheTo?: string;
  push?: boolean;
  publish?: string | boolean;
  sign?: string | boolean;
  diskOutput?: string;
  server?: string;
  insecure?: boolean;
  pull?: boolean;
  quiet?: boolean;
  platform?: string;
  format?: string;
}

const isTemplateFile = (path: string): boolean => /\.ya?ml$/i.test(path);

async function readText(path: string): Promise<string> {
  return readFile(path, "utf8").catch((error: unknown) => {
    throw usageError(
      `Cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  });
}

/** The file `strata build` reads: -f, else CONTEXT/strata.yaml, Containerfile or Dockerfile. */
async function findBuildFile(context: string, file: string | undefined): Promise<string> {
  if (file !== undefined) return isAbsolute(file) ? file : resolve(file);
  for (const name of ["strata.yaml", "Containerfile", "Dockerfile"]) {
    const path = join(context, name);
    if ((await stat(path).catch(() => undefined)) !== undefined) return path;
  }
  throw usageError(`No strata.yaml, Containerfile or Dockerfile in "${context}": name one with -f`);
}

/** The repository and tag a registry reference pushes to. */
function pushTarget(ref: ImageRef & { kind: "name" }): { registry: string; repository: string; tag: string } {
  const registry = ref.reference.registry;
  if (registry === undefined)
    throw usageError(`Cannot push "${ref.text}": it names no registry (e.g. 127.0.0.1:5000/${ref.text})`);
  if (ref.reference.digest !== undefined)
    throw usageError(`Cannot push to "${ref.text}": name a tag, not a digest`);
  return { registry, repository: ref.reference.repository, tag: ref.reference.tag ?? "latest" };
}

function gatesReport(
  io: CliIo,
  results: readonly { name: string; passed: boolean; failures: readonly string[] }[],
) {
  for (const r of results) {
    io.stderr.write(`${r.passed ? "PASS" : "FAIL"} ${r.name}\n`);
    for (const f of r.failures) io.stderr.write(`     ${f}\n`);
  }
}

export function registerBuild(program: Command, io: CliIo): void {
  program
    .command("build [context]")
    .description(
      "Build an image from a Containerfile or a strata.yaml template without a daemon; test it, then write, push or publish it",
    )
    .option(
      "-f, --file <path>",
      "a Containerfile, Dockerfile or strata.yaml template (default CONTEXT/strata.yaml, else Containerfile, else Dockerfile)",
    )
    .option(
      "-t, --tag <ref>",
      "where the image goes: oci-layout:PATH:TAG, or a name ([REGISTRY/]REPO[:TAG]) kept in the local store and pushed with --push; repeatable",
      collect,
    )
    .option("--build-arg <key=value>", "a build argument; repeatable; overrides the template's args", collect)
    .option("--target <stage>", "build this stage (name or index) instead of the last")
    .option("--network <mode>", "network for RUN steps: none (default) or host", "none")
    .option("--push", "push every registry tag, with the provenance as a referrer")
    .option(
      "--sign [key]",
      "with --push or --publish: sign what is pushed — the image, its provenance and SBOMs, the disk — with a kept key's name or a private key file (default: the key named default)",
    )
    .option(
      "--publish [gallery/name@version]",
      "push, then publish as a gallery version (default: the template's gallery.image and gallery.version); with a disk section, also the boot-tested disk as the same version of disk.image",
    )
    .option(
      "--disk-output <dir>",
      "with a template's disk section: build and boot-test the disk into this folder (also without --publish)",
    )
    .option(
      "--server <url>",
      "the Strata server --publish talks to (default $STRATA_SERVER or the tag's registry)",
    )
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .option("--pull", "pull registry bases again even when the local store has them")
    .option(
      "--cache-dir <dir>",
      "where layers are kept between builds (default $XDG_CACHE_HOME/strata/build or ~/.cache/strata/build)",
    )
    .option("--no-cache", "build every step, neither reading nor filling the cache")
    .option(
      "--cache-from <ref>",
      "import layer cache entries from a registry (REGISTRY/REPO[:TAG]); repeatable",
      collect,
    )
    .option("--cache-to <ref>", "export this build's layer cache entries to a registry (REGISTRY/REPO[:TAG])")
    .option("--json", "print a JSON summary instead of progress")
    .option("-q, --quiet", "print only the image's digest")
    .option("--platform <os/arch>", "the image's platform: this machine's (no emulation)")
    .option("--format <format>", "the image format: oci (the only one Strata writes)")
    .addOption(new Option("--rm", "docker's default: there are no intermediate containers").hideHelp())
    .addOption(new Option("--force-rm", "docker's: there are no intermediate containers").hideHelp())
    .action(async (contextArg: string | undefined, flags: BuildFlags) => {
      const started = Date.now();
      requireHostPlatform(flags.platform, "build");
      if (flags.format !== undefined && flags.format.toLowerCase() !== "oci")
        throw usageError(
          `Invalid --format "${flags.format}": Strata writes OCI images only, which docker, podman and every registry take`,
        );
      const quiet = flags.json === true || flags.quiet === true;
      const progress = createProgress(io, quiet);
      if (flags.network !== "none" && flags.network !== "host")
        throw usageError(`Invalid --network "${flags.network}": expected none or host`);
      const epochText = io.env.SOURCE_DATE_EPOCH ?? "0";
      if (!/^\d{1,12}$/.test(epochText))
        throw usageError(`Invalid SOURCE_DATE_EPOCH "${epochText}": expected seconds since 1970`);
      const build = await import("../../builder/index.ts");

      // What to build: a template, or a Containerfile.
      const startContext = resolve(contextArg ?? ".");
      const buildFile = await findBuildFile(startContext, flags.file);
      let template: Template | undefined;
      let containerfileText: string;
      let containerfileName: string;
      let context = startContext;
      if (isTemplateFile(buildFile)) {
        const text = await readText(buildFile);
        try {
          template = build.parseTemplate(text, flags.file ?? basename(buildFile));
        } catch (error) {
          throw usageError((error as Error).message);
        }
        const folder = dirname(buildFile);
        if (contextArg === undefined) context = resolve(folder, template.context ?? ".");
        if (template.containerfile !== undefined) {
          const path = resolve(folder, template.containerfile);
          containerfileText = await readText(path);
          containerfileName = template.containerfile;
        } else {
          containerfileText = `${(template.steps ?? []).join("\n")}\n`;
          containerfileName = `${template.file} (steps)`;
        }
      } else {
        containerfileText = await readText(buildFile);
        containerfileName = flags.file ?? buildFile.slice(startContext.length + 1);
      }
      if (!(await stat(context).catch(() => undefined))?.isDirectory())
        throw usageError(`Build context "${context}" is not a directory`);
      const containerfile = build.parseContainerfile(containerfileText, containerfileName);
      const buildArgs = { ...template?.args, ...parsePairs("--build-arg", flags.buildArg) };
      const target = flags.target ?? template?.target;

      // Where it goes, checked before anything is built.
      const tagTexts = flags.tag ?? template?.tags ?? [];
      const tags = tagTexts.map((t) => parseImageLocation(t, "--tag"));
      const publishing = flags.publish !== undefined && flags.publish !== false;
      let publish: { gallery: string; image: string; version: string } | undefined;
      if (publishing) {
        const text =
          typeof flags.publish === "string"
            ? flags.publish
            : template?.gallery?.image !== undefined && template.gallery.version !== undefined
              ? `${template.gallery.image}@${template.gallery.version}`
              : undefined;
        if (text === undefined)
          throw usageError(
            "--publish needs GALLERY/NAME@VERSION, or gallery.image and gallery.version in the template",
          );
        publish = parseVersionRef(text);
      }
      if (flags.sign !== undefined && flags.sign !== false && flags.push !== true && !publishing)
        throw usageError("--sign signs what is pushed: give --push or --publish");
      const signingKey = await keyForSign(io, flags.sign);
      if (tags.length === 0 && !publishing)
        throw usageError(
          "Missing -t/--tag: name where the image goes (oci-layout:PATH:TAG or a name), or --publish",
        );
      // Names with a registry are pushed; names without one stay in the local store.
      const named = tags.filter((t): t is ImageRef & { kind: "name" } => t.kind === "name");
      const pushes =
        flags.push === true || publishing ? named.filter((t) => t.reference.registry !== undefined) : [];
      const pushTargets = pushes.map((t) => pushTarget(t));
      if (flags.push === true && pushTargets.length === 0) {
        const first = named[0];
        if (first !== undefined) pushTarget(first);
        throw usageError("--push needs a registry tag (-t REGISTRY/REPO:TAG)");
      }
      const cacheTo = flags.cacheTo === undefined ? undefined : cacheRef(flags.cacheTo, "--cache-to");
      const cacheFrom = (flags.cacheFrom ?? []).map((c) => cacheRef(c, "--cache-from"));

      const scratch = await build.buildWorkDir();
      try {
        const cacheDir = flags.cacheDir ?? buildCacheDir(io.env);
        let cache: LayerCache =
          flags.cache === false || cacheDir === undefined
            ? build.NO_CACHE
            : build.createLayerCache(resolve(cacheDir));
        if (cacheFrom.length > 0 && cache !== build.NO_CACHE && cacheDir !== undefined)
          for (const ref of cacheFrom) {
            const name = `${ref.registry}/${ref.repository}:${ref.tag}`;
            const client = await registryClient(ref.registry, io.env, flags.insecure === true);
            const imported = await build.importCache(
              client,
              ref.repository,
              ref.tag,
              resolve(cacheDir),
              cache,
            );
            // A cache that is not there yet (the first build) is no error: the build runs without it.
            if (imported === undefined) progress.line(`No build cache at ${name} yet`);
            else {
              cache = imported.cache;
              progress.line(`Imported ${imported.entries} cache entries from ${name}`);
            }
          }
        const startedOn = new Date();
        const result = await build.build({
          cache,
          containerfile,
          context,
          buildArgs,
          ...(target === undefined ? {} : { target }),
          epoch: Number(epochText),
          workDir: scratch.path,
          network: flags.network,
          resolveBase: (ref) =>
            resolveImage(parseImageLocation(ref, "base"), {
              env: io.env,
              insecure: flags.insecure === true,
              pull: flags.pull === true ? "always" : "missing",
              progress: progress.line,
            }),
          progress: progress.line,
          ...(quiet ? {} : { output: (chunk: Buffer) => progress.raw(chunk) }),
        });
        const { image } = result;

        // Test gates: a failing one stops everything that follows.
        const gates: readonly Gate[] = template?.tests ?? [];
        let gateResults: { name: string; passed: boolean; failures: readonly string[] }[] = [];
        if (gates.length > 0) {
          progress.line(`Testing: ${gates.length} test${gates.length === 1 ? "" : "s"}`);
          gateResults = await build.runGates(image, gates, { workDir: join(scratch.path, "gates") });
          const failed = gateResults.filter((r) => !r.passed);
          if (!quiet || failed.length > 0) gatesReport(io, gateResults);
          if (failed.length > 0) {
            throw new CliError(
              `${failed.length} of ${gates.length} tests failed (${failed.map((f) => f.name).join(", ")}): nothing was written, pushed or published`,
            );
          }
        }

        const serialized = build.serialize(image);
        const digest = serialized.manifestDigest;
        const subjectName =
          tags[0]?.text ??
          (publish === undefined ? digest : `${publish.gallery}/${publish.image}@${publish.version}`);
        const statement = build.provenanceStatement({
          name: subjectName,
          digest,
          containerfile: { path: containerfileName, text: containerfileText },
          ...(template === undefined ? {} : { template: { path: template.file, text: template.text } }),
          buildArgs,
          ...(target === undefined ? {} : { target }),
          network: flags.network ?? "none",
          inputs: result.inputs,
          builderId: `https://strata.dev/builder/strata@${VERSION}`,
          startedOn,
          finishedOn: new Date(),
        });
        const subject = { digest, size: serialized.manifest.length };
        const referrer = build.provenanceReferrer(subject, statement);
        // The SBOMs, from the image's layers: a package database that cannot be read stops the
        // build here, before anything is written.
        const sboms = await imageSboms(image, subjectName, subject);
        for (const warning of sboms.inventory.warnings ?? []) io.stderr.write(`warning: ${warning}\n`);

        // The template's disk: built from the same layers and boot-tested before anything is
        // written, pushed or published.
        const diskSection = template?.disk;
        let disk: TemplateDisk | undefined;
        if (diskSection !== undefined && (publishing || flags.diskOutput !== undefined)) {
          if (publishing && diskSection.image === undefined)
            throw usageError(
              `${template?.file ?? "strata.yaml"}: disk.image: name the kind: vm definition (GALLERY/NAME) the disk is published to`,
            );
          const outDir = resolve(flags.diskOutput ?? join(scratch.path, "disk"));
          disk = await buildTemplateDisk(image, digest, diskSection, outDir, Number(epochText), progress);
        }

        // Written: layouts and the local store.
        const written: string[] = [];
        for (const tag of tags) {
          const dir = tag.kind === "layout" ? tag.dir : localImages(io.env);
          const name = tag.kind === "layout" ? tag.tag : tag.local;
          await build.writeImageToLayout(dir, image, name);
          await build.attachToLayout(dir, subject, statement);
          const { attachSbomsToLayout } = await import("../../sbom/index.ts");
          await attachSbomsToLayout(dir, subject, sboms.referrers);
          written.push(tag.kind === "layout" ? `oci-layout:${dir}:${name}` : name);
        }

        // Pushed: each registry tag, then the provenance as a referrer.
        const pushed: { ref: string; referrers: "api" | "tag" }[] = [];
        for (const t of pushTargets) {
          pushed.push({
            ref: `${t.registry}/${t.repository}:${t.tag}`,
            referrers: await pushImage(
              t,
              image,
              [referrer, sboms],
              io,
              flags.insecure === true,
              progress,
              signingKey,
            ),
          });
        }

        // Published: a gallery version of what was pushed (or pushed here by digest).
        let version: unknown;
        let diskVersion: unknown;
        if (publish !== undefined) {
          const first = pushTargets[0];
          const server =
            flags.server ??
            io.env.STRATA_SERVER ??
            (first === undefined ? undefined : `http://${first.registry}`);
          const api = await clientFor(server === undefined ? {} : { server }, io.env);
          let from: string;
          if (first !== undefined) {
            from = registryReference(`${first.registry}/${first.repository}@${digest}`, api.server);
            if (from.startsWith(`${first.registry}/`))
              throw usageError(
                `--publish: the tag's registry ${first.registry} is not the server ${api.server}`,
              );
          } else {
            const registry = new URL(api.server).host;
            const t = { registry, repository: `${publish.gallery}/${publish.image}`, tag: "" };
            await pushImage(t, image, [referrer, sboms], io, flags.insecure === true, progress, signingKey);
            from = `${t.repository}@${digest}`;
          }
          const g = template?.gallery;
          progress.line(`Publishing ${publish.gallery}/${publish.image}@${publish.version}`);
          const answer = await api.call("POST", `${imagePath(publish)}/versions`, {
            version: publish.version,
            from,
            ...defined({
              changelog: g?.changelog,
              owner: g?.owner,
              eol: g?.eol,
              buildId: g?.buildId,
              sourceRevision: g?.sourceRevision,
              excludeFromLatest: g?.excludeFromLatest,
            }),
          });
          version = answer.body;
          if (disk !== undefined && diskSection?.image !== undefined) {
            diskVersion = await publishDisk(
              {
                raw: disk.raw,
                target: `${diskSection.image}@${publish.version}`,
                boot: disk.result.boot,
                rawDigest: disk.result.rawDigest,
                source: { digest, size: serialized.manifest.length, mediaType: MediaType.ImageManifest },
                sboms: {
                  inventory: sboms.inventory,
                  ...(image.config.created === undefined ? {} : { created: image.config.created }),
                },
                server: api.server,
                insecure: flags.insecure === true,
                ...(g?.changelog === undefined ? {} : { changelog: g.changelog }),
                ...(signingKey === undefined ? {} : { sign: signingKey }),
              },
              io,
              progress,
            );
          }
        }

        // The raw disk was made for the push; it stays only when the template asks for it.
        const diskFiles = disk?.result.files.filter(
          (f) => f.format !== "raw" || diskSection?.formats.includes("raw"),
        );
        if (disk !== undefined && diskSection?.formats.includes("raw") !== true)
          await rm(disk.raw, { force: true });

        if (cacheTo !== undefined) {
          const client = await registryClient(cacheTo.registry, io.env, flags.insecure === true);
          const count = await build.exportCache(client, cacheTo.repository, cacheTo.tag, result.steps, {
            bytes: progress.bytes,
          });
          progress.line(
            `Exported ${count} cache entries to ${cacheTo.registry}/${cacheTo.repository}:${cacheTo.tag}`,
          );
        }

        const summary = {
          digest,
          written,
          pushed,
          ...(version === undefined ? {} : { published: version }),
          ...(disk === undefined
            ? {}
            : {
                disk: {
                  rawDigest: disk.result.rawDigest,
                  virtualSize: disk.result.virtualSize,
                  files: diskFiles,
                  stages: disk.result.stages,
                  test: disk.test,
                  ...(diskVersion === undefined ? {} : { published: diskVersion }),
                },
              }),
          layers: image.layers.map((l, i) => ({
            digest: l.digest,
            size: l.size,
            createdBy: image.config.history?.filter((h) => h.empty_layer !== true)[i]?.created_by,
          })),
          provenance: referrer.digest,
          sboms: sbomSummary(sboms),
          tests: gateResults,
          cached: result.cached,
          built: result.built,
          seconds: (Date.now() - started) / 1000,
        };
        progress.done();
        if (flags.json === true) printJson(io, summary);
        else if (flags.quiet === true) io.stdout.write(`${digest}\n`);
        else {
          const where = [
            ...written.map((w) => (w.startsWith("oci-layout:") ? w : `${w} (local store)`)),
            ...pushed.map((p) => `${p.ref} (pushed)`),
            ...(publish === undefined
              ? []
              : [`${publish.gallery}/${publish.image}@${publish.version} (published)`]),
          ];
          io.stdout.write(
            `Built ${digest} (${image.layers.length} layers, ${result.cached} steps cached, ${result.built} built${gates.length > 0 ? `, ${gates.length} tests passed` : ""}, ${summary.seconds.toFixed(1)} s)\n${where.map((w) => `  ${w}\n`).join("")}`,
          );
        }
      } finally {
        progress.done();
        await scratch.remove();
      }
    });
}

function cacheRef(text: string, flag: string): { registry: string; repository: string; tag: string } {
  const ref = parseImageLocation(text, flag);
  if (ref.kind !== "name" || ref.reference.registry === undefined || ref.reference.digest !== undefined)
    throw usageError(`Invalid ${flag} "${text}": expected REGISTRY/REPO[:TAG]`);
  return {
    registry: ref.reference.registry,
    repository: ref.reference.repository,
    tag: ref.reference.tag ?? "buildcache",
  };
}

async function pushImage(
  t: { registry: string; repository: string; tag: string },
  image: Image,
  [referrer, sboms]: [Referrer, ImageSboms],
  io: CliIo,
  insecure: boolean,
  progress: Progress,
  key?: SigningKey,
): Promise<"api" | "tag"> {
  const { pushBuiltImage } = await import("../../builder/index.ts");
  const client = await registryClient(t.registry, io.env, insecure);
  progress.line(`Pushing ${t.registry}/${t.repository}${t.tag === "" ? "" : `:${t.tag}`}`);
  const { referrers, digest } = await pushBuiltImage(
    client,
    t.repository,
    t.tag || undefined,
    image,
    referrer,
    {
      bytes: progress.bytes,
      blob: (digest, size, outcome) =>
        progress.line(`  ${digest.slice(0, 19)} ${outcome === "exists" ? "exists" : `pushed ${size} bytes`}`),
    },
  );
  progress.line(`  provenance ${referrer.digest.slice(0, 19)} attached`);
  await pushSboms(client, t.repository, digest, sboms.referrers);
  for (const sbom of sboms.referrers)
    progress.line(`  sbom ${sbom.digest.slice(0, 19)} attached (${sbom.predicateType})`);
  if (key !== undefined) {
    const name = `${t.registry}/${t.repository}${t.tag === "" ? `@${digest}` : `:${t.tag}`}`;
    const signed = [digest, referrer.digest, ...sboms.referrers.map((s) => s.digest)];
    await signPushed(client, t.repository, signed, key, name);
    progress.line(`  signed the image, its provenance and SBOMs with key ${key.keyId.slice(0, 16)}`);
  }
  return referrers;
}
