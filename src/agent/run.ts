import type { Logger } from "pino";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { defaultProviders } from "../engine/providers.ts";
import { defaultCacheDir } from "../engine/workspace.ts";
import type { Provider } from "../providers/provider.ts";
import type { RenderLimits } from "../render/render-limits.ts";
import { maskUserinfo } from "../source/source-location.ts";
import { openStore } from "../store/open.ts";
import { SecretKeys } from "../engine/secret-keys.ts";
import { redactValuesDeep, secretValues, type SecretValues } from "../store/redact.ts";
import { withSecretValues } from "../store/secret-values.ts";
import type { Store } from "../store/store.ts";
import { Agent } from "./agent.ts";
import { coordinationFor, defaultAgentId, fencedProviders, lockStateForAgent } from "./agent-identity.ts";
import { readSecret, readTargetSecrets, type AgentConfig } from "./config.ts";
import { agentLogger } from "./logger.ts";
import { AgentMetrics } from "./metrics.ts";
import { DeliveryLog } from "./deliveries.ts";
import { headVerification, httpSettings } from "./head-verification.ts";
import { exposureWarnings, splitListen } from "./listen.ts";
import { buildServer } from "./server.ts";
import { principalResolver } from "./http/principal.ts";
import { browserSetup, readBrowserSecrets } from "./http/session-setup.ts";
import { openForge } from "../forge/open-forge.ts";
import { Notifier, notificationTargets } from "./notify.ts";

/** How to start an agent: the agent configuration plus the command line's overrides. */
export interface RunAgentOptions {
  readonly config: AgentConfig;
  readonly repo?: string;
  readonly branch?: string;
  readonly environments?: readonly string[];
  readonly state?: string;
  /** `host:port`; port 0 picks a free one. */
  readonly listen?: string;
  readonly kubeconfig?: string;
  readonly logger?: Logger;
  readonly providers?: Readonly<Record<string, Provider>>;
  /** Seconds a synced stack has to become healthy; default the configuration's healthTimeout (300). */
  readonly healthTimeoutSeconds?: number;
  /** This agent's id among agents sharing a PostgreSQL state (over the configuration's agentId); default `<hostname>-<pid>-<random>`. */
  readonly agentId?: string;
  /** Lease time in seconds with several agents (over the configuration's leaseSeconds); default 15. */
  readonly leaseSeconds?: number;
}

/** A started agent and its HTTP server. */
export interface RunningAgent {
  readonly agent: Agent;
  readonly store: Store;
  /** The server's base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Opens the store, starts the HTTP server and the agent's loops. */
export async function runAgent(o: RunAgentOptions): Promise<RunningAgent> {
  const c = o.config;
  const repo = o.repo ?? c.repo;
  if (repo === undefined) throw new GitwardError(ErrorCode.Config, "no repository: pass --repo URL|PATH or set repo in the agent configuration");
  const [verification, http] = await Promise.all([headVerification(c.verification), httpSettings(c.http)]);
  const { host, port } = splitListen(o.listen ?? c.listen ?? "127.0.0.1:8080");
  const [github, gitlab, gitea, generic, apiToken, forgeToken] = await Promise.all([
    readSecret(c.webhook.github, "GITWARD_WEBHOOK_SECRET"), readSecret(c.webhook.gitlab, "GITWARD_WEBHOOK_SECRET"),
    readSecret(c.webhook.gitea, "GITWARD_WEBHOOK_SECRET"), readSecret(c.webhook.generic, "GITWARD_WEBHOOK_SECRET"),
    readSecret(c.api.token, "GITWARD_API_TOKEN"), c.forge === undefined ? undefined : readSecret(c.forge.token),
  ]);
  const targets = await notificationTargets(c.notifications);
  // The values of the targets' env (Terraform's provider and backend credentials): read once, masked everywhere.
  const credentials = await readTargetSecrets(c.targets);
  const browserSecrets = await readBrowserSecrets(c);
  // Whatever the agent stores, serves or logs is masked for the secrets it read, by value: a host
  // command that prints the API token leaves *** in history and in the log, not the token.
  const secrets = secretValues([github, gitlab, gitea, generic, apiToken, forgeToken, ...targets.flatMap((t) => [t.url, t.secret]),
    browserSecrets.cookieSecret, browserSecrets.clientSecret, ...credentials.values]);
  const logger = maskedLogger(o.logger ?? agentLogger(), secrets);
  const browser = browserSetup(c, browserSecrets, { logger, tls: http.tls !== undefined });
  const state = o.state ?? c.state ?? "sqlite:gitward-state.db";
  const agentId = o.agentId ?? c.agentId ?? defaultAgentId();
  // One agent per SQLite file: held until the process ends (the OS drops it on a crash).
  const stateLock = lockStateForAgent(state);
  const store = withSecretValues(await openStore(state, { agentId }).catch((e: unknown) => {
    stateLock?.release();
    throw e;
  }), secrets);
  const coordination = coordinationFor(store, { id: agentId, ...(c.url === undefined ? {} : { url: c.url }), leaseSeconds: o.leaseSeconds ?? c.leaseSeconds });
  const metrics = new AgentMetrics();
  const forge = c.forge === undefined || forgeToken === undefined ? undefined
    : await openForge({ kind: c.forge.kind, apiUrl: c.forge.apiUrl, repository: c.forge.repository, token: forgeToken });
  const notifier = targets.length === 0 ? undefined : new Notifier({ targets, logger });
  const branch = o.branch ?? c.branch;
  const environments = o.environments ?? c.environments;
  const agent = new Agent({
    repo, branch, configPath: c.configPath, store, metrics, logger,
    ...(environments === undefined ? {} : { environments }),
    cacheDir: c.cacheDir ?? defaultCacheDir(),
    ...(c.renderLimits === undefined ? {} : { renderLimits: definedLimits(c.renderLimits) }),
    providers: o.providers ?? fencedProviders(defaultProviders(), coordination?.fences),
    ...(coordination === undefined ? {} : { coordination }),
    targets: credentials.targets,
    ...(o.kubeconfig === undefined ? {} : { kubeconfig: o.kubeconfig }),
    intervals: {
      pollMs: c.intervals.poll * 1000, driftMs: c.intervals.drift * 1000, retryBaseMs: c.intervals.retryBase * 1000,
      retryMaxMs: c.intervals.retryMax * 1000, dependencyWaitMs: c.intervals.dependencyWait * 1000, healthMs: c.intervals.health * 1000,
    },
    concurrency: c.concurrency,
    graceMs: c.gracePeriodSeconds * 1000,
    healthTimeoutMs: (o.healthTimeoutSeconds ?? c.healthTimeout) * 1000,
    ...(verification === undefined ? {} : { verification }),
    ...(forge === undefined ? {} : { forge, approvalTtlMs: (c.forge?.approvalCacheSeconds ?? 60) * 1000, deploymentStatuses: c.forge?.statuses ?? true }),
    ...(c.url === undefined ? {} : { url: c.url }),
    ...(notifier === undefined ? {} : { notifier }),
    secretKeys: new SecretKeys(c.decryption === undefined ? {} : { environments: c.decryption }),
  });
  // Browser sessions (token and OIDC login) are asked first when resolving who a request acts as.
  const resolvePrincipal = principalResolver({
    store, legacyToken: apiToken, legacyTokenName: c.api.tokenName, anonymousRead: c.api.anonymousRead, session: browser.sessions.principal,
  });
  const server = await buildServer({
    resolvePrincipal, browser, anonymousRead: c.api.anonymousRead,
    agent, store, metrics, logger, branch, http,
    deliveries: new DeliveryLog({ windowMs: c.webhook.replayWindow * 1000, max: c.webhook.replayMemory }),
    ...(apiToken === undefined ? {} : { apiToken }),
    ...(c.api.tokenName === undefined ? {} : { apiTokenName: c.api.tokenName }),
    webhookSecrets: {
      ...(github === undefined ? {} : { github }), ...(gitlab === undefined ? {} : { gitlab }),
      ...(gitea === undefined ? {} : { gitea }), ...(generic === undefined ? {} : { generic }),
    },
  });
  const portText = String(port);
  const listened = await server.listen({ host, port }).catch(async (e: unknown) => {
    await server.close();
    await store.close();
    stateLock?.release();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") {
      const why = code === "EADDRINUSE" ? "the address is in use (another agent?)" : code === "EACCES" ? "permission denied" : "no such local address";
      throw new GitwardError(ErrorCode.Config, `cannot listen on ${host}:${portText}: ${why}`, { hint: "pass --listen HOST:PORT with a free port, e.g. --listen 127.0.0.1:8081" });
    }
    throw e;
  });
  const address = http.tls === undefined ? listened : listened.replace(/^http:/, "https:");
  logger.info({ url: address, repo: maskUserinfo(repo), branch, environments: environments ?? "all", agentId, ...(coordination === undefined ? {} : { leaseMs: coordination.leaseMs }) }, "agent listening");
  void browser.sessions.oidc?.start();
  for (const warning of exposureWarnings(host, { tls: http.tls !== undefined, apiToken: apiToken !== undefined })) logger.warn(warning);
  try {
    await agent.start();
  } catch (e: unknown) {
    // The first read of the repository may fail (unreachable remote): the agent keeps polling and reports it.
    logger.error({ err: e instanceof Error ? e.message : String(e) }, "first poll failed; retrying in the background");
  }
  let stopped: Promise<void> | undefined;
  return {
    agent, store, url: address,
    stop: () => {
      stopped ??= (async () => {
        logger.info("stopping: no new work; in-flight syncs get the grace period");
        await server.close();
        await agent.stop();
        await notifier?.close(5000);
        await store.close();
        stateLock?.release();
        logger.info("stopped");
      })();
      return stopped;
    },
  };
}

/** A logger whose logged objects (errors with a command's output among them) have the agent's secret values masked. */
function maskedLogger(logger: Logger, secrets: SecretValues): Logger {
  if (secrets.values.length === 0) return logger;
  return logger.child({}, { formatters: { log: (object: object) => redactValuesDeep(object, secrets) } });
}

/** The limits the configuration sets, without the keys it leaves out. */
function definedLimits(limits: NonNullable<AgentConfig["renderLimits"]>): Partial<RenderLimits> {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}
