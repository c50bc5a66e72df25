/**
 * A cache of whole JSON answers for the hot read endpoints (status, environments, stacks,
 * history). Building the agent's status for 1,000 stacks, checking it against its schema and
 * serializing it costs milliseconds; dashboards and the UI ask for the same answer many times a
 * second. An answer is built, checked with its zod schema and serialized once, kept with a gzip
 * copy, and reused until the agent publishes an event (a sync, drift, health or gate change) or
 * `maxAgeMs` passes, whichever comes first; so it is at most that old (queue depths and times
 * that change without an event).
 */
import { gzipSync } from "node:zlib";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ZodType } from "zod";

/** One cached answer: its JSON, its gzip, when and at which event it was built. */
interface Entry {
  readonly at: number;
  readonly version: number;
  readonly json: Buffer;
  readonly gzip: Buffer;
}

/** Options of {@link ResponseCache}. */
export interface ResponseCacheOptions {
  /** The agent's last event id: a new one means the answers may have changed. */
  readonly version: () => number;
  /** The longest an answer is reused without an event; default 1 s. */
  readonly maxAgeMs?: number;
  /** Answers kept at most; the oldest go first. Default 256. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/** Bodies under this size are sent as they are: compressing them costs more than it saves. */
const gzipFrom = 1024;

/** Whole JSON answers, built once per agent event. */
export class ResponseCache {
  readonly #o: ResponseCacheOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #building = new Map<string, Promise<Entry>>();

  constructor(o: ResponseCacheOptions) {
    this.#o = o;
  }

  /**
   * Sends the answer for `key`: the cached one while fresh, else `build()`'s, checked against
   * `schema` (a mismatch is a bug and throws, as the serializer would) and kept.
   */
  async send(req: FastifyRequest, reply: FastifyReply, key: string, schema: ZodType, build: () => Promise<unknown>): Promise<FastifyReply> {
    const entry = await this.#entry(key, schema, build);
    const gzip = entry.gzip.length > 0 && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    void reply.header("content-type", "application/json; charset=utf-8").header("vary", "accept-encoding");
    if (gzip) void reply.header("content-encoding", "gzip");
    return reply.send(gzip ? entry.gzip : entry.json);
  }

  async #entry(key: string, schema: ZodType, build: () => Promise<unknown>): Promise<Entry> {
    const version = this.#o.version();
    const now = (this.#o.now ?? Date.now)();
    const hit = this.#entries.get(key);
    if (hit !== undefined && hit.version === version && now - hit.at < (this.#o.maxAgeMs ?? 1000)) return hit;
    // Concurrent requests for the same answer share one build.
    let building = this.#building.get(key);
    if (building === undefined) {
      building = (async () => {
        const value = schema.parse(await build());
        const json = Buffer.from(JSON.stringify(value), "utf8");
        const entry: Entry = { at: now, version, json, gzip: json.length >= gzipFrom ? gzipSync(json, { level: 1 }) : Buffer.alloc(0) };
        this.#entries.delete(key);
        if (this.#entries.size >= (this.#o.maxEntries ?? 256)) this.#entries.delete(this.#entries.keys().next().value ?? "");
        this.#entries.set(key, entry);
        return entry;
      })().finally(() => this.#building.delete(key));
      this.#building.set(key, building);
    }
    return building;
  }
}
