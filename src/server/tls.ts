// HTTPS for the server. The certificate, its key and the optional client CA are PEM files read at
// start and read again every `tls.reload`: a changed set is loaded into the listening server
// (setSecureContext), so new connections get it without a restart while open ones keep theirs.
// A set that does not load (a file missing or unreadable, bad PEM, a key that does not match the
// certificate — as in the middle of a rotation that writes one file after the other) is logged
// once and the previous set kept; the next change is tried again.
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ServerOptions } from "node:https";
import type { Server as NetServer } from "node:net";
import { createSecureContext, Server as TlsServer } from "node:tls";
import type { Logger } from "pino";
import type { TlsConfig } from "./config-tls.ts";

export interface ServerTls {
  /** node:https server options, for Fastify's `https`. */
  readonly options: ServerOptions;
  /** Starts checking the files; a changed set is loaded into `server` (a TLS server) for new connections. */
  watch(server: NetServer): void;
  /** Stops checking. */
  close(): void;
}

interface Pem {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
}

/** What identifies a loaded certificate in logs. */
interface CertificateInfo {
  readonly subject: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly fingerprint: string;
}

type Files = { readonly [K in keyof Pem]-?: string | undefined } & {
  /** The configuration keys' prefix, for messages: "tls" or "admission". */
  readonly prefix: string;
};

async function readPem(key: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file not found" : code === "EACCES" ? "permission denied" : String(code);
    throw new Error(`Cannot read ${key} "${file}": ${why}`, { cause: error });
  }
}

async function readAll(files: Files): Promise<Pem> {
  const [cert, key, ca] = await Promise.all([
    readPem(`${files.prefix}.certificate`, files.cert ?? ""),
    readPem(`${files.prefix}.key`, files.key ?? ""),
    files.ca === undefined ? undefined : readPem(`${files.prefix}.clientCA`, files.ca),
  ]);
  return ca === undefined ? { cert, key } : { cert, key, ca };
}

/** Checks that the set loads (PEM parses, key matches certificate) and describes its certificate. */
function check(pem: Pem, files: Files): CertificateInfo {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pem.cert);
  } catch (error) {
    throw new Error(`Cannot load ${files.prefix}.certificate "${files.cert}": not a PEM certificate`, {
      cause: error,
    });
  }
  if (pem.ca !== undefined) {
    try {
      new X509Certificate(pem.ca);
    } catch (error) {
      throw new Error(`Cannot load ${files.prefix}.clientCA "${files.ca}": not a PEM certificate`, {
        cause: error,
      });
    }
  }
  try {
    createPrivateKey(pem.key);
  } catch (error) {
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(
      pem.key.toString("latin1"),
    );
    throw new Error(
      `Cannot load ${files.prefix}.key "${files.key}": ${encrypted ? "the key is encrypted; give it unencrypted" : "not a PEM private key"}`,
      { cause: error },
    );
  }
  try {
    createSecureContext(pem);
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, "") : "";
    throw new Error(
      `Cannot load ${files.prefix}.certificate "${files.cert}" with ${files.prefix}.key "${files.key}": ${why}`,
      {
        cause: error,
      },
    );
  }
  return {
    subject: leaf.subject.replaceAll("\n", ", "),
    serial: leaf.serialNumber,
    notAfter: new Date(leaf.validTo).toISOString(),
    fingerprint: leaf.fingerprint256,
  };
}

function signature(pem: Pem): string {
  const hash = createHash("sha256");
  for (const part of [pem.cert, pem.key, pem.ca ?? Buffer.alloc(0)])
    hash.update(`${part.length}:`).update(part);
  return hash.digest("hex");
}

/**
 * The server's TLS from the configuration, or undefined when it serves plain HTTP. `prefix` names
 * the configuration keys in messages: "tls" for the server, "admission" for the webhooks.
 */
export async function loadServerTls(
  config: Pick<TlsConfig, "certificate" | "key" | "clientCA" | "reload">,
  log: Logger,
  prefix = "tls",
): Promise<ServerTls | undefined> {
  if (config.certificate === undefined || config.key === undefined) return undefined;
  const files: Files = { cert: config.certificate, key: config.key, ca: config.clientCA, prefix };
  const pem = await readAll(files);
  const info = check(pem, files);
  const clientAuth = pem.ca !== undefined;
  log.info({ ...info, clientCA: clientAuth }, "TLS certificate loaded");
  if (Date.parse(info.notAfter) < Date.now()) log.warn(info, "TLS certificate expired");

  let current = signature(pem);
  let failed = "";
  let timer: NodeJS.Timeout | undefined;
  let busy = false;

  async function reload(server: TlsServer): Promise<void> {
    let next: Pem;
    let sig: string;
    try {
      next = await readAll(files);
      sig = signature(next);
    } catch (error) {
      sig = `unreadable:${(error as Error).message}`;
      if (sig !== failed)
        log.error({ err: error }, "TLS certificate reload failed; keeping the previous certificate");
      failed = sig;
      return;
    }
    if (sig === current || sig === failed) return;
    try {
      const loaded = check(next, files);
      server.setSecureContext(next);
      current = sig;
      failed = "";
      log.info(loaded, "TLS certificate reloaded");
    } catch (error) {
      failed = sig;
      log.error({ err: error }, "TLS certificate reload failed; keeping the previous certificate");
    }
  }

  return {
    options: { ...pem, requestCert: clientAuth, rejectUnauthorized: clientAuth },
    watch(server) {
      if (!(server instanceof TlsServer)) throw new TypeError("Cannot reload TLS files: not a TLS server");
      timer ??= setInterval(() => {
        if (busy) return;
        busy = true;
        void reload(server).finally(() => (busy = false));
      }, config.reload);
      timer.unref();
    },
    close() {
      clearInterval(timer);
    },
  };
}
