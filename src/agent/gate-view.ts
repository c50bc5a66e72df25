import type { ApprovalState } from "./approvals.ts";

/** Where an environment stands at the gate, as the API and its events show it (the contract's `Gate`). */
export interface GateView {
  /** `held` by the approval gate, `refused` (the head revision is not applied), `overridden` by an operator, else `open`. */
  readonly state: "open" | "held" | "refused" | "overridden";
  readonly reasons: readonly string[];
  /** The pull requests the revision came through, and who approved each. */
  readonly approvals?: readonly { readonly ref: string; readonly url: string; readonly approvers: readonly string[] }[];
}

/**
 * The gate of one environment from what the agent knows: a refusal of the head revision
 * first (nothing is applied), then the approval gate's state.
 */
export function gateView(refusedReasons: readonly string[] | undefined, approval: ApprovalState | undefined): GateView {
  const approvals = approval === undefined || approval.pulls.length === 0 ? {}
    : { approvals: approval.pulls.map((p) => ({ ref: p.ref, url: p.url, approvers: [...p.approvers] })) };
  if (refusedReasons !== undefined && refusedReasons.length > 0) return { state: "refused", reasons: [...refusedReasons], ...approvals };
  if (approval?.override !== undefined) {
    return { state: "overridden", reasons: [`overridden by ${approval.override.by}: ${approval.override.reason}`], ...approvals };
  }
  if (approval?.held === true) return { state: "held", reasons: [...approval.reasons], ...approvals };
  return { state: "open", reasons: [], ...approvals };
}
