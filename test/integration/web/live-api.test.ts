// What keeps the web console live, on a real server over a socket: ETags and 304 answers on the
// API's reads (the same answer twice, a change made by the CLI, two users with different rights),
// and the event stream (/api/v1/events): a change made by the CLI reaches a reader of its
// gallery, a change in a gallery the reader may not read never does (and membership changes
// take effect on an open stream), a copy's state arrives as
// `replication`, a session's cookie works like Basic credentials, an anonymous caller is refused,
// and a graceful stop with a stream open ends the stream and does not wait for it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startInProcess, type InProcess } from "../../helpers/in-process.ts";
import { authYaml, basic, PASSWORD, pushImage } from "../../helpers/gallery.ts";
import { runStrata } from "../../helpers/cli-run.ts";
import { openEventStream, type EventStream } from "../../helpers/event-stream.ts";

const LONG_GRACE = "shutdown: { grace: 10m }\n";

describe("live API: ETags and the event stream", () => {
  let s: InProcess;
  const streams: EventStream[] = [];
  const cli = (user: string, args: string[]) =>
    runStrata(args, { STRATA_USERNAME: user, STRATA_PASSWORD: PASSWORD, STRATA_SERVER: s.url });

  async function call(user: string | undefined, method: string, path: string, body?: unknown, headers = {}) {
    const res = await fetch(`${s.url}/api/v1${path}`, {
      method,
      headers: {
        ...(user === undefined ? {} : { authorization: basic(user) }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, headers: res.headers };
  }

  async function ok(user: string, method: string, path: string, body?: unknown) {
    const res = await call(user, method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res;
  }

  async function stream(headers: Record<string, string>): Promise<EventStream> {
    const opened = await openEventStream(`${s.url}/api/v1/events`, headers);
    streams.push(opened);
    assert.deepEqual(await opened.next(), { event: "ready", data: {} });
    return opened;
  }

  before(async () => {
    s = await startInProcess({
      listen: true,
      yaml: await authYaml(
        ["alice", "carol", "dave"],
        [
          'sites: { moon: { url: "http://127.0.0.1:9", kind: registry } }',
          "replication: { interval: 200ms, backoff: 1h, maxBackoff: 2h }",
          LONG_GRACE,
        ].join("\n"),
      ),
    });
    const app = s.server.app;
    await ok("alice", "POST", "/galleries", {
      name: "demo",
      members: { carol: "publisher", dave: "reader" },
    });
    await ok("alice", "POST", "/galleries", { name: "secret" });
    for (const gallery of ["demo", "secret"]) {
      await ok("alice", "POST", `/galleries/${gallery}/images`, { name: "web", kind: "container" });
      for (const version of ["1.0.0", "1.1.0"]) {
        const digest = await pushImage(app, `builds/${gallery}`, version, `${gallery} ${version}`, {
          user: "alice",
        });
        await ok("alice", "POST", `/galleries/${gallery}/images/web/versions`, {
          version,
          from: `builds/${gallery}@${digest}`,
        });
      }
    }
  });

  after(async () => {
    for (const opened of streams) opened.close();
    await s?.stop();
  });

  it("answers the same read twice with one ETag, and 304 with no body when asked with it", async () => {
    const path = "/galleries/demo/images/web/versions/1.0.0";
    const first = await ok("carol", "GET", path);
    const etag = first.headers.get("etag") ?? "";
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    assert.equal(first.headers.get("cache-control"), "private, no-cache");
    const again = await ok("carol", "GET", path);
    assert.equal(again.headers.get("etag"), etag);
    assert.equal(again.text, first.text);
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const cached = await call("carol", "GET", path, undefined, { "if-none-match": tag });
      assert.equal(cached.status, 304, tag);
      assert.equal(cached.text, "");
      assert.equal(cached.headers.get("etag"), etag);
    }
    const stale = await call("carol", "GET", path, undefined, { "if-none-match": '"0000"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.text, first.text);
  });

  it("answers 200 with the new body and a new ETag after the CLI changed it", async () => {
    const path = "/galleries/demo/images/web/versions/1.1.0";
    const before = await ok("carol", "GET", path);
    const etag = before.headers.get("etag") ?? "";
    assert.equal(JSON.parse(before.text).state, "published");
    const done = await cli("alice", ["version", "deprecate", "demo/web", "1.1.0", "--reason", "superseded"]);
    assert.equal(done.code, 0, done.stderr);
    const after = await call("carol", "GET", path, undefined, { "if-none-match": etag });
    assert.equal(after.status, 200);
    assert.equal(JSON.parse(after.text).state, "deprecated");
    assert.notEqual(after.headers.get("etag"), etag);
    // A change itself is never cached.
    const change = await ok("carol", "PATCH", "/galleries/demo/images/web", { description: "changed" });
    assert.equal(change.headers.get("etag"), null);
    assert.equal(change.headers.get("cache-control"), "no-store");
  });

  it("gives users with different rights different bodies and ETags for one URL", async () => {
    const alice = await ok("alice", "GET", "/galleries");
    const carol = await ok("carol", "GET", "/galleries");
    assert.deepEqual(
      (JSON.parse(alice.text) as { name: string }[]).map((g) => g.name),
      ["demo", "secret"],
    );
    assert.deepEqual(
      (JSON.parse(carol.text) as { name: string }[]).map((g) => g.name),
      ["demo"],
    );
    assert.notEqual(alice.headers.get("etag"), carol.headers.get("etag"));
    assert.equal(alice.headers.get("vary"), "Authorization, Cookie");
    // Alice's tag does not make Carol's answer a 304.
    const crossed = await call("carol", "GET", "/galleries", undefined, {
      "if-none-match": alice.headers.get("etag") ?? "",
    });
    assert.equal(crossed.status, 200);
    assert.equal(crossed.text, carol.text);
    // An error is not cached: no ETag.
    const hidden = await call("carol", "GET", "/galleries/secret");
    assert.equal(hidden.status, 404);
    assert.equal(hidden.headers.get("etag"), null);
  });

  it("streams a change made by the CLI to a reader of its gallery, and none of a gallery they cannot read", async () => {
    const dave = await stream({ authorization: basic("dave") });
    const alice = await stream({ authorization: basic("alice") });
    const secret = await cli("alice", ["version", "deprecate", "secret/web", "1.0.0", "--reason", "old"]);
    assert.equal(secret.code, 0, secret.stderr);
    const demo = await cli("alice", ["version", "deprecate", "demo/web", "1.0.0", "--reason", "old"]);
    assert.equal(demo.code, 0, demo.stderr);
    const pick = ({ kind, gallery, image, version }: Record<string, unknown>) => ({
      kind,
      gallery,
      image,
      version,
    });
    // Alice reads both galleries: both changes, in order. Dave's first event is demo's, so
    // secret's, published before it, was never sent to him.
    const aliceFirst = await alice.next();
    const aliceSecond = await alice.next();
    assert.equal(aliceFirst?.event, "change");
    assert.deepEqual(pick(aliceFirst?.data as Record<string, unknown>), {
      kind: "version.deprecated",
      gallery: "secret",
      image: "web",
      version: "1.0.0",
    });
    assert.deepEqual(pick(aliceSecond?.data as Record<string, unknown>), {
      kind: "version.deprecated",
      gallery: "demo",
      image: "web",
      version: "1.0.0",
    });
    const daveFirst = await dave.next();
    assert.equal(daveFirst?.event, "change");
    assert.deepEqual(pick(daveFirst?.data as Record<string, unknown>), pick(aliceSecond?.data as never));
    assert.match(String((daveFirst?.data as { at: string }).at), /^\d{4}-\d\d-\d\dT/);
    dave.close();
    alice.close();
  });

  it("follows membership: a user added to a gallery gets its changes, one removed no longer", async () => {
    const carol = await stream({ authorization: basic("carol") });
    const kindAndGallery = async () => {
      const next = await carol.next();
      const data = next?.data as { kind: string; gallery: string };
      return `${data.kind} ${data.gallery}`;
    };
    assert.equal((await cli("alice", ["gallery", "member", "secret", "carol", "reader"])).code, 0);
    assert.equal(await kindAndGallery(), "member.set secret");
    const deprecated = await cli("alice", ["version", "deprecate", "secret/web", "1.1.0", "--reason", "x"]);
    assert.equal(deprecated.code, 0, deprecated.stderr);
    assert.equal(await kindAndGallery(), "version.deprecated secret");
    assert.equal((await cli("alice", ["gallery", "member", "secret", "carol", "--remove"])).code, 0);
    const revoked = await cli("alice", ["version", "revoke", "secret/web", "1.1.0", "--reason", "x"]);
    assert.equal(revoked.code, 0, revoked.stderr);
    await ok("alice", "PATCH", "/galleries/demo/images/web", { description: "after" });
    // Neither the removal nor the revocation in secret reached Carol: the next is demo's.
    assert.equal(await kindAndGallery(), "image.updated demo");
    carol.close();
  });

  it("sends nothing for a refused or invalid change", async () => {
    const dave = await stream({ authorization: basic("dave") });
    const refused = await cli("dave", ["version", "deprecate", "demo/web", "1.1.0", "--reason", "x"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /reader/);
    const invalid = await call("carol", "POST", "/galleries/demo/images/web/versions", {
      version: "not a version",
      from: "builds/demo:1.0.0",
    });
    assert.equal(invalid.status, 400);
    const missing = await call("carol", "POST", "/galleries/demo/images/web/versions/9.9.9/deprecate", {
      reason: "x",
    });
    assert.equal(missing.status, 404);
    assert.match(JSON.parse(missing.text).errors[0].message, /9\.9\.9/);
    await ok("alice", "PATCH", "/galleries/demo", { description: "marker" });
    const next = await dave.next();
    assert.deepEqual(
      { kind: (next?.data as { kind: string }).kind, gallery: (next?.data as { gallery: string }).gallery },
      { kind: "gallery.updated", gallery: "demo" },
    );
    dave.close();
  });

  it("streams a copy's state to a site as replication, with a session cookie as identity", async () => {
    const signIn = await fetch(`${s.url}/api/v1/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "carol", password: PASSWORD }),
    });
    assert.equal(signIn.status, 201);
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const carol = await stream({ cookie });
    await ok("carol", "PUT", "/galleries/demo/images/web/versions/1.1.0/replication", { sites: ["moon"] });
    const set = await carol.next();
    assert.equal((set?.data as { kind: string }).kind, "version.replication.set");
    // Nothing listens at the site: the copy is tried and fails; each step is an event.
    for (;;) {
      const next = await carol.next();
      assert.ok(next !== undefined, "the stream ended");
      const data = next.data as { kind: string; target?: string; version?: string };
      assert.deepEqual(
        { kind: data.kind, target: data.target, version: data.version },
        { kind: "replication", target: "moon", version: "1.1.0" },
      );
      const replicas = JSON.parse(
        (await ok("carol", "GET", "/galleries/demo/images/web/versions/1.1.0/replication")).text,
      ) as { site: string; state: string }[];
      if (replicas.some((r) => r.site === "moon" && r.state === "failed")) break;
    }
    carol.close();
  });

  it("answers HEAD and a change to /events with 405 and the methods served", async () => {
    const head = await call("carol", "HEAD", "/galleries");
    assert.equal(head.status, 405);
    assert.equal(head.headers.get("allow"), "GET, POST");
    const post = await call("carol", "POST", "/events", {});
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
  });

  it("refuses an anonymous stream with 401 in the API's error shape", async () => {
    const res = await call(undefined, "GET", "/events");
    assert.equal(res.status, 401);
    assert.equal(JSON.parse(res.text).errors[0].code, "UNAUTHORIZED");
    // The console's EventSource cannot ask for a challenge-free 401: a Basic challenge here would
    // open the browser's own password prompt over the page.
    assert.equal(res.headers.get("www-authenticate"), null);
    const wrong = await fetch(`${s.url}/api/v1/events`, {
      headers: { authorization: `Basic ${Buffer.from("carol:wrong").toString("base64")}` },
    });
    assert.equal(wrong.status, 401);
    await wrong.text();
  });
});

describe("graceful stop with an event stream open", () => {
  it("ends the stream and stops without waiting for the grace period", { timeout: 120_000 }, async () => {
    const s = await startInProcess({ listen: true, yaml: await authYaml(["alice"], LONG_GRACE) });
    let opened: EventStream | undefined;
    try {
      opened = await openEventStream(`${s.url}/api/v1/events`, { authorization: basic("alice") });
      assert.deepEqual(await opened.next(), { event: "ready", data: {} });
      // With the 10-minute grace period, a stream that held the stop would outlast the test's timeout.
      await s.server.close();
      assert.equal(await opened.next(), undefined, "the stream ends cleanly");
    } finally {
      opened?.close();
      await s.stop();
    }
  });
});
