// HTTPS with a private CA: skopeo, podman and containerd reach Strata with their certs.d
// conventions (ca.crt, client.cert, client.key; containerd's hosts.toml) and full verification,
// a client certificate is required when tls.clientCA is set, a rotated certificate is served
// without a restart, and the strata CLI reaches an https server through NODE_EXTRA_CA_CERTS.
import assert from "node:assert/strict";
import { copyFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { connect, type PeerCertificate } from "node:tls";
import { after, before, describe, it } from "node:test";
import { hashPassword } from "../../src/registry/index.ts";
import { busyboxLayout, type BusyboxLayout } from "../helpers/busybox-layout.ts";
import { startContainerd, type Containerd } from "../helpers/containerd.ts";
import { run } from "../helpers/exec.ts";
import { sha256 } from "../helpers/images.ts";
import { startInProcess, type InProcess } from "../helpers/in-process.ts";
import { createTestCa, type IssuedCertificate, type TestCa } from "../helpers/test-ca.ts";
import { podman as podmanIn, skopeo, skopeoOk, tempDir } from "./support.ts";

const PASSWORD = "tls-test-password";
const CREDS = `alice:${PASSWORD}`;
const BIN = new URL("../../bin/strata.js", import.meta.url).pathname;

let work: Awaited<ReturnType<typeof tempDir>>;
let ca: TestCa;
let serverCert: IssuedCertificate;
let clientCert: IssuedCertificate;
let strangerCert: IssuedCertificate;
/** Requires a client certificate from `ca` (tls.clientCA). */
let mtls: InProcess;
/** TLS without client certificates; its certificate files are rotated by a test. */
let rotating: InProcess;
let live: { cert: string; key: string };
let busybox: BusyboxLayout;
/** certs.d folders: the CA and a client certificate (from the CA; from another CA); the CA only; nothing. */
let certDirs: { full: string; stranger: string; caOnly: string; none: string };

const hostOf = (server: InProcess): string => new URL(server.url).host;

async function usersYaml(): Promise<string> {
  const hash = await hashPassword(PASSWORD, { logN: 10 });
  return [
    "auth:",
    "  users:",
    `    alice: { password: "${hash}" }`,
    "  access:",
    '    - { repositories: ["**"], users: [alice], actions: [pull, push, delete] }',
  ].join("\n");
}

/** A folder laid out as docker's, podman's and containerd's certs.d/HOST folders are. */
async function certDir(name: string, files: { ca?: boolean; client?: IssuedCertificate }): Promise<string> {
  const dir = join(work.path, "certs.d", name);
  await mkdir(dir, { recursive: true });
  if (files.ca === true) await copyFile(ca.cert, join(dir, "ca.crt"));
  if (files.client !== undefined) {
    await copyFile(files.client.cert, join(dir, "client.cert"));
    await copyFile(files.client.key, join(dir, "client.key"));
  }
  return dir;
}

interface Answer {
  readonly status: number;
  readonly serial: string;
}

/** GET path over a new TLS connection that trusts only the test CA. */
function get(
  server: InProcess,
  path: string,
  options: { client?: IssuedCertificate; authorization?: string } = {},
): Promise<Answer> {
  const url = new URL(server.url);
  return Promise.all([
    readFile(ca.cert),
    options.client === undefined ? undefined : readFile(options.client.cert),
    options.client === undefined ? undefined : readFile(options.client.key),
  ]).then(
    ([caPem, cert, key]) =>
      new Promise<Answer>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path,
            agent: false,
            ca: caPem,
            ...(cert === undefined || key === undefined ? {} : { cert, key }),
            headers: options.authorization === undefined ? {} : { authorization: options.authorization },
            timeout: 10_000,
          },
          (res) => {
            const peer = (
              res.socket as unknown as { getPeerCertificate(): PeerCertificate }
            ).getPeerCertificate();
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, serial: peer.serialNumber }));
          },
        );
        req.on("timeout", () => req.destroy(new Error("request timed out")));
        req.on("error", reject);
        req.end();
      }),
  );
}

/** The serial number of the certificate a new TLS handshake with `server` presents. */
function servedSerial(server: InProcess): Promise<string> {
  const url = new URL(server.url);
  return readFile(ca.cert).then(
    (caPem) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({
          host: url.hostname,
          port: Number(url.port),
          ca: caPem,
          servername: "localhost",
        });
        socket.setTimeout(10_000, () => socket.destroy(new Error("handshake timed out")));
        socket.once("secureConnect", () => {
          const serial = socket.getPeerCertificate().serialNumber;
          socket.end();
          resolve(serial);
        });
        socket.once("error", reject);
      }),
  );
}

/** Polls until `check` holds, at most `timeoutMs`; returns whether it did. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

before(async () => {
  work = await tempDir("tls");
  const caDir = join(work.path, "ca");
  await mkdir(caDir);
  ca = await createTestCa(caDir);
  serverCert = await ca.issue("server", "server");
  clientCert = await ca.issue("client", "client");
  const strangerDir = join(work.path, "stranger");
  await mkdir(strangerDir);
  strangerCert = await (await createTestCa(strangerDir, "Stranger CA")).issue("stranger", "client");
  certDirs = {
    full: await certDir("full", { ca: true, client: clientCert }),
    stranger: await certDir("stranger", { ca: true, client: strangerCert }),
    caOnly: await certDir("ca-only", { ca: true }),
    none: await certDir("none", {}),
  };
  const users = await usersYaml();
  mtls = await startInProcess({
    listen: true,
    yaml: [
      users,
      "tls:",
      `  certificate: ${JSON.stringify(serverCert.cert)}`,
      `  key: ${JSON.stringify(serverCert.key)}`,
      `  clientCA: ${JSON.stringify(ca.cert)}`,
    ].join("\n"),
  });
  const liveDir = join(work.path, "live");
  await mkdir(liveDir);
  live = { cert: join(liveDir, "tls.crt"), key: join(liveDir, "tls.key") };
  await copyFile(serverCert.cert, live.cert);
  await copyFile(serverCert.key, live.key);
  rotating = await startInProcess({
    listen: true,
    yaml: [
      users,
      "tls:",
      `  certificate: ${JSON.stringify(live.cert)}`,
      `  key: ${JSON.stringify(live.key)}`,
      "  reload: 100ms",
    ].join("\n"),
  });
  busybox = await busyboxLayout();
});

after(async () => {
  await mtls?.stop();
  await rotating?.stop();
  await work?.remove();
});

describe("TLS", () => {
  it("reports an https URL and answers no plain HTTP", async () => {
    assert.match(mtls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(rotating.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    await assert.rejects(fetch(`http://${hostOf(rotating)}/v2/`, { signal: AbortSignal.timeout(10_000) }));
  });

  it("skopeo pushes and inspects with --cert-dir and verification on", async () => {
    const ref = `docker://${hostOf(mtls)}/team/app:v1`;
    await skopeoOk([
      "copy",
      "--dest-cert-dir",
      certDirs.full,
      "--dest-creds",
      CREDS,
      `oci:${busybox.dir}:${busybox.tag}`,
      ref,
    ]);
    const raw = await skopeoOk(["inspect", "--raw", "--cert-dir", certDirs.full, "--creds", CREDS, ref]);
    assert.equal(sha256(raw.stdout), busybox.image.manifestDigest);
  });

  it("skopeo is refused without a client certificate or with one from another CA, and refuses a server its CA did not issue", async () => {
    const ref = `docker://${hostOf(mtls)}/team/app:v1`;
    const noClient = await skopeo(["inspect", "--raw", "--cert-dir", certDirs.caOnly, "--creds", CREDS, ref]);
    assert.notEqual(noClient.code, 0);
    assert.match(noClient.stderr, /certificate required/);
    const stranger = await skopeo([
      "inspect",
      "--raw",
      "--cert-dir",
      certDirs.stranger,
      "--creds",
      CREDS,
      ref,
    ]);
    assert.notEqual(stranger.code, 0);
    // Go sends only a certificate from a CA the server names, so none at all here.
    assert.match(stranger.stderr, /certificate required|unknown certificate authority|bad certificate/);
    const untrusted = await skopeo(["inspect", "--raw", "--cert-dir", certDirs.none, "--creds", CREDS, ref]);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certificate signed by unknown authority/);
  });

  it("podman pulls and pushes with --cert-dir", async () => {
    const podman = (args: readonly string[]) => podmanIn(work.path, args, true);
    const host = hostOf(mtls);
    const pulled = await podman([
      "pull",
      "--cert-dir",
      certDirs.full,
      "--creds",
      CREDS,
      `${host}/team/app:v1`,
    ]);
    const imageId = pulled.stdout.trim().split("\n").at(-1) ?? "";
    assert.equal(`sha256:${imageId}`, sha256(busybox.image.config));
    await podman([
      "push",
      "--cert-dir",
      certDirs.full,
      "--creds",
      CREDS,
      `${host}/team/app:v1`,
      `${host}/team/podman:v1`,
    ]);
    const config = await skopeoOk([
      "inspect",
      "--config",
      "--raw",
      "--cert-dir",
      certDirs.full,
      "--creds",
      CREDS,
      `docker://${host}/team/podman:v1`,
    ]);
    assert.equal(sha256(config.stdout), sha256(busybox.image.config));
  });

  it("containerd pulls with a hosts.toml and the CA, client certificate and key beside it", async () => {
    const host = hostOf(mtls);
    const hostsDir = join(work.path, "containerd-certs.d");
    const dir = join(hostsDir, host);
    await mkdir(dir, { recursive: true });
    await copyFile(ca.cert, join(dir, "ca.crt"));
    await copyFile(clientCert.cert, join(dir, "client.cert"));
    await copyFile(clientCert.key, join(dir, "client.key"));
    await writeFile(
      join(dir, "hosts.toml"),
      [
        `server = "https://${host}"`,
        `[host."https://${host}"]`,
        '  capabilities = ["pull", "resolve"]',
        `  ca = ${JSON.stringify(join(dir, "ca.crt"))}`,
        `  client = [[${JSON.stringify(join(dir, "client.cert"))}, ${JSON.stringify(join(dir, "client.key"))}]]`,
        "",
      ].join("\n"),
    );
    let containerd: Containerd | undefined;
    try {
      containerd = await startContainerd();
      const ref = `${host}/team/app:v1`;
      await containerd.ctrOk([
        "images",
        "pull",
        "--hosts-dir",
        hostsDir,
        "--user",
        CREDS,
        "--snapshotter",
        "native",
        ref,
      ]);
      const listed = await containerd.ctrOk(["images", "ls"]);
      const row = listed.stdout.split("\n").find((line) => line.startsWith(`${ref} `));
      assert.ok(row !== undefined, `no ${ref} in:\n${listed.stdout}`);
      assert.ok(row.includes(busybox.image.manifestDigest), row);
    } finally {
      await containerd?.stop();
    }
  });

  it("requires a client certificate from tls.clientCA, and Basic credentials still apply", async () => {
    await assert.rejects(get(mtls, "/v2/"), /certificate required/i);
    // Node's client sees the connection closed; skopeo shows the alert (test above).
    await assert.rejects(get(mtls, "/v2/", { client: strangerCert }));
    assert.equal((await get(mtls, "/v2/", { client: clientCert })).status, 401);
    const basic = `Basic ${Buffer.from(CREDS).toString("base64")}`;
    assert.equal((await get(mtls, "/v2/", { client: clientCert, authorization: basic })).status, 200);
  });

  it("serves a rotated certificate without a restart, and keeps it when the next pair is bad", async () => {
    assert.equal(await servedSerial(rotating), serverCert.serial);
    const next = await ca.issue("server-2", "server");
    assert.notEqual(next.serial, serverCert.serial);
    // As cert-manager and most renewal tools do: new files renamed over the old ones.
    await copyFile(next.key, `${live.key}.new`);
    await copyFile(next.cert, `${live.cert}.new`);
    await rename(`${live.key}.new`, live.key);
    await rename(`${live.cert}.new`, live.cert);
    const rotated = await eventually(async () => (await servedSerial(rotating)) === next.serial);
    assert.ok(rotated, "the new certificate was not served");

    // A key that does not belong to the certificate: logged, and the working pair kept.
    const seen = rotating.errors().length;
    const wrong = await ca.issue("server-3", "server");
    await copyFile(wrong.key, live.key);
    const logged = await eventually(async () =>
      rotating
        .errors()
        .slice(seen)
        .some((line) => line.includes("TLS certificate reload failed")),
    );
    assert.ok(logged, `no reload failure logged: ${rotating.errors().join("")}`);
    assert.match(rotating.errors().slice(seen).join(""), /key values mismatch/);
    assert.equal(await servedSerial(rotating), next.serial);
    const basic = `Basic ${Buffer.from(CREDS).toString("base64")}`;
    assert.equal((await get(rotating, "/v2/", { authorization: basic })).status, 200);
  });

  it("the strata CLI's registry client speaks TLS to a loopback registry that serves it", async () => {
    const env = {
      STRATA_USERNAME: "alice",
      STRATA_PASSWORD: PASSWORD,
      STRATA_CONFIG_DIR: join(work.path, "cli-config"),
      STRATA_DATA_DIR: join(work.path, "cli-data"),
      NODE_EXTRA_CA_CERTS: ca.cert,
    };
    const ref = `${hostOf(rotating)}/cli/app:v1`;
    const source = `oci-layout:${busybox.dir}:${busybox.tag}`;
    const pushed = await run(process.execPath, [BIN, "copy", source, ref], { env, timeoutMs: 120_000 });
    assert.equal(pushed.code, 0, pushed.stderr);
    const raw = await skopeoOk([
      "inspect",
      "--raw",
      "--cert-dir",
      certDirs.caOnly,
      "--creds",
      CREDS,
      `docker://${ref}`,
    ]);
    assert.equal(sha256(raw.stdout), busybox.image.manifestDigest);
    const untrusted = await run(process.execPath, [BIN, "pull", ref], {
      env: { ...env, NODE_EXTRA_CA_CERTS: "" },
      timeoutMs: 60_000,
    });
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.stderr,
      /Cannot reach registry 127\.0\.0\.1:\d+ .*: its TLS certificate is not trusted here \(add its CA to NODE_EXTRA_CA_CERTS\)/,
    );
  });

  it("the strata CLI reaches an https server whose CA is in NODE_EXTRA_CA_CERTS", async () => {
    const env = {
      STRATA_USERNAME: "alice",
      STRATA_PASSWORD: PASSWORD,
      STRATA_CONFIG_DIR: join(work.path, "cli-config"),
    };
    const args = [BIN, "gallery", "list", "--server", rotating.url];
    const trusted = await run(process.execPath, args, {
      env: { ...env, NODE_EXTRA_CA_CERTS: ca.cert },
      timeoutMs: 60_000,
    });
    assert.equal(trusted.code, 0, trusted.stderr);
    const untrusted = await run(process.execPath, args, {
      env: { ...env, NODE_EXTRA_CA_CERTS: "" },
      timeoutMs: 60_000,
    });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /Cannot reach Strata at https:\/\/127\.0\.0\.1:\d+: \S+/);
  });
});
