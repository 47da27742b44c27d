// TLS files that cannot serve stop the start with an error naming the key and the file, before
// anything is created. (Serving, rotation and client certificates: test/e2e/tls.test.ts.)
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import { createTestCa, type IssuedCertificate, type TestCa } from "../../test/helpers/test-ca.ts";
import { loadConfig } from "./config.ts";
import { startServer } from "./server.ts";

let dir = "";
let ca: TestCa;
let server: IssuedCertificate;
let other: IssuedCertificate;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-tls-"));
  ca = await createTestCa(dir);
  server = await ca.issue("server", "server");
  other = await ca.issue("other", "server");
  await writeFile(
    join(dir, "garbage.pem"),
    "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
  );
});
after(() => rm(dir, { recursive: true, force: true }));

async function startError(tls: { certificate: string; key: string; clientCA?: string }): Promise<string> {
  const data = join(dir, "data");
  const config = await loadConfig({
    file: null,
    overrides: { addr: "127.0.0.1:0", data, tls },
  });
  try {
    const started = await startServer(config, { log: pino({ level: "silent" }), listen: false });
    await started.close();
  } catch (error) {
    await assert.rejects(access(data), "nothing is created when TLS does not load");
    return (error as Error).message;
  }
  return assert.fail("expected startServer to fail");
}

describe("TLS files at start", () => {
  test("a missing certificate, key or client CA", async () => {
    const missing = join(dir, "missing.pem");
    assert.equal(
      await startError({ certificate: missing, key: server.key }),
      `Cannot read tls.certificate "${missing}": file not found`,
    );
    assert.equal(
      await startError({ certificate: server.cert, key: missing }),
      `Cannot read tls.key "${missing}": file not found`,
    );
    assert.equal(
      await startError({ certificate: server.cert, key: server.key, clientCA: missing }),
      `Cannot read tls.clientCA "${missing}": file not found`,
    );
  });

  test("a key of another certificate", async () => {
    assert.equal(
      await startError({ certificate: server.cert, key: other.key }),
      `Cannot load tls.certificate "${server.cert}" with tls.key "${other.key}": key values mismatch`,
    );
  });

  test("files that are not PEM certificates", async () => {
    const garbage = join(dir, "garbage.pem");
    assert.equal(
      await startError({ certificate: garbage, key: server.key }),
      `Cannot load tls.certificate "${garbage}": not a PEM certificate`,
    );
    assert.equal(
      await startError({ certificate: server.key, key: server.key }),
      `Cannot load tls.certificate "${server.key}": not a PEM certificate`,
    );
    assert.equal(
      await startError({ certificate: server.cert, key: server.key, clientCA: garbage }),
      `Cannot load tls.clientCA "${garbage}": not a PEM certificate`,
    );
  });

  test("a key file that holds no key, or an encrypted key", async () => {
    assert.equal(
      await startError({ certificate: server.cert, key: server.cert }),
      `Cannot load tls.key "${server.cert}": not a PEM private key`,
    );
    const encrypted = join(dir, "encrypted.key");
    const key = createPrivateKey(await readFile(server.key));
    await writeFile(
      encrypted,
      key.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }),
    );
    assert.equal(
      await startError({ certificate: server.cert, key: encrypted }),
      `Cannot load tls.key "${encrypted}": the key is encrypted; give it unencrypted`,
    );
  });

  test("a good set starts and reports an https URL", async () => {
    const config = await loadConfig({
      file: null,
      overrides: {
        addr: "127.0.0.1:0",
        data: join(dir, "good"),
        tls: { certificate: server.cert, key: server.key },
      },
    });
    const started = await startServer(config, { log: pino({ level: "silent" }) });
    try {
      assert.match(started.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await started.close();
    }
  });
});
