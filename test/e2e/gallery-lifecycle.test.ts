// The gallery's whole lifecycle over real HTTP, driven through the `strata` binary by three
// users, with real clients on the pull path: skopeo and podman receive the deprecation warning
// and are refused revoked versions, runc runs what a channel resolves to, and a webhook receiver
// gets every event with a valid signature.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run, runOk, type RunResult } from "../helpers/exec.ts";
import { writeOciLayout } from "../helpers/images.ts";
import { startRecordingProxy, type RecordingProxy } from "../helpers/recording-proxy.ts";
import { buildReleaseImage } from "../helpers/release-images.ts";
import { startStrata, type RunningStrata } from "../helpers/strata-server.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../helpers/webhook-receiver.ts";
import { copy, podman as podmanIn, skopeo, skopeoOk, tempDir } from "./support.ts";

const BIN = new URL("../../bin/strata.js", import.meta.url).pathname;
const SECRET = "e2e-webhook-secret";
const PASSWORDS = { alice: "alice-pass", bob: "bob-pass", carol: "carol-pass" } as const;
type User = keyof typeof PASSWORDS;

let server: RunningStrata;
let hooks: WebhookReceiver;
let proxy: RecordingProxy;
let work: Awaited<ReturnType<typeof tempDir>>;
const digests: Record<string, string> = {};

async function hash(password: string): Promise<string> {
  return (
    await runOk(process.execPath, [BIN, "hash-password"], { input: `${password}\n`, timeoutMs: 30_000 })
  ).stdout.trim();
}

/** Runs the strata binary as `user` (credentials stored by `strata login` in the user's folder). */
function strata(user: User, args: readonly string[], input?: string): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], {
    env: { STRATA_SERVER: server.url, STRATA_CONFIG_DIR: join(work.path, `config-${user}`) },
    timeoutMs: 60_000,
    ...(input === undefined ? {} : { input }),
  });
}

async function strataOk(user: User, args: readonly string[]): Promise<string> {
  const result = await strata(user, args);
  assert.equal(result.code, 0, `strata ${args.join(" ")} as ${user}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed API answers, checked field by field
async function strataJson(user: User, args: readonly string[]): Promise<any> {
  return JSON.parse(await strataOk(user, [...args, "--json"])) as unknown;
}

const creds = ["--creds", `carol:${PASSWORDS.carol}`];
const inspect = (host: string, ref: string) =>
  skopeo(["inspect", "--tls-verify=false", ...creds, `docker://${host}/${ref}`]);
const digestOf = async (ref: string) =>
  JSON.parse(
    (await skopeoOk(["inspect", "--tls-verify=false", ...creds, `docker://${server.host}/${ref}`])).stdout,
  ).Digest as string;

const podman = (args: readonly string[]): Promise<RunResult> => podmanIn(work.path, args);

before(async () => {
  work = await tempDir("gallery-e2e");
  hooks = await startWebhookReceiver();
  const users = await Promise.all(
    Object.entries(PASSWORDS).map(
      async ([u, p]) => `    ${u}: { password: ${JSON.stringify(await hash(p))} }`,
    ),
  );
  server = await startStrata({
    config: [
      "auth:",
      "  users:",
      ...users,
      "  access:",
      '    - { repositories: ["builds/**"], users: ["*"], actions: [pull, push] }',
      "gallery:",
      "  webhooks:",
      `    ci: { url: ${JSON.stringify(hooks.url)}, secret: ${JSON.stringify(SECRET)} }`,
      "  delivery: { backoff: 100ms }",
      "",
    ].join("\n"),
  });
  proxy = await startRecordingProxy(server.url);
  // Three releases of web, pushed by CI (carol) to a build repository with skopeo.
  const layout = join(work.path, "layout");
  const releases = await Promise.all(
    ["web 1.0.0", "web 1.1.0", "web 1.2.0"].map((r) => buildReleaseImage(r)),
  );
  await writeOciLayout(layout, releases, { tags: ["v1", "v2", "v3"] });
  for (const tag of ["v1", "v2", "v3"]) {
    await copy(`oci:${layout}:${tag}`, `docker://${server.host}/builds/web:${tag}`, [
      "--dest-creds",
      `carol:${PASSWORDS.carol}`,
    ]);
  }
  releases.forEach((image, i) => (digests[`v${i + 1}`] = image.manifestDigest));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
  await hooks?.close();
  await work?.remove();
});

describe("gallery lifecycle through the CLI, skopeo, podman and runc", () => {
  it("logs in each user, refusing a wrong password", async () => {
    const wrong = await strata("alice", ["login", "--username", "alice", "--password-stdin"], "nope\n");
    assert.equal(wrong.code, 1);
    for (const user of Object.keys(PASSWORDS) as User[]) {
      const result = await strata(
        user,
        ["login", "--username", user, "--password-stdin"],
        `${PASSWORDS[user]}\n`,
      );
      assert.equal(result.code, 0, result.stderr);
    }
  });

  it("defines an image and publishes three versions; latest is the highest", async () => {
    await strataOk("alice", [
      "gallery",
      "create",
      "prod",
      "--member",
      "bob=approver",
      "--member",
      "carol=publisher",
    ]);
    await strataOk("alice", ["gallery", "create", "test", "--member", "carol=publisher"]);
    const defined = await strataJson("carol", [
      "image",
      "define",
      "prod/web",
      "--kind",
      "container",
      "--os",
      "linux",
      "--arch",
      "amd64",
    ]);
    assert.equal(defined.repository, "prod/web");
    for (const [version, tag] of [
      ["1.0.0", "v1"],
      ["1.1.0", "v2"],
      ["1.2.0", "v3"],
    ] as const) {
      const published = await strataJson("carol", [
        "version",
        "publish",
        "prod/web",
        version,
        "--from",
        `builds/web:${tag}`,
        "--changelog",
        `release ${version}`,
      ]);
      assert.equal(published.digest, digests[tag]);
    }
    const list = await strataOk("carol", ["version", "list", "prod/web"]);
    assert.match(list, /1\.2\.0[\s\S]*1\.1\.0[\s\S]*1\.0\.0/);
    assert.equal((await strataJson("carol", ["version", "latest", "prod/web"])).version, "1.2.0");
    assert.equal(await digestOf("prod/web:latest"), digests.v3);
    assert.equal(await digestOf("prod/web:1.0.0"), digests.v1);
    // A version tag is immutable: skopeo cannot move it.
    const moved = await skopeo([
      "copy",
      "--src-tls-verify=false",
      "--dest-tls-verify=false",
      ...["--src-creds", `carol:${PASSWORDS.carol}`, "--dest-creds", `carol:${PASSWORDS.carol}`],
      `docker://${server.host}/builds/web:v2`,
      `docker://${server.host}/prod/web:1.0.0`,
    ]);
    assert.notEqual(moved.code, 0);
    assert.match(moved.stderr, /denied: Version prod\/web:1\.0\.0 is immutable/);
    assert.equal(await digestOf("prod/web:1.0.0"), digests.v1);
  });

  it("sets a channel and rolls it back", async () => {
    await strataOk("carol", ["channel", "set", "prod/web", "staging", "1.0.0"]);
    await strataOk("carol", ["channel", "set", "prod/web", "staging", "1.1.0"]);
    assert.equal(await digestOf("prod/web:staging"), digests.v2);
    await strataOk("carol", ["channel", "rollback", "prod/web", "staging"]);
    assert.equal(await digestOf("prod/web:staging"), digests.v1);
    const history = await strataJson("carol", ["channel", "history", "prod/web", "staging"]);
    assert.deepEqual(
      history.map((m: { action: string; version: string }) => `${m.action} ${m.version}`),
      ["rollback 1.0.0", "set 1.1.0", "set 1.0.0"],
    );
  });

  it("promotes to a restricted channel only with another approver's approval", async () => {
    await strataOk("alice", ["channel", "set", "prod/web", "production", "1.0.0", "--restricted"]);
    const requested = await strataJson("alice", ["promote", "prod/web@1.2.0", "--channel", "production"]);
    assert.equal(requested.status, "pending");
    const id = requested.request.id as string;
    assert.equal(await digestOf("prod/web:production"), digests.v1);
    const self = await strata("alice", ["approve", id]);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /cannot approve it: another approver must \(two-person rule\)/);
    const approved = await strataJson("bob", ["approve", id, "--comment", "ship it"]);
    assert.equal(approved.state, "applied");
    assert.equal(await digestOf("prod/web:production"), digests.v3);
  });

  it("runs what the production channel resolves to with runc", async () => {
    const layout = join(work.path, "pulled");
    await copy(`docker://${server.host}/prod/web:production`, `oci:${layout}:run`, [
      "--src-creds",
      `carol:${PASSWORDS.carol}`,
    ]);
    const bundle = join(work.path, "bundle");
    await runOk("umoci", ["unpack", "--image", `${layout}:run`, bundle], { timeoutMs: 60_000 });
    const specPath = join(bundle, "config.json");
    const spec = JSON.parse(await readFile(specPath, "utf8")) as { process: { terminal: boolean } };
    spec.process.terminal = false;
    await writeFile(specPath, JSON.stringify(spec));
    const state = join(work.path, "runc-state");
    await mkdir(state, { recursive: true });
    const id = `strata-gallery-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      const result = await runOk("runc", ["--root", state, "run", "--bundle", bundle, id], {
        timeoutMs: 60_000,
      });
      assert.equal(result.stdout, "web 1.2.0\n");
    } finally {
      await run("runc", ["--root", state, "delete", "-f", id], { timeoutMs: 30_000 });
    }
  });

  it("copies a version into another gallery", async () => {
    const copied = await strataJson("alice", ["promote", "prod/web@1.2.0", "--to-gallery", "test"]);
    assert.equal(copied.status, "done");
    assert.equal(await digestOf("test/web:1.2.0"), digests.v3);
  });

  it("warns skopeo and podman about a deprecated version", async () => {
    await strataOk("carol", [
      "version",
      "deprecate",
      "prod/web",
      "1.0.0",
      "--reason",
      "old base",
      "--replacement",
      "1.1.0",
    ]);
    const want = /^299 - "prod\/web:1\.0\.0 is deprecated: old base; use prod\/web:1\.1\.0"$/;
    const before = proxy.exchanges.length;
    const inspected = await inspect(proxy.host, "prod/web:1.0.0");
    assert.equal(inspected.code, 0, inspected.stderr);
    const seen = proxy.exchanges
      .slice(before)
      .filter((e) => e.path.endsWith("/manifests/1.0.0") && e.status === 200);
    assert.ok(seen.length > 0);
    for (const e of seen) assert.match(String(e.headers.warning), want);
    const mark = proxy.exchanges.length;
    const pulled = await podman([
      "pull",
      "--tls-verify=false",
      "--creds",
      `carol:${PASSWORDS.carol}`,
      `${proxy.host}/prod/web:1.0.0`,
    ]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const podmanSeen = proxy.exchanges
      .slice(mark)
      .filter((e) => e.path.endsWith("/manifests/1.0.0") && e.status === 200);
    assert.ok(podmanSeen.length > 0);
    for (const e of podmanSeen) assert.match(String(e.headers.warning), want);
  });

  it("revokes with cascade, and enforce mode denies the pulls", async () => {
    await strataOk("carol", ["image", "define", "prod/app", "--kind", "container"]);
    const app = await buildReleaseImage("app 0.1.0", { baseDigest: digests.v2 ?? "" });
    const layout = join(work.path, "app");
    await writeOciLayout(layout, [app], { tags: ["a1"] });
    await copy(`oci:${layout}:a1`, `docker://${server.host}/builds/app:a1`, [
      "--dest-creds",
      `carol:${PASSWORDS.carol}`,
    ]);
    await strataOk("carol", ["version", "publish", "prod/app", "0.1.0", "--from", "builds/app:a1"]);
    const revoked = await strataJson("carol", [
      "version",
      "revoke",
      "prod/web",
      "1.1.0",
      "--reason",
      "CVE-2026-1234",
      "--cascade",
    ]);
    assert.deepEqual(
      revoked.revoked.map((v: { image: string; version: string }) => `${v.image}:${v.version}`),
      ["web:1.1.0", "app:0.1.0"],
    );
    for (const ref of ["prod/web:1.1.0", "prod/app:0.1.0"]) {
      const denied = await inspect(server.host, ref);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /denied: prod\/(web|app):[0-9.]+ is revoked/);
    }
    const podmanDenied = await podman([
      "pull",
      "--tls-verify=false",
      "--creds",
      `carol:${PASSWORDS.carol}`,
      `${server.host}/prod/app:0.1.0`,
    ]);
    assert.notEqual(podmanDenied.code, 0);
    assert.match(
      podmanDenied.stderr,
      /denied: prod\/app:0\.1\.0 is revoked: base image prod\/web:1\.1\.0 revoked: CVE-2026-1234/,
    );
  });

  it("deletes softly (admin force before EOL) and restores", async () => {
    const early = await strata("carol", ["version", "delete", "prod/web", "1.2.0"]);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /cannot be deleted before its end of life/);
    await strataOk("alice", ["version", "delete", "prod/web", "1.2.0", "--force"]);
    assert.notEqual((await inspect(server.host, "prod/web:1.2.0")).code, 0);
    await strataOk("carol", ["version", "restore", "prod/web", "1.2.0"]);
    assert.equal(await digestOf("prod/web:1.2.0"), digests.v3);
  });

  it("shows every step in the audit log", async () => {
    const entries = await strataJson("bob", ["audit", "prod", "--limit", "200"]);
    const actions = entries.map((e: { action: string }) => e.action).reverse();
    for (const want of [
      "gallery.created",
      "image.defined",
      "version.published",
      "channel.set",
      "channel.rollback",
      "request.created",
      "request.approved",
      "channel.approved",
      "request.applied",
      "version.deprecated",
      "version.revoked",
      "version.deleted.forced",
      "version.restored",
    ]) {
      assert.ok(actions.includes(want), `audit has ${want}: ${actions.join(", ")}`);
    }
    assert.equal(actions.filter((a: string) => a === "version.revoked").length, 2);
    const copiedIn = await strataJson("bob", ["audit", "test"]).catch(() => undefined);
    assert.equal(copiedIn, undefined, "bob is no member of test");
    assert.ok(
      (await strataJson("alice", ["audit", "test"])).some(
        (e: { action: string }) => e.action === "version.copied",
      ),
    );
    assert.match(await strataOk("bob", ["audit", "prod", "--action", "version.revoked"]), /carol/);
  });

  it("delivered every event to the webhook with a valid signature", async () => {
    const want = [
      "version.published",
      "version.promoted",
      "version.deprecated",
      "version.revoked",
      "version.deleted",
      "version.restored",
    ];
    await hooks.waitFor(
      (got) =>
        want.every((type) => got.some((r) => JSON.parse(r.body).type === type)) &&
        got.filter((r) => JSON.parse(r.body).type === "version.restored").length > 0,
    );
    for (const r of hooks.received) {
      const expected = `sha256=${createHmac("sha256", SECRET).update(r.body).digest("hex")}`;
      assert.equal(r.headers["x-strata-signature"], expected);
    }
    const events = hooks.received.map(
      (r) =>
        JSON.parse(r.body) as { type: string; gallery: string; version: string; data?: { channel?: string } },
    );
    const count = (type: string, gallery = "prod") =>
      events.filter((e) => e.type === type && e.gallery === gallery).length;
    assert.equal(count("version.published"), 4); // web 1.0.0, 1.1.0, 1.2.0 and app 0.1.0
    assert.equal(count("version.published", "test"), 1);
    assert.ok(count("version.promoted") >= 5, "staging ×3, production ×2");
    assert.equal(count("version.revoked"), 2);
    assert.equal(count("version.deprecated"), 1);
    assert.equal(count("version.deleted"), 1);
    assert.equal(count("version.restored"), 1);
  });
});
