// Changes that need approval, through the CLI against a real in-process server: a restricted
// channel, requests, approve and reject, promotion into a gallery that asks for approvals, and
// a cascading revoke that skips what the caller may not change.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { authYaml, PASSWORD, pushImage } from "../../test/helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../test/helpers/in-process.ts";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { runCli } from "./run-cli.ts";

type User = "alice" | "bob" | "carol";
let server: InProcess;
const digests: Record<string, string> = {};

/** `strata …args` as `user`, who must succeed; its standard output. */
async function as(user: User, args: readonly string[]): Promise<string> {
  const io = memoryIo({ STRATA_SERVER: server.url, STRATA_USERNAME: user, STRATA_PASSWORD: PASSWORD });
  const code = await runCli(["node", "strata", ...args], io);
  assert.equal(code, 0, `strata ${args.join(" ")} as ${user}: ${io.err()}`);
  return io.out();
}

/** `strata …args` as `user`, who must be refused by the server; its error line. */
async function refused(user: User, args: readonly string[]): Promise<string> {
  const io = memoryIo({ STRATA_SERVER: server.url, STRATA_USERNAME: user, STRATA_PASSWORD: PASSWORD });
  assert.equal(await runCli(["node", "strata", ...args], io), 1, `strata ${args.join(" ")} as ${user}`);
  return io.err();
}

const requestId = (out: string): string => {
  const m = /^Approval requested: (\S+) \(1 approval needed\)\n$/.exec(out);
  assert.ok(m?.[1] !== undefined, out);
  return m[1];
};

before(async () => {
  server = await startInProcess({ listen: true, yaml: await authYaml(["alice", "bob", "carol"]) });
  const app = server.server.app;
  for (const tag of ["1", "2"])
    digests[tag] = await pushImage(app, "builds/web", tag, `web-${tag}`, { user: "alice" });
  await as("alice", ["gallery", "create", "rel", "--member", "bob=approver"]);
  await as("alice", ["image", "define", "rel/web", "--kind", "container", "--os", "linux"]);
  await as("alice", ["version", "publish", "rel/web", "1.0.0", "--from", "builds/web:1"]);
  await as("alice", ["version", "publish", "rel/web", "1.1.0", "--from", "builds/web:2"]);
});
after(async () => {
  await server?.stop();
});

describe("approvals through the CLI", () => {
  it("turn moves of a restricted channel into requests an approver applies or rejects", async () => {
    assert.equal(
      await as("alice", ["channel", "set", "rel/web", "prod", "1.0.0", "--restricted"]),
      "Moved: prod → 1.0.0\n",
    );
    const id = requestId(await as("alice", ["channel", "set", "rel/web", "prod", "1.1.0"]));

    const pending = (await as("bob", ["requests", "--gallery", "rel", "--state", "pending"])).split("\n");
    assert.match(pending[0] ?? "", /^ID +STATE +VERSION +TARGET +BY +APPROVALS$/);
    assert.match(
      pending[1] ?? "",
      new RegExp(`^${id} +pending +rel/web:1\\.1\\.0 +rel/web channel prod +alice +0/1$`),
    );
    assert.match(await refused("alice", ["approve", id]), /another approver must \(two-person rule\)/);
    assert.equal(
      await as("bob", ["approve", id, "--comment", "looks good"]),
      "Approved and applied: rel/web:1.1.0 → rel/web channel prod\n",
    );
    assert.match(
      await refused("carol", ["channel", "show", "rel/web", "prod"]),
      /^Error: Gallery "rel" does not exist\n$/,
    );
    assert.match(await as("bob", ["channel", "show", "rel/web", "prod"]), /\nversion: +1\.1\.0\n/);

    const back = requestId(await as("alice", ["channel", "rollback", "rel/web", "prod"]));
    assert.equal(await as("bob", ["reject", back, "--reason", "not now"]), `Rejected ${back}\n`);
    const rejected = JSON.parse(await as("alice", ["requests", "--state", "rejected", "--json"])) as {
      id: string;
      decidedBy: string;
      reason: string;
    }[];
    assert.deepEqual(
      rejected.map((r) => [r.id, r.decidedBy, r.reason]),
      [[back, "bob", "not now"]],
    );
    assert.match(
      await as("bob", ["channel", "history", "rel/web", "prod"]),
      /^#[\s\S]*\n2 +approved +1\.0\.0 +1\.1\.0 +bob /,
    );
  });

  it("promote into a gallery that asks for an approval", async () => {
    await as("alice", ["gallery", "create", "live", "--approvals", "1", "--member", "bob=approver"]);
    const id = requestId(await as("alice", ["promote", "rel/web@1.1.0", "--to-gallery", "live"]));
    assert.equal(await as("bob", ["approve", id]), "Approved and applied: rel/web:1.1.0 → live/web\n");
    const copied = JSON.parse(await as("alice", ["version", "show", "live/web:1.1.0", "--json"])) as {
      digest: string;
      approvals: { user: string }[];
    };
    assert.equal(copied.digest, digests["2"]);
    assert.deepEqual(
      copied.approvals.map((a) => a.user),
      ["bob"],
    );
    assert.equal(
      await as("alice", ["promote", "rel/web:1.0.0", "--channel", "beta"]),
      "Promoted rel/web:1.0.0 → beta\n",
    );
  });

  it("print each version a cascading revoke revokes and each it skips", async () => {
    const base = digests["1"] ?? "";
    const annotations = { "org.opencontainers.image.base.digest": base };
    await pushImage(server.server.app, "builds/app", "1", "app-1", { user: "carol", annotations });
    await as("carol", ["gallery", "create", "apps"]);
    await as("carol", ["image", "define", "apps/app", "--kind", "container"]);
    await as("carol", ["version", "publish", "apps/app", "1.0.0", "--from", "builds/app:1"]);
    await pushImage(server.server.app, "builds/web", "3", "web-3", { user: "alice", annotations });
    await as("alice", ["version", "publish", "rel/web", "1.2.0", "--from", "builds/web:3"]);

    const out = await as("alice", [
      "version",
      "revoke",
      "rel/web:1.0.0",
      "--reason",
      "CVE-2026-0001",
      "--cascade",
    ]);
    assert.deepEqual(out.split("\n").sort(), [
      "",
      "Revoked rel/web:1.0.0",
      "Revoked rel/web:1.2.0",
      "Skipped apps/app:1.0.0: you are not a publisher in gallery apps",
    ]);
    assert.match(await as("carol", ["version", "show", "apps/app", "1.0.0"]), /\nstate: +published\n/);
  });
});
