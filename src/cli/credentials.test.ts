// Where credentials are kept, with which permissions, and what takes precedence.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { credentialsFile, loadCredentials, removeCredentials, saveCredentials } from "./credentials.ts";
import { CliError } from "./errors.ts";

const A = "http://127.0.0.1:5000";
const B = "https://registry.example";
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-credentials-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("stored credentials", () => {
  it("live in STRATA_CONFIG_DIR, else XDG_CONFIG_HOME/strata, else HOME/.config/strata", () => {
    const all = { STRATA_CONFIG_DIR: "/c", XDG_CONFIG_HOME: "/x", HOME: "/h" };
    assert.equal(credentialsFile(all), "/c/credentials.json");
    assert.equal(credentialsFile({ ...all, STRATA_CONFIG_DIR: "" }), "/x/strata/credentials.json");
    assert.equal(credentialsFile({ HOME: "/h" }), "/h/.config/strata/credentials.json");
    assert.throws(() => credentialsFile({}), /set STRATA_CONFIG_DIR or HOME/);
  });

  it("are written to a 0600 file in a 0700 directory, one entry per server", async () => {
    const env = { XDG_CONFIG_HOME: join(dir, "xdg") };
    const file = await saveCredentials(env, A, { username: "alice", password: "pw-a" });
    await saveCredentials(env, B, { username: "bob", password: "pw-b" });
    assert.equal(file, join(dir, "xdg", "strata", "credentials.json"));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, "xdg", "strata"))).mode & 0o777, 0o700);
    assert.deepEqual(await loadCredentials(env, A), { username: "alice", password: "pw-a" });
    assert.equal(await loadCredentials(env, "http://elsewhere:5000"), undefined);

    assert.equal(await removeCredentials(env, A), true);
    assert.equal(await removeCredentials(env, A), false);
    assert.equal(await loadCredentials(env, A), undefined);
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, "utf8")) as object), [B]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  it("give way to STRATA_USERNAME and STRATA_PASSWORD when both are set", async () => {
    const env = { STRATA_CONFIG_DIR: join(dir, "env") };
    await saveCredentials(env, A, { username: "alice", password: "pw-a" });
    const both = { ...env, STRATA_USERNAME: "carol", STRATA_PASSWORD: "pw-c" };
    assert.deepEqual(await loadCredentials(both, A), { username: "carol", password: "pw-c" });
    assert.deepEqual(await loadCredentials({ ...env, STRATA_USERNAME: "carol" }, A), {
      username: "alice",
      password: "pw-a",
    });
  });

  it("are none, not an error, when the environment names no place to keep them", async () => {
    assert.equal(await loadCredentials({}, A), undefined);
  });

  it("refuse a damaged file with a message naming it", async () => {
    const env = { STRATA_CONFIG_DIR: join(dir, "bad") };
    await saveCredentials(env, A, { username: "alice", password: "pw-a" });
    for (const text of ["{not json", "[]", '{"http://x":{"username":"a"}}', "null"]) {
      await writeFile(credentialsFile(env), text);
      await assert.rejects(
        loadCredentials(env, A),
        (e: unknown) => e instanceof CliError && e.message.includes(credentialsFile(env)),
        text,
      );
    }
  });
});
