// The web console's server side, in-process: sessions (sign-in, cookie flags, sign-out), the
// CSRF rule for cookie-authenticated changes, the cookie as identity for the API, the static
// files with their security headers, index.html for client routes, and the paths the console
// must never take (registry, API, /token, /metrics).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InjectOptions } from "fastify";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";
import { authYaml, basic, PASSWORD } from "../../helpers/gallery.ts";

const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head></html>';

describe("web console server", () => {
  let server: InProcess;
  let bare: InProcess;
  let web: string;
  before(async () => {
    web = await mkdtemp(join(tmpdir(), "strata-web-"));
    await mkdir(join(web, "assets"));
    await writeFile(join(web, "index.html"), INDEX);
    await writeFile(join(web, "assets", "app-abc123.js"), "console.log(1)");
    await writeFile(join(web, "favicon.svg"), "<svg/>");
    server = await startInProcess({ yaml: await authYaml(["alice", "carol"]), webRoot: web });
    bare = await startInProcess({ webRoot: join(web, "missing") });
  });
  after(async () => {
    await server.stop();
    await bare.stop();
    await rm(web, { recursive: true, force: true });
  });
  const inject = (opts: InjectOptions) => server.server.app.inject(opts);

  async function signIn(user: string) {
    const res = await inject({
      method: "POST",
      url: "/api/v1/session",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ username: user, password: PASSWORD }),
    });
    assert.equal(res.statusCode, 201, res.body);
    const setCookie = String(res.headers["set-cookie"]);
    const cookie = setCookie.split(";")[0] ?? "";
    return { cookie, setCookie, csrf: (JSON.parse(res.body) as { csrfToken: string }).csrfToken };
  }

  it("signs in with a configured user's password and sets a strict, HttpOnly, expiring cookie", async () => {
    const { setCookie, cookie, csrf } = await signIn("carol");
    assert.match(setCookie, /^strata_session=[A-Za-z0-9_-]{40,};/);
    for (const flag of ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"]) {
      assert.ok(setCookie.includes(flag), `${flag} in ${setCookie}`);
    }
    assert.ok(!setCookie.includes("Secure"), "no Secure flag over plain HTTP");
    const me = await inject({ method: "GET", url: "/api/v1/session", headers: { cookie } });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(
      { ...JSON.parse(me.body), expiresAt: undefined },
      { user: "carol", csrfToken: csrf, expiresAt: undefined },
    );
    const whoami = await inject({ method: "GET", url: "/api/v1/whoami", headers: { cookie } });
    assert.equal(JSON.parse(whoami.body).user, "carol");
  });

  it("refuses a wrong password or an unknown user with 401 and a clear message, setting no cookie", async () => {
    for (const body of [
      { username: "carol", password: "wrong" },
      { username: "mallory", password: PASSWORD },
    ]) {
      const res = await inject({
        method: "POST",
        url: "/api/v1/session",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(body),
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.headers["set-cookie"], undefined);
      assert.equal(JSON.parse(res.body).errors[0].message, "Wrong user name or password");
    }
    const malformed = await inject({
      method: "POST",
      url: "/api/v1/session",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    assert.equal(malformed.statusCode, 400);
    // A cross-site form can send text/plain without a preflight: not accepted.
    const form = await inject({
      method: "POST",
      url: "/api/v1/session",
      headers: { "content-type": "text/plain" },
      payload: JSON.stringify({ username: "carol", password: PASSWORD }),
    });
    assert.equal(form.statusCode, 400);
    assert.equal(form.headers["set-cookie"], undefined);
    assert.match(JSON.parse(malformed.body).errors[0].message, /^Invalid JSON body/);
  });

  it("requires the CSRF token on cookie-authenticated changes and changes nothing without it", async () => {
    const { cookie, csrf } = await signIn("alice");
    const create = (headers: Record<string, string>) =>
      inject({
        method: "POST",
        url: "/api/v1/galleries",
        headers: { "content-type": "application/json", cookie, ...headers },
        payload: JSON.stringify({ name: "csrf-test" }),
      });
    for (const headers of [{}, { "x-csrf-token": "forged" }, { "x-csrf-token": `${csrf}x` }]) {
      const refused = await create(headers);
      assert.equal(refused.statusCode, 403);
      assert.match(JSON.parse(refused.body).errors[0].message, /x-csrf-token/);
    }
    const list = await inject({ method: "GET", url: "/api/v1/galleries", headers: { cookie } });
    assert.deepEqual(JSON.parse(list.body), []);
    const accepted = await create({ "x-csrf-token": csrf });
    assert.equal(accepted.statusCode, 201, accepted.body);
    assert.equal(JSON.parse(accepted.body).createdBy, "alice");
    // Basic credentials are not affected, even next to a cookie.
    const withBasic = await inject({
      method: "PATCH",
      url: "/api/v1/galleries/csrf-test",
      headers: { "content-type": "application/json", cookie, authorization: basic("alice") },
      payload: JSON.stringify({ description: "by basic" }),
    });
    assert.equal(withBasic.statusCode, 200, withBasic.body);
    // The registry is guarded too.
    const upload = await inject({ method: "POST", url: "/v2/x/blobs/uploads/", headers: { cookie } });
    assert.equal(upload.statusCode, 403);
  });

  it("accepts the session cookie for registry reads, not for pushes", async () => {
    const { cookie, csrf } = await signIn("carol");
    const base = await inject({ method: "GET", url: "/v2/", headers: { cookie } });
    assert.equal(base.statusCode, 200, base.body);
    const catalog = await inject({ method: "GET", url: "/v2/_catalog", headers: { cookie } });
    assert.equal(catalog.statusCode, 200, catalog.body);
    const tags = await inject({ method: "GET", url: "/v2/team/app/tags/list", headers: { cookie } });
    assert.equal(tags.statusCode, 404, tags.body); // allowed, and there is no such repository
    const anonymous = await inject({ method: "GET", url: "/v2/_catalog" });
    assert.equal(anonymous.statusCode, 401);
    const push = await inject({
      method: "POST",
      url: "/v2/team/app/blobs/uploads/",
      headers: { cookie, "x-csrf-token": csrf },
    });
    assert.equal(push.statusCode, 401, push.body);
  });

  it("signs out: the session is gone and the cookie cleared", async () => {
    const { cookie, csrf } = await signIn("carol");
    const noToken = await inject({ method: "DELETE", url: "/api/v1/session", headers: { cookie } });
    assert.equal(noToken.statusCode, 403);
    const out = await inject({
      method: "DELETE",
      url: "/api/v1/session",
      headers: { cookie, "x-csrf-token": csrf },
    });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers["set-cookie"]), /^strata_session=; .*Max-Age=0/);
    const me = await inject({ method: "GET", url: "/api/v1/session", headers: { cookie } });
    assert.equal(me.statusCode, 401);
    // No Basic challenge: it would open the browser's own password prompt over the console.
    assert.equal(me.headers["www-authenticate"], undefined);
    const fromConsole = await inject({
      method: "GET",
      url: "/api/v1/galleries/none",
      headers: { "x-requested-with": "strata-console" },
    });
    assert.equal(fromConsole.statusCode, 401);
    assert.equal(fromConsole.headers["www-authenticate"], undefined);
    const fromClient = await inject({ method: "GET", url: "/api/v1/galleries/none" });
    assert.equal(fromClient.headers["www-authenticate"], 'Basic realm="strata"');
    const whoami = await inject({ method: "GET", url: "/api/v1/whoami", headers: { cookie } });
    assert.equal(JSON.parse(whoami.body).user, null);
  });

  const HEADERS = {
    "content-security-policy":
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
  const table: { url: string; status: number; type?: RegExp; body?: string | RegExp; cache?: string }[] = [
    { url: "/", status: 200, type: /^text\/html/, body: INDEX, cache: "no-cache" },
    { url: "/galleries/demo/images/web/versions/1.2.3", status: 200, type: /^text\/html/, body: INDEX },
    { url: "/approvals?state=pending", status: 200, body: INDEX },
    {
      url: "/assets/app-abc123.js",
      status: 200,
      type: /^text\/javascript/,
      body: "console.log(1)",
      cache: "public, max-age=31536000, immutable",
    },
    { url: "/favicon.svg", status: 200, type: /^image\/svg\+xml/, cache: "no-cache" },
    { url: "/assets/missing-123.js", status: 404, body: "Not found\n" },
    { url: "/assets/..%2f..%2fpackage.json", status: 404 },
    { url: "/..%2f..%2fetc%2fpasswd", status: 200, body: INDEX },
  ];
  for (const row of table) {
    it(`GET ${row.url} → ${row.status} with the console's security headers`, async () => {
      const res = await inject({ method: "GET", url: row.url });
      assert.equal(res.statusCode, row.status, res.body);
      for (const [name, value] of Object.entries(HEADERS)) assert.equal(res.headers[name], value, name);
      if (row.type !== undefined) assert.match(String(res.headers["content-type"]), row.type);
      if (typeof row.body === "string") assert.equal(res.body, row.body);
      if (row.cache !== undefined) assert.equal(res.headers["cache-control"], row.cache);
    });
  }

  it("leaves the registry, the API, /token and /metrics to their own handlers", async () => {
    const cases = [
      { url: "/v2/nothing/here", status: 404, json: true },
      { url: "/api/v1/nothing", status: 404, json: true },
      { url: "/api", status: 404, json: true },
      { url: "/metrics", status: 200, json: false },
    ];
    for (const c of cases) {
      const res = await inject({ method: "GET", url: c.url });
      assert.equal(res.statusCode, c.status, `${c.url}: ${res.body}`);
      assert.equal(res.headers["content-security-policy"], undefined, c.url);
      if (c.json) assert.ok(Array.isArray(JSON.parse(res.body).errors), c.url);
    }
    const post = await inject({ method: "POST", url: "/" });
    assert.equal(post.statusCode, 404);
  });

  it("answers a plain-text note when the console is not built", async () => {
    const res = await bare.server.app.inject({ method: "GET", url: "/" });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/plain/);
    assert.match(res.body, /not built.*npm run web:build/);
    assert.equal(res.headers["x-frame-options"], "DENY");
  });

  it("refuses sign-in when authentication is off", async () => {
    const res = await bare.server.app.inject({
      method: "POST",
      url: "/api/v1/session",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ username: "a", password: "b" }),
    });
    assert.equal(res.statusCode, 409);
    assert.match(JSON.parse(res.body).errors[0].message, /Authentication is off/);
  });
});
