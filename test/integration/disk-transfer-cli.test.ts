// `strata disk push` and `strata disk migrate` against an in-process Strata registry: a qcow2 file
// pushed as a chunked disk pulls back as the same raw bytes, pushing it again sends no chunk, a
// changed disk sends only its changed chunks; an older disk artifact (one qcow2 blob) migrated to
// a chunked disk pulls back as the same raw bytes, and migrating a chunked disk changes nothing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createDiskArtifact, pushDisk } from "../../src/disk/index.ts";
import { RegistryClient } from "../../src/remote/index.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

const run = promisify(execFile);
const MIB = 2 ** 20;
const sha256 = async (path: string) =>
  `sha256:${createHash("sha256")
    .update(await readFile(path))
    .digest("hex")}`;

describe("strata disk push and migrate", () => {
  let s: InProcess;
  let work: string;
  let host: string;
  let raw: string;
  const env = () => ({ STRATA_DATA_DIR: join(work, "data"), STRATA_SERVER: s.url });
  const strata = (...args: string[]) => runStrata(args, env());
  const json = async (...args: string[]) => {
    const r = await strata(...args, "--json");
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "strata-disk-transfer-"));
    s = await startInProcess({ listen: true });
    host = new URL(s.url).host;
    // 48 MiB: random data, text, and zeros (holes) between them.
    raw = join(work, "source.raw");
    await writeFile(raw, Buffer.alloc(48 * MIB));
    await writeFile(raw, randomBytes(6 * MIB), { flag: "r+" });
    const text = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`).join(""));
    const handle = await import("node:fs/promises").then((fs) => fs.open(raw, "r+"));
    await handle.write(text, 0, text.length, 20 * MIB);
    await handle.close();
  });
  after(async () => {
    await s.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("pushes a qcow2 as a chunked disk that pulls back as the same raw bytes; again, nothing is sent", async () => {
    const qcow2 = join(work, "source.qcow2");
    await run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    const first = await json("disk", "push", qcow2, `${host}/vm/pushed:1`);
    assert.ok(first.transfer.chunksSent > 0);
    assert.equal(first.transfer.chunksSent, first.transfer.uniqueChunks);
    const inspected = await json("disk", "inspect", `${host}/vm/pushed:1`);
    assert.equal(inspected.format, "chunked");
    assert.equal(inspected.rawDigest, await sha256(raw));
    const out = join(work, "pulled.raw");
    const pulled = await strata("disk", "pull", `${host}/vm/pushed:1`, "--format", "raw", "-o", out);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(await sha256(out), await sha256(raw));
    const again = await json("disk", "push", raw, `${host}/vm/pushed:2`);
    assert.equal(again.transfer.chunksSent, 0, "every chunk is at the registry already");
  });

  it("refuses a chunk index over --max-index-size, leaving an existing output as it was", async () => {
    const out = join(work, "kept.raw");
    await writeFile(out, "an older disk");
    const refused = await strata(
      "disk",
      "pull",
      `${host}/vm/pushed:1`,
      "--format",
      "raw",
      "--max-index-size",
      "1KiB",
      "-o",
      out,
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /over the limit of 1024/);
    assert.equal(await readFile(out, "utf8"), "an older disk");
    const bad = await strata("disk", "pull", `${host}/vm/pushed:1`, "--max-index-size", "lots", "-o", out);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid --max-index-size "lots"/);
  });

  it("a changed disk sends only the chunks that changed", async () => {
    const changed = join(work, "changed.raw");
    const bytes = await readFile(raw);
    bytes.write("a new line in the middle of the text\n", 20 * MIB + 500_000);
    await writeFile(changed, bytes);
    const pushed = await json("disk", "push", changed, `${host}/vm/pushed:3`);
    assert.ok(
      pushed.transfer.chunksSent >= 1 && pushed.transfer.chunksSent <= 3,
      `${pushed.transfer.chunksSent} chunks sent`,
    );
  });

  it("migrates an older disk artifact to a chunked disk with the same raw bytes", async () => {
    const qcow2 = join(work, "old.qcow2");
    await run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    const artifact = await createDiskArtifact(qcow2, {
      virtualSize: 48 * MIB,
      boot: "uefi",
      rawDigest: await sha256(raw),
    });
    const client = new RegistryClient({ registry: host, insecure: true });
    const old = await pushDisk(client, "vm/old", artifact, { tag: "1" });
    const migrated = await json("disk", "migrate", `${host}/vm/old:1`, "--tag", "2");
    assert.equal(migrated.from, old.digest);
    assert.equal(migrated.migrated, true);
    const inspected = await json("disk", "inspect", `${host}/vm/old:2`);
    assert.equal(inspected.digest, migrated.digest);
    assert.equal(inspected.format, "chunked");
    assert.equal(inspected.boot, "uefi");
    assert.equal(inspected.rawDigest, await sha256(raw));
    const out = join(work, "migrated.raw");
    const pulled = await strata("disk", "pull", `${host}/vm/old:2`, "--format", "raw", "-o", out);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(await sha256(out), await sha256(raw));
    // The older artifact is still there and still pulls.
    const oldOut = join(work, "old-pulled.qcow2");
    const oldPulled = await strata("disk", "pull", `${host}/vm/old:1`, "-o", oldOut);
    assert.equal(oldPulled.code, 0, oldPulled.stderr);
    const again = await json("disk", "migrate", `${host}/vm/old:2`);
    assert.equal(again.migrated, false);
    assert.equal(again.digest, migrated.digest);
  });

  it("refuses to push to a digest, and a file that is not a disk, changing nothing", async () => {
    const digest = await strata("disk", "push", raw, `${host}/vm/pushed@sha256:${"0".repeat(64)}`);
    assert.equal(digest.code, 2);
    assert.match(digest.stderr, /push to a tag, not a digest/);
    const iso = join(work, "not-a-disk.iso");
    const head = Buffer.alloc(64 * 1024);
    head.write("CD001", 0x8001);
    await writeFile(iso, head);
    const refused = await strata("disk", "push", iso, `${host}/vm/pushed:iso`);
    assert.equal(refused.code, 2, refused.stderr);
    const tags = await strata("disk", "inspect", `${host}/vm/pushed:iso`);
    assert.notEqual(tags.code, 0, "nothing was tagged");
  });
});
