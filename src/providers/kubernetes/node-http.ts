import type http from "node:http";

/**
 * node:http, from Node's table of built-in modules rather than an ESM import. Importing it as
 * ESM builds its ESM namespace, which reads its lazy `WebSocket`, `CloseEvent` and
 * `MessageEvent` exports and so loads undici: 20–30 ms of every CLI start on Node 24, for
 * nothing gitward uses. (node:https has no such exports.) Types are imported as usual.
 */
export function nodeHttp(): typeof http {
  return process.getBuiltinModule("node:http");
}
