/**
 * The API's tokens: `GET /api/v1/tokens`, `POST /api/v1/tokens` (the token is in the answer,
 * once; the store keeps its hash) and `DELETE /api/v1/tokens/{id}`. Admin on every environment
 * only; each change is an audit event naming who made it, through the same code as
 * `gitward token create|revoke`.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { isGitwardError } from "../../core/errors.ts";
import { issueToken, revokeIssuedToken } from "../../store/token-issue.ts";
import { TokenError, type TokenInfo as StoredToken } from "../../store/tokens.ts";
import type { ApiDeps, ApiModule } from "./deps.ts";
import { httpError } from "./errors.ts";
import { apiPrefix, commonErrors } from "./read-routes.ts";
import { ErrorBodySchema, TokenCreatedSchema, TokenCreateSchema, TokenListSchema, TokenParamsSchema, type TokenInfo } from "./schemas.ts";

/** Registers the token endpoints. */
export const tokenRoutes: ApiModule = (root: FastifyInstance, deps: ApiDeps) => {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const access = { access: { action: "tokens" } } as const;

  app.get(`${apiPrefix}/tokens`, {
    config: access,
    schema: { summary: "The API tokens (never the tokens themselves)", tags: ["access"], response: { 200: TokenListSchema, ...commonErrors } },
  }, async () => ({ items: (await deps.store.listTokens()).map(view) }));

  app.post(`${apiPrefix}/tokens`, {
    config: access,
    schema: {
      summary: "Create an API token; it is shown in this answer only", tags: ["access"], body: TokenCreateSchema,
      response: { 201: TokenCreatedSchema, ...commonErrors, 409: ErrorBodySchema },
    },
  }, async (req, reply) => {
    const actor = req.principal?.name ?? deps.apiTokenName;
    try {
      const { token, info } = await issueToken(deps.store, { ...req.body, actor, via: "api" });
      return await reply.code(201).send({ ...view(info), token });
    } catch (e: unknown) {
      if (e instanceof TokenError && e.reason === "name-taken") throw httpError(409, "conflict", `a token named ${req.body.name} exists; revoke it or choose another name`);
      if (e instanceof TokenError || isGitwardError(e)) throw httpError(400, "bad_request", e.message);
      throw e;
    }
  });

  app.delete(`${apiPrefix}/tokens/:id`, {
    config: access,
    schema: { summary: "Revoke an API token", tags: ["access"], params: TokenParamsSchema, response: { 204: z.undefined().describe("Revoked"), ...commonErrors, 404: ErrorBodySchema } },
  }, async (req, reply) => {
    const actor = req.principal?.name ?? deps.apiTokenName;
    try {
      await revokeIssuedToken(deps.store, req.params.id, actor, "api");
    } catch (e: unknown) {
      if (e instanceof TokenError && e.reason === "not-found") throw httpError(404, "not_found", `no token ${req.params.id}`);
      throw e;
    }
    return reply.code(204).send();
  });
  return Promise.resolve();
};

/** What the API shows of a token. */
function view(t: StoredToken): TokenInfo {
  return {
    id: t.id, name: t.name, role: t.role, environments: [...t.environments], createdAt: t.createdAt,
    ...(t.expiresAt === undefined ? {} : { expiresAt: t.expiresAt }),
    ...(t.lastUsedAt === undefined ? {} : { lastUsedAt: t.lastUsedAt }),
    ...(t.revokedAt === undefined ? {} : { revokedAt: t.revokedAt }),
  };
}
