/**
 * The live view of a stack and of the gate: `GET /api/v1/environments/{env}/stacks/{stack}`
 * (its status and its objects with health read now), `.../diff` (desired against live now,
 * masked as every diff is), and `GET /api/v1/gate` (the refused head and each readable
 * environment's place at the gate).
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { z } from "zod";
import { StackNotComparable } from "../stack-view.ts";
import type { ApiDeps, ApiModule } from "./deps.ts";
import { httpError } from "./errors.ts";
import { apiPrefix, commonErrors } from "./read-routes.ts";
import { ErrorBodySchema, GateOverviewSchema, StackDetailSchema, StackDiffSchema, StackParamsSchema, type GateOverview, type StackDetail } from "./schemas.ts";

/** Registers the stack detail, its live diff, and the gate. */
export const stackLiveRoutes: ApiModule = (root: FastifyInstance, deps: ApiDeps) => {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const read = { access: { action: "read" } } as const;
  const notServed = (env: string, stack: string): Error => httpError(404, "not_found", `the agent serves no stack ${stack} in environment ${env}`);

  app.get(`${apiPrefix}/environments/:env/stacks/:stack`, {
    config: read,
    schema: {
      summary: "One stack: sync state, health, drift, revision, gate, and its objects with their health now", tags: ["status"],
      params: StackParamsSchema, response: { 200: StackDetailSchema, ...commonErrors, 404: ErrorBodySchema },
    },
  }, async (req) => {
    const { env, stack } = req.params;
    const found = await deps.agent.stackDetail(env, stack);
    if (found === undefined) throw notServed(env, stack);
    // The serializer checks the shape; the cast only drops the readonly of the agent's types.
    return { ...found.stack, gate: deps.agent.gate(env), objects: found.objects } as unknown as StackDetail;
  });

  app.get(`${apiPrefix}/environments/:env/stacks/:stack/diff`, {
    config: read,
    schema: {
      summary: "The live diff of one stack: the head revision against the target now, secrets masked", tags: ["status"],
      params: StackParamsSchema, response: { 200: StackDiffSchema, ...commonErrors, 404: ErrorBodySchema, 409: ErrorBodySchema },
    },
  }, async (req) => {
    const { env, stack } = req.params;
    try {
      const diff = await deps.agent.diffStack(env, stack);
      if (diff === undefined) throw notServed(env, stack);
      return diff as unknown as z.infer<typeof StackDiffSchema>;
    } catch (e: unknown) {
      if (e instanceof StackNotComparable) throw httpError(409, "conflict", e.message);
      throw e;
    }
  });

  app.get(`${apiPrefix}/gate`, {
    config: read,
    schema: { summary: "The refused head revision, and where each environment stands at the gate", tags: ["status"], response: { 200: GateOverviewSchema, ...commonErrors } },
  }, async (req) => {
    const status = await deps.agent.status();
    const names = status.environments.map((e) => e.name);
    const readable = deps.readsAll(req) ? names : deps.readable(req, names);
    return {
      ...(status.refused === undefined ? {} : { refused: { revision: status.refused.revision, reasons: [...status.refused.reasons] } }),
      environments: readable.map((name) => ({ name, gate: deps.agent.gate(name) })),
    } as GateOverview;
  });
  return Promise.resolve();
};
