/**
 * The read endpoints of the API: who am I, environments, stacks, history, drift, the audit log
 * with its chain's verification, and the status `gitward status` reads. Lists hold only the
 * environments the caller may read; naming one it may not is a 403 (the server's access check).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { AgentStatus } from "../status.ts";
import type { ApiDeps, ApiModule } from "./deps.ts";
import { decodeCursor, page } from "./pagination.ts";
import {
  AuditPageSchema, AuditQuerySchema, DriftPageSchema, DriftQuerySchema, EnvironmentListSchema, ErrorBodySchema, HistoryPageSchema, HistoryQuerySchema,
  MeSchema, StackListSchema, StackQuerySchema, StatusSchema, type DriftPage,
  ProvidersSchema,
} from "./schemas.ts";
import { environmentView, filteredStatus, readableOf, stackViews } from "./views.ts";
import { csrfTokenOf } from "./session.ts";
import { offersOidc } from "./session-module.ts";
import { ResponseCache } from "./response-cache.ts";

/** The prefix of every versioned API route. */
export const apiPrefix = "/api/v1";

/** Error answers every authenticated route may give, for the OpenAPI document. */
export const commonErrors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 403: ErrorBodySchema, 500: ErrorBodySchema } as const;

/** `all` when the caller reads every environment, else the set it may read among those known. */
async function readableSet(deps: ApiDeps, req: FastifyRequest, status?: AgentStatus): Promise<ReadonlySet<string> | "all"> {
  if (deps.readsAll(req)) return "all";
  const known = new Set((status ?? await deps.agent.status()).environments.map((e) => e.name));
  for (const g of req.principal?.grants ?? []) for (const e of g.environments) known.add(e);
  return new Set(deps.readable(req, [...known]));
}

/** The agent's status, built at most once per agent event and second, shared by concurrent requests. */
const statuses = new WeakMap<ApiDeps, { version: number; at: number; status: Promise<AgentStatus> }>();
function statusOnce(deps: ApiDeps): Promise<AgentStatus> {
  const version = deps.agent.events.lastId;
  const now = Date.now();
  const hit = statuses.get(deps);
  if (hit !== undefined && hit.version === version && now - hit.at < 1000) return hit.status;
  const status = deps.agent.status();
  statuses.set(deps, { version, at: now, status });
  status.catch(() => statuses.delete(deps));
  return status;
}

/** The store filter for a list: the environment asked for (already authorized), or the readable ones. */
async function environmentFilter(deps: ApiDeps, req: FastifyRequest, environment: string | undefined): Promise<{ environment?: string; environments?: string[] }> {
  if (environment !== undefined) return { environment };
  const readable = await readableSet(deps, req);
  return readable === "all" ? {} : { environments: [...readable] };
}

/** Registers the read routes. */
export const readRoutes: ApiModule = (root: FastifyInstance, deps: ApiDeps) => {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const read = { access: { action: "read" } } as const;

  app.get(`${apiPrefix}/me`, {
    config: { access: "authenticated" },
    schema: { summary: "Who the request acts as, with its grants", tags: ["access"], response: { 200: MeSchema, 401: ErrorBodySchema } },
  }, (req, reply) => {
    const p = req.principal;
    const csrfToken = csrfTokenOf(req, reply);
    return {
      name: p?.name ?? "anonymous", kind: p?.kind ?? "anonymous", grants: (p?.grants ?? []).map((g) => ({ role: g.role, environments: [...g.environments] })),
      ...(csrfToken === undefined ? {} : { csrfToken }), oidc: offersOidc(deps),
    };
  });

  app.get("/auth/providers", {
    config: { access: "public" },
    schema: { hide: true, summary: "How a browser may sign in: OIDC (when configured) and API token login", response: { 200: ProvidersSchema } },
  }, () => ({ oidc: offersOidc(deps), token: true }));

  // Whole answers built once per agent event (at most 1 s old): see response-cache.ts.
  const cache = new ResponseCache({ version: () => deps.agent.events.lastId });
  /** The agent's status, shared by the answers built from it until the next event. */
  const status = (): Promise<AgentStatus> => statusOnce(deps);
  const scope = async (req: FastifyRequest): Promise<{ key: string; readable: ReadonlySet<string> | "all" }> => {
    const readable = await readableSet(deps, req, await status());
    return { key: readable === "all" ? "*" : [...readable].sort().join(","), readable };
  };

  app.get(`${apiPrefix}/status`, {
    config: read,
    schema: { summary: "The agent's status, as gitward status shows it", tags: ["status"], response: { 200: StatusSchema, ...commonErrors } },
  }, async (req, reply) => {
    const { key, readable } = await scope(req);
    return cache.send(req, reply, `status|${key}`, StatusSchema, async () => filteredStatus(await status(), readable));
  });

  app.get(`${apiPrefix}/environments`, {
    config: read,
    schema: { summary: "Environments with counts of their stacks and their gate", tags: ["status"], response: { 200: EnvironmentListSchema, ...commonErrors } },
  }, async (req, reply) => {
    const { key, readable } = await scope(req);
    return cache.send(req, reply, `environments|${key}`, EnvironmentListSchema, async () => {
      const s = await status();
      return { items: readableOf(s, readable).map((e) => environmentView(s, e)) };
    });
  });

  app.get(`${apiPrefix}/stacks`, {
    config: read,
    schema: { summary: "Stacks with sync state, health, drift, revision and gate", tags: ["status"], querystring: StackQuerySchema, response: { 200: StackListSchema, ...commonErrors } },
  }, async (req, reply) => {
    const { key, readable } = await scope(req);
    const { environment, q } = req.query;
    return cache.send(req, reply, `stacks|${key}|${environment ?? ""}|${q ?? ""}`, StackListSchema, async () => {
      const s = await status();
      const envs = readableOf(s, readable).filter((e) => environment === undefined || e.name === environment);
      return { items: stackViews(s, envs, q) };
    });
  });

  app.get(`${apiPrefix}/history`, {
    config: read,
    schema: {
      summary: "Syncs, newest first, filtered and paginated", tags: ["history"], querystring: HistoryQuerySchema, response: { 200: HistoryPageSchema, ...commonErrors },
    },
  }, async (req, reply) => {
    const q = req.query;
    const filter = await environmentFilter(deps, req, q.environment);
    return cache.send(req, reply, `history|${JSON.stringify([filter, q])}`, HistoryPageSchema, async () => {
      const rows = await deps.store.listSyncs({
        ...filter,
        ...(q.stack === undefined ? {} : { stack: q.stack }), ...(q.outcome === undefined ? {} : { outcome: q.outcome }),
        ...(q.trigger === undefined ? {} : { trigger: q.trigger }),
        ...(q.since === undefined ? {} : { since: new Date(q.since).toISOString() }), ...(q.until === undefined ? {} : { until: new Date(q.until).toISOString() }),
        ...(q.cursor === undefined ? {} : { beforeId: decodeCursor("history", q.cursor) }),
        limit: q.limit + 1,
      });
      return page(rows, q.limit, "history", (r) => r.id);
    });
  });

  app.get(`${apiPrefix}/drift`, {
    config: read,
    schema: { summary: "Drift events, newest first, paginated", tags: ["history"], querystring: DriftQuerySchema, response: { 200: DriftPageSchema, ...commonErrors } },
  }, async (req) => {
    const q = req.query;
    const rows = await deps.store.listDrift({
      ...await environmentFilter(deps, req, q.environment), ...(q.stack === undefined ? {} : { stack: q.stack }),
      ...(q.cursor === undefined ? {} : { beforeId: decodeCursor("drift", q.cursor) }),
      limit: q.limit + 1,
    });
    return page(rows, q.limit, "drift", (r) => r.id) as DriftPage;
  });

  app.get(`${apiPrefix}/audit`, {
    config: { access: { action: "audit" } },
    schema: {
      summary: "The audit log, oldest first, with the verification of its hash chain", tags: ["audit"], querystring: AuditQuerySchema,
      response: { 200: AuditPageSchema, ...commonErrors },
    },
  }, async (req) => {
    const q = req.query;
    const after = q.cursor === undefined ? undefined : Number(decodeCursor("audit", q.cursor));
    const [rows, verification] = await Promise.all([
      deps.store.listAudit({ limit: q.limit + 1, ...(after === undefined ? {} : { afterSeq: after }) }),
      deps.store.verifyAudit(),
    ]);
    return { ...page(rows, q.limit, "audit", (r) => String(r.seq)), verification };
  });
  return Promise.resolve();
};
