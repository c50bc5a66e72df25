/**
 * The API's actions: `POST /api/v1/sync` (a manual sync of an environment or a stack) and
 * `POST /api/v1/rollback` (a revert commit pushed to the branch the agent follows, as
 * `gitward rollback --push` makes it, then synced as usual). Both need operator on the
 * environment (a sync of everything, operator on every environment); the actor in the audit
 * log is who authenticated, and a name in the body is only a claim, kept apart.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { RollbackFailed } from "../agent-rollback.ts";
import type { ApiDeps, ApiModule } from "./deps.ts";
import { httpError } from "./errors.ts";
import { apiPrefix, commonErrors } from "./read-routes.ts";
import { ErrorBodySchema, RollbackAcceptedSchema, RollbackRequestSchema, SyncAcceptedSchema, SyncRequestSchema } from "./schemas.ts";

/** Registers `POST /api/v1/sync` and `POST /api/v1/rollback`. */
export const actionRoutes: ApiModule = (root: FastifyInstance, deps: ApiDeps) => {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(`${apiPrefix}/sync`, {
    config: { access: { action: "sync" } },
    schema: {
      summary: "Sync an environment, a stack, or everything now", tags: ["actions"], body: SyncRequestSchema,
      response: { 202: SyncAcceptedSchema, ...commonErrors, 404: ErrorBodySchema },
    },
  }, async (req, reply) => {
    const { environment, stack, by: claimed, overrideApproval, reason } = req.body;
    if (overrideApproval !== undefined && environment === undefined) {
      throw httpError(400, "bad_request", "body field overrideApproval: needs environment; the override holds for one environment and the head revision");
    }
    if (stack !== undefined && environment === undefined) throw httpError(400, "bad_request", "body field stack: needs environment");
    const actor = req.principal?.name ?? deps.apiTokenName;
    const claimedBy = claimed === undefined || claimed.trim() === "" ? undefined : claimed;
    const detail = ["API", ...(claimedBy === undefined ? [] : [`claimed by ${claimedBy}`]), ...(reason === undefined ? [] : [reason])].join(", ");
    const r = await deps.agent.trigger(
      { kind: "manual", by: actor, detail },
      { ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }) },
      { ...(claimedBy === undefined ? {} : { claimedBy }), ...(overrideApproval === undefined ? {} : { overrideApproval: overrideApproval.trim() }) },
    );
    if (r.queued === 0) throw httpError(404, "not_found", `no stack matches${environment === undefined ? "" : ` environment ${environment}`}${stack === undefined ? "" : ` stack ${stack}`}`);
    return reply.code(202).send(r);
  });

  app.post(`${apiPrefix}/rollback`, {
    config: { access: { action: "rollback" } },
    schema: {
      summary: "Roll an environment (or a stack) back with a revert commit pushed to the branch the agent follows", tags: ["actions"],
      body: RollbackRequestSchema,
      response: { 202: RollbackAcceptedSchema, ...commonErrors, 404: ErrorBodySchema, 409: ErrorBodySchema, 502: ErrorBodySchema },
    },
  }, async (req, reply) => {
    const { environment, stack, steps, reason } = req.body;
    const by = req.principal?.name ?? deps.apiTokenName;
    try {
      const r = await deps.agent.rollback({ environment, ...(stack === undefined ? {} : { stack }), steps, reason, by });
      return await reply.code(202).send({ revertCommit: r.commit, reverted: r.reverted.map((c) => ({ sha: c.sha, subject: c.subject })), pushed: true as const });
    } catch (e: unknown) {
      if (!(e instanceof RollbackFailed)) throw e;
      if (e.kind === "not-found") throw httpError(404, "not_found", e.message);
      if (e.kind === "conflict") throw httpError(409, "conflict", e.message);
      deps.logger.warn({ environment, stack, by, err: e.message }, "rollback through the API failed");
      throw httpError(502, "unavailable", `the rollback could not be pushed: ${e.message}`);
    }
  });
  return Promise.resolve();
};
