// The metadata store over a real PostgreSQL server (one per file, a fresh database per test):
// the conformance suite, the upload suite, and what only a shared server shows: several
// processes migrating and pushing at once.
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { type Postgres, startPostgres } from "../../../test/helpers/postgres.ts";
import { digestOf } from "../../oci/index.ts";
import { raceProtocol } from "../conformance/collection-scenarios.ts";
import { describeMetadataStore } from "../conformance/describe-metadata-store.ts";
import { describeUploadStore } from "../conformance/describe-upload-store.ts";
import { uploadHarness } from "../conformance/upload-harness.ts";
import { createMetadataStore } from "./create-metadata-store.ts";

let server: Postgres | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

function postgres(): Postgres {
  if (server === undefined) throw new Error("PostgreSQL did not start");
  return server;
}

/**
 * Sessions still connected to the database of `url`. A backend ends a moment after its client
 * disconnects, so this waits up to two seconds for them to go before it reports what remains.
 */
async function connections(url: string): Promise<string[]> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const left = await connectionsNow(url);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function connectionsNow(url: string): Promise<string[]> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: url.replace(/\/[^/]+$/, "/postgres") });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number; state: string | null }>(
      "select pid, state from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
      [name],
    );
    return rows.map((r) => `connection ${r.pid} (${r.state ?? "?"})`);
  } finally {
    await admin.end();
  }
}

describeMetadataStore({
  name: "PostgreSQL",
  async create() {
    const url = await postgres().newDatabase();
    return {
      store: await createMetadataStore(url),
      leftovers: () => connections(url),
      dispose: () => postgres().dropDatabase(url),
    };
  },
});

describeUploadStore({
  name: "filesystem + PostgreSQL",
  async create(options) {
    const url = await postgres().newDatabase();
    const root = await mkdtemp(join(tmpdir(), "strata-uploads-"));
    return uploadHarness(root, url, { ...options, dispose: () => postgres().dropDatabase(url) });
  },
});

describe("createMetadataStore (PostgreSQL)", () => {
  it("migrates safely when several processes open a new database at once", async () => {
    const url = await postgres().newDatabase();
    const stores = await Promise.all(Array.from({ length: 6 }, () => createMetadataStore(url)));
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>(
          "select name from strata_migration order by name",
        );
        assert.deepEqual(
          rows.map((r) => r.name),
          ["0001_initial", "0002_collection"],
        );
      } finally {
        await client.end();
      }
      const digest = digestOf("x");
      await stores[0]?.manifests.put("app", { digest, mediaType: "m", size: 1, references: [] }, "v1");
      for (const store of stores) assert.equal((await store.manifests.resolve("app", "v1"))?.digest, digest);
    } finally {
      for (const store of stores) await store.close();
      await postgres().dropDatabase(url);
    }
  });

  it("pushes of one tag from several processes all succeed and agree", async () => {
    const url = await postgres().newDatabase();
    const nodes = await Promise.all([1, 2, 3].map(() => createMetadataStore(url)));
    try {
      const manifests = Array.from({ length: 30 }, (_, i) => ({
        digest: digestOf(`manifest ${i}`),
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        size: 100 + i,
        references: [digestOf(`layer ${i}`)],
      }));
      await Promise.all(
        manifests.map((m, i) => nodes[i % nodes.length]?.manifests.put("shared/app", m, "latest")),
      );
      const seen = await Promise.all(nodes.map((node) => node.manifests.resolve("shared/app", "latest")));
      const winner = seen[0]?.digest;
      assert.ok(winner !== undefined && manifests.some((m) => m.digest === winner));
      for (const s of seen) assert.equal(s?.digest, winner);
      assert.deepEqual(await nodes[1]?.tags.list("shared/app", {}), ["latest"]);
    } finally {
      for (const node of nodes) await node.close();
      await postgres().dropDatabase(url);
    }
  });

  it("never records a digest a collector on another node removed", async () => {
    const url = await postgres().newDatabase();
    const [committer, collector] = await Promise.all([createMetadataStore(url), createMetadataStore(url)]);
    try {
      if (committer === undefined || collector === undefined) throw new Error("no store");
      await raceProtocol(committer, collector, 40);
    } finally {
      await committer?.close();
      await collector?.close();
      await postgres().dropDatabase(url);
    }
  });

  it("sorts names by bytes even where the database's collation would not", async () => {
    const url = await postgres().newDatabase({ icuLocale: "en-US" });
    const store = await createMetadataStore(url);
    try {
      const names = ["b", "B", "a", "_", "Z"];
      const digest = digestOf("m");
      for (const name of names) {
        await store.blobs.link(name, { digest: digestOf(name), size: 1 });
        await store.manifests.put("app", { digest, mediaType: "m", size: 1, references: [] }, name);
      }
      const bytewise = ["B", "Z", "_", "a", "b"];
      assert.deepEqual(await store.repositories.list({}), [...bytewise, "app"].sort());
      assert.deepEqual(await store.tags.list("app", {}), bytewise);
      assert.deepEqual(await store.tags.list("app", { last: "Z", n: 2 }), ["_", "a"]);
    } finally {
      await store.close();
      await postgres().dropDatabase(url);
    }
  });

  it("reports an unreachable server clearly", async () => {
    await assert.rejects(createMetadataStore("postgres://postgres@127.0.0.1:1/none"), /ECONNREFUSED|connect/);
  });
});
