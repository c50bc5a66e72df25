import type { ObjRef } from "../../core/objref.ts";
import type { HealthReport, WaitOptions } from "../provider.ts";
import { describeFailure, runHealth } from "./commands.ts";
import type { HostSessionContext } from "./session-context.ts";

/**
 * Runs the target's health command (its tries bounded by the wait's timeout): every object is
 * healthy when it passes, degraded with its output when it does not, and healthy when the
 * target has no health command.
 */
export async function waitForHealth(ctx: HostSessionContext, refs: readonly ObjRef[], opts: WaitOptions): Promise<HealthReport> {
  const health = ctx.commands.health;
  if (health === undefined) return { entries: refs.map((ref) => ({ ref, health: "healthy" as const })), timedOut: false };
  const result = await runHealth(ctx.runner, { ...health, timeoutMs: Math.min(health.timeoutMs, opts.timeoutMs) }, ctx.root, opts.signal);
  const ok = result.exitCode === 0;
  return {
    entries: refs.map((ref) => ({ ref, health: ok ? "healthy" as const : "degraded" as const, ...(ok ? {} : { message: describeFailure(result) }) })),
    timedOut: false,
  };
}
