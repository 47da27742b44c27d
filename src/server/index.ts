// Public surface of the composition root.
export { startServer, type StrataServer, type StartOptions } from "./server.ts";
export { loadConfig, type Config, type ConfigInput, type LoadConfigOptions } from "./config.ts";
export { ConfigError } from "./config-error.ts";
export { parseAddr } from "./addr.ts";
export { parseDuration } from "./duration.ts";
