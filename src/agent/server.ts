import { timingSafeEqual, createHash } from "node:crypto";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Store } from "../store/store.ts";
import type { Agent } from "./agent.ts";
import type { AgentMetrics } from "./metrics.ts";
import { checkNames, parseQuery, parseSyncRequest } from "./api-input.ts";
import { DeliveryLog } from "./deliveries.ts";
import { indexPage } from "./index-page.ts";
import { defaultHttpSettings, limitedServer, type HttpSettings } from "./listen.ts";
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
  /** Who the API token stands for in the audit log; default `api-token`. */
  readonly apiTokenName?: string;
  readonly webhookSecrets: { readonly github?: string; readonly gitlab?: string; readonly gitea?: string; readonly generic?: string };
  /** Webhook deliveries remembered to ignore replays; default 24 h and 10,000 deliveries. */
  readonly deliveries?: DeliveryLog;
  /** Connection limits, timeouts and TLS; default {@link defaultHttpSettings}. */
  readonly http?: HttpSettings;
}

/**
 * The agent's HTTP API: health and readiness, Prometheus metrics, verified Git webhooks, status
 * and history (read), and a manual sync (write, bearer token). Nothing it returns holds a
 * credential or a path of the agent's machine: unexpected errors are logged and answered 500
 * with a fixed message.
 */
export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const http = o.http ?? defaultHttpSettings();
  // The agent logs what matters itself (refused webhooks, triggers); no per-request lines.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, serverFactory: (handler) => limitedServer(handler, http) });
  const deliveries = o.deliveries ?? new DeliveryLog();
  // Webhook signatures are over the exact bytes received, so JSON bodies are kept raw.
  app.addContentTypeParser(["application/json", "application/x-www-form-urlencoded"], { parseAs: "buffer", bodyLimit: webhookBodyLimitBytes }, (_req, body, done) => {
    done(null, body);
  });
  app.setErrorHandler((error: FastifyError, req, reply) => {
    // Fastify's own 4xx (body too large, bad content type) say what the client did wrong.
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status < 500) return reply.code(status).send({ error: error.message });
    // Store errors name the state file: logged, never returned.
    o.logger.error({ method: req.method, url: req.url.split("?")[0], err: error.message }, "request failed");
    return reply.code(500).send({ error: "internal error; the agent's log has the details" });
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
    // Only an authenticated delivery is remembered, so a forger cannot make a real one look like a replay.
    if (!deliveries.firstTime(verdict.source, verdict.delivery, body)) {
      o.logger.warn({ source: verdict.source, delivery: verdict.delivery, ip: req.ip }, "webhook replay ignored: this delivery was already received");
      return reply.code(200).send({ ignored: "duplicate delivery", ...(verdict.delivery === undefined ? {} : { delivery: verdict.delivery }) });
    }
    const pr = verdict.pullRequest;
    if (pr !== undefined) {
      // Approvals may have changed: the gate asks the forge again, held environments are tried again.
      void o.agent.pullRequestEvent(pr)
        .catch((e: unknown) => o.logger.error({ err: e instanceof Error ? e.message : String(e) }, "pull request event failed"));
      return reply.code(202).send({ accepted: true, source: verdict.source, pullRequest: pr.number, action: pr.action });
    }
    const event = verdict.event;
    if (event === undefined) return reply.code(200).send({ ignored: "not a push or pull request event" });
    if (event.branch !== o.branch) return reply.code(200).send({ ignored: `push to ${event.branch ?? event.ref}, the agent follows ${o.branch}` });
    // Answer at once: the sync runs in the background and is visible in status and history.
    void o.agent.trigger({ kind: "webhook", ...(event.pusher === undefined ? {} : { by: event.pusher }), detail: `${verdict.source} push ${event.after.slice(0, 12)}` })
      .catch((e: unknown) => o.logger.error({ err: e instanceof Error ? e.message : String(e) }, "webhook-triggered sync failed"));
    return reply.code(202).send({ accepted: true, source: verdict.source, revision: event.after });
  });

  app.get("/api/v1/status", async () => o.agent.status());
  app.get("/api/v1/history", async (req: FastifyRequest, reply: FastifyReply) => {
    const q = parseQuery(req.query, ["environment", "stack", "limit"]);
    if (!q.ok) return reply.code(400).send({ error: q.error });
    const { environment, stack, limit } = q.value;
    const names = checkNames(q.value);
    if (names !== undefined) return reply.code(400).send({ error: names });
    const n = limit === undefined ? undefined : /^[0-9]{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
    if (n !== undefined && (Number.isNaN(n) || n < 1 || n > 1000)) return reply.code(400).send({ error: "limit must be a number from 1 to 1000" });
    return {
      syncs: await o.store.listSyncs({
        ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }),
        ...(n === undefined ? {} : { limit: n }),
      }),
    };
  });
  app.get("/api/v1/drift", async (req: FastifyRequest, reply: FastifyReply) => {
    const q = parseQuery(req.query, ["environment", "stack"]);
    if (!q.ok) return reply.code(400).send({ error: q.error });
    const names = checkNames(q.value);
    if (names !== undefined) return reply.code(400).send({ error: names });
    const { environment, stack } = q.value;
    return { drift: await o.store.listDrift({ ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }) }) };
  });
  app.post("/api/v1/sync", async (req: FastifyRequest, reply: FastifyReply) => {
    const who = authorize(req, o.apiToken);
    if (who !== "ok") return reply.code(who === "disabled" ? 403 : 401).send({ error: who === "disabled" ? "write endpoints are disabled: no API token is configured" : "missing or wrong bearer token" });
    const parsed = parseSyncRequest(Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "");
    if (!parsed.ok) return reply.code(400).send({ error: parsed.error });
    const { environment, stack, claimedBy, overrideApproval } = parsed.value;
    if (overrideApproval !== undefined && environment === undefined) return reply.code(400).send({ error: "overrideApproval needs an environment: the override holds for one environment and the head revision" });
    // The actor is who authenticated (the token); a name in the body is only a claim, kept apart.
    const by = o.apiTokenName ?? "api-token";
    const r = await o.agent.trigger(
      { kind: "manual", by, detail: claimedBy === undefined ? "API" : `API, claimed by ${claimedBy}` },
      { ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }) },
      { ...(claimedBy === undefined ? {} : { claimedBy }), ...(overrideApproval === undefined ? {} : { overrideApproval }) },
    );
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
