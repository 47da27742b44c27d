// The token key: created once per data directory with mode 0600, shared by every authenticator
// on that directory (so tokens survive restarts and work across processes), refused when corrupt.
import assert from "node:assert/strict";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { test } from "node:test";
import { createAuthenticator } from "./authenticator.ts";
import { loadTokenKey, tokenKeyPath } from "./token-key.ts";
import { basic, bearer, PASSWORDS, tempDataDir, testConfig } from "./test-support.ts";

test("the key is persisted and shared by authenticators on one data directory", async () => {
  const dataDir = await tempDataDir();
  try {
    const config = await testConfig("none");
    const first = await createAuthenticator(config, { dataDir });
    const file = tokenKeyPath(dataDir);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const saved = await readFile(file, "utf8");

    const res = await first.token({
      headers: basic("alice", PASSWORDS.alice),
      query: { scope: "repository:team/app:pull" },
    });
    const token = (res.body as { token: string }).token;
    const second = await createAuthenticator(config, { dataDir });
    assert.equal(await readFile(file, "utf8"), saved, "the second start reads the same key");
    const result = await second.authorize(
      { headers: bearer(token), baseUrl: "http://x" },
      { repository: "team/app", actions: ["pull"] },
    );
    assert.deepEqual(result, { ok: true, user: "alice" });
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("processes starting together agree on one key", async () => {
  const dataDir = await tempDataDir();
  try {
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadTokenKey(dataDir)));
    for (const key of keys) assert.deepEqual(key, keys[0]);
    assert.equal(keys[0]?.length, 32);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("a corrupt key file is refused with a clear error", async () => {
  const dataDir = await tempDataDir();
  try {
    await loadTokenKey(dataDir);
    await writeFile(tokenKeyPath(dataDir), "short\n");
    await assert.rejects(
      loadTokenKey(dataDir),
      /^Error: Invalid token key ".*token-key": expected 32 or more bytes in base64url; delete the file to generate a new key$/,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
