// Authentication with a real client: skopeo pushes with a configured user's password, and is
// turned away without credentials, with a wrong password, or without a grant; with anonymous
// read on, anyone can pull but nobody anonymous can push.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runOk } from "../helpers/exec.ts";
import { randomImage, sha256, writeOciLayout, type TestImage } from "../helpers/images.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";
import { skopeo, skopeoOk, tempDir } from "./support.ts";

const BIN = new URL("../../bin/strata.js", import.meta.url).pathname;
const AUTH_FAILURE = /unauthorized|authentication required|invalid username\/password/i;
// A refusal after authentication: DENIED, insufficient scope, or a bare 403 on a HEAD request.
const DENIED = /denied|unauthorized|authentication required|insufficient|403 \(Forbidden\)/i;

async function hashPassword(password: string): Promise<string> {
  const result = await runOk(process.execPath, [BIN, "hash-password"], {
    input: `${password}\n`,
    timeoutMs: 30_000,
  });
  return result.stdout.trim();
}

function authConfig(anonymous: "none" | "read", hashes: { alice: string; bob: string }): string {
  return [
    "auth:",
    `  anonymous: ${anonymous}`,
    "  users:",
    "    alice:",
    `      password: ${JSON.stringify(hashes.alice)}`,
    "    bob:",
    `      password: ${JSON.stringify(hashes.bob)}`,
    "  access:",
    '    - repositories: ["team/*"]',
    '      users: ["alice"]',
    "      actions: [pull, push, delete]",
    "",
  ].join("\n");
}

let closed: RunningStrata;
let open: RunningStrata;
let work: Awaited<ReturnType<typeof tempDir>>;
let image: TestImage;
let src: string;

before(async () => {
  const hashes = { alice: await hashPassword("secret"), bob: await hashPassword("hunter2") };
  closed = await startStrata({ config: authConfig("none", hashes) });
  open = await startStrata({ config: authConfig("read", hashes) });
  work = await tempDir("auth");
  image = await randomImage({ seed: 5, layers: 2, size: 16 * 1024 });
  src = `oci:${join(work.path, "src")}:v1`;
  await writeOciLayout(join(work.path, "src"), [image], { tags: ["v1"] });
});
after(async () => {
  await Promise.all([closed?.stop(), open?.stop()]);
  await work?.remove();
});

function push(host: string, repo: string, creds?: string) {
  const auth = creds === undefined ? ["--dest-no-creds"] : ["--dest-creds", creds];
  return skopeo(["copy", "--dest-tls-verify=false", ...auth, src, `docker://${host}/${repo}:v1`]);
}

function inspect(host: string, repo: string, creds?: string) {
  const auth = creds === undefined ? ["--no-creds"] : ["--creds", creds];
  return skopeo(["inspect", "--tls-verify=false", "--raw", ...auth, `docker://${host}/${repo}:v1`]);
}

describe("authentication (anonymous: none)", () => {
  it("lets a user with a grant push and pull", async () => {
    await skopeoOk([
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      "alice:secret",
      src,
      `docker://${closed.host}/team/app:v1`,
    ]);
    const result = await inspect(closed.host, "team/app", "alice:secret");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sha256(result.stdout), image.manifestDigest);
  });

  it("refuses a push and a pull without credentials", async () => {
    const pushed = await push(closed.host, "team/anon");
    assert.notEqual(pushed.code, 0);
    assert.match(pushed.stderr, AUTH_FAILURE);
    const pulled = await inspect(closed.host, "team/app");
    assert.notEqual(pulled.code, 0);
    assert.match(pulled.stderr, AUTH_FAILURE);
  });

  it("refuses a wrong password", async () => {
    const result = await push(closed.host, "team/wrong", "alice:not-the-password");
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, AUTH_FAILURE);
    const unknownUser = await push(closed.host, "team/wrong", "mallory:secret");
    assert.notEqual(unknownUser.code, 0);
    assert.match(unknownUser.stderr, AUTH_FAILURE);
  });

  it("refuses a push by a user without a grant on the repository", async () => {
    const result = await push(closed.host, "team/bob", "bob:hunter2");
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, DENIED);
  });
});

describe("authentication (anonymous: read)", () => {
  before(async () => {
    await skopeoOk([
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      "alice:secret",
      src,
      `docker://${open.host}/team/app:v1`,
    ]);
  });

  it("lets anyone pull", async () => {
    const result = await inspect(open.host, "team/app");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sha256(result.stdout), image.manifestDigest);
  });

  it("refuses an anonymous push", async () => {
    const result = await push(open.host, "team/anon");
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, DENIED);
    const after = await inspect(open.host, "team/anon");
    assert.notEqual(after.code, 0, "nothing was stored");
  });
});
