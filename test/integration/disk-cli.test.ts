// `strata disk pull` and `strata disk inspect` against an in-process Strata registry holding a
// disk artifact made from a real qcow2 (qemu-img): every format qemu-img then reads back as
// written (vhd fixed, vmdk streamOptimized, raw, vdi, qcow2 as stored), the format from the
// output's name when --format is not given, and refusals that leave an existing output as it was.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createDiskArtifact, pushDisk } from "../../src/disk/index.ts";
import { RegistryClient } from "../../src/remote/index.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { pushImage } from "../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

const run = promisify(execFile);
const MIB = 2 ** 20;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- qemu-img's JSON as it comes
type Info = Record<string, any>;

describe("strata disk pull and inspect", () => {
  let s: InProcess;
  let work: string;
  let host: string;
  let digest: string;
  let qcow2: string;
  const env = () => ({ STRATA_DATA_DIR: join(work, "data"), STRATA_SERVER: s.url });
  const strata = (...args: string[]) => runStrata(args, env());
  /** qemu-img's view; a fixed vhd has its footer only at the end, which qemu-img's probe misses. */
  const info = async (path: string, format?: string): Promise<Info> =>
    JSON.parse(
      (await run("qemu-img", ["info", "--output=json", ...(format === "vpc" ? ["-f", "vpc"] : []), path]))
        .stdout,
    ) as Info;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "strata-disk-cli-"));
    s = await startInProcess({ listen: true });
    host = new URL(s.url).host;
    qcow2 = join(work, "source.qcow2");
    // A little content, so the formats differ from an empty disk.
    const raw = join(work, "source.raw");
    await writeFile(raw, Buffer.alloc(64 * MIB));
    await writeFile(raw, Buffer.from("strata disk test\n".repeat(1000)), { flag: "r+" });
    await run("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", raw, qcow2]);
    const artifact = await createDiskArtifact(qcow2, { virtualSize: 64 * MIB, boot: "uefi" });
    const client = new RegistryClient({ registry: host, insecure: true });
    digest = (await pushDisk(client, "vm/disk", artifact, { tag: "1" })).digest;
    await pushImage(s.server.app, "vm/image", "1", "not a disk");
  });
  after(async () => {
    await s.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("inspects a disk artifact", async () => {
    const r = await strata("disk", "inspect", `${host}/vm/disk:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^digest: +${digest}$`, "m"));
    assert.match(r.stdout, /^format: +qcow2$/m);
    assert.match(r.stdout, /^virtualSize: +64 MiB \(67108864 bytes\)$/m);
    assert.match(r.stdout, /^boot: +uefi$/m);
    // A reference without a registry is the server's.
    const json = await strata("disk", "inspect", `vm/disk@${digest}`, "--json");
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).virtualSize, 64 * MIB);
  });

  const formats: { format: string; file: string; qemu: string; check?: (i: Info) => void }[] = [
    { format: "qcow2", file: "d.qcow2", qemu: "qcow2" },
    { format: "raw", file: "d.raw", qemu: "raw" },
    { format: "vhd", file: "d.vhd", qemu: "vpc" },
    {
      format: "vmdk",
      file: "d.vmdk",
      qemu: "vmdk",
      check: (i) => assert.equal(i["format-specific"]?.data?.["create-type"], "streamOptimized"),
    },
    { format: "vdi", file: "d.vdi", qemu: "vdi" },
  ];
  for (const f of formats)
    it(`pulls as ${f.format}`, async () => {
      const out = join(work, `flag-${f.file}`);
      const r = await strata("disk", "pull", `${host}/vm/disk:1`, "--format", f.format, "-o", out);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Pulled ${host}/vm/disk:1 \\(${digest}\\) to .* \\(${f.format}, `));
      const i = await info(out, f.qemu);
      assert.equal(i.format, f.qemu);
      assert.equal(i["virtual-size"], 64 * MIB);
      f.check?.(i);
      if (f.format === "qcow2") assert.deepEqual(await readFile(out), await readFile(qcow2));
      if (f.format === "raw") assert.equal((await stat(out)).size, 64 * MIB);
      // Fixed: the whole disk, then the 512-byte footer.
      if (f.format === "vhd") assert.equal((await stat(out)).size, 64 * MIB + 512);
      // The format from the output's name.
      const named = join(work, `named-${f.file}`);
      assert.equal((await strata("disk", "pull", `${host}/vm/disk:1`, "-o", named, "-q")).code, 0);
      assert.equal((await info(named, f.qemu)).format, f.qemu);
    });

  it("refuses what is not a disk and bad flags, leaving the output as it was", async () => {
    const dir = await mkdtemp(join(work, "refused-"));
    const out = join(dir, "disk.vhd");
    await writeFile(out, "before");
    const image = await strata("disk", "pull", `${host}/vm/image:1`, "-o", out);
    assert.equal(image.code, 1);
    assert.match(image.stderr, /is not a disk artifact .*it is a container image/);
    const missing = await strata("disk", "pull", `${host}/vm/disk:2`, "-o", out);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /HTTP 404/);
    const iso = await strata("disk", "pull", `${host}/vm/disk:1`, "--format", "iso", "-o", out);
    assert.equal(iso.code, 2);
    assert.match(iso.stderr, /Cannot pull a disk as an iso/);
    const vhdx = await strata("disk", "pull", `${host}/vm/disk:1`, "--format", "vhdx", "-o", out);
    assert.equal(vhdx.code, 2);
    assert.match(vhdx.stderr, /Invalid --format "vhdx": expected one of qcow2, raw, vhd, vmdk, vdi/);
    assert.equal((await strata("disk", "pull", `${host}/vm/disk:1`)).code, 2);
    assert.equal(await readFile(out, "utf8"), "before");
    assert.deepEqual(await readdir(dir), ["disk.vhd"]);
    const inspect = await strata("disk", "inspect", `${host}/vm/image:1`);
    assert.equal(inspect.code, 1);
    assert.match(inspect.stderr, /is not a disk artifact/);
  });
});
