import { readFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { AgentStatus } from "../../agent/agent.ts";
import type { AgentConfig } from "../../agent/config.ts";
import type { SyncRow } from "../../store/store.ts";
import type { CliIO } from "../io.ts";

type Run<F> = (action: (io: CliIO, flags: F) => Promise<number>) => (flags: F) => Promise<void>;

interface BaseFlags {
  debug?: boolean;
  quiet?: boolean;
  color?: boolean;
}

interface AgentFlags extends BaseFlags {
  repo?: string;
  branch?: string;
  env?: string[];
  config?: string;
  state?: string;
  listen?: string;
  kubeconfig?: string;
  healthTimeout?: string;
  concurrency?: string;
  allowedSigners?: string;
  gpgKeyring?: string;
  requireSignedCommits?: string[];
  maxConnections?: string;
  agentId?: string;
  leaseSeconds?: string;
}

const envList = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(",").map((s) => s.trim()).filter((s) => s !== "")];

/** `gitward agent`: the pull-mode agent. */
export function agentCommand(run: Run<AgentFlags>): Command {
  return new Command("agent")
    .description("Run the pull-mode agent: watch the repository, keep the environments synced, correct or report drift, record history")
    .option("--repo <url|path>", "repository to watch (over the agent configuration's repo)")
    .option("--branch <name>", "branch to follow (default main)")
    .option("-e, --env <names>", "environments this agent serves (comma-separated or repeated; default all)", envList)
    .option("--config <file>", "agent configuration: credentials per target, intervals, concurrency, secrets (docs/agent.md)")
    .option("--state <url>", "where history and audit are kept: sqlite:PATH (one agent; default sqlite:gitward-state.db) or postgres://USER@HOST:PORT/DATABASE (several agents share the stacks)")
    .option("--listen <host:port>", "address of the API, webhooks and metrics (default 127.0.0.1:8080)")
    .option("--kubeconfig <file>", "kubeconfig for kubernetes targets the agent configuration gives none for")
    .option("--health-timeout <duration>", "how long a synced stack has to become healthy, e.g. 90s, 5m (over the configuration's healthTimeout)")
    .option("--concurrency <n>", "stacks synced at once (over the configuration's concurrency)")
    .option("--allowed-signers <file>", "trust SSH commit signatures from this allowed-signers file (over verification.allowedSigners)")
    .option("--gpg-keyring <file>", "trust GPG commit signatures from the public keys in this file (over verification.gpgKeyring)")
    .option("--require-signed-commits <envs>", "environments whose head commit must be signed by a trusted key, comma-separated, or '*' for all (over verification.requireSignedCommits)", envList)
    .option("--max-connections <n>", "HTTP connections open at once; more are closed (over http.maxConnections, default 512)")
    .option("--agent-id <id>", "this agent's id among agents sharing a PostgreSQL state (over agentId; default <hostname>-<pid>-<random>)")
    .option("--lease-seconds <n>", "several agents: lease time of a stack, renewed every third of it (over leaseSeconds; default 15)")
    .option("--debug", "log at debug level")
    .addHelpText("after", `
Examples:
  gitward agent --repo https://git.example.com/infra.git --env dev --state sqlite:/var/lib/gitward/state.db
  gitward agent --config /etc/gitward/agent.yaml
  gitward agent --config agent.yaml --allowed-signers /etc/gitward/allowed_signers --require-signed-commits prod

The agent stops on SIGTERM or SIGINT: no new work; in-flight syncs get the grace period.
Exit codes: 0 stopped cleanly, 1 could not start.`)
    .action(run(async (io, flags) => {
      const { loadAgentConfig } = await import("../../agent/config.ts");
      const { runAgent } = await import("../../agent/run.ts");
      const { agentLogger } = await import("../../agent/logger.ts");
      const { parseDuration } = await import("../../core/duration.ts");
      const loaded = await loadAgentConfig(flags.config);
      const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
      if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)) {
        throw new GitwardError(ErrorCode.Config, `--concurrency ${flags.concurrency}: expected a whole number from 1 to 256`);
      }
      const config = agentConfigFromFlags(concurrency === undefined ? loaded : { ...loaded, concurrency }, flags);
      const running = await runAgent({
        config, logger: agentLogger({ ...(flags.debug === true ? { level: "debug" } : {}) }),
        ...(flags.repo === undefined ? {} : { repo: flags.repo }),
        ...(flags.branch === undefined ? {} : { branch: flags.branch }),
        ...(flags.env === undefined ? {} : { environments: flags.env }),
        ...(flags.state === undefined ? {} : { state: flags.state }),
        ...(flags.listen === undefined ? {} : { listen: flags.listen }),
        ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
        ...(flags.agentId === undefined ? {} : { agentId: flags.agentId }),
        ...(flags.leaseSeconds === undefined ? {} : { leaseSeconds: leaseSecondsFlag(flags.leaseSeconds) }),
        ...(flags.healthTimeout === undefined ? {} : { healthTimeoutSeconds: parseDuration(flags.healthTimeout) / 1000 }),
      });
      io.progress(`agent running at ${running.url} (Ctrl-C stops it)`);
      await untilSignal();
      await running.stop();
      return ExitCode.Ok;
    }));
}

/** The agent configuration with the verification and HTTP flags over it. */
function agentConfigFromFlags(config: AgentConfig, flags: AgentFlags): AgentConfig {
  if (flags.allowedSigners !== undefined && flags.gpgKeyring !== undefined) {
    throw new GitwardError(ErrorCode.Config, "--allowed-signers and --gpg-keyring cannot be used together");
  }
  const keys = flags.allowedSigners !== undefined ? { allowedSigners: flags.allowedSigners } : flags.gpgKeyring !== undefined ? { gpgKeyring: flags.gpgKeyring } : undefined;
  const { allowedSigners, gpgKeyring, ...rest } = config.verification;
  const verification = {
    ...rest, ...(keys ?? { ...(allowedSigners === undefined ? {} : { allowedSigners }), ...(gpgKeyring === undefined ? {} : { gpgKeyring }) }),
    ...(flags.requireSignedCommits === undefined ? {} : { requireSignedCommits: flags.requireSignedCommits }),
  };
  for (const env of verification.requireSignedCommits) {
    if (env !== "*" && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(env)) throw new GitwardError(ErrorCode.Config, `--require-signed-commits ${env}: not an environment name`);
  }
  const maxConnections = flags.maxConnections === undefined ? undefined : Number(flags.maxConnections);
  if (maxConnections !== undefined && (!Number.isInteger(maxConnections) || maxConnections < 1 || maxConnections > 65536)) {
    throw new GitwardError(ErrorCode.Config, `--max-connections ${flags.maxConnections}: expected a whole number from 1 to 65536`);
  }
  return { ...config, verification, ...(maxConnections === undefined ? {} : { http: { ...config.http, maxConnections } }) };
}

function leaseSecondsFlag(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 1 || n > 3600) throw new GitwardError(ErrorCode.Config, `--lease-seconds ${text}: expected a number of seconds from 1 to 3600`);
  return n;
}

/** Resolves on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGTERM", done);
      process.off("SIGINT", done);
      resolve();
    };
    process.on("SIGTERM", done);
    process.on("SIGINT", done);
  });
}

interface ClientFlags extends BaseFlags {
  agent?: string;
  state?: string;
  tokenFile?: string;
  output: "text" | "json";
}

function addClientOptions(cmd: Command): Command {
  return cmd
    .option("--agent <url>", "the agent's API (default $GITWARD_AGENT_URL or http://127.0.0.1:8080)")
    .option("--state <url>", "read the agent's state directly instead: sqlite:PATH, or postgres://… (then also which agent owns each stack, and every agent's last heartbeat)")
    .option("--token-file <file>", "file holding an API token (default $GITWARD_API_TOKEN; reads need none when the agent allows anonymous reads)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--no-color", "no colour");
}

function agentUrl(flags: ClientFlags): string {
  return (flags.agent ?? process.env["GITWARD_AGENT_URL"] ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}

/** The API token the client sends: `--token-file`, else `$GITWARD_API_TOKEN`; undefined when neither is set. */
async function clientToken(flags: ClientFlags): Promise<string | undefined> {
  const token = flags.tokenFile !== undefined ? (await readFile(flags.tokenFile, "utf8")).trim() : process.env["GITWARD_API_TOKEN"];
  return token === undefined || token === "" ? undefined : token;
}

/** The agent's error answer (`{error: {code, message}}`) as a GitwardError saying what to do about a 401 or 403. */
function agentRefused(what: string, status: number, body: unknown): GitwardError {
  const e = (body as { error?: { code?: string; message?: string } | string } | null)?.error;
  const said = typeof e === "string" ? e : e?.message === undefined ? JSON.stringify(body).slice(0, 300) : `${e.code ?? "error"}: ${e.message}`;
  const hint = status === 401 ? "set GITWARD_API_TOKEN or pass --token-file FILE (create one with gitward token create)"
    : status === 403 ? "ask an admin for a token with that role (gitward token create --role R --env E)" : undefined;
  return new GitwardError(ErrorCode.Config, `${what} (${status}): ${said}`, hint === undefined ? {} : { hint });
}

async function getJson(url: string, init?: RequestInit, token?: string): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    const headers = { ...(init?.headers as Record<string, string> | undefined), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
    res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(30_000) });
  } catch (e: unknown) {
    throw new GitwardError(ErrorCode.Config, `cannot reach the agent at ${new URL(url).origin}: ${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}`, {
      hint: "start it with `gitward agent`, pass --agent URL, or read its state file with --state sqlite:PATH",
    });
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: { error: text } };
  }
}

/** `gitward status`: what the agent serves, at which revision, in sync or not. */
export function statusCommand(run: Run<ClientFlags>): Command {
  return addClientOptions(new Command("status")
    .description("Show the agent's environments and stacks: desired and current revision, last sync, drift, staleness"))
    .addHelpText("after", "\nExit codes: 0 everything in sync, 1 error, 2 something is out of sync, failed or stale.")
    .action(run(async (io, flags) => {
      if (flags.state !== undefined) {
        const { openStore } = await import("../../store/open.ts");
        const store = await openStore(flags.state, { readOnly: true });
        try {
          const { stateStatus, stateStatusText } = await import("../state-status.ts");
          const st = await stateStatus(store);
          if (flags.output === "json") io.out(JSON.stringify({ formatVersion: 1, source: "state", ...st }, null, 2) + "\n");
          else io.out(stateStatusText(st, table));
          return st.stacks.every((r) => r.outcome === "succeeded") ? ExitCode.Ok : ExitCode.Changes;
        } finally {
          await store.close();
        }
      }
      const { status, body } = await getJson(`${agentUrl(flags)}/api/v1/status`, undefined, await clientToken(flags));
      if (status !== 200) throw agentRefused("agent answered", status, body);
      const s = body as AgentStatus;
      if (flags.output === "json") io.out(JSON.stringify({ formatVersion: 1, ...s }, null, 2) + "\n");
      else io.out(statusText(s, io));
      const clean = s.stale === undefined && s.environments.every((e) => e.approval?.held !== true && e.stacks.every((st) => st.inSync));
      return clean ? ExitCode.Ok : ExitCode.Changes;
    }));
}

function statusText(s: AgentStatus, io: CliIO): string {
  const c = io.colors;
  const lines = [`Repository ${s.repo} (${s.branch}) at ${s.head === undefined ? "(not read yet)" : `${s.head.sha.slice(0, 12)} ${s.head.subject} — ${s.head.author}`}`];
  if (s.stale !== undefined) lines.push(c.yellow(`stale since ${s.stale.since}: ${s.stale.error} (environments stay on their last revision)`));
  if (s.refused !== undefined) lines.push(c.red(`revision ${s.refused.revision.slice(0, 12)} refused:`), ...s.refused.reasons.map((r) => `  ${r}`));
  for (const env of s.environments) {
    lines.push("", c.bold(`Environment ${env.name}`) + ` (auto: ${env.auto ? "on" : "off"}, prune: ${env.prune ? "on" : "off"}, self-heal: ${env.selfHeal ? "on" : "off"})`);
    const a = env.approval;
    if (a?.held === true) lines.push(c.yellow(`  held at the approval gate (${a.revision.slice(0, 12)}):`), ...a.reasons.map((r) => `    ${r}`));
    else if (a?.override !== undefined) lines.push(c.yellow(`  approval gate overridden for ${a.revision.slice(0, 12)} by ${a.override.by}: ${a.override.reason}`));
    else if (a !== undefined && a.pulls.length > 0) lines.push(`  approved (${a.revision.slice(0, 12)}): ${a.pulls.map((p) => `${p.ref} by ${p.approvers.join(", ") || "nobody"}`).join("; ")}`);
    lines.push(table(["STACK", "TARGET", "STATE", "CURRENT", "LAST SYNC", "HEALTH", "DRIFT", "ERROR"], env.stacks.map((st) => [
      st.stack, st.target,
      st.inSync ? c.green("in sync") : st.lastSync?.outcome === "failed" ? c.red("failed") : st.queued ? "queued" : c.yellow("out of sync"),
      st.current?.slice(0, 12) ?? "-",
      st.lastSync === undefined ? "-" : `${st.lastSync.outcome} ${st.lastSync.at}`,
      st.health?.state ?? "-",
      String(st.drift), firstLine(st.lastSync?.error ?? (st.health?.state === "healthy" ? undefined : st.health?.message)),
    ])).trimEnd());
    for (const o of (s.orphaned ?? []).filter((x) => x.environment === env.name)) {
      lines.push(c.yellow(`  orphaned: stack ${o.stack} (target ${o.target}) is no longer in gitward.yaml; ${o.objects} object(s) left in place${o.reason === undefined ? "" : ` (${o.reason})`}`));
    }
  }
  if ((s.previews ?? []).length > 0) {
    lines.push("", c.bold("Previews"));
    lines.push(table(["PR", "ENVIRONMENT", "STATE", "REVISION", "URL", "ERROR"], (s.previews ?? []).map((p) => [
      `#${p.number}`, p.environment, p.state === "deployed" ? c.green(p.state) : c.red(p.state), p.sha.slice(0, 12), p.url ?? "-", firstLine(p.error),
    ])).trimEnd());
  }
  lines.push("", `Queue: ${s.queue.depth} waiting, ${s.queue.inFlight} running`);
  return lines.join("\n") + "\n";
}

interface HistoryFlags extends ClientFlags {
  env?: string;
  stack?: string;
  limit: string;
}

/** `gitward history`: the syncs the agent recorded. */
export function historyCommand(run: Run<HistoryFlags>): Command {
  return addClientOptions(new Command("history")
    .description("List the syncs the agent recorded, newest first: revision, author, trigger, outcome, changes")
    .option("-e, --env <name>", "only this environment")
    .option("-s, --stack <name>", "only this stack")
    .option("-n, --limit <n>", "how many", "20"))
    .action(run(async (io, flags) => {
      const query = { ...(flags.env === undefined ? {} : { environment: flags.env }), ...(flags.stack === undefined ? {} : { stack: flags.stack }), limit: Number.parseInt(flags.limit, 10) || 20 };
      let syncs: SyncRow[];
      if (flags.state !== undefined) {
        const { openStore } = await import("../../store/open.ts");
        const store = await openStore(flags.state, { readOnly: true });
        try {
          syncs = await store.listSyncs(query);
        } finally {
          await store.close();
        }
      } else {
        syncs = await remoteHistory(agentUrl(flags), query, await clientToken(flags));
      }
      if (flags.output === "json") {
        io.out(JSON.stringify({ formatVersion: 1, syncs }, null, 2) + "\n");
        return ExitCode.Ok;
      }
      io.out(table(["AT", "ENVIRONMENT", "STACK", "REVISION", "AUTHOR", "TRIGGER", "OUTCOME", "CHANGES", "ERROR"], syncs.map((s) => [
        s.startedAt, s.environment, s.stack, `${s.revision.sha.slice(0, 12)} ${s.revision.message.slice(0, 40)}`, s.revision.author,
        `${s.trigger.kind}${s.trigger.by === undefined ? "" : ` by ${s.trigger.by}`}`, s.outcome,
        Object.entries(s.summary).filter(([k, n]) => k !== "unchanged" && (n ?? 0) > 0).map(([k, n]) => `${String(n)} ${k}`).join(", ") || "-",
        firstLine(s.error),
      ])));
      return ExitCode.Ok;
    }));
}

/** Pages of `/api/v1/history` (at most 200 a page) until `limit` syncs or the last page. */
async function remoteHistory(base: string, query: { environment?: string; stack?: string; limit: number }, token: string | undefined): Promise<SyncRow[]> {
  const syncs: SyncRow[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({
      ...(query.environment === undefined ? {} : { environment: query.environment }), ...(query.stack === undefined ? {} : { stack: query.stack }),
      limit: String(Math.min(200, query.limit - syncs.length)), ...(cursor === null ? {} : { cursor }),
    });
    const { status, body } = await getJson(`${base}/api/v1/history?${params.toString()}`, undefined, token);
    if (status !== 200) throw agentRefused("agent answered", status, body);
    const page = body as { items: SyncRow[]; next: string | null };
    syncs.push(...page.items);
    cursor = page.next;
  } while (cursor !== null && syncs.length < query.limit);
  return syncs;
}

interface SyncFlags extends ClientFlags {
  env?: string;
  stack?: string;
  overrideApproval?: string;
}

/** `gitward sync`: ask the agent to sync now. */
export function syncCommand(run: Run<SyncFlags>): Command {
  return addClientOptions(new Command("sync")
    .description("Ask the agent to check the repository and sync now (a manual trigger, recorded with who asked)")
    .requiredOption("-e, --env <name>", "environment to sync")
    .option("-s, --stack <name>", "only this stack")
    .option("--override-approval <reason>", "emergency: sync the head revision past the environment's approval gate; the reason and who asked are audited"))
    .action(run(async (io, flags) => {
      const token = await clientToken(flags);
      if (token === undefined) {
        throw new GitwardError(ErrorCode.Config, "no API token: set GITWARD_API_TOKEN or pass --token-file FILE", { hint: "the agent reads the same token from its configuration (api.token)" });
      }
      const by = process.env["GITWARD_USER"] ?? process.env["USER"] ?? "unknown";
      const { status, body } = await getJson(`${agentUrl(flags)}/api/v1/sync`, {
        method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          environment: flags.env, ...(flags.stack === undefined ? {} : { stack: flags.stack }), by,
          ...(flags.overrideApproval === undefined ? {} : { overrideApproval: flags.overrideApproval }),
        }),
      });
      if (status !== 202) throw agentRefused("agent refused the sync", status, body);
      const r = body as { revision?: string; queued: number };
      if (flags.output === "json") io.out(JSON.stringify({ formatVersion: 1, ...r }, null, 2) + "\n");
      else io.out(`queued ${r.queued} stack(s) of ${flags.env ?? ""} at ${r.revision?.slice(0, 12) ?? "?"}; follow with gitward status\n`);
      return ExitCode.Ok;
    }));
}

interface AuditFlags extends BaseFlags {
  state: string;
  output: "text" | "json";
}

/** `gitward audit verify`: checks the audit log's hash chain. */
export function auditCommand(run: Run<AuditFlags>): Command {
  const verify = new Command("verify")
    .description("Verify the audit log's hash chain: exit 1 if any record was changed, removed or reordered")
    .requiredOption("--state <url>", "the agent's state: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .action(run(async (io, flags) => {
      const { openStore } = await import("../../store/open.ts");
      const store = await openStore(flags.state, { readOnly: true });
      try {
        const v = await store.verifyAudit();
        if (flags.output === "json") io.out(JSON.stringify({ formatVersion: 1, ...v }, null, 2) + "\n");
        else if (v.ok) io.out(`audit log intact: ${v.count} record(s), hash chain verified\n`);
        else io.out(`audit log TAMPERED at record ${v.seq}: ${v.reason} (${v.count} record(s) checked)\n`);
        return v.ok ? ExitCode.Ok : ExitCode.Error;
      } finally {
        await store.close();
      }
    }));
  return new Command("audit").description("The audit log of the agent's state").addCommand(verify);
}

function firstLine(text: string | undefined): string {
  if (text === undefined) return "";
  const line = text.split("\n")[0] ?? "";
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** A plain aligned table (colour codes do not count towards widths). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const visible = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, "").length;
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ""))));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - visible(c)))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}
