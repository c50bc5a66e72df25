/**
 * A real agent (the unit harness: a Git repository, the memory target) with its API server, real
 * API tokens issued into its store, and secret values planted where a careless endpoint could
 * leak them. Every response a test gets through {@link Api.call} is kept, so a suite can scan all
 * of them for the planted values.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { buildServer } from "../../../src/agent/http/server.ts";
import { agentLogger } from "../../../src/agent/logger.ts";
import { AgentMetrics } from "../../../src/agent/metrics.ts";
import { openStore } from "../../../src/store/open.ts";
import { secretValues } from "../../../src/store/redact.ts";
import { withSecretValues } from "../../../src/store/secret-values.ts";
import type { Store } from "../../../src/store/store.ts";
import { issueToken } from "../../../src/store/token-issue.ts";
import type { TokenRole } from "../../../src/store/tokens.ts";
import { startAgentHarness, type AgentHarness } from "../../support/agent-harness.ts";

/** Values planted in the fixtures that no response may ever contain. */
export const planted = {
  /** A Kubernetes Secret's value in the repository. */
  secretData: "planted-db-passw0rd-7e1f",
  /** The webhook secret of the agent. */
  webhook: "planted-webhook-secret-41c9",
  /** The legacy API token of the agent configuration. */
  apiToken: "planted-legacy-api-token-98ab",
  /** A password a host command printed. */
  hostPassword: "planted-host-password-5d2e",
  /** The forge token of the agent. */
  forgeToken: "ghp_plantedForgeToken0123456789abcdef",
} as const;

/** Every form a planted value could leak in (as is, base64). */
export function plantedForms(extra: readonly string[] = []): string[] {
  return [...Object.values(planted), ...extra].flatMap((v) => [v, Buffer.from(v).toString("base64")]);
}

/** dev, staging and prod, each with `web` and `db` (ConfigMaps): gitward refuses a Secret in clear in Git, so the planted Secret is live only. */
export function apiFiles(text = "v1"): Record<string, string> {
  return {
    "gitward.yaml": `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
  staging:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
  prod:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
stacks:
  web: { target: cluster, path: web, environments: { dev: { namespace: dev }, staging: { namespace: staging }, prod: { namespace: prod } } }
  db: { target: cluster, path: db, environments: { dev: { namespace: dev }, staging: { namespace: staging }, prod: { namespace: prod } } }
`,
    "web/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: web }\ndata: { text: "${text}" }\n`,
    "db/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: db }\ndata: { host: db.internal }\n",
  };
}

/** A Secret with a planted value on the target, in dev/db's inventory: its ref may be shown, never its data. */
function plantLiveSecret(h: AgentHarness): void {
  const ref = { group: "", kind: "Secret", namespace: "dev", name: "db-password" };
  h.target.objects.set(`_Secret_dev_db-password`, {
    apiVersion: "v1", kind: "Secret", metadata: { name: ref.name, namespace: ref.namespace },
    data: { password: Buffer.from(planted.secretData).toString("base64") }, stringData: { password: planted.secretData },
  });
  const inv = h.target.inventories.get("dev/db");
  if (inv === undefined) throw new Error("dev/db has no inventory: the agent did not sync it");
  h.target.inventories.set("dev/db", { ...inv, entries: [...inv.entries, { ref, apiVersion: "v1" }] });
}

/** The tokens the tests use, by who they stand for. */
export const roles: Readonly<Record<string, { role: TokenRole; environments: string[] }>> = {
  admin: { role: "admin", environments: ["*"] },
  viewer: { role: "viewer", environments: ["*"] },
  devOperator: { role: "operator", environments: ["dev"] },
  prodViewer: { role: "viewer", environments: ["prod"] },
  devStagingViewer: { role: "viewer", environments: ["dev", "staging"] },
};

/** An agent with its API server and tokens. */
export interface Api {
  readonly h: AgentHarness;
  readonly store: Store;
  readonly app: FastifyInstance;
  /** Bearer tokens by the names of {@link roles}, plus `legacy` (the agent configuration's token). */
  readonly tokens: Readonly<Record<string, string>>;
  /** Every response body {@link call} got since the last {@link drain}. */
  readonly seen: string[];
  /** A request; `token` is a key of {@link tokens}, a raw `Bearer` value with `raw:`, or null for none. */
  call(opts: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  /** GET with a token. */
  get(url: string, token?: string | null): Promise<LightMyRequestResponse>;
  /** The responses seen so far, forgotten. */
  drain(): string[];
  close(): Promise<void>;
}

/** Starts the agent on {@link apiFiles} and its API server (not listening). */
export async function startApi(opts: { anonymousRead?: boolean } = {}): Promise<Api> {
  const secrets = secretValues([planted.webhook, planted.apiToken, planted.hostPassword, planted.forgeToken]);
  // As the agent's run does: the store masks the secret values the agent read, by value.
  const store = withSecretValues(await openStore("sqlite::memory:"), secrets);
  const h = await startAgentHarness(apiFiles(), { store });
  plantLiveSecret(h);
  const tokens: Record<string, string> = { legacy: planted.apiToken };
  for (const [name, r] of Object.entries(roles)) {
    tokens[name] = (await issueToken(store, { name, role: r.role, environments: r.environments, actor: "test", via: "test" })).token;
  }
  const app = await buildServer({
    agent: h.agent, store, metrics: new AgentMetrics({ defaults: false }),
    logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }), branch: "main",
    webhookSecrets: { github: planted.webhook }, apiToken: planted.apiToken, anonymousRead: opts.anonymousRead ?? false,
  });
  const seen: string[] = [];
  const call = async (o: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse> => {
    const { token, ...rest } = o;
    const t = token === undefined ? "viewer" : token;
    const value = t === null ? undefined : t.startsWith("raw:") ? t.slice(4) : tokens[t];
    if (t !== null && value === undefined) throw new Error(`no test token ${t}`);
    const r = await app.inject({ ...rest, headers: { ...(rest.headers as Record<string, string> | undefined), ...(value === undefined ? {} : { authorization: `Bearer ${value}` }) } });
    seen.push(r.body);
    return r;
  };
  return {
    h, store, app, tokens, seen, call,
    get: (url, token) => call({ method: "GET", url, ...(token === undefined ? {} : { token }) }),
    drain: () => seen.splice(0, seen.length),
    close: async () => {
      await app.close();
      await h.close();
      await store.close();
    },
  };
}
