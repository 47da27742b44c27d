// One version's content sent to a site's repository: the manifest or index with every manifest
// it lists and every referrer of each (signatures, SBOMs, provenance, changelog diffs, chunk
// indexes of disks), recursively, and the manifests cosign tags `sha256-<hex>.sig|.att|.sbom`;
// manifests byte for byte; blobs only when the site lacks them.
// It works in three steps, so a copy cut short and started again does not send again what
// arrived: every blob is HEADed first; a blob the site holds in another repository is mounted
// from there; the rest is sent `concurrency` at a time, its bytes counted as they go. Manifests
// follow, children before the manifests that name them, referrers after their subject.
import type { Readable } from "node:stream";
import { parseManifest } from "../oci/index.ts";
import {
  createRegistryEndpoint,
  fallbackTag,
  type Endpoint,
  type Entry,
  type RegistryClient,
} from "../remote/index.ts";

export interface TransferOptions {
  /** Blobs sent (and HEADed) at once. */
  readonly concurrency: number;
  /** The source's bytes of a blob. */
  readonly openBlob: (digest: string) => Promise<Readable>;
  /** Other repositories of the site that may hold the blob, to mount it from. */
  readonly mountFrom?: (digest: string) => readonly string[];
  /** The tag the top manifest gets at the site; by digest only when undefined. */
  readonly tag?: string;
  /** Called once the bytes to send are known (after the HEADs and mounts). */
  readonly onPlanned?: (bytesTotal: number) => Promise<void>;
  /** Ends the copy: blobs in flight fail, no further one starts. */
  readonly signal?: AbortSignal;
  /** Called as bytes are sent: the total sent so far. */
  readonly onBytes?: (bytesDone: number) => void;
}

export interface TransferResult {
  readonly digest: string;
  readonly manifests: number;
  readonly referrers: number;
  readonly blobs: {
    readonly existed: number;
    readonly mounted: number;
    readonly sent: number;
    readonly bytesSent: number;
  };
}

interface Node {
  readonly entry: Entry;
  readonly bytes: Buffer;
  /** The manifest this one is a referrer of. */
  readonly subject?: string;
  /** The tag it has at the source and gets at the site (cosign's `sha256-<hex>.sig` and kin). */
  readonly tag?: string;
}

/** Tags cosign keeps a manifest's signatures, attestations and SBOMs under, beside referrers. */
const COSIGN_SUFFIXES = [".sig", ".att", ".sbom"];

/** Runs `work` over `items`, at most `limit` at once; the first failure is thrown once all settle. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

/** The manifests reachable from `top` in push order (children first, referrers after subjects). */
async function collect(source: Endpoint, top: Entry): Promise<Node[]> {
  const order: Node[] = [];
  const seen = new Set<string>();
  const visit = async (entry: Entry, subject?: string, tag?: string): Promise<void> => {
    if (seen.has(entry.digest)) return;
    seen.add(entry.digest);
    const bytes = await source.readManifest(entry.digest);
    const manifest = parseManifest(bytes, entry.mediaType);
    if (manifest.kind === "index") for (const child of manifest.manifests) await visit(child);
    order.push({
      entry,
      bytes,
      ...(subject === undefined ? {} : { subject }),
      ...(tag === undefined ? {} : { tag }),
    });
    for (const referrer of await source.referrers(entry.digest)) await visit(referrer, entry.digest);
    for (const suffix of COSIGN_SUFFIXES) {
      const named = `${fallbackTag(entry.digest)}${suffix}`;
      const found = await source.resolve(named).catch(() => undefined);
      if (found !== undefined) await visit(found, undefined, named);
    }
  };
  await visit(top);
  return order;
}

/** Sends what `digest` of `source` reaches to `repository` of the site `client` speaks to. */
export async function transferVersion(
  source: Endpoint,
  digest: string,
  target: { readonly client: RegistryClient; readonly repository: string },
  options: TransferOptions,
): Promise<TransferResult> {
  const { client, repository } = target;
  const nodes = await collect(source, await source.resolve(digest));
  const blobs = new Map<string, Entry>();
  for (const node of nodes) {
    const manifest = parseManifest(node.bytes, node.entry.mediaType);
    if (manifest.kind === "index") continue;
    for (const blob of [manifest.config, ...manifest.layers])
      if (blob.urls === undefined || blob.urls.length === 0) blobs.set(blob.digest, blob);
  }

  // What the site lacks, then what it can mount from its other repositories.
  const missing: Entry[] = [];
  let existed = 0;
  await eachLimited([...blobs.values()], options.concurrency * 2, async (blob) => {
    if (await client.hasBlob(repository, blob.digest)) existed += 1;
    else missing.push(blob);
  });
  const toSend: Entry[] = [];
  let mounted = 0;
  for (const blob of missing) {
    let done = false;
    for (const from of options.mountFrom?.(blob.digest) ?? []) {
      if (from === repository) continue;
      if (await client.mountBlob(repository, blob.digest, from)) {
        done = true;
        break;
      }
    }
    if (done) mounted += 1;
    else toSend.push(blob);
  }
  const bytesTotal = toSend.reduce((sum, b) => sum + b.size, 0);
  await options.onPlanned?.(bytesTotal);

  // Larger blobs first, so the last of them do not run alone.
  toSend.sort((a, b) => b.size - a.size);
  const sent = new Map<string, number>();
  let bytesSent = 0;
  let finished = 0;
  const open = async (digest: string): Promise<Readable> => {
    options.signal?.throwIfAborted();
    const stream = await options.openBlob(digest);
    const abort = (): void => {
      stream.destroy(new Error("The copy was stopped"));
    };
    options.signal?.addEventListener("abort", abort, { once: true });
    stream.once("close", () => options.signal?.removeEventListener("abort", abort));
    return stream;
  };
  await eachLimited(toSend, options.concurrency, async (blob) => {
    await client.uploadBlob(
      repository,
      blob,
      () => open(blob.digest),
      (d, done) => {
        sent.set(d, done);
        options.onBytes?.(finished + [...sent.values()].reduce((sum, n) => sum + n, 0));
      },
    );
    sent.delete(blob.digest);
    finished += blob.size;
    bytesSent += blob.size;
    options.onBytes?.(finished + [...sent.values()].reduce((sum, n) => sum + n, 0));
  });

  const endpoint = createRegistryEndpoint(client, repository);
  let referrers = 0;
  for (const node of nodes) {
    const top = node.entry.digest === digest;
    await endpoint.putManifest(node.entry, node.bytes, node.tag ?? (top ? options.tag : undefined));
    if (node.subject !== undefined) {
      await endpoint.attachReferrer(node.subject, node.entry);
      referrers += 1;
    }
  }
  return {
    digest,
    manifests: nodes.length,
    referrers,
    blobs: { existed, mounted, sent: toSend.length, bytesSent },
  };
}
