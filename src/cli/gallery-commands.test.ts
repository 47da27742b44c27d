// The gallery commands against a real in-process server: a short lifecycle with human and JSON
// output, usage errors that send nothing, server errors, an unreachable server, logout.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { authYaml, galleryApi, PASSWORD } from "../../test/helpers/gallery.ts";
import { startInProcess, type InProcess } from "../../test/helpers/in-process.ts";
import { freePort } from "../../test/helpers/ports.ts";
import { startRecordingProxy, type RecordingProxy } from "../../test/helpers/recording-proxy.ts";
import { memoryIo } from "../../test/helpers/memory-io.ts";
import { createDiskArtifact, pushDisk } from "../disk/index.ts";
import { RegistryClient } from "../remote/index.ts";
import { runCli } from "./run-cli.ts";
import { formatBytes } from "./sizes.ts";

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let server: InProcess;
let proxy: RecordingProxy;
let configDir: string;

/** Runs `strata …args` in process as main.ts does, with its own output and environment. */
async function strata(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<Outcome> {
  const env = { STRATA_SERVER: server.url, STRATA_CONFIG_DIR: configDir, ...options.env };
  const io = memoryIo(env, options.stdin);
  const code = await runCli(["node", "strata", ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

async function ok(args: readonly string[]): Promise<string> {
  const result = await strata(args);
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  assert.equal(result.stderr, "");
  return result.stdout;
}

const json = async (args: readonly string[]): Promise<unknown> => JSON.parse(await ok([...args, "--json"]));

before(async () => {
  server = await startInProcess({ listen: true, yaml: await authYaml(["alice", "bob"]) });
  proxy = await startRecordingProxy(server.url);
  configDir = await mkdtemp(join(tmpdir(), "strata-cli-"));
  // alice's credentials are stored as `strata login` stores them; bob's come from the environment.
  const login = await strata(["login", "-u", "alice", "--password-stdin"], { stdin: `${PASSWORD}\n` });
  assert.equal(login.code, 0, login.stderr);
});
after(async () => {
  await proxy?.close();
  await server?.stop();
  await rm(configDir, { recursive: true, force: true });
});

describe("gallery commands", () => {
  it("run a short lifecycle with tables and JSON", async () => {
    const api = galleryApi(server.server.app);
    assert.equal(
      await ok(["gallery", "create", "cli", "--member", "bob=approver", "--mode", "warn"]),
      "Created gallery cli\n",
    );
    const galleries = (await json(["gallery", "list"])) as { name: string; mode: string }[];
    assert.deepEqual(
      galleries.map((g) => [g.name, g.mode]),
      [["cli", "warn"]],
    );
    assert.deepEqual(
      await json(["gallery", "show", "cli"]),
      (await api("GET", "/galleries/cli", undefined, "alice")).body,
    );
    assert.match(
      await ok(["gallery", "show", "cli"]),
      /^name: +cli\n[\s\S]*\nmembers: +alice=admin, bob=approver\n/,
    );

    assert.equal(
      await ok([
        "image",
        "define",
        "cli/web",
        "--kind",
        "vm",
        "--boot-mode",
        "uefi",
        "--vcpus",
        "2",
        "--label",
        "team=web",
      ]),
      "Defined cli/web (vm)\n",
    );
    const shown = (await json(["image", "show", "cli/web"])) as { vm: unknown; labels: unknown };
    assert.deepEqual(shown.vm, { bootMode: "uefi", recommendedVcpus: 2 });
    assert.deepEqual(shown.labels, { team: "web" });

    // A vm definition's versions are disk artifacts: one made from a stand-in qcow2.
    const host = new URL(server.url).host;
    const qcow2 = join(configDir, "cli-one.qcow2");
    await writeFile(qcow2, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.from("cli-one")]));
    const disk = await createDiskArtifact(qcow2, { virtualSize: 2 ** 20, boot: "uefi" });
    const client = new RegistryClient({
      registry: host,
      credentials: { username: "alice", password: PASSWORD },
    });
    const { digest } = await pushDisk(client, "builds/cli", disk, { tag: "one" });
    assert.equal(
      await ok([
        "version",
        "publish",
        "cli/web",
        "1.0.0",
        "--from",
        `${host}/builds/cli:one`,
        "--changelog",
        "first",
      ]),
      `Published cli/web:1.0.0 (${digest})\n`,
    );
    assert.equal(
      await ok(["version", "publish", "cli/web:1.0.0", "--from", "builds/cli:one"]),
      `cli/web:1.0.0 was already published with this content (${digest}); nothing changed\n`,
    );

    const table = (await ok(["version", "list", "cli/web"])).split("\n");
    assert.match(table[0] ?? "", /^VERSION +STATE +DIGEST +EOL +LATEST +PUBLISHED$/);
    assert.match(table[1] ?? "", /^1\.0\.0 +published +sha256:[0-9a-f]{12}… +- +\S+Z by alice$/);
    assert.equal((table[0] ?? "").indexOf("STATE"), (table[1] ?? "").indexOf("published"));
    const latestPath = "/galleries/cli/images/web/latest";
    const latest = await json(["version", "latest", "cli/web"]);
    assert.deepEqual(latest, (await api("GET", latestPath, undefined, "alice")).body);
    assert.deepEqual(
      [(latest as { version: string }).version, (latest as { digest: string }).digest],
      ["1.0.0", digest],
    );
    const shownText = await ok(["version", "show", "cli/web:1.0.0"]);
    assert.match(shownText, /^gallery: +cli\n[\s\S]*\nchangelog: +first\n/);
    // Its bytes: the disk's manifest, config and layer, shared with no other version.
    const shownJson = (await json(["version", "show", "cli/web:1.0.0"])) as {
      bytes: { total: number; own: number; shared: number };
    };
    assert.deepEqual(
      shownJson,
      (await api("GET", "/galleries/cli/images/web/versions/1.0.0", undefined, "alice")).body,
    );
    const described = JSON.parse(disk.manifest.toString("utf8")) as {
      config: { size: number };
      layers: { size: number }[];
    };
    const total =
      disk.manifest.length + described.config.size + described.layers.reduce((sum, l) => sum + l.size, 0);
    assert.deepEqual(shownJson.bytes, { total, own: total, shared: 0 });
    assert.match(
      shownText,
      new RegExp(
        `\\nbytes: +${formatBytes(total)} total, ${formatBytes(total)} own, 0 B shared with other versions\\n`,
      ),
    );

    assert.equal(await ok(["channel", "set", "cli/web", "beta", "1.0.0"]), "Moved: beta → 1.0.0\n");
    assert.match(
      await ok(["channel", "history", "cli/web", "beta"]),
      /\n1 +set +- +1\.0\.0 +alice +\S+Z +-\n$/,
    );
    assert.deepEqual(
      await json(["channel", "history", "cli/web", "beta"]),
      (await api("GET", "/galleries/cli/images/web/channels/beta/history", undefined, "alice")).body,
    );
    assert.match(await ok(["channel", "show", "cli/web"]), /\nbeta +1\.0\.0 +no +\S+Z by alice\n$/);
    assert.match(
      await ok(["version", "set", "cli/web", "1.0.0", "--eol", "2099-01-01"]),
      /\neol: +2099-01-01T00:00:00\.000Z\n/,
    );
    assert.match(
      await ok(["audit", "cli", "--action", "version."]),
      /^TIME +ACTOR +ACTION +IMAGE +TARGET\n\S+Z +alice +version\.updated +web:1\.0\.0 +-\n\S+Z +alice +version\.published/,
    );
  });

  it("refuse bad local input with exit code 2, one message, and send nothing", async () => {
    const api = galleryApi(server.server.app);
    const state = async () =>
      JSON.stringify(
        await Promise.all(
          [
            "/galleries",
            "/galleries/cli",
            "/galleries/cli/images",
            "/galleries/cli/images/web/versions?deleted=true",
            "/galleries/cli/images/web/channels",
            "/galleries/cli/audit",
            "/requests",
          ].map(async (path) => (await api("GET", path, undefined, "alice")).body),
        ),
      );
    const before = await state();
    const missing = join(configDir, "no-such-changelog.md");
    for (const [args, message] of [
      [
        ["version", "publish", "cliweb", "2.0.0", "--from", "builds/cli:one"],
        /expected GALLERY\/NAME, e\.g\. prod\/web/,
      ],
      [["version", "publish", "cli/web", "2.0.0"], /^Missing --from: name the content to publish/],
      [
        ["version", "publish", "cli/web"],
        /^Missing version: expected GALLERY\/NAME VERSION or GALLERY\/NAME:VERSION$/,
      ],
      [
        ["version", "publish", "cli/web", "2.0.0", "--from", "builds/cli:one", "--changelog-file", missing],
        /^Cannot read --changelog-file ".*": ENOENT$/,
      ],
      [["version", "show", "cli/web:1.0.0", "1.0.0"], /^Give the version once/],
      [
        ["gallery", "create", "x", "--approvals", "two"],
        /^Invalid --approvals "two": expected a non-negative integer$/,
      ],
      [
        ["gallery", "create", "x", "--mode", "loud"],
        /^Invalid --mode "loud": expected one of enforce, warn, off$/,
      ],
      [
        ["gallery", "member", "cli", "carol", "boss"],
        /^Invalid role "boss": expected one of reader, publisher, approver, admin$/,
      ],
      [["gallery", "set", "cli"], /^Nothing to change/],
      [["image", "define", "cli/api"], /^required option '--kind <kind>' not specified$/],
      [["image", "define", "cli/api", "--kind", "docker"], /^Invalid --kind "docker"/],
      [["image", "show", "cli/web:1.0.0"], /expected GALLERY\/NAME without a version/],
      [["channel", "set", "cli/web", "beta"], /^missing required argument 'version'$/],
      [["channel", "set", "cli/web", "beta", "1.0.0", "--approvals", "-1"], /^Invalid --approvals "-1"/],
      [["gallery", "list", "--bogus"], /^unknown option '--bogus'$/],
      [["version", "revoke", "cli/web", "1.0.0"], /^Missing --reason/],
      [["promote", "cli/web@1.0.0"], /^Give --channel, --to-gallery or both$/],
      [["requests", "--state", "applying"], /^Invalid --state "applying"/],
      [["audit", "cli", "--limit", "ten"], /^Invalid --limit "ten"/],
      [["version", "list", "cli/web", "--server", "ftp://x"], /^Invalid server URL "ftp:\/\/x"/],
    ] as const) {
      const result = await strata(args, { env: { STRATA_SERVER: `http://${proxy.host}` } });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "", args.join(" "));
      const lines = result.stderr.split("\n");
      assert.equal(lines.length, 2, `one line on stderr: ${result.stderr}`);
      assert.match(lines[0] ?? "", /^Error: /);
      assert.match((lines[0] ?? "").slice("Error: ".length), message);
    }
    assert.equal(proxy.exchanges.length, 0, "nothing reached the server");
    assert.equal(await state(), before);
    // The proxy does see a command that is sent.
    const sent = await strata(["gallery", "list"], {
      env: { STRATA_SERVER: `http://${proxy.host}`, STRATA_USERNAME: "alice", STRATA_PASSWORD: PASSWORD },
    });
    assert.equal(sent.code, 0, sent.stderr);
    assert.deepEqual(
      proxy.exchanges.map((e) => [e.method, e.path, e.status]),
      [["GET", "/api/v1/galleries", 200]],
    );
  });

  it("print the server's message and exit 1 on a refused request", async () => {
    const result = await strata(["version", "publish", "cli/web", "1.0", "--from", "builds/cli:one"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: Invalid version "1\.0": expected Major\.Minor\.Patch/);
    const asBob = await strata(["version", "delete", "cli/web", "1.0.0", "--force"], {
      env: { STRATA_USERNAME: "bob", STRATA_PASSWORD: PASSWORD },
    });
    assert.equal(asBob.code, 1);
    assert.equal(asBob.stderr, 'Error: User "bob" is approver in gallery "cli"; this needs the admin role\n');
    const taken = await strata(["gallery", "create", "cli", "--json"]);
    assert.equal(taken.code, 1);
    assert.equal(taken.stdout, "");
    assert.match(taken.stderr, /^Error: .*"cli".*\n$/);
  });

  it("name the server it cannot reach", async () => {
    const port = await freePort();
    const result = await strata(["gallery", "list", "--server", `http://127.0.0.1:${port}`]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `Error: Cannot reach Strata at http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });

  it("forget credentials on logout, and say how to log in when the server asks", async () => {
    assert.equal(await ok(["logout"]), `Logged out of ${server.url}\n`);
    assert.deepEqual(JSON.parse(await readFile(join(configDir, "credentials.json"), "utf8")), {});
    const result = await strata(["gallery", "list"]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Error: Authentication required (log in first: strata login --server ${server.url} --username USER --password-stdin)\n`,
    );
  });
});
