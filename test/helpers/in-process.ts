// An in-process Strata server on a temporary data directory (SQLite unless a database URL is
// given), driven through Fastify's inject() or, with listen, over a loopback socket.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { AdmissionDeps } from "../../src/admission/index.ts";
import type { RegistryHooks } from "../../src/registry/index.ts";
import { loadConfig, startServer, type StrataServer } from "../../src/server/index.ts";
import { freePort } from "./ports.ts";

export interface InProcess {
  readonly server: StrataServer;
  /** Error log lines (JSON) the server wrote, for assertion messages. */
  errors(): readonly string[];
  readonly dataDir: string;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startInProcess(
  options: {
    listen?: boolean;
    database?: string;
    yaml?: string;
    env?: Record<string, string>;
    /** A data directory to share with another server; kept on stop. */
    data?: string;
    hooks?: RegistryHooks;
    /** The gallery's clock. */
    now?: () => number;
    /** The admission webhooks' decision and resolver. */
    admission?: AdmissionDeps;
    /** The built web console's folder. */
    webRoot?: string;
  } = {},
): Promise<InProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "strata-test-"));
  let file: string | undefined;
  if (options.yaml !== undefined) {
    const { writeFile } = await import("node:fs/promises");
    file = join(dataDir, "strata.yaml");
    await writeFile(file, options.yaml);
  }
  const port = options.listen === true ? await freePort() : 0;
  const config = await loadConfig({
    file: file ?? null,
    env: options.env ?? {},
    overrides: {
      addr: `127.0.0.1:${port}`,
      data: options.data ?? join(dataDir, "data"),
      ...(options.database === undefined ? {} : { database: options.database }),
    },
  });
  const logged: string[] = [];
  const server = await startServer(config, {
    log: pino({ level: "error" }, { write: (line: string) => void logged.push(line) }),
    listen: options.listen === true,
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.admission === undefined ? {} : { admission: options.admission }),
    ...(options.webRoot === undefined ? {} : { webRoot: options.webRoot }),
  });
  return {
    server,
    errors: () => logged,
    dataDir,
    url: server.url,
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
