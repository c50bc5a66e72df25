import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { z } from "zod";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { hostCommandSetSchema, targetKeyPattern } from "../providers/host/command-definitions.ts";

const name = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a lowercase DNS label");
const seconds = z.number().positive().max(7 * 24 * 3600);

/** A secret read from an environment variable or a file, never written in the config itself. */
const secretRef = z.strictObject({
  env: z.string().min(1).optional(),
  file: z.string().min(1).optional(),
}).refine((s) => (s.env === undefined) !== (s.file === undefined), "give exactly one of env or file");

/** Where a target's credentials come from: the agent's own machine, never Git. */
const targetCredentials = z.strictObject({
  kubeconfig: z.string().min(1).optional().describe("kubeconfig file for a kubernetes target."),
  context: z.string().min(1).optional().describe("kubeconfig context, over the one in gitward.yaml."),
  root: z.string().min(1).optional().describe("Root directory for a host target, over the one in gitward.yaml."),
  commands: hostCommandSetSchema.optional()
    .describe("The commands a host target may run, by the names gitward.yaml gives in check, reload and health: an argument array, or {command, timeoutSeconds}."),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), secretRef).optional()
    .describe("A terraform target: the values of the environment variables gitward.yaml names in its env (provider and backend credentials, TF_VAR_*), each a secret {env} or {file}."),
  backendConfigFile: z.string().min(1).optional()
    .describe("A terraform target: the backend configuration file (-backend-config=FILE), over gitward.yaml's, so backend credentials stay on this machine."),
});

/** A target's credentials as the agent configuration gives them. */
export type TargetCredentials = z.infer<typeof targetCredentials>;

/**
 * A target's credentials with the secrets of its `env` read (at start, by {@link readTargetSecrets}):
 * what the agent opens targets with. The values are masked like every secret the agent reads.
 */
export interface ResolvedTargetCredentials extends TargetCredentials {
  /** The values of `env`, by variable name; absent when the configuration gives no `env`. */
  readonly envValues?: Readonly<Record<string, string>>;
}

/**
 * The keys the agent trusts commit signatures from, and the environments that must have them.
 * The requirement is the agent's, not Git's: a commit cannot turn it off by editing gitward.yaml.
 */
const verification = z.strictObject({
  allowedSigners: z.string().min(1).optional().describe("SSH allowed-signers file (as git's gpg.ssh.allowedSignersFile); --allowed-signers overrides."),
  gpgKeyring: z.string().min(1).optional().describe("File of trusted GPG public keys; --gpg-keyring overrides."),
  requireSignedCommits: z.array(z.union([name, z.literal("*")])).default([])
    .describe("Environments whose head commit must be signed by a trusted key, or [\"*\"] for all; --require-signed-commits overrides."),
}).refine((v) => v.allowedSigners === undefined || v.gpgKeyring === undefined, "give allowedSigners or gpgKeyring, not both");

/** The HTTP server's limits: a flood of connections is turned away, not served until file descriptors run out. */
const http = z.strictObject({
  maxConnections: z.number().int().min(1).max(65536).default(512).describe("Connections open at once; more are closed as they arrive."),
  idleTimeout: seconds.default(30).describe("Seconds a connection may stay silent before it is closed."),
  headersTimeout: seconds.default(10).describe("Seconds a client has to send a request's headers."),
  requestTimeout: seconds.default(30).describe("Seconds a client has to send a whole request."),
  tls: z.strictObject({
    cert: z.string().min(1).describe("PEM certificate chain file."),
    key: z.string().min(1).describe("PEM private key file."),
  }).optional().describe("Serve HTTPS instead of HTTP."),
}).default({ maxConnections: 512, idleTimeout: 30, headersTimeout: 10, requestTimeout: 30 });

/** The forge the agent asks for approvals and reports deployments to; its token is the agent's, never Git's. */
const forge = z.strictObject({
  kind: z.enum(["github", "gitlab", "gitea"]).describe("github (also Enterprise), gitlab (also self-hosted), gitea (also Forgejo)."),
  apiUrl: z.url({ protocol: /^https?$/ }).describe("REST API base URL: https://api.github.com, https://HOST/api/v3, https://HOST/api/v4 (GitLab), https://HOST/api/v1 (Gitea)."),
  repository: z.string().min(1).describe("owner/name (GitHub, Gitea), or the GitLab project's id or path."),
  token: secretRef.describe("A token that can read pull requests and reviews, and write commit statuses."),
  approvalCacheSeconds: seconds.default(60).describe("How long the forge's answers about approvals are kept; a review webhook refreshes them sooner."),
  statuses: z.boolean().default(true).describe("Set a commit status gitward/<environment> on each synced commit."),
});

/** An outbound notification: a JSON webhook signed with HMAC-SHA256, or a Slack-compatible incoming webhook. */
const notification = z.strictObject({
  kind: z.enum(["webhook", "slack"]),
  url: secretRef.describe("Where to post; a secret, since Slack webhook URLs are credentials."),
  secret: secretRef.optional().describe("kind webhook: the HMAC-SHA256 key; the signature goes in X-Gitward-Signature: sha256=<hex>."),
  events: z.array(z.enum(["sync-failed", "drift", "gate-waiting"])).min(1).default(["sync-failed", "drift", "gate-waiting"]),
});

/** Browser login through an OpenID Provider: groups in its ID token map to roles per environment. */
const oidc = z.strictObject({
  issuer: z.url({ protocol: /^https?$/ }).describe("The provider's issuer URL (discovery at <issuer>/.well-known/openid-configuration); http only on loopback."),
  clientId: z.string().min(1),
  clientSecret: secretRef.optional().describe("The client's secret; leave out for a public client (PKCE only)."),
  redirectUrl: z.url({ protocol: /^https?$/ }).optional().describe("Where the provider sends the browser back; default <url>/auth/callback."),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "a scope token")).min(1).default(["openid", "profile", "email", "groups"]),
  groupsClaim: z.string().min(1).default("groups").describe("The ID token (or userinfo) claim listing the user's groups."),
  roles: z.array(z.strictObject({
    group: z.string().min(1),
    role: z.enum(["viewer", "operator", "admin"]),
    environments: z.array(z.union([name, z.literal("*")])).min(1).describe("Environment names, or [\"*\"] for all."),
  })).default([]).describe("Group to role mappings; a user whose groups map to none is refused."),
  sessionTtl: z.number().int().positive().max(30 * 24 * 3600).default(28800).describe("Seconds a browser session lasts."),
});

/** The agent's own configuration (`--config agent.yaml`): outside Git, next to the credentials. */
export const agentConfigSchema = z.strictObject({
  repo: z.string().min(1).optional().describe("Repository URL or path; --repo overrides."),
  branch: z.string().min(1).default("main"),
  configPath: z.string().min(1).default("gitward.yaml"),
  environments: z.array(name).optional().describe("Environments this agent serves; default all."),
  state: z.string().min(1).optional().describe("sqlite:PATH; --state overrides."),
  listen: z.string().min(1).optional().describe("host:port for the API, webhooks and metrics; --listen overrides."),
  cacheDir: z.string().min(1).optional(),
  renderLimits: z.strictObject({
    maxObjectsPerFile: z.number().int().positive().optional(),
    maxObjectsPerStack: z.number().int().positive().optional(),
    maxObjectsPerRevision: z.number().int().positive().optional(),
    maxBytesPerRevision: z.number().int().positive().optional(),
  }).optional().describe("The agent's render limits over the defaults (10 000 objects a file, 50 000 a stack, 200 000 a revision, 128 MiB a revision); a repository's gitward.yaml may only lower them."),
  concurrency: z.number().int().min(1).max(256).default(4),
  intervals: z.strictObject({
    poll: seconds.default(30).describe("Seconds between checks of the remote (git ls-remote)."),
    drift: seconds.default(300).describe("Seconds between drift checks of every stack."),
    retryBase: seconds.default(5).describe("First retry delay after a failed sync; doubles up to retryMax."),
    retryMax: seconds.default(300),
    dependencyWait: seconds.default(2).describe("Seconds between checks of a stack's dependencies."),
    health: seconds.default(5).describe("Seconds between reads of the health of synced stacks' objects."),
  }).default({ poll: 30, drift: 300, retryBase: 5, retryMax: 300, dependencyWait: 2, health: 5 }),
  healthTimeout: seconds.default(300).describe("Seconds a synced stack has to become healthy before it is recorded as timed out; an environment's sync.timeout overrides it; --health-timeout overrides this."),
  gracePeriodSeconds: seconds.default(30).describe("On SIGTERM: how long in-flight syncs may finish before they are cancelled."),
  targets: z.record(z.string().regex(targetKeyPattern, "must be a target name, or environment/target"), targetCredentials).default({}),
  decryption: z.record(name, z.strictObject({
    ageKeyFile: z.string().min(1).optional().describe("age identities file (the SOPS_AGE_KEY_FILE format)."),
    pgpKeyFile: z.string().min(1).optional().describe("Armored or binary OpenPGP secret key file."),
    gnupgHome: z.string().min(1).optional().describe("A GnuPG home whose keyring holds the PGP keys (gpg is run with it)."),
  })).optional().describe("SOPS private keys per environment; an environment named here decrypts with these only, others with SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or GNUPGHOME of the agent's environment."),
  webhook: z.strictObject({
    github: secretRef.optional(), gitlab: secretRef.optional(), gitea: secretRef.optional(), generic: secretRef.optional(),
    replayWindow: seconds.default(86400).describe("Seconds a delivery (its id and its body) is remembered, so a replay is ignored."),
    replayMemory: z.number().int().min(100).max(1_000_000).default(10_000).describe("Deliveries remembered at most; the oldest are forgotten first."),
  }).default({ replayWindow: 86400, replayMemory: 10_000 }),
  api: z.strictObject({
    token: secretRef.optional(),
    tokenName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, "letters, digits and . _ @ -, at most 64").optional()
      .describe("Who the token stands for in the audit log (default api-token)."),
    anonymousRead: z.boolean().default(false)
      .describe("Let requests without credentials read (viewer on every environment); writes still need a token or a login. For an agent on loopback."),
  }).default({ anonymousRead: false }),
  verification: verification.default({ requireSignedCommits: [] }),
  http,
  forge: forge.optional().describe("The forge holding the repository: approvals for environments that require them, commit statuses after syncs."),
  url: z.url({ protocol: /^https?$/ }).optional().describe("The agent's address as people reach it, linked from commit statuses and notifications."),
  agentId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "letters, digits and . _ -, at most 128").optional()
    .describe("This agent's id among agents sharing a PostgreSQL state; --agent-id overrides; default <hostname>-<pid>-<random>."),
  leaseSeconds: z.number().min(1).max(3600).optional()
    .describe("With several agents: how long a stack's lease lasts without renewal (renewed every third of it); a dead agent's stacks are taken over within about this time. Default 15; --lease-seconds overrides."),
  notifications: z.array(notification).default([]),
  oidc: oidc.optional().describe("Browser login through an OpenID Provider (docs/auth.md)."),
  sessions: z.strictObject({
    secret: secretRef.optional().describe("Key signing the session cookie; default a random key per process (sessions end at restart)."),
  }).default({}),
});

/** The parsed agent configuration. */
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Reads and validates an agent configuration file; errors name the file and key. */
export async function loadAgentConfig(path: string | undefined): Promise<AgentConfig> {
  if (path === undefined) return agentConfigSchema.parse({});
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e: unknown) {
    throw new GitwardError(ErrorCode.Config, `${path}: cannot read the agent configuration: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new GitwardError(ErrorCode.Config, `${path}: ${doc.errors[0]?.message ?? "invalid YAML"}`);
  const parsed = agentConfigSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GitwardError(ErrorCode.Config, `${path}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`, {
      hint: "see docs/agent.md for the agent configuration",
    });
  }
  return parsed.data;
}

/** Resolves a secret reference; undefined when none is configured. Its value is never logged. */
export async function readSecret(ref: { env?: string | undefined; file?: string | undefined } | undefined, fallbackEnv?: string): Promise<string | undefined> {
  if (ref?.file !== undefined) {
    try {
      return (await readFile(ref.file, "utf8")).trim();
    } catch (e: unknown) {
      throw new GitwardError(ErrorCode.Config, `cannot read secret file ${ref.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const envName = ref?.env ?? fallbackEnv;
  if (envName === undefined) return undefined;
  const value = process.env[envName];
  if (ref?.env !== undefined && (value === undefined || value === "")) {
    throw new GitwardError(ErrorCode.Config, `environment variable ${envName} (a secret the agent configuration names) is not set`);
  }
  return value === "" ? undefined : value;
}

/**
 * Reads the secrets of every target's `env` (a missing one fails the start, naming the target
 * and variable, never a value). Returns the credentials with their values, and the values, which
 * the caller masks wherever the agent stores, serves or logs.
 */
export async function readTargetSecrets(targets: AgentConfig["targets"]): Promise<{ targets: Record<string, ResolvedTargetCredentials>; values: string[] }> {
  const out: Record<string, ResolvedTargetCredentials> = {};
  const values: string[] = [];
  for (const [key, creds] of Object.entries(targets)) {
    if (creds.env === undefined) {
      out[key] = creds;
      continue;
    }
    const envValues: Record<string, string> = {};
    for (const [variable, ref] of Object.entries(creds.env)) {
      let value: string | undefined;
      try {
        value = await readSecret(ref);
      } catch (e: unknown) {
        throw new GitwardError(ErrorCode.Config, `targets.${key}.env.${variable}: ${e instanceof GitwardError ? e.detail : String(e)}`);
      }
      if (value === undefined) continue;
      envValues[variable] = value;
      values.push(value);
    }
    out[key] = { ...creds, envValues };
  }
  return { targets: out, values };
}
