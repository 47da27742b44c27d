// A version's bytes over a metadata database (SQLite) holding many versions of chunked-disk-like
// content in several repositories: shared parts, one config every manifest names, copies of a
// version in another gallery, manifests of an ordinary repository above the same content. Every
// version's total, own and shared are checked against a plain count that walks every version,
// with the threshold that sets aside digests of many holders at its default, at 2 and at 0 (every
// digest set aside).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType, type Digest } from "../oci/index.ts";
import {
  connectDatabase,
  createMetadataStore,
  migrateSet,
  type BlobStore,
  type MetadataStore,
} from "../store/index.ts";
import type { GalleryContext } from "./context.ts";
import { galleryMigrations } from "./db/migrations.ts";
import type { GalleryDatabase, VersionsTable } from "./db/schema.ts";
import { versionBytes } from "./version-bytes.ts";

interface Node {
  readonly digest: Digest;
  readonly size: number;
  /** Manifests only: what they name. */
  readonly refs?: readonly Digest[];
  readonly index?: boolean;
}

let dir: string;
let meta: MetadataStore;
let ctx: GalleryContext;
let release: () => Promise<void>;
const nodes = new Map<Digest, Node>();
const versions: VersionsTable[] = [];
let counter = 0;

function blob(size: number): Node {
  const node = { digest: digestOf(`blob ${++counter}`), size };
  nodes.set(node.digest, node);
  return node;
}

function manifest(refs: readonly Node[], index = false): Node {
  const node = {
    digest: digestOf(`manifest ${++counter}`),
    size: 100 + counter,
    refs: refs.map((r) => r.digest),
    index,
  };
  nodes.set(node.digest, node);
  return node;
}

/** Stores `top` and everything below it in `repository`: manifests and blob links. */
async function store(repository: string, top: Node): Promise<void> {
  for (const ref of top.refs ?? []) {
    const child = nodes.get(ref);
    if (child?.refs !== undefined) await store(repository, child);
    else if (child !== undefined) await meta.blobs.link(repository, child);
  }
  await meta.manifests.put(repository, {
    digest: top.digest,
    mediaType: top.index === true ? MediaType.ImageIndex : MediaType.ImageManifest,
    size: top.size,
    references: top.refs ?? [],
  });
}

async function pin(gallery: string, image: string, version: string, top: Node): Promise<void> {
  const [major, minor, patch] = version.split(".").map(Number) as [number, number, number];
  const row: VersionsTable = {
    gallery,
    image,
    version,
    major,
    minor,
    patch,
    digest: top.digest,
    media_type: MediaType.ImageIndex,
    metadata: "{}",
    base_digest: null,
    state: "published",
    eol: null,
    exclude_from_latest: 0,
    approvals: "[]",
    deprecation: null,
    revoke_reason: null,
    revoke_at: null,
    revoked_by: null,
    deleted_at: null,
    deleted_by: null,
    state_before_delete: null,
    restored_at: null,
    created_at: 0,
    published_by: "test",
  };
  await store(`${gallery}/${image}`, top);
  await ctx.db.insertInto("gallery_versions").values(row).execute();
  versions.push(row);
}

/** Every digest reachable from `digest`, by the content graph. */
function reach(digest: Digest, out = new Set<Digest>()): Set<Digest> {
  if (out.has(digest)) return out;
  out.add(digest);
  for (const ref of nodes.get(digest)?.refs ?? []) reach(ref, out);
  return out;
}

/** total, own and shared counted the plain way: against every other version's content. */
function expected(row: VersionsTable): { total: number; own: number; shared: number } {
  const mine = reach(row.digest as Digest);
  const others = new Set<Digest>();
  for (const other of versions)
    if (other !== row) for (const d of reach(other.digest as Digest)) others.add(d);
  let total = 0;
  let shared = 0;
  for (const d of mine) {
    const size = nodes.get(d)?.size ?? 0;
    total += size;
    if (others.has(d)) shared += size;
  }
  return { total, own: total - shared, shared };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-version-bytes-"));
  const url = `sqlite:${join(dir, "strata.db")}`;
  meta = await createMetadataStore(url);
  const connection = connectDatabase<GalleryDatabase>(url);
  release = connection.release;
  await migrateSet(connection.db, connection.dialect, {
    name: "gallery",
    table: "gallery_migration",
    migrations: galleryMigrations,
  });
  const blobs = { stat: () => Promise.resolve(undefined) } as unknown as BlobStore;
  ctx = { db: connection.db, dialect: connection.dialect, meta, blobs } as unknown as GalleryContext;

  // Disks of one line of versions: a config every manifest names, parts that carry over from one
  // version to the next, and chunks that change.
  const config = blob(2);
  const chunks = Array.from({ length: 60 }, (_, i) => blob(1000 + i));
  const partOf = (from: number, to: number) => manifest([config, ...chunks.slice(from, to)]);
  const parts = [
    partOf(0, 10),
    partOf(10, 20),
    partOf(20, 30),
    partOf(30, 40),
    partOf(40, 50),
    partOf(50, 60),
  ];
  const disk = (partList: readonly Node[]) => manifest([manifest([config, blob(300)]), ...partList], true);
  const lines = [
    disk([parts[0], parts[1], parts[2]] as Node[]),
    disk([parts[0], parts[1], parts[3]] as Node[]),
    disk([parts[0], parts[4], parts[3]] as Node[]),
    disk([parts[5]] as Node[]),
  ];
  for (const [i, top] of lines.entries()) await pin("prod", "disk", `1.${i}.0`, top);
  // A copy of 1.3.0 in another gallery; an ordinary repository with the same parts above them.
  await pin("test", "disk", "1.3.0", lines[3] as Node);
  await store("builds/disk", disk([parts[0], parts[5]] as Node[]));
  // Versions that share nothing but the config.
  await pin("prod", "solo", "1.0.0", disk([partOf(0, 0)]));
  const alone = manifest([blob(7), blob(8)]);
  await pin("prod", "alone", "1.0.0", alone);
});

after(async () => {
  await meta.close();
  await release();
  await rm(dir, { recursive: true, force: true });
});

describe("versionBytes", () => {
  for (const manyHolders of [undefined, 2, 0]) {
    it(`counts total, own and shared as a walk of every version would (threshold ${manyHolders ?? "default"})`, async () => {
      for (const row of versions) {
        const got = await versionBytes(ctx, row, manyHolders === undefined ? {} : { manyHolders });
        assert.deepEqual(got, expected(row), `${row.gallery}/${row.image}:${row.version}`);
      }
    });
  }

  it("finds some versions partly shared, a copy wholly shared and one that shares nothing", () => {
    const all = versions.map(expected);
    assert.ok(all.some((b) => b.shared > 0 && b.own > 0));
    assert.ok(all.some((b) => b.own === 0 && b.total > 0));
    assert.ok(all.some((b) => b.shared === 0 && b.total > 0));
  });
});
