// Extended attributes and device nodes for disks (`xattrs: "apply"`, `devices: "create"`): a
// layer written by GNU tar with a binary capability set, a text attribute and a character
// device unpacks with every byte of each attribute and the device's numbers kept; by default
// (builds) neither is applied.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { lstatSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { extractLayer } from "./extract.ts";

// cap_net_raw+ep, as `setcap cap_net_raw+ep` writes it (VFS_CAP_REVISION_2): not UTF-8 text.
const CAPABILITY = "0x0100000200200000000000000000000000000000";

let work: string;
let layer: string;

const attrs = (path: string): string =>
  execFileSync("getfattr", ["-h", "-d", "-m", "-", "-e", "hex", path], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.includes("="))
    .sort()
    .join("\n");

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-xattrs-"));
  const src = join(work, "src");
  await mkdir(join(src, "bin"), { recursive: true });
  await writeFile(join(src, "bin/ping"), "#!/bin/sh\n", { mode: 0o755 });
  execFileSync("setfattr", ["-n", "security.capability", "-v", CAPABILITY, join(src, "bin/ping")]);
  execFileSync("setfattr", ["-n", "user.origin", "-v", "debian", join(src, "bin/ping")]);
  await mkdir(join(src, "dev"));
  execFileSync("mknod", ["-m", "0666", join(src, "dev/null"), "c", "1", "3"]);
  layer = join(work, "layer.tar");
  execFileSync("tar", [
    "--xattrs",
    "--xattrs-include=*",
    "--numeric-owner",
    "-C",
    src,
    "-cf",
    layer,
    "bin",
    "dev",
  ]);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("extended attributes and device nodes", () => {
  it("keeps binary and text attributes byte for byte, and makes device nodes, when asked", async () => {
    const root = join(work, "disk-root");
    await mkdir(root);
    const result = await extractLayer(layer, root, { xattrs: "apply", devices: "create" });
    assert.equal(result.skippedDevices, 0);
    const got = attrs(join(root, "bin/ping"));
    assert.match(got, new RegExp(`^security.capability=${CAPABILITY}$`, "m"));
    assert.match(got, /^user.origin=0x64656269616e$/m);
    assert.equal(got, attrs(join(work, "src/bin/ping")));
    const dev = lstatSync(join(root, "dev/null"));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, lstatSync(join(work, "src/dev/null")).rdev, "major 1, minor 3");
  });

  it("applies neither by default, as builds want", async () => {
    const root = join(work, "build-root");
    await mkdir(root);
    const result = await extractLayer(layer, root);
    assert.equal(result.skippedDevices, 1);
    assert.equal(attrs(join(root, "bin/ping")), "");
  });
});
