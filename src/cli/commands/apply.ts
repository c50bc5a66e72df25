import { Command, Option } from "commander";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { formatRef } from "../../core/objref.ts";
import { compareFindings } from "../../check/finding.ts";
import { countActions, summarizeActions } from "../../engine/change-set.ts";
import { defaultProviders } from "../../engine/providers.ts";
import { storeRecorder } from "../../engine/recorder.ts";
import { syncEnvironment, type SyncResult } from "../../engine/sync-environment.ts";
import { defaultCacheDir, openWorkspace } from "../../engine/workspace.ts";
import { findingsText } from "../../plan/format-text.ts";
import { pushActor, pushDetail } from "../actor.ts";
import { addKubernetesTuning, kubernetesTuning, type TuningFlags } from "../kubernetes-flags.ts";
import { addCommonOptions, addHostCommandsOption, addOutputOption, pushProviderContext, verificationFrom, workspaceOptions, type CommonFlags, type TargetFlags } from "../common-options.ts";
import { parseDuration } from "../../core/duration.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

interface ApplyFlags extends TargetFlags, TuningFlags {
  rev: string;
  output: "text" | "json";
  dryRun?: boolean;
  prune?: boolean;
  forceConflicts?: boolean;
  wait?: boolean;
  timeout: string;
  overridePolicy?: string;
  state?: string;
  by?: string;
}

/** `gitward apply`: push-mode sync of one environment. */
export function applyCommand(run: (action: (io: CliIO, flags: ApplyFlags) => Promise<number>) => (flags: ApplyFlags) => Promise<void>): Command {
  const cmd = new Command("apply")
    .description("Sync an environment to a revision: render, check, gate, apply, prune, verify, record (push mode)")
    .option("-r, --rev <rev>", "revision to apply", "HEAD")
    .option("--dry-run", "ask the targets what would change; write nothing")
    .addOption(new Option("--prune", "delete what the stack owned and Git no longer has (default: the environment's sync.prune)"))
    .addOption(new Option("--no-prune", "never delete"))
    .option("--force-conflicts", "take over fields another applier owns (hand edits are taken back without it), and objects of another stack")
    .option("--wait", "wait for the applied objects to become healthy")
    .option("--timeout <duration>", "how long --wait waits, e.g. 90s, 5m", "5m")
    .option("--override-policy <reason>", "apply despite policy denials; the override, who made it and why are recorded")
    .option("--state <url>", "also record history and audit in this state store, as the agent does: sqlite:PATH")
    .option("--by <name>", "who runs it, for history and audit (default: the CI actor, else the OS user)");
  addKubernetesTuning(cmd);
  addHostCommandsOption(cmd);
  addOutputOption(addCommonOptions(cmd), ["text", "json"]);
  return cmd.action(run(apply));
}

async function apply(io: CliIO, flags: ApplyFlags): Promise<number> {
  const environment = singleEnvironment(flags);
  const by = pushActor(flags.by);
  const detail = pushDetail();
  // Read before anything else: a bad --host-commands file fails before the state or the repository is opened.
  // Terraform's working directories go under the same cache as everything else (--cache-dir).
  const providerContext = { ...await pushProviderContext(flags, environment), cacheDir: flags.cacheDir ?? defaultCacheDir() };
  // Opened first: a bad state URL fails before anything is applied.
  const store = flags.state === undefined ? undefined : await (await import("../../store/open.ts")).openStore(flags.state);
  const ws = await openWorkspace(workspaceOptions(flags, io.progress, { clusterSchemas: false })).catch(async (e: unknown) => {
    await store?.close();
    throw e;
  });
  try {
    const verification = verificationFrom(flags);
    const waitMs = flags.wait === true ? parseDuration(flags.timeout) : undefined;
    const result = await syncEnvironment({
      source: ws.source, rev: flags.rev, configPath: flags.config, renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
      environment, dryRun: flags.dryRun === true, force: flags.forceConflicts === true,
      ...(flags.stack === undefined ? {} : { stacks: flags.stack }),
      ...(flags.prune === undefined ? {} : { prune: flags.prune }),
      ...(waitMs === undefined ? {} : { waitMs }),
      ...(flags.overridePolicy === undefined ? {} : { override: { by, reason: flags.overridePolicy } }),
      ...(store === undefined ? {} : { recorder: storeRecorder(store) }),
      trigger: { kind: "push", by, ...(detail === undefined ? {} : { detail }) },
      ...(verification === undefined ? {} : { verification }),
      providers: defaultProviders(kubernetesTuning(flags)),
      providerContext,
      onStack: (stack, phase) => { if (phase === "start") io.progress(`${flags.dryRun === true ? "dry-run: " : ""}syncing stack ${stack}`); },
      onProgress: progressDisplay(io, flags.quiet === true),
    });
    if (flags.output === "json") io.out(JSON.stringify({ formatVersion: 1, ...jsonOf(result) }, null, 2) + "\n");
    else io.out(textOf(result, io, flags.dryRun === true));
    return result.ok ? ExitCode.Ok : ExitCode.Error;
  } finally {
    await ws.close();
    await store?.close();
  }
}

/** Objects applied / total on stderr: one line rewritten in place on a terminal, the final count otherwise. */
function progressDisplay(io: CliIO, quiet: boolean): (stack: string, done: number, total: number) => void {
  const tty = process.stderr.isTTY;
  return (stack, done, total) => {
    if (quiet) return;
    if (tty) io.err(`\r\x1b[2Kgitward: stack ${stack}: ${done}/${total} objects${done === total ? "\n" : ""}`);
    else if (done === total) io.progress(`stack ${stack}: ${done}/${total} objects applied`);
  };
}

/** apply and diff work on one environment at a time: its credentials, its order. */
export function singleEnvironment(flags: CommonFlags): string {
  const env = flags.env ?? [];
  if (env.length !== 1 || env[0] === undefined) {
    throw new GitwardError(ErrorCode.Config, "--env must name exactly one environment", { hint: "apply and diff work on one environment at a time, with its own credentials" });
  }
  return env[0];
}

/** Stacks that failed or were skipped as a whole, which the object counts do not show. */
function stacksNote(r: SyncResult): string {
  const failed = r.stacks.filter((s) => !s.ok && s.skipped !== true).length;
  const skipped = r.stacks.filter((s) => s.skipped === true).length;
  const parts = [...(failed > 0 ? [`${failed} stack(s) failed`] : []), ...(skipped > 0 ? [`${skipped} stack(s) skipped`] : [])];
  return parts.length === 0 ? "" : `; ${parts.join(", ")}`;
}

function jsonOf(r: SyncResult): object {
  return {
    stacksFailed: r.stacks.filter((s) => !s.ok && s.skipped !== true).length,
    stacksSkipped: r.stacks.filter((s) => s.skipped === true).length,
    revision: r.commit.sha, environment: r.environment, ok: r.ok,
    gate: { allowed: r.gate.allowed, overridden: r.gate.overridden, blockers: r.gate.blockers, denials: r.gate.denials },
    stacks: r.stacks.map((s) => ({ ...s, counts: countActions(s.entries) })),
    counts: countActions(r.stacks.flatMap((s) => s.entries)),
    findings: r.findings,
    orphans: (r.orphans ?? []).map((o) => ({ stack: o.stack, target: o.target, result: o.result, ...(o.reason === undefined ? {} : { reason: o.reason }), counts: countActions(o.entries) })),
  };
}

function textOf(r: SyncResult, io: CliIO, dryRun: boolean): string {
  const c = io.colors;
  const lines: string[] = [];
  if (!r.gate.allowed) {
    lines.push(findingsText([...r.gate.blockers, ...r.gate.denials].sort(compareFindings), c).trimEnd());
    const why = r.gate.blockers.length > 0 ? "the revision has errors" : "policies deny it (override with --override-policy REASON)";
    lines.push(`${c.red("refused")}: ${r.commit.sha.slice(0, 12)} was not applied to ${r.environment}: ${why}`);
    return lines.join("\n") + "\n";
  }
  if (r.gate.overridden) lines.push(c.yellow(`policy gate overridden: ${r.gate.denials.length} denial(s)${dryRun ? "" : ", recorded in each stack's inventory"}`));
  const verdict = r.ok ? c.green("succeeded") : c.red("failed");
  lines.push(c.bold(`${dryRun ? "Dry run of" : "Sync of"} ${r.commit.sha.slice(0, 12)} to ${r.environment}: `) + verdict);
  for (const s of r.stacks) {
    const status = s.ok ? c.green("ok") : s.skipped === true ? c.yellow("skipped") : c.red("failed");
    const [firstError, ...moreError] = (s.error ?? "").split("\n");
    lines.push(`  Stack ${c.cyan(s.stack)} (${s.target}): ${status}: ${summarizeActions(countActions(s.entries))}${s.error === undefined ? "" : `: ${firstError ?? ""}`}`);
    for (const l of moreError) lines.push(`    ${l}`);
    for (const cmd of s.commands ?? []) {
      const how = cmd.exitCode === 0 ? c.green("ok") : c.red(cmd.exitCode === -1 ? "failed to run" : `exit ${cmd.exitCode}`);
      lines.push(`    ${cmd.phase} \`${cmd.command.join(" ")}\`: ${how} (${cmd.durationMs} ms)`);
      if (cmd.exitCode !== 0 && cmd.output.trim() !== "") for (const l of cmd.output.trimEnd().split("\n")) lines.push(`      ${c.dim(l)}`);
    }
    for (const e of s.entries) {
      if (e.action === "unchanged") continue;
      const paint = e.action === "failed" ? c.red : e.action === "deleted" ? c.yellow : c.green;
      lines.push(`    ${paint(e.action)} ${formatRef(e.ref)}${e.message === undefined ? "" : `: ${e.message}`}`);
    }
    for (const h of s.health?.entries ?? []) {
      if (h.health !== "healthy") lines.push(`    ${c.yellow(h.health)} ${formatRef(h.ref)}${h.message === undefined ? "" : `: ${h.message}`}`);
    }
    if (s.health?.timedOut === true) lines.push(`    ${c.red("timed out")} waiting for health`);
  }
  for (const o of r.orphans ?? []) {
    const how = o.result === "destroyed" ? c.yellow("destroyed") : o.result === "failed" ? c.red("destroy failed") : c.yellow("left in place");
    lines.push(`  Orphaned stack ${c.cyan(o.stack)} (${o.target}, no longer in gitward.yaml): ${how}${o.reason === undefined ? "" : `: ${o.reason}`}`);
  }
  lines.push(c.bold(`Summary: ${summarizeActions(countActions(r.stacks.flatMap((s) => s.entries)))}${stacksNote(r)}`));
  return lines.join("\n") + "\n";
}
