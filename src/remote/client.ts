// An OCI Distribution client for one registry: requests with the registry's authentication
// (Basic, or the Bearer token flow a `WWW-Authenticate` challenge names, with tokens kept per
// scope), blobs streamed to and from files through a verifying stream, manifests as bytes.
// Registries named insecure are spoken to over plain HTTP, all others over HTTPS; a loopback
// registry is tried over HTTPS first and spoken to over plain HTTP when it does not speak TLS
// (docker's rule for localhost), so a local registry works whichever it serves.
import { createReadStream, createWriteStream } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createHash, randomBytes } from "node:crypto";
import { VerifyStream, type Digest } from "../oci/index.ts";
import { RemoteError } from "./errors.ts";

type RequestBody = NonNullable<RequestInit["body"]>;

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export interface ClientOptions {
  /** `host[:port]` as in a reference. */
  readonly registry: string;
  readonly credentials?: RegistryCredentials;
  /** Plain HTTP even for a host that is not loopback. */
  readonly insecure?: boolean;
  /** Per request, milliseconds; default 5 minutes (blobs stream under it). */
  readonly timeoutMs?: number;
}

export interface Fetched {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: string;
}

/** Called as bytes of a blob move: the digest, bytes so far, and the total. */
export type BytesProgress = (digest: string, done: number, total: number) => void;

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/** Node's codes for a certificate chain this machine does not trust. */
const UNTRUSTED =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED)$/;

/** True when `registry` may be spoken to over plain HTTP when it does not speak TLS. */
export const isLoopbackRegistry = (registry: string): boolean => LOOPBACK.test(registry);

interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) params[(p[1] ?? "").toLowerCase()] = p[2] ?? "";
  return { scheme: (m[1] ?? "").toLowerCase(), params };
}

function counting(digest: string, total: number, progress: BytesProgress | undefined): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      progress?.(digest, done, total);
      callback(null, chunk);
    },
  });
}

export class RegistryClient {
  readonly registry: string;
  /** `https://host[:port]`, or `http://…` for an insecure registry or one found not to speak TLS. */
  base: string;
  /** The probe of a loopback registry's scheme, made before its first request. */
  private probe: Promise<void> | undefined;
  private readonly probing: boolean;
  private readonly credentials: RegistryCredentials | undefined;
  private readonly timeoutMs: number;
  /** Authorization header per scope, once a challenge was answered. */
  private readonly authorizations = new Map<string, string>();

  constructor(options: ClientOptions) {
    this.registry = options.registry;
    this.base = `${options.insecure === true ? "http" : "https"}://${options.registry}`;
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs ?? 300_000;
    this.probing = options.insecure !== true && isLoopbackRegistry(options.registry);
  }

  /**
   * HTTPS unless the registry answers a TLS handshake in another protocol (a plain HTTP server
   * answers with HTTP or closes): then plain HTTP. A certificate this machine does not trust is
   * an error, not a reason to drop TLS.
   */
  private async probeScheme(): Promise<void> {
    try {
      const response = await fetch(`${this.base}/v2/`, { signal: AbortSignal.timeout(this.timeoutMs) });
      await response.body?.cancel();
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code ?? "";
      if (
        /^(EPROTO|ECONNRESET|ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG|UND_ERR_SOCKET)$/.test(
          code,
        )
      )
        this.base = `http://${this.registry}`;
    }
  }

  private basic(): string | undefined {
    const c = this.credentials;
    return c === undefined
      ? undefined
      : `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
  }

  private async send(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: "follow", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const reason = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = reason?.code ?? reason?.message ?? (error as Error).message;
      const hint = UNTRUSTED.test(reason?.code ?? "")
        ? ": its TLS certificate is not trusted here (add its CA to NODE_EXTRA_CA_CERTS)"
        : "";
      throw new RemoteError(`Cannot reach registry ${this.registry} (${what}): ${why}${hint}`, {
        cause: error,
      });
    }
  }

  /** Answers a 401 challenge; returns the header to retry with, or undefined when none helps. */
  private async authorize(challenge: Challenge | undefined, scope: string): Promise<string | undefined> {
    if (challenge === undefined) return undefined;
    if (challenge.scheme === "basic") return this.basic();
    if (challenge.scheme !== "bearer" || challenge.params.realm === undefined) return undefined;
    const url = new URL(challenge.params.realm);
    if (challenge.params.service !== undefined) url.searchParams.set("service", challenge.params.service);
    url.searchParams.set("scope", challenge.params.scope ?? scope);
    const basic = this.basic();
    const response = await this.send(
      url.href,
      { headers: basic === undefined ? {} : { authorization: basic } },
      "token",
    );
    if (!response.ok) {
      await response.body?.cancel();
      throw new RemoteError(
        `Registry ${this.registry} refused a token for ${scope}: HTTP ${response.status}${basic === undefined ? " (no credentials: strata login first)" : ""}`,
        { status: response.status },
      );
    }
    const body = (await response.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token === undefined ? undefined : `Bearer ${token}`;
  }

  /**
   * A request on `path` (under the registry's base, or absolute), authorized for `scope`
   * (`repository:NAME:pull` or `…:pull,push`); a 401 is answered once and the request sent
   * again, its body made anew by `body()`.
   */
  async request(
    method: string,
    path: string,
    options: {
      scope: string;
      headers?: Record<string, string>;
      body?: () => RequestBody;
      what: string;
    },
  ): Promise<Response> {
    if (this.probing) await (this.probe ??= this.probeScheme());
    const url = /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
    const init = (authorization: string | undefined): RequestInit => ({
      method,
      headers: { ...options.headers, ...(authorization === undefined ? {} : { authorization }) },
      ...(options.body === undefined ? {} : { body: options.body(), duplex: "half" }),
    });
    const known = this.authorizations.get(options.scope);
    let response = await this.send(url, init(known), options.what);
    if (response.status === 401) {
      const authorization = await this.authorize(
        parseChallenge(response.headers.get("www-authenticate")),
        options.scope,
      );
      if (authorization !== undefined) {
        await response.body?.cancel();
        this.authorizations.set(options.scope, authorization);
        response = await this.send(url, init(authorization), options.what);
      }
    }
    return response;
  }

  /** Throws the registry's own error message for a failed answer. */
  async fail(response: Response, what: string): Promise<never> {
    const text = await response.text().catch(() => "");
    let message: string | undefined;
    try {
      const first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
      if (first !== undefined) message = [first.code, first.message].filter(Boolean).join(": ");
    } catch {
      // not JSON
    }
    const hint =
      response.status === 401 && this.credentials === undefined
        ? ` (log in first: strata login --server ${this.base})`
        : "";
    throw new RemoteError(
      `${what}: ${this.registry} answered HTTP ${response.status}${message === undefined ? "" : ` ${message}`}${hint}`,
      { status: response.status },
    );
  }

  async getManifest(repository: string, reference: string, accept: readonly string[]): Promise<Fetched> {
    const what = `manifest ${repository}:${reference}`;
    const response = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull`,
      headers: { accept: accept.join(", ") },
      what,
    });
    if (!response.ok) return this.fail(response, `Cannot get ${what}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const algorithm = reference.startsWith("sha512:") ? "sha512" : "sha256";
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
    if (reference.includes(":") && digest !== reference)
      throw new RemoteError(`${what} does not match its digest: the registry sent ${digest}`);
    const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    return { bytes, mediaType, digest };
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const response = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scope: `repository:${repository}:pull`,
      what: `blob ${digest}`,
    });
    if (response.status === 404) return false;
    if (!response.ok) return this.fail(response, `Cannot check blob ${digest} in ${repository}`);
    return true;
  }

  /** Downloads a blob into `path` (atomically, verified against digest and size). */
  async getBlob(
    repository: string,
    digest: string,
    size: number,
    path: string,
    progress?: BytesProgress,
  ): Promise<void> {
    const response = await this.request("GET", `/v2/${repository}/blobs/${digest}`, {
      scope: `repository:${repository}:pull`,
      what: `blob ${digest}`,
    });
    if (!response.ok || response.body === null) return this.fail(response, `Cannot get blob ${digest}`);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.part`;
    try {
      await pipeline(
        Readable.fromWeb(response.body as never),
        counting(digest, size, progress),
        new VerifyStream({ digest: digest as Digest, size }),
        createWriteStream(tmp),
      );
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      if (error instanceof RemoteError) throw error;
      throw new RemoteError(`Blob ${digest} from ${this.registry}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Downloads a small blob into memory, verified against digest and size as it arrives (a body
   * longer than `size` is refused before it is all read).
   */
  async getBlobBytes(repository: string, digest: string, size: number): Promise<Buffer> {
    const response = await this.request("GET", `/v2/${repository}/blobs/${digest}`, {
      scope: `repository:${repository}:pull`,
      what: `blob ${digest}`,
    });
    if (!response.ok || response.body === null) return this.fail(response, `Cannot get blob ${digest}`);
    const parts: Buffer[] = [];
    try {
      await pipeline(
        Readable.fromWeb(response.body as never),
        new VerifyStream({ digest: digest as Digest, size }),
        async (source: AsyncIterable<Buffer>) => {
          for await (const part of source) parts.push(part);
        },
      );
    } catch (error) {
      throw new RemoteError(`Blob ${digest} from ${this.registry}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return Buffer.concat(parts);
  }

  /** Pushes a blob from a file (or bytes) unless the repository has it; true when sent. */
  async putBlob(
    repository: string,
    blob: { digest: string; size: number; path?: string; bytes?: Buffer },
    progress?: BytesProgress,
  ): Promise<boolean> {
    const scope = `repository:${repository}:pull,push`;
    const head = await this.request("HEAD", `/v2/${repository}/blobs/${blob.digest}`, {
      scope,
      what: `blob ${blob.digest}`,
    });
    if (head.ok) return false;
    if (head.status !== 404) return this.fail(head, `Cannot check blob ${blob.digest} in ${repository}`);
    const url = await this.startUpload(repository, blob.digest, scope);
    if (blob.path !== undefined && (await stat(blob.path)).size !== blob.size)
      throw new RemoteError(`Blob ${blob.digest} at ${blob.path} changed size; nothing pushed`);
    const body = (): RequestBody =>
      blob.bytes !== undefined
        ? blob.bytes
        : (Readable.toWeb(
            createReadStream(blob.path ?? "").pipe(counting(blob.digest, blob.size, progress)),
          ) as unknown as RequestBody);
    const put = await this.request("PUT", url.href, {
      scope,
      headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
      body,
      what: `upload of ${blob.digest}`,
    });
    if (put.status !== 201) return this.fail(put, `Cannot push blob ${blob.digest} to ${repository}`);
    await put.body?.cancel();
    return true;
  }

  /** Opens an upload session; the URL its PUT goes to, with the digest set. */
  private async startUpload(repository: string, digest: string, scope: string): Promise<URL> {
    const start = await this.request("POST", `/v2/${repository}/blobs/uploads/`, {
      scope,
      what: `upload of ${digest}`,
    });
    if (start.status !== 202) return this.fail(start, `Cannot start an upload to ${repository}`);
    await start.body?.cancel();
    const location = start.headers.get("location");
    if (location === null) throw new RemoteError(`Registry ${this.registry} gave no upload location`);
    const url = new URL(location, this.base);
    url.searchParams.set("digest", digest);
    return url;
  }

  /**
   * Mounts a blob the registry holds in repository `from` into `repository` without sending it
   * (`POST …/blobs/uploads/?mount=&from=`); false when the registry did not mount it (it opened
   * an upload instead, which is left to expire).
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const response = await this.request("POST", `/v2/${repository}/blobs/uploads/?${query}`, {
      scope: `repository:${repository}:pull,push`,
      what: `mount of ${digest}`,
    });
    await response.body?.cancel();
    return response.status === 201;
  }

  /**
   * Uploads a blob the caller knows the repository lacks (no HEAD first), its bytes read from
   * the stream `open` gives, counted through `progress`.
   */
  async uploadBlob(
    repository: string,
    blob: { digest: string; size: number },
    open: () => Promise<Readable>,
    progress?: BytesProgress,
  ): Promise<void> {
    const scope = `repository:${repository}:pull,push`;
    const url = await this.startUpload(repository, blob.digest, scope);
    // The POST answered for this scope, so the PUT carries the authorization it settled on and
    // is sent once, its body piped straight from the stream to the socket.
    const authorization = this.authorizations.get(scope);
    const source = await open();
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const put = (url.protocol === "https:" ? httpsRequest : httpRequest)(
        url,
        {
          method: "PUT",
          headers: {
            "content-type": "application/octet-stream",
            "content-length": String(blob.size),
            ...(authorization === undefined ? {} : { authorization }),
          },
          timeout: this.timeoutMs,
        },
        (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            if (body.length < 4096) body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
          response.on("error", reject);
        },
      );
      put.on("timeout", () => put.destroy(new Error("timed out")));
      pipeline(source, counting(blob.digest, blob.size, progress), put).catch(reject);
    }).catch((error: unknown) => {
      source.destroy();
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      throw new RemoteError(`Cannot reach registry ${this.registry} (upload of ${blob.digest}): ${reason}`, {
        cause: error,
      });
    });
    if (status.status !== 201)
      return this.fail(
        new Response(status.body, { status: status.status }),
        `Cannot push blob ${blob.digest} to ${repository}`,
      );
  }

  /** Deletes a manifest by digest; false when the registry did not have it. */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const response = await this.request("DELETE", `/v2/${repository}/manifests/${digest}`, {
      scope: `repository:${repository}:pull,push,delete`,
      what: `manifest ${repository}@${digest}`,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return false;
    }
    if (response.status !== 202 && response.status !== 200)
      return this.fail(response, `Cannot delete manifest ${repository}@${digest}`);
    await response.body?.cancel();
    return true;
  }

  /** Pushes a manifest; returns the answer's headers (OCI-Subject tells a referrer was indexed). */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<Headers> {
    const response = await this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull,push`,
      headers: { "content-type": mediaType },
      body: () => bytes,
      what: `manifest ${repository}:${reference}`,
    });
    if (response.status !== 201)
      return this.fail(response, `Cannot push manifest ${repository}:${reference}`);
    await response.body?.cancel();
    return response.headers;
  }
}
