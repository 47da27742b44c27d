// `strata retention run` against a real in-process server (no users: every caller may do
// everything): the dry run's "Would …" table, the applied table, JSON, a gallery's definitions,
// bad input refused as a usage error, and the server's refusal.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { galleryApi, pushImage } from "../../test/helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../test/helpers/in-process.ts";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { runCli } from "./run-cli.ts";

let server: InProcess;

async function strata(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo({ STRATA_SERVER: server.url });
  const code = await runCli(["node", "strata", ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

async function ok(args: readonly string[]): Promise<string> {
  const result = await strata(args);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  assert.equal(result.stderr, "");
  return result.stdout;
}

const versionStates = async (): Promise<string> =>
  JSON.stringify((await galleryApi(server.server.app)("GET", "/galleries/ret/images/web/versions")).body);

before(async () => {
  server = await startInProcess({ listen: true });
  const api = galleryApi(server.server.app);
  assert.equal((await api("POST", "/galleries", { name: "ret" })).status, 201);
  for (const name of ["web", "api"])
    assert.equal((await api("POST", "/galleries/ret/images", { name, kind: "container" })).status, 201);
  for (const version of ["1.0.0", "1.1.0", "2.0.0"]) {
    const digest = await pushImage(server.server.app, "builds/ret", version, `ret-${version}`);
    const published = await api("POST", "/galleries/ret/images/web/versions", {
      version,
      from: `builds/ret@${digest}`,
    });
    assert.equal(published.status, 201);
  }
});
after(async () => {
  await server?.stop();
});

describe("strata retention run", () => {
  it("says what it would do, does it, and says what it did", async () => {
    assert.equal(await ok(["image", "update", "ret/web", "--keep-last", "1"]), "Updated ret/web\n");
    const states = await versionStates();
    const dry = (await ok(["retention", "run", "ret/web", "--dry-run"])).split("\n");
    assert.match(dry[0] ?? "", /^VERSION +ACTION +RULE +REASON$/);
    assert.match(
      dry[1] ?? "",
      /^1\.1\.0 +Would deprecate +keepLast +2nd newest published version; the newest 1 are kept$/,
    );
    assert.match(dry[2] ?? "", /^1\.0\.0 +Would deprecate +keepLast +3rd newest/);
    assert.equal((dry[0] ?? "").indexOf("ACTION"), (dry[1] ?? "").indexOf("Would"));
    assert.equal(await versionStates(), states);
    const json = JSON.parse(await ok(["retention", "run", "ret/web", "--dry-run", "--json"])) as {
      dryRun: boolean;
      definitions: { actions: { status: string }[] }[];
    };
    assert.equal(json.dryRun, true);
    assert.deepEqual(
      json.definitions[0]?.actions.map((a) => a.status),
      ["planned", "planned"],
    );

    // The whole gallery: only definitions with rules are listed.
    const applied = (await ok(["retention", "run", "ret"])).split("\n");
    assert.match(applied[0] ?? "", /^VERSION +ACTION +RULE +REASON$/);
    assert.match(applied[1] ?? "", /^1\.1\.0 +Deprecated +keepLast /);
    assert.match(applied[2] ?? "", /^1\.0\.0 +Deprecated +keepLast /);
    assert.equal(await ok(["retention", "run", "ret/web"]), "VERSION  ACTION  RULE  REASON\n(none)\n");
  });

  it("refuses bad input with exit code 2 changing nothing, and prints the server's refusal", async () => {
    const states = await versionStates();
    for (const [args, message] of [
      [["retention", "run"], /^missing required argument/],
      [["retention", "run", "ret/web:1.0.0"], /expected GALLERY\/NAME without a version/],
      [["retention", "run", "ret/web/x"], /expected GALLERY\/NAME, e\.g\. prod\/web/],
      [["retention", "run", "ret@x"], /^Invalid gallery "ret@x": expected GALLERY or GALLERY\/NAME/],
      [["retention", "run", "ret", "--dry"], /^unknown option '--dry'/],
    ] as const) {
      const result = await strata(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "");
      assert.match(result.stderr.replace(/^Error: /, ""), message);
    }
    assert.equal(await versionStates(), states);
    const refused = await strata(["retention", "run", "ret/api", "--dry-run"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^Error: Image definition "ret\/api" has no retention rules/);
    const unknown = await strata(["retention", "run", "ret/nope"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Error: Image definition "ret\/nope" does not exist/);
  });
});
