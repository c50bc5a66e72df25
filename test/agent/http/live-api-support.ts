import type { FastifyInstance } from "fastify";
import type { AgentOptions } from "../../../src/agent/agent.ts";
import type { Principal } from "../../../src/agent/http/access.ts";
import { buildServer } from "../../../src/agent/http/server.ts";
import { agentLogger } from "../../../src/agent/logger.ts";
import { AgentMetrics } from "../../../src/agent/metrics.ts";
import { startAgentHarness, type AgentHarness } from "../../support/agent-harness.ts";

/** Two environments synced automatically, one stack each (web), on the harness's memory target. */
export function liveFiles(text: string): Record<string, string> {
  return {
    "gitward.yaml": `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
  prod:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
stacks:
  web: { target: cluster, path: web, environments: { dev: { namespace: dev }, prod: { namespace: prod } } }
`,
    "web/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: web }\ndata: { text: "${text}" }\n`,
  };
}

/** Bearer tokens of the tests and who they stand for. */
export const principals: Readonly<Record<string, Principal>> = {
  "tok-admin": { kind: "token", name: "root", grants: [{ role: "admin", environments: ["*"] }] },
  "tok-devop": { kind: "token", name: "dev-operator", grants: [{ role: "operator", environments: ["dev"] }, { role: "viewer", environments: ["prod"] }] },
  "tok-viewer": { kind: "token", name: "looker", grants: [{ role: "viewer", environments: ["*"] }] },
  "tok-prod": { kind: "token", name: "prod-reader", grants: [{ role: "viewer", environments: ["prod"] }] },
};

/** `Authorization` for a test token. */
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** An agent (the unit harness) with its API server, principals resolved from {@link principals}. */
export interface LiveApi {
  readonly h: AgentHarness;
  readonly app: FastifyInstance;
  readonly metrics: AgentMetrics;
  close(): Promise<void>;
}

/** Starts the agent harness on `files` and builds its API server (not listening; call `app.listen` for a real connection). */
export async function startLiveApi(files: Record<string, string>, over: Partial<Omit<AgentOptions, "intervals">> = {}): Promise<LiveApi> {
  const metrics = new AgentMetrics({ defaults: false });
  const h = await startAgentHarness(files, { metrics, ...over });
  const app = await buildServer({
    agent: h.agent, store: h.store, metrics,
    logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }), branch: "main", webhookSecrets: {},
    resolvePrincipal: (req) => {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
      return Promise.resolve(m === null ? undefined : principals[m[1] ?? ""]);
    },
  });
  return {
    h, app, metrics,
    close: async () => {
      await app.close();
      await h.close();
    },
  };
}
