import { timingSafeEqual, createHash } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Store } from "../store/store.ts";
import type { Agent } from "./agent.ts";
import type { AgentMetrics } from "./metrics.ts";
import { indexPage } from "./index-page.ts";
import { verifyWebhook, webhookBodyLimitBytes } from "./webhooks.ts";

/** What the HTTP server serves. */
export interface ServerOptions {
  readonly agent: Agent;
  readonly store: Store;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  readonly branch: string;
  /** Bearer token for write endpoints; without one, they answer 403. */
  readonly apiToken?: string;
  readonly webhookSecrets: { readonly github?: string; readonly gitlab?: string; readonly gitea?: string; readonly generic?: string };
}


/**
 * The agent's HTTP API: health and readiness, Prometheus metrics, verified Git webhooks, status
 * and history (read), and a manual sync (write, bearer token). Nothing it returns holds a
 * credential.
 */
export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  // The agent logs what matters itself (refused webhooks, triggers); no per-request lines.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  // Webhook signatures are over the exact bytes received, so JSON bodies are kept raw.
  app.addContentTypeParser(["application/json", "application/x-www-form-urlencoded"], { parseAs: "buffer", bodyLimit: webhookBodyLimitBytes }, (_req, body, done) => {
    done(null, body);
  });

  app.get("/", async (_req, reply) => reply
    .type("text/html; charset=utf-8")
    .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
    .send(indexPage(await o.agent.status())));
  app.get("/healthz", (_req, reply) => reply.send({ ok: true }));
  app.get("/readyz", async (_req, reply) => {
    const r = o.agent.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  app.get("/metrics", async (_req, reply) => reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()));

  app.post("/hooks/git", async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifyWebhook(req.headers, body, o.webhookSecrets);
    if (!verdict.ok) {
      o.logger.warn({ reason: verdict.reason, ip: req.ip }, "webhook refused");
      return reply.code(verdict.status).send({ error: verdict.reason });
    }
    const event = verdict.event;
    if (event === undefined) return reply.code(200).send({ ignored: "not a push event" });
    if (event.branch !== o.branch) return reply.code(200).send({ ignored: `push to ${event.branch ?? event.ref}, the agent follows ${o.branch}` });
    // Answer at once: the sync runs in the background and is visible in status and history.
    void o.agent.trigger({ kind: "webhook", ...(event.pusher === undefined ? {} : { by: event.pusher }), detail: `${verdict.source} push ${event.after.slice(0, 12)}` })
      .catch((e: unknown) => o.logger.error({ err: e instanceof Error ? e.message : String(e) }, "webhook-triggered sync failed"));
    return reply.code(202).send({ accepted: true, source: verdict.source, revision: event.after });
  });

  app.get("/api/v1/status", async () => o.agent.status());
  app.get("/api/v1/history", async (req: FastifyRequest<{ Querystring: { environment?: string; stack?: string; limit?: string } }>, reply: FastifyReply) => {
    const { environment, stack, limit } = req.query;
    const n = limit === undefined ? undefined : Number.parseInt(limit, 10);
    if (n !== undefined && (Number.isNaN(n) || n < 1 || n > 1000)) return reply.code(400).send({ error: "limit must be a number from 1 to 1000" });
    return {
      syncs: await o.store.listSyncs({
        ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }),
        ...(n === undefined ? {} : { limit: n }),
      }),
    };
  });
  app.get("/api/v1/drift", async (req: FastifyRequest<{ Querystring: { environment?: string; stack?: string } }>) => ({
    drift: await o.store.listDrift({ ...(req.query.environment === undefined ? {} : { environment: req.query.environment }), ...(req.query.stack === undefined ? {} : { stack: req.query.stack }) }),
  }));
  app.post("/api/v1/sync", async (req: FastifyRequest, reply: FastifyReply) => {
    const who = authorize(req, o.apiToken);
    if (who !== "ok") return reply.code(who === "disabled" ? 403 : 401).send({ error: who === "disabled" ? "write endpoints are disabled: no API token is configured" : "missing or wrong bearer token" });
    let body: { environment?: unknown; stack?: unknown; by?: unknown } = {};
    try {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
      body = raw === "" ? {} : (JSON.parse(raw) as typeof body);
    } catch {
      return reply.code(400).send({ error: "the body must be JSON: {\"environment\": \"dev\", \"stack\": \"web\"}" });
    }
    const environment = typeof body.environment === "string" ? body.environment : undefined;
    const stack = typeof body.stack === "string" ? body.stack : undefined;
    const by = typeof body.by === "string" && body.by !== "" ? body.by : "api";
    const r = await o.agent.trigger({ kind: "manual", by, detail: "API" }, { ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }) });
    if (r.queued === 0) return reply.code(404).send({ error: `no stack matches${environment === undefined ? "" : ` environment ${environment}`}${stack === undefined ? "" : ` stack ${stack}`}` });
    return reply.code(202).send(r);
  });
  return app;
}

function authorize(req: FastifyRequest, token: string | undefined): "ok" | "disabled" | "denied" {
  if (token === undefined) return "disabled";
  const header = req.headers.authorization ?? "";
  const m = /^Bearer (.+)$/.exec(header);
  if (m === null) return "denied";
  // Hashing first makes the comparison constant-time whatever the lengths.
  const a = createHash("sha256").update(m[1] ?? "").digest();
  const b = createHash("sha256").update(token).digest();
  return timingSafeEqual(a, b) ? "ok" : "denied";
}
