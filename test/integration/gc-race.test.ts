// Garbage collection racing pushes: several servers share one data folder (and, on PostgreSQL,
// one database) while collectors with no grace window run in a loop on the same data (in the
// servers' process, or on SQLite also in a process of their own, as `strata gc` runs). Images are
// pushed the way clients push them (blobs, a short pause, then the manifest), some through a
// cross-repository mount, some are deleted again and their blobs unlinked, so the collector has
// real garbage to remove next to content being committed. At the end every image whose
// manifest PUT answered 201 and was not deleted must pull whole: manifest by tag and by digest,
// config and every layer, each verified by its digest.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestOf, MediaType } from "../../src/oci/index.ts";
import { collectGarbage, createFsBlobStore, createMetadataStore } from "../../src/store/index.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { imageManifest } from "../helpers/manifests.ts";
import { startPostgres, type Postgres } from "../helpers/postgres.ts";

const IMAGES = 60;
const WORKERS = 6;
const SERVERS = 3;
const COLLECTORS = 2;
/** Layers shared by many images, so pushes of content that already exists race collection. */
const SHARED = Array.from({ length: 6 }, (_, i) =>
  Buffer.concat([Buffer.from(`shared ${i}\n`), randomBytes(4000)]),
);

interface Image {
  readonly repo: string;
  readonly tag: string;
  readonly config: Buffer;
  readonly layers: readonly Buffer[];
  readonly manifest: Buffer;
  readonly deleted: boolean;
}

let pg: Postgres | undefined;
after(async () => {
  await pg?.stop();
});

interface Collectors {
  /** Set when they stop; then resolves with how many runs there were and blobs they removed. */
  stop(): Promise<{ runs: number; removed: number }>;
}

/** Collectors looping in this process, each on a metadata store of its own. */
async function collectInProcess(data: string, database: string): Promise<Collectors> {
  const blobs = createFsBlobStore({ root: data });
  const meta = await createMetadataStore(database);
  let running = true;
  let runs = 0;
  let removed = 0;
  const loops = Array.from({ length: COLLECTORS }, async () => {
    while (running) {
      removed += (await collectGarbage(blobs, meta, { graceMs: 0 })).removed.length;
      runs++;
    }
  });
  return {
    async stop() {
      running = false;
      try {
        await Promise.all(loops);
      } finally {
        await meta.close();
      }
      return { runs, removed };
    },
  };
}

/**
 * Collectors looping in processes of their own (test/helpers/gc-loop.ts); resolves once each
 * has finished its first collection, so they are running before the pushes start.
 */
async function collectInProcesses(data: string, database: string): Promise<Collectors> {
  const script = new URL("../helpers/gc-loop.ts", import.meta.url).pathname;
  const children = Array.from({ length: COLLECTORS }, () => {
    const child = spawn(process.execPath, ["--import", "tsx", script, data, database], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.startsWith("running\n")) started();
    });
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    const done = new Promise<{ runs: number; removed: number }>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => {
        const last = out.trim().split("\n").at(-1) ?? "";
        if (code === 0 && last.startsWith("{"))
          resolve(JSON.parse(last) as { runs: number; removed: number });
        else reject(new Error(`The collector process exited with ${code}: ${err}`));
      });
    });
    return { child, running, done };
  });
  const stop = async (): Promise<{ runs: number; removed: number }> => {
    for (const { child } of children) child.stdin.end();
    const totals = await Promise.all(children.map((c) => c.done));
    return totals.reduce((a, b) => ({ runs: a.runs + b.runs, removed: a.removed + b.removed }));
  };
  try {
    // A collector that fails before it runs ends the wait with its error.
    await Promise.race([
      Promise.all(children.map((c) => c.running)),
      Promise.all(children.map((c) => c.done)).then(() => undefined),
    ]);
  } catch (error) {
    for (const { child } of children) child.stdin.end();
    throw error;
  }
  return { stop };
}

const CASES = [
  { backend: "SQLite", collectors: "in this process" },
  { backend: "SQLite", collectors: "in other processes" },
  { backend: "PostgreSQL", collectors: "in this process" },
] as const;

for (const { backend, collectors } of CASES) {
  describe(`garbage collection racing pushes (${backend}, collectors ${collectors})`, () => {
    let shared = "";
    let database = "";
    let servers: InProcess[] = [];

    before(async () => {
      shared = await mkdtemp(join(tmpdir(), "strata-gc-race-"));
      if (backend === "PostgreSQL") {
        pg ??= await startPostgres();
        database = await pg.newDatabase();
      } else {
        database = `sqlite:${join(shared, "strata.db")}`;
      }
      servers = await Promise.all(
        Array.from({ length: SERVERS }, () => startInProcess({ listen: true, database, data: shared })),
      );
    });

    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await rm(shared, { recursive: true, force: true });
    });

    it("never loses content of an accepted image while collecting with no grace window", async () => {
      const gc =
        collectors === "in this process"
          ? await collectInProcess(shared, database)
          : await collectInProcesses(shared, database);
      const accepted: Image[] = [];
      const refused: string[] = [];
      let next = 0;
      const worker = async (w: number): Promise<void> => {
        for (let i = next++; i < IMAGES; i = next++) {
          const outcome = await pushImage(i, (k) => servers[(i + k + w) % SERVERS]?.url ?? "");
          if (typeof outcome === "string") refused.push(outcome);
          else accepted.push(outcome);
        }
      };
      let pushed: unknown;
      try {
        await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      } catch (error) {
        pushed = error;
      }
      const { runs, removed } = await gc.stop();
      if (pushed !== undefined) throw pushed;
      assert.deepEqual(refused, [], "every push was accepted");
      assert.ok(runs > 0 && removed > 0, "the collectors ran and removed garbage");
      const broken: string[] = [];
      for (const image of accepted.filter((a) => !a.deleted)) {
        broken.push(...(await pullProblems(servers[0]?.url ?? "", image)));
      }
      assert.deepEqual(broken, [], `of ${accepted.length} images pushed`);
    });
  });
}

/** Pushes image `i`; returns it once its manifest is accepted, or what went wrong. */
async function pushImage(i: number, server: (k: number) => string): Promise<Image | string> {
  const deleted = i % 4 === 1;
  const repo = deleted ? `race/gone-${i}` : `race/keep-${i % 3}`;
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, i }),
  );
  const own = randomBytes(2000 + ((i * 7919) % 30_000));
  const common = SHARED[i % SHARED.length] ?? own;
  const layers = i % 2 === 0 ? [own, common] : [common, own];
  let k = 0;
  for (const blob of [config, ...layers]) {
    const problem = await pushBlob(server(k++), repo, blob, i);
    if (problem !== undefined) return problem;
  }
  // The pause between a client's last blob and its manifest.
  await new Promise((resolve) => setTimeout(resolve, 3 + (i % 5) * 4));
  const manifest = imageManifest(config, layers);
  const tag = `v${i}`;
  const put = await httpRequest(server(k++), "PUT", `/v2/${repo}/manifests/${tag}`, {
    body: manifest,
    headers: { "content-type": MediaType.ImageManifest },
  });
  if (put.status !== 201) return `manifest of image ${i}: ${put.status} ${put.body.toString()}`;
  if (deleted) {
    const gone = await httpRequest(server(k++), "DELETE", `/v2/${repo}/manifests/${digestOf(manifest)}`);
    if (gone.status !== 202) return `delete of image ${i}: ${gone.status}`;
    for (const blob of [config, ...layers]) {
      await httpRequest(server(k++), "DELETE", `/v2/${repo}/blobs/${digestOf(blob)}`);
    }
  }
  return { repo, tag, config, layers, manifest, deleted };
}

/** Pushes one blob in one of the ways clients do; undefined when it was accepted. */
async function pushBlob(url: string, repo: string, blob: Buffer, i: number): Promise<string | undefined> {
  const digest = digestOf(blob);
  const way = (i + blob.length) % 3;
  if (way === 0) {
    const res = await httpRequest(url, "POST", `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: blob });
    return res.status === 201 ? undefined : `blob ${digest}: ${res.status} ${res.body.toString()}`;
  }
  const mount = way === 1 ? `?mount=${digest}&from=race/keep-${(i + 1) % 3}` : "";
  const start = await httpRequest(url, "POST", `/v2/${repo}/blobs/uploads/${mount}`);
  if (start.status === 201) return undefined;
  if (start.status !== 202) return `upload of ${digest}: ${start.status} ${start.body.toString()}`;
  const location = String(start.headers.location);
  const sep = location.includes("?") ? "&" : "?";
  const res = await httpRequest(url, "PUT", `${location}${sep}digest=${digest}`, { body: blob });
  return res.status === 201 ? undefined : `blob ${digest}: ${res.status} ${res.body.toString()}`;
}

/** What a client pulling the image would find wrong; empty when it pulls whole. */
async function pullProblems(url: string, image: Image): Promise<string[]> {
  const problems: string[] = [];
  const digest = digestOf(image.manifest);
  for (const reference of [image.tag, digest]) {
    const res = await httpRequest(url, "GET", `/v2/${image.repo}/manifests/${reference}`, {
      headers: { accept: MediaType.ImageManifest },
    });
    if (res.status !== 200 || digestOf(res.body) !== digest) {
      problems.push(`${image.repo}:${reference}: manifest answers ${res.status}`);
    }
  }
  for (const blob of [image.config, ...image.layers]) {
    const res = await httpRequest(url, "GET", `/v2/${image.repo}/blobs/${digestOf(blob)}`);
    if (res.status !== 200 || digestOf(res.body) !== digestOf(blob)) {
      problems.push(`${image.repo}@${digestOf(blob)}: blob answers ${res.status}, ${res.body.length} bytes`);
    }
  }
  return problems;
}
