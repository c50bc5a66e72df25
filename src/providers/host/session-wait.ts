import type { ObjRef } from "../../core/objref.ts";
import type { HealthReport, WaitOptions } from "../provider.ts";
import { describeFailure, runHealth } from "./commands.ts";
import type { HostSessionContext } from "./session-context.ts";

/**
 * Runs the target's health command (its tries bounded by the wait's timeout): every object is
 * healthy when it passes, degraded with its output when it does not, healthy when the target
 * has no health command, and degraded when its commands do not resolve.
 */
export async function waitForHealth(ctx: HostSessionContext, refs: readonly ObjRef[], opts: WaitOptions): Promise<HealthReport> {
  if (!ctx.commands.ok) {
    // The health command cannot run (gitward.yaml names one the runner does not define): nothing is known to be healthy.
    const message = ctx.commands.error.message;
    return { entries: refs.map((ref) => ({ ref, health: "degraded" as const, message })), timedOut: false };
  }
  const health = ctx.commands.commands.health;
  if (health === undefined) return { entries: refs.map((ref) => ({ ref, health: "healthy" as const })), timedOut: false };
  const tryMs = Math.min(health.command.timeoutMs, opts.timeoutMs);
  const result = await runHealth(ctx.runner, { ...health, command: { ...health.command, timeoutMs: tryMs } }, ctx.root, opts.signal);
  const ok = result.exitCode === 0;
  return {
    entries: refs.map((ref) => ({ ref, health: ok ? "healthy" as const : "degraded" as const, ...(ok ? {} : { message: describeFailure(result) }) })),
    timedOut: false,
  };
}
