// `strata serve`: starts the registry with a configuration file, environment and flags.
import type { Command } from "commander";
import type { CliIo } from "../io.ts";

export function registerServe(program: Command, io: CliIo): void {
  program
    .command("serve")
    .description("Run the registry server")
    .option("--addr <host:port>", "address to listen on (default 127.0.0.1:5000)")
    .option("--data <dir>", "data directory for blobs and the default SQLite database (default ./.strata)")
    .option("--config <file>", "YAML configuration file (default ./strata.yaml when it exists)")
    .option("--database <url>", "metadata database: sqlite:PATH or postgres://…")
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent")
    .action(
      async (flags: {
        addr?: string;
        data?: string;
        config?: string;
        database?: string;
        logLevel?: string;
      }) => {
        // Loaded here, not at start: other commands need not load the server.
        const { startServer } = await import("../../server/index.ts");
        const { configFromFlags } = await import("../config-flags.ts");
        const config = await configFromFlags(flags, io);
        const server = await startServer(config);
        const stop = (signal: string): void => {
          server.log.info({ signal }, "shutting down");
          server.close().then(
            () => process.exit(0),
            (err: unknown) => {
              server.log.error({ err }, "shutdown failed");
              process.exit(1);
            },
          );
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      },
    );
}
