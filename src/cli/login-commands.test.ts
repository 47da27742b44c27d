// `strata login` against real in-process servers: checked credentials stored in a file only the
// user can read, a wrong password refused with nothing stored, a server with authentication off.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { authYaml, PASSWORD } from "../../test/helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../test/helpers/in-process.ts";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { runCli } from "./run-cli.ts";

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
  const env = { STRATA_SERVER: server.url, STRATA_CONFIG_DIR: configDir, ...options.env };
  const io = memoryIo(env, options.stdin);
  const code = await runCli(["node", "strata", ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

before(async () => {
  server = await startInProcess({ listen: true, yaml: await authYaml(["alice"]) });
  configDir = await mkdtemp(join(tmpdir(), "strata-login-"));
});
after(async () => {
  await server?.stop();
  await rm(configDir, { recursive: true, force: true });
});

describe("strata login", () => {
  it("refuses a wrong password and stores nothing", async () => {
    const result = await strata(["login", "-u", "alice", "--password-stdin"], { stdin: "wrong\n" });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "Error: Invalid username or password\n");
    await assert.rejects(stat(join(configDir, "credentials.json")), { code: "ENOENT" });
  });

  it("stores checked credentials per server in a file only the user can read", async () => {
    const result = await strata(["login", "--username", "alice", "--password-stdin"], {
      stdin: `${PASSWORD}\n`,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Logged in to http:\/\/127\.0\.0\.1:\d+ as alice \(credentials in /);
    const file = join(configDir, "credentials.json");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    assert.deepEqual(stored, { [server.url]: { username: "alice", password: PASSWORD } });
  });

  it("takes the server as docker does: strata login HOST:PORT, strata logout HOST:PORT", async () => {
    const host = new URL(server.url).host;
    const env = { STRATA_SERVER: "http://127.0.0.1:9", STRATA_CONFIG_DIR: join(configDir, "positional") };
    const login = await strata(["login", host, "-u", "alice", "--password-stdin"], {
      env,
      stdin: `${PASSWORD}\n`,
    });
    assert.equal(login.code, 0, login.stderr);
    const file = join(configDir, "positional", "credentials.json");
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(stored), [server.url]);
    const logout = await strata(["logout", host], { env });
    assert.equal(logout.stdout, `Logged out of ${server.url}\n`);
  });

  it("takes the password exactly one way", async () => {
    const both = await strata(["login", "-u", "alice", "-p", "x", "--password-stdin"]);
    assert.equal(both.code, 2);
    assert.equal(
      both.stderr,
      "Error: Give the password with exactly one of --password and --password-stdin\n",
    );
  });
});

describe("a server with authentication off", () => {
  it("has nothing to log in to, and answers without credentials", async () => {
    const open = await startInProcess({ listen: true });
    try {
      const env = { STRATA_SERVER: open.url, STRATA_CONFIG_DIR: join(configDir, "open") };
      const login = await strata(["login", "-u", "alice", "-p", "x"], { env });
      assert.equal(login.code, 1);
      assert.equal(
        login.stderr,
        `Error: Server ${open.url} has authentication off: there is nothing to log in to\n`,
      );
      await assert.rejects(stat(join(configDir, "open")), { code: "ENOENT" });
      assert.equal((await strata(["gallery", "create", "anon"], { env })).code, 0);
      assert.match((await strata(["gallery", "list"], { env })).stdout, /\nanon +enforce +0\n$/);
    } finally {
      await open.stop();
    }
  });
});
