// Flags typed from docker habit: each is taken, or refused before anything happens with exit 2
// and a message naming what to use instead.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { runCli } from "./run-cli.ts";

let data: string;

async function strata(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo({ STRATA_DATA_DIR: data });
  const code = await runCli(["node", "strata", ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

before(async () => {
  data = await mkdtemp(join(tmpdir(), "strata-habits-"));
});
after(async () => {
  await rm(data, { recursive: true, force: true });
});

const HOST_ARCH = process.arch === "x64" ? "amd64" : process.arch;
const OTHER = HOST_ARCH === "arm64" ? "linux/amd64" : "linux/arm64";
const NO_PORTS =
  "a container has no network of its own to map ports from (none by default); with --network host it shares the host's network, so a port it listens on is already the host's";

describe("docker habits refused with guidance", () => {
  const cases: [string[], string][] = [
    [["run", "-p", "8080:80", "app:dev"], `Cannot publish port "8080:80": ${NO_PORTS}`],
    [["run", "--publish=8080:80", "app:dev"], `Cannot publish port "8080:80": ${NO_PORTS}`],
    [["run", "-P", "app:dev"], `Cannot publish ports: ${NO_PORTS}`],
    [
      ["run", "--restart", "always", "app:dev"],
      'Cannot restart containers ("--restart always"): there is no daemon to restart them; run strata run under a service manager (a systemd unit with Restart=) instead',
    ],
    [
      ["run", "--env-file", "/nonexistent/env", "app:dev"],
      'Cannot read --env-file "/nonexistent/env": ENOENT',
    ],
    [
      ["run", "--rm", "--keep", "app:dev"],
      "--rm and --keep contradict each other: a container is removed unless kept",
    ],
    [
      ["run", "--rm", "-d", "app:dev"],
      "--rm cannot be used with --detach: a detached container stays, with its logs, until strata rm NAME",
    ],
    [
      ["run", "--platform", OTHER, "app:dev"],
      `Cannot run a "${OTHER}" image: Strata runs images for this machine's platform (linux/${HOST_ARCH}) only, without emulation`,
    ],
    [
      ["run", "--platform", "amd64", "app:dev"],
      'Invalid --platform "amd64": expected OS/ARCH, like linux/amd64',
    ],
    // -it is -i and -t: -t is what needs a terminal, which an in-process run has not.
    [["run", "-it", "app:dev"], "--tty needs a terminal on standard input"],
    [["run", "--rm", "-it", "app:dev", "--", "sh"], "--tty needs a terminal on standard input"],
    [
      ["build", "--platform", OTHER, "."],
      `Cannot build a "${OTHER}" image: Strata builds images for this machine's platform (linux/${HOST_ARCH}) only, without emulation`,
    ],
    [
      ["build", "--format", "docker", "."],
      'Invalid --format "docker": Strata writes OCI images only, which docker, podman and every registry take',
    ],
    [["logs", "--tail", "twenty", "web"], 'Invalid --tail "twenty": expected a number of lines, or all'],
    [
      ["ps", "-f", "name=web"],
      '--filter is not supported ("name=web"): every entry is listed; select with --format and grep, or --json and jq',
    ],
    [
      ["images", "--filter", "dangling=true"],
      '--filter is not supported ("dangling=true"): every entry is listed; select with --format and grep, or --json and jq',
    ],
    [["run", "-q", "-p", "80", "app:dev"], `Cannot publish port "80": ${NO_PORTS}`],
    [["logs", "-t", "web"], "--timestamps is not supported: the logs record no times, only the output"],
    [
      ["ps", "--format", "{{.Foo}}"],
      'Unknown field ".Foo" in --format: the fields are .Names, .ID, .Image, .Command, .Status, .State, .ExitCode, .CreatedAt',
    ],
    [
      ["ps", "--format", "{{if .Names}}x{{end}}"],
      'Unsupported --format "{{if .Names}}": only {{.Field}} and {{json .}} are understood; use --json for more',
    ],
    [
      ["images", "--format", "{{.Repository | upper}}"],
      'Unsupported --format "{{.Repository | upper}}": only {{.Field}} and {{json .}} are understood; use --json for more',
    ],
    [
      ["login", "127.0.0.1:5000", "--server", "http://127.0.0.1:5000", "-u", "alice", "-p", "x"],
      'Name the server once: "127.0.0.1:5000" or --server "http://127.0.0.1:5000", not both',
    ],
  ];
  for (const [args, message] of cases)
    it(`strata ${args.join(" ")}`, async () => {
      const result = await strata(...args);
      assert.deepEqual(result, { code: 2, stdout: "", stderr: `Error: ${message}\n` });
    });

  it("creates nothing when it refuses", async () => {
    await strata("run", "-p", "80", "app:dev");
    await strata("run", "--rm", "--keep", "app:dev");
    assert.deepEqual(await readdir(data), []);
  });
});

describe("docker habits taken", () => {
  it("ps: -a, -q and --format on no containers", async () => {
    assert.deepEqual(await strata("ps", "-a"), {
      code: 0,
      stdout: "NAME  IMAGE  STATUS  CREATED\n(none)\n",
      stderr: "",
    });
    assert.deepEqual(await strata("ps", "-q"), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await strata("ps", "--format", "table {{.Names}}\\t{{.Status}}"), {
      code: 0,
      stdout: "NAMES  STATUS\n",
      stderr: "",
    });
  });

  it("images: -q, --format and --json on an empty store", async () => {
    assert.deepEqual(await strata("images", "-q"), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await strata("images", "--json"), { code: 0, stdout: "[]\n", stderr: "" });
    assert.deepEqual(
      await strata("images", "--format", "table {{.Repository}}\\t{{.Tag}}\\t{{.CreatedAt}}"),
      {
        code: 0,
        stdout: "REPOSITORY  TAG  CREATED AT\n",
        stderr: "",
      },
    );
  });

  it("rm -v is taken (volumes are host paths and stay)", async () => {
    const result = await strata("rm", "-v", "nosuch");
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'Error: no container "nosuch" (strata ps lists them)\n');
  });
});
