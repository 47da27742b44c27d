// The authenticator, table-driven over a configuration with alice and bob, anonymous read off
// and on: Basic and Bearer credentials, challenges, 401 versus 403, the catalog, and auth off.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { createAuthenticator } from "./authenticator.ts";
import { basic, bearer, PASSWORDS, tempDataDir, testConfig } from "./test-support.ts";
import type { AccessRequest, Authenticator } from "./types.ts";

const BASE = "http://127.0.0.1:5000";
const REALM = `Bearer realm="${BASE}/token",service="strata"`;

let dataDir = "";
let otherDir = "";
const auths: Record<"none" | "read" | "future" | "foreign" | "otherService", Authenticator> = {} as never;
const tokens: Record<string, string> = {};

async function tokenFor(
  auth: Authenticator,
  headers: Record<string, string>,
  scope: string,
): Promise<string> {
  const res = await auth.token({ headers, query: { service: "strata", scope } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { token: string }).token;
}

before(async () => {
  dataDir = await tempDataDir();
  otherDir = await tempDataDir();
  const none = await testConfig("none");
  const read = { ...none, anonymous: "read" as const };
  auths.none = await createAuthenticator(none, { dataDir });
  auths.read = await createAuthenticator(read, { dataDir });
  auths.future = await createAuthenticator(none, { dataDir, now: () => Date.now() + 10 * 60_000 });
  auths.foreign = await createAuthenticator(none, { dataDir: otherDir });
  auths.otherService = await createAuthenticator(
    { ...none, token: { ...none.token, service: "other" } },
    { dataDir },
  );
  const alice = basic("alice", PASSWORDS.alice);
  tokens.alicePullPush = await tokenFor(auths.none, alice, "repository:team/app:pull,push");
  tokens.alicePull = await tokenFor(auths.none, alice, "repository:team/app:pull");
  tokens.bobPullPush = await tokenFor(
    auths.none,
    basic("bob", PASSWORDS.bob),
    "repository:team/app:pull,push",
  );
  tokens.anonymous = await tokenFor(auths.none, {}, "repository:team/app:pull");
  tokens.anonymousRead = await tokenFor(auths.read, {}, "repository:team/app:pull");
  tokens.foreign = await tokenFor(auths.foreign, alice, "repository:team/app:pull,push");
  const otherRes = await auths.otherService.token({
    headers: alice,
    query: { scope: "repository:team/app:pull" },
  });
  tokens.otherService = (otherRes.body as { token: string }).token;
});
after(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(otherDir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly auth?: keyof typeof auths;
  readonly headers: () => Record<string, string>;
  readonly access: AccessRequest;
  /** 200 = ok. */
  readonly status: 200 | 401 | 403;
  readonly user?: string;
  readonly challenge?: string;
  readonly message?: RegExp;
}

const anon = (): Record<string, string> => ({});
const alice = (): Record<string, string> => basic("alice", PASSWORDS.alice);
const bob = (): Record<string, string> => basic("bob", PASSWORDS.bob);
const ping: AccessRequest = { actions: [] };
const catalog: AccessRequest = { actions: [], catalog: true };
const pull = (repository: string): AccessRequest => ({ repository, actions: ["pull"] });
const push = (repository: string): AccessRequest => ({ repository, actions: ["pull", "push"] });

const cases: Case[] = [
  // No credentials.
  {
    name: "anonymous ping",
    headers: anon,
    access: ping,
    status: 401,
    challenge: REALM,
    message: /^Authentication required$/,
  },
  {
    name: "anonymous ping, read on",
    auth: "read",
    headers: anon,
    access: ping,
    status: 401,
    challenge: REALM,
  },
  {
    name: "anonymous pull",
    headers: anon,
    access: pull("team/app"),
    status: 401,
    challenge: `${REALM},scope="repository:team/app:pull"`,
  },
  { name: "anonymous pull, read on", auth: "read", headers: anon, access: pull("team/app"), status: 200 },
  {
    name: "anonymous push, read on",
    auth: "read",
    headers: anon,
    access: push("team/app"),
    status: 401,
    challenge: `${REALM},scope="repository:team/app:pull,push"`,
  },
  { name: "anonymous catalog", headers: anon, access: catalog, status: 401, challenge: REALM },
  { name: "anonymous catalog, read on", auth: "read", headers: anon, access: catalog, status: 200 },
  // Basic.
  { name: "alice ping", headers: alice, access: ping, status: 200, user: "alice" },
  { name: "alice push team/app", headers: alice, access: push("team/app"), status: 200, user: "alice" },
  {
    name: "alice delete team/app",
    headers: alice,
    access: { repository: "team/app", actions: ["delete"] },
    status: 200,
    user: "alice",
  },
  { name: "alice pull shared/a/b", headers: alice, access: pull("shared/a/b"), status: 200, user: "alice" },
  {
    name: "alice push team/a/b (* is one component)",
    headers: alice,
    access: push("team/a/b"),
    status: 403,
    message: /^User "alice" lacks "pull", "push" access to "team\/a\/b"$/,
  },
  {
    name: "alice pull elsewhere, read on",
    auth: "read",
    headers: alice,
    access: pull("other/x"),
    status: 200,
    user: "alice",
  },
  { name: "bob pull team/app", headers: bob, access: pull("team/app"), status: 200, user: "bob" },
  {
    name: "bob push team/app",
    headers: bob,
    access: push("team/app"),
    status: 403,
    message: /lacks "push" access to "team\/app"/,
  },
  { name: "bob catalog", headers: bob, access: catalog, status: 200, user: "bob" },
  {
    name: "wrong password",
    headers: () => basic("alice", "nope"),
    access: pull("team/app"),
    status: 401,
    challenge: `${REALM},scope="repository:team/app:pull"`,
    message: /^Invalid username or password$/,
  },
  {
    name: "wrong password, read on",
    auth: "read",
    headers: () => basic("alice", "nope"),
    access: pull("team/app"),
    status: 401,
  },
  { name: "unknown user", headers: () => basic("mallory", PASSWORDS.alice), access: ping, status: 401 },
  {
    name: "another user's password",
    headers: () => basic("bob", PASSWORDS.alice),
    access: ping,
    status: 401,
  },
  {
    name: "malformed Basic",
    headers: () => ({ authorization: "Basic bm9jb2xvbg==" }),
    access: ping,
    status: 401,
    message: /^Malformed Authorization header: expected user:password$/,
  },
  {
    name: "unsupported scheme",
    headers: () => ({ authorization: "Negotiate abc" }),
    access: ping,
    status: 401,
  },
  // Bearer.
  {
    name: "token ping",
    headers: () => bearer(tokens.alicePull ?? ""),
    access: ping,
    status: 200,
    user: "alice",
  },
  {
    name: "token with pull,push pushes",
    headers: () => bearer(tokens.alicePullPush ?? ""),
    access: push("team/app"),
    status: 200,
    user: "alice",
  },
  {
    name: "token with pull only cannot push",
    headers: () => bearer(tokens.alicePull ?? ""),
    access: push("team/app"),
    status: 401,
    challenge: `${REALM},scope="repository:team/app:pull,push",error="insufficient_scope"`,
    message: /^Bearer token does not grant "push" access to "team\/app"$/,
  },
  {
    name: "token for another repository",
    headers: () => bearer(tokens.alicePullPush ?? ""),
    access: pull("team/other"),
    status: 401,
    challenge: `${REALM},scope="repository:team/other:pull",error="insufficient_scope"`,
  },
  {
    name: "token of a user without the right",
    headers: () => bearer(tokens.bobPullPush ?? ""),
    access: push("team/app"),
    status: 403,
    message: /^User "bob" lacks "push" access to "team\/app"$/,
  },
  {
    name: "bob's token pulls",
    headers: () => bearer(tokens.bobPullPush ?? ""),
    access: pull("team/app"),
    status: 200,
    user: "bob",
  },
  {
    name: "anonymous token, read off",
    headers: () => bearer(tokens.anonymous ?? ""),
    access: pull("team/app"),
    status: 401,
  },
  {
    name: "anonymous token, read on",
    auth: "read",
    headers: () => bearer(tokens.anonymousRead ?? ""),
    access: pull("team/app"),
    status: 200,
  },
  {
    name: "expired token",
    auth: "future",
    headers: () => bearer(tokens.alicePullPush ?? ""),
    access: pull("team/app"),
    status: 401,
    message: /^Invalid bearer token: token expired$/,
    challenge: `${REALM},scope="repository:team/app:pull",error="invalid_token"`,
  },
  {
    name: "token signed with another key",
    headers: () => bearer(tokens.foreign ?? ""),
    access: pull("team/app"),
    status: 401,
    message: /^Invalid bearer token: token signature does not verify$/,
  },
  {
    name: "token for another service",
    headers: () => bearer(tokens.otherService ?? ""),
    access: pull("team/app"),
    status: 401,
    message: /^Invalid bearer token: token is not for service "strata"$/,
  },
  {
    name: "garbage token",
    headers: () => bearer("abc.def.ghi"),
    access: ping,
    status: 401,
    message: /^Invalid bearer token: malformed token$/,
  },
];

describe("authorize", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const auth = auths[c.auth ?? "none"];
      const result = await auth.authorize({ headers: c.headers(), baseUrl: BASE }, c.access);
      if (c.status === 200) {
        assert.deepEqual(result, c.user === undefined ? { ok: true } : { ok: true, user: c.user });
        return;
      }
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.status, c.status);
      assert.equal(result.code, c.status === 401 ? "UNAUTHORIZED" : "DENIED");
      if (c.status === 401) assert.match(result.headers["WWW-Authenticate"] ?? "", /^Bearer realm="/);
      else assert.deepEqual(result.headers, {});
      if (c.challenge !== undefined) assert.equal(result.headers["WWW-Authenticate"], c.challenge);
      if (c.message !== undefined) assert.match(result.message, c.message);
    });
  }
});

test("canPull filters by the same rules", async () => {
  assert.equal(await auths.none.canPull("alice", "team/app"), true);
  assert.equal(await auths.none.canPull("alice", "team/a/b"), false);
  assert.equal(await auths.none.canPull("bob", "shared/x"), false);
  assert.equal(await auths.none.canPull(undefined, "team/app"), false);
  assert.equal(await auths.read.canPull(undefined, "team/app"), true);
});

test("a configured realm replaces the request's base URL", async () => {
  const config = await testConfig("none");
  const auth = await createAuthenticator(
    { ...config, token: { ...config.token, realm: "https://registry.example/token" } },
    { dataDir },
  );
  const result = await auth.authorize({ headers: {}, baseUrl: BASE }, ping);
  assert.equal(
    !result.ok && result.headers["WWW-Authenticate"],
    'Bearer realm="https://registry.example/token",service="strata"',
  );
});

test("with no users auth is off and everything is allowed", async () => {
  const dir = await tempDataDir();
  try {
    const config = await testConfig("none");
    const auth = await createAuthenticator({ ...config, users: {}, access: [] }, { dataDir: dir });
    assert.equal(auth.enabled, false);
    assert.deepEqual(await auth.authorize({ headers: {}, baseUrl: BASE }, push("any/thing")), { ok: true });
    assert.deepEqual(await auth.authorize({ headers: { authorization: "junk" }, baseUrl: BASE }, catalog), {
      ok: true,
    });
    assert.equal(await auth.canPull(undefined, "any/thing"), true);
    assert.equal((await auth.token({ headers: {}, query: {} })).status, 404);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an invalid configuration is refused", async () => {
  const config = await testConfig("none");
  await assert.rejects(
    createAuthenticator({ ...config, users: { alice: { password: "plain" } } }, { dataDir }),
    /^Error: Invalid auth configuration: auth\.users\.alice\.password: expected a scrypt hash/,
  );
});
