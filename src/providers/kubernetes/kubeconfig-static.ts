import { readFileSync } from "node:fs";
import type http from "node:http";
import https from "node:https";
import { dirname, isAbsolute, join } from "node:path";
import { load } from "js-yaml";
import { isRecord } from "../../core/object.ts";
import type { KubeconfigOptions, KubeCredentials } from "./kube-credentials.ts";
import { findKubeconfigSource } from "./kubeconfig-source.ts";
import { nodeHttp } from "./node-http.ts";

/**
 * Reads kubeconfigs that need no plugin (tokens, token files, client certificates, CA data or
 * files, basic auth, impersonation, insecure-skip-tls-verify) without @kubernetes/client-node,
 * whose import costs about 0.3 s of every CLI run. It mirrors client-node 2.0's `KubeConfig`
 * step by step: the same files in the same order (`$KUBECONFIG` merged, later current-context
 * winning), the same parser (js-yaml), paths made absolute the same way, token files read at
 * load, and credential files read again on every request. Whatever it does not mirror it
 * declines, answering undefined so that the caller loads client-node: exec plugins and
 * auth-providers, proxy-url, in-cluster, Windows homes, an unknown context, and anything
 * client-node would reject or treat oddly (parse errors, missing fields, values of other types,
 * duplicate names across files, unreadable files). Errors are therefore always client-node's.
 */
export function readStaticKubeconfig(opts: KubeconfigOptions, env: NodeJS.ProcessEnv): KubeCredentials | undefined {
  const files = kubeconfigFiles(opts, env);
  if (files === undefined || files.length === 0) return undefined;
  let config: StaticConfig | undefined;
  for (const file of files) {
    const next = readFile(file);
    config = next === undefined ? undefined : config === undefined ? next : merge(config, next);
    if (config === undefined) return undefined;
  }
  if (config === undefined) return undefined;
  const wanted = opts.context ?? opts.repositoryContext;
  const contextName = wanted ?? config.currentContext;
  if (wanted !== undefined && !config.contexts.some((c) => c.name === wanted)) return undefined;
  const context = config.contexts.find((c) => c.name === contextName);
  const cluster = context === undefined ? null : (config.clusters.find((c) => c.name === context.cluster) ?? null);
  const user = context === undefined ? null : (config.users.find((u) => u.name === context.user) ?? null);
  if (user?.plugin === true || (cluster?.proxyUrl ?? "") !== "") return undefined;
  return new StaticKubeconfig(contextName, cluster, user);
}

/** A cluster entry as client-node keeps it. */
interface StaticCluster {
  readonly name: string;
  readonly server: string;
  readonly caData: string | undefined;
  readonly caFile: string | undefined;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName: string | undefined;
  readonly proxyUrl: string | undefined;
}

/** A user entry as client-node keeps it; `plugin` when an exec plugin or auth-provider is named. */
interface StaticUser {
  readonly name: string;
  readonly plugin: boolean;
  readonly token: string | undefined;
  readonly certData: string | undefined;
  readonly certFile: string | undefined;
  readonly keyData: string | undefined;
  readonly keyFile: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly impersonateUser: string | undefined;
}

interface StaticContext {
  readonly name: string;
  readonly cluster: string;
  readonly user: string | undefined;
}

interface StaticConfig {
  readonly clusters: readonly StaticCluster[];
  readonly users: readonly StaticUser[];
  readonly contexts: readonly StaticContext[];
  readonly currentContext: string | undefined;
}

/** The current context's cluster and user, applied to requests as client-node applies them. */
class StaticKubeconfig implements KubeCredentials {
  private readonly context: string | undefined;
  private readonly cluster: StaticCluster | null;
  private readonly user: StaticUser | null;
  private agent: http.Agent | undefined;

  constructor(context: string | undefined, cluster: StaticCluster | null, user: StaticUser | null) {
    this.context = context;
    this.cluster = cluster;
    this.user = user;
  }

  // Undefined when the kubeconfig names none, as client-node answers (its type says string too).
  getCurrentContext(): string {
    return this.context as string;
  }

  getCurrentCluster(): { readonly server: string; readonly proxyUrl?: string | undefined } | null {
    return this.cluster;
  }

  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    return new Promise((resolve) => {
      this.apply(opts);
      resolve();
    });
  }

  // client-node's applyHTTPSOptions, applyAuthorizationHeader and createAgent, for a user without plugins.
  private apply(opts: https.RequestOptions): void {
    const { cluster, user } = this;
    if (user !== null) {
      if (cluster?.skipTLSVerify === true) opts.rejectUnauthorized = false;
      if (cluster?.tlsServerName !== undefined) opts.servername = cluster.tlsServerName;
      const ca = cluster === null ? null : fileOrData(cluster.caFile, cluster.caData);
      if (ca !== null) opts.ca = ca;
      const cert = fileOrData(user.certFile, user.certData);
      if (cert !== null) opts.cert = cert;
      const key = fileOrData(user.keyFile, user.keyData);
      if (key !== null) opts.key = key;
      const headers = (opts.headers ??= {}) as Record<string, string>;
      if (user.impersonateUser !== undefined) headers["Impersonate-User"] = user.impersonateUser;
      if (user.token !== undefined) headers["Authorization"] = `Bearer ${user.token}`;
      if (user.username !== undefined) opts.auth = `${user.username}:${user.password ?? ""}`;
    }
    opts.agent = this.agentFor(opts);
  }

  private agentFor(opts: https.RequestOptions): http.Agent {
    if (this.agent !== undefined) return this.agent;
    const server = this.cluster?.server ?? "";
    if (server.startsWith("http:") && this.cluster?.skipTLSVerify !== true) {
      throw new Error("HTTP protocol is not allowed when skipTLSVerify is not set or false");
    }
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, timeout, servername } = opts;
    const agentOptions: https.AgentOptions = { ca, cert, key, pfx, passphrase, timeout, servername, ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }) };
    this.agent = server.startsWith("http:") ? new (nodeHttp().Agent)(agentOptions) : new https.Agent(agentOptions);
    return this.agent;
  }
}

/** The files client-node's loadFromFile would read for the decided source, or undefined when it would not read a file. */
function kubeconfigFiles(opts: KubeconfigOptions, env: NodeJS.ProcessEnv): string[] | undefined {
  const source = findKubeconfigSource(opts, env);
  if (source.kind === "path" || source.kind === "env") return [...source.files];
  // client-node finds a Windows home its own way.
  return source.kind === "home" && process.platform !== "win32" ? [...source.files] : undefined;
}

/** One kubeconfig file, as loadFromFile leaves it (paths relative to the file made absolute). */
function readFile(file: string): StaticConfig | undefined {
  let doc: unknown;
  try {
    doc = load(readFileSync(file).toString("utf-8"));
  } catch {
    return undefined;
  }
  if (!isRecord(doc)) return undefined;
  const current = doc["current-context"];
  if (current !== undefined && current !== null && typeof current !== "string") return undefined;
  const root = dirname(file);
  const clusters = entries(doc["clusters"], (e) => clusterOf(e, root));
  const users = entries(doc["users"], (e) => userOf(e, root));
  const contexts = entries(doc["contexts"], contextOf);
  if (clusters === undefined || users === undefined || contexts === undefined) return undefined;
  return { clusters, users, contexts, currentContext: current ?? undefined };
}

/**
 * client-node's `$KUBECONFIG` merge: a later current-context wins; a name seen before is an error,
 * including a name repeated inside the later file (the first file may repeat names).
 */
function merge(into: StaticConfig, next: StaticConfig): StaticConfig | undefined {
  const clash = <T extends { name: string }>(a: readonly T[], b: readonly T[]): boolean =>
    b.some((x, i) => a.some((y) => y.name === x.name) || b.slice(0, i).some((y) => y.name === x.name));
  if (clash(into.clusters, next.clusters) || clash(into.users, next.users) || clash(into.contexts, next.contexts)) return undefined;
  return {
    clusters: [...into.clusters, ...next.clusters],
    users: [...into.users, ...next.users],
    contexts: [...into.contexts, ...next.contexts],
    currentContext: next.currentContext !== undefined && next.currentContext !== "" ? next.currentContext : into.currentContext,
  };
}

/** Every entry of a list, or undefined when one is not static; not a list is no entries, as in client-node. */
function entries<T>(list: unknown, read: (entry: Record<string, unknown>) => T | undefined): T[] | undefined {
  if (!Array.isArray(list)) return [];
  const out: T[] = [];
  for (const entry of list as unknown[]) {
    const value = isRecord(entry) ? read(entry) : undefined;
    if (value === undefined) return undefined;
    out.push(value);
  }
  return out;
}

function clusterOf(entry: Record<string, unknown>, root: string): StaticCluster | undefined {
  const c = entry["cluster"];
  const name = entry["name"];
  if (!isRecord(c) || !isNonEmpty(name) || !isNonEmpty(c["server"])) return undefined;
  const caData = optional(c["certificate-authority-data"]);
  const caFile = optional(c["certificate-authority"]);
  const tlsServerName = optional(c["tls-server-name"]);
  // Kept as written (an empty one too), as getCurrentCluster shows it.
  const proxyUrl = c["proxy-url"];
  if (caData === false || caFile === false || tlsServerName === false || (proxyUrl !== undefined && typeof proxyUrl !== "string")) return undefined;
  return {
    name, server: c["server"].replace(/\/$/, ""), caData, caFile: absolute(root, caFile),
    skipTLSVerify: c["insecure-skip-tls-verify"] === true, tlsServerName, proxyUrl,
  };
}

function userOf(entry: Record<string, unknown>, root: string): StaticUser | undefined {
  const name = entry["name"];
  const u = entry["user"] ?? {};
  if (!isNonEmpty(name) || !isRecord(u)) return undefined;
  const field = (key: string): string | undefined | false => optional(u[key]);
  const [certData, certFile, keyData, keyFile, username, tokenFile] = ["client-certificate-data", "client-certificate", "client-key-data", "client-key", "username", "token-file"].map(field);
  const password = u["password"];
  const as = u["as"];
  const plainToken = field("token");
  if ([certData, certFile, keyData, keyFile, username, tokenFile, plainToken].includes(false)) return undefined;
  if ((username !== undefined && typeof password !== "string") || (as !== undefined && as !== null && typeof as !== "string")) return undefined;
  // Read at load (relative to the working directory, before paths are made absolute), as client-node does.
  const token = plainToken !== undefined ? plainToken : tokenFile === undefined ? undefined : readToken(tokenFile as string);
  if (token === false) return undefined;
  return {
    name, plugin: Boolean(u["exec"]) || Boolean(u["auth-provider"]), token: token === "" ? undefined : token,
    certData: certData as string | undefined, certFile: absolute(root, certFile as string | undefined),
    keyData: keyData as string | undefined, keyFile: absolute(root, keyFile as string | undefined),
    username: username as string | undefined, password: typeof password === "string" ? password : undefined,
    impersonateUser: typeof as === "string" ? as : undefined,
  };
}

function contextOf(entry: Record<string, unknown>): StaticContext | undefined {
  const c = entry["context"];
  const name = entry["name"];
  if (!isNonEmpty(name) || !isRecord(c) || !isNonEmpty(c["cluster"])) return undefined;
  const user = optional(c["user"]);
  if (user === false) return undefined;
  return { name, cluster: c["cluster"], user };
}

function readToken(file: string): string | false {
  try {
    return readFileSync(file).toString();
  } catch {
    return false;
  }
}

function isNonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

/** A string field: undefined when absent, null or empty (client-node tests them for truth); false when of another type. */
function optional(value: unknown): string | undefined | false {
  if (value === undefined || value === null || value === "") return undefined;
  return typeof value === "string" ? value : false;
}

function absolute(root: string, file: string | undefined): string | undefined {
  return file === undefined || isAbsolute(file) ? file : join(root, file);
}

// client-node's bufferFromFileOrString: the file wins, read on every call.
function fileOrData(file: string | undefined, data: string | undefined): Buffer | null {
  if (file !== undefined) return readFileSync(file);
  return data === undefined ? null : Buffer.from(data, "base64");
}
