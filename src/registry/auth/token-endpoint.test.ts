// GET /token: credentials, the granted scopes (intersection of requested and allowed), the
// claims of the JWT, and refusals with the spec's error body.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { createAuthenticator } from "./authenticator.ts";
import { basic, PASSWORDS, tempDataDir, testConfig } from "./test-support.ts";
import type { Authenticator } from "./types.ts";

let dataDir = "";
let none: Authenticator;
let read: Authenticator;

before(async () => {
  dataDir = await tempDataDir();
  const config = await testConfig("none");
  none = await createAuthenticator(config, { dataDir });
  read = await createAuthenticator({ ...config, anonymous: "read" }, { dataDir });
});
after(() => rm(dataDir, { recursive: true, force: true }));

const alice = basic("alice", PASSWORDS.alice);
const bob = basic("bob", PASSWORDS.bob);

describe("token grants", () => {
  const cases: {
    name: string;
    auth?: () => Authenticator;
    headers: Record<string, string>;
    scope: string | string[] | undefined;
    sub?: string;
    access: unknown[];
  }[] = [
    {
      name: "alice gets what she asks for where the rules allow it",
      headers: alice,
      scope: ["repository:team/app:pull,push repository:team/a/b:pull", "repository:shared/x/y:*"],
      sub: "alice",
      access: [
        { type: "repository", name: "team/app", actions: ["pull", "push"] },
        { type: "repository", name: "shared/x/y", actions: ["pull", "push", "delete"] },
      ],
    },
    {
      name: "bob asking for push gets pull only",
      headers: bob,
      scope: "repository:team/app:pull,push",
      sub: "bob",
      access: [{ type: "repository", name: "team/app", actions: ["pull"] }],
    },
    {
      name: "bob asking for push only gets nothing, still 200",
      headers: bob,
      scope: "repository:team/app:push",
      sub: "bob",
      access: [],
    },
    {
      name: "scopes for one repository are merged",
      headers: alice,
      scope: ["repository:team/app:pull", "repository:team/app:delete"],
      sub: "alice",
      access: [{ type: "repository", name: "team/app", actions: ["pull", "delete"] }],
    },
    { name: "anonymous without anonymous read", headers: {}, scope: "repository:team/app:pull", access: [] },
    {
      name: "anonymous with anonymous read gets pull",
      auth: () => read,
      headers: {},
      scope: "repository:team/app:pull,push",
      access: [{ type: "repository", name: "team/app", actions: ["pull"] }],
    },
    {
      name: "the catalog for a user",
      headers: bob,
      scope: "registry:catalog:*",
      sub: "bob",
      access: [{ type: "registry", name: "catalog", actions: ["*"] }],
    },
    { name: "no catalog for anonymous callers", headers: {}, scope: "registry:catalog:*", access: [] },
    { name: "no scope at all", headers: alice, scope: undefined, sub: "alice", access: [] },
    {
      name: "unknown resource types and actions are ignored",
      headers: alice,
      scope: "repository(plugin):x:pull repository:team/app:fly",
      sub: "alice",
      access: [],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const auth = c.auth?.() ?? none;
      const before = Math.floor(Date.now() / 1000);
      const res = await auth.token({
        headers: c.headers,
        query: { service: "strata", scope: c.scope, account: "ignored" },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.headers?.["Cache-Control"], "no-store");
      const body = res.body as { token: string; access_token: string; expires_in: number; issued_at: string };
      assert.equal(body.access_token, body.token);
      assert.equal(body.expires_in, 300);
      assert.ok(!Number.isNaN(Date.parse(body.issued_at)));
      const claims = decodeJwt(body.token);
      assert.equal(decodeProtectedHeader(body.token).alg, "HS256");
      assert.equal(claims.iss, "strata");
      assert.equal(claims.aud, "strata");
      assert.equal(claims.sub, c.sub);
      assert.ok((claims.iat ?? 0) >= before);
      assert.equal(claims.nbf, claims.iat);
      assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300);
      assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
      assert.deepEqual(claims.access, c.access);
    });
  }
});

describe("token refusals", () => {
  const cases: {
    name: string;
    headers: Record<string, string>;
    query: Record<string, string | string[]>;
    status: number;
    code: string;
    message: RegExp;
  }[] = [
    {
      name: "wrong password",
      headers: basic("alice", "nope"),
      query: {},
      status: 401,
      code: "UNAUTHORIZED",
      message: /^Invalid username or password$/,
    },
    {
      name: "unknown user",
      headers: basic("eve", "x"),
      query: {},
      status: 401,
      code: "UNAUTHORIZED",
      message: /^Invalid username or password$/,
    },
    {
      name: "malformed credentials",
      headers: { authorization: "Basic %%%" },
      query: {},
      status: 401,
      code: "UNAUTHORIZED",
      message: /^Malformed Authorization header/,
    },
    {
      name: "a bearer token",
      headers: { authorization: "Bearer abc" },
      query: {},
      status: 401,
      code: "UNAUTHORIZED",
      message: /Basic credentials or none/,
    },
    {
      name: "another service",
      headers: alice,
      query: { service: "elsewhere" },
      status: 400,
      code: "UNSUPPORTED",
      message: /^Unknown service "elsewhere": this endpoint issues tokens for "strata"$/,
    },
    {
      name: "a malformed scope",
      headers: alice,
      query: { scope: "repository:team/app" },
      status: 400,
      code: "UNSUPPORTED",
      message: /^Invalid scope "repository:team\/app": expected repository:NAME:ACTIONS$/,
    },
    {
      name: "an invalid repository name",
      headers: alice,
      query: { scope: "repository:Team/App:pull" },
      status: 400,
      code: "UNSUPPORTED",
      message: /^Invalid scope/,
    },
    {
      name: "too many scopes",
      headers: alice,
      query: { scope: Array.from({ length: 65 }, (_, i) => `repository:r${i}:pull`) },
      status: 400,
      code: "UNSUPPORTED",
      message: /^Too many scopes: 65 is over the limit of 64$/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const res = await none.token({ headers: c.headers, query: c.query });
      assert.equal(res.status, c.status);
      const errors = (res.body as { errors: { code: string; message: string }[] }).errors;
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.code, c.code);
      assert.match(errors[0]?.message ?? "", c.message);
      if (c.status === 401) assert.equal(res.headers?.["WWW-Authenticate"], 'Basic realm="strata"');
    });
  }
});

test("an issued token authorizes exactly what it grants", async () => {
  const res = await none.token({ headers: alice, query: { scope: "repository:team/app:pull" } });
  const token = (res.body as { token: string }).token;
  const headers = { authorization: `Bearer ${token}` };
  const baseUrl = "http://localhost:5000";
  assert.deepEqual(
    await none.authorize({ headers, baseUrl }, { repository: "team/app", actions: ["pull"] }),
    { ok: true, user: "alice" },
  );
  const denied = await none.authorize({ headers, baseUrl }, { repository: "team/app", actions: ["push"] });
  assert.equal(denied.ok, false);
});
