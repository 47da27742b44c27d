// Types shared by the route table and the handlers.
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import type { Digest, RepositoryName } from "../oci/index.ts";
import type { BlobStore, BodyWriter, MetadataStore, UploadStore } from "../store/index.ts";
import type { Action, Authenticator } from "./auth/index.ts";
import type { RegistryEvents } from "./events.ts";
import type { RegistryHooks } from "./hooks.ts";

export interface RegistryOptions {
  /** Largest manifest accepted on PUT (bytes); larger answers 413. */
  readonly manifestMaxBytes: number;
}

export interface RegistryDeps {
  readonly blobs: BlobStore;
  readonly uploads: UploadStore;
  readonly meta: MetadataStore;
  readonly auth: Authenticator;
  readonly log: Logger;
  readonly events: RegistryEvents;
  readonly options: RegistryOptions;
  /** Optional resolution and policy hooks (the gallery's pull path). */
  readonly hooks?: RegistryHooks;
}

export interface RouteParams {
  readonly name?: RepositoryName;
  readonly reference?: string;
  readonly digest?: string;
  readonly uuid?: string;
}

/** What a handler gets: the parsed request and the dependencies. */
export interface RequestContext {
  readonly deps: RegistryDeps;
  readonly method: string;
  readonly raw: IncomingMessage;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly params: RouteParams;
  readonly baseUrl: string;
  readonly user: string | undefined;
  /** Manifest bytes by digest, through the registry's cache of immutable content. */
  readonly manifestBytes: (digest: Digest, size: number) => Promise<Buffer>;
}

export type ResponseBody =
  Buffer | string | NodeJS.ReadableStream | BodyWriter | Record<string, unknown> | undefined;

/** What a handler returns; one place writes it to the socket. */
export interface RegistryResponse {
  readonly status: number;
  readonly headers?: Record<string, string | number>;
  readonly body?: ResponseBody;
}

export type Handler = (ctx: RequestContext) => Promise<RegistryResponse>;

export interface Route {
  /** Stable name used in metrics and logs. */
  readonly name: string;
  readonly pattern: RegExp;
  /** Handlers by method; a method missing here answers 405. */
  readonly methods: Readonly<Partial<Record<string, Handler>>>;
  /** The access a method needs; undefined = no repository scope (ping, catalog). */
  readonly access: (method: string) => { actions: Action[]; catalog?: boolean };
}
