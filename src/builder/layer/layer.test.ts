import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { link, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { extract } from "tar-stream";
import { diffSnapshots } from "./diff.ts";
import { snapshotTree } from "./snapshot.ts";
import { writeLayer } from "./write-layer.ts";

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  mtime: number;
  linkname?: string;
  content: string;
}

async function readTar(blob: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        out.push({
          name: header.name,
          type: header.type ?? "",
          mode: header.mode ?? 0,
          uid: header.uid ?? -1,
          mtime: (header.mtime ?? new Date(0)).getTime() / 1000,
          ...(header.linkname ? { linkname: header.linkname } : {}),
          content: Buffer.concat(chunks).toString(),
        });
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  ex.end(gunzipSync(blob));
  await done;
  return out;
}

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-layer-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function base(dir: string): Promise<void> {
  await mkdir(join(dir, "etc/conf.d"), { recursive: true });
  await mkdir(join(dir, "var/cache/app"), { recursive: true });
  await writeFile(join(dir, "etc/hostname"), "base\n");
  await writeFile(join(dir, "etc/conf.d/a"), "a\n");
  await writeFile(join(dir, "var/cache/app/1"), "1");
  await writeFile(join(dir, "var/cache/app/2"), "2");
  await writeFile(join(dir, "replace-me"), "file\n");
}

describe("layers from root filesystem changes", () => {
  it("record additions, changes, deletions as whiteouts, links and type changes", async () => {
    const root = join(work, "changes");
    await mkdir(root);
    await base(root);
    const before = await snapshotTree(root);
    await writeFile(join(root, "etc/hostname"), "changed\n");
    await rm(join(root, "var/cache/app"), { recursive: true });
    await rm(join(root, "etc/conf.d/a"));
    await writeFile(join(root, "new.txt"), "new\n");
    await chmod(join(root, "new.txt"), 0o750);
    await link(join(root, "new.txt"), join(root, "hard.txt"));
    await symlink("new.txt", join(root, "soft"));
    await rm(join(root, "replace-me"));
    await mkdir(join(root, "replace-me"));
    const afterSnap = await snapshotTree(root);
    const changes = diffSnapshots(before, afterSnap);
    assert.deepEqual(changes.deleted, ["etc/conf.d/a", "replace-me", "var/cache/app"]);
    const layer = await writeLayer(root, afterSnap, changes, join(work, "changes.tgz"), {
      epoch: 1_700_000_000,
    });
    const blob = await readFile(layer.path);
    assert.equal(layer.digest, `sha256:${createHash("sha256").update(blob).digest("hex")}`);
    assert.equal(layer.diffId, `sha256:${createHash("sha256").update(gunzipSync(blob)).digest("hex")}`);
    assert.equal(layer.size, blob.length);
    const entries = await readTar(blob);
    const names = entries.map((e) => e.name);
    assert.deepEqual(names, [...names].sort());
    const byName = new Map(entries.map((e) => [e.name.replace(/\/$/, ""), e]));
    assert.equal(byName.get("etc/hostname")?.content, "changed\n");
    assert.equal(byName.get("etc/conf.d/.wh.a")?.type, "file");
    assert.equal(byName.get("var/cache/.wh.app")?.content, "");
    assert.equal(byName.has("var/cache/app/1"), false, "no whiteout below a deleted directory");
    assert.equal(byName.get(".wh.replace-me")?.type, "file");
    assert.equal(byName.get("replace-me")?.type, "directory");
    assert.equal(byName.get("hard.txt")?.type, "file");
    assert.equal(byName.get("hard.txt")?.content, "new\n");
    assert.deepEqual([byName.get("new.txt")?.type, byName.get("new.txt")?.linkname], ["link", "hard.txt"]);
    assert.equal(byName.get("new.txt")?.mode, 0o750);
    assert.deepEqual([byName.get("soft")?.type, byName.get("soft")?.linkname], ["symlink", "new.txt"]);
    for (const e of entries) assert.ok(e.mtime <= 1_700_000_000, `${e.name} clamped`);
    assert.equal(byName.has("etc/conf.d"), true, "a directory that lost an entry is written");
  });

  it("give the same bytes for the same tree in two places at two times", async () => {
    const digests: string[] = [];
    for (const [i, time] of [
      [1, new Date("2030-01-01T00:00:00Z")],
      [2, new Date("2031-06-01T12:00:00Z")],
    ] as const) {
      const root = join(work, `repro-${i}`);
      await mkdir(root);
      const emptyBefore = await snapshotTree(root);
      await base(root);
      for (const path of [
        "etc/hostname",
        "etc/conf.d/a",
        "var/cache/app/1",
        "var/cache/app/2",
        "replace-me",
      ]) {
        await utimes(join(root, path), time, time);
      }
      const snap = await snapshotTree(root);
      const layer = await writeLayer(
        root,
        snap,
        diffSnapshots(emptyBefore, snap),
        join(work, `repro-${i}.tgz`),
        {
          epoch: 1_700_000_000,
          ownership: "root",
        },
      );
      digests.push(layer.digest);
    }
    assert.equal(digests[0], digests[1]);
  });

  it("finds nothing to write when nothing changed", async () => {
    const root = join(work, "same");
    await mkdir(root);
    await base(root);
    const a = await snapshotTree(root);
    const b = await snapshotTree(root);
    assert.deepEqual(diffSnapshots(a, b), { written: [], deleted: [] });
  });
});
