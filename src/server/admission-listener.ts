// The Kubernetes admission webhooks on a listener of their own (`admission.addr`), over HTTPS
// with the `admission` certificate, read again every `tls.reload` like the server's own. Started
// only when `admission.addr` is set; the decision and the resolver are injected.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { registerAdmission, type AdmissionDeps } from "../admission/index.ts";
import { parseAddr } from "./addr.ts";
import type { Config } from "./config.ts";
import { loadServerTls, type ServerTls } from "./tls.ts";

export interface AdmissionListener {
  readonly app: FastifyInstance;
  /** https://HOST:PORT, or "" when not listening (in-process tests). */
  readonly url: string;
  close(): Promise<void>;
}

/** The admission TLS files, loaded before anything else starts; undefined when the webhooks are off. */
export async function loadAdmissionTls(config: Config, log: Logger): Promise<ServerTls | undefined> {
  const { addr, certificate, key, clientCA } = config.admission;
  if (addr === undefined) return undefined;
  return loadServerTls(
    {
      reload: config.tls.reload,
      ...(certificate === undefined ? {} : { certificate }),
      ...(key === undefined ? {} : { key }),
      ...(clientCA === undefined ? {} : { clientCA }),
    },
    log,
    "admission",
  );
}

export async function startAdmissionListener(
  config: Config,
  tls: ServerTls,
  deps: AdmissionDeps & { readonly log: Logger; readonly listen: boolean },
): Promise<AdmissionListener> {
  const app = Fastify({
    https: tls.options,
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });
  tls.watch(app.server);
  registerAdmission(app, deps, {
    timeoutMs: config.admission.timeout,
    bodyMaxBytes: config.admission.bodyMaxBytes,
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: `No admission webhook at ${req.method} ${JSON.stringify(req.url)}: use POST /validate or POST /mutate`,
    }),
  );
  let url = "";
  if (deps.listen && config.admission.addr !== undefined) {
    const { host, port } = parseAddr(config.admission.addr);
    url = await app.listen({ host, port });
    deps.log.info({ url }, "admission webhooks listening");
  } else {
    await app.ready();
  }
  return {
    app,
    url,
    async close() {
      tls.close();
      await app.close();
    },
  };
}
