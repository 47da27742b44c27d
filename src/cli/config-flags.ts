// Turns the flags commands share (--config, --addr, --data, --database, --log-level) into a
// loaded configuration: file, then STRATA_ environment, then the flags.
import { loadConfig, type Config } from "../server/index.ts";
import type { CliIo } from "./io.ts";

export interface ConfigFlags {
  readonly config?: string;
  readonly addr?: string;
  readonly data?: string;
  readonly database?: string;
  readonly logLevel?: string;
}

export function configFromFlags(flags: ConfigFlags, io: CliIo): Promise<Config> {
  return loadConfig({
    ...(flags.config === undefined ? {} : { file: flags.config }),
    env: io.env,
    overrides: {
      ...(flags.addr === undefined ? {} : { addr: flags.addr }),
      ...(flags.data === undefined ? {} : { data: flags.data }),
      ...(flags.database === undefined ? {} : { database: flags.database }),
      ...(flags.logLevel === undefined ? {} : { log: { level: flags.logLevel } }),
    },
  });
}
