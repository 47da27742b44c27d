// A throwaway certificate authority made with openssl in a folder of its own: a CA certificate,
// then server certificates (for 127.0.0.1 and localhost) and client certificates it issues, each
// with a random serial, valid for two days. ECDSA P-256 keys, which every client of the tests takes.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runOk } from "./exec.ts";

export interface IssuedCertificate {
  /** PEM certificate file. */
  readonly cert: string;
  /** PEM private key file (unencrypted). */
  readonly key: string;
  /** Serial number in upper-case hex, as node's X509Certificate and getPeerCertificate() show it. */
  readonly serial: string;
}

export interface TestCa {
  /** The CA certificate (PEM file). */
  readonly cert: string;
  /** Issues a certificate named `name` (files `name.crt`, `name.key` in the CA's folder). */
  issue(name: string, use: "server" | "client"): Promise<IssuedCertificate>;
}

const openssl = (args: readonly string[], cwd: string) => runOk("openssl", args, { cwd, timeoutMs: 30_000 });
const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Creates a CA named `name` in `dir` (which must exist). */
export async function createTestCa(dir: string, name = "Strata Test CA"): Promise<TestCa> {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const caCert = join(dir, `${slug}.crt`);
  const caKey = join(dir, `${slug}.key`);
  await openssl(
    [
      "req",
      "-x509",
      ...ecKey,
      "-keyout",
      caKey,
      "-out",
      caCert,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  return {
    cert: caCert,
    async issue(leaf, use) {
      const cert = join(dir, `${leaf}.crt`);
      const key = join(dir, `${leaf}.key`);
      const csr = join(dir, `${leaf}.csr`);
      const ext = join(dir, `${leaf}.ext`);
      // A positive serial without a leading zero byte, so every tool prints the same hex.
      const serial = `7${randomBytes(8).toString("hex").toUpperCase().slice(1)}`;
      await writeFile(
        ext,
        [
          "basicConstraints=critical,CA:FALSE",
          "keyUsage=critical,digitalSignature",
          `extendedKeyUsage=${use === "server" ? "serverAuth" : "clientAuth"}`,
          ...(use === "server" ? ["subjectAltName=IP:127.0.0.1,DNS:localhost"] : []),
        ].join("\n"),
      );
      await openssl(["req", "-new", ...ecKey, "-keyout", key, "-out", csr, "-subj", `/CN=${leaf}`], dir);
      await openssl(
        [
          "x509",
          "-req",
          "-in",
          csr,
          "-CA",
          caCert,
          "-CAkey",
          caKey,
          "-set_serial",
          `0x${serial}`,
          "-days",
          "2",
          "-extfile",
          ext,
          "-out",
          cert,
        ],
        dir,
      );
      return { cert, key, serial };
    },
  };
}
