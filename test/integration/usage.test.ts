// Usage, costs and the replication plan on real servers over loopback: pulls counted per version
// and day and written in batches (HEADs not counted, nothing counted when usage is off, what is
// left written at shutdown), pulls of another Strata site merged in, unused, stale and sprawl
// reports with the gallery clock moved, costs from the configured prices, and plans against a
// real Distribution that already holds a base layer and against a site that is down.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { authYaml, basic, galleryApi, PASSWORD, type ApiAnswer } from "../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { diskSizes, makeChunkedDisk, pushChunkedDisk, rawChunk } from "../helpers/chunked-disk.ts";
import { EMPTY_CONFIG, imageManifest } from "../helpers/manifests.ts";
import { freePort } from "../helpers/ports.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";
import { runStrata } from "../helpers/cli-run.ts";

const DAY = 86_400_000;
const GiB = 1024 ** 3;
const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

interface Pushed {
  readonly digest: string;
  /** Every blob and the manifest, with their sizes. */
  readonly sizes: ReadonlyMap<string, number>;
}

/** Pushes config and layers and a manifest naming them as repository:tag through inject(). */
async function push(
  app: FastifyInstance,
  repository: string,
  tag: string,
  config: Buffer,
  layers: readonly Buffer[],
  user?: string,
): Promise<Pushed> {
  const auth = user === undefined ? {} : { authorization: basic(user) };
  const sizes = new Map<string, number>();
  for (const blob of [config, ...layers]) {
    const res = await app.inject({
      method: "POST",
      url: `/v2/${repository}/blobs/uploads/?digest=${digestOf(blob)}`,
      headers: { ...auth, "content-type": "application/octet-stream" },
      payload: blob,
    });
    assert.equal(res.statusCode, 201, res.body);
    sizes.set(digestOf(blob), blob.length);
  }
  const manifest = imageManifest(config, layers);
  const res = await app.inject({
    method: "PUT",
    url: `/v2/${repository}/manifests/${tag}`,
    headers: { ...auth, "content-type": MediaType.ImageManifest },
    payload: manifest,
  });
  assert.equal(res.statusCode, 201, res.body);
  sizes.set(digestOf(manifest), manifest.length);
  return { digest: digestOf(manifest), sizes };
}

const configWith = (seed: string, created?: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      ...(created === undefined ? {} : { created }),
      config: { Labels: { seed } },
      rootfs: { type: "layers", diff_ids: [] },
    }),
  );

const sum = (...maps: ReadonlyMap<string, number>[]): number => {
  const all = new Map<string, number>();
  for (const m of maps) for (const [d, s] of m) all.set(d, s);
  let n = 0;
  for (const s of all.values()) n += s;
  return n;
};

/** Uploads a blob to Distribution (POST, then PUT with the digest). */
async function pushToDistribution(url: string, repository: string, blob: Buffer): Promise<void> {
  const start = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: "POST" });
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get("location") ?? "", url);
  location.searchParams.set("digest", digestOf(blob));
  const put = await fetch(location, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: blob,
  });
  assert.equal(put.status, 201, await put.text());
}

async function pullsRows(server: InProcess, gallery: string) {
  return server.server.gallery.access.db
    .selectFrom("gallery_pulls")
    .selectAll()
    .where("gallery", "=", gallery)
    .orderBy("image")
    .orderBy("version")
    .orderBy("day")
    .execute();
}

describe("usage, costs and replication plans", () => {
  let dist: RunningDistribution | undefined;
  let fra: InProcess | undefined;
  let main: InProcess | undefined;
  let offset = 0;
  let gonePort = 0;
  const m = (): InProcess => main as InProcess;
  const api = (method: string, path: string, body?: unknown, user = "alice"): Promise<ApiAnswer> =>
    galleryApi(m().server.app)(method, path, body, user);
  const pull = async (reference: string, method: "GET" | "HEAD" = "GET", repository = "prod/web") => {
    const res = await m().server.app.inject({
      method,
      url: `/v2/${repository}/manifests/${reference}`,
      headers: { authorization: basic("alice") },
    });
    assert.equal(res.statusCode, 200, res.body);
  };

  // Content: a 256 KiB base layer shared by every web version and the copy in dev.
  const base = randomBytes(256 * 1024);
  const top1 = randomBytes(1024);
  const top2 = randomBytes(1024);
  const top3 = randomBytes(1024);
  const oldLayer = randomBytes(8 * 1024);
  const config1 = configWith("1");
  const config2 = configWith("2");
  let v1: Pushed;
  let v2: Pushed;
  let old: Pushed;
  let copy: Pushed;

  before(async () => {
    dist = await startDistribution();
    gonePort = await freePort();
    fra = await startInProcess({ listen: true, yaml: "site: { name: fra }\nusage: { flush: 10m }\n" });
    const yaml = await authYaml(
      ["alice", "dave", "eve"],
      [
        "site: { name: hel, region: eu-north, cost: { storagePerGiBMonth: 2 } }",
        "sites:",
        `  dist: { url: "${dist.url}", kind: registry, repositoryPrefix: mirror, region: us-east, cost: { storagePerGiBMonth: 3, egressPerGiB: 0.5 } }`,
        `  fra: { url: "${fra.url}", kind: strata, cost: { storagePerGiBMonth: 1, egressPerGiB: 0.25 } }`,
        `  gone: { url: "http://127.0.0.1:${gonePort}", kind: strata, cost: { storagePerGiBMonth: 1, egressPerGiB: 1 } }`,
        "usage: { flush: 10m }",
        "",
      ].join("\n"),
    );
    main = await startInProcess({ listen: true, yaml, now: () => Date.now() + offset });

    for (const [gallery, members] of [
      ["prod", { dave: "reader" }],
      ["dev", {}],
    ] as const) {
      assert.equal((await api("POST", "/galleries", { name: gallery, members })).status, 201);
    }
    for (const [gallery, image, extra] of [
      ["prod", "web", {}],
      ["prod", "old", { rebuildDays: 30 }],
      ["dev", "web-copy", {}],
    ] as const) {
      const r = await api("POST", `/galleries/${gallery}/images`, {
        name: image,
        kind: "container",
        ...extra,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const app = m().server.app;
    v1 = await push(app, "builds/web", "1", config1, [base, top1], "alice");
    v2 = await push(app, "builds/web", "2", config2, [base, top2], "alice");
    const builtAt = new Date(Date.now() - 5 * DAY).toISOString();
    old = await push(app, "builds/old", "1", configWith("old", builtAt), [oldLayer], "alice");
    copy = await push(app, "builds/copy", "1", config1, [base, top3], "alice");
    for (const [gallery, image, version, from] of [
      ["prod", "web", "1.0.0", `builds/web@${v1.digest}`],
      ["prod", "web", "1.1.0", `builds/web@${v2.digest}`],
      ["prod", "old", "1.0.0", `builds/old@${old.digest}`],
      ["dev", "web-copy", "1.0.0", `builds/copy@${copy.digest}`],
    ] as const) {
      const r = await api("POST", `/galleries/${gallery}/images/${image}/versions`, { version, from });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
  });

  after(async () => {
    await main?.stop();
    await fra?.stop();
    await dist?.stop();
  });

  it("counts manifest GETs per version and day, not HEADs, and writes them in one transaction", async () => {
    const usage = m().server.usage;
    const before = usage.stats();
    assert.ok(before !== undefined);
    for (let i = 0; i < 5; i++) await pull("1.0.0");
    for (let i = 0; i < 3; i++) await pull(v1.digest);
    for (let i = 0; i < 4; i++) await pull(i % 2 === 0 ? "1.0.0" : v1.digest, "HEAD");
    for (let i = 0; i < 2; i++) await pull("latest");
    // Not a gallery repository: not counted.
    await pull("1", "GET", "builds/web");
    assert.deepEqual(await pullsRows(m(), "prod"), [], "nothing is written before the flush");
    await usage.flush();
    const after1 = usage.stats();
    assert.equal(after1?.flushes, before.flushes + 1);
    assert.equal(after1?.written, before.written + 10);
    const rows = await pullsRows(m(), "prod");
    assert.deepEqual(
      rows.map((r) => [r.image, r.version, r.site, Number(r.count)]),
      [
        ["web", "1.0.0", "hel", 8],
        ["web", "1.1.0", "hel", 2],
      ],
    );
    // A burst: 200 pulls at once, one more write, the same row grows.
    await Promise.all(Array.from({ length: 200 }, () => pull("1.0.0")));
    await usage.flush();
    assert.equal(usage.stats()?.flushes, before.flushes + 2);
    const burst = await pullsRows(m(), "prod");
    assert.equal(burst.length, 2);
    assert.equal(Number(burst[0]?.count), 208);
  });

  it("counts the next day apart and reports totals, days and the last pull", async () => {
    offset += DAY;
    await pull("1.0.0");
    await pull("1.0.0");
    await m().server.usage.flush();
    const r = await api("GET", "/usage?gallery=prod&days=2&local=true");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const v = r.body.versions.find(
      (x: { image: string; version: string }) => x.image === "web" && x.version === "1.0.0",
    );
    assert.equal(v.pulls.total, 210);
    assert.deepEqual(v.pulls.bySite, { hel: 210 });
    assert.deepEqual(
      v.pulls.byDay.map((d: { count: number }) => d.count),
      [208, 2],
    );
    assert.ok(Date.parse(v.pulls.lastPulledAt) > Date.now() + DAY - 60_000);
    // Bytes: the base is shared with 1.1.0 and the copy in dev.
    assert.equal(v.bytes.total, sum(v1.sizes));
    assert.ok(v.bytes.shared >= base.length);
    const only = await api("GET", "/usage?gallery=prod&days=1&local=true");
    const v1day = only.body.versions.find(
      (x: { image: string; version: string }) => x.image === "web" && x.version === "1.0.0",
    );
    assert.equal(v1day.pulls.recent, 2);
  });

  it("merges the pulls another Strata site counted and lists a site that does not answer", async () => {
    const f = fra as InProcess;
    const call = galleryApi(f.server.app);
    assert.equal((await call("POST", "/galleries", { name: "prod" })).status, 201);
    assert.equal(
      (await call("POST", "/galleries/prod/images", { name: "web", kind: "container" })).status,
      201,
    );
    const there = await push(f.server.app, "builds/web", "1", config1, [base, top1]);
    const published = await call("POST", "/galleries/prod/images/web/versions", {
      version: "1.0.0",
      from: `builds/web@${there.digest}`,
    });
    assert.equal(published.status, 201);
    for (let i = 0; i < 3; i++) {
      const res = await f.server.app.inject({ method: "GET", url: "/v2/prod/web/manifests/1.0.0" });
      assert.equal(res.statusCode, 200);
    }
    await f.server.usage.flush();
    const r = await api("GET", "/usage?gallery=prod");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const v = r.body.versions.find(
      (x: { image: string; version: string }) => x.image === "web" && x.version === "1.0.0",
    );
    assert.deepEqual(v.pulls.bySite, { hel: 210, fra: 3 });
    assert.equal(v.pulls.total, 213);
    const sites = Object.fromEntries(r.body.sites.map((s: { name: string }) => [s.name, s]));
    assert.equal(sites.hel.status, "ok");
    assert.equal(sites.fra.status, "ok");
    assert.equal(sites.gone.status, "unavailable");
    assert.match(sites.gone.reason, /ECONNREFUSED|fetch failed/);
  });

  it("shows readers only their galleries", async () => {
    const dave = await api("GET", "/usage?local=true", undefined, "dave");
    assert.equal(dave.status, 200);
    assert.deepEqual(dave.body.galleries, ["prod"]);
    const eve = await api("GET", "/usage?local=true", undefined, "eve");
    assert.deepEqual(eve.body.galleries, []);
    assert.deepEqual(eve.body.versions, []);
    assert.equal((await api("GET", "/usage?gallery=prod&local=true", undefined, "eve")).status, 404);
    assert.equal((await api("GET", "/usage/costs?gallery=dev", undefined, "dave")).status, 404);
    const anonymous = await m().server.app.inject({ method: "GET", url: "/api/v1/usage" });
    assert.equal(anonymous.statusCode, 401);
  });

  it("reports unused and stale versions and sprawl as the clock moves", async () => {
    offset += 40 * DAY;
    const r = await api("GET", "/usage?unusedDays=30&local=true");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const unused = r.body.unused.map(
      (u: { gallery: string; image: string; version: string }) => `${u.gallery}/${u.image}:${u.version}`,
    );
    assert.deepEqual(unused.sort(), [
      "dev/web-copy:1.0.0",
      "prod/old:1.0.0",
      "prod/web:1.0.0",
      "prod/web:1.1.0",
    ]);
    const oldUnused = r.body.unused.find((u: { image: string }) => u.image === "old");
    assert.equal(oldUnused.lastPulledAt, null);
    assert.ok(oldUnused.idleDays >= 41);
    const webUnused = r.body.unused.find(
      (u: { image: string; version: string }) => u.image === "web" && u.version === "1.0.0",
    );
    assert.equal(webUnused.idleDays, 40);
    const longer = await api("GET", "/usage?unusedDays=45&local=true");
    assert.deepEqual(longer.body.unused, []);

    // Stale: prod/old rebuilds every 30 days; its config says it was built 5 days before publication.
    assert.equal(r.body.stale.length, 1);
    const stale = r.body.stale[0];
    assert.equal(`${stale.gallery}/${stale.image}:${stale.version}`, "prod/old:1.0.0");
    assert.equal(stale.builtFrom, "config");
    assert.equal(stale.rebuildDays, 30);
    assert.ok(stale.ageDays >= 46 && stale.ageDays <= 47, String(stale.ageDays));
    const web = r.body.versions.find((v: { image: string }) => v.image === "web");
    assert.equal(web.builtFrom, "published");

    // Sprawl: prod/web and dev/web-copy are mostly the shared base; 1.1.0 is nearly 1.0.0.
    const pairs = r.body.sprawl.sharedDefinitions.map((p: { a: string; b: string }) => `${p.a} ${p.b}`);
    assert.deepEqual(pairs, ["dev/web-copy prod/web"]);
    assert.ok(r.body.sprawl.sharedDefinitions[0].ratio >= 0.8);
    const near = r.body.sprawl.nearIdentical.map(
      (n: { image: string; version: string; previous: string }) => `${n.image}:${n.previous}->${n.version}`,
    );
    assert.deepEqual(near, ["web:1.0.0->1.1.0"]);
  });

  it("prices storage per site and gallery, counting a blob once per gallery", async () => {
    const prodBytes = sum(v1.sizes, v2.sizes, old.sizes);
    const devBytes = sum(copy.sizes);
    assert.ok(prodBytes < sum(v1.sizes) + sum(v2.sizes) + sum(old.sizes), "the base counts once");
    // The replication reconciler's row: prod/web 1.0.0 is complete at dist.
    const now = Date.now() + offset;
    await m()
      .server.gallery.access.db.insertInto("gallery_replicas")
      .values({
        gallery: "prod",
        image: "web",
        version: "1.0.0",
        site: "dist",
        digest: v1.digest,
        state: "completed",
        bytes_total: 0,
        bytes_done: 0,
        attempts: 1,
        next_at: now,
        error: null,
        updated_at: now,
        completed_at: now,
      })
      .execute();
    const r = await api("GET", "/usage/costs");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const sites = Object.fromEntries(r.body.sites.map((s: { site: string }) => [s.site, s]));
    assert.equal(sites.hel.kind, "this");
    assert.deepEqual(
      sites.hel.galleries.map((g: { gallery: string; bytes: number; monthly: number }) => [
        g.gallery,
        g.bytes,
        g.monthly,
      ]),
      [
        ["dev", devBytes, round4((devBytes / GiB) * 2)],
        ["prod", prodBytes, round4((prodBytes / GiB) * 2)],
      ],
    );
    assert.equal(sites.hel.bytes, prodBytes + devBytes);
    assert.equal(sites.dist.bytes, sum(v1.sizes));
    assert.equal(sites.dist.monthly, round4((sum(v1.sizes) / GiB) * 3));
    assert.equal(sites.fra.bytes, 0);
    assert.equal(r.body.monthly, round4(sites.hel.monthly + sites.dist.monthly));

    const cli = await runStrata(["usage", "--costs", "--server", m().url], {
      STRATA_USERNAME: "alice",
      STRATA_PASSWORD: PASSWORD,
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^SITE\s+GALLERY\s+STORED\s+PER GIB-MONTH\s+MONTHLY/m);
    assert.match(cli.stdout, /^dist\s+prod\s+\S+ KiB\s+3\.00\s+0\.00$/m);
    assert.match(cli.stdout, /^Total monthly: 0\.00$/m);
  });

  it("plans a version against Distribution holding the base: only the rest moves, referrers included", async () => {
    const d = dist as RunningDistribution;
    await pushToDistribution(d.url, "mirror/prod/web", base);
    // A signature-like referrer of 1.1.0 in its repository.
    const app = m().server.app;
    const signature = randomBytes(3000);
    const emptyJson = Buffer.from("{}");
    for (const blob of [emptyJson, signature]) {
      const res = await app.inject({
        method: "POST",
        url: `/v2/prod/web/blobs/uploads/?digest=${digestOf(blob)}`,
        headers: { authorization: basic("alice"), "content-type": "application/octet-stream" },
        payload: blob,
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    const referrer = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageManifest,
        artifactType: "application/vnd.example.signature",
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: digestOf(emptyJson), size: 2 },
        layers: [
          { mediaType: "application/octet-stream", digest: digestOf(signature), size: signature.length },
        ],
        subject: { mediaType: MediaType.ImageManifest, digest: v2.digest, size: v2.sizes.get(v2.digest) },
      }),
    );
    const put = await app.inject({
      method: "PUT",
      url: `/v2/prod/web/manifests/${digestOf(referrer)}`,
      headers: { authorization: basic("alice"), "content-type": MediaType.ImageManifest },
      payload: referrer,
    });
    assert.equal(put.statusCode, 201, put.body);

    const r = await api("GET", "/galleries/prod/images/web/versions/1.1.0/replication/plan?sites=dist,gone");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const total = sum(v2.sizes) + referrer.length + emptyJson.length + signature.length;
    assert.deepEqual(r.body.total, { blobs: 5, manifests: 2, bytes: total });
    const [atDist, atGone] = r.body.sites;
    assert.equal(atDist.site, "dist");
    assert.equal(atDist.status, "ok");
    assert.equal(atDist.repository, "mirror/prod/web");
    assert.deepEqual(atDist.missing, { blobs: 4, manifests: 2, bytes: total - base.length });
    assert.equal(atDist.egressCost, round4(((total - base.length) / GiB) * 0.5));
    assert.equal(atDist.storageMonthlyCost, round4((total / GiB) * 3));
    assert.equal(atGone.site, "gone");
    assert.equal(atGone.status, "unreachable");
    assert.equal(atGone.repository, "prod/web");
    assert.match(atGone.reason, /ECONNREFUSED/);
    assert.equal(atGone.missing, undefined);
    // Without sites: the version's targets (1.0.0 is replicated to dist), else every site.
    const targets = await api("GET", "/galleries/prod/images/web/versions/1.0.0/replication/plan");
    assert.deepEqual(
      targets.body.sites.map((x: { site: string }) => x.site),
      ["dist"],
    );
    const every = await api("GET", "/galleries/prod/images/old/versions/1.0.0/replication/plan");
    assert.deepEqual(
      every.body.sites.map((x: { site: string; status: string }) => `${x.site} ${x.status}`),
      ["dist ok", "fra ok", "gone unreachable"],
    );
    // Planning moved nothing.
    const head = await fetch(`${d.url}/v2/mirror/prod/web/blobs/${digestOf(top2)}`, { method: "HEAD" });
    assert.equal(head.status, 404);

    const env = { STRATA_USERNAME: "alice", STRATA_PASSWORD: PASSWORD };
    const cli = await runStrata(
      ["replicate", "plan", "prod/web@1.1.0", "--sites", "dist,gone", "--server", m().url],
      env,
    );
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stdout, /^dist\s+us-east\s+mirror\/prod\/web\s+\S+ KiB\s+6\s+0\.00\s+0\.00\s+ok$/m);
    assert.match(cli.stdout, /^gone\s+-\s+prod\/web\s+-\s+-\s+-\s+0\.00\s+unreachable: .*ECONNREFUSED/m);
    assert.match(cli.stderr, /1 of 2 sites could not be reached: gone/);
    const unknown = await runStrata(
      ["replicate", "plan", "prod/web@1.1.0", "--sites", "nowhere", "--server", m().url],
      env,
    );
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown site "nowhere": configured sites are dist, fra, gone/);
  });

  it("plans an index with its platform manifests, and counts a pull of it once", async () => {
    const app = m().server.app;
    const amd = await push(app, "builds/multi", "amd64", configWith("amd64"), [randomBytes(2048)], "alice");
    const arm = await push(app, "builds/multi", "arm64", configWith("arm64"), [randomBytes(4096)], "alice");
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ImageIndex,
        manifests: [amd, arm].map((p, i) => ({
          mediaType: MediaType.ImageManifest,
          digest: p.digest,
          size: p.sizes.get(p.digest),
          platform: { os: "linux", architecture: i === 0 ? "amd64" : "arm64" },
        })),
      }),
    );
    const put = await app.inject({
      method: "PUT",
      url: "/v2/builds/multi/manifests/both",
      headers: { authorization: basic("alice"), "content-type": MediaType.ImageIndex },
      payload: index,
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.equal(
      (await api("POST", "/galleries/dev/images", { name: "multi", kind: "container" })).status,
      201,
    );
    const published = await api("POST", "/galleries/dev/images/multi/versions", {
      version: "1.0.0",
      from: `builds/multi@${digestOf(index)}`,
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));

    const r = await api("GET", "/galleries/dev/images/multi/versions/1.0.0/replication/plan?sites=dist");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const total = sum(amd.sizes, arm.sizes) + index.length;
    assert.deepEqual(r.body.total, { blobs: 4, manifests: 3, bytes: total });
    assert.deepEqual(r.body.sites[0].missing, { blobs: 4, manifests: 3, bytes: total });
    assert.equal(r.body.sites[0].repository, "mirror/dev/multi");

    // A client pulls the index, then its platform's manifest: one pull of the version.
    const before = m().server.usage.stats()?.written ?? 0;
    await pull("1.0.0", "GET", "dev/multi");
    await pull(amd.digest, "GET", "dev/multi");
    await m().server.usage.flush();
    assert.equal((m().server.usage.stats()?.written ?? 0) - before, 1);
    const rows = await pullsRows(m(), "dev");
    assert.deepEqual(
      rows.map((row) => [row.image, row.version, Number(row.count)]),
      [["multi", "1.0.0", 1]],
    );
  });

  it("plans a chunked disk chunk by chunk: chunks the site holds do not move", async () => {
    const disk = await makeChunkedDisk([
      rawChunk("disk-a"),
      rawChunk("disk-b"),
      rawChunk("disk-c"),
      rawChunk("disk-d"),
    ]);
    await pushChunkedDisk(m().server.app, "builds/disk", disk, { user: "alice" });
    assert.equal((await api("POST", "/galleries/dev/images", { name: "disk", kind: "vm" })).status, 201);
    const published = await api("POST", "/galleries/dev/images/disk/versions", {
      version: "1.0.0",
      from: `builds/disk@${disk.digest}`,
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));
    // The site holds two of the chunks already (an earlier version of the disk).
    const held = disk.chunks.slice(0, 2);
    for (const chunk of held)
      await pushToDistribution((dist as RunningDistribution).url, "mirror/dev/disk", chunk.bytes);
    const r = await api("GET", "/galleries/dev/images/disk/versions/1.0.0/replication/plan?sites=dist");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const total = sum(diskSizes(disk));
    assert.deepEqual(r.body.total, {
      blobs: disk.blobs.length,
      manifests: disk.manifests.length,
      bytes: total,
    });
    const heldBytes = held.reduce((n, c) => n + c.size, 0);
    assert.deepEqual(r.body.sites[0].missing, {
      blobs: disk.blobs.length - 2,
      manifests: disk.manifests.length,
      bytes: total - heldBytes,
    });
  });

  it("refuses bad input with a clear error and changes nothing", async () => {
    const rowsBefore = await pullsRows(m(), "prod");
    const replicasBefore = await m()
      .server.gallery.access.db.selectFrom("gallery_replicas")
      .selectAll()
      .execute();
    const cases: [string, number, RegExp][] = [
      ["/usage?days=0", 400, /Invalid days "0": expected a whole number from 1 to 3650/],
      ["/usage?days=abc", 400, /Invalid days "abc"/],
      ["/usage?unusedDays=-3", 400, /Invalid unusedDays "-3"/],
      [
        "/usage?unusedDays=99999999",
        400,
        /Invalid unusedDays "99999999": expected a whole number from 1 to 36500/,
      ],
      ["/usage?local=yes", 400, /Invalid query string/],
      ["/usage?color=red", 400, /unknown field "color"/],
      ["/usage?gallery=nope", 404, /Gallery "nope" does not exist/],
      ["/usage/costs?gallery=nope", 404, /Gallery "nope" does not exist/],
      [
        "/galleries/prod/images/web/versions/1.1.0/replication/plan?sites=nowhere",
        400,
        /Unknown site "nowhere": configured sites are dist, fra, gone/,
      ],
      [
        "/galleries/prod/images/web/versions/1.1.0/replication/plan?sites=dist,,gone",
        400,
        /Invalid sites "dist,,gone"/,
      ],
      [
        "/galleries/prod/images/web/versions/9.9.9/replication/plan?sites=dist",
        404,
        /Version "prod\/web:9.9.9" does not exist/,
      ],
    ];
    for (const [path, status, message] of cases) {
      const r = await api("GET", path);
      assert.equal(r.status, status, `${path}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.errors[0].message, message, path);
    }
    const cli = await runStrata(["usage", "--days", "two", "--server", m().url], {});
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /Invalid --days "two"/);
    assert.deepEqual(await pullsRows(m(), "prod"), rowsBefore);
    assert.deepEqual(
      await m().server.gallery.access.db.selectFrom("gallery_replicas").selectAll().execute(),
      replicasBefore,
    );
  });

  it("prints the report as tables", async () => {
    const cli = await runStrata(["usage", "--gallery", "prod", "--server", m().url], {
      STRATA_USERNAME: "dave",
      STRATA_PASSWORD: PASSWORD,
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^VERSION\s+STATE\s+PULLS\s+LAST 30D\s+BY SITE\s+LAST PULLED\s+OWN\s+SHARED$/m);
    assert.match(cli.stdout, /^prod\/web:1\.0\.0\s+published\s+213\s+0\s+(?:hel=210 fra=3|fra=3 hel=210)\s/m);
    assert.match(cli.stdout, /^site gone unavailable: /m);
    assert.match(cli.stdout, /^prod\/old:1\.0\.0\s+never\s+4\d$/m);
    assert.match(cli.stdout, /Sprawl: versions nearly identical/);
  });
});

/** A gallery `team` with definition `app` and its version 1.0.0, on a fresh server. */
async function publishOne(s: InProcess): Promise<void> {
  const call = galleryApi(s.server.app);
  assert.equal((await call("POST", "/galleries", { name: "team" })).status, 201);
  assert.equal(
    (await call("POST", "/galleries/team/images", { name: "app", kind: "container" })).status,
    201,
  );
  const pushed = await push(s.server.app, "builds/app", "1", EMPTY_CONFIG, [randomBytes(100)]);
  const r = await call("POST", "/galleries/team/images/app/versions", {
    version: "1.0.0",
    from: `builds/app@${pushed.digest}`,
  });
  assert.equal(r.status, 201);
}

/** A GET of team/app:1.0.0, a counted pull. */
async function get(s: InProcess): Promise<void> {
  const res = await s.server.app.inject({ method: "GET", url: "/v2/team/app/manifests/1.0.0" });
  assert.equal(res.statusCode, 200);
}

describe("usage counting switched off, failing and at shutdown", () => {
  it("counts nothing when usage is disabled", async () => {
    const s = await startInProcess({ yaml: "usage: { enabled: false }\n" });
    try {
      await publishOne(s);
      for (let i = 0; i < 3; i++) await get(s);
      await s.server.usage.flush();
      assert.equal(s.server.usage.stats(), undefined);
      assert.deepEqual(await pullsRows(s, "team"), []);
    } finally {
      await s.stop();
    }
  });

  it("keeps the counts of a write that failed for the next one", async () => {
    const s = await startInProcess({ yaml: "usage: { flush: 10m }\n" });
    try {
      await publishOne(s);
      for (let i = 0; i < 3; i++) await get(s);
      const db = s.server.gallery.access.db;
      // The table out of the way: the write fails.
      await sql`alter table gallery_pulls rename to gallery_pulls_away`.execute(db);
      await assert.rejects(s.server.usage.flush());
      assert.equal(s.server.usage.stats()?.pending, 3);
      const metrics = await s.server.app.inject({ method: "GET", url: "/metrics" });
      assert.match(metrics.body, /^strata_usage_pulls_pending 3$/m);
      await get(s);
      await sql`alter table gallery_pulls_away rename to gallery_pulls`.execute(db);
      await s.server.usage.flush();
      assert.equal(s.server.usage.stats()?.pending, 0);
      assert.deepEqual(
        (await pullsRows(s, "team")).map((r) => [r.version, Number(r.count)]),
        [["1.0.0", 4]],
      );
    } finally {
      await s.stop();
    }
  });

  it("writes the counted pulls when the server stops", async () => {
    const first = await startInProcess({ yaml: "usage: { flush: 10m }\n" });
    const data = `${first.dataDir}/data`;
    let second: InProcess | undefined;
    try {
      await publishOne(first);
      for (let i = 0; i < 4; i++) await get(first);
      await first.server.close();
      second = await startInProcess({ data, yaml: "usage: { flush: 10m }\n" });
      const rows = await pullsRows(second, "team");
      assert.deepEqual(
        rows.map((r) => [r.version, Number(r.count)]),
        [["1.0.0", 4]],
      );
    } finally {
      await second?.stop();
      await first.stop();
    }
  });
});

describe("usage counting on PostgreSQL with two servers", () => {
  let pg: Postgres | undefined;
  after(async () => {
    await pg?.stop();
  });

  it("adds the counts of both servers to the same rows", async () => {
    pg = await startPostgres();
    const first = await startInProcess({ database: pg.url, yaml: "usage: { flush: 10m }\n" });
    let second: InProcess | undefined;
    try {
      second = await startInProcess({
        database: pg.url,
        data: `${first.dataDir}/data`,
        yaml: "usage: { flush: 10m }\n",
      });
      await publishOne(first);
      for (const [s, n] of [
        [first, 3],
        [second, 5],
        [first, 2],
      ] as const) {
        for (let i = 0; i < n; i++) await get(s);
        await s.server.usage.flush();
      }
      const rows = await pullsRows(second, "team");
      assert.deepEqual(
        rows.map((row) => [row.version, row.site, Number(row.count)]),
        [["1.0.0", "local", 10]],
      );
      const report = await galleryApi(second.server.app)("GET", "/usage?gallery=team");
      assert.equal(report.body.versions[0].pulls.total, 10);
      assert.ok(report.body.versions[0].pulls.lastPulledAt !== null);
    } finally {
      await second?.stop();
      await first.stop();
    }
  });
});
