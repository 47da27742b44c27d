// Manifest endpoints: PUT, GET/HEAD and DELETE of /v2/<name>/manifests/<reference>, where the
// reference is a tag or a digest. The pushed bytes are kept exactly as received.
import {
  digestAlgorithm,
  digestOf,
  effectiveArtifactType,
  isTag,
  parseDigest,
  parseManifest,
  requiredBlobs,
  referencedDigests,
  type Digest,
  type Manifest,
} from "../../oci/index.ts";
import { withClaim, type ManifestRecord } from "../../store/index.ts";
import type { RegistryResponse, RequestContext } from "../context.ts";
import { RegistryError } from "../errors.ts";
import { warningHeader } from "../hooks.ts";
import { contentLength } from "../http-ranges.ts";
import { header, nameOf, userOf } from "./common.ts";
import { readBody } from "./read-body.ts";

type Reference = { tag: string; digest?: undefined } | { digest: Digest; tag?: undefined };

function parseReferenceParam(value: string | undefined): Reference {
  const ref = value ?? "";
  if (ref.includes(":")) return { digest: parseDigest(ref) };
  if (!isTag(ref)) {
    throw new RegistryError(
      "MANIFEST_INVALID",
      `Invalid reference "${ref.slice(0, 130)}": not a tag or digest`,
      {
        detail: { reference: ref.slice(0, 256) },
      },
    );
  }
  return { tag: ref };
}

async function lookup(ctx: RequestContext): Promise<ManifestRecord> {
  const name = nameOf(ctx);
  const ref = parseReferenceParam(ctx.params.reference);
  const meta = ctx.deps.meta.manifests;
  const resolved =
    ref.tag !== undefined ? await ctx.deps.hooks?.resolveReference?.(name, ref.tag) : undefined;
  const record =
    resolved !== undefined
      ? await meta.get(name, resolved)
      : ref.tag !== undefined
        ? await meta.resolve(name, ref.tag)
        : await meta.get(name, ref.digest);
  if (record === undefined) {
    throw new RegistryError(
      "MANIFEST_UNKNOWN",
      `Manifest "${ref.tag ?? ref.digest}" is not in repository "${name}"`,
      { detail: { reference: ref.tag ?? ref.digest } },
    );
  }
  return record;
}

export async function getManifest(ctx: RequestContext): Promise<RegistryResponse> {
  const record = await lookup(ctx);
  const headers: Record<string, string | number> = {
    "Content-Type": record.mediaType,
    "Content-Length": record.size,
    "Docker-Content-Digest": record.digest,
    ETag: `"${record.digest}"`,
  };
  const checkPull = ctx.deps.hooks?.checkPull;
  if (checkPull !== undefined) {
    const decision = await checkPull(
      nameOf(ctx),
      ctx.params.reference ?? record.digest,
      record.digest,
      ctx.user,
      {
        mediaType: record.mediaType,
        ...(record.artifactType === undefined ? {} : { artifactType: record.artifactType }),
        ...(record.subject === undefined ? {} : { subject: record.subject }),
      },
    );
    if (decision.deny !== undefined) {
      throw new RegistryError("DENIED", decision.deny, {
        detail: { reference: ctx.params.reference, digest: record.digest },
      });
    }
    if (decision.warnings !== undefined && decision.warnings.length > 0) {
      headers.Warning = decision.warnings.map(warningHeader).join(", ");
    }
  }
  if (ctx.method === "HEAD") return { status: 200, headers };
  const body = await ctx.manifestBytes(record.digest, record.size);
  ctx.deps.events.emit("manifest.pulled", {
    repository: nameOf(ctx),
    reference: ctx.params.reference ?? record.digest,
    digest: record.digest,
    ...userOf(ctx),
  });
  return { status: 200, headers, body };
}

export async function putManifest(ctx: RequestContext): Promise<RegistryResponse> {
  const name = nameOf(ctx);
  const ref = parseReferenceParam(ctx.params.reference);
  const limit = ctx.deps.options.manifestMaxBytes;
  const declared = contentLength(header(ctx, "content-length"));
  if (declared !== undefined && declared > limit) {
    throw tooLarge(declared, limit);
  }
  const bytes = await readBody(ctx.raw, limit, () => tooLarge(undefined, limit));
  if (declared !== undefined && bytes.length !== declared) {
    throw new RegistryError(
      "SIZE_INVALID",
      `Content-Length ${declared} does not match the ${bytes.length} bytes received`,
    );
  }
  const manifest = parseManifest(bytes, header(ctx, "content-type"));
  const digest = digestOf(bytes, ref.digest !== undefined ? digestAlgorithm(ref.digest) : "sha256");
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new RegistryError(
      "DIGEST_INVALID",
      `Digest mismatch: the reference is ${ref.digest}, the body is ${digest}`,
      {
        detail: { expected: ref.digest, actual: digest },
      },
    );
  }
  const references = referencedDigests(manifest);
  // The manifest's own bytes and everything it names are claimed before they are checked or
  // written, so garbage collection cannot remove any of them before the manifest row is in.
  await withClaim(ctx.deps.meta, [digest, ...references], async (claim) => {
    await checkReferences(ctx, manifest);
    if (ref.tag !== undefined) {
      const refusal = await ctx.deps.hooks?.checkTagPush?.(name, ref.tag, digest, ctx.user);
      if (refusal !== undefined) {
        throw new RegistryError("DENIED", refusal, { detail: { tag: ref.tag, digest } });
      }
    }
    await ctx.deps.blobs.put({ digest, size: bytes.length }, bytes);
    const artifactType = effectiveArtifactType(manifest);
    await ctx.deps.meta.manifests.put(
      name,
      {
        digest,
        mediaType: manifest.mediaType,
        size: bytes.length,
        references,
        ...(artifactType === undefined ? {} : { artifactType }),
        ...(manifest.subject === undefined ? {} : { subject: manifest.subject.digest }),
        ...(manifest.annotations === undefined ? {} : { annotations: manifest.annotations }),
      },
      ref.tag,
      { claim },
    );
  });
  ctx.deps.events.emit("manifest.pushed", {
    repository: name,
    digest,
    mediaType: manifest.mediaType,
    ...(ref.tag === undefined ? {} : { tag: ref.tag }),
    ...(manifest.subject === undefined ? {} : { subject: manifest.subject.digest }),
    ...userOf(ctx),
  });
  const headers: Record<string, string | number> = {
    Location: `/v2/${name}/manifests/${digest}`,
    "Docker-Content-Digest": digest,
    "Content-Length": 0,
  };
  if (manifest.subject !== undefined) headers["OCI-Subject"] = manifest.subject.digest;
  return { status: 201, headers };
}

function tooLarge(size: number | undefined, limit: number): RegistryError {
  return new RegistryError(
    "MANIFEST_INVALID",
    size === undefined
      ? `Manifest is too large: more than ${limit} bytes, the limit`
      : `Manifest is too large: ${size} bytes, the limit is ${limit}`,
    { status: 413, detail: { limit } },
  );
}

/** Every blob an image manifest needs, and every child of an index, must be in the repository. */
async function checkReferences(ctx: RequestContext, manifest: Manifest): Promise<void> {
  const name = nameOf(ctx);
  const { meta } = ctx.deps;
  const missing: Digest[] = [];
  if (manifest.kind === "manifest") {
    for (const descriptor of requiredBlobs(manifest)) {
      const blob = await meta.blobs.get(name, descriptor.digest);
      if (blob === undefined) {
        missing.push(descriptor.digest);
      } else if (blob.size !== descriptor.size) {
        throw new RegistryError(
          "MANIFEST_INVALID",
          `Descriptor of "${descriptor.digest}" says ${descriptor.size} bytes, the stored blob has ${blob.size}`,
          { detail: { digest: descriptor.digest, expected: descriptor.size, actual: blob.size } },
        );
      }
    }
  } else {
    for (const child of manifest.manifests) {
      if ((await meta.manifests.get(name, child.digest)) === undefined) missing.push(child.digest);
    }
  }
  if (missing.length > 0) {
    throw new RegistryError(
      "MANIFEST_BLOB_UNKNOWN",
      `Manifest references ${missing.length === 1 ? "a blob" : `${missing.length} blobs`} not in repository "${name}": ${missing.join(", ")}`,
      { detail: { digests: missing } },
    );
  }
}

export async function deleteManifest(ctx: RequestContext): Promise<RegistryResponse> {
  const name = nameOf(ctx);
  const ref = parseReferenceParam(ctx.params.reference);
  const refusal = await ctx.deps.hooks?.checkDelete?.(name, ref.tag ?? ref.digest, ctx.user);
  if (refusal !== undefined) {
    throw new RegistryError("DENIED", refusal, { detail: { reference: ref.tag ?? ref.digest } });
  }
  if (ref.tag !== undefined) {
    if (!(await ctx.deps.meta.tags.delete(name, ref.tag))) {
      throw new RegistryError("MANIFEST_UNKNOWN", `Tag "${ref.tag}" is not in repository "${name}"`, {
        detail: { reference: ref.tag },
      });
    }
    ctx.deps.events.emit("tag.deleted", { repository: name, tag: ref.tag, ...userOf(ctx) });
  } else {
    if (!(await ctx.deps.meta.manifests.delete(name, ref.digest))) {
      throw new RegistryError("MANIFEST_UNKNOWN", `Manifest "${ref.digest}" is not in repository "${name}"`, {
        detail: { reference: ref.digest },
      });
    }
    ctx.deps.events.emit("manifest.deleted", { repository: name, digest: ref.digest, ...userOf(ctx) });
  }
  return { status: 202, headers: { "Content-Length": 0 } };
}
