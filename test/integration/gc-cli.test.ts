// `strata gc` against a running server's data: a blob deleted from its repository is reclaimed
// once past the grace window, what is still referenced stays and still pulls, and a bad grace
// value is a clear error that changes nothing.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { buildProgram } from "../../src/cli/program.ts";
import { digestOf } from "../../src/oci/index.ts";
import { httpRequest } from "../helpers/http-client.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

let strata: InProcess;
let data: string;
before(async () => {
  strata = await startInProcess({ listen: true });
  data = join(strata.dataDir, "data");
});
after(async () => {
  await strata.stop();
});

async function strataCli(...args: string[]): Promise<string> {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (d: Buffer) => (text += d.toString()));
  const io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
  await buildProgram(io).parseAsync(["node", "strata", ...args]);
  return text;
}

async function age(digest: string): Promise<void> {
  const hex = digest.slice(7);
  const old = new Date(Date.now() - 2 * 3_600_000);
  await utimes(join(data, "blobs", "sha256", hex.slice(0, 2), hex), old, old);
}

describe("strata gc", () => {
  it("reclaims a deleted blob and keeps a referenced one", async () => {
    const gone = randomBytes(2000);
    const kept = randomBytes(3000);
    for (const b of [gone, kept]) {
      const res = await httpRequest(strata.url, "POST", `/v2/gc/app/blobs/uploads/?digest=${digestOf(b)}`, {
        body: b,
      });
      assert.equal(res.status, 201);
      await age(digestOf(b));
    }
    assert.equal((await httpRequest(strata.url, "DELETE", `/v2/gc/app/blobs/${digestOf(gone)}`)).status, 202);
    const dry = await strataCli("gc", "--data", data, "--grace", "1h", "--dry-run");
    assert.match(dry, new RegExp(`would remove ${digestOf(gone)} \\(2000 bytes\\)`));
    const report = JSON.parse(await strataCli("gc", "--data", data, "--grace", "1h", "--json")) as {
      removed: { digest: string }[];
    };
    assert.deepEqual(
      report.removed.map((r) => r.digest),
      [digestOf(gone)],
    );
    const pulled = await httpRequest(strata.url, "GET", `/v2/gc/app/blobs/${digestOf(kept)}`);
    assert.deepEqual(pulled.body, kept);
    const again = await strataCli("gc", "--data", data, "--grace", "1h");
    assert.match(again, /removed 0 \(0 bytes\)/);
  });

  it("refuses a malformed grace value", async () => {
    await assert.rejects(strataCli("gc", "--data", data, "--grace", "soon"), /Invalid --grace "soon"/);
  });
});
