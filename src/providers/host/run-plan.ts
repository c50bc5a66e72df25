import type { ChangeSetEntry, CommandOutput, TransactOptions, TransactResult } from "../provider.ts";
import { describeFailure, runHealth, runHostCommand, type HostCommands } from "./commands.ts";
import { stageTree } from "./fs/stage.ts";
import { beginTransaction } from "./fs/transaction.ts";
import type { HostPlan } from "./plan-sync.ts";
import type { HostSessionContext } from "./session-context.ts";
import { writeRegistry, type PathRegistry } from "./state.ts";

/**
 * Carries out a plan that changes something: stage the new tree and run `check` against it,
 * swap the files in (the registry meanwhile holds every path about to be created), run
 * `reload` and `health`, and if either fails put the previous files and registry back and
 * reload again. A dry run stops after the check. The caller holds the root.
 */
export async function runPlan(ctx: HostSessionContext, cmds: HostCommands, plan: HostPlan, before: PathRegistry, opts: TransactOptions): Promise<TransactResult> {
  const commands: CommandOutput[] = [];
  const signal = opts.signal === undefined ? {} : { signal: opts.signal };
  const fail = (error: string): TransactResult => ({
    entries: plan.entries.map((e) => e.action === "unchanged" || e.action === "failed" || e.action === "skipped"
      ? e
      : { ...e, action: "failed" as const, message: `not ${verb(e.action)}: ${error.split("\n")[0] ?? error}` }),
    commands, error,
  });
  if (cmds.check !== undefined) {
    const staged = await stageTree(ctx.root, plan.ops);
    try {
      const check = await runHostCommand(ctx.runner, "check", cmds.check, { root: ctx.root, staged: staged.dir }, signal);
      commands.push(check);
      if (check.exitCode !== 0) return fail(`${describeFailure(check)}\nnothing was changed`);
    } finally {
      await staged.cleanup();
    }
  }
  if (opts.dryRun) return { entries: plan.entries, commands };
  await writeRegistry(ctx.root, plan.interim);
  let txn;
  try {
    txn = await beginTransaction(ctx.root, plan.ops);
  } catch (e: unknown) {
    await writeRegistry(ctx.root, before);
    return fail(`${e instanceof Error ? e.message : String(e)}\nthe files were put back`);
  }
  opts.onProgress?.(plan.entries.length, plan.entries.length);
  const broken = await reloadAndCheckHealth(ctx, cmds, commands, opts.signal);
  if (broken !== undefined) {
    await txn.rollback();
    await writeRegistry(ctx.root, before);
    let again = "";
    const reload = cmds.reload;
    if (reload !== undefined) {
      const r = await runHostCommand(ctx.runner, "rollback-reload", reload, { root: ctx.root }, signal);
      commands.push(r);
      again = r.exitCode === 0 ? "; reloaded with the previous files" : `; ${describeFailure(r)} — the service may need attention`;
    }
    return fail(`${describeFailure(broken)}\nrolled back: the previous files were put back${again}`);
  }
  await txn.commit();
  await writeRegistry(ctx.root, plan.registry);
  return { entries: plan.entries, commands };
}

/** Runs `reload`, then `health` if it passed, adding their outputs to `commands`; returns the one that failed. */
async function reloadAndCheckHealth(
  ctx: HostSessionContext, cmds: HostCommands, commands: CommandOutput[], signal: AbortSignal | undefined,
): Promise<CommandOutput | undefined> {
  const { reload, health } = cmds;
  if (reload !== undefined) {
    const r = await runHostCommand(ctx.runner, "reload", reload, { root: ctx.root }, signal === undefined ? {} : { signal });
    commands.push(r);
    if (r.exitCode !== 0) return r;
  }
  if (health !== undefined) {
    const h = await runHealth(ctx.runner, health, ctx.root, signal);
    commands.push(h);
    if (h.exitCode !== 0) return h;
  }
  return undefined;
}

function verb(action: ChangeSetEntry["action"]): string {
  return action === "created" ? "created" : action === "deleted" ? "deleted" : "changed";
}
