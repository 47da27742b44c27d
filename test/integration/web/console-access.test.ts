// What the console's access slice adds to the server, against a real server on a socket:
// anonymous reads of galleries where `auth.anonymous: read` grants them (every read route the
// console uses, members hidden, audit, usage, approvals and changes still refused, nothing
// changed) and their refusal without it (401, the same answer for a gallery that does not
// exist); manifest and tag deletes with the session cookie (refused without the CSRF token, for
// a user without the delete action and for every other registry write, with nothing deleted);
// what a caller may do on a repository; and a version's signatures verified against its
// gallery's trusted keys with real keys: the gallery's signing key, a trusted key, a key the
// gallery does not know, and the gallery's key over another digest or with its payload changed.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createRegistryEndpoint, RegistryClient } from "../../../src/remote/index.ts";
import { hashPassword } from "../../../src/registry/index.ts";
import {
  attachReferrer,
  bundleReferrer,
  createBundle,
  generateSigningKey,
  publicKeyPem,
  signImage,
  type SigningKey,
} from "../../../src/sign/index.ts";
import { checkDocumented, PASSWORD, pushImage } from "../../helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";
import { openEventStream } from "../../helpers/event-stream.ts";

const gallerySigner = generateSigningKey();
const trustedSigner = generateSigningKey();
const stranger = generateSigningKey();

/**
 * Users alice (every action everywhere), rita (pull only; a reader of the galleries made below)
 * and nora (pull only, a member of nothing); `anonymous` as given.
 */
async function yaml(anonymous: "read" | "none", extra: string[] = []): Promise<string> {
  const hash = await hashPassword(PASSWORD, { logN: 10 });
  return [
    "auth:",
    `  anonymous: ${anonymous}`,
    "  users:",
    `    alice: { password: "${hash}" }`,
    `    rita: { password: "${hash}" }`,
    `    nora: { password: "${hash}" }`,
    "  access:",
    '    - { repositories: ["**"], users: [alice], actions: [pull, push, delete] }',
    '    - { repositories: ["**"], users: [rita, nora], actions: [pull] }',
    ...extra,
    "",
  ].join("\n");
}

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString("base64")}`;

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

async function call(
  server: InProcess,
  method: string,
  path: string,
  options: { user?: string; cookie?: string; csrf?: string; body?: unknown; accept?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.user !== undefined) headers.authorization = basic(options.user);
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.csrf !== undefined) headers["x-csrf-token"] = options.csrf;
  if (options.accept !== undefined) headers.accept = options.accept;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (path.startsWith("/api/v1/") && !path.startsWith("/api/v1/session") && res.status < 300)
    checkDocumented(method, path.slice("/api/v1".length), body);
  return { status: res.status, body, text };
}

async function signIn(server: InProcess, user: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${server.url}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: user, password: PASSWORD }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

/** The read routes the console uses, for gallery `g`. */
const reads = (g: string) => [
  `/galleries/${g}`,
  `/galleries/${g}/keys`,
  `/galleries/${g}/images`,
  `/galleries/${g}/images/web`,
  `/galleries/${g}/images/web/versions`,
  `/galleries/${g}/images/web/latest`,
  `/galleries/${g}/images/web/versions/1.0.0`,
  `/galleries/${g}/images/web/versions/1.0.0/signatures`,
  `/galleries/${g}/images/web/versions/1.0.0/replication`,
  `/galleries/${g}/images/web/channels`,
  `/galleries/${g}/images/web/channels/stable`,
  `/galleries/${g}/images/web/channels/stable/history`,
];

describe("console access: anonymous reads, cookie deletes, signature checks", () => {
  let work: string;
  let open: InProcess;
  let closed: InProcess;
  let client: RegistryClient;
  let demoDigest: string;

  async function sign(repository: string, digest: string, key: SigningKey): Promise<void> {
    await signImage(createRegistryEndpoint(client, repository), digest, key);
  }

  async function seed(server: InProcess): Promise<string> {
    const app = server.server.app;
    const digest = await pushImage(app, "builds/web", "v1", "web-one", { user: "alice" });
    for (const [gallery, description] of [
      ["demo", "signs with its own key"],
      ["trusting", "trusts one key, signs nothing"],
    ] as const) {
      const made = await call(server, "POST", "/api/v1/galleries", {
        user: "alice",
        body: { name: gallery, description, members: { rita: "reader" } },
      });
      assert.equal(made.status, 201, made.text);
      const image = await call(server, "POST", `/api/v1/galleries/${gallery}/images`, {
        user: "alice",
        body: { name: "web", kind: "container" },
      });
      assert.equal(image.status, 201, image.text);
      const version = await call(server, "POST", `/api/v1/galleries/${gallery}/images/web/versions`, {
        user: "alice",
        body: { version: "1.0.0", from: `builds/web@${digest}` },
      });
      assert.equal(version.status, 201, version.text);
      const channel = await call(server, "PUT", `/api/v1/galleries/${gallery}/images/web/channels/stable`, {
        user: "alice",
        body: { version: "1.0.0" },
      });
      assert.equal(channel.status, 200, channel.text);
    }
    return digest;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "strata-console-access-"));
    await writeFile(
      join(work, "demo.key"),
      gallerySigner.privateKey.export({ type: "pkcs8", format: "pem" }),
    );
    await writeFile(join(work, "trusted.pub"), publicKeyPem(trustedSigner.publicKey));
    const signing = [
      "gallery:",
      "  signing:",
      `    demo: { key: ${JSON.stringify(join(work, "demo.key"))} }`,
      `    trusting: { trust: [${JSON.stringify(join(work, "trusted.pub"))}] }`,
    ];
    open = await startInProcess({ listen: true, yaml: await yaml("read", signing) });
    closed = await startInProcess({ listen: true, yaml: await yaml("none") });
    client = new RegistryClient({
      registry: new URL(open.url).host,
      credentials: { username: "alice", password: PASSWORD },
      insecure: true,
    });
    demoDigest = await seed(open);
    await seed(closed);
  });

  after(async () => {
    await open?.stop();
    await closed?.stop();
    await rm(work, { recursive: true, force: true });
  });

  describe("anonymous reads with auth.anonymous: read", () => {
    it("says so in whoami, and answers every read route of the console without credentials", async () => {
      const who = await call(open, "GET", "/api/v1/whoami");
      assert.deepEqual(who.body, { user: null, authentication: true, anonymous: "read" });
      const signedIn = await call(open, "GET", "/api/v1/whoami", { user: "rita" });
      assert.deepEqual(signedIn.body, { user: "rita", authentication: true, anonymous: "read" });
      const list = await call(open, "GET", "/api/v1/galleries");
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(
        list.body.map((g: { name: string; members: object }) => [g.name, g.members]),
        [
          ["demo", {}],
          ["trusting", {}],
        ],
        "every gallery, without its members' names",
      );
      for (const path of reads("demo")) {
        const res = await call(open, "GET", `/api/v1${path}`);
        assert.equal(res.status, 200, `${path}: ${res.text}`);
      }
      const gallery = await call(open, "GET", "/api/v1/galleries/demo");
      assert.deepEqual(gallery.body.members, {});
      // A member still sees the members.
      const asMember = await call(open, "GET", "/api/v1/galleries/demo", { user: "rita" });
      assert.deepEqual(asMember.body.members, { alice: "admin", rita: "reader" });
      // A user who is a member of nothing reads what anonymous callers read, no less.
      const nora = await call(open, "GET", "/api/v1/galleries", { user: "nora" });
      assert.deepEqual(
        nora.body.map((g: { name: string; members: object }) => [g.name, g.members]),
        [
          ["demo", {}],
          ["trusting", {}],
        ],
      );
      const noraVersion = await call(open, "GET", "/api/v1/galleries/demo/images/web/versions/1.0.0", {
        user: "nora",
      });
      assert.equal(noraVersion.status, 200, noraVersion.text);
      const noraAudit = await call(open, "GET", "/api/v1/galleries/demo/audit", { user: "nora" });
      assert.equal(noraAudit.status, 404, "the audit log stays for members");
      // A gallery that does not exist is not found, as for a member.
      const missing = await call(open, "GET", "/api/v1/galleries/nowhere/images");
      assert.equal(missing.status, 404, missing.text);
    });

    it("keeps refusing the audit log, usage, approvals, deliveries and the replication list", async () => {
      for (const path of [
        "/galleries/demo/audit",
        "/usage",
        "/usage?gallery=demo",
        "/requests?gallery=demo",
        "/webhooks/deliveries",
        "/replication",
      ]) {
        const res = await call(open, "GET", `/api/v1${path}`);
        assert.equal(res.status, 401, `${path}: ${res.text}`);
        assert.equal(res.body.errors[0].code, "UNAUTHORIZED");
      }
    });

    it("streams the changes of every gallery to an anonymous reader, as it reads them", async () => {
      const stream = await openEventStream(`${open.url}/api/v1/events`, {});
      try {
        assert.equal((await stream.next())?.event, "ready");
        const changed = await call(open, "PATCH", "/api/v1/galleries/trusting", {
          user: "alice",
          body: { description: "trusts one key, signs nothing" },
        });
        assert.equal(changed.status, 200, changed.text);
        const event = await stream.next();
        assert.equal(event?.event, "change");
        assert.equal((event?.data as { gallery?: string }).gallery, "trusting");
      } finally {
        stream.close();
      }
    });

    it("allows no change to an anonymous caller, and nothing changes", async () => {
      const before = await call(open, "GET", "/api/v1/galleries/demo/audit", { user: "alice" });
      const changes: [string, string, unknown][] = [
        ["POST", "/galleries", { name: "anon" }],
        ["PATCH", "/galleries/demo", { description: "changed" }],
        ["DELETE", "/galleries/demo", undefined],
        ["PUT", "/galleries/demo/members/rita", { role: "admin" }],
        ["POST", "/galleries/demo/images", { name: "anon", kind: "container" }],
        ["PATCH", "/galleries/demo/images/web", { description: "changed" }],
        [
          "POST",
          "/galleries/demo/images/web/versions",
          { version: "9.0.0", from: `builds/web@${demoDigest}` },
        ],
        ["POST", "/galleries/demo/images/web/versions/1.0.0/deprecate", {}],
        ["POST", "/galleries/demo/images/web/versions/1.0.0/revoke", { reason: "anonymous" }],
        ["DELETE", "/galleries/demo/images/web/versions/1.0.0?force=true", undefined],
        ["PUT", "/galleries/demo/images/web/channels/stable", { version: "1.0.0", restricted: true }],
        ["POST", "/galleries/demo/images/web/retention?dryRun=true", {}],
        ["POST", "/galleries/demo/images/web/retention", {}],
        ["POST", "/promotions", { gallery: "demo", image: "web", version: "1.0.0", channel: "stable" }],
      ];
      for (const [method, path, body] of changes) {
        const res = await call(open, method, `/api/v1${path}`, body === undefined ? {} : { body });
        assert.equal(res.status, 401, `${method} ${path}: ${res.text}`);
      }
      const galleries = await call(open, "GET", "/api/v1/galleries", { user: "alice" });
      assert.deepEqual(
        galleries.body.map((g: { name: string; description: string }) => [g.name, g.description]),
        [
          ["demo", "signs with its own key"],
          ["trusting", "trusts one key, signs nothing"],
        ],
      );
      const version = await call(open, "GET", "/api/v1/galleries/demo/images/web/versions/1.0.0", {
        user: "alice",
      });
      assert.equal(version.body.state, "published");
      const channel = await call(open, "GET", "/api/v1/galleries/demo/images/web/channels/stable", {
        user: "alice",
      });
      assert.equal(channel.body.version, "1.0.0");
      const after = await call(open, "GET", "/api/v1/galleries/demo/audit", { user: "alice" });
      assert.deepEqual(after.body, before.body, "no audit entry was written");
    });
  });

  describe("without anonymous reads", () => {
    it("refuses every read route with 401, the same answer for a gallery that does not exist", async () => {
      const who = await call(closed, "GET", "/api/v1/whoami");
      assert.deepEqual(who.body, { user: null, authentication: true, anonymous: "none" });
      const list = await call(closed, "GET", "/api/v1/galleries");
      assert.equal(list.status, 401);
      const existing = reads("demo");
      const missing = reads("nowhere");
      for (const [i, path] of existing.entries()) {
        const there = await call(closed, "GET", `/api/v1${path}`);
        const absent = await call(closed, "GET", `/api/v1${missing[i]}`);
        assert.equal(there.status, 401, `${path}: ${there.text}`);
        assert.deepEqual(
          { status: absent.status, body: absent.body },
          { status: there.status, body: there.body },
        );
      }
      // A user who is not a member is not shown the gallery; a member is.
      const stranger = await call(closed, "GET", "/api/v1/galleries/demo", { user: "nora" });
      assert.equal(stranger.status, 404, stranger.text);
      const asMember = await call(closed, "GET", "/api/v1/galleries/demo/images/web/versions/1.0.0", {
        user: "rita",
      });
      assert.equal(asMember.status, 200, asMember.text);
    });
  });

  describe("manifest and tag deletes with the session cookie", () => {
    const tagsOf = async (repository: string) =>
      (await call(open, "GET", `/v2/${repository}/tags/list`, { user: "alice" })).body.tags as string[];

    it("answers what the caller may do on a repository", async () => {
      const alice = await signIn(open, "alice");
      const rita = await signIn(open, "rita");
      const ask = (cookie?: string) =>
        call(
          open,
          "GET",
          "/api/v1/session/access?repository=tools/app",
          cookie === undefined ? {} : { cookie },
        );
      assert.deepEqual((await ask(alice.cookie)).body, {
        repository: "tools/app",
        user: "alice",
        actions: ["pull", "push", "delete"],
      });
      assert.deepEqual((await ask(rita.cookie)).body, {
        repository: "tools/app",
        user: "rita",
        actions: ["pull"],
      });
      assert.deepEqual((await ask()).body, { repository: "tools/app", user: null, actions: ["pull"] });
      const bad = await call(open, "GET", "/api/v1/session/access?repository=Not..A..Name");
      assert.equal(bad.status, 400, bad.text);
    });

    it("refuses a delete without the CSRF token, by a reader, and every other write; deletes a tag with both", async () => {
      const app = open.server.app;
      const v1 = await pushImage(app, "tools/app", "v1", "tools-one", { user: "alice" });
      await pushImage(app, "tools/app", "v2", "tools-two", { user: "alice" });
      const alice = await signIn(open, "alice");
      const rita = await signIn(open, "rita");
      const tag = "/v2/tools/app/manifests/v1";

      for (const csrf of [undefined, "forged", `${alice.csrf}x`]) {
        const res = await call(open, "DELETE", tag, {
          cookie: alice.cookie,
          ...(csrf === undefined ? {} : { csrf }),
        });
        assert.equal(res.status, 403, res.text);
        assert.match(res.body.errors[0].message, /X-CSRF-Token/i);
      }
      const reader = await call(open, "DELETE", tag, { cookie: rita.cookie, csrf: rita.csrf });
      assert.equal(reader.status, 403, reader.text);
      assert.equal(reader.body.errors[0].code, "DENIED");
      // A session that is gone is nobody: the registry asks for credentials.
      const stale = await call(open, "DELETE", tag, { cookie: "strata_session=gone", csrf: alice.csrf });
      assert.equal(stale.status, 401, stale.text);
      // Other writes with the cookie and a valid token: still credentials only.
      const blob = `/v2/tools/app/blobs/${
        (
          await call(open, "GET", `/v2/tools/app/manifests/${v1}`, {
            user: "alice",
            accept: "application/vnd.oci.image.manifest.v1+json",
          })
        ).body.layers[0].digest
      }`;
      const blobDelete = await call(open, "DELETE", blob, { cookie: alice.cookie, csrf: alice.csrf });
      assert.equal(blobDelete.status, 401, blobDelete.text);
      const upload = await call(open, "POST", "/v2/tools/app/blobs/uploads/", {
        cookie: alice.cookie,
        csrf: alice.csrf,
      });
      assert.equal(upload.status, 401, upload.text);
      const put = await call(open, "PUT", "/v2/tools/app/manifests/v3", {
        cookie: alice.cookie,
        csrf: alice.csrf,
      });
      assert.equal(put.status, 401, put.text);
      assert.deepEqual((await tagsOf("tools/app")).sort(), ["v1", "v2"], "nothing was deleted");
      assert.equal(
        (await call(open, "HEAD", blob, { user: "alice" })).status,
        200,
        "the blob is still there",
      );

      const deleted = await call(open, "DELETE", tag, { cookie: alice.cookie, csrf: alice.csrf });
      assert.equal(deleted.status, 202, deleted.text);
      assert.deepEqual(await tagsOf("tools/app"), ["v2"]);
      // The tag is gone; the manifest it named stays, pullable by its digest.
      const byDigest = await call(open, "GET", `/v2/tools/app/manifests/${v1}`, {
        user: "alice",
        accept: "application/vnd.oci.image.manifest.v1+json",
      });
      assert.equal(byDigest.status, 200, byDigest.text);
      const gone = await call(open, "GET", tag, { user: "alice" });
      assert.equal(gone.status, 404);
      // A gallery version's tag is refused with the cookie as with credentials.
      const version = await call(open, "DELETE", "/v2/demo/web/manifests/1.0.0", {
        cookie: alice.cookie,
        csrf: alice.csrf,
      });
      assert.equal(version.status, 403, version.text);
      assert.match(version.body.errors[0].message, /gallery version/);
      // A delete by digest is taken too.
      const manifest = await call(open, "DELETE", `/v2/tools/app/manifests/${v1}`, {
        cookie: alice.cookie,
        csrf: alice.csrf,
      });
      assert.equal(manifest.status, 202, manifest.text);
    });
  });

  describe("signatures verified against the gallery's keys", () => {
    const check = async (gallery: string) => {
      const res = await call(
        open,
        "GET",
        `/api/v1/galleries/${gallery}/images/web/versions/1.0.0/signatures`,
      );
      assert.equal(res.status, 200, res.text);
      return res.body as {
        digest: string;
        trustedKeys: number;
        verified: boolean;
        signatures: {
          status: string;
          valid: boolean;
          keyId?: string;
          gallerySigningKey?: boolean;
          problem?: string;
        }[];
      };
    };

    it("verifies the gallery's own signature and names its key; an unknown key's is not verified, with why", async () => {
      const signed = await check("demo");
      assert.equal(signed.digest, demoDigest);
      assert.equal(signed.trustedKeys, 1);
      assert.equal(signed.verified, true);
      assert.deepEqual(
        signed.signatures.map((s) => [s.status, s.keyId, s.gallerySigningKey]),
        [["valid", gallerySigner.keyId, true]],
      );
      await sign("demo/web", demoDigest, stranger);
      const both = await check("demo");
      assert.equal(both.verified, true, "one valid signature verifies the version");
      const unknown = both.signatures.find((s) => s.keyId === stranger.keyId);
      assert.ok(unknown, JSON.stringify(both.signatures));
      assert.equal(unknown.status, "untrusted-key");
      assert.equal(unknown.valid, false);
      assert.equal(unknown.gallerySigningKey, undefined);
      assert.match(unknown.problem ?? "", /not among/);
    });

    it("is not verified by an unknown key alone; a trusted key's signature verifies it", async () => {
      const unsigned = await check("trusting");
      assert.deepEqual([unsigned.trustedKeys, unsigned.verified, unsigned.signatures], [1, false, []]);
      await sign("trusting/web", demoDigest, stranger);
      const strangers = await check("trusting");
      assert.equal(strangers.verified, false);
      assert.deepEqual(
        strangers.signatures.map((s) => [s.status, s.keyId]),
        [["untrusted-key", stranger.keyId]],
      );
      await sign("trusting/web", demoDigest, trustedSigner);
      const trusted = await check("trusting");
      assert.equal(trusted.verified, true);
      const valid = trusted.signatures.find((s) => s.valid);
      assert.deepEqual([valid?.keyId, valid?.gallerySigningKey], [trustedSigner.keyId, false]);
    });

    it("says why a signature by the gallery's own key is not valid: changed, or over another digest", async () => {
      const endpoint = createRegistryEndpoint(client, "demo/web");
      const entry = await endpoint.resolve(demoDigest);
      const subject = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
      const other = await pushImage(open.server.app, "builds/other", "v1", "other", { user: "alice" });
      // Made by the gallery's key over another manifest, then attached to this version.
      const moved = createBundle(gallerySigner, { digest: other }, new Date());
      await attachReferrer(endpoint, subject, bundleReferrer(subject, moved, new Date()));
      // Made by the gallery's key over this version, then its signed payload changed.
      const changed = JSON.parse(
        createBundle(gallerySigner, { digest: demoDigest }, new Date()).toString(),
      ) as {
        dsseEnvelope: { payload: string };
      };
      const statement = JSON.parse(Buffer.from(changed.dsseEnvelope.payload, "base64").toString()) as {
        subject: { annotations?: Record<string, string> }[];
      };
      statement.subject[0] = {
        ...statement.subject[0],
        annotations: { "dev.strata.signature.signed-at": "2020-01-01T00:00:00.000Z" },
      };
      changed.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
      await attachReferrer(
        endpoint,
        subject,
        bundleReferrer(subject, Buffer.from(JSON.stringify(changed)), new Date()),
      );
      const result = await check("demo");
      assert.equal(result.verified, true, "the gallery's own signature still verifies the version");
      const byStatus = new Map(result.signatures.map((s) => [s.status, s]));
      assert.equal(byStatus.get("wrong-digest")?.problem, `it signs ${other}, not ${demoDigest}`);
      assert.equal(byStatus.get("wrong-digest")?.keyId, gallerySigner.keyId);
      assert.match(byStatus.get("bad-signature")?.problem ?? "", /the payload or the signature was changed/);
      assert.deepEqual(result.signatures.map((s) => s.status).sort(), [
        "bad-signature",
        "untrusted-key",
        "valid",
        "wrong-digest",
      ]);
    });

    it("is refused to anonymous callers without anonymous reads, like the version itself", async () => {
      const res = await call(closed, "GET", "/api/v1/galleries/demo/images/web/versions/1.0.0/signatures");
      assert.equal(res.status, 401);
      const member = await call(
        closed,
        "GET",
        "/api/v1/galleries/demo/images/web/versions/1.0.0/signatures",
        {
          user: "rita",
        },
      );
      assert.equal(member.status, 200, member.text);
      assert.deepEqual([member.body.trustedKeys, member.body.verified], [0, false]);
    });
  });
});
