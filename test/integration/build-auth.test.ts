// `strata build --push` to a registry that requires authentication: the client answers Strata's
// bearer challenge with the stored credentials; without credentials, with a wrong password or
// without a push grant the build fails with the registry's reason, and nothing is pushed.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildBusyboxBase } from "../../scripts/base-images.ts";
import { hashPassword } from "../../src/registry/index.ts";
import { runStrata } from "../helpers/cli-run.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";

let work: string;
let server: InProcess;
let host: string;

const strata = (args: readonly string[], extra: Record<string, string> = {}) =>
  runStrata(args, { HOME: join(work, "home"), ...extra });

async function tagStatus(repo: string, tag: string): Promise<number> {
  const token = Buffer.from("alice:secret").toString("base64");
  const response = await fetch(`${server.url}/v2/${repo}/manifests/${tag}`, {
    method: "HEAD",
    headers: { authorization: `Basic ${token}`, accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  return response.status;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "strata-build-auth-"));
  await buildBusyboxBase(join(work, "ctx/base"));
  await writeFile(join(work, "ctx/Containerfile"), "FROM oci-layout:base:busybox\nRUN echo hi > /hi\n");
  const hash = JSON.stringify(await hashPassword("secret", { logN: 10 }));
  server = await startInProcess({
    listen: true,
    yaml: [
      "auth:",
      "  users:",
      `    alice: { password: ${hash} }`,
      `    bob: { password: ${hash} }`,
      "  access:",
      '    - { repositories: ["builds/*"], users: ["alice"], actions: [pull, push] }',
      '    - { repositories: ["builds/*"], users: ["bob"], actions: [pull] }',
      "",
    ].join("\n"),
  });
  host = new URL(server.url).host;
});
after(async () => {
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("strata build --push with authentication", () => {
  it("pushes with a user's credentials through the bearer token flow", async () => {
    const result = await strata(["build", "--push", "-t", `${host}/builds/app:v1`, join(work, "ctx")], {
      STRATA_USERNAME: "alice",
      STRATA_PASSWORD: "secret",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await tagStatus("builds/app", "v1"), 200);
  });

  it("fails with the registry's reason and pushes nothing without credentials or a grant", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /answered HTTP 401.*\(log in first: strata login --server http:\/\/127\.0\.0\.1:\d+\)/],
      [{ STRATA_USERNAME: "alice", STRATA_PASSWORD: "wrong" }, /refused a token .*HTTP 401/],
      [
        { STRATA_USERNAME: "bob", STRATA_PASSWORD: "secret" },
        /Cannot start an upload to builds\/denied: .* answered HTTP 403 DENIED: /,
      ],
    ];
    for (const [env, expected] of cases) {
      const result = await strata(
        ["build", "--push", "-t", `${host}/builds/denied:v1`, join(work, "ctx")],
        env,
      );
      assert.equal(result.code, 1, JSON.stringify(env));
      assert.match(result.stderr, expected, JSON.stringify(env));
      assert.equal(await tagStatus("builds/denied", "v1"), 404, JSON.stringify(env));
    }
  });
});
