/**
 * The routes outside the versioned API: health and readiness, Prometheus metrics, and verified
 * Git webhooks (`POST /hooks/git`), whose signatures are over the exact bytes received, so its
 * own scope keeps JSON bodies raw (up to the webhook limit, not the API's 64 KiB).
 */
import type { FastifyInstance } from "fastify";
import type { Agent } from "../agent.ts";
import type { DeliveryLog } from "../deliveries.ts";
import type { Logger } from "pino";
import type { AgentMetrics } from "../metrics.ts";
import { verifyWebhook, webhookBodyLimitBytes, type WebhookSecrets } from "../webhooks.ts";

/** What the system routes need. */
export interface SystemRouteOptions {
  readonly agent: Agent;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  readonly branch: string;
  readonly webhookSecrets: WebhookSecrets;
  readonly deliveries: DeliveryLog;
}

const hidden = { hide: true } as const;

/** Registers `/healthz`, `/readyz`, `/metrics` and `POST /hooks/git`. */
export async function systemRoutes(app: FastifyInstance, o: SystemRouteOptions): Promise<void> {
  app.get("/healthz", { schema: hidden }, (_req, reply) => reply.send({ ok: true }));
  app.get("/readyz", { schema: hidden }, (_req, reply) => {
    const r = o.agent.readiness();
    return reply.code(r.ready ? 200 : 503).send(r);
  });
  app.get("/metrics", { schema: hidden }, async (_req, reply) => reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()));
  await app.register((scope, _opts, done) => {
    scope.addContentTypeParser(["application/json", "application/x-www-form-urlencoded"], { parseAs: "buffer", bodyLimit: webhookBodyLimitBytes }, (_req, body, done) => {
      done(null, body);
    });
    scope.post("/hooks/git", { schema: hidden, bodyLimit: webhookBodyLimitBytes }, async (req, reply) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = verifyWebhook(req.headers, body, o.webhookSecrets);
      if (!verdict.ok) {
        o.logger.warn({ reason: verdict.reason, ip: req.ip }, "webhook refused");
        return reply.code(verdict.status).send({ error: { code: verdict.status === 400 ? "bad_request" : verdict.status === 401 ? "unauthenticated" : "forbidden", message: verdict.reason } });
      }
      // Only an authenticated delivery is remembered, so a forger cannot make a real one look like a replay.
      if (!o.deliveries.firstTime(verdict.source, verdict.delivery, body)) {
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
    done();
  });
}
