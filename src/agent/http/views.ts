/**
 * The API's views of the agent's status: environments with counts, stacks with their gate, the
 * gate overview. Pure functions of an {@link AgentStatus}, filtered to the environments a caller
 * may read, shared by the read routes, the gate route and the event stream.
 */
import type { AgentStatus } from "../status.ts";
import type { Environment, Gate, GateOverview, Stack } from "./schemas.ts";

type StatusEnvironment = AgentStatus["environments"][number];

/**
 * Where an environment stands at the gate: `refused` when the head revision is refused, `held`
 * while the approval gate holds it, `overridden` after an operator synced past it, else `open`.
 */
export function gateOf(status: AgentStatus, env: StatusEnvironment): Gate {
  const approval = env.approval;
  const approvals = approval === undefined || approval.pulls.length === 0 ? {}
    : { approvals: approval.pulls.map((p) => ({ ref: p.ref, url: p.url, approvers: [...p.approvers] })) };
  // The environment's own refusals (a signature it requires, a policy denial there) and those of every environment.
  if (env.refused !== undefined && env.refused.length > 0) return { state: "refused", reasons: [...env.refused], ...approvals };
  if (approval?.override !== undefined && approval.revision === status.head?.sha) {
    return { state: "overridden", reasons: [`overridden by ${approval.override.by}: ${approval.override.reason}`], ...approvals };
  }
  if (approval?.held === true) return { state: "held", reasons: [...approval.reasons], ...approvals };
  return { state: "open", reasons: [], ...approvals };
}

/** The environments of the status the caller may read, in order. */
export function readableOf(status: AgentStatus, readable: ReadonlySet<string> | "all"): StatusEnvironment[] {
  return status.environments.filter((e) => readable === "all" || readable.has(e.name));
}

/** One environment with counts of its stacks. */
export function environmentView(status: AgentStatus, env: StatusEnvironment): Environment {
  return {
    name: env.name, auto: env.auto, prune: env.prune, selfHeal: env.selfHeal,
    stacks: env.stacks.length,
    inSync: env.stacks.filter((s) => s.inSync).length,
    failed: env.stacks.filter((s) => s.lastSync?.outcome === "failed" || s.lastSync?.outcome === "interrupted").length,
    drifted: env.stacks.filter((s) => s.drift > 0).length,
    gate: gateOf(status, env),
  };
}

/** The stacks of the environments given, each with its environment's gate; `q` keeps stacks whose name or target contains it. */
export function stackViews(status: AgentStatus, envs: readonly StatusEnvironment[], q?: string): Stack[] {
  const needle = q?.toLowerCase();
  const out: Stack[] = [];
  for (const env of envs) {
    const gate = gateOf(status, env);
    for (const s of env.stacks) {
      if (needle !== undefined && !s.stack.includes(needle) && !s.target.toLowerCase().includes(needle)) continue;
      out.push({ ...s, gate });
    }
  }
  return out;
}

/** The gate of every environment given, and the refused head revision if any. */
export function gateOverview(status: AgentStatus, envs: readonly StatusEnvironment[]): GateOverview {
  return {
    ...(status.refused === undefined ? {} : { refused: { revision: status.refused.revision, reasons: [...status.refused.reasons] } }),
    environments: envs.map((e) => ({ name: e.name, gate: gateOf(status, e) })),
  };
}

/** The status with only the environments (and previews, orphans) the caller may read. */
export function filteredStatus(status: AgentStatus, readable: ReadonlySet<string> | "all"): AgentStatus {
  if (readable === "all") return status;
  return {
    ...status,
    environments: readableOf(status, readable),
    ...(status.orphaned === undefined ? {} : { orphaned: status.orphaned.filter((o) => readable.has(o.environment)) }),
    ...(status.previews === undefined ? {} : { previews: status.previews.filter((p) => readable.has(p.environment)) }),
  };
}
