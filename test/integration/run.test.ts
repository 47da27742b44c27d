// `strata run`, `ps`, `rm` and `commit` through runc: output streams and the exit status comes
// back; layers are unpacked once and shared through overlayfs; nothing stays mounted; a kept
// container's additions, deletions and replaced directories become one committed layer that
// runs again; bad input gets a clear error.
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { run, runOk } from "../helpers/exec.ts";

let work: string;
let base: string;

const strata = (args: readonly string[], extra: Record<string, string> = {}, input?: string) =>
  runStrata(args, { STRATA_DATA_DIR: join(work, "data"), SOURCE_DATE_EPOCH: "0", ...extra }, input);

const BIN = new URL("../../bin/strata.js", import.meta.url).pathname;

/** The strata binary as a child process with its own standard streams. */
function spawnStrata(args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, STRATA_DATA_DIR: join(work, "data") },
  });
}

const exited = (child: ChildProcessWithoutNullStreams) =>
  new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

const overlayMounts = async () =>
  (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(work)).length;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-run-"));
  await buildBusyboxBase(join(work, "base"));
  base = `oci-layout:${join(work, "base")}:busybox`;
});
after(async () => {
  // A container a failed test left running would hold its folder.
  const runcRoot = join(work, "data/runc");
  const left = await run("runc", ["--root", runcRoot, "list", "-q"]);
  for (const id of left.stdout.split("\n").filter(Boolean))
    await run("runc", ["--root", runcRoot, "delete", "-f", id]);
  await rm(work, { recursive: true, force: true });
});

describe("strata run and commit", () => {
  it("streams output, returns the exit status, shares unpacked layers and leaves nothing mounted", async () => {
    const first = await strata(["run", base, "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(first.code, 3);
    assert.equal(first.stdout, "out\n");
    assert.equal(first.stderr, "err\n");
    const layers = await readdir(join(work, "data/layers"));
    const second = await strata(["run", "-e", "WHO=you", base, "--", "sh", "-c", "echo hello $WHO; id -u"]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, "hello you\n0\n");
    assert.deepEqual(await readdir(join(work, "data/layers")), layers, "the second run unpacked nothing");
    assert.deepEqual(await readdir(join(work, "data/containers")), [], "ephemeral containers are removed");
    assert.equal(await overlayMounts(), 0);
  });

  it("takes docker's --rm (the default), -e KEY from its own environment and its own --platform", async () => {
    const hostArch = process.arch === "x64" ? "amd64" : process.arch;
    const result = await strata(
      [
        "run",
        "--rm",
        "--platform",
        `linux/${hostArch}`,
        "-e",
        "FROM_HOST",
        "-e",
        "UNSET_HERE",
        "-e",
        "SET=1",
        base,
        "--",
        "sh",
        "-c",
        "echo $FROM_HOST ${UNSET_HERE-unset} $SET",
      ],
      { FROM_HOST: "passed" },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "passed unset 1\n");
    const envFile = join(work, "app.env");
    await writeFile(envFile, "# settings\nGREETING=hello world\n\n  FROM_HOST\nSET=from file\n");
    const fromFile = await strata(
      [
        "run",
        "--env-file",
        envFile,
        "-e",
        "SET=flag",
        base,
        "--",
        "sh",
        "-c",
        'echo "$GREETING/$FROM_HOST/$SET"',
      ],
      { FROM_HOST: "passed" },
    );
    assert.equal(fromFile.stdout, "hello world/passed/flag\n", fromFile.stderr);
    assert.deepEqual(await readdir(join(work, "data/containers")), [], "removed, as without --rm");
  });

  it("keeps what a container uses through rmi and system prune", async () => {
    assert.equal((await strata(["copy", base, "bb:local"])).code, 0);
    const kept = await strata([
      "run",
      "--keep",
      "--name",
      "user",
      "bb:local",
      "--",
      "sh",
      "-c",
      "echo x > /x",
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    const refused = await strata(["rmi", "bb:local"]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      'Error: Image "bb:local" is used by container "user": strata rm user first, or strata rmi -f\n',
    );
    const forced = await strata(["rmi", "-f", "bb:local"]);
    assert.equal(forced.code, 0, forced.stderr);
    const pruned = JSON.parse((await strata(["system", "prune", "--grace", "0s", "--json"])).stdout) as {
      layers: { chains: string[] };
    };
    assert.deepEqual(pruned.layers.chains, [], "the container's unpacked layers stay");
    // Sizes are those of the files and symlinks on disk, as find(1) sees them.
    const findBytes = async (dir: string) =>
      (await runOk("find", [dir, "(", "-type", "f", "-o", "-type", "l", ")", "-printf", "%s\\n"])).stdout
        .split("\n")
        .filter(Boolean)
        .reduce((sum, n) => sum + Number(n), 0);
    const usage = JSON.parse((await strata(["system", "df", "--json"])).stdout) as {
      type: string;
      bytes: number;
    }[];
    assert.deepEqual(usage.map((r) => [r.type, r.bytes]).slice(1, 3), [
      ["Unpacked layers", await findBytes(join(work, "data/layers"))],
      ["Containers", await findBytes(join(work, "data/containers"))],
    ]);
    const committed = await strata(["commit", "user", "-t", `oci-layout:${join(work, "user-out")}:v1`]);
    assert.equal(committed.code, 0, committed.stderr);
    assert.equal((await strata(["rm", "user"])).code, 0);
    const df = JSON.parse((await strata(["system", "df", "--json"])).stdout) as {
      type: string;
      reclaimable: number;
    }[];
    assert.ok((df.find((r) => r.type === "Images")?.reclaimable ?? 0) > 0, "the layers are unused now");
    const after = JSON.parse((await strata(["system", "prune", "--grace", "0s", "--json"])).stdout) as {
      images: { blobs: unknown[] };
      layers: { chains: string[] };
    };
    assert.ok(after.images.blobs.length > 0);
    assert.ok(after.layers.chains.length > 0);
    assert.deepEqual(await readdir(join(work, "data/images/blobs/sha256")), []);
  });

  it("connects standard input only with -i, and finds a named user in the layers", async () => {
    const piped = await strata(
      ["run", "-i", "-u", "nobody", base, "--", "sh", "-c", "id -u; id -g; cat"],
      {},
      "from stdin\n",
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, "65534\n65534\nfrom stdin\n");
    const closed = await strata(["run", base, "--", "sh", "-c", "cat; echo done"], {}, "not read\n");
    assert.equal(closed.stdout, "done\n");
    const unknown = await strata(["run", "-u", "nosuch", base, "--", "true"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /USER "nosuch" is not in the image's \/etc\/passwd/);
    const tty = await strata(["run", "-t", base, "--", "true"]);
    assert.equal(tty.code, 2);
    assert.match(tty.stderr, /--tty needs a terminal on standard input/);
  });

  it("as a command: passes its own streams, forwards signals, mounts nothing on the host", async () => {
    const direct = await run(
      process.execPath,
      [BIN, "run", base, "--", "sh", "-c", "echo out; echo err >&2; exit 5"],
      {
        env: { STRATA_DATA_DIR: join(work, "data") },
      },
    );
    assert.deepEqual([direct.code, direct.stdout, direct.stderr], [5, "out\n", "err\n"]);

    const child = spawnStrata([
      "run",
      base,
      "--",
      "sh",
      "-c",
      'trap "echo got TERM; exit 7" TERM; echo ready; while true; do sleep 0.1; done',
    ]);
    let out = "";
    const code = exited(child);
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("ready")) resolve();
      }),
    );
    // The container's root is mounted in a mount namespace of its own, not on the host.
    assert.equal(await overlayMounts(), 0);
    assert.equal((await readdir(join(work, "data/containers"))).length, 1);
    child.kill("SIGTERM");
    assert.equal(await code, 7);
    assert.equal(out, "ready\ngot TERM\n");
    assert.deepEqual(await readdir(join(work, "data/containers")), []);
  });

  it("tells a container that ran on after strata run was killed from one that ended, and removes it", async () => {
    const child = spawnStrata([
      "run",
      "--name",
      "orphan",
      base,
      "--",
      "sh",
      "-c",
      "echo ready; while [ ! -e /tmp/stop ]; do sleep 0.05; done; echo done",
    ]);
    let out = "";
    const ended = new Promise<void>((resolve) => child.stdout.on("end", resolve));
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("ready")) resolve();
      }),
    );
    child.kill("SIGKILL");
    // "exit", not "close": the container still holds the standard streams strata run passed on.
    await new Promise((resolve) => child.on("exit", resolve));
    // strata run is gone; runc still has the container, so it is running and cannot be removed.
    const status = async () =>
      (JSON.parse((await strata(["ps", "--json"])).stdout) as { name: string; status: string }[]).find(
        (c) => c.name === "orphan",
      );
    assert.equal((await status())?.status, "running");
    const refused = await strata(["rm", "orphan"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /container "orphan" is running/);
    assert.ok((await readdir(join(work, "data/containers"))).includes("orphan"), "nothing removed");
    // Let it end: its root is only reachable through runc's mount namespace.
    await runOk("runc", ["--root", join(work, "data/runc"), "exec", "orphan", "touch", "/tmp/stop"]);
    await ended;
    assert.equal(out, "ready\ndone\n");
    for (let i = 0; i < 100 && (await status())?.status === "running"; i++)
      await new Promise((r) => setTimeout(r, 50));
    const last = (await status()) as { status: string; exitCode?: number } | undefined;
    assert.equal(last?.status, "exited");
    assert.equal(last.exitCode, undefined, "no strata run saw its exit status");
    assert.match((await strata(["ps"])).stdout, /orphan +oci-layout:.* +exited \(unknown\)/);
    // Its pid taken by another process (after a reboot, say) does not make it run again: the
    // record keeps the process's start time too.
    const recordPath = join(work, "data/containers/orphan/container.json");
    const record = JSON.parse(await readFile(recordPath, "utf8")) as { pid: number; pidStart: string };
    assert.match(record.pidStart, /^\d+$/);
    await writeFile(recordPath, JSON.stringify({ ...record, pid: process.pid }));
    assert.equal((await status())?.status, "exited");
    assert.equal((await strata(["rm", "orphan"])).code, 0);
    assert.deepEqual(await readdir(join(work, "data/containers")), []);
    assert.equal(await overlayMounts(), 0);
  });

  it("gives the container a terminal with -t", async () => {
    // `script` runs the command on a new pseudo-terminal.
    const command = [
      process.execPath,
      BIN,
      "run",
      "-t",
      base,
      "--",
      "sh",
      "-c",
      "test -t 0 && test -t 1 && echo on-a-tty",
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const result = await run("script", ["-qec", command, "/dev/null"], {
      env: { STRATA_DATA_DIR: join(work, "data") },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /on-a-tty\r?\n/);
  });

  it("commits a kept container's changes as one layer that runs again", async () => {
    const kept = await strata([
      "run",
      "--keep",
      "--name",
      "c1",
      base,
      "--",
      "sh",
      "-c",
      "echo added > /added && rm /etc/passwd && rm -rf /etc/opt && mkdir /etc/opt && echo fresh > /etc/opt/new",
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match((await strata(["ps"])).stdout, /c1 +oci-layout:.*busybox +exited \(0\)/);
    assert.equal((await strata(["ps", "-q"])).stdout, "c1\n");
    assert.equal(
      (await strata(["ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Command}}"])).stdout,
      "c1 exited (0) sh -c echo added > /added && rm /etc/passwd && rm -rf /etc/opt && mkdir /etc/opt && echo fresh > /etc/opt/new\n",
    );
    const out = join(work, "committed");
    const committed = await strata([
      "commit",
      "c1",
      "-t",
      `oci-layout:${out}:v1`,
      "-m",
      "add a file",
      "-a",
      "Dev",
    ]);
    assert.equal(committed.code, 0, committed.stderr);
    const config = JSON.parse((await runOk("skopeo", ["inspect", "--config", `oci:${out}:v1`])).stdout) as {
      author: string;
      history: { comment?: string; author?: string; created_by?: string }[];
    };
    assert.equal(config.author, "Dev");
    assert.deepEqual(config.history.at(-1), {
      created: "1970-01-01T00:00:00Z",
      created_by: "strata commit c1",
      comment: "add a file",
      author: "Dev",
    });
    const again = await strata([
      "run",
      `oci-layout:${out}:v1`,
      "--",
      "sh",
      "-c",
      "cat /added; test -e /etc/passwd || echo no passwd; ls /etc/opt",
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, "added\nno passwd\nnew\n");
    // umoci reads the committed layer's whiteouts the same way.
    await runOk("umoci", ["unpack", "--image", `${out}:v1`, join(work, "bundle")], { timeoutMs: 60_000 });
    assert.equal(await readFile(join(work, "bundle/rootfs/added"), "utf8"), "added\n");
    await assert.rejects(readFile(join(work, "bundle/rootfs/etc/passwd")), { code: "ENOENT" });
    assert.equal((await strata(["rm", "c1"])).code, 0);
    assert.equal((await strata(["ps", "--json"])).stdout.trim(), "[]");
    assert.equal(await overlayMounts(), 0);
  });

  it("binds host paths read-write and read-only, mounts tmpfs, and keeps a read-only root", async () => {
    const vol = join(work, "vol");
    await mkdir(vol);
    await writeFile(join(vol, "in.txt"), "from the host\n");
    await writeFile(join(work, "one.txt"), "one file\n");
    const bound = await strata([
      "run",
      "-v",
      `${vol}:/data`,
      "-v",
      `${join(work, "one.txt")}:/etc/one.txt:ro`,
      base,
      "--",
      "sh",
      "-c",
      "cat /data/in.txt /etc/one.txt; echo from the container > /data/out.txt; echo x > /etc/one.txt || echo refused",
    ]);
    assert.equal(bound.code, 0, bound.stderr);
    assert.equal(bound.stdout, "from the host\none file\nrefused\n");
    assert.match(bound.stderr, /Read-only file system/);
    assert.equal(await readFile(join(vol, "out.txt"), "utf8"), "from the container\n");
    assert.equal(
      await readFile(join(work, "one.txt"), "utf8"),
      "one file\n",
      "the read-only file is unchanged",
    );

    const readOnly = await strata([
      "run",
      "--read-only",
      "--tmpfs",
      "/scratch",
      "-v",
      `${vol}:/data`,
      base,
      "--",
      "sh",
      "-c",
      "touch /x || echo root refused; touch /data/y && echo volume ok; touch /scratch/z && echo tmpfs ok",
    ]);
    assert.equal(readOnly.code, 0, readOnly.stderr);
    assert.equal(readOnly.stdout, "root refused\nvolume ok\ntmpfs ok\n");
    assert.deepEqual((await readdir(vol)).sort(), ["in.txt", "out.txt", "y"]);

    // A volume's container path through the image's symlinks stays inside the container's root.
    const linked = join(work, "linked");
    assert.equal(
      (await strata(["run", "--keep", "--name", "ln", base, "--", "ln", "-s", "../../../../etc", "/up"]))
        .code,
      0,
    );
    assert.equal((await strata(["commit", "ln", "-t", `oci-layout:${linked}:v1`])).code, 0);
    assert.equal((await strata(["rm", "ln"])).code, 0);
    const through = await strata([
      "run",
      "-v",
      `${vol}:/up/strata-volume-test`,
      `oci-layout:${linked}:v1`,
      "--",
      "cat",
      "/etc/strata-volume-test/in.txt",
    ]);
    assert.equal(through.code, 0, through.stderr);
    assert.equal(through.stdout, "from the host\n");
    assert.equal(existsSync("/etc/strata-volume-test"), false, "nothing was created on the host");
    assert.deepEqual(await readdir(join(work, "data/containers")), []);
    assert.equal(await overlayMounts(), 0);
  });

  it("runs detached containers: logs, stop, kill and rm -f", async () => {
    const started = await strata([
      "run",
      "-d",
      "--name",
      "web",
      base,
      "--",
      "sh",
      "-c",
      'trap "echo got term; exit 3" TERM; echo started; echo to-err >&2; while true; do sleep 0.1; done',
    ]);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout, "web\n");
    const ps = async () =>
      (
        JSON.parse((await strata(["ps", "--json"])).stdout) as {
          name: string;
          status: string;
          exitCode?: number;
        }[]
      )
        .map((c) => `${c.name} ${c.status} ${c.exitCode ?? ""}`.trim())
        .sort();
    assert.deepEqual(await ps(), ["web running"]);
    assert.equal(await overlayMounts(), 0, "its root is mounted only where runc runs");
    let logs = await strata(["logs", "web"]);
    for (let i = 0; i < 100 && !logs.stderr.includes("to-err"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      logs = await strata(["logs", "web"]);
    }
    assert.deepEqual([logs.code, logs.stdout, logs.stderr], [0, "started\n", "to-err\n"]);

    const stopped = await strata(["stop", "web"]);
    assert.deepEqual([stopped.code, stopped.stdout], [0, "Stopped web\n"]);
    assert.deepEqual(await ps(), ["web exited 3"]);
    assert.equal((await strata(["logs", "web"])).stdout, "started\ngot term\n");
    const tail = await strata(["logs", "--tail", "1", "web"]);
    assert.deepEqual([tail.stdout, tail.stderr], ["got term\n", "to-err\n"]);
    assert.equal((await strata(["stop", "web"])).stdout, "web was not running\n");

    // A command that cannot start: the run fails with runc's status and keeps the log.
    const broken = await strata(["run", "-d", "--name", "broken", base, "--", "/nonexistent"]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /container broken ended at once with status 1 \(strata logs broken\)/);
    assert.match((await strata(["logs", "broken"])).stderr, /\/nonexistent/);

    // -f follows until the container ends.
    assert.equal(
      (
        await strata([
          "run",
          "-d",
          "--name",
          "lines",
          base,
          "--",
          "sh",
          "-c",
          "for i in 1 2 3; do echo line $i; sleep 0.2; done",
        ])
      ).code,
      0,
    );
    assert.equal((await strata(["logs", "-f", "lines"])).stdout, "line 1\nline 2\nline 3\n");
    assert.equal((await strata(["logs", "-n", "2", "-f", "lines"])).stdout, "line 2\nline 3\n");

    // PID 1 ignores SIGTERM without a handler; SIGKILL ends it. rm refuses a running one unless -f.
    assert.equal((await strata(["run", "-d", "--name", "sleeper", base, "--", "sleep", "100"])).code, 0);
    assert.equal((await strata(["kill", "-s", "TERM", "sleeper"])).code, 0);
    await new Promise((r) => setTimeout(r, 200));
    const refused = await strata(["rm", "sleeper", "lines"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /container "sleeper" is running \(strata stop sleeper, or strata rm -f sleeper\)/,
    );
    assert.equal(refused.stdout, "Removed lines\n", "the others are removed all the same");
    assert.deepEqual(await ps(), ["broken exited 1", "sleeper running", "web exited 3"]);
    const forced = await strata(["rm", "-f", "sleeper", "web", "broken", "nothing"]);
    assert.equal(forced.code, 1);
    assert.equal(forced.stdout, "Removed sleeper\nRemoved web\nRemoved broken\n");
    assert.match(forced.stderr, /no container "nothing"/);
    assert.deepEqual(await readdir(join(work, "data/containers")), []);
    assert.equal((await run("runc", ["--root", join(work, "data/runc"), "list", "-q"])).stdout, "");

    // Detached and kept: stopped, then committed like any kept container.
    const script = 'echo made > /made; trap "exit 0" TERM; while true; do sleep 0.1; done';
    assert.equal(
      (await strata(["run", "-d", "--keep", "--name", "dk", base, "--", "sh", "-c", script])).code,
      0,
    );
    for (let i = 0; i < 100 && !existsSync(join(work, "data/containers/dk/upper/made")); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal((await strata(["stop", "dk"])).stdout, "Stopped dk\n");
    const committed = await strata(["commit", "dk", "-t", `oci-layout:${join(work, "dk-image")}:v1`]);
    assert.equal(committed.code, 0, committed.stderr);
    const fromCommit = await strata(["run", `oci-layout:${join(work, "dk-image")}:v1`, "--", "cat", "/made"]);
    assert.equal(fromCommit.stdout, "made\n");
    assert.equal((await strata(["rm", "dk"])).code, 0);
    assert.equal(await overlayMounts(), 0);
  });

  it("limits memory, processes and CPU time through cgroups", async () => {
    const forks = await strata([
      "run",
      "--pids-limit",
      "4",
      base,
      "--",
      "sh",
      "-c",
      "for i in 1 2 3 4 5 6; do sleep 1 & done; wait",
    ]);
    assert.notEqual(forks.code, 0);
    assert.match(forks.stderr, /can't fork/);
    const memory = await strata([
      "run",
      "--memory",
      "16m",
      base,
      "--",
      "sh",
      "-c",
      "dd if=/dev/zero of=/dev/null bs=8M count=1 && echo small ok; dd if=/dev/zero of=/dev/null bs=64M count=1; echo big $?",
    ]);
    assert.equal(memory.code, 0, memory.stderr);
    assert.equal(memory.stdout, "small ok\nbig 137\n", "the big buffer is killed by the OOM killer");

    // The CPU quota, read on the host while the container runs.
    const child = spawnStrata([
      "run",
      "--cpus",
      "0.5",
      base,
      "--",
      "sh",
      "-c",
      "cat /proc/self/cgroup; sleep 1",
    ]);
    const code = exited(child);
    const cgroups = await new Promise<string>((resolve) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("cpu:")) resolve(out);
      });
    });
    const cpuPath = /^\d+:cpu:(.*)$/m.exec(cgroups)?.[1];
    assert.ok(cpuPath !== undefined, cgroups);
    const quota = await readFile(join("/sys/fs/cgroup/cpu", cpuPath, "cpu.cfs_quota_us"), "utf8");
    const period = await readFile(join("/sys/fs/cgroup/cpu", cpuPath, "cpu.cfs_period_us"), "utf8");
    assert.deepEqual([Number(quota), Number(period)], [50_000, 100_000]);
    assert.equal(await code, 0);
  });

  it("refuses bad input with a clear error", async () => {
    const cases: [string[], number, RegExp][] = [
      [["commit", "nobody", "-t", `oci-layout:${join(work, "x")}:t`], 1, /no container "nobody"/],
      [["rm", "nobody"], 1, /no container "nobody"/],
      [["run", `oci-layout:${join(work, "base")}:nope`, "--", "true"], 1, /has no tag "nope"/],
      [["run", "--name", "bad name", base, "--", "true"], 2, /invalid container name "bad name"/],
      [["run", "--network", "bridge", base], 2, /Invalid --network "bridge"/],
      [["run", "-e", "=oops", base, "--", "true"], 2, /invalid environment variable "=oops"/],
      [["run", "local/never:built"], 2, /No image "local\/never:built" in the local store/],
      [
        ["run", "-v", `${join(work, "missing")}:/data`, base, "--", "true"],
        2,
        /volume source .*missing does not exist/,
      ],
      [["run", "-v", `${work}:data`, base, "--", "true"], 2, /the container path must be absolute/],
      [["run", "-v", `${work}:/data:rx`, base, "--", "true"], 2, /the mode is ro or rw, not "rx"/],
      [["run", "-v", `${work}:/a/../etc`, base, "--", "true"], 2, /may not contain "\.\."/],
      [["run", "-v", `${work}:/`, base, "--", "true"], 2, /root cannot be mounted over/],
      [["run", "-v", work, base, "--", "true"], 2, /expected HOST:CONTAINER\[:ro\|rw\]/],
      [["run", "--tmpfs", "/t", "-v", `${work}:/t/`, base, "--", "true"], 2, /two mounts on \/t/],
      [["run", "--memory", "lots", base, "--", "true"], 2, /Invalid --memory "lots"/],
      [["run", "--memory", "1k", base, "--", "true"], 2, /at least 6m/],
      [["run", "--pids-limit", "0", base, "--", "true"], 2, /Invalid --pids-limit "0"/],
      [["run", "--cpus", "-1", base, "--", "true"], 2, /Invalid --cpus "-1"/],
      [["run", "-d", "-t", base, "--", "true"], 2, /--detach cannot be used with --tty/],
      [["kill", "-s", "NOPE", "x"], 2, /unknown signal "NOPE"/],
      [["stop", "-t", "soon", "x"], 2, /Invalid --time "soon"/],
      [["logs", "nobody"], 1, /no container "nobody"/],
    ];
    for (const [args, code, message] of cases) {
      const result = await strata(args);
      assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      const left = await readdir(join(work, "data/containers")).catch(() => []);
      assert.deepEqual(left, [], "a refused run leaves no container");
    }
    // A name in use, and a container that was not kept, cannot be committed.
    assert.equal((await strata(["run", "--keep", "--name", "dup", base, "--", "true"])).code, 0);
    const dup = await strata(["run", "--keep", "--name", "dup", base, "--", "true"]);
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /a container named "dup" exists already/);
    assert.equal((await strata(["rm", "dup"])).code, 0);
    assert.equal(await overlayMounts(), 0);
  });
});
