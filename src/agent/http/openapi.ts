/**
 * The OpenAPI 3 document of the API, generated from the zod schemas the routes validate with
 * (`@fastify/swagger` + `fastify-type-provider-zod`), served at `GET /api/openapi.json`. Routes
 * with `schema.hide` (health, metrics, webhooks, pages) are left out.
 */
import fastifySwagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";

/** Where the document is served. */
export const openApiPath = "/api/openapi.json";

/** Sets the zod compilers and registers the document generator; call before any route is added. */
export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "gitward agent API",
        description: "The versioned HTTP API of gitward's agent. Errors are {error: {code, message}}; lists page with limit and cursor.",
        version,
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "An API token (gitward token create) or the agent's api.token." },
          session: { type: "apiKey", in: "cookie", name: "gitward_session", description: "A browser session; writes also need the x-csrf-token header." },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
}

/** Registers `GET /api/openapi.json`; call after the routes, before `ready()`. */
export function openApiRoute(app: FastifyInstance): void {
  app.get(openApiPath, { config: { access: "public" }, schema: { hide: true } }, (_req, reply) => reply.type("application/json").send(app.swagger()));
}
