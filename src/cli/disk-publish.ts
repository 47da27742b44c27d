// Publishing a disk as a gallery version, shared by `strata disk build --publish`, `strata disk
// import --publish` and `strata build --publish` with a template's disk section: the qcow2 is
// pushed as a disk artifact to the gallery's repository on the server (a referrer of its source
// image when it has one), then published as VERSION of the `kind: vm` definition.
import type { DiskArtifactInput } from "../disk/index.ts";
import { clientFor } from "./api-client.ts";
import { imagePath, parseVersionRef, type VersionRef } from "./args.ts";
import { registryClient } from "./images.ts";
import type { CliIo } from "./io.ts";
import type { Progress } from "./progress.ts";

export interface DiskPublishInput extends DiskArtifactInput {
  /** The qcow2 file. */
  readonly qcow2: string;
  /** GALLERY/NAME@VERSION. */
  readonly target: string;
  readonly server?: string;
  readonly insecure?: boolean;
  readonly changelog?: string;
}

export interface DiskPublished {
  readonly ref: VersionRef;
  readonly digest: string;
  readonly version: unknown;
}

export async function publishDisk(
  input: DiskPublishInput,
  io: CliIo,
  progress: Progress,
): Promise<DiskPublished> {
  const ref = parseVersionRef(input.target);
  const { createDiskArtifact, pushDisk } = await import("../disk/index.ts");
  const api = await clientFor(input.server === undefined ? {} : { server: input.server }, io.env);
  const registry = new URL(api.server).host;
  const repository = `${ref.gallery}/${ref.image}`;
  const artifact = await createDiskArtifact(input.qcow2, input);
  const client = await registryClient(registry, io.env, input.insecure === true);
  progress.line(`Pushing the disk to ${registry}/${repository}`);
  const pushed = await pushDisk(client, repository, artifact, { progress: progress.bytes });
  progress.line(`Publishing ${ref.gallery}/${ref.image}@${ref.version}`);
  const answer = await api.call("POST", `${imagePath(ref)}/versions`, {
    version: ref.version,
    from: `${repository}@${pushed.digest}`,
    ...(input.changelog === undefined ? {} : { changelog: input.changelog }),
  });
  return { ref, digest: pushed.digest, version: answer.body };
}
