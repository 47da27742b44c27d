// Public surface of the composition root.
export { startServer, type StrataServer, type StartOptions } from "./server.ts";
export { loadConfig, type Config } from "./config.ts";
export { parseAddr } from "./addr.ts";
