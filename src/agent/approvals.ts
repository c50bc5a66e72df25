import type { Logger } from "pino";
import type { LoadedConfig } from "../config/load-config.ts";
import type { ApprovalGate, ApprovalRule, ApprovalVerdict, PullApproval } from "../engine/approval-gate.ts";
import type { Recorder } from "../engine/recorder.ts";
import { AuditKind, maxListLimit, type Store, type SyncTrigger } from "../store/store.ts";
import type { Evaluated, RepoWatch } from "./repo-watch.ts";

/** Where an environment stands at the approval gate, as status shows it. */
export interface ApprovalState {
  readonly revision: string;
  readonly held: boolean;
  /** Why it is held, in words; empty when allowed. */
  readonly reasons: readonly string[];
  /** The pull requests the revision's commits came through, and who approved each. */
  readonly pulls: readonly PullApproval[];
  /** Set when an operator synced past the gate. */
  readonly override?: { readonly by: string; readonly reason: string };
}

/** What decide is told: the gate's verdict as one line, with the approvers for the sync's record. */
export interface ApprovalInput {
  readonly allowed: boolean;
  readonly reason: string;
  /** `approved: #42 by alice, bob`, for the sync's trigger detail; empty when nothing was approved. */
  readonly approvedBy: string;
}

/** Options of {@link AgentApprovals}. */
export interface AgentApprovalsOptions {
  /** The gate over the configured forge; undefined when the agent configuration names no forge. */
  readonly gate: ApprovalGate | undefined;
  readonly watch: RepoWatch;
  readonly recorder: Recorder;
  readonly logger: Logger;
  readonly branch: string;
  /** Called when an environment becomes held at a revision (for notifications). */
  readonly onHeld?: (environment: string, revision: string, reasons: readonly string[]) => void;
  /** Called when an environment's place at the gate changes (a new verdict, an override), for the event stream. */
  readonly onChange?: (environment: string, revision: string) => void;
  /**
   * An override of `environment` at `revision` recorded in the store's audit log, by whichever
   * agent received it (several agents on one PostgreSQL: the owners of the environment's stacks
   * may be others). Default: only overrides this agent received count.
   */
  readonly recordedOverride?: (environment: string, revision: string) => Promise<{ readonly by: string; readonly reason: string } | undefined>;
}

/** How long "no override recorded" is believed before the audit log is asked again. */
const overrideMissMs = 3_000;

/**
 * The agent's side of the approval gate: which rules apply to an environment (gitward.yaml at
 * the head and at the stack's last synced revision: a commit cannot lift the requirement it is
 * judged by), the commits to judge, the verdict audited once per change, status, and operator
 * overrides.
 */
export class AgentApprovals {
  readonly #o: AgentApprovalsOptions;
  readonly #states = new Map<string, ApprovalState>();
  readonly #audited = new Map<string, string>();
  readonly #overrides = new Map<string, { revision: string; by: string; reason: string }>();
  readonly #overrideMisses = new Map<string, number>();

  constructor(o: AgentApprovalsOptions) {
    this.#o = o;
  }

  /**
   * The gate's verdict on bringing a stack of `environment` from `synced` (its last synced
   * revision) to the evaluated head; undefined when no approvals are required there, the stack
   * is already at the head, or an operator overrode the gate for this revision. `fresh` asks the
   * audit log for an override even if it was asked moments ago: a manual sync routed here may
   * come straight from an override another agent just recorded.
   */
  async approvalFor(environment: string, synced: string | undefined, ev: Evaluated, opts: { readonly fresh?: boolean } = {}): Promise<ApprovalInput | undefined> {
    if (synced === ev.sha) return undefined;
    const rules = await this.#rules(environment, synced, ev.evaluation.config);
    if (rules.length === 0) return undefined;
    if (await this.#overridden(environment, ev.sha, opts.fresh === true)) return undefined;
    const verdict = await this.#verdict(environment, synced, ev.sha, rules);
    await this.#record(environment, ev.sha, verdict);
    return {
      allowed: verdict.allowed, reason: verdict.reasons.join("; "),
      approvedBy: verdict.pulls.filter((p) => p.approvers.length > 0).map((p) => `${p.ref} by ${p.approvers.join(", ")}`).join("; "),
    };
  }

  /** Whether an operator let `revision` of `environment` past the gate, here or (recorded in the audit log) through another agent. */
  async #overridden(environment: string, revision: string, fresh: boolean): Promise<boolean> {
    if (this.#overrides.get(environment)?.revision === revision) return true;
    const lookup = this.#o.recordedOverride;
    if (lookup === undefined) return false;
    const key = `${environment}\u0000${revision}`;
    const asked = this.#overrideMisses.get(key);
    if (!fresh && asked !== undefined && Date.now() - asked < overrideMissMs) return false;
    const found = await lookup(environment, revision);
    if (found === undefined) {
      this.#overrideMisses.set(key, Date.now());
      return false;
    }
    this.override(environment, revision, found.by, found.reason);
    return true;
  }

  /** Lets the next syncs of `environment` at `revision` past the gate; the caller audits who and why. */
  override(environment: string, revision: string, by: string, reason: string): void {
    this.#overrides.set(environment, { revision, by, reason });
    this.#states.set(environment, { revision, held: false, reasons: [], pulls: [], override: { by, reason } });
    this.#audited.delete(environment);
    this.#o.onChange?.(environment, revision);
  }

  /** A review or approval changed on a pull request: ask the forge again. */
  forget(pr?: number): void {
    this.#o.gate?.forget(pr);
  }

  /** The environments held at the gate now. */
  heldEnvironments(): string[] {
    return [...this.#states].filter(([, s]) => s.held).map(([env]) => env);
  }

  /** Where an environment stands at the gate, when it has one. */
  state(environment: string): ApprovalState | undefined {
    return this.#states.get(environment);
  }

  async #verdict(environment: string, synced: string | undefined, head: string, rules: readonly ApprovalRule[]): Promise<ApprovalVerdict> {
    const gate = this.#o.gate;
    if (gate === undefined) {
      return {
        allowed: false, pulls: [], unreachable: false,
        reasons: [`${environment}: approvals are required, and the agent has no forge configured to check them (set forge: in the agent configuration)`],
      };
    }
    const ws = await this.#o.watch.workspace();
    const commits = await ws.source.firstParentsSince(synced, head, 100);
    return gate.check({ environment, branch: this.#o.branch, commits, rules });
  }

  /** Keeps the state for status; audits and logs a verdict once per environment, revision and outcome. */
  async #record(environment: string, revision: string, verdict: ApprovalVerdict): Promise<void> {
    this.#states.set(environment, { revision, held: !verdict.allowed, reasons: verdict.reasons, pulls: verdict.pulls });
    const signature = JSON.stringify([revision, verdict.allowed, verdict.reasons, verdict.pulls.map((p) => [p.number, p.approvers])]);
    if (this.#audited.get(environment) === signature) return;
    this.#audited.set(environment, signature);
    this.#o.onChange?.(environment, revision);
    await this.#o.recorder.audit({
      kind: AuditKind.ApprovalGate, actor: "agent", environment, revision,
      details: { allowed: verdict.allowed, reasons: verdict.reasons, pulls: verdict.pulls.map((p) => ({ pr: p.ref, author: p.author, approvers: p.approvers, url: p.url })) },
    });
    if (verdict.allowed) {
      this.#o.logger.info({ environment, revision, approvals: verdict.pulls.map((p) => `${p.ref}: ${p.approvers.join(", ")}`) }, "approval gate passed");
    } else {
      this.#o.logger.warn({ environment, revision, reasons: verdict.reasons }, "held by the approval gate: not applied until approved");
      this.#o.onHeld?.(environment, revision, verdict.reasons);
    }
  }

  /** The environment's rules at the head and at the last synced revision (both apply). */
  async #rules(environment: string, synced: string | undefined, head: LoadedConfig | undefined): Promise<ApprovalRule[]> {
    const configs = [head, synced === undefined ? undefined : await this.#o.watch.configAt(synced).catch(() => undefined)];
    const rules: ApprovalRule[] = [];
    const seen = new Set<string>();
    for (const loaded of configs) {
      const approvals = loaded?.config.environments[environment]?.approvals;
      if (loaded === undefined || approvals === undefined || approvals.required === 0) continue;
      const groups = Object.fromEntries(approvals.from.flatMap((g) => {
        const spec = loaded.config.groups[g];
        return spec === undefined ? [] : [[g, spec] as const];
      }));
      const rule = { required: approvals.required, groups };
      const key = JSON.stringify(rule);
      if (!seen.has(key)) rules.push(rule);
      seen.add(key);
    }
    return rules;
  }
}

/** What an approval override works with: the agent's parts. */
export interface OverrideContext {
  readonly watch: RepoWatch;
  readonly approvals: AgentApprovals;
  readonly recorder: Recorder;
  readonly logger: Logger;
}

/**
 * An operator lets the head revision past the approval gate of one environment: allowed for
 * that revision only, and audited with who and why.
 */
export async function overrideApproval(ctx: OverrideContext, trigger: SyncTrigger, scope: { environment?: string }, reason: string): Promise<void> {
  const environment = scope.environment;
  if (environment === undefined) throw new Error("an approval override names one environment");
  await ctx.watch.refresh();
  const head = ctx.watch.head?.commit.sha;
  if (head === undefined) throw new Error("the repository has not been read yet");
  const by = trigger.by ?? "unknown";
  ctx.approvals.override(environment, head, by, reason);
  await ctx.recorder.audit({ kind: AuditKind.ApprovalOverride, actor: by, environment, revision: head, details: { reason } });
  ctx.logger.warn({ environment, revision: head, by, reason }, "approval gate overridden by an operator");
}

/** The latest approval override of `environment` at `revision` in the store's audit log (any agent's), if any. */
export async function recordedApprovalOverride(store: Pick<Store, "listAudit">, environment: string, revision: string): Promise<{ by: string; reason: string } | undefined> {
  const events = await store.listAudit({ kind: AuditKind.ApprovalOverride, environment, revision, limit: maxListLimit });
  const last = events.at(-1);
  if (last === undefined) return undefined;
  const reason = last.details["reason"];
  return { by: last.actor, reason: typeof reason === "string" ? reason : "" };
}
