/**
 * `GET /api/v1/events`: the agent's event bus as server-sent events. Each event is written as
 * `id:`, `event:` and `data:` lines; a `: ping` comment keeps the connection (and proxies) from
 * timing it out; `Last-Event-ID` (the header a browser's EventSource sends when it reconnects, or
 * `?lastEventId=`) resumes from the bus's ring. Only events of environments the caller may read
 * are sent. A client that does not keep up is dropped by the bus and its connection ended; every
 * stream ends when the agent or the server stops.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AgentEvent } from "../events.ts";
import { can } from "./access.ts";
import type { ApiDeps, ApiModule } from "./deps.ts";
import { apiPrefix, commonErrors } from "./read-routes.ts";

/** Options of the event stream (tests shorten the ping). */
export interface EventRouteOptions {
  /** Between `: ping` comments; default 15 s. */
  readonly pingMs?: number;
}

const EventQuerySchema = z.strictObject({
  lastEventId: z.coerce.number().int().min(0).optional().describe("Resume after this event id (as the Last-Event-ID header)."),
});

/** The stream's wire form of one event. */
export function sseFrame(e: AgentEvent): string {
  // JSON has no raw newlines, so the data fits one `data:` line.
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/** The event stream module with its options. */
export function eventRoutesWith(opts: EventRouteOptions = {}): ApiModule {
  const pingMs = opts.pingMs ?? 15_000;
  return (root: FastifyInstance, deps: ApiDeps) => {
    const open = new Set<() => void>();
    // Streams never end on their own: ended before the server waits for its connections to close.
    root.addHook("preClose", (done) => {
      for (const end of [...open]) end();
      done();
    });
    root.withTypeProvider<ZodTypeProvider>().get(`${apiPrefix}/events`, {
      config: { access: { action: "read" } },
      schema: {
        summary: "Server-sent events: sync, drift, gate and status, of the environments the caller may read", tags: ["events"],
        querystring: EventQuerySchema,
        response: { 200: z.string().describe("text/event-stream: `id:`, `event:` (sync, drift, gate, status) and `data:` (JSON) lines; `: ping` every 15 s"), ...commonErrors },
      },
    }, (req, reply) => {
      const principal = req.principal;
      const header = req.headers["last-event-id"];
      const fromHeader = typeof header === "string" && /^[0-9]{1,15}$/.test(header.trim()) ? Number(header.trim()) : undefined;
      const since = fromHeader ?? req.query.lastEventId;
      const filter = principal === undefined || deps.readsAll(req) ? undefined : (e: AgentEvent) => can(principal, "read", e.data.environment);
      stream(reply, deps, { pingMs, open, name: principal?.name ?? "anonymous", ...(since === undefined ? {} : { since }), ...(filter === undefined ? {} : { filter }) });
    });
    return Promise.resolve();
  };
}

/** Registers `GET /api/v1/events` with a ping every 15 s. */
export const eventRoutes: ApiModule = eventRoutesWith();

interface StreamOptions {
  readonly pingMs: number;
  readonly open: Set<() => void>;
  readonly name: string;
  readonly since?: number;
  readonly filter?: (e: AgentEvent) => boolean;
}

function stream(reply: FastifyReply, deps: ApiDeps, o: StreamOptions): void {
  // The reply is written by hand: no serializer, no content-length, until the client or the agent ends it.
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", connection: "keep-alive",
    "x-accel-buffering": "no", "x-content-type-options": "nosniff",
  });
  res.write(": connected\n\n");
  deps.metrics.sseClients.inc();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(ping);
    unsubscribe();
    o.open.delete(end);
    deps.metrics.sseClients.dec();
    res.end();
  };
  /** Writes a frame; while the socket's buffer is full, the bus is told to wait (and drops the client if it waits too long). */
  const write = (chunk: string): void | Promise<void> => {
    if (ended || res.write(chunk)) return;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.once("drain", done);
      res.once("close", done);
    });
  };
  const unsubscribe = deps.agent.events.subscribe((e) => write(sseFrame(e)), {
    name: o.name, onEnd: end, ...(o.since === undefined ? {} : { since: o.since }), ...(o.filter === undefined ? {} : { filter: o.filter }),
  });
  const ping = setInterval(() => void write(": ping\n\n"), o.pingMs);
  ping.unref();
  o.open.add(end);
  res.on("close", end);
}
