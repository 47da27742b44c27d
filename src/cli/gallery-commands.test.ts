// The gallery commands against a real in-process server: login and stored credentials, a short
// lifecycle with human and JSON output, usage errors that send nothing, server errors.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { authYaml, galleryApi, PASSWORD, pushImage } from "../../test/helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../test/helpers/in-process.ts";
import { freePort } from "../../test/helpers/ports.ts";
import { CliError } from "./errors.ts";
import { buildProgram, SilentExit } from "./program.ts";

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let server: InProcess;
let configDir: string;

/** Runs `strata …args` in process as main.ts does, with its own output and environment. */
async function strata(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Outcome> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? "");
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const env = { STRATA_SERVER: server.url, STRATA_CONFIG_DIR: configDir, ...options.env };
  let code = 0;
  try {
    await buildProgram({ stdout, stderr, stdin, env }).parseAsync(["node", "strata", ...args]);
  } catch (error) {
    if (!(error instanceof SilentExit)) {
      err += `strata: ${(error as Error).message}\n`;
      code = error instanceof CliError ? error.exitCode : 1;
    }
  }
  return { code, stdout: out, stderr: err };
}

async function ok(args: readonly string[]): Promise<string> {
  const result = await strata(args);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

before(async () => {
  server = await startInProcess({ listen: true, yaml: await authYaml(["alice", "bob"]) });
  configDir = await mkdtemp(join(tmpdir(), "strata-cli-"));
});
after(async () => {
  await server?.stop();
  await rm(configDir, { recursive: true, force: true });
});

describe("strata login", () => {
  it("refuses a wrong password and stores nothing", async () => {
    const result = await strata(["login", "-u", "alice", "--password-stdin"], { stdin: "wrong\n" });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Invalid username or password/);
    await assert.rejects(stat(join(configDir, "credentials.json")), { code: "ENOENT" });
  });

  it("stores checked credentials per server in a file only the user can read", async () => {
    const result = await strata(["login", "-u", "alice", "--password-stdin"], { stdin: `${PASSWORD}\n` });
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /Logged in to http:\/\/127\.0\.0\.1:\d+ as alice/);
    const file = join(configDir, "credentials.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, { username: string }>;
    assert.equal(stored[server.url]?.username, "alice");
  });

  it("takes the password exactly one way", async () => {
    const both = await strata(["login", "-u", "alice", "-p", "x", "--password-stdin"]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /exactly one of --password and --password-stdin/);
  });
});

describe("gallery commands", () => {
  it("run a short lifecycle with tables and JSON", async () => {
    assert.match(
      await ok(["gallery", "create", "cli", "--member", "bob=approver", "--mode", "warn"]),
      /Created gallery cli/,
    );
    const galleries = JSON.parse(await ok(["gallery", "list", "--json"])) as { name: string; mode: string }[];
    assert.deepEqual(
      galleries.map((g) => [g.name, g.mode]),
      [["cli", "warn"]],
    );
    assert.match(await ok(["gallery", "show", "cli"]), /members:\s+alice=admin, bob=approver/);
    assert.match(
      await ok([
        "image",
        "define",
        "cli/web",
        "--kind",
        "vm",
        "--boot-mode",
        "uefi",
        "--vcpus",
        "2",
        "--label",
        "team=web",
      ]),
      /Defined cli\/web \(vm\)/,
    );
    const shown = JSON.parse(await ok(["image", "show", "cli/web", "--json"])) as {
      vm: unknown;
      labels: unknown;
    };
    assert.deepEqual(shown.vm, { bootMode: "uefi", recommendedVcpus: 2 });
    assert.deepEqual(shown.labels, { team: "web" });
    const digest = await pushImage(server.server.app, "builds/cli", "one", "cli-one", { user: "alice" });
    const host = new URL(server.url).host;
    assert.match(
      await ok([
        "version",
        "publish",
        "cli/web",
        "1.0.0",
        "--from",
        `${host}/builds/cli:one`,
        "--changelog",
        "first",
      ]),
      /Published cli\/web:1\.0\.0 \(sha256:/,
    );
    assert.match(
      await ok(["version", "publish", "cli/web:1.0.0", "--from", "builds/cli:one"]),
      /already published with this content/,
    );
    const table = await ok(["version", "list", "cli/web"]);
    assert.match(table, /^VERSION\s+STATE\s+DIGEST/);
    assert.match(table, /\n1\.0\.0\s+published\s+sha256:/);
    const latest = JSON.parse(await ok(["version", "latest", "cli/web", "--json"])) as {
      version: string;
      digest: string;
      changelog: string;
    };
    assert.deepEqual([latest.version, latest.digest, latest.changelog], ["1.0.0", digest, "first"]);
    assert.match(await ok(["channel", "set", "cli/web", "beta", "1.0.0"]), /Moved: beta → 1\.0\.0/);
    assert.match(await ok(["channel", "history", "cli/web", "beta"]), /1\s+set\s+-\s+1\.0\.0\s+alice/);
    assert.match(await ok(["channel", "show", "cli/web"]), /beta\s+1\.0\.0\s+no/);
    assert.match(
      await ok(["version", "set", "cli/web", "1.0.0", "--eol", "2099-01-01"]),
      /eol:\s+2099-01-01T00:00:00\.000Z/,
    );
    assert.match(
      await ok(["audit", "cli", "--action", "version."]),
      /alice\s+version\.updated\s+web:1\.0\.0[\s\S]*version\.published/,
    );
  });

  it("refuse bad local input with exit code 2 and send nothing", async () => {
    const api = galleryApi(server.server.app);
    const state = async () =>
      JSON.stringify(
        (await api("GET", "/galleries/cli/images/web/versions?deleted=true", undefined, "alice")).body,
      );
    const before = await state();
    for (const [args, message] of [
      [["version", "publish", "cliweb", "2.0.0", "--from", "builds/cli:one"], /expected GALLERY\/NAME/],
      [["version", "publish", "cli/web", "2.0.0"], /Missing --from/],
      [["version", "publish", "cli/web"], /Missing version/],
      [["gallery", "create", "x", "--approvals", "two"], /Invalid --approvals "two"/],
      [["version", "revoke", "cli/web", "1.0.0"], /Missing --reason/],
      [["promote", "cli/web@1.0.0"], /Give --channel, --to-gallery or both/],
      [["version", "list", "cli/web", "--server", "ftp://x"], /Invalid server URL/],
    ] as const) {
      const result = await strata(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    assert.equal(await state(), before);
  });

  it("print the server's message and exit 1 on a refused request", async () => {
    const result = await strata(["version", "publish", "cli/web", "1.0", "--from", "builds/cli:one"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Invalid version "1\.0": expected Major\.Minor\.Patch/);
    const asBob = await strata(["version", "delete", "cli/web", "1.0.0", "--force"], {
      env: { STRATA_USERNAME: "bob", STRATA_PASSWORD: PASSWORD },
    });
    assert.equal(asBob.code, 1);
    assert.match(asBob.stderr, /User "bob" is approver in gallery "cli"; this needs the admin role/);
  });

  it("name the server it cannot reach", async () => {
    const port = await freePort();
    const result = await strata(["gallery", "list", "--server", `http://127.0.0.1:${port}`]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`Cannot reach Strata at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`),
    );
  });

  it("forget credentials on logout", async () => {
    assert.match(await ok(["logout"]), /Logged out of/);
    const result = await strata(["gallery", "list"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Authentication required/);
  });
});
