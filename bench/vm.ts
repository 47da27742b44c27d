// `npm run bench:vm`: a template → a boot-tested, published qcow2, as a user runs it
// (`strata build --publish` with a disk section, against a running Strata server), cold — the
// bootable Debian base image already built, nothing of the disk cached — and again after one
// application file changed. Prints each stage: root filesystem, file system, boot loader, each
// conversion, boot to ready, gates. Targets on a 2-core machine under TCG: cold ≤ 180 s, the
// one-file change ≤ 60 s, boot to ready ≤ 45 s. No peer runs here (Packer and Image Builder are
// not in Debian); their published pipelines take tens of minutes.
//
//   npm run bench:vm [-- --base oci-layout:PATH:TAG] [-- --formats qcow2,vhd]
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDebianBase } from "../scripts/base-images.ts";
import { startStrata } from "../test/helpers/strata-server.ts";

const BIN = new URL("../bin/strata.js", import.meta.url).pathname;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};

function strata(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`strata ${args.join(" ")} exited ${code}: ${err}${out}`)),
    );
  });
}

interface Released {
  disk: {
    stages: { name: string; seconds: number }[];
    test: { readySeconds: number; gatesSeconds: number; accel: string };
  };
}

async function release(
  dir: string,
  version: string,
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; out: Released }> {
  const started = process.hrtime.bigint();
  const out = JSON.parse(
    await strata(
      ["build", "-f", join(dir, "strata.yaml"), "--publish", `bench/app@${version}`, "--json"],
      env,
    ),
  ) as Released;
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, out };
}

function report(label: string, run: { seconds: number; out: Released }, target: number): boolean {
  console.log(
    `\n${label}: ${run.seconds.toFixed(1)} s (target ≤ ${target} s) ${run.seconds <= target ? "PASS" : "FAIL"}`,
  );
  for (const s of run.out.disk.stages) console.log(`  ${s.name.padEnd(18)} ${s.seconds.toFixed(1)} s`);
  const t = run.out.disk.test;
  console.log(
    `  ${"boot to ready".padEnd(18)} ${t.readySeconds.toFixed(1)} s (${t.accel}; target ≤ 45 s) ${t.readySeconds <= 45 ? "PASS" : "FAIL"}`,
  );
  console.log(`  ${"gates".padEnd(18)} ${t.gatesSeconds.toFixed(1)} s`);
  return run.seconds <= target && t.readySeconds <= 45;
}

const work = await mkdtemp(join(tmpdir(), "strata-bench-vm-"));
const server = await startStrata();
try {
  let base = arg("--base");
  if (base === undefined) {
    console.log("Making the bootable Debian base image (mmdebstrap; not timed)…");
    await buildDebianBase(join(work, "base"), "debian-vm", { bootable: true });
    base = `oci-layout:${join(work, "base")}:debian-vm`;
  }
  const env = {
    ...process.env,
    STRATA_SERVER: server.url,
    STRATA_DATA_DIR: join(work, "data"),
    STRATA_CONFIG_DIR: join(work, "config"),
    XDG_CACHE_HOME: join(work, "cache"),
  };
  await strata(["gallery", "create", "bench"], env);
  await strata(["image", "define", "bench/app", "--kind", "container"], env);
  await strata(["image", "define", "bench/app-vm", "--kind", "vm"], env);
  const app = join(work, "app");
  await mkdir(app);
  await writeFile(join(app, "Containerfile"), `FROM ${base}\nCOPY app.conf /etc/app.conf\n`);
  const template = (formats: string) =>
    [
      "containerfile: Containerfile",
      "disk:",
      "  image: bench/app-vm",
      `  formats: [${formats}]`,
      "  tests:",
      "    - { name: app config, command: cat /etc/app.conf, stdout: release }",
      "    - { name: journald, service: systemd-journald }",
      "    - { name: fstab, path: /etc/fstab }",
      "",
    ].join("\n");
  await writeFile(join(app, "strata.yaml"), template(arg("--formats") ?? "qcow2"));
  await writeFile(join(app, "app.conf"), "release = 1\n");
  const cold = await release(app, "1.0.0", env);
  await writeFile(join(app, "app.conf"), "release = 2\n");
  const warm = await release(app, "1.0.1", env);
  const ok = [
    report("cold: template → tested, published qcow2", cold, 180),
    report("one application file changed", warm, 60),
  ];
  process.exitCode = ok.every(Boolean) ? 0 : 1;
} finally {
  await server.stop();
  await rm(work, { recursive: true, force: true });
}
