// The local image store's verbs from the command line — images, tag, rmi, inspect, pull, push,
// copy, system df and prune — against an in-process Strata registry, Debian's docker-registry
// (CNCF Distribution 2.8, no referrers API) and OCI layouts: a referrer travels with its image
// (through the referrers API on Strata, the fallback tag on Distribution, index.json in a
// layout), sizes match the files on disk, and bad input changes nothing.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { startDistribution, type RunningDistribution } from "../helpers/distribution.ts";
import { runOk } from "../helpers/exec.ts";
import { randomIndex, writeOciLayout } from "../helpers/images.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

let work: string;
let registry: InProcess;
let distribution: RunningDistribution;
let strataHost: string;
/** The built image's manifest digest and its provenance and SBOM referrers'. */
let built: { digest: string; provenance: string; sboms: { spdx: string; cyclonedx: string } };
/** Every attestation a build attaches (provenance, SPDX, CycloneDX), sorted. */
let attested: string[];
const sorted = <T>(items: readonly T[]): T[] => [...items].sort((a, b) => (String(a) < String(b) ? -1 : 1));

const env = () => ({
  STRATA_DATA_DIR: join(work, "data"),
  XDG_CACHE_HOME: join(work, "cache"),
  SOURCE_DATE_EPOCH: "0",
});
const strata = (...args: string[]) => runStrata(args, env());
const store = () => join(work, "data/images");

/** Every file under `dir` with a hash of its content: equal snapshots mean nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else
        out[relative(dir, path)] = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
    }
  };
  await walk(dir);
  return out;
}

/** Sum of the sizes of regular files under `dir`, as find(1) reports them. */
async function findBytes(dir: string): Promise<number> {
  const { stdout } = await runOk("find", [dir, "-type", "f", "-printf", "%s\\n"]);
  return stdout
    .split("\n")
    .filter(Boolean)
    .reduce((sum, n) => sum + Number(n), 0);
}

async function getJson(url: string, accept?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, accept === undefined ? {} : { headers: { accept } });
  const text = await response.text();
  return { status: response.status, body: response.ok ? (JSON.parse(text) as unknown) : text };
}

const INDEX = "application/vnd.oci.image.index.v1+json";
const digestsIn = (body: unknown) =>
  ((body as { manifests?: { digest: string }[] }).manifests ?? []).map((m) => m.digest);

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-image-store-"));
  await mkdir(join(work, "ctx"));
  await buildBusyboxBase(join(work, "base"));
  await writeFile(join(work, "ctx/hello.txt"), "hello\n");
  await writeFile(
    join(work, "ctx/Containerfile"),
    `FROM oci-layout:${join(work, "base")}:busybox\nCOPY hello.txt /srv/\nCMD ["cat", "/srv/hello.txt"]\n`,
  );
  const build = await strata("build", "--json", "-t", "app:dev", join(work, "ctx"));
  assert.equal(build.code, 0, build.stderr);
  built = JSON.parse(build.stdout) as typeof built;
  attested = sorted([built.provenance, built.sboms.spdx, built.sboms.cyclonedx]);
  registry = await startInProcess({ listen: true });
  strataHost = new URL(registry.url).host;
  distribution = await startDistribution();
});
after(async () => {
  await registry?.stop();
  await distribution?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("the local image store", () => {
  it("lists, tags and inspects images", async () => {
    const tagged = await strata("tag", "app:dev", "app:v2");
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.equal(tagged.stdout, "Tagged app:dev as app:v2\n");
    const listed = await strata("images", "--format", "{{.Repository}}:{{.Tag}} {{.Digest}}");
    assert.equal(listed.stdout, `app:dev ${built.digest}\napp:v2 ${built.digest}\n`);
    assert.equal((await strata("images", "-q")).stdout, `${built.digest}\n`);

    const inspected = await strata("inspect", "--json", "app:dev");
    assert.equal(inspected.code, 0, inspected.stderr);
    const d = JSON.parse(inspected.stdout) as {
      digest: string;
      source: string;
      manifest: { layers: { digest: string }[] };
      config: { rootfs: { diff_ids: string[] }; config: { Cmd: string[] } };
      layers: { digest: string; diffId: string }[];
      referrers: { digest: string; artifactType: string }[];
    };
    assert.equal(d.digest, built.digest);
    assert.equal(d.source, "local");
    assert.deepEqual(d.config.config.Cmd, ["cat", "/srv/hello.txt"]);
    assert.deepEqual(
      d.layers.map((l) => [l.digest, l.diffId]),
      d.manifest.layers.map((l, i) => [l.digest, d.config.rootfs.diff_ids[i]]),
    );
    assert.equal(d.layers.length, 2);
    assert.deepEqual(
      sorted(d.referrers.map((r) => [r.digest, r.artifactType])),
      attested.map((digest) => [digest, "application/vnd.in-toto+json"]),
    );
  });

  it("refuses a bad target name or an unknown image and changes nothing", async () => {
    const before = await snapshot(store());
    const bad = await strata("tag", "app:dev", "App:Bad Name");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Error: Invalid target "App:Bad Name": /);
    const digest = await strata("tag", "app:dev", "app@sha256:" + "0".repeat(64));
    assert.equal(digest.code, 2);
    const unknownSource = await strata("tag", "nosuch:v1", "app:v3");
    assert.equal(unknownSource.code, 1);
    assert.equal(
      unknownSource.stderr,
      'Error: No image "nosuch:v1" in the local store (strata images lists them)\n',
    );
    const unknown = await strata("rmi", "app:v2", "nosuch:v1");
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'Error: No image "nosuch:v1" in the local store (strata images lists them)\n',
    );
    assert.deepEqual(await snapshot(store()), before, "the store is byte-identical");
  });
});

describe("pull, push and copy carry referrers", () => {
  it("pushes to Strata, where the referrers API lists the provenance", async () => {
    const pushed = await strata("push", "app:dev", `${strataHost}/team/app:v1`);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(
      pushed.stdout,
      /^Pushed app:dev to 127\.0\.0\.1:\d+\/team\/app:v1 sha256:[0-9a-f]{64} \(7 blobs copied, 2 present, 3 referrers\)\n$/,
    );
    const referrers = await getJson(`${registry.url}/v2/team/app/referrers/${built.digest}`, INDEX);
    assert.equal(referrers.status, 200);
    assert.deepEqual(sorted(digestsIn(referrers.body)), attested);
  });

  it("copies Strata → Distribution, where the fallback tag lists the provenance", async () => {
    const copied = await strata(
      "copy",
      "--json",
      `${strataHost}/team/app:v1`,
      `${distribution.host}/mirror/app:v1`,
    );
    assert.equal(copied.code, 0, copied.stderr);
    const summary = JSON.parse(copied.stdout) as {
      digest: string;
      referrers: { digest: string; indexed: string }[];
    };
    assert.equal(summary.digest, built.digest);
    assert.deepEqual(
      sorted(summary.referrers.map((r) => [r.digest, r.indexed])),
      attested.map((digest) => [digest, "tag"]),
    );
    const fallback = await getJson(
      `${distribution.url}/v2/mirror/app/manifests/${built.digest.replace(":", "-")}`,
      INDEX,
    );
    assert.equal(fallback.status, 200);
    assert.deepEqual(sorted(digestsIn(fallback.body)), attested);
    const referrer = await fetch(`${distribution.url}/v2/mirror/app/manifests/${built.provenance}`, {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(referrer.status, 200);
    assert.equal(
      createHash("sha256")
        .update(Buffer.from(await referrer.arrayBuffer()))
        .digest("hex"),
      built.provenance.slice(7),
    );
  });

  it("copies Distribution → an OCI layout → Strata, keeping the referrer at each step", async () => {
    const layout = join(work, "layout");
    const toLayout = await strata("copy", `${distribution.host}/mirror/app:v1`, `oci-layout:${layout}:v1`);
    assert.equal(toLayout.code, 0, toLayout.stderr);
    assert.match(
      toLayout.stdout + toLayout.stderr,
      new RegExp(`^Copying ${distribution.host}/mirror/app:v1 to oci-layout:`, "m"),
    );
    const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    assert.deepEqual(
      [index.manifests[0]?.digest, index.manifests[0]?.annotations],
      [built.digest, { "org.opencontainers.image.ref.name": "v1" }],
    );
    assert.deepEqual(
      sorted(index.manifests.slice(1).map((m) => [m.digest, m.annotations?.["dev.strata.subject"]])),
      attested.map((digest) => [digest, built.digest]),
    );
    // skopeo reads the layout as an image.
    const inspected = JSON.parse((await runOk("skopeo", ["inspect", `oci:${layout}:v1`])).stdout) as {
      Digest: string;
    };
    assert.equal(inspected.Digest, built.digest);

    const back = await strata("copy", `oci-layout:${layout}:v1`, `${strataHost}/other/app:v1`);
    assert.equal(back.code, 0, back.stderr);
    const referrers = await getJson(`${registry.url}/v2/other/app/referrers/${built.digest}`, INDEX);
    assert.deepEqual(sorted(digestsIn(referrers.body)), attested);
  });

  it("inspects a registry's image without pulling it", async () => {
    const before = await snapshot(store());
    const inspected = await strata("inspect", "--json", `${distribution.host}/mirror/app:v1`);
    assert.equal(inspected.code, 0, inspected.stderr);
    const d = JSON.parse(inspected.stdout) as {
      source: string;
      digest: string;
      referrers: { digest: string }[];
    };
    assert.deepEqual(
      [d.source, d.digest, sorted(d.referrers.map((r) => r.digest))],
      ["registry", built.digest, attested],
    );
    assert.deepEqual(await snapshot(store()), before);
  });

  it("pulls what was pushed: the same digest, with its referrer, into the local store", async () => {
    const name = `${strataHost}/team/app:v1`;
    const pulled = await strata("pull", "-q", name);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout, `${built.digest}\n`);
    const inspected = JSON.parse((await strata("inspect", "--json", name)).stdout) as {
      source: string;
      referrers: { digest: string }[];
    };
    assert.equal(inspected.source, "local");
    assert.deepEqual(sorted(inspected.referrers.map((r) => r.digest)), attested);
    // A build's registry base is pulled the same way: with its referrers.
    assert.equal((await strata("rmi", name)).code, 0);
    await mkdir(join(work, "child"));
    await writeFile(join(work, "child/Containerfile"), `FROM ${name}\nCMD ["true"]\n`);
    const child = await strata("build", "-q", "-t", "child:v1", join(work, "child"));
    assert.equal(child.code, 0, child.stderr);
    const base = JSON.parse((await strata("inspect", "--json", name)).stdout) as typeof inspected;
    assert.deepEqual([base.source, sorted(base.referrers.map((r) => r.digest))], ["local", attested]);
    assert.equal((await strata("rmi", "child:v1")).code, 0);
    const again = await strata("pull", name);
    assert.match(again.stdout, /\(0 blobs copied, 9 present, 3 referrers\)\n$/);
  });

  it("copies a multi-platform index whole, and pulls one platform of it", async () => {
    const layout = join(work, "multi");
    const index = await randomIndex({ seed: 3 });
    await writeOciLayout(layout, [index], { tags: ["all"] });
    const name = `${strataHost}/team/multi:v1`;
    const copied = await strata("copy", "-q", `oci-layout:${layout}:all`, name);
    assert.equal(copied.stdout, `${index.manifestDigest}\n`, copied.stderr);
    for (const image of index.images) {
      const child = await fetch(`${registry.url}/v2/team/multi/manifests/${image.manifestDigest}`, {
        method: "HEAD",
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      assert.equal(child.status, 200);
    }
    const arm = await strata("pull", "-q", "--platform", "linux/arm64", name);
    assert.equal(arm.stdout, `${index.images[1]?.manifestDigest}\n`, arm.stderr);
    const none = await strata("pull", "--platform", "linux/s390x", name);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no image for linux\/s390x \(it has: linux\/amd64, linux\/arm64\)\n$/);
    // A manifest digest names every name of it.
    const removed = await strata("rmi", index.images[1]?.manifestDigest ?? "");
    assert.match(removed.stdout, new RegExp(`^Untagged ${name.replace(/\./g, "\\.")}\nDeleted 4 blobs `));
  });

  it("refuses what it cannot do with guidance", async () => {
    const noRegistry = await strata("pull", "app:dev");
    assert.equal(noRegistry.code, 2);
    assert.equal(
      noRegistry.stderr,
      'Error: Invalid image "app:dev": it names no registry (e.g. 127.0.0.1:5000/app:dev)\n',
    );
    const missing = await strata("push", "nosuch:v1", `${strataHost}/team/nosuch:v1`);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /\nError: No image "nosuch:v1" in the local store \(strata images lists them\)\n$/,
    );
  });
});

describe("system df and prune", () => {
  it("reports sizes that match the files on disk", async () => {
    const df = await strata("system", "df", "--json");
    assert.equal(df.code, 0, df.stderr);
    const rows = JSON.parse(df.stdout) as {
      type: string;
      total: number;
      bytes: number;
      reclaimable: number;
    }[];
    const row = (type: string) => rows.find((r) => r.type === type);
    assert.equal(row("Images")?.bytes, await findBytes(join(store(), "blobs")));
    assert.equal(row("Images")?.total, 3);
    assert.equal(row("Images")?.reclaimable, 0);
    assert.equal(row("Build cache")?.bytes, await findBytes(join(work, "cache/strata/build/blobs")));
    assert.equal(row("Build cache")?.total, 1);
  });

  it("removes only what nothing references", async () => {
    const blobs = join(store(), "blobs/sha256");
    const stray = randomBytes(1000);
    const strayHex = createHash("sha256").update(stray).digest("hex");
    await writeFile(join(blobs, strayHex), stray);
    const layerDir = join(work, "data/layers", "ab".repeat(32));
    await mkdir(join(layerDir, "etc"), { recursive: true });
    await writeFile(join(layerDir, "etc/motd"), "x".repeat(500));
    const cacheBlobs = join(work, "cache/strata/build/blobs/sha256");
    const orphan = "cd".repeat(32);
    await writeFile(join(cacheBlobs, orphan), "y".repeat(300));
    const kept = await snapshot(store());
    delete kept[`blobs/sha256/${strayHex}`];
    const cacheBefore = (await readdir(cacheBlobs)).filter((n) => n !== orphan);

    const df = JSON.parse((await strata("system", "df", "--json")).stdout) as {
      type: string;
      reclaimable: number;
    }[];
    assert.deepEqual(
      df.map((r) => r.reclaimable),
      [1000, 500, 0, 300],
    );
    // Just written: inside the grace window, as a pull or build in progress would be.
    const young = JSON.parse((await strata("system", "prune", "--json")).stdout) as { bytes: number };
    assert.equal(young.bytes, 0);
    await stat(join(blobs, strayHex));
    const bad = await strata("system", "prune", "--grace", "soon");
    assert.deepEqual(
      [bad.code, bad.stderr],
      [2, 'Error: Invalid --grace "soon": expected a duration such as 30s, 10m or 1h\n'],
    );

    const dry = await strata("system", "prune", "--grace", "0s", "--dry-run", "--json");
    assert.equal((JSON.parse(dry.stdout) as { bytes: number }).bytes, 1800);
    await stat(join(blobs, strayHex));

    const pruned = await strata("system", "prune", "--grace", "0s", "--json");
    assert.equal(pruned.code, 0, pruned.stderr);
    const report = JSON.parse(pruned.stdout) as {
      images: { blobs: { digest: string }[] };
      layers: { chains: string[] };
      bytes: number;
    };
    assert.deepEqual(
      report.images.blobs.map((b) => b.digest),
      [`sha256:${strayHex}`],
    );
    assert.deepEqual(report.layers.chains, ["ab".repeat(32)]);
    assert.equal(report.bytes, 1800);
    assert.deepEqual(await snapshot(store()), kept, "everything a name reaches stays");
    assert.deepEqual(await readdir(cacheBlobs), cacheBefore);
    const again = JSON.parse((await strata("system", "prune", "--grace", "0s", "--json")).stdout) as {
      bytes: number;
    };
    assert.equal(again.bytes, 0);
  });

  it("rmi frees the blobs only the removed names kept, referrers included", async () => {
    const one = await strata("rmi", "app:v2");
    assert.equal(one.stdout, "Untagged app:v2\nDeleted 0 blobs (0 B)\n");
    const pulledName = `${strataHost}/team/app:v1`;
    const all = await strata("rmi", "app:dev", pulledName);
    assert.equal(all.code, 0, all.stderr);
    // Manifest, config, two layers; the provenance and the two SBOMs, each a manifest and its
    // statement; the empty config blob they share.
    assert.match(
      all.stdout,
      new RegExp(`^Untagged app:dev\\nUntagged ${pulledName.replace(/\./g, "\\.")}\\nDeleted 11 blobs `),
    );
    assert.deepEqual(await readdir(join(store(), "blobs/sha256")), []);
    const index = JSON.parse(await readFile(join(store(), "index.json"), "utf8")) as { manifests: unknown[] };
    assert.deepEqual(index.manifests, []);
  });
});
