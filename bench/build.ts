// `npm run bench:build`: Strata's builder against buildah (Debian) on the same Containerfile,
// interleaved: a cold build (empty cache and storage), a no-op rebuild, and a rebuild after the
// last step's input changed. Both run as the command a user runs; times are wall-clock medians.
import { execFile, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildBusyboxBase } from "../scripts/base-images.ts";

const exec = promisify(execFile);
const BIN = new URL("../bin/strata.js", import.meta.url).pathname;
const ROUNDS = Number(process.argv.find((a) => a.startsWith("--rounds="))?.slice("--rounds=".length) ?? 3);

const steps = (from: string) =>
  [
    from,
    "ENV APP_MODE=production",
    "WORKDIR /srv",
    "COPY config.txt ./",
    'RUN echo "built at build time" > /srv/built.txt && mkdir -p /var/lib/app',
    "COPY app.sh ./",
    'CMD ["/bin/sh", "/srv/app.sh"]',
    "",
  ].join("\n");

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Seconds from starting a command to its first byte of output; waits for it to end. */
function firstOutput(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let first: number | undefined;
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "inherit"],
      ...(env === undefined ? {} : { env }),
    });
    child.stdout.on("data", () => {
      first ??= Number(process.hrtime.bigint() - started) / 1e9;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 && first !== undefined ? resolve(first) : reject(new Error(`${cmd} exited with ${code}`)),
    );
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function main(): Promise<void> {
  // Measure the command as installed: bin/strata.js runs the bundle only when it matches the sources.
  await exec(process.execPath, [new URL("../scripts/bundle.mjs", import.meta.url).pathname]);
  try {
    await exec("buildah", ["--version"]);
  } catch {
    console.error("bench:build needs buildah (Debian: apt-get install buildah)");
    process.exit(2);
  }
  // buildah derives an image name from an oci: path, which must be lowercase.
  const work = join(tmpdir(), `strata-bench-build-${process.pid}`);
  await mkdir(work);
  try {
    const ctx = join(work, "ctx");
    await mkdir(ctx);
    await buildBusyboxBase(join(ctx, "base"));
    await writeFile(join(ctx, "config.txt"), "mode=production\n");
    await writeFile(join(ctx, "app.sh"), "cat /srv/config.txt\n");
    await writeFile(join(ctx, "Containerfile"), steps("FROM oci-layout:base:busybox"));
    await writeFile(join(work, "Buildahfile"), steps(`FROM oci:${join(ctx, "base")}:busybox`));
    await writeFile(join(ctx, ".containerignore"), "base\n");

    const results: Record<string, { strata: number[]; buildah: number[] }> = {
      cold: { strata: [], buildah: [] },
      "no-op rebuild": { strata: [], buildah: [] },
      "last step changed": { strata: [], buildah: [] },
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const cache = join(work, `cache-${round}`);
      const storage = join(work, `storage-${round}`);
      const strata = () =>
        exec(
          process.execPath,
          [BIN, "build", "--cache-dir", cache, "-t", `oci-layout:${join(work, "out")}:r${round}`, ctx],
          {
            env: { ...process.env, SOURCE_DATE_EPOCH: "1700000000" },
          },
        );
      const buildah = () =>
        exec(
          "buildah",
          [
            "--root",
            join(storage, "root"),
            "--runroot",
            join(storage, "run"),
            "--storage-driver",
            "vfs",
            "bud",
            "--isolation",
            "chroot",
            "--layers",
            "-q",
            "-f",
            join(work, "Buildahfile"),
            "-t",
            `bench:r${round}`,
            ctx,
          ],
          { maxBuffer: 16 * 1024 * 1024 },
        );
      // Interleaved, alternating who goes first.
      const pair = async (name: string) => {
        const order = round % 2 === 0 ? (["buildah", "strata"] as const) : (["strata", "buildah"] as const);
        for (const who of order) results[name]?.[who].push(await timed(who === "strata" ? strata : buildah));
      };
      await writeFile(join(ctx, "app.sh"), "cat /srv/config.txt\n");
      await pair("cold");
      await pair("no-op rebuild");
      await writeFile(join(ctx, "app.sh"), `cat /srv/config.txt # round ${round}\n`);
      await pair("last step changed");
      console.error(`round ${round}/${ROUNDS} done`);
    }
    console.log(`Build benchmark (${ROUNDS} rounds, medians; ratio > 1: Strata faster)\n`);
    console.log("Scenario              Strata s   buildah s   Ratio");
    console.log("--------------------------------------------------");
    for (const [name, r] of Object.entries(results)) {
      const s = median(r.strata);
      const b = median(r.buildah);
      console.log(
        `${name.padEnd(20)} ${s.toFixed(3).padStart(9)} ${b.toFixed(3).padStart(11)} ${(b / s).toFixed(2).padStart(7)}`,
      );
    }
    // `strata run` start to first output on a cached image, against runc on a bundle unpacked
    // beforehand (the floor: no unpacking, no mounting) and buildah run on a working container.
    const image = `oci-layout:${join(ctx, "base")}:busybox`;
    const runEnv = { ...process.env, STRATA_DATA_DIR: join(work, "data") };
    await firstOutput(process.execPath, [BIN, "run", image, "--", "echo", "warm"], runEnv);
    await exec("umoci", ["unpack", "--image", `${join(ctx, "base")}:busybox`, join(work, "bundle")]);
    const bundleConfig = JSON.parse(await readFile(join(work, "bundle/config.json"), "utf8")) as {
      process: { args: string[]; terminal: boolean };
    };
    bundleConfig.process.args = ["echo", "hi"];
    bundleConfig.process.terminal = false;
    await writeFile(join(work, "bundle/config.json"), JSON.stringify(bundleConfig));
    const storage = join(work, "run-storage");
    const buildahArgs = [
      "--root",
      join(storage, "root"),
      "--runroot",
      join(storage, "run"),
      "--storage-driver",
      "vfs",
    ];
    const container = (
      await exec("buildah", [...buildahArgs, "from", `oci:${join(ctx, "base")}:busybox`])
    ).stdout.trim();
    const runs = {
      strata: [] as number[],
      runc: [] as number[],
      buildah: [] as number[],
      node: [] as number[],
    };
    for (let round = 1; round <= ROUNDS * 3; round++) {
      runs.strata.push(await firstOutput(process.execPath, [BIN, "run", image, "--", "echo", "hi"], runEnv));
      runs.runc.push(
        await firstOutput("runc", [
          "--root",
          join(work, "runc"),
          "run",
          "--bundle",
          join(work, "bundle"),
          `bench-${round}`,
        ]),
      );
      runs.buildah.push(
        await firstOutput("buildah", [
          ...buildahArgs,
          "run",
          "--isolation",
          "chroot",
          container,
          "--",
          "echo",
          "hi",
        ]),
      );
      // The floor of any Node.js command on this machine: start Node, print a line.
      runs.node.push(await firstOutput(process.execPath, ["-e", "console.log('hi')"]));
    }
    console.log(`\nRun start to first output (${ROUNDS * 3} runs, medians)\n`);
    console.log(`strata run (cached image)   ${median(runs.strata).toFixed(3)} s`);
    console.log(`buildah run (container)     ${median(runs.buildah).toFixed(3)} s`);
    console.log(`runc run (prepared bundle)  ${median(runs.runc).toFixed(3)} s`);
    console.log(`node -e (Node.js start)     ${median(runs.node).toFixed(3)} s`);
    console.log(
      "\nStrata runs as `node bin/strata.js` (the bundle in dist/ when current, else the sources through tsx).",
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
