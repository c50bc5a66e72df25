/**
 * The agent's HTTP server; it lives in `http/` now. Re-exported here so existing imports keep working.
 */
export { apiBodyLimitBytes, buildServer, type ServerOptions } from "./http/server.ts";
